using System.Text;
using MailSink.Tests.Support;

namespace MailSink.Tests.Smtp;

/// <summary>
/// A person at the real <c>telnet</c> program who presses Ctrl-C: between commands, in a transaction, and in
/// the middle of typing a message. Before MailSink answered telnet's timing mark, telnet showed no reply
/// after a Ctrl-C, for the rest of the session.
/// </summary>
public sealed class TelnetClientTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    [Fact]
    public async Task After_ctrl_c_telnet_still_shows_every_reply_and_the_message_is_what_the_screen_shows()
    {
        var inbox = MailSinkHost.NewInbox();
        await using (var telnet = TelnetTerminal.Open(Host.SmtpPort, output))
        {
            await telnet.SeeAsync("220 mailsink.localhost ESMTP MailSink ready");
            await telnet.TypeAsync("helo me\r");
            await telnet.SeeAsync("250 mailsink.localhost Hello me");

            await telnet.TypeAsync("\x03");
            await telnet.SeeAsync("250 Interrupt (Ctrl-C) ignored: type QUIT to end the session");

            await telnet.TypeAsync("mail from: a@b.example\r");
            await telnet.SeeAsync("250 sender a@b.example OK");
            await telnet.TypeAsync($"rcpt to: x@{inbox}.localhost\r");
            await telnet.SeeAsync($"250 recipient x@{inbox}.localhost OK");
            await telnet.TypeAsync("data\r");
            await telnet.SeeAsync("354 Start mail input");

            // Ctrl-C also throws away what the terminal holds that telnet has not read yet, so it comes
            // first here: keys typed at once are not read line by line as a person's would be.
            await telnet.TypeAsync("Subject: half a li\x03");
            await telnet.SeeAsync("354 Interrupt (Ctrl-C) cannot end a message");
            await telnet.TypeAsync("Subject: by telnet\r\rfirst line\r.\r");
            await telnet.SeeAsync("250 OK message stored as ");

            await telnet.TypeAsync("quit\r");
            await telnet.SeeAsync("221 mailsink.localhost closing connection, goodbye");
        }

        var message = await Host.SingleMessageAsync(inbox);
        var raw = Encoding.UTF8.GetString(await Host.RawAsync(message.GetProperty("id").GetString()!));
        Assert.Equal("Subject: by telnet\r\n\r\nfirst line\r\n", raw);
    }
}
