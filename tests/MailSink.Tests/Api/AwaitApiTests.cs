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

/// <summary>POST api/messages/await: answered by the arrival of mail, not by polling, on every engine.</summary>
public abstract class AwaitApiTests(ConfiguredHost shared)
{
    private MailSinkHost Host => shared.Host;

    private Task<HttpResponseMessage> AwaitAsync(string inbox, string criteria, int timeoutMs, string extra = "") =>
        Host.Http.PostAsync($"/api/messages/await?server={inbox}&timeout={timeoutMs}{extra}", new StringContent(criteria, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task A_message_already_stored_is_returned_at_once()
    {
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "already here", "x"));
        using var response = await AwaitAsync(inbox, """{"subject":"already"}""", 0);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("already here", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("subject").GetString());
    }

    [Fact]
    public async Task A_waiter_wakes_when_a_matching_message_is_stored_and_ignores_others()
    {
        var inbox = MailSinkHost.NewInbox();
        var feed = Host.Services.GetRequiredService<ArrivalFeed>();
        var waiting = AwaitAsync(inbox, """{"subject":"the one"}""", 20_000);
        await Poll.UntilAsync(() => feed.SubscriberCount(inbox) == 1, TimeSpan.FromSeconds(10), "the waiter is subscribed to its inbox");

        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "not this", "x"));
        Assert.False(waiting.IsCompleted);
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "The One", "x"));

        using var response = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var message = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("The One", message.GetProperty("subject").GetString());
        Assert.Equal("Email", message.GetProperty("type").GetString());
        Assert.Equal(0, feed.SubscriberCount(inbox));
    }

    [Fact]
    public async Task Empty_criteria_wait_for_any_message_after_received_after()
    {
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "before", "x"));
        var after = Uri.EscapeDataString(DateTimeOffset.UtcNow.ToString("O"));
        var feed = Host.Services.GetRequiredService<ArrivalFeed>();
        var waiting = Host.Http.PostAsync($"/api/messages/await?server={inbox}&timeout=20000&receivedAfter={after}", null);
        await Poll.UntilAsync(() => feed.SubscriberCount(inbox) == 1, TimeSpan.FromSeconds(10), "the waiter is subscribed to its inbox");
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "after", "x"));
        using var response = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("after", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("subject").GetString());
    }

    [Fact]
    public async Task A_timeout_is_a_clear_408_error()
    {
        using var response = await AwaitAsync(MailSinkHost.NewInbox(), """{"subject":"never"}""", 200);
        Assert.Equal(HttpStatusCode.RequestTimeout, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("timeout", error.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Contains("within 200 ms", error.GetProperty("errors")[0].GetProperty("detail")[0].GetProperty("description").GetString());

        using var bad = await AwaitAsync(MailSinkHost.NewInbox(), "{}", -5);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}

public sealed class LiteDbAwaitApiTests(SharedHost shared) : AwaitApiTests(shared), IClassFixture<SharedHost>;

public sealed class PostgreSqlAwaitApiTests(PostgreSqlSharedHost shared) : AwaitApiTests(shared), IClassFixture<PostgreSqlSharedHost>;
