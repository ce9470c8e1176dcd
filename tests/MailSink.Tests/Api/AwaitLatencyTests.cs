using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailSink.Storage;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MailSink.Tests.Api;

/// <summary>Runs alone (its own collection, no parallel tests): it measures latency on a 2-core machine.</summary>
[CollectionDefinition(nameof(TimingCollection), DisableParallelization = true)]
public sealed class TimingCollection;

/// <summary>Many idle waiters cost nothing and each wakes as soon as its message is committed.</summary>
[Collection(nameof(TimingCollection))]
public sealed class AwaitLatencyTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    [Fact]
    public async Task Two_hundred_concurrent_waiters_on_different_inboxes_all_wake_within_100_ms_of_their_250()
    {
        await RoundAsync(20, assert: false); // warm up: JIT, connection pool, thread pool
        await RoundAsync(200, assert: true);
    }

    private async Task RoundAsync(int count, bool assert)
    {
        var inboxes = Enumerable.Range(0, count).Select(_ => MailSinkHost.NewInbox()).ToArray();
        var feed = Host.Services.GetRequiredService<ArrivalFeed>();
        var clock = Stopwatch.StartNew();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = count + 10 })
        {
            BaseAddress = Host.Http.BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };

        var woke = new double[count];
        var waiters = inboxes.Select(async (inbox, i) =>
        {
            using var response = await http.PostAsync($"/api/messages/await?server={inbox}&timeout=60000", new StringContent("{}", Encoding.UTF8, "application/json"));
            woke[i] = clock.Elapsed.TotalMilliseconds;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(inbox, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("server").GetString());
        }).ToArray();
        await Poll.UntilAsync(() => inboxes.All(i => feed.SubscriberCount(i) == 1), TimeSpan.FromSeconds(30), "every waiter is subscribed to its inbox");

        var acknowledged = new double[count];
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", Host.SmtpPort, SecureSocketOptions.None);
            for (var i = 0; i < count; i++)
            {
                await client.SendAsync(SmtpSend.Simple($"w@{inboxes[i]}.localhost", $"for {i}", "x"));
                acknowledged[i] = clock.Elapsed.TotalMilliseconds;
            }

            await client.DisconnectAsync(true);
        }

        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(30));
        var lags = woke.Zip(acknowledged, (w, a) => w - a).ToArray();
        output.WriteLine($"{count} waiters, wake after 250: max {lags.Max():F1} ms, mean {lags.Average():F1} ms");
        if (assert)
            Assert.All(lags, lag => Assert.True(lag < 100, $"a waiter woke {lag:F1} ms after its 250"));
    }
}
