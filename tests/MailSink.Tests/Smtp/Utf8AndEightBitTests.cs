using System.Text;
using MailKit.Security;
using MailSink.Tests.Support;
using MimeKit;

namespace MailSink.Tests.Smtp;

/// <summary>SMTPUTF8 envelopes keep every character; 8-bit bodies are stored byte for byte.</summary>
public sealed class Utf8AndEightBitTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    [Fact]
    public async Task A_recipient_domain_with_bidi_controls_gets_501_without_echoing_them_and_the_session_goes_on()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.PlayAsync("""
            S: 220 *
            C: EHLO me
            S: 250-*
            S: *
            C: MAIL FROM:<a@example.com> SMTPUTF8
            S: 250 sender a@example.com OK
            C: RCPT TO:<x@elppa{RLO}.localhost>
            S: 501 The domain of 'x@elppa?.localhost' is not valid: it holds U+202E, an invisible character that changes how text reads (shown as '?').
            C: NOOP
            S: 250 OK
            """.Replace("{RLO}", "\u202e", StringComparison.Ordinal)); // RIGHT-TO-LEFT OVERRIDE
    }

    [Fact]
    public async Task Utf8_sender_and_recipient_keep_every_character_local_part_and_domain()
    {
        var inbox = "bücher" + Guid.NewGuid().ToString("N")[..6];
        var ascii = new System.Globalization.IdnMapping().GetAscii(inbox);
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.PlayAsync($"""
            S: 220 *
            C: EHLO me
            S: 250-*
            S: *
            C: MAIL FROM:<josé@bücher.de> SMTPUTF8 BODY=8BITMIME
            S: 250 sender josé@bücher.de OK
            C: RCPT TO:<tëst@{inbox}.localhost>
            S: 250 recipient tëst@{inbox}.localhost OK
            C: DATA
            S: 354 *
            C: From: José <josé@bücher.de>
            C: To: tëst@{inbox}.localhost
            C: Subject: Grüße aus München
            C:
            C: Schöne Grüße.
            C: .
            S: 250 OK message stored as * in inbox {ascii}
            """);

        // The inbox is named by the ASCII form of the label; the API takes either spelling.
        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal(message.GetProperty("id").GetString(), (await Host.ListAsync(ascii)).Single().GetProperty("id").GetString());
        Assert.Equal(ascii, message.GetProperty("server").GetString());
        var metadata = message.GetProperty("metadata");
        Assert.Equal("josé@bücher.de", metadata.GetProperty("mailFrom").GetString());
        Assert.Equal($"tëst@{inbox}.localhost", metadata.GetProperty("rcptTo")[0].GetProperty("email").GetString());
        Assert.Equal("Grüße aus München", message.GetProperty("subject").GetString());
        Assert.Equal("josé@bücher.de", message.GetProperty("from")[0].GetProperty("email").GetString());
        Assert.Equal("José", message.GetProperty("from")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Mailkit_sends_utf8_addresses_with_smtputf8()
    {
        var inbox = MailSinkHost.NewInbox();
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Zoë", "zoë@exämple.de"));
        message.To.Add(new MailboxAddress("", $"ünïcode@{inbox}.localhost"));
        message.Subject = "ñ";
        message.Body = new TextPart("plain") { Text = "ü" };
        using (var client = MailKitClients.Create(output))
        {
            await client.ConnectAsync("127.0.0.1", Host.SmtpPort, SecureSocketOptions.None);
            Assert.True(client.Capabilities.HasFlag(MailKit.Net.Smtp.SmtpCapabilities.UTF8));
            await client.SendAsync(message);
            await client.DisconnectAsync(true);
        }

        var stored = await Host.SingleMessageAsync(inbox);
        Assert.Equal("zoë@exämple.de", stored.GetProperty("metadata").GetProperty("mailFrom").GetString());
        Assert.Equal($"ünïcode@{inbox}.localhost", stored.GetProperty("metadata").GetProperty("rcptTo")[0].GetProperty("email").GetString());
    }

    /// <summary>
    /// Python's smtplib adds SMTPUTF8 and BODY=8BITMIME to MAIL itself when an address needs them, so a caller
    /// who names them in mail_options as well sends each twice: that used to be a 501.
    /// </summary>
    [Fact]
    public async Task Python_smtplib_sends_utf8_addresses_with_smtputf8_named_by_the_caller_too()
    {
        var inbox = MailSinkHost.NewInbox();
        var script = $$"""
            from email.message import EmailMessage
            import smtplib
            m = EmailMessage()
            m["From"] = "jörg@exämple.de"
            m["To"] = "ünïcode@{{inbox}}.localhost"
            m["Subject"] = "smtplib and SMTPUTF8"
            m.set_content("ü")
            with smtplib.SMTP("127.0.0.1", {{Host.SmtpPort}}, timeout=30) as s:
                s.set_debuglevel(1)
                s.send_message(m, mail_options=["SMTPUTF8"])
                print("sent")
            """;
        var result = await ExternalTool.RunAsync(output, "python3", ["-c", script]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("SMTPUTF8 SMTPUTF8", result.StdErr, StringComparison.Ordinal); // what makes this test worth having
        var stored = await Host.SingleMessageAsync(inbox);
        Assert.Equal("j\u00f6rg@ex\u00e4mple.de", stored.GetProperty("metadata").GetProperty("mailFrom").GetString());
        Assert.Equal($"\u00fcn\u00efcode@{inbox}.localhost", stored.GetProperty("metadata").GetProperty("rcptTo")[0].GetProperty("email").GetString());
    }

    [Fact]
    public async Task An_8bit_body_is_stored_byte_for_byte_with_its_final_crlf()
    {
        var inbox = MailSinkHost.NewInbox();
        var body = new List<byte>();
        body.AddRange("Subject: bytes\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"u8.ToArray());
        body.AddRange(new byte[] { 0xE9, 0xE8, 0xFF, 0x80, 0x20, 0xC3, 0xA9, 0x09, 0x0D, 0x0A }); // Latin-1, stray UTF-8, a tab
        body.AddRange("..a stuffed dot line\r\n"u8.ToArray());
        body.AddRange("a line with a lone \r carriage return\r\n"u8.ToArray());

        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        await client.CommandAsync("MAIL FROM:<a@b.example> BODY=8BITMIME");
        await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        await client.SendRawAsync([.. body, .. ".\r\n"u8.ToArray()]);
        var id = RawSmtpClient.StoredId(await client.ReadReplyAsync());

        var expected = body.ToArray();
        expected = [.. expected.Take(expected.Length - "..a stuffed dot line\r\na line with a lone \r carriage return\r\n".Length),
            .. ".a stuffed dot line\r\na line with a lone \r carriage return\r\n"u8.ToArray()];
        Assert.Equal(expected, await Host.RawAsync(id));
    }

    [Fact]
    public async Task Bare_lf_bodies_are_stored_with_crlf_line_ends()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("ehlo me", "\n");
        await client.CommandAsync("mail from: a@b.example", "\n");
        await client.CommandAsync($"rcpt to: x@{inbox}.localhost", "\n");
        await client.CommandAsync("data", "\n");
        await client.SendRawAsync(Encoding.UTF8.GetBytes("Subject: lf\n\nline one\nline two\n.\n"));
        var id = RawSmtpClient.StoredId(await client.ReadReplyAsync());

        Assert.Equal("Subject: lf\r\n\r\nline one\r\nline two\r\n"u8.ToArray(), await Host.RawAsync(id));
    }
}
