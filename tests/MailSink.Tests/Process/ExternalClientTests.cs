using System.Text.Json;
using MailSink.Tests.Support;

// Not "Process": a namespace of that name would hide System.Diagnostics.Process from all of MailSink.Tests.
namespace MailSink.Tests.Processes;

/// <summary>
/// Real client programs against MailSink in process: swaks (plain, STARTTLS with each AUTH mechanism) and
/// openssl s_client (STARTTLS with the hand-typed session and its bare LF line ends, implicit TLS pinned
/// to TLS 1.2 and to TLS 1.3). Each message is read back through the HTTP API.
/// </summary>
public sealed class ExternalClientTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    [Fact]
    public async Task Swaks_sends_a_message_in_plain_text()
    {
        var inbox = MailSinkHost.NewInbox();

        var swaks = await ExternalTool.RunAsync(output, "swaks",
        [
            "--server", "127.0.0.1", "--port", $"{Host.SmtpPort}",
            "--helo", "swaks.example", "--from", "sender@example.com", "--to", $"swaks@{inbox}.localhost",
            "--header", "Subject: Sent by swaks", "--body", "Hello from swaks.",
        ]);

        Assert.Equal(0, swaks.ExitCode);
        Assert.Matches($"<-  250 OK message stored as [0-9a-f-]{{36}} in inbox {inbox}\n", swaks.StdOut);
        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal("Sent by swaks", message.GetProperty("subject").GetString());
        Assert.Equal("Hello from swaks.", message.GetProperty("text").GetProperty("body").GetString()!.Trim());
        var metadata = message.GetProperty("metadata");
        Assert.Equal("swaks.example", metadata.GetProperty("ehlo").GetString());
        Assert.Equal("sender@example.com", metadata.GetProperty("mailFrom").GetString());
        Assert.Equal(JsonValueKind.Null, metadata.GetProperty("tls").ValueKind);
        Assert.Equal(JsonValueKind.Null, metadata.GetProperty("authenticatedUser").ValueKind);
    }

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    [InlineData("CRAM-MD5")]
    public async Task Swaks_sends_after_STARTTLS_and_AUTH(string mechanism)
    {
        var inbox = MailSinkHost.NewInbox();
        var user = $"user-{mechanism.ToLowerInvariant()}";

        var swaks = await ExternalTool.RunAsync(output, "swaks",
        [
            "--server", "127.0.0.1", "--port", $"{Host.SmtpPort}", "--tls",
            "--auth", mechanism, "--auth-user", user, "--auth-password", "any password",
            "--helo", "swaks.example", "--from", "sender@example.com", "--to", $"swaks@{inbox}.localhost",
            "--header", $"Subject: {mechanism} over TLS", "--body", "Authenticated.",
        ]);

        Assert.Equal(0, swaks.ExitCode);
        Assert.Contains("=== TLS started", swaks.StdOut, StringComparison.Ordinal);
        Assert.Contains($" ~> AUTH {mechanism}", swaks.StdOut, StringComparison.Ordinal);
        Assert.Contains("<~  235 ", swaks.StdOut, StringComparison.Ordinal);
        Assert.Matches($"<~  250 OK message stored as [0-9a-f-]{{36}} in inbox {inbox}\n", swaks.StdOut);
        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal($"{mechanism} over TLS", message.GetProperty("subject").GetString());
        var metadata = message.GetProperty("metadata");
        Assert.Equal(user, metadata.GetProperty("authenticatedUser").GetString());
        Assert.Matches("^Tls1[23]$", metadata.GetProperty("tls").GetString());
    }

    [Fact]
    public async Task Openssl_starttls_with_the_hand_typed_session_and_bare_LF_line_ends_stores_the_message()
    {
        var inbox = MailSinkHost.NewInbox();
        // What a person types into openssl s_client, which sends each line with a bare LF.
        var typed = $"""
            ehlo mailosaur.net
            mail from: your@email.com
            rcpt to: test@{inbox}.localhost
            data
            Subject: This is a test

            This is a test email to check SMTP connectivity.
            .
            quit

            """.ReplaceLineEndings("\n");

        var openssl = await ExternalTool.RunAsync(output, "openssl",
            ["s_client", "-starttls", "smtp", "-connect", $"127.0.0.1:{Host.SmtpPort}", "-quiet"], typed);

        Assert.Equal(0, openssl.ExitCode);
        AssertRepliesInOrder(openssl.StdOut,
            "250-mailsink.localhost Hello mailosaur.net [127.0.0.1], pleased to meet you",
            "250 sender your@email.com OK",
            $"250 recipient test@{inbox}.localhost OK",
            "354 ",
            "250 OK message stored as ",
            "221 mailsink.localhost closing connection, goodbye");
        Assert.Matches($"250 OK message stored as [0-9a-f-]{{36}} in inbox {inbox}\r?\n", openssl.StdOut);

        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal("This is a test", message.GetProperty("subject").GetString());
        Assert.Equal("mailosaur.net", message.GetProperty("metadata").GetProperty("ehlo").GetString());
        Assert.Equal("your@email.com", message.GetProperty("metadata").GetProperty("mailFrom").GetString());
        Assert.Matches("^Tls1[23]$", message.GetProperty("metadata").GetProperty("tls").GetString());
        Assert.Equal(
            "Subject: This is a test\r\n\r\nThis is a test email to check SMTP connectivity.\r\n"u8.ToArray(),
            await Host.RawAsync(message.GetProperty("id").GetString()!));
    }

    [Theory]
    [InlineData("-tls1_2", "TLSv1.2", "Tls12")]
    [InlineData("-tls1_3", "TLSv1.3", "Tls13")]
    public async Task Openssl_on_the_implicit_TLS_port_works_with_each_TLS_version(string option, string opensslName, string storedName)
    {
        var inbox = MailSinkHost.NewInbox();
        var typed = $"""
            EHLO openssl.example
            MAIL FROM:<sender@example.com>
            RCPT TO:<tls@{inbox}.localhost>
            DATA
            Subject: implicit {opensslName}

            Sent over {opensslName}.
            .
            QUIT

            """.ReplaceLineEndings("\n");

        // -brief prints the negotiated protocol on stderr; -quiet keeps QUIT and RCPT from being read as s_client commands.
        var openssl = await ExternalTool.RunAsync(output, "openssl",
            ["s_client", "-connect", $"127.0.0.1:{Host.ImplicitTlsPort}", option, "-quiet", "-brief"], typed);

        Assert.Equal(0, openssl.ExitCode);
        Assert.Contains($"Protocol version: {opensslName}", openssl.StdErr, StringComparison.Ordinal);
        AssertRepliesInOrder(openssl.StdOut,
            "220 mailsink.localhost ESMTP MailSink ready",
            "250-mailsink.localhost Hello openssl.example [127.0.0.1], pleased to meet you",
            "250 sender sender@example.com OK",
            $"250 recipient tls@{inbox}.localhost OK",
            "354 ",
            "250 OK message stored as ",
            "221 mailsink.localhost closing connection, goodbye");

        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal($"implicit {opensslName}", message.GetProperty("subject").GetString());
        Assert.Equal(storedName, message.GetProperty("metadata").GetProperty("tls").GetString());
    }

    /// <summary>Each expected reply starts a line of the output, after the one before it.</summary>
    private static void AssertRepliesInOrder(string transcript, params string[] replies)
    {
        var lines = transcript.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var at = 0;
        foreach (var reply in replies)
        {
            var found = lines.FindIndex(at, l => l.StartsWith(reply, StringComparison.Ordinal));
            Assert.True(found >= 0, $"no reply starting with '{reply}' after line {at} of:\n{transcript}");
            at = found + 1;
        }
    }
}
