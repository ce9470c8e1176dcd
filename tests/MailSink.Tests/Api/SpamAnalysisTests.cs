using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MailSink.Api.Analysis;
using MailSink.Tests.Support;

namespace MailSink.Tests.Api;

/// <summary>GET /api/analysis/spam/{id}: a real spamd scores the message; without one, a 400 says how to get one.</summary>
public sealed class SpamAnalysisTests(SpamdServer spamd) : IClassFixture<SpamdServer>
{
    /// <summary>SpamAssassin's Generic Test for Unsolicited Bulk Email: any SpamAssassin scores it as spam.</summary>
    private const string Gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

    private static async Task<string> StoreAsync(MailSinkHost host, string inbox, string subject, string body)
    {
        await SmtpSend.MessageAsync(host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", subject, body));
        return (await host.ListAsync(inbox)).Single(m => m.GetProperty("subject").GetString() == subject).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task Gtube_scores_as_spam_with_its_rule_named_and_a_plain_message_does_not()
    {
        await using var host = await MailSinkHost.StartAsync(spamd.HostSettings);
        var inbox = MailSinkHost.NewInbox();
        var spam = await StoreAsync(host, inbox, "Cheap offer", $"Buy now!\r\n{Gtube}\r\n");
        var ham = await StoreAsync(host, inbox, "Minutes of Tuesday's meeting", "Hello team,\r\n\r\nthe minutes are below. See you next week.\r\n\r\nAnna");

        var spamResult = await host.GetJsonAsync($"/api/analysis/spam/{spam}");
        Assert.True(spamResult.GetProperty("score").GetDouble() >= 1000, spamResult.GetRawText());
        var gtube = spamResult.GetProperty("spamFilterResults").GetProperty("spamAssassin").EnumerateArray().Single(r => r.GetProperty("rule").GetString() == "GTUBE");
        Assert.Equal(1000, gtube.GetProperty("score").GetDouble());
        Assert.Contains("Generic Test for Unsolicited Bulk Email", gtube.GetProperty("description").GetString());

        var hamResult = await host.GetJsonAsync($"/api/analysis/spam/{ham}");
        Assert.True(hamResult.GetProperty("score").GetDouble() < 5, hamResult.GetRawText());
        Assert.DoesNotContain(hamResult.GetProperty("spamFilterResults").GetProperty("spamAssassin").EnumerateArray(), r => r.GetProperty("rule").GetString() == "GTUBE");

        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync($"/api/analysis/spam/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task A_spamd_that_cannot_be_reached_is_a_400_that_says_so()
    {
        using var down = HeldPorts.Refusing(out var port);
        await using var host = await MailSinkHost.StartAsync("--MailSink:Analysis:SpamAssassin:Host=127.0.0.1", $"--MailSink:Analysis:SpamAssassin:Port={port}");
        var inbox = MailSinkHost.NewInbox();
        var id = await StoreAsync(host, inbox, "s", "x");
        using var response = await host.Http.GetAsync($"/api/analysis/spam/{id}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var description = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors")[0].GetProperty("detail")[0].GetProperty("description").GetString();
        Assert.StartsWith($"Spam analysis is not available: spamd at 127.0.0.1:{port} cannot be reached", description);
    }

    [Fact]
    public void A_spamd_report_is_read_with_its_score_threshold_and_wrapped_descriptions()
    {
        var answer = "SPAMD/1.1 0 EX_OK\r\nContent-length: 400\r\nSpam: True ; 1002.5 / 5.0\r\n\r\n"
                     + "Spam detection software has identified this incoming email as possible spam.\n\n"
                     + "Content analysis details:   (1002.5 points, 5.0 required)\n\n"
                     + " pts rule name              description\n"
                     + "---- ---------------------- --------------------------------------------------\n"
                     + "1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email\n"
                     + " 2.5 SOME_LONG_RULE         A description that goes on\n"
                     + "                            over a second line\n"
                     + "-0.0 NO_RELAYS              Informational: message was not relayed via SMTP\n\n";
        var report = SpamAssassinClient.Parse(answer);
        Assert.Equal((1002.5, 5.0, true), (report.Score, report.Threshold, report.IsSpam));
        Assert.Equal(["GTUBE", "SOME_LONG_RULE", "NO_RELAYS"], report.Rules.Select(r => r.Rule));
        Assert.Equal("A description that goes on over a second line", report.Rules[1].Description);
        Assert.Equal(-0.0, report.Rules[2].Score);
        Assert.Throws<SpamAssassinException>(() => SpamAssassinClient.Parse("SPAMD/1.1 76 EX_PROTOCOL\r\n\r\n"));
        Assert.Throws<SpamAssassinException>(() => SpamAssassinClient.Parse("HTTP/1.1 200 OK\r\n\r\n"));
    }
}
