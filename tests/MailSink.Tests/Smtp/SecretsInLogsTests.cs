using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailSink.Tests.Smtp;

/// <summary>
/// Issue 5, item 5: SMTP credentials, the API key and message bodies never reach the logs, at any level.
/// Every log entry of an in-process MailSink at Trace (formatted text, structured values, scopes, exceptions)
/// is captured while clients authenticate with PLAIN, LOGIN and CRAM-MD5 (rightly and wrongly), send
/// messages (well-formed and broken), and call the API with the right key, a wrong one and malformed ones.
/// </summary>
public sealed class SecretsInLogsTests(ITestOutputHelper output)
{
    private const string User = "logcheck";

    [Fact]
    public async Task Passwords_api_keys_and_bodies_never_appear_in_the_log()
    {
        var password = "Pw-" + Guid.NewGuid().ToString("N");
        var wrongPassword = "Wrong-" + Guid.NewGuid().ToString("N");
        var apiKey = "Key-" + Guid.NewGuid().ToString("N");
        var bodyMarker = "BODY-" + Guid.NewGuid().ToString("N");
        var capture = new CapturingLoggerProvider();
        await using var host = await MailSinkHost.StartAsync(
            "--Logging:LogLevel:Default=Trace", "--Logging:Console:LogLevel:Default=None",
            "--MailSink:Smtp:Auth:Mode=Users", $"--MailSink:Smtp:Auth:Users:0:Name={User}", $"--MailSink:Smtp:Auth:Users:0:Password={password}",
            $"--MailSink:Api:ApiKey={apiKey}");
        host.Services.GetRequiredService<ILoggerFactory>().AddProvider(capture);
        var inbox = MailSinkHost.NewInbox();

        // AUTH PLAIN with an initial response, LOGIN and CRAM-MD5 by challenge, each right and wrong.
        await using (var client = await RawSmtpClient.ConnectAsync(host.SmtpPort))
        {
            await client.ReadReplyAsync();
            await client.CommandAsync("EHLO logs.example");
            Assert.StartsWith("535", await client.CommandAsync("AUTH PLAIN " + Base64($"\0{User}\0{wrongPassword}")), StringComparison.Ordinal);
            Assert.StartsWith("334", await client.CommandAsync("AUTH LOGIN"), StringComparison.Ordinal);
            Assert.StartsWith("334", await client.CommandAsync(Base64(User)), StringComparison.Ordinal);
            Assert.StartsWith("535", await client.CommandAsync(Base64(wrongPassword)), StringComparison.Ordinal);
            var challenge = await client.CommandAsync("AUTH CRAM-MD5");
            var digest = Convert.ToHexStringLower(HMACMD5.HashData(Encoding.UTF8.GetBytes(password), Convert.FromBase64String(challenge[4..])));
            Assert.StartsWith("235", await client.CommandAsync(Base64($"{User} {digest}")), StringComparison.Ordinal);
            Assert.StartsWith("221", await client.CommandAsync("QUIT"), StringComparison.Ordinal);
        }

        await using (var client = await RawSmtpClient.ConnectAsync(host.SmtpPort))
        {
            await client.ReadReplyAsync();
            await client.CommandAsync("EHLO logs.example");
            Assert.StartsWith("334", await client.CommandAsync("AUTH LOGIN " + Base64(User)), StringComparison.Ordinal);
            Assert.StartsWith("235", await client.CommandAsync(Base64(password)), StringComparison.Ordinal);

            // A message without a header section (a MIME parse problem is logged) and one with broken base64.
            await client.CommandAsync("MAIL FROM:<logs@example.com>");
            await client.CommandAsync($"RCPT TO:<a@{inbox}.localhost>");
            await client.CommandAsync("DATA");
            Assert.StartsWith("250", await client.CommandAsync($"{bodyMarker} first line, no headers at all\r\n{bodyMarker}\r\n."), StringComparison.Ordinal);
            await client.CommandAsync("MAIL FROM:<logs@example.com>");
            await client.CommandAsync($"RCPT TO:<a@{inbox}.localhost>");
            await client.CommandAsync("DATA");
            Assert.StartsWith("250", await client.CommandAsync(
                $"Subject: broken\r\nContent-Type: text/plain; charset=x-unknown-{bodyMarker}\r\nContent-Transfer-Encoding: base64\r\n\r\n{bodyMarker}!!!\r\n."), StringComparison.Ordinal);
        }

        // MailKit with AUTH PLAIN on the AUTH-required listener, and a normal message.
        using (var mailKit = MailKitClients.Create(output))
        {
            await mailKit.ConnectAsync("127.0.0.1", host.AuthRequiredPort, SecureSocketOptions.None);
            mailKit.AuthenticationMechanisms.Remove("CRAM-MD5");
            mailKit.AuthenticationMechanisms.Remove("LOGIN");
            await mailKit.AuthenticateAsync(User, password);
            await mailKit.SendAsync(SmtpSend.Simple($"b@{inbox}.localhost", "normal", $"The body: {bodyMarker}"));
            await mailKit.DisconnectAsync(true);
        }

        // The API with the key (as user and as password), a wrong key, and malformed Authorization headers.
        foreach (var header in new[] { $"Basic {Base64(apiKey + ":")}", $"Basic {Base64("x:" + apiKey)}", $"Basic {Base64(apiKey + "x:")}", "Basic", "Basic !!!", "Basic //79", "Bearer " + apiKey })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/messages?server={inbox}");
            request.Headers.TryAddWithoutValidation("Authorization", header);
            using var response = await host.Http.SendAsync(request);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized, $"{header}: {(int)response.StatusCode}");
        }

        using (var search = new HttpRequestMessage(HttpMethod.Post, $"/api/messages/search?server={inbox}"))
        {
            search.Headers.Authorization = new AuthenticationHeaderValue("Basic", Base64(apiKey + ":"));
            search.Content = new StringContent($$"""{"body":"{{bodyMarker}}"}""", Encoding.UTF8, "application/json");
            using var found = await host.Http.SendAsync(search);
            Assert.Equal(HttpStatusCode.OK, found.StatusCode);
            using var json = System.Text.Json.JsonDocument.Parse(await found.Content.ReadAsStringAsync());
            Assert.True(json.RootElement.GetProperty("items").GetArrayLength() >= 2, "the messages with the body marker were not stored");
        }

        var entries = capture.Entries;
        output.WriteLine($"{entries.Count} log entries captured");
        foreach (var entry in entries)
            output.WriteLine(entry);

        // The capture works: it holds the events around the secrets.
        Assert.Contains(entries, e => e.Contains($"authenticated as {User}", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Contains($"authentication failed for {User}", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Contains("stored with a parse problem", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Contains($"in inbox {inbox}", StringComparison.Ordinal));

        string[] secrets =
        [
            password, wrongPassword, apiKey, bodyMarker,
            Base64(password), Base64(wrongPassword), Base64($"\0{User}\0{wrongPassword}"), Base64($"\0{User}\0{password}"), Base64(apiKey + ":"),
        ];
        foreach (var secret in secrets)
        {
            var leaks = entries.Where(e => e.Contains(secret, StringComparison.Ordinal)).ToList();
            Assert.True(leaks.Count == 0, $"'{secret}' appears in {leaks.Count} log entries, e.g.: {leaks.FirstOrDefault()}");
        }
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
