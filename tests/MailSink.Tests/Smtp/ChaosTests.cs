using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailSink.Tests.Support;

namespace MailSink.Tests.Smtp;

/// <summary>
/// Fault injection through /api/chaos, seen by real SMTP clients: the right code at the right stage,
/// exactly as many times as asked, then normal service. Its own host: a connect rule meets every session.
/// </summary>
public sealed class ChaosTests(ChaosTests.Fixture shared) : IClassFixture<ChaosTests.Fixture>
{
    public sealed class Fixture() : ConfiguredHost();

    private MailSinkHost Host => shared.Host;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<string> AddRuleAsync(string rule)
    {
        using var response = await Host.Http.PostAsync("/api/chaos/rules", Json(rule));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private async Task<JsonElement?> RuleAsync(string id) =>
        (await Host.GetJsonAsync("/api/chaos")).GetProperty("rules").EnumerateArray().Cast<JsonElement?>().FirstOrDefault(r => r!.Value.GetProperty("id").GetString() == id);

    private async Task<SmtpClient> ConnectAsync()
    {
        var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
        await client.ConnectAsync("127.0.0.1", Host.SmtpPort, SecureSocketOptions.StartTls);
        return client;
    }

    [Fact]
    public async Task The_next_n_messages_to_an_inbox_get_the_code_at_rcpt_then_normal_service()
    {
        var inbox = MailSinkHost.NewInbox();
        var other = MailSinkHost.NewInbox();
        var id = await AddRuleAsync($$"""{"stage":"rcpt","inbox":"{{inbox}}","code":451,"text":"Try again later","count":2}""");

        using var client = await ConnectAsync();
        for (var i = 0; i < 2; i++)
        {
            var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(SmtpSend.Simple($"a@{inbox}.localhost", $"refused {i}", "x")));
            Assert.Equal((SmtpStatusCode)451, refused.StatusCode);
            Assert.Equal("Try again later", refused.Message);
            await client.SendAsync(SmtpSend.Simple($"a@{other}.localhost", $"other inbox {i}", "x")); // not matched: served
        }

        await client.SendAsync(SmtpSend.Simple($"a@{inbox}.localhost", "third time", "x"));
        await client.DisconnectAsync(true);

        Assert.Equal(["third time"], (await Host.ListAsync(inbox)).Select(m => m.GetProperty("subject").GetString()));
        Assert.Equal(2, (await Host.ListAsync(other)).Length);
        Assert.Null(await RuleAsync(id)); // used up
    }

    [Fact]
    public async Task Every_message_to_an_address_pattern_gets_552_after_data_and_is_not_stored()
    {
        var inbox = MailSinkHost.NewInbox();
        var id = await AddRuleAsync("""{"stage":"data","address":"fail-552@*","code":552,"text":"Mailbox full"}""");
        try
        {
            using var client = await ConnectAsync();
            for (var i = 0; i < 3; i++)
            {
                var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(SmtpSend.Simple($"fail-552@{inbox}.localhost", "full", "x")));
                Assert.Equal(SmtpStatusCode.ExceededStorageAllocation, refused.StatusCode);
                Assert.Equal(SmtpErrorCode.MessageNotAccepted, refused.ErrorCode);
            }

            await client.SendAsync(SmtpSend.Simple($"ok@{inbox}.localhost", "fine", "x"));
            await client.DisconnectAsync(true);
            Assert.Equal(["fine"], (await Host.ListAsync(inbox)).Select(m => m.GetProperty("subject").GetString()));
            Assert.Equal(3, (await RuleAsync(id))!.Value.GetProperty("applied").GetInt64());
        }
        finally
        {
            Assert.Equal(HttpStatusCode.NoContent, (await Host.Http.DeleteAsync($"/api/chaos/rules/{id}")).StatusCode);
        }
    }

    [Fact]
    public async Task A_delayed_250_comes_late_but_the_message_is_on_disk_first()
    {
        var inbox = MailSinkHost.NewInbox();
        await AddRuleAsync($$"""{"stage":"data","action":"delay","delayMilliseconds":2000,"inbox":"{{inbox}}","count":1}""");
        using var client = await ConnectAsync();
        var clock = Stopwatch.StartNew();
        var sending = client.SendAsync(SmtpSend.Simple($"a@{inbox}.localhost", "slow ack", "x"));
        await Poll.UntilAsync(async () => (await Host.ListAsync(inbox)).Length == 1, TimeSpan.FromSeconds(10), "the message is listed");
        Assert.False(sending.IsCompleted, "the 250 came before the delay");
        await sending;
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"acknowledged after {clock.Elapsed}");
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task A_dropped_connection_after_data_stores_nothing_and_the_next_session_is_served()
    {
        var inbox = MailSinkHost.NewInbox();
        await AddRuleAsync($$"""{"stage":"data","action":"disconnect","inbox":"{{inbox}}","count":1}""");
        await using (var raw = await RawSmtpClient.ConnectAsync(Host.SmtpPort))
        {
            Assert.StartsWith("220 ", await raw.ReadReplyAsync());
            Assert.StartsWith("250", await raw.CommandAsync("EHLO chaos"));
            Assert.StartsWith("250", await raw.CommandAsync("MAIL FROM:<s@example.com>"));
            Assert.StartsWith("250", await raw.CommandAsync($"RCPT TO:<a@{inbox}.localhost>"));
            Assert.StartsWith("354", await raw.CommandAsync("DATA"));
            await raw.SendAsync("Subject: dropped\r\n\r\nbody\r\n.");
            Assert.True(await raw.IsClosedByServerAsync());
        }

        Assert.Empty(await Host.ListAsync(inbox));
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "after the drop", "x"));
        Assert.Single(await Host.ListAsync(inbox));
    }

    [Fact]
    public async Task Data_rules_act_at_the_last_bdat_chunk_as_at_the_end_of_data()
    {
        var inbox = MailSinkHost.NewInbox();
        await AddRuleAsync($$"""{"stage":"data","inbox":"{{inbox}}","code":452,"text":"Chunks refused","count":1}""");
        await AddRuleAsync($$"""{"stage":"data","action":"disconnect","address":"drop@*","count":1}""");
        const string Message = "Subject: chunked\r\n\r\nbody\r\n";
        await using (var raw = await RawSmtpClient.ConnectAsync(Host.SmtpPort))
        {
            await raw.ReadReplyAsync();
            await raw.CommandAsync("EHLO chaos");
            await raw.CommandAsync("MAIL FROM:<s@example.com>");
            await raw.CommandAsync($"RCPT TO:<a@{inbox}.localhost>");
            Assert.StartsWith("250 5 octets received", await raw.CommandAsync($"BDAT 5\r\n{Message[..5]}", eol: ""));
            Assert.Equal("452 Chunks refused", await raw.CommandAsync($"BDAT {Message.Length - 5} LAST\r\n{Message[5..]}", eol: ""));

            // The rule is used up: the same message now goes through.
            await raw.CommandAsync("MAIL FROM:<s@example.com>");
            await raw.CommandAsync($"RCPT TO:<a@{inbox}.localhost>");
            Assert.StartsWith("250 OK message stored", await raw.CommandAsync($"BDAT {Message.Length} LAST\r\n{Message}", eol: ""));

            await raw.CommandAsync("MAIL FROM:<s@example.com>");
            await raw.CommandAsync($"RCPT TO:<drop@{inbox}.localhost>");
            await raw.SendAsync($"BDAT {Message.Length} LAST\r\n{Message}", eol: "");
            Assert.True(await raw.IsClosedByServerAsync());
        }

        Assert.Single(await Host.ListAsync(inbox));
    }

    [Fact]
    public async Task Connect_helo_and_mail_rules_answer_in_place_of_the_server()
    {
        var connect = await AddRuleAsync("""{"stage":"connect","code":421,"text":"Too busy, come back later","count":1}""");
        await using (var raw = await RawSmtpClient.ConnectAsync(Host.SmtpPort))
        {
            Assert.Equal("421 Too busy, come back later", await raw.ReadReplyAsync());
            Assert.True(await raw.IsClosedByServerAsync());
        }

        Assert.Null(await RuleAsync(connect));
        await AddRuleAsync("""{"stage":"helo","code":554,"count":1}""");
        await AddRuleAsync("""{"stage":"mail","address":"bounce-*@example.com","code":550,"text":"Sender refused"}""");
        await using var session = await RawSmtpClient.ConnectAsync(Host.SmtpPort);
        Assert.StartsWith("220 ", await session.ReadReplyAsync());
        Assert.StartsWith("554 Fault injected by MailSink chaos rule", await session.CommandAsync("EHLO chaos"));
        Assert.StartsWith("250", await session.CommandAsync("EHLO chaos"));
        Assert.Equal("550 Sender refused", await session.CommandAsync("MAIL FROM:<bounce-7@example.com>"));
        Assert.StartsWith("250", await session.CommandAsync("MAIL FROM:<someone@example.com>"));
        Assert.StartsWith("221", await session.CommandAsync("QUIT"));
        Assert.Equal(HttpStatusCode.NoContent, (await Host.Http.DeleteAsync("/api/chaos")).StatusCode);
        Assert.Empty((await Host.GetJsonAsync("/api/chaos")).GetProperty("rules").EnumerateArray());
    }

    [Fact]
    public async Task A_rule_from_configuration_holds_for_the_run_and_put_replaces_every_rule()
    {
        await using var host = await MailSinkHost.StartAsync(
            "--MailSink:Chaos:Rules:0:Stage=Rcpt", "--MailSink:Chaos:Rules:0:Address=*@down.localhost",
            "--MailSink:Chaos:Rules:0:Code=450", "--MailSink:Chaos:Rules:0:Text=Down for maintenance");
        async Task<SmtpCommandException> RefusedAsync()
        {
            using var client = new SmtpClient();
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
            await client.ConnectAsync("127.0.0.1", host.SmtpPort, SecureSocketOptions.StartTls);
            var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(SmtpSend.Simple("x@down.localhost", "down", "x")));
            await client.SendAsync(SmtpSend.Simple("x@up.localhost", "up", "x"));
            await client.DisconnectAsync(true);
            return refused;
        }

        for (var i = 0; i < 2; i++)
        {
            var refused = await RefusedAsync();
            Assert.Equal(SmtpStatusCode.MailboxBusy, refused.StatusCode);
            Assert.Equal("Down for maintenance", refused.Message);
        }

        var rule = (await host.GetJsonAsync("/api/chaos")).GetProperty("rules").EnumerateArray().Single();
        Assert.Equal(2, rule.GetProperty("applied").GetInt64());

        // The rules as read back (id and applied included) can be sent again as they are.
        using var again = await host.Http.PutAsync("/api/chaos", Json($$"""{"rules":[{{rule.GetRawText()}}]}"""));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        using var put = await host.Http.PutAsync("/api/chaos", Json("""{"rules":[{"stage":"rcpt","address":"*@down.localhost","code":550,"text":"Gone"}]}"""));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(SmtpStatusCode.MailboxUnavailable, (await RefusedAsync()).StatusCode);
        Assert.Empty(await host.ListAsync("down"));
        Assert.Equal(3, (await host.ListAsync("up")).Length);
    }

    [Theory]
    [InlineData("""{"stage":"sometimes","code":451}""", "is not a rule")]
    [InlineData("""{"stage":"rcpt","inbx":"checkout","code":451}""", "rule has no field \"inbx\": a rule's fields are stage, action, code, text, inbox, address, count")]
    [InlineData("""{"stage":"rcpt","Code":451,"adress":"*@x.localhost"}""", "has no field \"adress\"")]
    [InlineData("""{"stage":"rcpt","code":250}""", "code must be a 4xx or 5xx")]
    [InlineData("""{"stage":"connect","inbox":"x","code":421}""", "inbox and address need a stage")]
    [InlineData("""{"stage":"mail","inbox":"x","code":451}""", "inbox needs the rcpt or data stage")]
    [InlineData("""{"stage":"data","action":"delay"}""", "delayMilliseconds must be")]
    [InlineData("""{"stage":"rcpt","count":0}""", "count must be 1 or more")]
    [InlineData("""{"stage":"rcpt","probability":2}""", "probability must be from 0 to 1")]
    public async Task A_bad_rule_is_a_400_that_says_what_is_wrong(string rule, string expected)
    {
        using var response = await Host.Http.PostAsync("/api/chaos/rules", Json(rule));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var description = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors")[0].GetProperty("detail")[0].GetProperty("description").GetString();
        Assert.Contains(expected, description);
    }
}
