using System.Text;
using MailSink.Tests.Support;

namespace MailSink.Tests.Smtp;

/// <summary>Size limit, recipient and connection caps, on a host configured small enough to hit them.</summary>
public sealed class LimitsTests(LimitsTests.SmallHost fixture, ITestOutputHelper output) : IClassFixture<LimitsTests.SmallHost>
{
    public const int MaxBytes = 2000;
    public const int MaxConnections = 3;

    public sealed class SmallHost() : ConfiguredHost(
            "--MailSink:Smtp:Listeners:0:Port=0", "--MailSink:Smtp:Listeners:0:Tls=None",
            $"--MailSink:Smtp:MaxMessageBytes={MaxBytes}",
            $"--MailSink:Smtp:MaxConnections={MaxConnections}",
            "--MailSink:Smtp:MaxRecipients=5");

    private MailSinkHost Host => fixture.Host;

    private int Port => Host.Listeners.PortOf(MailSink.Server.Smtp.TlsMode.None);

    [Fact]
    public async Task A_message_over_the_limit_gets_552_nothing_is_stored_and_the_session_goes_on()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await RawSmtpClient.ConnectAsync(Port, output);
        await client.ReadReplyAsync();
        Assert.Contains($"250-SIZE {MaxBytes}", await client.CommandAsync("EHLO me"));
        await client.CommandAsync("MAIL FROM:<a@b.example>");
        await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        var big = new StringBuilder("Subject: big\r\n\r\n");
        while (big.Length <= MaxBytes * 3)
            big.Append("0123456789012345678901234567890123456789012345678901234567890123456789\r\n");
        await client.SendRawAsync(Encoding.ASCII.GetBytes(big + ".\r\n"));
        Assert.Equal($"552 Message exceeds the limit of {MaxBytes} bytes; nothing was stored", await client.ReadReplyAsync());

        // The session goes on, and a message within the limit is taken.
        await client.CommandAsync("MAIL FROM:<a@b.example>");
        await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
        await client.CommandAsync("DATA");
        await client.SendAsync("Subject: small\r\n\r\nok\r\n.");
        Assert.StartsWith("250 OK message stored", await client.ReadReplyAsync());

        var items = await Host.ListAsync(inbox);
        Assert.Equal("small", Assert.Single(items).GetProperty("subject").GetString());
    }

    [Fact]
    public async Task Bdat_chunks_over_the_limit_get_552_at_the_chunk_that_crosses_it_then_503_and_the_session_goes_on()
    {
        var inbox = MailSinkHost.NewInbox();
        var within = Encoding.ASCII.GetBytes("Subject: big\r\n\r\n".PadRight(MaxBytes - 10, 'x'));
        var crossing = new byte[20];
        Array.Fill(crossing, (byte)'y');
        await using var client = await RawSmtpClient.ConnectAsync(Port, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        await client.CommandAsync("MAIL FROM:<a@b.example>");
        await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
        // Pipelined: the chunk within the limit, the one that crosses it, and the last, which the client
        // sent before it could hear the 552 (RFC 3030: read, and refused).
        await client.SendRawAsync([
            .. Encoding.ASCII.GetBytes($"BDAT {within.Length}\r\n"), .. within,
            .. Encoding.ASCII.GetBytes($"BDAT {crossing.Length}\r\n"), .. crossing,
            .. "BDAT 6 LAST\r\nQUIT\r\n"u8.ToArray(),
        ]);
        Assert.StartsWith($"250 {within.Length} octets received", await client.ReadReplyAsync());
        Assert.Equal($"552 Message exceeds the limit of {MaxBytes} bytes; nothing was stored, and the transaction is reset", await client.ReadReplyAsync());
        Assert.Equal("503 Send MAIL FROM and RCPT TO before BDAT", await client.ReadReplyAsync());

        // The session goes on, and a message within the limit is taken.
        await client.CommandAsync("MAIL FROM:<a@b.example>");
        await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
        const string Small = "Subject: small\r\n\r\nok\r\n";
        Assert.StartsWith("250 OK message stored", await client.CommandAsync($"BDAT {Small.Length} LAST\r\n{Small}", eol: ""));
        var items = await Host.ListAsync(inbox);
        Assert.Equal("small", Assert.Single(items).GetProperty("subject").GetString());
    }

    [Fact]
    public async Task A_declared_size_over_the_limit_gets_552_at_mail()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Port, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        Assert.Equal($"552 Message size {MaxBytes + 1} exceeds the limit of {MaxBytes} bytes",
            await client.CommandAsync($"MAIL FROM:<a@b.example> SIZE={MaxBytes + 1}"));
        Assert.Equal("250 sender a@b.example OK", await client.CommandAsync($"MAIL FROM:<a@b.example> SIZE={MaxBytes}"));
    }

    [Fact]
    public async Task Recipients_past_the_cap_get_452()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Port, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        await client.CommandAsync("MAIL FROM:<a@b.example>");
        Assert.StartsWith("250 recipients", await client.CommandAsync("RCPT TO: a@x.localhost, b@x.localhost, c@x.localhost, d@x.localhost"));
        Assert.StartsWith("250 recipient", await client.CommandAsync("RCPT TO: e@x.localhost"));
        Assert.Equal("452 Too many recipients: at most 5 per message; send the rest in another message",
            await client.CommandAsync("RCPT TO: f@x.localhost"));
    }

    [Fact]
    public async Task Connections_over_the_cap_get_421_and_a_freed_slot_is_usable_again()
    {
        var open = new List<RawSmtpClient>();
        try
        {
            for (var i = 0; i < MaxConnections; i++)
            {
                var client = await RawSmtpClient.ConnectAsync(Port, output);
                open.Add(client);
                Assert.StartsWith("220 ", await client.ReadReplyAsync());
            }

            await using (var extra = await RawSmtpClient.ConnectAsync(Port, output))
            {
                Assert.Equal("421 mailsink.localhost Too many connections, try again later", await extra.ReadReplyAsync());
                Assert.True(await extra.IsClosedByServerAsync());
            }

            Assert.StartsWith("221", await open[0].CommandAsync("QUIT"));
            Assert.True(await open[0].IsClosedByServerAsync());

            // The slot is released when the server has finished closing the session: wait for it.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (true)
            {
                await using var retry = await RawSmtpClient.ConnectAsync(Port, output);
                var banner = await retry.ReadReplyAsync();
                if (banner.StartsWith("220 ", StringComparison.Ordinal))
                    break;
                Assert.True(DateTime.UtcNow < deadline, "the freed connection slot never became usable");
            }
        }
        finally
        {
            foreach (var client in open)
                await client.DisposeAsync();
        }
    }
}
