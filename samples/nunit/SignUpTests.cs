using MailKit.Net.Smtp;
using MailSink.Testing;
using MimeKit;
using NUnit.Framework;

namespace Samples.NUnit;

[TestFixture]
public sealed class SignUpTests
{
    private MailSinkServer _mail = null!;

    [OneTimeSetUp]
    public async Task StartMailSink() => _mail = await MailSinkServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopMailSink() => await _mail.DisposeAsync();

    [Test]
    public async Task The_sign_in_mail_carries_a_one_time_code()
    {
        var user = _mail.Client.NewInbox().Address("new.user");

        var message = new MimeMessage { Subject = "Your sign-in code" };
        message.From.Add(new MailboxAddress("App", "noreply@app.example"));
        message.To.Add(MailboxAddress.Parse(user));
        message.Body = new TextPart("plain") { Text = "Your code is 493817. It expires in 10 minutes." };
        using (var smtp = new SmtpClient())
        {
            await smtp.ConnectAsync(_mail.SmtpHost, _mail.SmtpPort, MailKit.Security.SecureSocketOptions.None);
            await smtp.SendAsync(message);
            await smtp.DisconnectAsync(true);
        }

        Assert.That(await _mail.Client.WaitForCodeAsync(user), Is.EqualTo("493817"));
    }
}
