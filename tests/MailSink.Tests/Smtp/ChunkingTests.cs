using System.Net;
using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MailSink.Tests.Support;
using MimeKit;

namespace MailSink.Tests.Smtp;

/// <summary>
/// CHUNKING and BINARYMIME (RFC 3030): BDAT chunks of exact sizes, kept byte for byte, answered one by one
/// and stored as one message at the LAST; every chunk's bytes read even when refused, so that they are
/// never taken for commands. (The size limit's case is in <see cref="LimitsTests"/>.)
/// </summary>
public sealed class ChunkingTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    [Fact]
    public async Task Ehlo_offers_chunking_and_binarymime_and_help_lists_bdat()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        var ehlo = (await client.CommandAsync("EHLO me")).Split('\n');
        Assert.Contains("250-CHUNKING", ehlo);
        Assert.Contains("250 BINARYMIME", ehlo);
        Assert.Contains(" DATA BDAT RSET ", await client.CommandAsync("HELP"));
    }

    [Fact]
    public async Task Pipelined_chunks_get_a_reply_each_and_are_stored_byte_for_byte_as_one_message()
    {
        var inbox = MailSinkHost.NewInbox();
        // What DATA would change or end on: a lone dot line, a stuffed-looking dot, bare LF, a lone CR, NUL,
        // 8-bit bytes, and lines that read as commands.
        var message = "Subject: chunked\r\n\r\n"u8.ToArray()
            .Concat(".\r\n..two dots\r\nbare\nLF and a lone \r CR\r\n"u8.ToArray())
            .Concat(new byte[] { 0x00, 0xE9, 0xFF, 0x80, 0x0D, 0x0A })
            .Concat("RSET\r\nQUIT\r\nno final line end"u8.ToArray())
            .ToArray();
        var first = message[..25];
        var second = message[25..60];
        var rest = message[60..];

        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        // The whole transaction in one write, as a pipelining client sends it.
        await client.SendRawAsync([
            .. Encoding.ASCII.GetBytes($"MAIL FROM:<a@b.example>\r\nRCPT TO:<x@{inbox}.localhost>\r\nBDAT {first.Length}\r\n"), .. first,
            .. Encoding.ASCII.GetBytes($"bdat {second.Length}\r\n"), .. second,
            .. Encoding.ASCII.GetBytes($"BDAT {rest.Length} last\r\n"), .. rest,
            .. "NOOP\r\n"u8.ToArray(),
        ]);
        Assert.Equal("250 sender a@b.example OK", await client.ReadReplyAsync());
        Assert.Equal($"250 recipient x@{inbox}.localhost OK", await client.ReadReplyAsync());
        Assert.Equal("250 25 octets received, 25 in all so far", await client.ReadReplyAsync());
        Assert.Equal("250 35 octets received, 60 in all so far", await client.ReadReplyAsync());
        var stored = await client.ReadReplyAsync();
        Assert.StartsWith("250 OK message stored as ", stored);
        Assert.Equal("250 OK", await client.ReadReplyAsync());

        Assert.Equal(message, await Host.RawAsync(RawSmtpClient.StoredId(stored)));
        Assert.Equal("chunked", (await Host.SingleMessageAsync(inbox)).GetProperty("subject").GetString());
    }

    [Fact]
    public async Task An_empty_last_chunk_ends_the_message_and_a_lone_one_stores_an_empty_message()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await InTransactionAsync(inbox);
        const string Headers = "Subject: parts\r\n\r\n";
        await client.SendAsync($"BDAT {Headers.Length}\r\n{Headers}", eol: "");
        Assert.Equal($"250 {Headers.Length} octets received, {Headers.Length} in all so far", await client.ReadReplyAsync());
        var first = RawSmtpClient.StoredId(await client.CommandAsync("BDAT 0 LAST"));
        Assert.Equal(Encoding.ASCII.GetBytes(Headers), await Host.RawAsync(first));

        await client.CommandAsync("MAIL FROM:<a@b.example>");
        await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
        var empty = RawSmtpClient.StoredId(await client.CommandAsync("BDAT 0 LAST"));
        Assert.Empty(await Host.RawAsync(empty));
        Assert.Equal(2, (await Host.ListAsync(inbox)).Length);
    }

    [Fact]
    public async Task Typed_by_hand_the_line_end_after_a_chunk_gets_a_reply_that_says_what_it_is()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.PlayAsync($"""
            S: 220 *
            C: ehlo me
            S: 250-*
            S: *
            C: mail from: me@example.com
            S: 250 sender me@example.com OK
            C: rcpt to: you@{inbox}.localhost
            S: 250 recipient you@{inbox}.localhost OK
            C: bdat 20 last
            C: Subject: by hand
            C:
            S: 250 OK message stored as * in inbox {inbox}
            C:
            S: 500 Empty command: a BDAT chunk is exactly the bytes it states, and this line end came after them
            C:
            S: 500 Empty command; type HELP for the list of commands
            """);
        Assert.Equal("Subject: by hand\r\n\r\n"u8.ToArray(), await Host.RawAsync((await Host.SingleMessageAsync(inbox)).GetProperty("id").GetString()!));
    }

    [Theory]
    [InlineData(false, false, "503 Send EHLO or HELO first (for example: EHLO my-laptop)")]
    [InlineData(true, false, "503 Send MAIL FROM and RCPT TO before BDAT")]
    [InlineData(true, true, "503 Send RCPT TO before BDAT: no recipient yet; the chunk is dropped and the transaction reset")]
    public async Task A_chunk_out_of_sequence_is_read_refused_with_503_and_never_taken_for_commands(bool greet, bool mail, string reply)
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        if (greet)
            await client.CommandAsync("EHLO me");
        if (mail)
            await client.CommandAsync("MAIL FROM:<a@b.example>");

        // The chunk holds commands: were it read as commands, QUIT would end the session.
        await client.SendRawAsync("BDAT 12 LAST\r\nQUIT\r\nQUIT\r\n"u8.ToArray());
        Assert.Equal(reply, await client.ReadReplyAsync());
        Assert.Equal("250 OK", await client.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task Data_after_a_chunk_gets_503_and_rset_drops_the_chunks()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await InTransactionAsync(inbox);
        const string Chunk = "Subject: never stored\r\n";
        await client.SendAsync($"BDAT {Chunk.Length}\r\n{Chunk}", eol: "");
        Assert.StartsWith($"250 {Chunk.Length} octets received", await client.ReadReplyAsync());
        Assert.Equal("503 This message is being sent with BDAT, so DATA cannot follow; send RSET to start again", await client.CommandAsync("DATA"));
        Assert.Equal("250 OK, transaction reset", await client.CommandAsync("RSET"));

        // A new message by DATA in the same session holds nothing of the dropped chunk.
        await client.CommandAsync("MAIL FROM:<a@b.example>");
        await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        var id = RawSmtpClient.StoredId(await client.CommandAsync("Subject: by data\r\n\r\nbody\r\n."));
        Assert.Equal("Subject: by data\r\n\r\nbody\r\n"u8.ToArray(), await Host.RawAsync(id));
        Assert.Single(await Host.ListAsync(inbox));
    }

    [Fact]
    public async Task Binarymime_is_refused_with_data_and_taken_with_bdat()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        Assert.Equal("250 sender a@b.example OK", await client.CommandAsync("MAIL FROM:<a@b.example> BODY=BINARYMIME"));
        await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
        Assert.Equal("503 BODY=BINARYMIME was given: send the message with BDAT, not DATA", await client.CommandAsync("DATA"));
        var message = "Subject: binary\r\n\r\n"u8.ToArray().Concat(Enumerable.Range(0, 256).Select(i => (byte)i)).ToArray();
        await client.SendRawAsync([.. Encoding.ASCII.GetBytes($"BDAT {message.Length} LAST\r\n"), .. message]);
        Assert.Equal(message, await Host.RawAsync(RawSmtpClient.StoredId(await client.ReadReplyAsync())));

        // BINARYMIME lasts for its own transaction only.
        await client.CommandAsync("MAIL FROM:<a@b.example>");
        await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        Assert.StartsWith("250 OK message stored", await client.CommandAsync("Subject: text\r\n\r\nbody\r\n."));
    }

    [Theory]
    [InlineData("BDAT")]
    [InlineData("BDAT x LAST")]
    [InlineData("BDAT 10 LAST now")]
    [InlineData("BDAT -1")]
    [InlineData("BDAT 1234567890123456789")]
    public async Task A_malformed_bdat_closes_the_session_with_421(string command)
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        Assert.Equal(
            "421 mailsink.localhost Syntax: BDAT <size> [LAST]; the bytes after a malformed BDAT cannot be told from commands, closing connection",
            await client.CommandAsync(command));
        Assert.True(await client.IsClosedByServerAsync());
    }

    /// <summary>A session with EHLO, MAIL (with <paramref name="mailParameters"/>) and one RCPT to <paramref name="inbox"/> done.</summary>
    private async Task<RawSmtpClient> InTransactionAsync(string inbox, string mailParameters = "")
    {
        var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        Assert.StartsWith("250 ", await client.CommandAsync("MAIL FROM:<a@b.example>" + mailParameters));
        Assert.StartsWith("250 ", await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>"));
        return client;
    }

    /// <summary>The body memory shared by this class's own host (its tests run one at a time).</summary>
    private MailSink.Server.Smtp.BodySpool Spool => Host.Listeners.Spool;

    [Fact]
    public async Task A_client_gone_during_a_chunk_leaves_nothing_stored_and_gives_the_chunks_memory_back()
    {
        var inbox = MailSinkHost.NewInbox();
        await using (var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output))
        {
            await client.ReadReplyAsync();
            await client.CommandAsync("EHLO me");
            await client.CommandAsync("MAIL FROM:<a@b.example>");
            await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
            const string Head = "Subject: cut short\r\n\r\n";
            Assert.StartsWith("250 ", await client.CommandAsync($"BDAT {Head.Length}\r\n{Head}", eol: ""));
            Assert.True(Spool.InMemoryBytes > 0, "the first chunk is held in the body memory");
            await client.SendRawAsync("BDAT 100 LAST\r\nthe rest never comes"u8.ToArray());
        }

        // Once the session has ended the chunks' memory is back; by then anything stored would be listed.
        await Poll.UntilAsync(() => Spool.InMemoryBytes == 0, TimeSpan.FromSeconds(10), "the body memory is given back");
        Assert.Empty(await Host.ListAsync(inbox));
    }

    [Fact]
    public async Task Rset_or_ehlo_between_chunks_drops_them_and_a_refused_chunk_ends_the_transaction()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        foreach (var reset in new[] { "RSET", "EHLO again" })
        {
            await client.CommandAsync("MAIL FROM:<a@b.example>");
            await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
            Assert.StartsWith("250 10 octets received", await client.CommandAsync("BDAT 10\r\n0123456789", eol: ""));
            Assert.Equal("503 RCPT cannot follow BDAT: a message's recipients come before its chunks; send RSET to start again",
                await client.CommandAsync($"RCPT TO:<y@{inbox}.localhost>"));
            Assert.True(Spool.InMemoryBytes > 0);
            Assert.StartsWith("250", await client.CommandAsync(reset));
            Assert.Equal(0, Spool.InMemoryBytes);
            Assert.Equal("503 Send MAIL FROM and RCPT TO before BDAT", await client.CommandAsync("BDAT 4 LAST\r\nlost", eol: ""));
        }

        // A chunk refused inside a transaction (no recipient yet) ends it: a RCPT after it finds no MAIL.
        await client.CommandAsync("MAIL FROM:<a@b.example>");
        Assert.StartsWith("503 Send RCPT TO before BDAT", await client.CommandAsync("BDAT 4\r\nlost", eol: ""));
        Assert.Equal("503 Send MAIL FROM first", await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>"));
        Assert.Empty(await Host.ListAsync(inbox));
    }

    [Fact]
    public async Task A_message_of_chunks_past_the_memory_share_waits_in_a_file_and_is_stored_byte_for_byte()
    {
        var inbox = MailSinkHost.NewInbox();
        var body = new byte[1536 * 1024];
        new Random(7).NextBytes(body);
        var message = "Subject: large\r\nContent-Type: application/octet-stream\r\n\r\n"u8.ToArray().Concat(body).ToArray();
        var cut = 1024 * 1024 - 100;
        await using var client = await InTransactionAsync(inbox, " BODY=BINARYMIME");
        await client.SendRawAsync([.. Encoding.ASCII.GetBytes($"BDAT {cut}\r\n"), .. message[..cut]]);
        Assert.StartsWith($"250 {cut} octets received", await client.ReadReplyAsync());
        await client.SendRawAsync([.. Encoding.ASCII.GetBytes($"BDAT {message.Length - cut} LAST\r\n"), .. message[cut..]]);
        var id = RawSmtpClient.StoredId(await client.ReadReplyAsync());
        Assert.Equal(message, await Host.RawAsync(id));
        Assert.Equal(0, Spool.InMemoryBytes);
    }

    [Theory]
    [InlineData("BDAT 30 LAST\u0001")]
    [InlineData("  bdat\u0000 30")]
    [InlineData("BDAT 30 LAST \u00ff\u00fe")]
    public async Task A_bdat_line_that_cannot_be_read_closes_the_session_with_421(string line)
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        // Latin-1 for the last case: bytes FF FE, which are not UTF-8.
        await client.SendRawAsync([.. Encoding.Latin1.GetBytes(line), .. "\r\nRSET\r\nQUIT\r\n"u8.ToArray()]);
        Assert.StartsWith("421 mailsink.localhost Syntax: BDAT <size> [LAST]", await client.ReadReplyAsync());
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task A_bdat_line_too_long_to_read_closes_the_session_with_421()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        await client.SendRawAsync(Encoding.ASCII.GetBytes("BDAT 10 " + new string('x', 5000) + "\r\n"));
        Assert.StartsWith("421 mailsink.localhost Syntax: BDAT <size> [LAST]", await client.ReadReplyAsync());
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task MailKit_sends_by_bdat_when_asked_and_a_binary_attachment_by_binarymime_and_both_arrive_intact()
    {
        var inbox = MailSinkHost.NewInbox();
        var bytes = Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray();
        var binary = new MimeMessage();
        binary.From.Add(MailboxAddress.Parse("sender@example.com"));
        binary.To.Add(MailboxAddress.Parse($"bin@{inbox}.localhost"));
        binary.Subject = "binary attachment";
        binary.Body = new Multipart("mixed")
        {
            new TextPart("plain") { Text = "See the attachment." },
            new MimePart("application", "octet-stream")
            {
                Content = new MimeContent(new MemoryStream(bytes)),
                ContentTransferEncoding = ContentEncoding.Binary,
                FileName = "all-bytes.bin",
            },
        };
        var text = new MimeMessage();
        text.From.Add(MailboxAddress.Parse("sender@example.com"));
        text.To.Add(MailboxAddress.Parse($"text@{inbox}.localhost"));
        text.Subject = "preferred binary data";
        text.Body = new TextPart("plain") { Text = "Sent with BDAT because the client prefers it.\r\n.\r\nA dot line, unstuffed." };

        using var log = new MemoryStream();
        using (var client = new SmtpClient(new ProtocolLogger(log, leaveOpen: true)) { Timeout = 10_000 })
        {
            await client.ConnectAsync("127.0.0.1", Host.SmtpPort, MailKit.Security.SecureSocketOptions.None);
            Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Chunking));
            Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.BinaryMime));
            await client.SendAsync(binary); // a binary part: MailKit must use BODY=BINARYMIME, hence BDAT
            await client.DisconnectAsync(true);
        }

        using (var client = new BdatPreferringClient(new ProtocolLogger(log, leaveOpen: true)) { Timeout = 10_000 })
        {
            await client.ConnectAsync("127.0.0.1", Host.SmtpPort, MailKit.Security.SecureSocketOptions.None);
            await client.SendAsync(text);
            await client.DisconnectAsync(true);
        }

        var dialogue = Encoding.UTF8.GetString(log.ToArray());
        output.WriteLine(dialogue.Length > 3000 ? dialogue[..3000] : dialogue);
        Assert.Contains("BODY=BINARYMIME", dialogue);
        Assert.Equal(2, dialogue.Split("C: BDAT ").Length - 1);
        Assert.DoesNotContain("C: DATA", dialogue);

        var stored = await Host.ListAsync(inbox);
        Assert.Equal(2, stored.Length);
        var withAttachment = await Host.GetJsonAsync($"/api/messages/{stored.Single(m => m.GetProperty("subject").GetString() == "binary attachment").GetProperty("id").GetString()}");
        var attachment = Assert.Single(withAttachment.GetProperty("attachments").EnumerateArray());
        Assert.Equal("all-bytes.bin", attachment.GetProperty("fileName").GetString());
        using var download = await Host.Http.GetAsync($"/api/files/attachments/{attachment.GetProperty("id").GetString()}");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync());

        var preferred = await Host.GetJsonAsync($"/api/messages/{stored.Single(m => m.GetProperty("subject").GetString() == "preferred binary data").GetProperty("id").GetString()}");
        Assert.Contains(".\r\nA dot line, unstuffed.", preferred.GetProperty("text").GetProperty("body").GetString()!.ReplaceLineEndings("\r\n"));
    }

    /// <summary>MailKit's switch to send every message with BDAT (a protected property, so set by a subclass).</summary>
    private sealed class BdatPreferringClient(IProtocolLogger logger) : SmtpClient(logger)
    {
        protected override bool PreferSendAsBinaryData => true;
    }
}
