using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using MailSink.Tests.Support;

namespace MailSink.Tests.Api;

/// <summary>/metrics, scraped and parsed after known traffic: the counts match it, per MailSink (two in one process count apart).</summary>
public sealed partial class MetricsTests
{
    /// <summary>Each sample line, "name{labels}" to its value; labels as Prometheus writes them, in its order.</summary>
    private static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var samples = new Dictionary<string, double>();
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            var match = Sample().Match(line);
            Assert.True(match.Success, $"not a Prometheus sample: {line}");
            var labels = string.Join(",", LabelPair().Matches(match.Groups["labels"].Value).Select(l => l.Value).Where(l => !l.StartsWith("otel_scope", StringComparison.Ordinal)));
            samples[$"{match.Groups["name"].Value}{{{labels}}}"] = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
        }

        return samples;
    }

    private static double Sum(Dictionary<string, double> samples, string name, params string[] labels) =>
        samples.Where(s => s.Key.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(l => s.Key.Contains(l, StringComparison.Ordinal))).Sum(s => s.Value);

    [Fact]
    public async Task Counts_match_the_traffic_of_this_mailsink_only()
    {
        await using var host = await MailSinkHost.StartAsync();
        await using var other = await MailSinkHost.StartAsync();
        var inbox = MailSinkHost.NewInbox();
        for (var i = 0; i < 3; i++)
            await SmtpSend.MessageAsync(host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", $"m{i}", "hello"));
        await SmtpSend.MessageAsync(other.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "elsewhere", "x"));
        await using (var raw = await RawSmtpClient.ConnectAsync(host.SmtpPort))
        {
            await raw.ReadReplyAsync();
            await raw.CommandAsync("EHLO metrics");
            Assert.StartsWith("503", await raw.CommandAsync("RCPT TO:<a@b.localhost>"));
            Assert.StartsWith("503", await raw.CommandAsync("RCPT TO:<a@b.localhost>"));
            Assert.StartsWith("501", await raw.CommandAsync("MAIL FROM:<not an address>"));
            await raw.CommandAsync("QUIT");
        }

        var listed = await host.ListAsync(inbox);
        var bytes = 0L;
        foreach (var message in listed)
            bytes += (await host.RawAsync(message.GetProperty("id").GetString()!)).Length;

        var samples = await ScrapeAsync(host.Http);
        Assert.Equal(3, Sum(samples, "mailsink_smtp_messages_accepted_total"));
        Assert.Equal(bytes, Sum(samples, "mailsink_smtp_accepted_bytes_total"));
        Assert.Equal(3, Sum(samples, "mailsink_messages_stored_total"));
        Assert.Equal(3, Sum(samples, "mailsink_storage_write_duration_seconds_count"));
        Assert.Equal(4, Sum(samples, "mailsink_smtp_sessions_total"));
        Assert.Equal(2, Sum(samples, "mailsink_smtp_rejects_total", "code=\"503\"", "stage=\"rcpt\""));
        Assert.Equal(1, Sum(samples, "mailsink_smtp_rejects_total", "code=\"501\"", "stage=\"mail\""));
        Assert.Equal(0, Sum(samples, "mailsink_smtp_sessions_active"));
        Assert.Equal(1, Sum(samples, "mailsink_http_server_request_duration_seconds_count", "http_route=\"/api/messages/\"", "http_response_status_code=\"200\""));
        Assert.True(Sum(samples, "mailsink_storage_size_bytes") > 0);
        Assert.Equal(0, Sum(samples, "mailsink_await_waiters"));

        Assert.Equal(1, Sum(await ScrapeAsync(other.Http), "mailsink_smtp_messages_accepted_total"));
    }

    [Fact]
    public async Task Metrics_need_the_api_key_unless_allowed_anonymous()
    {
        await using var keyed = await MailSinkHost.StartAsync("--MailSink:Api:ApiKey=k3y");
        using (var without = await keyed.Http.GetAsync("/metrics"))
            Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        keyed.Http.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String("k3y:"u8.ToArray()));
        Assert.True((await ScrapeAsync(keyed.Http)).Count > 0);

        await using var open = await MailSinkHost.StartAsync("--MailSink:Api:ApiKey=k3y", "--MailSink:Metrics:AllowAnonymous=true");
        Assert.True((await ScrapeAsync(open.Http)).Count > 0);

        await using var off = await MailSinkHost.StartAsync("--MailSink:Metrics:Enabled=false");
        using var none = await off.Http.GetAsync("/metrics");
        Assert.NotEqual(HttpStatusCode.OK, none.StatusCode);
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>[-+0-9.eE]+|NaN|\+Inf|-Inf)( \d+)?$")]
    private static partial Regex Sample();

    [GeneratedRegex(@"[a-zA-Z_][a-zA-Z0-9_]*=""(\\.|[^""\\])*""")]
    private static partial Regex LabelPair();
}
