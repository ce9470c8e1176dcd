using System.Net;
using System.Net.Sockets;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailSink.Tests.Smtp;

/// <summary>
/// One client must not take every SMTP slot or hold one for ever: a cap per address, a cap on errors and
/// on commands without a message in one session, and a short idle timeout while most slots are taken.
/// Clients from other loopback addresses (127.0.0.2 and on: Linux answers the whole of 127/8) stand for
/// other machines.
/// </summary>
public sealed class ClientLimitsTests(ClientLimitsTests.TightHost fixture, ITestOutputHelper output) : IClassFixture<ClientLimitsTests.TightHost>
{
    public const int MaxConnections = 10;
    public const int PerAddress = 3;
    public const int MaxRecipients = 2;

    public sealed class TightHost() : ConfiguredHost(
            "--MailSink:Smtp:Listeners:0:Port=0", "--MailSink:Smtp:Listeners:0:Tls=None",
            $"--MailSink:Smtp:MaxConnections={MaxConnections}",
            $"--MailSink:Smtp:MaxConnectionsPerAddress={PerAddress}",
            "--MailSink:Smtp:MaxErrorsPerSession=5",
            "--MailSink:Smtp:MaxCommandsWithoutMessage=10",
            $"--MailSink:Smtp:MaxRecipients={MaxRecipients}",
            "--MailSink:Smtp:BusyIdleTimeout=00:00:01");

    private MailSinkHost Host => fixture.Host;

    private int Port => Host.Listeners.PortOf(MailSink.Server.Smtp.TlsMode.None);

    // Each test uses addresses of its own, so that the per-address counts of tests running one after
    // another never meet (a session closed by a test is released a moment later, on the server's side).
    private async Task<RawSmtpClient> ConnectFromAsync(string address)
    {
        var tcp = new TcpClient(new IPEndPoint(IPAddress.Parse(address), 0)) { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, Port);
        return RawSmtpClient.Over(tcp, output);
    }

    /// <summary>Every session one address may have, each greeted; the caller disposes them.</summary>
    private async Task<List<RawSmtpClient>> TakeEverySlotAsync(string address)
    {
        var open = new List<RawSmtpClient>();
        for (var i = 0; i < PerAddress; i++)
        {
            open.Add(await ConnectFromAsync(address));
            Assert.StartsWith("220 ", await open[^1].ReadReplyAsync());
        }

        return open;
    }

    [Fact]
    public async Task Sessions_past_the_cap_for_one_address_get_421_while_other_addresses_still_get_in()
    {
        var open = await TakeEverySlotAsync("127.0.1.1");
        try
        {
            await using (var extra = await ConnectFromAsync("127.0.1.1"))
            {
                Assert.Equal($"421 mailsink.localhost Too many connections from your address (at most {PerAddress}), try again later", await extra.ReadReplyAsync());
                Assert.True(await extra.IsClosedByServerAsync());
            }

            await using var other = await ConnectFromAsync("127.0.1.2");
            Assert.StartsWith("220 ", await other.ReadReplyAsync());
            Assert.Equal("250 OK", await other.CommandAsync("NOOP"));
        }
        finally
        {
            foreach (var client in open)
                await client.DisposeAsync();
        }
    }

    /// <summary>A client that reconnects without end cannot fill the log: ten refusals a second are logged, the rest counted.</summary>
    [Fact]
    public async Task Refused_connections_are_logged_ten_a_second_and_the_rest_counted()
    {
        var capture = new CapturingLoggerProvider();
        Host.Services.GetRequiredService<ILoggerFactory>().AddProvider(capture);
        var open = await TakeEverySlotAsync("127.0.6.1");
        try
        {
            const int Refused = 60;
            for (var i = 0; i < Refused; i++)
            {
                await using var extra = await ConnectFromAsync("127.0.6.1");
                Assert.StartsWith("421 ", await extra.ReadReplyAsync());
            }

            int Logged() => capture.Entries.Count(e => e.Contains("[1011] Connection from 127.0.6.1:", StringComparison.Ordinal));
            int Counted() => capture.Entries.Where(e => e.Contains("[1041]", StringComparison.Ordinal))
                .Sum(e => int.Parse(e[(e.IndexOf("] ", StringComparison.Ordinal) + 2)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
            await Poll.UntilAsync(() => Logged() + Counted() >= Refused, TimeSpan.FromSeconds(10), "every refusal was logged or counted");
            Assert.True(Counted() > 0, $"{Logged()} refusals logged one by one, none counted");
        }
        finally
        {
            foreach (var client in open)
                await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_session_is_closed_with_421_after_its_fifth_error()
    {
        await using var client = await ConnectFromAsync("127.0.2.1");
        await client.ReadReplyAsync();
        for (var i = 0; i < 4; i++)
            Assert.StartsWith("500 ", await client.CommandAsync($"BOGUS{i}"));
        Assert.StartsWith("501 ", await client.CommandAsync("EHLO"));
        Assert.Equal("421 mailsink.localhost Too many errors in this session (5), closing connection", await client.ReadReplyAsync());
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Commands_without_a_message_are_capped_and_each_stored_message_starts_the_count_again()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await ConnectFromAsync("127.0.3.1");
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me"); // 1
        for (var i = 0; i < 8; i++)
            Assert.Equal("250 OK", await client.CommandAsync("NOOP")); // 2..9
        await client.CommandAsync("MAIL FROM:<a@b.example>"); // 10
        await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
        await client.CommandAsync("DATA");
        Assert.StartsWith("250 OK message stored", await client.CommandAsync("Subject: counts\r\n\r\nbody\r\n."));

        for (var i = 0; i < 10; i++)
            Assert.Equal("250 OK", await client.CommandAsync("NOOP"));
        Assert.Equal("421 mailsink.localhost Too many commands without a message (10), closing connection", await client.CommandAsync("NOOP"));
        Assert.True(await client.IsClosedByServerAsync());
        Assert.Single(await Host.ListAsync(inbox));
    }

    /// <summary>Telnet's commands (Ctrl-C over and over) count as commands without a message: a client cannot chatter for ever in them.</summary>
    [Fact]
    public async Task Telnet_interrupts_count_as_commands_without_a_message()
    {
        await using var client = await ConnectFromAsync("127.0.3.5");
        await client.ReadReplyAsync();
        for (var i = 0; i < 10; i++)
        {
            await client.SendRawAsync([0xFF, 0xF4, 0xFF, 0xFD, 0x06], "<Ctrl-C>");
            Assert.Equal([0xFF, 0xFB, 0x06], await client.ReadBytesAsync(3));
            Assert.StartsWith("250 Interrupt (Ctrl-C) ignored", await client.ReadReplyAsync());
        }

        await client.SendRawAsync([0xFF, 0xF4, 0xFF, 0xFD, 0x06], "<Ctrl-C>");
        Assert.Equal([0xFF, 0xFB, 0x06], await client.ReadBytesAsync(3));
        Assert.Equal("421 mailsink.localhost Too many commands without a message (10), closing connection", await client.ReadReplyAsync());
        Assert.True(await client.IsClosedByServerAsync());
    }

    /// <summary>
    /// A RCPT past MaxRecipients gets 452, which is no error; ten times MaxRecipients of those since the last
    /// message are a long list pipelined (not counted), and each one past that counts as a command without a
    /// message, so that RCPT after RCPT cannot hold a slot for ever.
    /// </summary>
    [Fact]
    public async Task Recipients_refused_as_too_many_count_as_commands_without_a_message_past_ten_times_the_limit()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await ConnectFromAsync("127.0.3.3");
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me"); // 1
        await client.CommandAsync("MAIL FROM:<a@b.example>"); // 2
        for (var i = 0; i < MaxRecipients; i++)
            Assert.StartsWith("250 ", await client.CommandAsync($"RCPT TO:<r{i}@{inbox}.localhost>"));
        var tooMany = $"452 Too many recipients: at most {MaxRecipients} per message; send the rest in another message";
        for (var i = 0; i < 10 * MaxRecipients; i++)
            Assert.Equal(tooMany, await client.CommandAsync($"RCPT TO:<over{i}@{inbox}.localhost>")); // the allowance
        for (var i = 0; i < 8; i++)
            Assert.Equal(tooMany, await client.CommandAsync($"RCPT TO:<past{i}@{inbox}.localhost>")); // 3..10
        Assert.Equal(tooMany, await client.CommandAsync($"RCPT TO:<last@{inbox}.localhost>"));
        Assert.Equal("421 mailsink.localhost Too many commands without a message (10), closing connection", await client.ReadReplyAsync());
        Assert.True(await client.IsClosedByServerAsync());
        Assert.Empty(await Host.ListAsync(inbox));
    }

    [Fact]
    public async Task Small_bdat_chunks_that_are_not_the_last_count_as_commands_without_a_message_and_large_ones_do_not()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await ConnectFromAsync("127.0.3.2");
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me"); // 1
        await client.CommandAsync("MAIL FROM:<a@b.example>"); // 2
        await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
        var kibibyte = new string('k', 1024);
        for (var i = 0; i < 20; i++)
            Assert.StartsWith("250 1024 octets received", await client.CommandAsync($"BDAT 1024\r\n{kibibyte}", eol: "")); // progress: not counted
        for (var i = 0; i < 8; i++)
            Assert.StartsWith("250 0 octets received", await client.CommandAsync("BDAT 0")); // 3..10
        Assert.Equal("421 mailsink.localhost Too many commands without a message (10), closing connection", await client.CommandAsync("BDAT 0"));
        Assert.True(await client.IsClosedByServerAsync());
        Assert.Empty(await Host.ListAsync(inbox));
    }

    [Fact]
    public async Task Idle_sessions_get_the_short_timeout_while_most_slots_are_taken()
    {
        // Eight of ten slots taken (from three addresses, within the per-address cap): the server is busy.
        var open = new List<RawSmtpClient>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                open.Add(await ConnectFromAsync($"127.0.4.{1 + (i / PerAddress)}"));
                Assert.StartsWith("220 ", await open[^1].ReadReplyAsync());
            }

            // Each waits for a command with a 1-second timeout instead of the default five minutes.
            var closed = await Task.WhenAll(open.Select(async client =>
            {
                var reply = await client.ReadReplyAsync();
                return reply;
            }));
            Assert.All(closed, reply => Assert.Equal("421 mailsink.localhost Idle for 1 seconds, closing connection", reply));
        }
        finally
        {
            foreach (var client in open)
                await client.DisposeAsync();
        }
    }
}
