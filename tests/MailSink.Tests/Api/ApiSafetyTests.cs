using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;
using MimeKit;

namespace MailSink.Tests.Api;

/// <summary>
/// Issue 5, item 5: ids of one kind never resolve as another or as anything but themselves, no request
/// reaches the file system, downloads are never active content from the API's origin, and every bad value
/// is a Mailosaur-shaped 400 (or a 404 for an unknown id), never a 500.
/// </summary>
public sealed class ApiSafetyTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    private sealed record Sent(string Inbox, string MessageId, string AttachmentId, JsonElement Message);

    /// <summary>A message with a PDF, an HTML page and an SVG image attached, read back through the API.</summary>
    private async Task<Sent> SendWithAttachmentsAsync(string? inbox = null)
    {
        inbox ??= MailSinkHost.NewInbox();
        var builder = new BodyBuilder { TextBody = "see attached" };
        builder.Attachments.Add("invoice.pdf", "%PDF-1.4 not really"u8.ToArray(), new ContentType("application", "pdf"));
        builder.Attachments.Add("page.html", "<script>alert(document.cookie)</script>"u8.ToArray(), new ContentType("text", "html"));
        builder.Attachments.Add("../../evil \"name\".svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"u8.ToArray(), new ContentType("image", "svg+xml"));
        var message = SmtpSend.Simple($"safety@{inbox}.localhost", "attachments", "x");
        message.Body = builder.ToMessageBody();
        var id = SmtpSend.StoredId(await SmtpSend.MessageAsync(Host.SmtpPort, message, output));
        var stored = await Host.GetJsonAsync($"/api/messages/{id}");
        return new Sent(inbox, id, stored.GetProperty("attachments")[0].GetProperty("id").GetString()!, stored);
    }

    [Fact]
    public async Task An_id_of_one_kind_never_resolves_as_another()
    {
        var sent = await SendWithAttachmentsAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/messages/{sent.AttachmentId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/files/email/{sent.AttachmentId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/files/attachments/{sent.MessageId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/servers/{sent.MessageId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/messages/{sent.Inbox}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/files/email/{sent.Inbox}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.DeleteAsync($"/api/messages/{sent.AttachmentId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.DeleteAsync($"/api/servers/{sent.MessageId}")).StatusCode);

        // Nothing was deleted by the wrong kind of id.
        Assert.Equal(HttpStatusCode.OK, (await Host.Http.GetAsync($"/api/messages/{sent.MessageId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Host.Http.GetAsync($"/api/files/attachments/{sent.AttachmentId}")).StatusCode);
    }

    /// <summary>
    /// An id names one thing exactly. LiteDB compares strings with its collation, which by default is the
    /// culture's, case-insensitive: with it, a changed id (full-width digits, an ignorable character, upper
    /// case) still found the message. Upper case now does, on purpose and on every engine: a GUID in capitals
    /// is the same GUID (RFC 9562), read in lower case by the API (MessagesApiTests).
    /// </summary>
    [Theory]
    [InlineData("full-width")]
    [InlineData("soft hyphen")]
    public async Task A_message_id_resolves_only_as_written(string change)
    {
        var inbox = MailSinkHost.NewInbox();
        var id = SmtpSend.StoredId(await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"exact@{inbox}.localhost", "exact", "x")));
        var changed = change switch
        {
            "full-width" => string.Concat(id.Select(c => c is >= '0' and <= '9' ? (char)(c - '0' + '\uff10') : c)),
            _ => id[..8] + "\u00ad" + id[8..],
        };
        Assert.NotEqual(id, changed);

        using var response = await Host.Http.GetAsync($"/api/messages/{Uri.EscapeDataString(changed)}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/files/email/{Uri.EscapeDataString(changed)}")).StatusCode);
    }

    /// <summary>
    /// Two DNS labels are two inboxes to the router (which lower-cases and NFC-normalises, nothing more), so
    /// each lists, counts and empties only its own mail. A case-insensitive culture collation (LiteDB's
    /// default) orders these names as equal at the first level, so the inbox+time key range of one takes in
    /// the keys of the other.
    /// </summary>
    [Theory]
    [InlineData("strasse", "straße")]
    [InlineData("resume", "résumé")]
    public async Task Inboxes_whose_names_a_culture_would_call_equal_stay_apart(string first, string second)
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var a = first + suffix;
        var b = second + suffix;
        // An inbox is named by the ASCII form of its label ("straße…" is "xn--strae…"); the API takes either.
        Assert.EndsWith($" in inbox {MailSink.Storage.Ingest.InboxRouter.NormalizeInboxId(a)}", await SendRawAsync(a, "to " + a), StringComparison.Ordinal);
        Assert.EndsWith($" in inbox {MailSink.Storage.Ingest.InboxRouter.NormalizeInboxId(b)}", await SendRawAsync(b, "to " + b), StringComparison.Ordinal);

        var listedA = (await Host.ListAsync(a)).Select(m => m.GetProperty("subject").GetString()).ToList();
        var listedB = (await Host.ListAsync(b)).Select(m => m.GetProperty("subject").GetString()).ToList();
        output.WriteLine($"inbox {a} lists [{string.Join(", ", listedA)}], inbox {b} lists [{string.Join(", ", listedB)}]");
        Assert.Equal(HttpStatusCode.NoContent, (await Host.Http.DeleteAsync($"/api/messages?server={Uri.EscapeDataString(b)}")).StatusCode);
        var leftInA = (await Host.ListAsync(a)).Select(m => m.GetProperty("subject").GetString()).ToList();
        output.WriteLine($"after emptying {b}, inbox {a} lists [{string.Join(", ", leftInA)}]");

        Assert.Equal(["to " + a], listedA);
        Assert.Equal(["to " + b], listedB);
        Assert.Equal(["to " + a], leftInA);
    }

    /// <summary>A message sent as typed, UTF-8 recipient and all (MailKit might rewrite the domain); the 250 reply.</summary>
    private async Task<string> SendRawAsync(string inbox, string subject)
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO safety.example");
        await client.CommandAsync("MAIL FROM:<s@example.com> SMTPUTF8");
        Assert.StartsWith("250 ", await client.CommandAsync($"RCPT TO:<a@{inbox}.localhost>"), StringComparison.Ordinal);
        Assert.StartsWith("354 ", await client.CommandAsync("DATA"), StringComparison.Ordinal);
        return await client.CommandAsync($"Subject: {subject}\r\n\r\nx\r\n.");
    }

    [Theory]
    [InlineData("/api/files/email/..%2F..%2Fsecret.txt")]
    [InlineData("/api/files/email/%2Fetc%2Fpasswd")]
    [InlineData("/api/files/attachments/..%2F..%2Fdata%2Fmailsink.db")]
    [InlineData("/api/files/attachments/%2E%2E%5C%2E%2E%5Csecret.txt")]
    [InlineData("/api/messages/data%2Fmailsink.db")]
    [InlineData("/api/servers/..%2Fcerts")]
    public async Task A_path_in_an_id_reaches_no_file(string path)
    {
        File.WriteAllText(Path.Combine(Host.Root, "secret.txt"), "do not serve");
        using var response = await Host.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("do not serve", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_raw_message_is_a_download_with_a_strict_policy()
    {
        var sent = await SendWithAttachmentsAsync();
        using var response = await Host.Http.GetAsync($"/api/files/email/{sent.MessageId}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("message/rfc822", response.Content.Headers.ContentType!.MediaType);
        AssertDownload(response, $"{sent.MessageId}.eml");
    }

    [Fact]
    public async Task Html_and_svg_attachments_are_downloads_that_never_run_from_the_api_origin()
    {
        var sent = await SendWithAttachmentsAsync();
        var attachments = sent.Message.GetProperty("attachments").EnumerateArray().ToList();
        Assert.Equal(3, attachments.Count);

        foreach (var attachment in attachments)
        {
            using var response = await Host.Http.GetAsync($"/api/files/attachments/{attachment.GetProperty("id").GetString()}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(attachment.GetProperty("contentType").GetString(), response.Content.Headers.ContentType!.MediaType);
            AssertDownload(response, attachment.GetProperty("fileName").GetString()!);
        }
    }

    /// <summary>Content-Disposition: attachment with the file name (quoted, not injected), nosniff, and a CSP that allows nothing.</summary>
    private void AssertDownload(HttpResponseMessage response, string fileName)
    {
        var disposition = response.Content.Headers.ContentDisposition!;
        output.WriteLine($"Content-Disposition: {disposition}");
        Assert.Equal("attachment", disposition.DispositionType);
        Assert.Equal(fileName, disposition.FileNameStar ?? disposition.FileName!.Trim('"').Replace("\\\"", "\"", StringComparison.Ordinal));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        var policy = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        var directives = policy.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("default-src 'none'", directives);
        Assert.Contains("sandbox", directives);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Theory]
    [InlineData("/api/messages?server=x&page=1.5", "page")]
    [InlineData("/api/messages?server=x&page=99999999999", "page")]
    [InlineData("/api/messages?server=x&itemsPerPage=-1", "itemsPerPage")]
    [InlineData("/api/messages?server=x&itemsPerPage=2147483648", "itemsPerPage")]
    [InlineData("/api/messages?server=x&receivedAfter=2024-02-30", "receivedAfter")]
    [InlineData("/api/messages?server=%20%20", "server")]
    public async Task Bad_list_parameters_are_a_400(string path, string field)
    {
        using var response = await Host.Http.GetAsync(path);
        await AssertBadRequestAsync(response, field);
    }

    [Theory]
    [InlineData("/api/messages/search?server=x&page=x", "{\"subject\":\"x\"}", "page")]
    [InlineData("/api/messages/search?server=x&receivedAfter=never", "{\"subject\":\"x\"}", "receivedAfter")]
    [InlineData("/api/messages/search?server=x", "{\"sentFrom\":[\"a@b\"]}", "sentFrom")]
    [InlineData("/api/messages/search?server=x", "{\"match\":true,\"body\":\"x\"}", "match")]
    [InlineData("/api/messages/search?server=x", "{\"match\":1.5,\"body\":\"x\"}", "match")]
    [InlineData("/api/messages/await?server=x&timeout=300001", "", "timeout")]
    [InlineData("/api/messages/await?server=x&timeout=1e3", "", "timeout")]
    [InlineData("/api/messages/await?timeout=1", "", "server")]
    [InlineData("/api/messages/await?server=x&timeout=1", "[]", "criteria")]
    public async Task Bad_search_and_await_parameters_are_a_400(string path, string body, string field)
    {
        using var response = await Host.Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        await AssertBadRequestAsync(response, field);
    }

    [Fact]
    public async Task A_request_body_over_64_kb_is_a_400_without_reading_on()
    {
        var body = "{\"subject\":\"" + new string('x', 70 * 1024) + "\"}";
        using var response = await Host.Http.PostAsync("/api/messages/search?server=x", new StringContent(body, Encoding.UTF8, "application/json"));
        await AssertBadRequestAsync(response, "criteria");
    }

    /// <summary>
    /// System.Text.Json parses strings without checking them; reading one with an unpaired surrogate escape
    /// (or invalid UTF-8) throws InvalidOperationException. Found by the search-criteria fuzz harness.
    /// </summary>
    [Theory]
    [InlineData("/api/messages/search?server=x", "{\"subject\":\"\\ud800\"}", "subject")]
    [InlineData("/api/messages/search?server=x", "{\"\\udc00\":\"x\",\"subject\":\"y\"}", "criteria")]
    [InlineData("/api/messages/await?server=x&timeout=0", "{\"body\":\"a\\udfffb\"}", "body")]
    [InlineData("/api/servers", "{\"name\":\"\\ud83d\"}", "name")]
    public async Task A_string_with_an_unpaired_surrogate_escape_is_a_400(string path, string body, string field)
    {
        using var response = await Host.Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        await AssertBadRequestAsync(response, field, exactField: false);
    }

    [Fact]
    public async Task Invalid_utf8_inside_a_json_string_is_a_400()
    {
        byte[] body = [.. "{\"subject\":\"a"u8, 0xFF, 0xFE, .. "\"}"u8];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await Host.Http.PostAsync("/api/messages/search?server=x", content);
        await AssertBadRequestAsync(response, "criteria", exactField: false);
    }

    private static async Task AssertBadRequestAsync(HttpResponseMessage response, string field, bool exactField = true)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        var error = JsonSerializer.Deserialize<JsonElement>(text);
        var first = error.GetProperty("errors")[0];
        if (exactField)
            Assert.Equal(field, first.GetProperty("field").GetString());
        Assert.False(string.IsNullOrWhiteSpace(first.GetProperty("detail")[0].GetProperty("description").GetString()));
    }
}
