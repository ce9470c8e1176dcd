using MailSink.Tests.Support;

namespace MailSink.Tests.Smtp;

/// <summary>
/// The sessions a person types into <c>telnet host 25</c> or <c>openssl s_client</c>, literally, with the
/// exact replies expected, and the stored result read back through the HTTP API.
/// </summary>
public sealed class HandTypedSessionTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    private static string TelnetSession(string inbox) => $"""
        S: 220 mailsink.localhost ESMTP MailSink ready*
        C: ehlo mailosaur.net
        S: 250-mailsink.localhost Hello mailosaur.net [127.0.0.1], pleased to meet you
        S: 250-PIPELINING
        S: 250-SIZE 26214400
        S: 250-STARTTLS
        S: 250-AUTH LOGIN PLAIN CRAM-MD5
        S: 250-SMTPUTF8
        S: 250-8BITMIME
        S: 250-CHUNKING
        S: 250 BINARYMIME
        C: mail from: your@email.com
        S: 250 sender your@email.com OK
        C: rcpt to: test@{inbox}.localhost
        S: 250 recipient test@{inbox}.localhost OK
        C: data
        S: 354 Start mail input; end with <CRLF>.<CRLF>*
        C: Subject: This is a test
        C:
        C: This is a test email to check SMTP connectivity.
        C: .
        S: 250 OK message stored as * in inbox {inbox}
        C: quit
        S: 221 mailsink.localhost closing connection, goodbye
        """;

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    public async Task The_seed_telnet_session_works_line_for_line(string eol)
    {
        var inbox = MailSinkHost.NewInbox();
        await using (var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output))
        {
            await client.PlayAsync(TelnetSession(inbox), eol);
            Assert.True(await client.IsClosedByServerAsync());
        }

        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal("This is a test", message.GetProperty("subject").GetString());
        Assert.Equal("This is a test email to check SMTP connectivity.", message.GetProperty("text").GetProperty("body").GetString()!.TrimEnd());
        Assert.Equal("mailosaur.net", message.GetProperty("metadata").GetProperty("ehlo").GetString());
        Assert.Equal("your@email.com", message.GetProperty("metadata").GetProperty("mailFrom").GetString());
        Assert.Equal($"test@{inbox}.localhost", message.GetProperty("metadata").GetProperty("rcptTo")[0].GetProperty("email").GetString());

        var raw = await Host.RawAsync(message.GetProperty("id").GetString()!);
        Assert.Equal("Subject: This is a test\r\n\r\nThis is a test email to check SMTP connectivity.\r\n"u8.ToArray(), raw);
    }

    [Fact]
    public async Task Upper_case_commands_with_angle_brackets_work_too()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.PlayAsync($"""
            S: 220 *
            C: EHLO client.example
            S: 250-mailsink.localhost Hello client.example [127.0.0.1], pleased to meet you
            S: *
            C: MAIL FROM:<your@email.com>
            S: 250 sender your@email.com OK
            C: RCPT TO:<test@{inbox}.localhost>
            S: 250 recipient test@{inbox}.localhost OK
            C: DATA
            S: 354 *
            C: Subject: Upper
            C:
            C: Body.
            C: .
            S: 250 OK message stored as * in inbox {inbox}
            C: QUIT
            S: 221 *
            """);

        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal("Upper", message.GetProperty("subject").GetString());
    }

    [Fact]
    public async Task A_comma_separated_rcpt_line_accepts_every_recipient()
    {
        var first = MailSinkHost.NewInbox();
        var second = MailSinkHost.NewInbox();
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.PlayAsync($"""
            S: 220 *
            C: helo me
            S: 250 mailsink.localhost Hello me [127.0.0.1], pleased to meet you
            C: mail from: a@example.com
            S: 250 sender a@example.com OK
            C: rcpt to: a@{first}.localhost, b@{second}.localhost
            S: 250 recipients a@{first}.localhost, b@{second}.localhost OK
            C: data
            S: 354 *
            C: Subject: two inboxes
            C:
            C: hi
            C: .
            S: 250 OK message stored as * in inbox {first}; * in inbox {second}
            """);

        var inFirst = await Host.SingleMessageAsync(first);
        var inSecond = await Host.SingleMessageAsync(second);
        Assert.NotEqual(inFirst.GetProperty("id").GetString(), inSecond.GetProperty("id").GetString());
        Assert.Equal(first, inFirst.GetProperty("server").GetString());
        Assert.Equal(second, inSecond.GetProperty("server").GetString());
    }

    [Fact]
    public async Task Noop_rset_helo_vrfy_help_and_quit_get_sensible_replies()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.PlayAsync("""
            S: 220 *
            C: noop
            S: 250 OK
            C: helo me
            S: 250 mailsink.localhost Hello me [127.0.0.1], pleased to meet you
            C: vrfy someone
            S: 252 Cannot VRFY user, but will accept message and attempt delivery
            C: vrfy
            S: 501 Syntax: VRFY address
            C: help
            S: 214-MailSink *
            S: 214-*
            S: 214-Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH
            S: 214-*
            S: 214 *
            C: mail from: a@b.example
            S: 250 sender a@b.example OK
            C: rset
            S: 250 OK, transaction reset
            C: rcpt to: x@y.localhost
            S: 503 Send MAIL FROM first
            C: quit
            S: 221 mailsink.localhost closing connection, goodbye
            """);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Unknown_commands_get_500_and_the_session_goes_on_past_many_errors()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        for (var i = 0; i < 8; i++)
            Assert.StartsWith("500 Command not recognized: frob;", await client.CommandAsync($"frob {i}")); // as typed
        Assert.StartsWith("500 Empty command", await client.CommandAsync(""));
        Assert.StartsWith("502 ETRN is not implemented", await client.CommandAsync("ETRN example.com"));
        Assert.StartsWith("502 EXPN", await client.CommandAsync("EXPN staff"));

        await client.PlayAsync($"""
            C: ehlo me
            S: 250-*
            S: *
            C: mail from:<a@b.example>
            S: 250 sender a@b.example OK
            C: rcpt to:<c@{inbox}.localhost>
            S: 250 recipient c@{inbox}.localhost OK
            C: data
            S: 354 *
            C: Subject: after errors
            C:
            C: .
            S: 250 OK message stored as *
            """);
        Assert.Single(await Host.ListAsync(inbox));
    }

    [Fact]
    public async Task Commands_out_of_sequence_get_503()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.PlayAsync("""
            S: 220 *
            C: mail from: a@b.example
            S: 503 Send EHLO or HELO first (for example: EHLO my-laptop)
            C: rcpt to: a@b.localhost
            S: 503 Send EHLO or HELO first (for example: EHLO my-laptop)
            C: data
            S: 503 Send EHLO or HELO first (for example: EHLO my-laptop)
            C: ehlo me
            S: 250-*
            S: *
            C: data
            S: 503 Send MAIL FROM and RCPT TO before DATA
            C: mail from: a@b.example
            S: 250 sender a@b.example OK
            C: mail from: c@d.example
            S: 503 Sender already given; send RSET to start a new message
            C: data
            S: 503 Send RCPT TO before DATA: no recipient yet
            C: auth plain AGEAYg==
            S: 503 AUTH is not allowed inside a mail transaction; send RSET first
            C: starttls
            S: 503 STARTTLS is not allowed inside a mail transaction; send RSET first
            """);
    }

    [Fact]
    public async Task Rcpt_to_postmaster_is_accepted_and_lands_in_the_catch_all_inbox()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        var subject = "postmaster " + Guid.NewGuid().ToString("N");
        await client.PlayAsync($"""
            S: 220 *
            C: EHLO me
            S: 250-*
            S: *
            C: MAIL FROM:<>
            S: 250 sender <> OK
            C: RCPT TO:<Postmaster>
            S: 250 recipient Postmaster OK
            C: DATA
            S: 354 *
            C: Subject: {subject}
            C:
            C: .
            S: 250 OK message stored as * in inbox catchall
            """);

        var items = await Host.ListAsync("catchall");
        Assert.Contains(items, i => i.GetProperty("subject").GetString() == subject);
    }

    [Theory]
    [InlineData("mail from: a@", "501 The domain of 'a@' is not valid.")]
    [InlineData("mail from: @b.example", "501 '@b.example' has nothing before the '@'.")]
    [InlineData("mail from: <a@b.example", "501 Missing '>' after the address. Syntax: MAIL FROM:<address>")]
    [InlineData("mail frm: a@b.example", "501 Syntax: MAIL FROM:<address>")]
    [InlineData("mail from: a@b.example SIZE=abc", "501 SIZE must be a number of bytes, e.g. SIZE=1024")]
    [InlineData("mail from: a@b.example FOO=1", "555 MAIL parameter FOO is not supported")]
    [InlineData("mail from: a@b.example SIZE=1 SIZE=2", "501 Parameter SIZE is given twice, as '1' and as '2'. Syntax: MAIL FROM:<address>")]
    [InlineData("mail from: a b@c.example", "501 'a' has no domain: write it as name@domain, e.g. test@inbox.localhost. Syntax: MAIL FROM:<address>")]
    [InlineData("mail from: a@b.example BODY=8BIT", "501 BODY must be 7BIT, 8BITMIME or BINARYMIME")]
    public async Task Malformed_mail_commands_get_a_clear_error_and_the_session_goes_on(string command, string reply)
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("ehlo me");
        Assert.Equal(reply, await client.CommandAsync(command));
        Assert.Equal("250 sender ok@b.example OK", await client.CommandAsync("mail from: ok@b.example"));
    }

    [Fact]
    public async Task Malformed_recipients_get_501_and_the_rest_of_the_transaction_survives()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.PlayAsync($"""
            S: 220 *
            C: ehlo me
            S: 250-*
            S: *
            C: mail from: a@b.example
            S: 250 *
            C: rcpt to: bob
            S: 501 'bob' has no domain: write it as name@domain, e.g. test@inbox.localhost.
            C: rcpt to: <>
            S: 501 *
            C: rcpt to: ok@{inbox}.localhost NOTIFY=NEVER
            S: 250 recipient ok@{inbox}.localhost OK
            C: rcpt to: ok2@{inbox}.localhost XYZ=1
            S: 555 RCPT parameter XYZ is not supported
            C: data
            S: 354 *
            C: .
            S: 250 OK message stored as *
            """);
    }
}
