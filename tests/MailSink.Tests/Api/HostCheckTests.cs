using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;

namespace MailSink.Tests.Api;

/// <summary>
/// DNS rebinding: a page on evil.example points that name at 127.0.0.1, and the browser then lets it read
/// MailSink as its own origin, all mail included. Such a request still says <c>Host: evil.example</c>
/// (a probe got a 200 for it), so every request must name a host MailSink answers to: loopback names, IP
/// literals, single-label names, the SMTP server name and <c>MailSink:Api:AllowedHosts</c>.
/// </summary>
public sealed class HostCheckTests(HostCheckTests.NamedHost named, SharedHost plain) : IClassFixture<HostCheckTests.NamedHost>, IClassFixture<SharedHost>
{
    public sealed class NamedHost() : ConfiguredHost(
        "--MailSink:Smtp:ServerName=smtp.test",
        "--MailSink:Api:AllowedHosts:0=mail.example.com",
        "--MailSink:Api:AllowedHosts:1=*.dev.example");

    /// <summary>The API, the web UI, its files, health and the OpenAPI document: every path is checked.</summary>
    private static readonly string[] Paths = ["/api/servers", "/", "/ui/app.js", "/health", "/openapi/v1.json"];

    private static async Task<HttpResponseMessage> GetAsync(MailSinkHost host, string path, string hostHeader)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = hostHeader;
        return await host.Http.SendAsync(request);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("LocalHost:8025")]
    [InlineData("localhost.")]
    [InlineData("app.localhost")]
    [InlineData("mailsink.localhost:8025")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:8025")]
    [InlineData("192.168.1.20")]
    [InlineData("[::1]")]
    [InlineData("[::1]:8025")]
    [InlineData("[fd00::2]")]
    [InlineData("mailsink")]
    [InlineData("mailsink:8025")]
    [InlineData("smtp.test")]
    [InlineData("SMTP.Test:8025")]
    [InlineData("mail.example.com")]
    [InlineData("mail.example.com:443")]
    [InlineData("ci.dev.example")]
    [InlineData("a.b.dev.example:8025")]
    public async Task A_host_mailsink_answers_to_reaches_every_path(string hostHeader)
    {
        foreach (var path in Paths)
        {
            using var response = await GetAsync(named.Host, path, hostHeader);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} with Host {hostHeader}: {(int)response.StatusCode}");
        }
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("evil.example:8025")]
    [InlineData("localhost.evil.example")]
    [InlineData("127.0.0.1.nip.io")]
    [InlineData("smtp.test.evil.example")]
    [InlineData("xmail.example.com")]
    [InlineData("mail.example.com.evil.example")]
    [InlineData("dev.example")]
    public async Task Any_other_host_is_a_400_naming_the_setting_on_every_path(string hostHeader)
    {
        foreach (var path in Paths)
        {
            using var response = await GetAsync(named.Host, path, hostHeader);
            await AssertHostRefusedAsync(response, hostHeader.Split(':')[0]);
        }
    }

    /// <summary>A punycode label that does not decode made ASP.NET throw as the name was read: a 500 and a stack trace in the log.</summary>
    [Theory]
    [InlineData("xn--a")]
    [InlineData("xn--a:8025")]
    public async Task A_host_name_that_is_not_valid_punycode_is_a_400_on_every_path(string hostHeader)
    {
        foreach (var path in Paths)
        {
            using var response = await GetAsync(named.Host, path, hostHeader);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors")[0];
            Assert.Equal("Host", error.GetProperty("field").GetString());
            Assert.Equal($"Host '{hostHeader}' is not a valid host name.", error.GetProperty("detail")[0].GetProperty("description").GetString());
        }
    }

    [Fact]
    public async Task A_refused_host_changes_nothing()
    {
        var name = "rebound " + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/servers")
        {
            Content = new StringContent($$"""{"name":"{{name}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Host = "evil.example";
        using var response = await plain.Host.Http.SendAsync(request);

        await AssertHostRefusedAsync(response, "evil.example");
        var names = (await plain.Host.GetJsonAsync("/api/servers")).GetProperty("items").EnumerateArray().Select(s => s.GetProperty("name").GetString());
        Assert.DoesNotContain(name, names);
    }

    /// <summary>With no settings, the SMTP server name (mailsink.localhost) and the address the tests use pass.</summary>
    [Theory]
    [InlineData("mailsink.localhost", HttpStatusCode.OK)]
    [InlineData("127.0.0.1", HttpStatusCode.OK)]
    [InlineData("mail.example.com", HttpStatusCode.BadRequest)]
    public async Task By_default_only_the_hosts_always_accepted_pass(string hostHeader, HttpStatusCode expected)
    {
        using var response = await GetAsync(plain.Host, "/api/servers", hostHeader);
        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task A_star_in_allowed_hosts_turns_the_check_off()
    {
        await using var host = await MailSinkHost.StartAsync("--MailSink:Api:AllowedHosts:0=*");
        foreach (var path in Paths)
        {
            using var response = await GetAsync(host, path, "evil.example");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private static async Task AssertHostRefusedAsync(HttpResponseMessage response, string host)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text[..Math.Min(text.Length, 200)]}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonSerializer.Deserialize<JsonElement>(text).GetProperty("errors")[0];
        Assert.Equal("Host", error.GetProperty("field").GetString());
        var description = error.GetProperty("detail")[0].GetProperty("description").GetString()!;
        Assert.Contains($"'{host}' is not allowed", description, StringComparison.Ordinal);
        Assert.Contains("MailSink:Api:AllowedHosts", description, StringComparison.Ordinal);
    }
}
