using System.Text;
using MailSink.Tests.Support;

namespace MailSink.Tests.Smtp;

/// <summary>
/// The idle timeout, on a host of its own with a 2-second timeout. Other tests run on hosts with the default
/// timeout: on a busy 2-core CI machine a test client can be held up for 2 seconds between two commands,
/// and a short timeout there would close sessions those tests still need.
/// </summary>
public sealed class IdleTimeoutTests(IdleTimeoutTests.ShortIdleHost fixture, ITestOutputHelper output) : IClassFixture<IdleTimeoutTests.ShortIdleHost>
{
    public sealed class ShortIdleHost() : ConfiguredHost(
            "--MailSink:Smtp:Listeners:0:Port=0", "--MailSink:Smtp:Listeners:0:Tls=StartTls",
            "--MailSink:Smtp:IdleTimeout=00:00:02");

    private MailSinkHost Host => fixture.Host;

    [Fact]
    public async Task An_idle_session_is_closed_with_421()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        Assert.Equal("421 mailsink.localhost Idle for 2 seconds, closing connection", await client.ReadReplyAsync());
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task A_client_trickling_a_byte_at_a_time_is_cut_off_by_the_timeout()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        var started = DateTime.UtcNow;
        var closed = false;
        var line = Encoding.ASCII.GetBytes("NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP\r\n");
        try
        {
            foreach (var b in line)
            {
                await client.SendRawAsync([b], "one byte");
                await Task.Delay(250); // the trickle itself: four bytes a second
            }
        }
        catch (IOException)
        {
            closed = true;
        }

        if (!closed)
        {
            Assert.StartsWith("421 mailsink.localhost Idle", await client.ReadReplyAsync());
            Assert.True(await client.IsClosedByServerAsync());
        }

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(12), "the trickling session was not cut off in time");

        // The server still takes a whole message in a new session.
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"ok@{inbox}.localhost", "still here", "yes"));
        Assert.Single(await Host.ListAsync(inbox));
    }
}
