using System.Net;
using System.Net.Sockets;
using System.Text;
using MailSink.Tests.Support;

// Not "Process": a namespace of that name would hide System.Diagnostics.Process from all of MailSink.Tests.
namespace MailSink.Tests.Processes;

/// <summary>
/// SIGTERM to the real process, as <c>docker stop</c> or systemd sends it: MailSink stops accepting, lets a
/// message in flight finish and be stored, closes idle sessions with <c>421</c>, and exits 0 by itself.
/// </summary>
public sealed class ShutdownTests(ITestOutputHelper output)
{
    /// <summary>Below the host's 30 s shutdown timeout, so a drain that hangs until the timeout fails here.</summary>
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan DrainDeadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Sigterm_in_the_middle_of_DATA_loses_nothing_and_the_process_exits_0()
    {
        using var root = new TempDirectory();
        var inbox = MailSinkHost.NewInbox();
        var (wire, stored) = Message(inbox);
        var split = wire.Length / 2;
        while (wire[split - 1] == (byte)'\n')
            split++; // cut inside a line: the server holds half a line when the signal comes

        string id;
        await using (var server = await MailSinkProcess.StartAsync(output, root.Path))
        {
            await using var client = await RawSmtpClient.ConnectAsync(server.SmtpPort, output);
            await client.PlayAsync($"""
                S: 220 *
                C: EHLO drain.example
                S: 250*
                C: MAIL FROM:<sender@example.com>
                S: 250 sender sender@example.com OK
                C: RCPT TO:<drain@{inbox}.localhost>
                S: 250 recipient drain@{inbox}.localhost OK
                C: DATA
                S: 354 *
                """);
            await client.SendRawAsync(wire[..split], $"<first {split} bytes of the body>");

            server.Signal(MailSinkProcess.SIGTERM);
            await Poll.UntilAsync(async () => await server.HealthAsync() != HttpStatusCode.OK, DrainDeadline, "/health stops answering 200 (the drain began)");
            await Poll.UntilAsync(() => RefusesConnectionsAsync(server.SmtpPort), DrainDeadline, "the SMTP port refuses new connections");
            Assert.False(server.HasExited, "MailSink exited while a message was still in flight");

            await client.SendRawAsync([.. wire[split..], .. ".\r\n"u8], $"<last {wire.Length - split} bytes of the body, then the final dot>");
            var reply = await client.ReadReplyAsync();
            Assert.Matches($"^250 OK message stored as [0-9a-f-]{{36}} in inbox {inbox}$", reply);
            id = RawSmtpClient.StoredId(reply);

            // Its transaction done, the session is between transactions, so it is closed like an idle one.
            Assert.StartsWith("421 mailsink.localhost ", await client.ReadReplyAsync(), StringComparison.Ordinal);
            Assert.True(await client.IsClosedByServerAsync(), "the session was left open after the drain");

            Assert.Equal(0, await server.WaitForExitAsync(ExitDeadline));
        }

        await using (var restarted = await MailSinkProcess.StartAsync(output, root.Path))
        {
            var message = await restarted.GetJsonAsync($"/api/messages/{id}");
            Assert.Equal(inbox, message.GetProperty("server").GetString());
            Assert.Equal($"Drained {inbox}", message.GetProperty("subject").GetString());
            Assert.Equal("sender@example.com", message.GetProperty("metadata").GetProperty("mailFrom").GetString());

            var listed = (await restarted.GetJsonAsync($"/api/messages?server={inbox}")).GetProperty("items");
            Assert.Equal(id, Assert.Single(listed.EnumerateArray()).GetProperty("id").GetString());

            Assert.Equal(stored, await restarted.GetBytesAsync($"/api/files/email/{id}"));
        }
    }

    [Fact]
    public async Task Sigterm_closes_a_session_idle_between_transactions_with_421_and_the_process_exits_0()
    {
        using var root = new TempDirectory();
        var inbox = MailSinkHost.NewInbox();
        await using var server = await MailSinkProcess.StartAsync(output, root.Path);
        await using var client = await RawSmtpClient.ConnectAsync(server.SmtpPort, output);
        await client.PlayAsync($"""
            S: 220 *
            C: EHLO idle.example
            S: 250*
            C: MAIL FROM:<idle@example.com>
            S: 250 sender idle@example.com OK
            C: RCPT TO:<idle@{inbox}.localhost>
            S: 250 recipient idle@{inbox}.localhost OK
            C: DATA
            S: 354 *
            C: Subject: before the signal
            C:
            C: Sent before SIGTERM; the session then waits for its next command.
            C: .
            S: 250 OK message stored as * in inbox {inbox}
            """);

        server.Signal(MailSinkProcess.SIGTERM);

        Assert.Equal("421 mailsink.localhost Service shutting down, please try again later", await client.ReadReplyAsync());
        Assert.True(await client.IsClosedByServerAsync(), "the idle session was left open after its 421");
        Assert.Equal(0, await server.WaitForExitAsync(ExitDeadline));
    }

    /// <summary>True when a new TCP connection to the port is refused (nothing listens there any more).</summary>
    private static async Task<bool> RefusesConnectionsAsync(int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
            return false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            // The connection reached the backlog of a listener that was closing just then: ask again, the
            // next probe meets the closed port.
            return false;
        }
    }

    /// <summary>A message as sent in DATA (dot-stuffed, without the final dot) and as it must be stored.</summary>
    private static (byte[] Wire, byte[] Stored) Message(string inbox)
    {
        List<string> lines = [$"Subject: Drained {inbox}", "From: sender@example.com", $"To: drain@{inbox}.localhost", ""];
        for (var i = 0; i < 200; i++)
            lines.Add($"Line {i:D3}: the quick brown fox jumps over the lazy dog while the server is asked to stop.");
        lines.Add(".A line that starts with a dot, doubled on the wire");
        lines.Add("The last line.");

        var stored = string.Concat(lines.Select(l => l + "\r\n"));
        var wire = string.Concat(lines.Select(l => (l.StartsWith('.') ? "." + l : l) + "\r\n"));
        return (Encoding.ASCII.GetBytes(wire), Encoding.ASCII.GetBytes(stored));
    }
}
