using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;

namespace MailSink.Tests.Api;

/// <summary>With MailSink:Api:ApiKey set, every api/ call needs it; the OpenAPI document describes the API.</summary>
public sealed class ApiKeyAndOpenApiTests(ApiKeyAndOpenApiTests.KeyedHost fixture) : IClassFixture<ApiKeyAndOpenApiTests.KeyedHost>
{
    public const string Key = "s3cret-key";

    public sealed class KeyedHost() : ConfiguredHost($"--MailSink:Api:ApiKey={Key}");

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    [Theory]
    [InlineData(null, null, HttpStatusCode.Unauthorized)]
    [InlineData("wrong", "", HttpStatusCode.Unauthorized)]
    [InlineData(Key + "x", "", HttpStatusCode.Unauthorized)]
    [InlineData(Key, "", HttpStatusCode.OK)]
    [InlineData(Key, "any password", HttpStatusCode.OK)]
    [InlineData("api", Key, HttpStatusCode.OK)]
    public async Task The_key_goes_in_basic_auth_as_the_user_name(string? user, string? password, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/servers");
        if (user is not null)
            request.Headers.Authorization = Basic(user, password!);
        using var response = await fixture.Host.Http.SendAsync(request);
        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Unauthorized)
            Assert.StartsWith("Basic", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Every_api_path_is_guarded_but_health_is_not()
    {
        foreach (var path in new[] { "/api/messages?server=x", "/api/messages/x", "/api/files/email/x", "/api/files/attachments/x", "/api/servers/x" })
            Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.Host.Http.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.Host.Http.DeleteAsync("/api/messages?server=x")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Host.Http.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_endpoint_and_its_schemas()
    {
        var document = await fixture.Host.GetJsonAsync("/openapi/v1.json");
        var paths = document.GetProperty("paths");
        string[] expected =
        [
            "/api/messages", "/api/messages/search", "/api/messages/await", "/api/messages/{id}",
            "/api/servers", "/api/servers/{id}", "/api/servers/{id}/password",
            "/api/files/email/{id}", "/api/files/attachments/{id}",
        ];
        foreach (var path in expected)
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");

        Assert.True(paths.GetProperty("/api/messages").TryGetProperty("delete", out _));
        Assert.True(paths.GetProperty("/api/servers/{id}").TryGetProperty("put", out _));
        var schemas = document.GetProperty("components").GetProperty("schemas");
        foreach (var schema in new[] { "MessageDto", "MessageSummaryDto", "ServerDto", "SearchCriteriaDto", "AttachmentDto", "MetadataDto" })
            Assert.True(schemas.TryGetProperty(schema, out _), $"schema {schema} is missing");
        Assert.Equal(JsonValueKind.Object, schemas.GetProperty("MessageDto").GetProperty("properties").GetProperty("html").ValueKind);
    }

    [Fact]
    public async Task With_the_key_the_api_works_end_to_end()
    {
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(fixture.Host.SmtpPort, SmtpSend.Simple($"x@{inbox}.localhost", "keyed", "hi"));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/messages?server={inbox}");
        request.Headers.Authorization = Basic(Key, "");
        using var response = await fixture.Host.Http.SendAsync(request);
        var list = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("keyed", list.GetProperty("items")[0].GetProperty("subject").GetString());
    }
}
