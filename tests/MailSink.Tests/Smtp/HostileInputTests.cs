using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using MailSink.Tests.Support;

namespace MailSink.Tests.Smtp;

/// <summary>
/// Broken and hostile input gets the right reply or a clean close, the server stays up, and the next
/// session is served normally.
/// </summary>
public sealed class HostileInputTests(HostileInputTests.StrictHost fixture, ITestOutputHelper output) : IClassFixture<HostileInputTests.StrictHost>
{
    public sealed class StrictHost() : ConfiguredHost(
            "--MailSink:Smtp:Listeners:0:Port=0", "--MailSink:Smtp:Listeners:0:Tls=StartTls",
            "--MailSink:Smtp:Listeners:1:Port=0", "--MailSink:Smtp:Listeners:1:Tls=Implicit");

    private MailSinkHost Host => fixture.Host;

    private async Task<RawSmtpClient> GreetedAsync()
    {
        var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        return client;
    }

    /// <summary>The server still takes a whole message in a new session.</summary>
    private async Task AssertStillServingAsync()
    {
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"ok@{inbox}.localhost", "still here", "yes"));
        Assert.Single(await Host.ListAsync(inbox));
    }

    [Fact]
    public async Task A_100_kb_command_line_gets_500_and_the_session_goes_on()
    {
        await using var client = await GreetedAsync();
        await client.SendAsync("MAIL FROM:<" + new string('a', 100 * 1024) + "@x.example>");
        Assert.Equal("500 Line too long: commands are limited to 4096 bytes", await client.ReadReplyAsync());
        Assert.Equal("250 OK", await client.CommandAsync("NOOP"));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'N', (byte)'O', 0, (byte)'P' }, "500 Command contains a control character (0x00, NUL) at column 3; not understood, type it again")]
    [InlineData(new byte[] { (byte)'M', (byte)'A', (byte)'I', (byte)'L', (byte)' ', 0x1B, (byte)'[', (byte)'2', (byte)'J' }, "500 Command contains a control character (0x1B, escape) at column 6; not understood, type it again")]
    [InlineData(new byte[] { (byte)'H', (byte)'E', (byte)'L', (byte)'O', (byte)' ', 0xC3, 0xB6, 0x08 }, "500 Command contains a control character (0x08, a backspace) at column 7; not understood, type it again")]
    [InlineData(new byte[] { (byte)'H', (byte)'E', (byte)'L', (byte)'O', (byte)' ', 0xC3, 0x28, 0xFF }, "500 Command is not valid UTF-8; not understood")]
    public async Task Control_bytes_and_invalid_utf8_in_commands_get_500(byte[] line, string reply)
    {
        await using var client = await GreetedAsync();
        await client.SendRawAsync([.. line, .. "\r\n"u8.ToArray()]);
        Assert.Equal(reply, await client.ReadReplyAsync());
        Assert.Equal("250 OK", await client.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task Garbage_between_commands_is_answered_line_by_line_and_mail_still_goes_through()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await GreetedAsync();
        var random = new Random(42);
        for (var i = 0; i < 20; i++)
        {
            var garbage = new byte[random.Next(1, 200)];
            random.NextBytes(garbage);
            for (var j = 0; j < garbage.Length; j++)
            {
                if (garbage[j] is (byte)'\n' or (byte)'\r')
                    garbage[j] = (byte)'x';
            }

            await client.SendRawAsync([.. garbage, (byte)'\r', (byte)'\n']);
            Assert.StartsWith("5", await client.ReadReplyAsync());
        }

        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<a@b.example>"));
        Assert.StartsWith("250", await client.CommandAsync($"RCPT TO:<c@{inbox}.localhost>"));
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        Assert.StartsWith("250 OK message stored", await client.CommandAsync("Subject: after garbage\r\n\r\nfine\r\n."));
    }

    [Fact]
    public async Task Ten_thousand_recipients_in_one_transaction_are_capped_with_452()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await GreetedAsync();
        await client.CommandAsync("MAIL FROM:<a@b.example>");
        var commands = new StringBuilder();
        for (var i = 0; i < 10_000; i++)
            commands.Append($"RCPT TO:<r{i}@{inbox}.localhost>\r\n");
        await client.SendRawAsync(Encoding.ASCII.GetBytes(commands.ToString()), "10,000 RCPT commands");

        var accepted = 0;
        var capped = 0;
        for (var i = 0; i < 10_000; i++)
        {
            var reply = await client.ReadReplyAsync();
            if (reply.StartsWith("250", StringComparison.Ordinal))
                accepted++;
            else if (reply.StartsWith("452", StringComparison.Ordinal))
                capped++;
        }

        Assert.Equal(1000, accepted);
        Assert.Equal(9000, capped);
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        Assert.StartsWith("250 OK message stored", await client.CommandAsync("Subject: many\r\n\r\n."));
        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal(1000, message.GetProperty("metadata").GetProperty("rcptTo").GetArrayLength());
    }

    [Fact]
    public async Task A_dropped_connection_mid_data_stores_nothing()
    {
        var inbox = MailSinkHost.NewInbox();
        await using (var client = await GreetedAsync())
        {
            await client.CommandAsync("MAIL FROM:<a@b.example>");
            await client.CommandAsync($"RCPT TO:<c@{inbox}.localhost>");
            Assert.StartsWith("354", await client.CommandAsync("DATA"));
            await client.SendRawAsync(Encoding.ASCII.GetBytes("Subject: cut short\r\n\r\nno end in sight\r\n"));
        }

        await AssertStillServingAsync();
        Assert.Empty(await Host.ListAsync(inbox));
    }

    [Fact]
    public async Task Tls_handshake_garbage_on_the_implicit_tls_port_is_closed_cleanly()
    {
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync("127.0.0.1", Host.ImplicitTlsPort);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("EHLO not-tls\r\n\x16\x03\x01\x00\x05garbage garbage garbage"));
            var buffer = new byte[256];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, timeout.Token);
            }
            catch (IOException)
            {
                read = 0;
            }

            Assert.True(read == 0 || buffer[0] == 0x15, "expected a close or a TLS alert, got data"); // 0x15: TLS alert record
        }

        // TLS on that port still works.
        using var ok = new TcpClient();
        await ok.ConnectAsync("127.0.0.1", Host.ImplicitTlsPort);
        await using var tls = new SslStream(ok.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync("localhost");
        var banner = new byte[100];
        var n = await tls.ReadAsync(banner);
        Assert.StartsWith("220 ", Encoding.ASCII.GetString(banner, 0, n));
    }

    [Fact]
    public async Task A_one_megabyte_header_and_deep_mime_nesting_are_stored()
    {
        var inbox = MailSinkHost.NewInbox();
        var header = "X-Huge: " + string.Join("\r\n ", Enumerable.Repeat(new string('h', 70), 1024 * 1024 / 73));
        var nested = new StringBuilder();
        for (var i = 0; i < 1000; i++)
            nested.Append($"Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n");
        nested.Append("Content-Type: text/plain\r\n\r\ndeep inside\r\n");
        for (var i = 999; i >= 0; i--)
            nested.Append($"--b{i}--\r\n");

        await using var client = await GreetedAsync();
        foreach (var (subject, body) in new[] { ("huge header", header + "\r\nSubject: huge header\r\n\r\nbody\r\n"), ("deep", "Subject: deep\r\nMIME-Version: 1.0\r\n" + nested) })
        {
            await client.CommandAsync("MAIL FROM:<a@b.example>");
            await client.CommandAsync($"RCPT TO:<{subject.Replace(' ', '-')}@{inbox}.localhost>");
            await client.CommandAsync("DATA");
            await client.SendRawAsync(Encoding.ASCII.GetBytes(body + ".\r\n"), subject);
            Assert.StartsWith("250 OK message stored", await client.ReadReplyAsync());
        }

        var subjects = (await Host.ListAsync(inbox)).Select(m => m.GetProperty("subject").GetString()).ToHashSet();
        Assert.Equal(new HashSet<string?> { "huge header", "deep" }, subjects);
    }
}
