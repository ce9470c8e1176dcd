using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace MailSink.Tests.Support;

/// <summary>Sends with MailKit over a real socket and returns what the server answered.</summary>
public static class SmtpSend
{
    public static async Task<string> MessageAsync(int port, MimeMessage message, ITestOutputHelper? output = null, MailboxAddress? sender = null, IEnumerable<MailboxAddress>? recipients = null)
    {
        using var client = output is null ? new SmtpClient() : MailKitClients.Create(output);
        client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
        var reply = sender is null
            ? await client.SendAsync(message)
            : await client.SendAsync(message, sender, recipients ?? message.To.Mailboxes);
        await client.DisconnectAsync(true);
        return reply;
    }

    public static MimeMessage Simple(string to, string subject, string text, string from = "sender@example.com")
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = text };
        return message;
    }

    /// <summary>The message id out of "OK message stored as {id} in inbox {inbox}".</summary>
    public static string StoredId(string reply) => RawSmtpClient.StoredId(reply);
}
