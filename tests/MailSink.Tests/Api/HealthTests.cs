using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;

namespace MailSink.Tests.Api;

/// <summary>
/// <c>/health</c> answers without the API key (probes and orchestrators have none), but its details name
/// the database's absolute path and the open sessions: with a key set, only a caller with the key sees them.
/// </summary>
public sealed class HealthTests(HealthTests.KeyedHost keyed, SharedHost open) : IClassFixture<HealthTests.KeyedHost>, IClassFixture<SharedHost>
{
    private const string Key = "health-key";

    public sealed class KeyedHost() : ConfiguredHost($"--MailSink:Api:ApiKey={Key}");

    private static async Task<(HttpStatusCode Status, string Text, JsonElement Body)> GetHealthAsync(MailSinkHost host, string? user)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health");
        if (user is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:")));
        using var response = await host.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text, JsonSerializer.Deserialize<JsonElement>(text));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    public async Task Without_the_key_health_shows_each_status_but_no_details(string? user)
    {
        var (status, text, body) = await GetHealthAsync(keyed.Host, user);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        var checks = body.GetProperty("checks").EnumerateObject().ToList();
        Assert.Equal(["smtp", "storage"], checks.Select(c => c.Name).Order());
        foreach (var check in checks)
        {
            Assert.Equal("healthy", check.Value.GetProperty("status").GetString());
            Assert.Equal(["status"], check.Value.EnumerateObject().Select(p => p.Name));
        }

        Assert.DoesNotContain(keyed.Host.Root, text, StringComparison.Ordinal);
        Assert.DoesNotContain("mailsink.db", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_key_health_shows_the_details()
    {
        var (status, _, body) = await GetHealthAsync(keyed.Host, Key);

        Assert.Equal(HttpStatusCode.OK, status);
        var storage = body.GetProperty("checks").GetProperty("storage");
        Assert.Equal("healthy", storage.GetProperty("status").GetString());
        Assert.Contains(keyed.Host.Root, storage.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("listening on ", body.GetProperty("checks").GetProperty("smtp").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    /// <summary>No key configured: the operator chose an open API, and health shows its details to anyone, as before.</summary>
    [Fact]
    public async Task With_no_key_configured_health_shows_the_details()
    {
        var (status, _, body) = await GetHealthAsync(open.Host, null);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(open.Host.Root, body.GetProperty("checks").GetProperty("storage").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    /// <summary>Health and metrics are read: any method but GET and HEAD is a 405 saying GET (they answered every method with the page).</summary>
    [Theory]
    [InlineData("POST", "/health")]
    [InlineData("DELETE", "/health")]
    [InlineData("FOO", "/health")]
    [InlineData("POST", "/metrics")]
    public async Task Health_and_metrics_answer_reads_only(string method, string path)
    {
        using var refused = await open.Host.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, refused.StatusCode);
        Assert.Equal(["GET", "HEAD"], refused.Content.Headers.Allow);
        using var head = await open.Host.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }
}
