using System.Text;
using MailSink.Tests.Support;

namespace MailSink.Tests.Smtp;

/// <summary>
/// RFC 5321 4.5.3.1.5: a reply line is at most 512 octets with its code and CRLF. The 250 after DATA
/// named every inbox copy (about 55 bytes each), and replies echo what the client sent; a client that
/// enforces the limit (Python's smtplib) failed a session whose message had been stored, and sent it again.
/// </summary>
public sealed class ReplyLineLengthTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private const int MaxLineBytes = 510; // without CRLF

    private MailSinkHost Host => shared.Host;

    private static void AssertLinesFit(string reply)
    {
        foreach (var line in reply.Split('\n'))
            Assert.True(Encoding.UTF8.GetByteCount(line) <= MaxLineBytes, $"a reply line of {Encoding.UTF8.GetByteCount(line)} bytes: {line[..Math.Min(80, line.Length)]}...");
    }

    [Fact]
    public async Task The_250_after_data_for_150_inboxes_fits_one_line_and_names_the_first_copy()
    {
        var prefix = "r" + Guid.NewGuid().ToString("N")[..6];
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        await client.CommandAsync("MAIL FROM:<a@example.com>");
        for (var i = 0; i < 150; i++)
            Assert.StartsWith("250 ", await client.CommandAsync($"RCPT TO:<x@{prefix}{i}.localhost>"));
        await client.CommandAsync("DATA");
        var reply = await client.CommandAsync("Subject: fan-out\r\n\r\nbody\r\n.");

        AssertLinesFit(reply);
        Assert.Matches(@"^250 OK message stored as [0-9a-f-]{36} in inbox " + prefix + @"0 and as 149 more copies in other inboxes \(the API lists them\)$", reply);
        var first = RawSmtpClient.StoredId(reply);
        Assert.Equal(first, (await Host.ListAsync(prefix + "0")).Single().GetProperty("id").GetString());
        Assert.Single(await Host.ListAsync(prefix + "149"));
        Assert.Equal("250 OK", await client.CommandAsync("NOOP")); // the session goes on
    }

    [Fact]
    public async Task A_few_inboxes_are_still_each_named_in_the_250()
    {
        var prefix = "r" + Guid.NewGuid().ToString("N")[..6];
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        await client.CommandAsync("MAIL FROM:<a@example.com>");
        await client.CommandAsync($"RCPT TO:<x@{prefix}a.localhost>, <x@{prefix}b.localhost>");
        await client.CommandAsync("DATA");
        var reply = await client.CommandAsync("Subject: two\r\n\r\nbody\r\n.");

        Assert.Matches($"^250 OK message stored as [0-9a-f-]{{36}} in inbox {prefix}a; [0-9a-f-]{{36}} in inbox {prefix}b$", reply);
    }

    [Fact]
    public async Task Echoes_of_long_client_input_are_cut_to_the_limit()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        var ehlo = await client.CommandAsync("EHLO " + new string('h', 3000));
        AssertLinesFit(ehlo);
        Assert.StartsWith("250-", ehlo);

        await client.CommandAsync("MAIL FROM:<a@example.com>");
        // A comma list of 40 recipients, each echoed in the one combined reply, with multi-byte characters.
        var list = string.Join(", ", Enumerable.Range(0, 40).Select(i => $"<ünïcödé{i}@inbox.localhost>"));
        var rcpt = await client.CommandAsync($"RCPT TO:{list}");
        AssertLinesFit(rcpt);
        Assert.StartsWith("250 recipients ünïcödé0@inbox.localhost, ", rcpt);
        Assert.EndsWith("...", rcpt);
        Assert.Equal("250 OK", await client.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task Python_smtplib_sends_to_150_inboxes_without_a_line_too_long_error()
    {
        var prefix = "p" + Guid.NewGuid().ToString("N")[..6];
        var script = $$"""
            import smtplib
            rcpts = ["x@{{prefix}}%d.localhost" % i for i in range(150)]
            with smtplib.SMTP("127.0.0.1", {{Host.SmtpPort}}, timeout=30) as s:
                refused = s.sendmail("a@example.com", rcpts, "Subject: smtplib fan-out\r\n\r\nbody\r\n")
                print("refused", len(refused))
            """;
        var result = await ExternalTool.RunAsync(output, "python3", ["-c", script]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("refused 0", result.StdOut, StringComparison.Ordinal);
        Assert.Single(await Host.ListAsync(prefix + "0"));
        Assert.Single(await Host.ListAsync(prefix + "149"));
    }
}
