using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;

namespace MailSink.Tests.Api;

/// <summary>Every stored message is POSTed to the configured endpoints: signed, retried, and never in SMTP's way.</summary>
public sealed class WebhookTests
{
    private static Task<MailSinkHost> StartAsync(HttpReceiver receiver, params string[] settings) =>
        MailSinkHost.StartAsync([$"--MailSink:Webhooks:Endpoints:0:Url={receiver.Url}", "--MailSink:Webhooks:RetryDelay=00:00:00.05", .. settings]);

    private static async Task<JsonElement> EndpointStatusAsync(MailSinkHost host) =>
        (await host.GetJsonAsync("/api/webhooks")).GetProperty("items")[0];

    [Fact]
    public async Task Each_stored_message_is_posted_as_its_summary_signed_with_the_secret()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var host = await StartAsync(receiver, "--MailSink:Webhooks:Endpoints:0:Secret=s3cret");
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "Hooked", "body"));
        await Poll.UntilAsync(() => Task.FromResult(!receiver.Requests.IsEmpty), TimeSpan.FromSeconds(10), "the webhook is posted");

        var request = Assert.Single(receiver.Requests);
        var listed = (await host.ListAsync(inbox)).Single();
        var payload = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal(listed.GetProperty("id").GetString(), payload.GetProperty("id").GetString());
        Assert.Equal(inbox, payload.GetProperty("server").GetString());
        Assert.Equal("Hooked", payload.GetProperty("subject").GetString());
        Assert.Equal(listed.GetRawText(), payload.GetRawText()); // the summary exactly as listings give it
        Assert.StartsWith("application/json", request.Headers["Content-Type"]);
        Assert.Equal("message.received", request.Headers["X-MailSink-Event"]);
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData("s3cret"u8, request.Body)), request.Headers["X-MailSink-Signature"]);
        await Poll.UntilAsync(async () => (await EndpointStatusAsync(host)).GetProperty("delivered").GetInt64() == 1, TimeSpan.FromSeconds(10), "the delivery is counted");
    }

    [Fact]
    public async Task A_failed_post_is_retried_with_the_same_delivery_id_and_an_inbox_filter_holds()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        receiver.Status = n => n == 1 ? 500 : 204;
        var inbox = MailSinkHost.NewInbox();
        await using var host = await StartAsync(receiver, $"--MailSink:Webhooks:Endpoints:0:Inbox={inbox.ToUpperInvariant()}");
        await SmtpSend.MessageAsync(host.SmtpPort, SmtpSend.Simple($"a@{MailSinkHost.NewInbox()}.localhost", "Not for this hook", "x"));
        await SmtpSend.MessageAsync(host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "For this hook", "x"));
        await Poll.UntilAsync(() => Task.FromResult(receiver.Requests.Count >= 2), TimeSpan.FromSeconds(10), "the retry is posted");

        var requests = receiver.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.All(requests, r => Assert.Equal("For this hook", JsonDocument.Parse(r.Body).RootElement.GetProperty("subject").GetString()));
        Assert.Equal(requests[0].Headers["X-MailSink-Delivery"], requests[1].Headers["X-MailSink-Delivery"]);
        Assert.Equal(["1", "2"], requests.Select(r => r.Headers["X-MailSink-Attempt"]));
        Assert.False(requests[0].Headers.ContainsKey("X-MailSink-Signature"));
        await Poll.UntilAsync(async () => (await EndpointStatusAsync(host)).GetProperty("delivered").GetInt64() == 1, TimeSpan.FromSeconds(10), "the delivery is counted");
        var status = await EndpointStatusAsync(host);
        Assert.Equal((1L, 0L, 0L), (status.GetProperty("retried").GetInt64(), status.GetProperty("failed").GetInt64(), status.GetProperty("dropped").GetInt64()));
    }

    [Fact]
    public async Task A_receiver_that_hangs_does_not_hold_up_smtp_and_its_queue_stays_bounded()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        receiver.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await StartAsync(receiver, "--MailSink:Webhooks:MaxQueued=5", "--MailSink:Webhooks:Timeout=00:05:00");
        var inbox = MailSinkHost.NewInbox();

        // Thirty messages are acknowledged (stored) while the receiver still sits on the first POST.
        for (var i = 0; i < 30; i++)
            await SmtpSend.MessageAsync(host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", $"m{i}", "x"));
        Assert.Equal(30, (await host.ListAsync(inbox)).Length);
        Assert.False(receiver.Hold.Task.IsCompleted);
        Assert.Single(receiver.Requests);

        var status = await EndpointStatusAsync(host);
        Assert.Equal(5, status.GetProperty("queued").GetInt32());
        Assert.Equal(24, status.GetProperty("dropped").GetInt64()); // 30 = 1 in flight + 5 queued + 24 dropped

        receiver.Hold.TrySetResult();
        await Poll.UntilAsync(async () => (await EndpointStatusAsync(host)).GetProperty("delivered").GetInt64() == 6, TimeSpan.FromSeconds(10), "the queue drains");
    }

    [Fact]
    public async Task A_receiver_that_keeps_failing_is_given_up_after_the_last_attempt()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        receiver.Status = _ => 503;
        await using var host = await StartAsync(receiver, "--MailSink:Webhooks:MaxAttempts=3");
        await SmtpSend.MessageAsync(host.SmtpPort, SmtpSend.Simple($"a@{MailSinkHost.NewInbox()}.localhost", "never taken", "x"));
        await Poll.UntilAsync(async () => (await EndpointStatusAsync(host)).GetProperty("failed").GetInt64() == 1, TimeSpan.FromSeconds(10), "the message is given up");
        Assert.Equal(3, receiver.Requests.Count);
        Assert.Equal(2, (await EndpointStatusAsync(host)).GetProperty("retried").GetInt64());
    }
}

/// <summary>Two nodes on one PostgreSQL, each with the same webhook: a message is announced once, by the node that stored it.</summary>
public sealed class SharedStoreWebhookTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    [Fact]
    public async Task Each_message_is_posted_once_however_many_nodes_hear_of_it()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        string[] settings = [.. database.HostSettings, $"--MailSink:Webhooks:Endpoints:0:Url={receiver.Url}"];
        await using var first = await MailSinkHost.StartAsync(settings);
        await using var second = await MailSinkHost.StartAsync(settings);
        var inbox = MailSinkHost.NewInbox();

        await SmtpSend.MessageAsync(first.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "via the first node", "x"));
        await SmtpSend.MessageAsync(second.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "via the second node", "x"));

        // The second node has heard of the first node's message (and the first of the second's): an await answers.
        foreach (var (node, subject) in new[] { (second, "via the first node"), (first, "via the second node") })
        {
            using var heard = await node.Http.PostAsync($"/api/messages/await?server={inbox}&timeout=10000",
                new StringContent($$"""{"subject":"{{subject}}"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.OK, heard.StatusCode);
        }

        await Poll.UntilAsync(async () =>
                (await first.GetJsonAsync("/api/webhooks")).GetProperty("items")[0].GetProperty("delivered").GetInt64()
                + (await second.GetJsonAsync("/api/webhooks")).GetProperty("items")[0].GetProperty("delivered").GetInt64() == 2,
            TimeSpan.FromSeconds(10), "both messages are delivered");
        Assert.Equal(["via the first node", "via the second node"],
            receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("subject").GetString()).Order());
    }
}
