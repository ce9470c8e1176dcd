using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;

namespace MailSink.Tests.Fuzz;

/// <summary>
/// Issue 5, items 4 and 5: search criteria arrive as JSON from anyone who can reach the API. Whatever the
/// body (random JSON, damaged JSON, invalid UTF-8, deep nesting), search answers 200 or a Mailosaur-shaped
/// 400, await answers 200, 400 or 408, never 500.
/// </summary>
public sealed class SearchCriteriaFuzzTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private static readonly string[] Keys =
    [
        "sentFrom", "sentTo", "subject", "body", "match", "SentFrom", "SENTTO", "Subject", "Body", "Match", "MATCH", "",
        "sent_from", "subject\u0000", "\u017fubject", "body ", "$where", "__proto__",
    ];

    private static readonly string[] Dictionary =
    [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u0000", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\uZZZZ", "null", "true",
        "1e400", "-0", "0x10", "NaN", "\"ALL\"", "\"ANY\"", "\"match\":1", "\"match\":2", "\"subject\":\"", "/*", "*/", "\ufeff",
    ];

    private MailSinkHost Host => shared.Host;

    [Fact]
    public async Task Any_request_body_gets_200_or_400_from_search_and_never_500_from_await()
    {
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"fuzz@{inbox}.localhost", "Fuzz subject 123456", "Fuzz body text"));
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"other@{inbox}.localhost", "Straße ünïcödé", "ß and ſ and ı", "ſender@example.com"));

        await FuzzRun.RunAsync("search-json", output, async input =>
        {
            var random = input.Random;
            byte[] body = input.Literal is { } literal
                ? Encoding.UTF8.GetBytes(literal)
                : random.Next(5) switch
                {
                    0 => Encoding.UTF8.GetBytes(Mutator.Mutate(random, input.PickCorpus(), Dictionary, input.PickCorpus())),
                    1 => Encoding.UTF8.GetBytes(Mutator.Mutate(random, Criteria(random), Dictionary)),
                    2 => MutateBytes(random, Encoding.UTF8.GetBytes(Criteria(random))),
                    _ => Encoding.UTF8.GetBytes(Criteria(random)),
                };
            var query = input.Literal is null && random.Next(4) == 0 ? RandomQuery(random) : "";
            var seen = new List<string>();

            var json = input.Literal is not null || random.Next(8) != 0;
            var search = await PostAsync($"/api/messages/search?server={inbox}{query}", body, json);
            if (!(search.Status is HttpStatusCode.OK or HttpStatusCode.BadRequest || (!json && search.Status == HttpStatusCode.UnsupportedMediaType)))
                throw new FuzzFinding($"search answered {(int)search.Status}", $"to {FuzzRun.Show(Encoding.UTF8.GetString(body))} (query '{query}'): {search.Text}");
            seen.Add($"search {Describe(search)}");

            var wait = await PostAsync($"/api/messages/await?server={inbox}&timeout=0{query}", body, json);
            if (!(wait.Status is HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.RequestTimeout || (!json && wait.Status == HttpStatusCode.UnsupportedMediaType)))
                throw new FuzzFinding($"await answered {(int)wait.Status}", $"to {FuzzRun.Show(Encoding.UTF8.GetString(body))} (query '{query}'): {wait.Text}");
            seen.Add($"await {Describe(wait)}");
            return seen;
        });
    }

    private sealed record Answer(HttpStatusCode Status, string Text);

    /// <summary>
    /// Posts the body as application/json, or (<paramref name="json"/> false) as text/plain, which is a 415
    /// before any endpoint runs (JsonBodyMiddleware, or routing for an empty body).
    /// </summary>
    private async Task<Answer> PostAsync(string path, byte[] body, bool json)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(json ? "application/json" : "text/plain");
        using var response = await Host.Http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            // The documented error shape, which Mailosaur's clients read.
            using var error = JsonDocument.Parse(text);
            var first = error.RootElement.GetProperty("errors")[0];
            Assert.False(string.IsNullOrEmpty(first.GetProperty("field").GetString()));
            Assert.False(string.IsNullOrEmpty(first.GetProperty("detail")[0].GetProperty("description").GetString()));
        }

        return new Answer(response.StatusCode, text);
    }

    /// <summary>Status and, for a 400, the field and the first words of the description: the kind of answer.</summary>
    private static string Describe(Answer answer)
    {
        if (answer.Status != HttpStatusCode.BadRequest)
            return ((int)answer.Status).ToString(CultureInfo.InvariantCulture);
        using var error = JsonDocument.Parse(answer.Text);
        var first = error.RootElement.GetProperty("errors")[0];
        var description = first.GetProperty("detail")[0].GetProperty("description").GetString()!;
        return $"400 {first.GetProperty("field").GetString()}: {string.Join(' ', description.Split(' ').Take(6))}";
    }

    private static string RandomQuery(Random random) => random.Next(4) switch
    {
        0 => $"&page={random.Pick(["0", "1", "-1", "99999999999", "x", "", "1.5"])}",
        1 => $"&itemsPerPage={random.Pick(["0", "1", "1000", "1001", "-5", "abc", "2147483648"])}",
        2 => $"&receivedAfter={Uri.EscapeDataString(random.Pick(["2020-01-01T00:00:00Z", "9999-12-31T23:59:59.9999999Z", "0001-01-01", "yesterday", "", "2024-02-30"]))}",
        _ => $"&timeout={random.Pick(["-1", "x", "300001", "1"])}",
    };

    /// <summary>A random JSON document, mostly an object with criteria-like members.</summary>
    private static string Criteria(Random random)
    {
        var builder = new StringBuilder();
        if (random.Next(10) == 0)
            Value(random, builder, 0);
        else
            Object(random, builder, 0);
        return builder.ToString();
    }

    private static void Object(Random random, StringBuilder builder, int depth)
    {
        builder.Append('{');
        var count = random.Next(0, 6);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
                builder.Append(',');
            builder.Append(JsonString(random.Next(6) == 0 ? Mutator.RandomChars(random, random.Next(0, 8)) : random.Pick(Keys), random)).Append(':');
            Value(random, builder, depth + 1);
        }

        builder.Append('}');
    }

    private static void Value(Random random, StringBuilder builder, int depth)
    {
        if (random.Next(40) == 0)
        {
            // Deeper than the JSON reader's limit of 64.
            var levels = random.Next(60, 200);
            builder.Append(new string('[', levels)).Append('1').Append(new string(']', levels));
            return;
        }

        switch (random.Next(depth > 8 ? 5 : 8))
        {
            case 0:
                builder.Append(random.Pick(["null", "true", "false"]));
                break;
            case 1:
                builder.Append(random.Pick(["0", "1", "-1", "2", "1.0", "1e400", "-1e-400", "99999999999999999999", "0.5", "2147483648"]));
                break;
            case 2 or 3 or 4:
                builder.Append(JsonString(random.Pick(["ALL", "ANY", "all", "Any", "fuzz@example.com", "Fuzz", "123456", "", "ß", "ſ", "body"]), random));
                break;
            case 5:
                builder.Append(JsonString(Mutator.RandomChars(random, random.Next(0, 40)), random));
                break;
            case 6:
                builder.Append('[');
                for (var i = random.Next(0, 4); i > 0; i--)
                {
                    Value(random, builder, depth + 1);
                    if (i > 1)
                        builder.Append(',');
                }

                builder.Append(']');
                break;
            default:
                Object(random, builder, depth + 1);
                break;
        }
    }

    /// <summary>A JSON string literal; lone surrogates and control characters as \u escapes, sometimes raw.</summary>
    private static string JsonString(string value, Random random)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in value)
        {
            if (c is '"' or '\\')
                builder.Append('\\').Append(c);
            else if (char.IsControl(c) || char.IsSurrogate(c) || random.Next(30) == 0)
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            else
                builder.Append(c);
        }

        return builder.Append('"').ToString();
    }

    private static byte[] MutateBytes(Random random, byte[] bytes)
    {
        var list = bytes.ToList();
        for (var i = random.Next(1, 6); i > 0; i--)
        {
            var at = random.Next(list.Count + 1);
            switch (random.Next(3))
            {
                case 0:
                    list.Insert(at, (byte)random.Pick([0xFF, 0xC3, 0xED, 0xA0, 0x80, 0xF4, 0x90, 0x00, 0xEF, 0xBB, 0xBF]));
                    break;
                case 1 when list.Count > 0:
                    list[Math.Min(at, list.Count - 1)] = (byte)random.Next(256);
                    break;
                default:
                    list.RemoveRange(Math.Min(at, list.Count), Math.Min(list.Count - Math.Min(at, list.Count), random.Next(1, 4)));
                    break;
            }
        }

        return [.. list];
    }
}
