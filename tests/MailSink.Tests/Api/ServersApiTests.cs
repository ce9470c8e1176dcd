using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;

namespace MailSink.Tests.Api;

/// <summary>api/servers: inboxes made through the API or by their first message.</summary>
public sealed class ServersApiTests(SharedHost shared) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Create_get_rename_and_delete_a_server()
    {
        using var created = await Host.Http.PostAsync("/api/servers", Json("""{"name":"Checkout tests"}"""));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var server = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = server.GetProperty("id").GetString()!;
        Assert.Matches("^[a-z0-9]{8}$", id);
        Assert.Equal("Checkout tests", server.GetProperty("name").GetString());
        Assert.Equal(0, server.GetProperty("messages").GetInt64());
        Assert.Equal(JsonValueKind.Array, server.GetProperty("users").ValueKind);

        Assert.Equal("Checkout tests", (await Host.GetJsonAsync($"/api/servers/{id}")).GetProperty("name").GetString());

        // .NET's client sends PascalCase with every property.
        using var renamed = await Host.Http.PutAsync($"/api/servers/{id}", Json($$"""{"Id":"{{id}}","Name":"Renamed","Users":[],"Messages":0}"""));
        Assert.Equal("Renamed", (await renamed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());

        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"x@{id}.localhost", "to the new server", "hi"));
        Assert.Equal(1, (await Host.GetJsonAsync($"/api/servers/{id}")).GetProperty("messages").GetInt64());
        Assert.Equal("", (await Host.GetJsonAsync($"/api/servers/{id}/password")).GetProperty("value").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await Host.Http.DeleteAsync($"/api/servers/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/servers/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.DeleteAsync($"/api/servers/{id}")).StatusCode);
        Assert.Empty(await Host.ListAsync(id));
    }

    [Fact]
    public async Task Inboxes_that_received_mail_are_listed_with_their_counts()
    {
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"x@{inbox}.localhost", "one", "1"));
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"y@{inbox}.localhost", "two", "2"));

        var list = await Host.GetJsonAsync("/api/servers");
        var entry = list.GetProperty("items").EnumerateArray().Single(s => s.GetProperty("id").GetString() == inbox);
        Assert.Equal(2, entry.GetProperty("messages").GetInt64());
        Assert.Equal(inbox, entry.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"name":""}""")]
    [InlineData("""{"name":null}""")]
    [InlineData("""{"Name":"   "}""")]
    public async Task A_server_needs_a_name(string body)
    {
        using var response = await Host.Http.PostAsync("/api/servers", Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ValidationError", error.GetProperty("type").GetString());
        Assert.Equal("name", error.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal("Servers need a name", error.GetProperty("errors")[0].GetProperty("detail")[0].GetProperty("description").GetString());
    }
}
