using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;
using MimeKit;

namespace MailSink.Tests.Api;

/// <summary>POST api/messages/search with both wire forms of Mailosaur's criteria, on every engine.</summary>
public abstract class SearchApiTests(SearchApiTests.SeededHost fixture)
{
    /// <summary>One inbox with four known messages, on LiteDB or on PostgreSQL (in a database of its own).</summary>
    public abstract class SeededHost(bool postgreSql) : IAsyncLifetime
    {
        private readonly PostgreSqlDatabase? _database = postgreSql ? new() : null;

        public MailSinkHost Host { get; private set; } = null!;

        public string Inbox { get; } = MailSinkHost.NewInbox();

        public async Task InitializeAsync()
        {
            if (_database is not null)
                await _database.InitializeAsync();
            Host = await MailSinkHost.StartAsync(_database?.HostSettings ?? []);
            await Send("alice@example.com", $"bob@{Inbox}.localhost", null, "Invoice 42 (final) [paid]", "Total: $10.00 *.* done", null);
            await Send("carol@example.com", $"dave@{Inbox}.localhost", $"erin@{Inbox}.localhost", "Password reset", "Use the link", "<p>Reset it <a href=\"https://x.example/r\">here</a></p>");
            await Send("Alice@Example.com", $"frank@{Inbox}.localhost", null, "Welcome", "plain words", null, bcc: $"ghost@{Inbox}.localhost");
            await Send("zed@example.com", $"bob@{Inbox}.localhost", null, "Other", "nothing special", null);
        }

        private async Task Send(string from, string to, string? cc, string subject, string text, string? html, string? bcc = null)
        {
            var builder = new BodyBuilder { TextBody = text, HtmlBody = html };
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse(from));
            message.To.Add(MailboxAddress.Parse(to));
            if (cc is not null)
                message.Cc.Add(MailboxAddress.Parse(cc));
            message.Subject = subject;
            message.Body = builder.ToMessageBody();
            var recipients = message.To.Mailboxes.Concat(message.Cc.Mailboxes).ToList();
            if (bcc is not null)
                recipients.Add(MailboxAddress.Parse(bcc));
            await SmtpSend.MessageAsync(Host.SmtpPort, message, sender: MailboxAddress.Parse(from), recipients: recipients);
        }

        public async Task DisposeAsync()
        {
            await Host.DisposeAsync();
            if (_database is not null)
                await _database.DisposeAsync();
        }
    }

    private async Task<(HttpResponseMessage Response, string[] Subjects)> SearchAsync(string json, string query = "")
    {
        var response = await fixture.Host.Http.PostAsync(
            $"/api/messages/search?server={fixture.Inbox}{query}",
            new StringContent(json, Encoding.UTF8, "application/json"));
        if (response.StatusCode != HttpStatusCode.OK)
            return (response, []);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (response, body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("subject").GetString()!).ToArray());
    }

    [Theory]
    [InlineData("""{"sentFrom":"alice@example.com"}""", new[] { "Welcome", "Invoice 42 (final) [paid]" })]
    [InlineData("""{"sentTo":"ERIN@{inbox}.localhost"}""", new[] { "Password reset" })]
    [InlineData("""{"sentTo":"ghost@{inbox}.localhost"}""", new[] { "Welcome" })]
    [InlineData("""{"subject":"invoice 42 (FINAL) [paid]"}""", new[] { "Invoice 42 (final) [paid]" })]
    [InlineData("""{"body":"*.*"}""", new[] { "Invoice 42 (final) [paid]" })]
    [InlineData("""{"body":"reset it"}""", new[] { "Password reset" })]
    [InlineData("""{"subject":".*"}""", new string[0])]
    [InlineData("""{"sentFrom":"alice@example.com","subject":"welcome"}""", new[] { "Welcome" })]
    [InlineData("""{"sentFrom":"alice@example.com","subject":"welcome","match":"ALL"}""", new[] { "Welcome" })]
    [InlineData("""{"sentFrom":"zed@example.com","subject":"welcome","match":"ANY"}""", new[] { "Other", "Welcome" })]
    [InlineData("""{"SentFrom":null,"SentTo":"bob@{inbox}.localhost","Subject":null,"Body":null,"Match":0}""", new[] { "Other", "Invoice 42 (final) [paid]" })]
    [InlineData("""{"SentFrom":"zed@example.com","SentTo":null,"Subject":"Password","Body":null,"Match":1}""", new[] { "Other", "Password reset" })]
    [InlineData("""{"sentFrom":null,"sentTo":null,"subject":"Password","body":null,"match":"any"}""", new[] { "Password reset" })]
    [InlineData("\uFEFF{\"subject\":\"welcome\"}", new[] { "Welcome" })] // a UTF-8 byte order mark first, as Windows editors save a file
    public async Task Criteria_match_case_insensitively_as_plain_text_in_both_wire_forms(string criteria, string[] expected)
    {
        var (response, subjects) = await SearchAsync(criteria.Replace("{inbox}", fixture.Inbox, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, subjects);
        Assert.Equal("100,100,200,300,500", response.Headers.GetValues("x-ms-delay").Single());
    }

    [Fact]
    public async Task Search_pages_newest_first()
    {
        var (_, first) = await SearchAsync("""{"sentTo":"bob@""" + fixture.Inbox + """.localhost"}""", "&page=0&itemsPerPage=1");
        var (_, second) = await SearchAsync("""{"sentTo":"bob@""" + fixture.Inbox + """.localhost"}""", "&page=1&itemsPerPage=1");
        Assert.Equal(["Other"], first);
        Assert.Equal(["Invoice 42 (final) [paid]"], second);
    }

    [Theory]
    [InlineData("{}", "criteria", "Give at least one of sentFrom, sentTo, subject or body.")]
    [InlineData("""{"SentFrom":null,"SentTo":null,"Subject":null,"Body":null,"Match":0}""", "criteria", "Give at least one of sentFrom, sentTo, subject or body.")]
    [InlineData("", "criteria", "A JSON object is required in the request body.")]
    [InlineData("\uFEFF \r\n", "criteria", "A JSON object is required in the request body.")]
    [InlineData("[1,2]", "criteria", "The request body must be a JSON object.")]
    [InlineData("{not json", "criteria", null)]
    [InlineData("""{"subject":"x","match":"SOME"}""", "match", "match must be \"ALL\" or \"ANY\" (or 0 or 1).")]
    [InlineData("""{"subject":"x","match":7}""", "match", "match must be \"ALL\" or \"ANY\" (or 0 or 1).")]
    [InlineData("""{"subject":42}""", "subject", "subject must be a string.")]
    public async Task Bad_criteria_are_a_400_never_a_500(string body, string field, string? description)
    {
        var (response, _) = await SearchAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(field, error.GetProperty("errors")[0].GetProperty("field").GetString());
        var text = error.GetProperty("errors")[0].GetProperty("detail")[0].GetProperty("description").GetString();
        if (description is null)
            Assert.StartsWith("The request body is not valid JSON", text);
        else
            Assert.Equal(description, text);
    }

    [Fact]
    public async Task A_body_that_is_not_json_gets_415_with_the_documented_error_shape()
    {
        using var response = await fixture.Host.Http.PostAsync(
            $"/api/messages/search?server={fixture.Inbox}", new StringContent("subject=x", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Content-Type", error.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.StartsWith("Send the request body as JSON", error.GetProperty("messages").GetProperty("Content-Type").GetString());
    }

    [Fact]
    public async Task Search_without_a_server_is_a_400()
    {
        using var response = await fixture.Host.Http.PostAsync("/api/messages/search", new StringContent("""{"subject":"x"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>
    /// A server no inbox can have (the whole domain, say) is a 400 that names the inbox meant, on every call
    /// that takes one: a list of it was empty for ever, and a test waited on it for nothing.
    /// </summary>
    [Theory]
    [InlineData("GET", "/api/messages?server=myinbox.localhost", " For mail to anything@myinbox.localhost, the inbox is myinbox.")]
    [InlineData("POST", "/api/messages/search?server=myinbox.localhost", " For mail to anything@myinbox.localhost, the inbox is myinbox.")]
    [InlineData("POST", "/api/messages/await?server=a%2Fb&timeout=100", "")]
    [InlineData("DELETE", "/api/messages?server=..", "")]
    [InlineData("GET", "/api/events?server=myinbox.localhost", " For mail to anything@myinbox.localhost, the inbox is myinbox.")]
    public async Task A_server_that_no_inbox_can_have_is_a_400_naming_the_inbox_meant(string method, string path, string hint)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
            request.Content = new StringContent("""{"subject":"x"}""", Encoding.UTF8, "application/json");
        using var response = await fixture.Host.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"server must be an inbox id: letters, digits, '-' or '_'.{hint}", error.GetProperty("errors")[0].GetProperty("detail")[0].GetProperty("description").GetString());
    }
}

public sealed class LiteDbSearchApiTests(LiteDbSearchApiTests.Seeded fixture) : SearchApiTests(fixture), IClassFixture<LiteDbSearchApiTests.Seeded>
{
    public sealed class Seeded() : SeededHost(postgreSql: false);
}

public sealed class PostgreSqlSearchApiTests(PostgreSqlSearchApiTests.Seeded fixture) : SearchApiTests(fixture), IClassFixture<PostgreSqlSearchApiTests.Seeded>
{
    public sealed class Seeded() : SeededHost(postgreSql: true);
}
