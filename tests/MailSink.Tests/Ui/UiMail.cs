using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace MailSink.Tests.Ui;

/// <summary>Messages for the browser tests, and sending them over STARTTLS with AUTH.</summary>
internal static class UiMail
{
    /// <summary>A 1×1 PNG.</summary>
    public static readonly byte[] Pixel = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    public static MimeMessage Html(string to, string subject, string html, string? text = null, Action<BodyBuilder>? build = null, string from = "Acme <hello@acme.example>")
    {
        var body = new BodyBuilder { HtmlBody = html, TextBody = text };
        build?.Invoke(body);
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = body.ToMessageBody();
        return message;
    }

    /// <summary>Sends over STARTTLS, authenticated, with a known EHLO name; returns the server's reply.</summary>
    public static async Task<string> SendAuthenticatedAsync(int port, MimeMessage message, string ehlo, string user)
    {
        using var client = new SmtpClient { LocalDomain = ehlo };
        client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.StartTls);
        await client.AuthenticateAsync(user, "any password");
        var reply = await client.SendAsync(message);
        await client.DisconnectAsync(true);
        return reply;
    }

    /// <summary>Sends several messages over one connection, in order.</summary>
    public static async Task SendManyAsync(int port, IEnumerable<MimeMessage> messages)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
        foreach (var message in messages)
            await client.SendAsync(message);
        await client.DisconnectAsync(true);
    }
}
