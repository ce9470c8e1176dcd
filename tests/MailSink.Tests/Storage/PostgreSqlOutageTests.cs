using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailSink.Server;
using MailSink.Storage;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MailSink.Tests.Storage;

/// <summary>
/// PostgreSQL stopped under a running MailSink, then started again: while it is down every read is a 503,
/// every message a 451 (never a false 250) and /health says why; once it is back everything works again
/// without a restart, a wait begun before the outage included. The server is this class's own: stopping
/// the shared one would take every other class's database away.
/// </summary>
public sealed class PostgreSqlOutageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private PostgreSqlServer _server = null!;
    private MailSinkHost _host = null!;

    public async Task InitializeAsync()
    {
        _server = await PostgreSqlServer.StartAsync();
        var database = await _server.CreateDatabaseAsync();
        _host = await MailSinkHost.StartAsync(
            "--MailSink:Storage:Engine=PostgreSql", $"--MailSink:Storage:PostgreSql:ConnectionString={_server.ConnectionString(database)}");
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task While_PostgreSQL_is_down_reads_are_503_mail_is_451_and_health_says_so_and_all_recovers_when_it_is_back()
    {
        var inbox = MailSinkHost.NewInbox();
        Assert.StartsWith("250", await SendAsync(inbox, "before"));
        var feed = _host.Services.GetRequiredService<ArrivalFeed>();
        var waiting = _host.Http.PostAsync($"/api/messages/await?server={inbox}&timeout=120000",
            new StringContent("""{"subject":"after"}""", Encoding.UTF8, "application/json"));
        await Poll.UntilAsync(() => Task.FromResult(feed.SubscriberCount(inbox) == 1), TimeSpan.FromSeconds(10), "the wait has begun");

        await _server.StopServerAsync();

        using (var listed = await _host.Http.GetAsync($"/api/messages?server={inbox}"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, listed.StatusCode);
            var error = (await listed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors")[0]; // Mailosaur's error shape
            Assert.False(string.IsNullOrEmpty(error.GetProperty("detail")[0].GetProperty("description").GetString()));
        }

        using (var health = await _host.Http.GetAsync("/health"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            var storage = (await health.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks").GetProperty("storage");
            output.WriteLine(storage.ToString());
            Assert.Equal("unhealthy", storage.GetProperty("status").GetString());
            Assert.StartsWith("PostgreSQL at 127.0.0.1:", storage.GetProperty("description").GetString(), StringComparison.Ordinal);
        }

        Assert.StartsWith("451", await SendAsync(inbox, "during"));
        Assert.False(waiting.IsCompleted);

        await _server.StartServerAsync();

        // The pool connects again by itself; the listener too, with its pause.
        await Poll.UntilAsync(async () =>
        {
            using var listed = await _host.Http.GetAsync($"/api/messages?server={inbox}");
            return listed.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(30), "the API reads again");
        Assert.StartsWith("250", await SendAsync(inbox, "after"));
        using (var answer = await waiting.WaitAsync(TimeSpan.FromSeconds(30)))
            Assert.Equal("after", (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("subject").GetString());
        using (var health = await _host.Http.GetAsync("/health"))
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(["after", "before"], (await _host.ListAsync(inbox)).Select(m => m.GetProperty("subject").GetString()));
        Assert.Equal(2, await StartupGuard.ExitCodeAsync(_host.Services)); // the refused batch is reported at exit
    }

    [Fact]
    public async Task A_wait_begun_while_PostgreSQL_is_down_is_answered_once_it_is_back()
    {
        var inbox = MailSinkHost.NewInbox();
        await _server.StopServerAsync();
        var waiting = _host.Http.PostAsync($"/api/messages/await?server={inbox}&timeout=60000",
            new StringContent("""{"subject":"later"}""", Encoding.UTF8, "application/json"));
        var feed = _host.Services.GetRequiredService<ArrivalFeed>();
        await Poll.UntilAsync(() => Task.FromResult(feed.SubscriberCount(inbox) == 1), TimeSpan.FromSeconds(10), "the wait has begun");
        Assert.StartsWith("451", await SendAsync(inbox, "refused"));
        Assert.False(waiting.IsCompleted); // its look failed: it waits on

        await _server.StartServerAsync();
        await Poll.UntilAsync(async () => (await SendAsync(inbox, "later")).StartsWith("250", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "mail is taken again");
        using var answer = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("later", (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("subject").GetString());
    }

    [Fact]
    public async Task Stopped_and_started_under_a_stream_of_mail_no_acknowledged_message_is_lost()
    {
        var inbox = MailSinkHost.NewInbox();
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        var refused = 0;
        using var stop = new CancellationTokenSource();
        var senders = Enumerable.Range(0, 4).Select(async sender =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var subject = $"stream {sender}-{n}";
                var reply = await SendAsync(inbox, subject);
                if (reply.StartsWith("250", StringComparison.Ordinal))
                    acknowledged[RawSmtpClient.StoredId(reply)] = subject;
                else if (reply.StartsWith("451", StringComparison.Ordinal))
                    Interlocked.Increment(ref refused); // never a 250 for what was not committed
                else
                    Assert.Fail($"unexpected reply {reply}");
            }
        }).ToList();

        await Poll.UntilAsync(() => Task.FromResult(acknowledged.Count >= 50), TimeSpan.FromSeconds(30), "50 messages are acknowledged");
        await _server.StopServerAsync(immediate: true); // as a crash would
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref refused) >= 4), TimeSpan.FromSeconds(30), "mail is refused with 451");
        await _server.StartServerAsync();
        var atRestart = acknowledged.Count;
        await Poll.UntilAsync(() => Task.FromResult(acknowledged.Count >= atRestart + 50), TimeSpan.FromSeconds(60), "mail is acknowledged again");
        await stop.CancelAsync();
        await Task.WhenAll(senders);

        output.WriteLine($"{acknowledged.Count} acknowledged, {refused} refused with 451");
        var listed = (await _host.GetJsonAsync($"/api/messages?server={inbox}&itemsPerPage=1000")).GetProperty("items")
            .EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToHashSet();
        Assert.All(acknowledged.Keys, id => Assert.Contains(id, listed));
    }

    private async Task<string> SendAsync(string inbox, string subject)
    {
        await using var client = await RawSmtpClient.ConnectAsync(_host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<a@b.example>"));
        Assert.StartsWith("250", await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>"));
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        await client.SendRawAsync(Encoding.ASCII.GetBytes($"Subject: {subject}\r\n\r\nbody\r\n.\r\n"));
        return await client.ReadReplyAsync();
    }
}
