using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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
            "--MailSink:Smtp:IdleTimeout=00:00:02",
            "--MailSink:Smtp:MaxCommandsWithoutMessage=100000", // a client below sends 20,000 commands at once
            "--Logging:LogLevel:MailSink.Server=Information"); // and a test reads why its session ended

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

    /// <summary>
    /// A client that sends and never reads fills its connection with replies; the server's wait to write them
    /// must end with the idle timeout (it used to be able to hold the slot for ever), and the log must say
    /// why, not call the client idle.
    /// </summary>
    [Fact]
    public async Task A_client_that_sends_and_never_reads_is_closed_after_the_idle_timeout()
    {
        var capture = new CapturingLoggerProvider();
        Host.Services.GetRequiredService<ILoggerFactory>().AddProvider(capture);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 1024 };
        await socket.ConnectAsync(IPAddress.Loopback, Host.SmtpPort);
        var started = Stopwatch.StartNew();

        // 20,000 HELP commands in one go, not one reply read: about 12 MB of replies, far more than the two
        // sockets hold. The send itself may be cut short when the server closes the connection.
        var commands = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("HELP\r\n", 20_000)));
        var sending = socket.SendAsync(commands);

        string? NotReading() => capture.Entries.FirstOrDefault(e => e.Contains("[1028]", StringComparison.Ordinal));
        await Poll.UntilAsync(() => NotReading() is not null, TimeSpan.FromSeconds(20), "the server gave up on the client that does not read");
        output.WriteLine($"{started.Elapsed.TotalSeconds:0.0} s: {NotReading()}");
        Assert.Contains("read none of its replies for 2 s", NotReading(), StringComparison.Ordinal);
        var session = NotReading()![(NotReading()!.IndexOf("] [", StringComparison.Ordinal) + 3)..].Split(']')[0];
        Assert.DoesNotContain(capture.Entries, e => e.Contains("[1014]", StringComparison.Ordinal) && e.Contains(session, StringComparison.Ordinal));

        // Reading at last, the client gets what the server had sent, then the end of the connection, with no 421.
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0)
                received.Write(buffer, 0, read);
        }
        catch (SocketException ex)
        {
            output.WriteLine($"the connection was reset after {received.Length} bytes: {ex.SocketErrorCode}");
        }

        var text = Encoding.ASCII.GetString(received.ToArray());
        Assert.StartsWith("220 ", text, StringComparison.Ordinal);
        Assert.Contains("214", text, StringComparison.Ordinal);
        Assert.DoesNotContain("421 ", text, StringComparison.Ordinal);
        Assert.True(received.Length < 5_000_000, $"{received.Length} bytes of replies were sent: the connection never filled, so this tested nothing");
        try
        {
            output.WriteLine($"{await sending} bytes of commands sent");
        }
        catch (SocketException ex)
        {
            output.WriteLine($"sending the commands ended with {ex.SocketErrorCode}");
        }
    }
}
