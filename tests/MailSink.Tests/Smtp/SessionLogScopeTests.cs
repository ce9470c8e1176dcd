using System.Text.RegularExpressions;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailSink.Tests.Smtp;

/// <summary>
/// Issue 15: every log line written during an SMTP session carries a scope naming that session, and only
/// that session, including lines written below the SMTP layer (the MIME parser's), so that one session's
/// story can be picked out of a busy log by formatters that show scopes.
/// </summary>
public sealed partial class SessionLogScopeTests
{
    [Fact]
    public async Task Lines_of_two_interleaved_sessions_each_carry_their_own_session_scope()
    {
        var capture = new CapturingLoggerProvider();
        await using var host = await MailSinkHost.StartAsync("--Logging:LogLevel:Default=Debug", "--Logging:Console:LogLevel:Default=None");
        host.Services.GetRequiredService<ILoggerFactory>().AddProvider(capture);
        var inbox = MailSinkHost.NewInbox();

        await using var first = await RawSmtpClient.ConnectAsync(host.SmtpPort);
        await using var second = await RawSmtpClient.ConnectAsync(host.SmtpPort);
        foreach (var (client, user) in new[] { (first, "first-user"), (second, "second-user") })
        {
            await client.ReadReplyAsync();
            await client.CommandAsync("EHLO scopes.example");
            Assert.StartsWith("235", await client.CommandAsync($"AUTH PLAIN {Convert.ToBase64String("\0"u8.ToArray().Concat(System.Text.Encoding.ASCII.GetBytes($"{user}\0pw"))
                .ToArray())}"), StringComparison.Ordinal);
        }

        // A message without a header section: the parser below the SMTP layer logs it during the session.
        foreach (var client in new[] { second, first })
        {
            await client.CommandAsync("MAIL FROM:<a@b.example>");
            await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
            await client.CommandAsync("DATA");
            Assert.StartsWith("250", await client.CommandAsync("no header section here\r\n."), StringComparison.Ordinal);
        }

        var entries = capture.Entries;
        foreach (var user in new[] { "first-user", "second-user" })
        {
            // The adapter's own line names the session; the same id must be its scope.
            var authenticated = Assert.Single(entries, e => e.Contains("authenticated as", StringComparison.Ordinal) && e.Contains(user, StringComparison.Ordinal));
            var id = SessionId().Match(authenticated).Groups[1].Value;
            Assert.Contains($"| scope SMTP session {id}", authenticated, StringComparison.Ordinal);
            Assert.Single(Regex.Matches(authenticated, @"\| scope SMTP session "));
        }

        var ids = entries.Select(e => ScopeId().Match(e)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Equal(2, ids.Count);
        var parseLines = entries.Where(e => e.Contains("MailSink.Storage", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(parseLines);
        Assert.All(ids, id => Assert.Contains(parseLines, e => e.Contains($"scope SMTP session {id}", StringComparison.Ordinal)));
    }

    [GeneratedRegex(@"Session=(\w+)")]
    private static partial Regex SessionId();

    [GeneratedRegex(@"\| scope SMTP session (\w+)")]
    private static partial Regex ScopeId();
}
