using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MailSink.Tests.Support;
using MimeKit;
using MimeKit.Utils;

namespace MailSink.Tests.Api;

/// <summary>The message endpoints over real HTTP, fed with real SMTP, on every engine.</summary>
public abstract class MessagesApiTests(ConfiguredHost shared, ITestOutputHelper output)
{
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");

    private static readonly byte[] Pdf = Encoding.ASCII.GetBytes("%PDF-1.4\n% a tiny stand-in for a PDF\n%%EOF\n");

    private MailSinkHost Host => shared.Host;

    /// <summary>A multipart message with text and HTML alternatives, an inline image and an attachment.</summary>
    internal static MimeMessage RichMessage(string inbox)
    {
        var builder = new BodyBuilder
        {
            TextBody = "Hello Jane,\n\nYour verification code is 123456.\nConfirm at https://example.com/confirm?token=abc.\nOr use backup code G3H1Y2.\n",
        };
        var logo = builder.LinkedResources.Add("logo.png", Png, new ContentType("image", "png"));
        logo.ContentId = "logo@mailsink";
        builder.HtmlBody = """
            <html><head><style>p { color: red }</style><script>var x = 999999;</script></head>
            <body><p>Hello Jane,</p><p>Your code is <b>5H0Y2</b>.</p>
            <a href="https://example.com/signup">Sign Up Now</a>
            <a href="https://example.com/img"><img src="cid:logo@mailsink" alt="Logo"></a>
            <img src="https://example.com/pixel.gif">
            <p>Copyright 2024, 100 Main St, 12:30 on 2024-01-02.</p></body></html>
            """;
        builder.Attachments.Add("invoice.pdf", Pdf, new ContentType("application", "pdf"));

        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Acme", "noreply@acme.example"));
        message.To.Add(new MailboxAddress("Jane Doe", $"jane@{inbox}.localhost"));
        message.Cc.Add(new MailboxAddress("", $"carbon@{inbox}.localhost"));
        message.Subject = "Welcome to Acme";
        message.MessageId = MimeUtils.GenerateMessageId("acme.example");
        message.Body = builder.ToMessageBody();
        return message;
    }

    [Fact]
    public async Task A_rich_message_reads_back_in_mailosaurs_shape()
    {
        var inbox = MailSinkHost.NewInbox();
        var message = RichMessage(inbox);
        var reply = await SmtpSend.MessageAsync(Host.SmtpPort, message, output, MailboxAddress.Parse("bounce@acme.example"),
            [MailboxAddress.Parse($"jane@{inbox}.localhost"), MailboxAddress.Parse($"carbon@{inbox}.localhost"), MailboxAddress.Parse($"hidden@{inbox}.localhost")]);
        var id = SmtpSend.StoredId(reply);

        var json = JsonNode.Parse((await Host.GetJsonAsync($"/api/messages/{id}")).GetRawText())!.AsObject();
        Assert.Equal(id, (string?)json["id"]);
        Assert.True(DateTimeOffset.Parse((string)json["received"]!) > DateTimeOffset.UtcNow.AddMinutes(-1));

        var attachments = json["attachments"]!.AsArray();
        Assert.Equal(2, attachments.Count);
        var baseUrl = Host.BaseUrl.TrimEnd('/');
        foreach (var attachment in attachments)
            Assert.Equal($"{baseUrl}/api/files/attachments/{(string?)attachment!["id"]}", (string?)attachment["url"]);
        var metadata = json["metadata"]!.AsObject();
        Assert.Contains(metadata["headers"]!.AsArray(), h => (string?)h!["field"] == "Message-Id" && (string?)h["value"] == $"<{message.MessageId}>");
        Assert.StartsWith("127.0.0.1:", (string?)metadata["remoteAddress"]);

        // Everything else, exactly.
        var html = (string?)json["html"]!["body"];
        var text = (string?)json["text"]!["body"];
        Assert.Contains("<b>5H0Y2</b>", html);
        Assert.StartsWith("Hello Jane,", text);
        foreach (var volatileField in new[] { "id", "received", "attachments", "metadata" })
            json.Remove(volatileField);
        json["html"]!.AsObject().Remove("body");
        json["text"]!.AsObject().Remove("body");

        var expected = JsonNode.Parse($$"""
            {
              "type": "Email",
              "server": "{{inbox}}",
              "subject": "Welcome to Acme",
              "from": [ { "name": "Acme", "email": "noreply@acme.example" } ],
              "to": [ { "name": "Jane Doe", "email": "jane@{{inbox}}.localhost" } ],
              "cc": [ { "name": "", "email": "carbon@{{inbox}}.localhost" } ],
              "bcc": [ { "name": "", "email": "hidden@{{inbox}}.localhost" } ],
              "html": {
                "links": [
                  { "href": "https://example.com/signup", "text": "Sign Up Now" },
                  { "href": "https://example.com/img", "text": null }
                ],
                "codes": [ { "value": "5H0Y2" } ],
                "images": [
                  { "src": "cid:logo@mailsink", "alt": "Logo" },
                  { "src": "https://example.com/pixel.gif", "alt": null }
                ]
              },
              "text": {
                "links": [ { "href": "https://example.com/confirm?token=abc", "text": "https://example.com/confirm?token=abc" } ],
                "codes": [ { "value": "123456" }, { "value": "G3H1Y2" } ]
              },
              "size": {{(long)json["size"]!}}
            }
            """);
        Assert.True(JsonNode.DeepEquals(expected, json), $"expected:\n{expected}\nactual:\n{json}");

        var summary = Assert.Single(await Host.ListAsync(inbox));
        Assert.Equal(2, summary.GetProperty("attachments").GetInt32());
        Assert.StartsWith("Hello Jane, Your verification code is 123456.", summary.GetProperty("summary").GetString());
        Assert.Equal("Welcome to Acme", summary.GetProperty("subject").GetString());
    }

    [Fact]
    public async Task Attachments_download_decoded_with_their_type_and_name_and_the_raw_message_is_byte_exact()
    {
        var inbox = MailSinkHost.NewInbox();
        var message = RichMessage(inbox);
        var id = SmtpSend.StoredId(await SmtpSend.MessageAsync(Host.SmtpPort, message, output));
        var full = await Host.GetJsonAsync($"/api/messages/{id}");
        var attachments = full.GetProperty("attachments").EnumerateArray().ToArray();

        var logo = attachments.Single(a => a.GetProperty("contentId").GetString() == "logo@mailsink");
        Assert.Equal("image/png", logo.GetProperty("contentType").GetString());
        Assert.Equal(Png.Length, logo.GetProperty("length").GetInt64());
        using (var response = await Host.Http.GetAsync(new Uri(logo.GetProperty("url").GetString()!)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/png", response.Content.Headers.ContentType!.MediaType);
            Assert.Equal(Png, await response.Content.ReadAsByteArrayAsync());
        }

        var pdf = attachments.Single(a => a.GetProperty("fileName").GetString() == "invoice.pdf");
        using (var response = await Host.Http.GetAsync($"/api/files/attachments/{pdf.GetProperty("id").GetString()}"))
        {
            Assert.Equal("application/pdf", response.Content.Headers.ContentType!.MediaType);
            Assert.Equal("invoice.pdf", response.Content.Headers.ContentDisposition!.FileName);
            Assert.Equal("attachment", response.Content.Headers.ContentDisposition.DispositionType);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Contains("sandbox", response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal(Pdf, await response.Content.ReadAsByteArrayAsync());
        }

        using (var response = await Host.Http.GetAsync($"/api/files/email/{id}"))
        {
            Assert.Equal("message/rfc822", response.Content.Headers.ContentType!.MediaType);
            using var expected = new MemoryStream();
            var wire = FormatOptions.Default.Clone();
            wire.NewLineFormat = NewLineFormat.Dos; // what SMTP carries
            await message.WriteToAsync(wire, expected);
            Assert.Equal(expected.ToArray(), await response.Content.ReadAsByteArrayAsync());
        }

        // An attachment id is not a message id, and the other way round.
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/messages/{pdf.GetProperty("id").GetString()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/files/attachments/{id}")).StatusCode);
    }

    [Fact]
    public async Task Delete_one_gives_204_then_404_and_delete_all_empties_only_that_inbox()
    {
        var inbox = MailSinkHost.NewInbox();
        var other = MailSinkHost.NewInbox();
        var first = SmtpSend.StoredId(await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "one", "1")));
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "two", "2"));
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"a@{other}.localhost", "keep", "3"));

        Assert.Equal(HttpStatusCode.NoContent, (await Host.Http.DeleteAsync($"/api/messages/{first}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.DeleteAsync($"/api/messages/{first}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/messages/{first}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/files/email/{first}")).StatusCode);
        Assert.Equal("two", Assert.Single(await Host.ListAsync(inbox)).GetProperty("subject").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await Host.Http.DeleteAsync($"/api/messages?server={inbox}")).StatusCode);
        Assert.Empty(await Host.ListAsync(inbox));
        Assert.Single(await Host.ListAsync(other));

        var server = await Host.GetJsonAsync($"/api/servers/{inbox}");
        Assert.Equal(0, server.GetProperty("messages").GetInt64());
    }

    [Fact]
    public async Task Received_after_and_paging_limit_the_list()
    {
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "old", "1"));
        var oldReceived = (await Host.ListAsync(inbox))[0].GetProperty("received").GetString()!;
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "new", "2"));

        var after = await Host.GetJsonAsync($"/api/messages?server={inbox}&receivedAfter={Uri.EscapeDataString(oldReceived)}");
        Assert.Equal("new", Assert.Single(after.GetProperty("items").EnumerateArray()).GetProperty("subject").GetString());

        // Pasted into a URL as it is, the offset's '+' arrives as a space: it is read as the '+' it was.
        Assert.EndsWith("+00:00", oldReceived, StringComparison.Ordinal);
        var pasted = await Host.GetJsonAsync($"/api/messages?server={inbox}&receivedAfter={oldReceived}");
        Assert.Equal("new", Assert.Single(pasted.GetProperty("items").EnumerateArray()).GetProperty("subject").GetString());

        var capped = await Host.GetJsonAsync($"/api/messages?server={inbox}&itemsPerPage=5000&page=0");
        Assert.Equal(2, capped.GetProperty("items").GetArrayLength());
        var unknown = await Host.GetJsonAsync("/api/messages?server=nosuchinbox");
        Assert.Equal(0, unknown.GetProperty("items").GetArrayLength());
    }

    private const string DateError = "receivedAfter must be an ISO 8601 date and time, such as 2026-01-31T12:00:00Z or 2026-01-31T13:00:00%2B01:00 (a + written %2B in a URL).";

    [Theory]
    [InlineData("/api/messages", "server", "Specify the server (inbox) id, e.g. ?server=abcd1234.")]
    [InlineData("/api/messages?server=x&page=-1", "page", "page must be a whole number, 0 or more.")]
    [InlineData("/api/messages?server=x&itemsPerPage=abc", "itemsPerPage", "itemsPerPage must be a whole number from 1 to 1000.")]
    [InlineData("/api/messages?server=x&itemsPerPage=0", "itemsPerPage", "itemsPerPage must be a whole number from 1 to 1000.")]
    [InlineData("/api/messages?server=x&receivedAfter=yesterday", "receivedAfter", DateError)]
    [InlineData("/api/messages?server=x&receivedAfter=06/12/2026", "receivedAfter", DateError)] // not read as 12 June
    [InlineData("/api/messages?server=x&receivedAfter=Dec%206%202026", "receivedAfter", DateError)]
    public async Task Bad_query_parameters_get_a_400_in_mailosaurs_error_shape(string path, string field, string description)
    {
        using var response = await Host.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        var first = error.GetProperty("errors")[0];
        Assert.Equal(field, first.GetProperty("field").GetString());
        Assert.Equal(description, first.GetProperty("detail")[0].GetProperty("description").GetString());
    }

    /// <summary>A GUID is the same in capitals: an id copied through a tool that upper-cases it still finds its message.</summary>
    [Fact]
    public async Task A_message_id_in_capitals_finds_the_message_everywhere()
    {
        var inbox = MailSinkHost.NewInbox();
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("a@example.com"));
        message.To.Add(MailboxAddress.Parse($"x@{inbox}.localhost"));
        message.Subject = "capitals";
        var body = new BodyBuilder { TextBody = "see attached" };
        body.Attachments.Add("a.txt", Encoding.ASCII.GetBytes("attached"));
        message.Body = body.ToMessageBody();
        var id = SmtpSend.StoredId(await SmtpSend.MessageAsync(Host.SmtpPort, message, output));
        var attachment = (await Host.GetJsonAsync($"/api/messages/{id}")).GetProperty("attachments")[0].GetProperty("id").GetString()!;
        Assert.Matches("[a-f]", id + attachment); // there is something to upper-case

        var upper = id.ToUpperInvariant();
        Assert.Equal(id, (await Host.GetJsonAsync($"/api/messages/{upper}")).GetProperty("id").GetString());
        Assert.Equal(await Host.RawAsync(id), await Host.Http.GetByteArrayAsync($"/api/files/email/{upper}"));
        Assert.Equal("attached", await Host.Http.GetStringAsync($"/api/files/attachments/{attachment.ToUpperInvariant()}"));
        Assert.Equal(HttpStatusCode.NoContent, (await Host.Http.DeleteAsync($"/api/messages/{upper}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/messages/{id}")).StatusCode);
    }

    [Fact]
    public async Task Unknown_ids_are_404_everywhere()
    {
        var unknown = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/messages/{unknown}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/files/email/{unknown}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/files/attachments/{unknown}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync("/api/servers/zzzzzzzz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Http.GetAsync("/api/messages/..%2F..%2Fetc%2Fpasswd")).StatusCode);
    }
}

public sealed class LiteDbMessagesApiTests(SharedHost shared, ITestOutputHelper output) : MessagesApiTests(shared, output), IClassFixture<SharedHost>;

public sealed class PostgreSqlMessagesApiTests(PostgreSqlSharedHost shared, ITestOutputHelper output) : MessagesApiTests(shared, output), IClassFixture<PostgreSqlSharedHost>;
