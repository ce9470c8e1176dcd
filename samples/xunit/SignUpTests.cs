using MailKit.Net.Smtp;
using MailSink.Testing;
using MimeKit;
using Xunit;

namespace Samples.XUnit;

/// <summary>One MailSink for the whole class: xunit's class fixture starts it once and disposes it after.</summary>
public sealed class MailSinkFixture : IAsyncLifetime
{
    public MailSinkServer Mail { get; private set; } = null!;

    public async Task InitializeAsync() => Mail = await MailSinkServer.StartAsync();

    public async Task DisposeAsync() => await Mail.DisposeAsync();
}

public sealed class SignUpTests(MailSinkFixture fixture) : IClassFixture<MailSinkFixture>
{
    [Fact]
    public async Task The_confirmation_mail_carries_a_link_to_confirm()
    {
        var mail = fixture.Mail;
        var user = mail.Client.NewInbox().Address("new.user");

        await SignUpService.SendConfirmationAsync(mail.SmtpHost, mail.SmtpPort, user);

        var link = await mail.Client.WaitForLinkAsync(user);
        Assert.StartsWith("https://app.example/confirm?token=", link);
    }
}

/// <summary>Stands in for the application's own mail code: it only knows an SMTP host and port.</summary>
internal static class SignUpService
{
    public static async Task SendConfirmationAsync(string host, int port, string to)
    {
        var message = new MimeMessage { Subject = "Confirm your address" };
        message.From.Add(new MailboxAddress("App", "noreply@app.example"));
        message.To.Add(MailboxAddress.Parse(to));
        message.Body = new TextPart("html") { Text = $"<a href=\"https://app.example/confirm?token={Guid.NewGuid():N}\">Confirm</a>" };
        using var smtp = new SmtpClient();
        await smtp.ConnectAsync(host, port, MailKit.Security.SecureSocketOptions.None);
        await smtp.SendAsync(message);
        await smtp.DisconnectAsync(true);
    }
}
