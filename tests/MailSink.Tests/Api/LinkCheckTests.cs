using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using MailSink.Api.Analysis;
using MailSink.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MailSink.Tests.Api;

/// <summary>POST /api/analysis/links/{id} against a real web server the test runs: 200, 404, redirects, HEAD refused, a hang.</summary>
public sealed class LinkCheckTests : IAsyncLifetime
{
    private LoopbackWebServer _web = null!;
    private string _site = "";
    private readonly ConcurrentQueue<string> _hits = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task InitializeAsync()
    {
        _web = await LoopbackWebServer.StartAsync(web =>
        {
            web.Use(async (context, next) =>
            {
                _hits.Enqueue($"{context.Request.Method} {context.Request.Path}");
                await next(context);
            });
            web.MapMethods("/ok", ["GET", "HEAD"], () => Results.Ok());
            web.MapMethods("/missing", ["GET", "HEAD"], () => Results.NotFound());
            web.MapMethods("/moved", ["GET", "HEAD"], () => Results.Redirect("/ok"));
            web.MapMethods("/loop", ["GET", "HEAD"], () => Results.Redirect("/loop"));
            web.MapGet("/get-only", () => Results.Ok());
            web.MapMethods("/get-only", ["HEAD"], () => Results.StatusCode(405));
            web.MapMethods("/hang", ["GET", "HEAD"], async () =>
            {
                await _release.Task;
                return Results.Ok();
            });
        });
        _site = _web.BaseUrl;
    }

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        await _web.DisposeAsync();
    }

    private async Task<Dictionary<string, JsonElement>> CheckAsync(MailSinkHost host)
    {
        var inbox = MailSinkHost.NewInbox();
        var html = string.Join(" ", new[] { "ok", "missing", "moved", "loop", "get-only", "hang" }.Select(p => $"<a href=\"{_site}/{p}\">{p}</a>"));
        var mail = new MimeKit.MimeMessage { Subject = "links" };
        mail.From.Add(MimeKit.MailboxAddress.Parse("a@example.com"));
        mail.To.Add(MimeKit.MailboxAddress.Parse($"x@{inbox}.localhost"));
        mail.Body = new MimeKit.TextPart("html") { Text = html };
        await SmtpSend.MessageAsync(host.SmtpPort, mail);
        var id = (await host.ListAsync(inbox)).Single().GetProperty("id").GetString();
        using var response = await host.Http.PostAsync($"/api/analysis/links/{id}", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var links = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("links");
        return links.EnumerateArray().ToDictionary(l => l.GetProperty("url").GetString()![(_site.Length + 1)..], l => l.Clone());
    }

    [Fact]
    public async Task Each_link_gets_its_outcome_with_redirects_followed_and_a_deadline()
    {
        // The deadline is for the "hang" link; 3 s, not 1, so that the loop's four requests finish within it on
        // a loaded 2-core machine (with 1 s the loop timed out once while the whole API tier ran).
        await using var host = await MailSinkHost.StartAsync(
            "--MailSink:Analysis:LinkCheck:AllowPrivate=true", "--MailSink:Analysis:LinkCheck:Timeout=00:00:03", "--MailSink:Analysis:LinkCheck:MaxRedirects=3");
        var links = await CheckAsync(host);

        Assert.Equal(("ok", 200), (links["ok"].GetProperty("result").GetString(), links["ok"].GetProperty("status").GetInt32()));
        Assert.Equal(("broken", 404), (links["missing"].GetProperty("result").GetString(), links["missing"].GetProperty("status").GetInt32()));
        Assert.Equal("ok", links["moved"].GetProperty("result").GetString());
        Assert.Equal($"{_site}/ok", links["moved"].GetProperty("finalUrl").GetString());
        Assert.Equal([$"{_site}/ok"], links["moved"].GetProperty("redirects").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("too-many-redirects", links["loop"].GetProperty("result").GetString());
        Assert.Equal(3, links["loop"].GetProperty("redirects").GetArrayLength());
        Assert.Equal(("ok", 200), (links["get-only"].GetProperty("result").GetString(), links["get-only"].GetProperty("status").GetInt32()));
        Assert.Equal("timeout", links["hang"].GetProperty("result").GetString());
        Assert.Contains("GET /get-only", _hits);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.PostAsync($"/api/analysis/links/{Guid.NewGuid()}", null)).StatusCode);
    }

    [Fact]
    public async Task Links_to_internal_addresses_are_blocked_unasked_by_default()
    {
        await using var host = await MailSinkHost.StartAsync();
        var links = await CheckAsync(host);
        Assert.All(links.Values, l =>
        {
            Assert.Equal("blocked", l.GetProperty("result").GetString());
            Assert.Contains("127.0.0.1, an internal address", l.GetProperty("error").GetString());
        });
        Assert.Empty(_hits);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("93.184.215.14", false)]
    [InlineData("2606:2800:21f:cb07:6820:80da:af6b:8b2c", false)]
    public void Internal_addresses_are_told_apart(string address, bool internalAddress) =>
        Assert.Equal(internalAddress, LinkChecker.IsInternal(IPAddress.Parse(address)));
}
