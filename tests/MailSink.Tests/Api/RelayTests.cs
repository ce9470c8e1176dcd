using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;

namespace MailSink.Tests.Api;

/// <summary>
/// Mail made through the API leaves MailSink only through a configured relay, and only to the recipients
/// its patterns allow. The relay here is a second MailSink on a loopback port, reached over STARTTLS with
/// AUTH: what it receives is read back through its own API, byte for byte.
/// </summary>
public sealed class RelayTests : IAsyncLifetime
{
    private MailSinkHost _relay = null!;
    private MailSinkHost _sink = null!;

    public async Task InitializeAsync()
    {
        _relay = await MailSinkHost.StartAsync();
        _sink = await MailSinkHost.StartAsync(
            "--MailSink:Relay:Host=127.0.0.1",
            $"--MailSink:Relay:Port={_relay.SmtpPort}",
            "--MailSink:Relay:Tls=StartTls",
            "--MailSink:Relay:TrustAnyCertificate=true",
            "--MailSink:Relay:User=relay-user",
            "--MailSink:Relay:Password=relay-secret",
            "--MailSink:Relay:AllowedRecipients:0=*@example.com",
            "--MailSink:Relay:AllowedRecipients:1=ops@example.org");
    }

    public async Task DisposeAsync()
    {
        await _sink.DisposeAsync();
        await _relay.DisposeAsync();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>What the relay received, in its catch-all inbox (example.com is no root domain of its own).</summary>
    private Task<JsonElement[]> RelayedAsync() => _relay.ListAsync("catchall");

    [Fact]
    public async Task Release_relays_the_stored_message_byte_for_byte_to_an_allowed_recipient()
    {
        var inbox = MailSinkHost.NewInbox();
        var mail = SmtpSend.Simple($"a@{inbox}.localhost", "Release me", "Line one\r\n.leading dot\r\nLast line");
        await SmtpSend.MessageAsync(_sink.SmtpPort, mail, sender: new MimeKit.MailboxAddress("", "bounces@app.test"));
        var id = (await _sink.ListAsync(inbox)).Single().GetProperty("id").GetString()!;

        using var response = await _sink.Http.PostAsync($"/api/messages/{id}/release", Json("""{"to":"Alice@Example.com"}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["Alice@Example.com"], result.GetProperty("relayed").EnumerateArray().Select(a => a.GetString()));
        Assert.Empty(result.GetProperty("stored").EnumerateArray());

        var relayed = Assert.Single(await RelayedAsync());
        var copy = await _relay.GetJsonAsync($"/api/messages/{relayed.GetProperty("id").GetString()}");
        var metadata = copy.GetProperty("metadata");
        Assert.Equal("bounces@app.test", metadata.GetProperty("mailFrom").GetString());
        Assert.Equal(["Alice@Example.com"], metadata.GetProperty("rcptTo").EnumerateArray().Select(r => r.GetProperty("email").GetString()));
        Assert.Equal("relay-user", metadata.GetProperty("authenticatedUser").GetString());
        Assert.StartsWith("Tls", metadata.GetProperty("tls").GetString());
        Assert.Equal(await _sink.RawAsync(id), await _relay.RawAsync(copy.GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task Exactly_the_allowed_recipients_are_relayed_and_a_call_naming_any_other_does_nothing()
    {
        var inbox = MailSinkHost.NewInbox();
        var local = MailSinkHost.NewInbox();

        foreach (var refused in new[] { "x@example.net", "ops2@example.org", "x@sub.example.com" })
        {
            using var response = await _sink.Http.PostAsync($"/api/messages?server={inbox}",
                Json($$"""{"to":"bob@example.com, me@{{local}}.localhost, {{refused}}","subject":"mixed","text":"x","send":true}"""));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var description = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors")[0].GetProperty("detail")[0].GetProperty("description").GetString();
            Assert.Equal($"Sending to {refused} is refused: it matches none of MailSink:Relay:AllowedRecipients, so MailSink does not relay it.", description);
        }

        Assert.Empty(await RelayedAsync());
        Assert.Empty(await _sink.ListAsync(local));

        var attachment = Convert.ToBase64String(Enumerable.Range(0, 5000).Select(i => (byte)(i % 251)).ToArray());
        using var sent = await _sink.Http.PostAsync($"/api/messages?server={inbox}", Json($$"""
            {"to":"bob@example.com, ops@example.org, me@{{local}}.localhost","subject":"Allowed","text":"to all three","send":true,
             "attachments":[{"fileName":"data.bin","contentType":"application/octet-stream","content":"{{attachment}}"}]}
            """));
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        var stored = await sent.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(local, stored.GetProperty("server").GetString()); // the answer is MailSink's own copy

        var relayed = Assert.Single(await RelayedAsync()); // one transaction for both outside recipients
        var copy = await _relay.GetJsonAsync($"/api/messages/{relayed.GetProperty("id").GetString()}");
        Assert.Equal(["bob@example.com", "ops@example.org"], copy.GetProperty("metadata").GetProperty("rcptTo").EnumerateArray().Select(r => r.GetProperty("email").GetString()));
        Assert.Equal(await _sink.RawAsync(stored.GetProperty("id").GetString()!), await _relay.RawAsync(copy.GetProperty("id").GetString()!));
        var file = copy.GetProperty("attachments")[0].GetProperty("id").GetString();
        Assert.Equal(Convert.FromBase64String(attachment), await _relay.Http.GetByteArrayAsync($"/api/files/attachments/{file}"));
        Assert.Empty(await _sink.ListAsync(inbox));
    }

    [Fact]
    public async Task A_forward_that_only_leaves_is_answered_with_the_message_as_sent_and_not_kept()
    {
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(_sink.SmtpPort, SmtpSend.Simple($"me@{inbox}.localhost", "Invoice", "Pay by Friday"));
        var id = (await _sink.ListAsync(inbox)).Single().GetProperty("id").GetString()!;

        using var response = await _sink.Http.PostAsync($"/api/messages/{id}/forward", Json("""{"to":"accounts@example.com","text":"For you"}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Fwd: Invoice", sent.GetProperty("subject").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _sink.Http.GetAsync($"/api/messages/{sent.GetProperty("id").GetString()}")).StatusCode);

        var relayed = Assert.Single(await RelayedAsync());
        Assert.Equal("Fwd: Invoice", relayed.GetProperty("subject").GetString());
        Assert.Equal($"me@{inbox}.localhost", relayed.GetProperty("from")[0].GetProperty("email").GetString());
    }

    [Fact]
    public async Task A_relay_that_cannot_be_reached_is_a_502_and_nothing_is_stored()
    {
        using var down = HeldPorts.Refusing(out var port);
        await using var sink = await MailSinkHost.StartAsync(
            "--MailSink:Relay:Host=127.0.0.1", $"--MailSink:Relay:Port={port}", "--MailSink:Relay:AllowedRecipients:0=*@example.com");
        var local = MailSinkHost.NewInbox();
        using var response = await sink.Http.PostAsync($"/api/messages?server={local}",
            Json($$"""{"to":"bob@example.com, me@{{local}}.localhost","subject":"s","text":"x","send":true}"""));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors")[0];
        Assert.Equal("relay", error.GetProperty("field").GetString());
        Assert.StartsWith($"The relay 127.0.0.1:{port} did not take the message", error.GetProperty("detail")[0].GetProperty("description").GetString());
        Assert.Empty(await sink.ListAsync(local));
    }
}
