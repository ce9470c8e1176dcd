using System.Text;
using MailSink.Tests.Support;

namespace MailSink.Tests.Smtp;

/// <summary>
/// What a telnet client sends besides the text typed (RFC 854), byte for byte as inetutils' telnet sends it:
/// Ctrl-C is "interrupt process" and "DO TIMING-MARK" (FF F4 FF FD 06), Ctrl-\ is "break" and the same mark
/// (FF F3 FF FD 06). Until the server answers the mark with "WILL TIMING-MARK" (FF FB 06) the client shows
/// nothing the server writes. <see cref="TelnetClientTests"/> drives the real program.
/// </summary>
public sealed class TelnetCommandTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private static readonly byte[] CtrlC = [0xFF, 0xF4, 0xFF, 0xFD, 0x06];
    private static readonly byte[] CtrlBackslash = [0xFF, 0xF3, 0xFF, 0xFD, 0x06];
    private static readonly byte[] WillTimingMark = [0xFF, 0xFB, 0x06];

    private MailSinkHost Host => shared.Host;

    /// <summary>Sends a key's telnet bytes; the answer to its timing mark must come first, then the reply returned.</summary>
    private static async Task<string> PressAsync(RawSmtpClient client, byte[] key, string name)
    {
        await client.SendRawAsync(key, name);
        Assert.Equal(WillTimingMark, await client.ReadBytesAsync(3));
        return await client.ReadReplyAsync();
    }

    private async Task<RawSmtpClient> GreetedAsync()
    {
        var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        Assert.StartsWith("220 ", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("helo me"));
        return client;
    }

    [Fact]
    public async Task Ctrl_c_between_commands_gets_its_timing_mark_then_a_word_and_the_session_goes_on()
    {
        await using var client = await GreetedAsync();

        Assert.Equal("250 Interrupt (Ctrl-C) ignored: type QUIT to end the session", await PressAsync(client, CtrlC, "<Ctrl-C>"));

        Assert.Equal("250 Break (Ctrl-\\) ignored: type QUIT to end the session", await PressAsync(client, CtrlBackslash, "<Ctrl-\\>"));

        Assert.Equal("250 OK", await client.CommandAsync("noop"));
        Assert.StartsWith("221 ", await client.CommandAsync("quit"));
    }

    [Fact]
    public async Task The_word_after_ctrl_c_names_what_to_type_in_a_transaction_and_in_an_auth_exchange()
    {
        await using var client = await GreetedAsync();
        Assert.StartsWith("250 ", await client.CommandAsync("mail from: a@b.example"));
        Assert.Equal("250 Interrupt (Ctrl-C) ignored: type RSET to drop the message begun, or QUIT to end the session", await PressAsync(client, CtrlC, "<Ctrl-C>"));
        Assert.StartsWith("250 ", await client.CommandAsync("rset"));

        Assert.StartsWith("334 ", await client.CommandAsync("auth login"));
        Assert.Equal("250 Interrupt (Ctrl-C) ignored: type * to cancel the AUTH exchange", await PressAsync(client, CtrlC, "<Ctrl-C>"));
        Assert.Equal("501 Authentication cancelled", await client.CommandAsync("*"));
        Assert.Equal("250 OK", await client.CommandAsync("noop"));
    }

    [Fact]
    public async Task A_mark_split_over_two_writes_is_answered_once_it_is_whole()
    {
        await using var client = await GreetedAsync();
        await client.SendRawAsync([0xFF], "<IAC>");
        await client.SendRawAsync([0xF4], "<IP>");
        await client.SendRawAsync([0xFF], "<IAC>");
        await client.SendRawAsync([0xFD, 0x06], "<DO TIMING-MARK>");

        Assert.Equal(WillTimingMark, await client.ReadBytesAsync(3));
        Assert.Equal("250 Interrupt (Ctrl-C) ignored: type QUIT to end the session", await client.ReadReplyAsync());
        Assert.Equal("250 OK", await client.CommandAsync("noop"));
    }

    /// <summary>In telnet's character mode (<c>mode character</c>) each key goes out as it is typed, so commands land inside a line.</summary>
    [Fact]
    public async Task Inside_a_line_ctrl_c_drops_what_was_typed_before_it_and_erase_commands_edit_the_line()
    {
        await using var client = await GreetedAsync();

        await client.SendRawAsync([.. "mail fr"u8, .. CtrlC, .. "noop\r\n"u8], "mail fr<Ctrl-C>noop");
        Assert.Equal(WillTimingMark, await client.ReadBytesAsync(3));
        Assert.Equal("250 Interrupt (Ctrl-C) ignored: type QUIT to end the session", await client.ReadReplyAsync());
        Assert.Equal("250 OK", await client.ReadReplyAsync());

        // With a key's timing mark on the line, "erase character" takes the character before it (a UTF-8
        // one whole) and "erase line" the line so far.
        await client.SendRawAsync([.. "noop\u00e9"u8, 0xFF, 0xF7, 0xFF, 0xFD, 0x06, .. "\r\n"u8], "noopé<EC><DO TM>");
        Assert.Equal(WillTimingMark, await client.ReadBytesAsync(3));
        Assert.Equal("250 OK", await client.ReadReplyAsync());
        await client.SendRawAsync([.. "helo x"u8, 0xFF, 0xF8, .. "noop"u8, 0xFF, 0xFD, 0x06, .. "\r\n"u8], "helo x<EL>noop<DO TM>");
        Assert.Equal(WillTimingMark, await client.ReadBytesAsync(3));
        Assert.Equal("250 OK", await client.ReadReplyAsync());
    }

    /// <summary>
    /// Only a line that shows telnet's own signature (a timing mark) is edited: 0xFF otherwise stays and is
    /// refused as not UTF-8, as from a client sending Latin-1 ("ÿô" is 0xFF 0xF4), so that a sink reports
    /// such a client's bug instead of hiding it. Options telnet never offers unasked are never taken either.
    /// </summary>
    [Theory]
    [InlineData(new byte[] { (byte)'M', (byte)'A', (byte)'I', (byte)'L', (byte)' ', (byte)'F', (byte)'R', (byte)'O', (byte)'M', (byte)':', (byte)'<', (byte)'j', 0xFF, 0xF4, (byte)'r', (byte)'@', (byte)'x', (byte)'>' })]
    [InlineData(new byte[] { (byte)'n', (byte)'o', (byte)'o', (byte)'p', 0xFF, 0xF7 })]
    [InlineData(new byte[] { 0xFF, 0xFB, 0x18, (byte)'n', (byte)'o', (byte)'o', (byte)'p' })]
    [InlineData(new byte[] { (byte)'n', (byte)'o', (byte)'o', (byte)'p', (byte)' ', 0xFF, 0xFF })]
    public async Task Without_telnet_signature_0xFF_in_a_command_is_refused(byte[] line)
    {
        await using var client = await GreetedAsync();
        await client.SendRawAsync([.. line, .. "\r\n"u8], "<a line with 0xFF>");
        Assert.Matches("^500 Command (is not valid UTF-8|contains a control character)", await client.ReadReplyAsync());
        Assert.Equal("250 OK", await client.CommandAsync("noop"));
    }

    [Fact]
    public async Task Ctrl_z_and_ctrl_o_are_keys_too()
    {
        await using var client = await GreetedAsync();
        Assert.Equal("250 Suspend (Ctrl-Z) ignored: type QUIT to end the session", await PressAsync(client, [0xFF, 0xED, 0xFF, 0xFD, 0x06], "<Ctrl-Z>"));
        Assert.Equal("250 Abort output (Ctrl-O) ignored: type QUIT to end the session", await PressAsync(client, [0xFF, 0xF5, 0xFF, 0xFD, 0x06], "<Ctrl-O>"));
        Assert.StartsWith("221 ", await client.CommandAsync("quit"));
    }

    [Fact]
    public async Task Are_you_there_is_answered()
    {
        await using var client = await GreetedAsync();
        await client.SendRawAsync([0xFF, 0xF6], "<AYT>");
        Assert.Equal("250 Yes, mailsink.localhost is here", await client.ReadReplyAsync());
        Assert.Equal("250 OK", await client.CommandAsync("noop"));
    }

    [Fact]
    public async Task Ctrl_c_while_typing_a_message_is_answered_and_left_out_and_a_dot_typed_after_it_ends_the_message()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await GreetedAsync();
        Assert.StartsWith("250 ", await client.CommandAsync("mail from: a@b.example"));
        Assert.StartsWith("250 ", await client.CommandAsync($"rcpt to: x@{inbox}.localhost"));
        Assert.StartsWith("354 ", await client.CommandAsync("data"));

        // In line mode the terminal drops the half-typed line; telnet sends only its commands.
        await client.SendRawAsync([.. "Subject: typed\r\n\r\nfirst line\r\n"u8, .. CtrlC], "<headers, a line, Ctrl-C>");
        Assert.Equal(WillTimingMark, await client.ReadBytesAsync(3));
        Assert.Equal("354 Interrupt (Ctrl-C) cannot end a message: a line holding only a dot ends and stores it; to drop it, close the connection (in telnet: Ctrl-], then quit)", await client.ReadReplyAsync());

        // A second key: its mark answered, and no second word on it.
        await client.SendRawAsync([.. CtrlBackslash, .. ".\r\n"u8], "<Ctrl-\\>.");
        Assert.Equal(WillTimingMark, await client.ReadBytesAsync(3));
        Assert.StartsWith("250 OK message stored as ", await client.ReadReplyAsync());

        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal("Subject: typed\r\n\r\nfirst line\r\n", Encoding.UTF8.GetString(await Host.RawAsync(message.GetProperty("id").GetString()!)));
    }

    /// <summary>A program that declares 8-bit text is no person at telnet: even Ctrl-C's bytes are its message's.</summary>
    [Fact]
    public async Task In_a_message_declared_8bitmime_even_ctrl_c_bytes_are_kept_and_nothing_is_answered()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await GreetedAsync();
        Assert.StartsWith("250 ", await client.CommandAsync("MAIL FROM:<a@b.example> BODY=8BITMIME"));
        Assert.StartsWith("250 ", await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>"));
        Assert.StartsWith("354 ", await client.CommandAsync("DATA"));
        byte[] body = [.. "Subject: 8bit\r\n\r\n"u8, .. CtrlC, .. "\r\n"u8];
        await client.SendRawAsync([.. body, .. ".\r\n"u8], "<Ctrl-C's bytes in an 8BITMIME body>");
        Assert.StartsWith("250 OK message stored as ", await client.ReadReplyAsync());

        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal(body, await Host.RawAsync(message.GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task In_a_message_0xFF_that_is_not_ctrl_c_is_kept_byte_for_byte()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await GreetedAsync();
        Assert.StartsWith("250 ", await client.CommandAsync("mail from: a@b.example"));
        Assert.StartsWith("250 ", await client.CommandAsync($"rcpt to: x@{inbox}.localhost"));
        Assert.StartsWith("354 ", await client.CommandAsync("data"));
        byte[] body = [.. "Subject: bytes\r\n\r\n"u8, 0xFF, 0xF4, 0xFF, 0xFD, .. "\r\n"u8, 0xFF, .. "\r\n"u8, .. "x"u8, .. CtrlC, .. "\r\n"u8];
        await client.SendRawAsync([.. body, .. ".\r\n"u8], "<a body with 0xFF>");
        Assert.StartsWith("250 OK message stored as ", await client.ReadReplyAsync());

        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal(body, await Host.RawAsync(message.GetProperty("id").GetString()!));
    }
}
