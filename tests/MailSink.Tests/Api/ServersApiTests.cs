using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;

namespace MailSink.Tests.Api;

/// <summary>api/servers: inboxes made through the API or by their first message, on every engine.</summary>
public abstract class ServersApiTests(ConfiguredHost shared)
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
        Assert.Equal(JsonValueKind.Null, server.GetProperty("lastReceived").ValueKind);
        Assert.Equal(JsonValueKind.Array, server.GetProperty("users").ValueKind);

        Assert.Equal("Checkout tests", (await Host.GetJsonAsync($"/api/servers/{id}")).GetProperty("name").GetString());

        // .NET's client sends PascalCase with every property.
        using var renamed = await Host.Http.PutAsync($"/api/servers/{id}", Json($$"""{"Id":"{{id}}","Name":"Renamed","Users":[],"Messages":0}"""));
        Assert.Equal("Renamed", (await renamed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());

        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"x@{id}.localhost", "to the new server", "hi"));
        Assert.Equal(1, (await Host.GetJsonAsync($"/api/servers/{id}")).GetProperty("messages").GetInt64());
        Assert.Matches("^[a-z0-9]{16}$", (await Host.GetJsonAsync($"/api/servers/{id}/password")).GetProperty("value").GetString());

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

        // MailSink's own field: when the newest message the count holds was received, to the tick.
        var newest = (await Host.ListAsync(inbox)).Max(m => m.GetProperty("received").GetDateTimeOffset());
        Assert.Equal(newest, entry.GetProperty("lastReceived").GetDateTimeOffset());
    }

    /// <summary>A server's id in a path is read as <c>?server=</c> reads it and as mail routes it: any case, Unicode as punycode.</summary>
    [Fact]
    public async Task A_server_id_in_a_path_is_taken_in_any_case_and_in_unicode()
    {
        var inbox = "b\u00fccher" + MailSinkHost.NewInbox()[1..7]; // "bücher…", routed as xn--bcher…
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"x@{inbox.ToUpperInvariant()}.localhost", "unicode", "1"));
        var id = new System.Globalization.IdnMapping().GetAscii(inbox).ToLowerInvariant();
        Assert.StartsWith("xn--", id, StringComparison.Ordinal);
        Assert.Single(await Host.ListAsync(id));

        foreach (var spelling in new[] { id.ToUpperInvariant(), Uri.EscapeDataString(inbox), Uri.EscapeDataString(inbox.ToUpperInvariant()) })
        {
            Assert.Equal(id, (await Host.GetJsonAsync($"/api/servers/{spelling}")).GetProperty("id").GetString());
            Assert.Equal(HttpStatusCode.OK, (await Host.Http.GetAsync($"/api/servers/{spelling}/password")).StatusCode);
        }

        using var renamed = await Host.Http.PutAsync($"/api/servers/{id.ToUpperInvariant()}", Json("""{"name":"Renamed"}"""));
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("Renamed", (await Host.GetJsonAsync($"/api/servers/{id}")).GetProperty("name").GetString());
        Assert.Equal((await Host.GetJsonAsync($"/api/servers/{id}/password")).GetProperty("value").GetString(),
            (await Host.GetJsonAsync($"/api/servers/{Uri.EscapeDataString(inbox)}/password")).GetProperty("value").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await Host.Http.DeleteAsync($"/api/servers/{Uri.EscapeDataString(inbox.ToUpperInvariant())}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/servers/{id}")).StatusCode);
        Assert.Empty(await Host.ListAsync(id));
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

    /// <summary>
    /// Every server's name comes back with every GET api/servers: an adversarial probe made 1,000 servers
    /// with names of 60,000 characters, and the listing grew to 60.8 MB. A name is at most 200 characters
    /// (as people count them: an emoji is one), on create and on rename alike.
    /// </summary>
    [Fact]
    public async Task A_server_name_of_200_characters_is_kept_and_a_longer_one_is_a_400_on_create_and_rename()
    {
        var fits = string.Concat(Enumerable.Repeat("\U0001F4EC", 200)); // 200 characters, 400 UTF-16 code units
        using var created = await Host.Http.PostAsync("/api/servers", Json(JsonSerializer.Serialize(new { name = fits })));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        using var longCreate = await Host.Http.PostAsync("/api/servers", Json(JsonSerializer.Serialize(new { name = new string('x', 201) })));
        await AssertNameRefusedAsync(longCreate, "200 characters");
        using var hugeCreate = await Host.Http.PostAsync("/api/servers", Json(JsonSerializer.Serialize(new { name = new string('x', 60_000) })));
        await AssertNameRefusedAsync(hugeCreate, "200 characters");
        using var longRename = await Host.Http.PutAsync($"/api/servers/{id}", Json(JsonSerializer.Serialize(new { name = new string('y', 201) })));
        await AssertNameRefusedAsync(longRename, "200 characters");

        Assert.Equal(fits, (await Host.GetJsonAsync($"/api/servers/{id}")).GetProperty("name").GetString());
        var names = (await Host.GetJsonAsync("/api/servers")).GetProperty("items").EnumerateArray().Select(s => s.GetProperty("name").GetString()!);
        Assert.DoesNotContain(names, n => n.StartsWith("xxx", StringComparison.Ordinal) || n.StartsWith("yyy", StringComparison.Ordinal));
    }

    /// <summary>
    /// A name is shown in terminals, logs and the web UI: no control characters (C0, DEL, C1), which could
    /// rewrite a terminal line or split a log line. Given as code points, so that test names stay printable.
    /// </summary>
    [Theory]
    [InlineData("create", 0x00)]
    [InlineData("create", 0x07)]
    [InlineData("create", 0x0A)]
    [InlineData("create", 0x1B)]
    [InlineData("rename", 0x09)]
    [InlineData("rename", 0x0D)]
    [InlineData("rename", 0x7F)]
    [InlineData("rename", 0x85)]
    public async Task A_server_name_with_a_control_character_is_a_400_on_create_and_rename(string how, int codePoint)
    {
        var name = $"before{(char)codePoint}after";
        using var created = await Host.Http.PostAsync("/api/servers", Json("""{"name":"Control characters"}"""));
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        using var response = how == "create"
            ? await Host.Http.PostAsync("/api/servers", Json(JsonSerializer.Serialize(new { name })))
            : await Host.Http.PutAsync($"/api/servers/{id}", Json(JsonSerializer.Serialize(new { name })));
        await AssertNameRefusedAsync(response, "control character");

        Assert.Equal("Control characters", (await Host.GetJsonAsync($"/api/servers/{id}")).GetProperty("name").GetString());
        var names = (await Host.GetJsonAsync("/api/servers")).GetProperty("items").EnumerateArray().Select(s => s.GetProperty("name").GetString()!);
        Assert.DoesNotContain(names, n => n.Contains("before", StringComparison.Ordinal));
    }

    private static async Task AssertNameRefusedAsync(HttpResponseMessage response, string saying)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text[..Math.Min(text.Length, 300)]}");
        var error = JsonSerializer.Deserialize<JsonElement>(text).GetProperty("errors")[0];
        Assert.Equal("name", error.GetProperty("field").GetString());
        Assert.Contains(saying, error.GetProperty("detail")[0].GetProperty("description").GetString(), StringComparison.Ordinal);
    }
}

public sealed class LiteDbServersApiTests(SharedHost shared) : ServersApiTests(shared), IClassFixture<SharedHost>;

public sealed class PostgreSqlServersApiTests(PostgreSqlSharedHost shared) : ServersApiTests(shared), IClassFixture<PostgreSqlSharedHost>;
