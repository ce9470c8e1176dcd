using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;

namespace MailSink.Tests.Api;

/// <summary>
/// With no API key set, any web page a browser shows can send MailSink a "simple" cross-site request
/// (fetch with mode no-cors, or a form): the page cannot read the answer, but the request is carried out.
/// Such a request can only have no Content-Type, text/plain, a form type or multipart: a probe created
/// inboxes with <c>curl -X POST -H 'Content-Type:' --data-binary '{"name":"x"}'</c>. So a request to /api
/// that carries a body must say it is JSON; a browser sends that cross-site only after a CORS preflight,
/// which MailSink never grants.
/// </summary>
public sealed class ContentTypeTests(SharedHost shared) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    private static ByteArrayContent Body(string json, string? contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        if (contentType is not null)
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("text/plain")]
    [InlineData("text/plain;charset=UTF-8")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/octet-stream")]
    [InlineData("text/json")]
    public async Task A_server_sent_without_a_json_content_type_is_a_415_and_is_not_created(string? contentType)
    {
        var name = "cross-site " + Guid.NewGuid().ToString("N");
        using var response = await Host.Http.PostAsync("/api/servers", Body($$"""{"name":"{{name}}"}""", contentType));

        await AssertUnsupportedMediaTypeAsync(response);
        var names = (await Host.GetJsonAsync("/api/servers")).GetProperty("items").EnumerateArray().Select(s => s.GetProperty("name").GetString());
        Assert.DoesNotContain(name, names);
    }

    [Fact]
    public async Task A_rename_without_a_content_type_is_a_415_and_keeps_the_name()
    {
        using var created = await Host.Http.PostAsync("/api/servers", Body("""{"name":"Before"}""", "application/json"));
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        using var response = await Host.Http.PutAsync($"/api/servers/{id}", Body("""{"name":"After"}""", null));

        await AssertUnsupportedMediaTypeAsync(response);
        Assert.Equal("Before", (await Host.GetJsonAsync($"/api/servers/{id}")).GetProperty("name").GetString());
    }

    /// <summary>Every /api request that carries a body, whatever its method and whether or not the endpoint reads one.</summary>
    [Theory]
    [InlineData("POST", "/api/messages/search?server=x")]
    [InlineData("POST", "/api/messages/await?server=x&timeout=0")]
    [InlineData("GET", "/api/servers")]
    [InlineData("DELETE", "/api/messages?server=x")]
    public async Task Any_api_request_with_a_body_but_no_content_type_is_a_415(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = Body("""{"subject":"x"}""", null) };
        using var response = await Host.Http.SendAsync(request);
        await AssertUnsupportedMediaTypeAsync(response);
    }

    [Fact]
    public async Task A_chunked_body_without_a_content_type_is_a_415()
    {
        var name = "chunked " + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/servers") { Content = Body($$"""{"name":"{{name}}"}""", null) };
        request.Headers.TransferEncodingChunked = true;
        using var response = await Host.Http.SendAsync(request);

        Assert.Null(request.Content.Headers.ContentLength);
        await AssertUnsupportedMediaTypeAsync(response);
        var names = (await Host.GetJsonAsync("/api/servers")).GetProperty("items").EnumerateArray().Select(s => s.GetProperty("name").GetString());
        Assert.DoesNotContain(name, names);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON;charset=UTF-8")]
    [InlineData("application/merge-patch+json")]
    [InlineData("application/vnd.mailsink+json; charset=utf-8")]
    public async Task Json_and_json_suffix_content_types_are_accepted(string contentType)
    {
        using var response = await Host.Http.PostAsync("/api/servers", Body("""{"name":"Typed"}""", contentType));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Typed", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
    }

    /// <summary>A request without a body needs no Content-Type: an await for any message, deletes.</summary>
    [Fact]
    public async Task Requests_without_a_body_need_no_content_type()
    {
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"x@{inbox}.localhost", "awaited", "hi"));

        using var awaited = await Host.Http.PostAsync($"/api/messages/await?server={inbox}&timeout=5000", content: null);
        Assert.Equal(HttpStatusCode.OK, awaited.StatusCode);
        Assert.Equal("awaited", (await awaited.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("subject").GetString());

        using var emptied = await Host.Http.DeleteAsync($"/api/messages?server={inbox}");
        Assert.Equal(HttpStatusCode.NoContent, emptied.StatusCode);
        Assert.Empty(await Host.ListAsync(inbox));
    }

    private static async Task AssertUnsupportedMediaTypeAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.UnsupportedMediaType, $"{(int)response.StatusCode}: {text}");
        var error = JsonSerializer.Deserialize<JsonElement>(text).GetProperty("errors")[0];
        Assert.Equal("Content-Type", error.GetProperty("field").GetString());
        Assert.Contains("application/json", error.GetProperty("detail")[0].GetProperty("description").GetString(), StringComparison.Ordinal);
    }
}
