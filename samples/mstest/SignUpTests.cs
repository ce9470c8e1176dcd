using MailKit.Net.Smtp;
using MailSink.Testing;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using MimeKit;

[assembly: Parallelize(Scope = ExecutionScope.MethodLevel)]

namespace Samples.MSTest;

[TestClass]
public sealed class SignUpTests
{
    private static MailSinkServer s_mail = null!;

    [ClassInitialize]
    public static async Task StartMailSink(TestContext _) => s_mail = await MailSinkServer.StartAsync();

    [ClassCleanup]
    public static async Task StopMailSink() => await s_mail.DisposeAsync();

    [TestMethod]
    public async Task The_welcome_mail_reaches_only_the_new_user()
    {
        var inbox = s_mail.Client.NewInbox();
        var user = inbox.Address("new.user");

        var message = new MimeMessage { Subject = "Welcome aboard" };
        message.From.Add(new MailboxAddress("App", "noreply@app.example"));
        message.To.Add(MailboxAddress.Parse(user));
        message.Body = new TextPart("plain") { Text = "Welcome!" };
        using (var smtp = new SmtpClient())
        {
            await smtp.ConnectAsync(s_mail.SmtpHost, s_mail.SmtpPort, MailKit.Security.SecureSocketOptions.None);
            await smtp.SendAsync(message);
            await smtp.DisconnectAsync(true);
        }

        var received = await s_mail.Client.WaitForMessageToAsync(user);
        Assert.AreEqual("Welcome aboard", received.Subject);
        Assert.AreEqual(1, (await s_mail.Client.ListAsync(inbox.Id)).Count);
    }
}
