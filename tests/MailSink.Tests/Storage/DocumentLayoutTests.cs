using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LiteDB;
using MailSink.Storage;
using MailSink.Tests.Support;

namespace MailSink.Tests.Storage;

/// <summary>
/// What an engine stores of a message leaves out what it can (LiteDB: fields at their default, what the key
/// says; PostgreSQL: what listings do not need is apart from what they do). Whatever is left out must read
/// back exactly as it was written, and a listing must show what the full message has.
/// </summary>
public abstract class DocumentLayoutTests(StorageEngine engine, PostgreSqlDatabase? database = null)
{
    protected Task<StorageHarness> StartStorageAsync() => StorageHarness.StartAsync(engine, database);

    protected static readonly (string Name, string Raw, SmtpEnvelope Envelope)[] Shapes =
    [
        ("plain", "From: a@b.example\r\nTo: x@layout.localhost\r\nSubject: plain\r\n\r\nhello\r\n",
            new SmtpEnvelope("a@b.example", ["x@layout.localhost"], "test", null, null, null, false)),
        ("empty", "", new SmtpEnvelope("", ["x@layout.localhost"], null, null, null, null, false)),
        ("named, Cc, Bcc, SMTPUTF8, TLS, AUTH, two inboxes",
            "From: \"Ann Example\" <ann@b.example>\r\nTo: Bob <x@layout.localhost>, y@other.localhost\r\nCc: \"\" <cc@c.example>\r\n"
            + "Subject: =?UTF-8?B?w6nDqQ==?=\r\nMessage-ID: <id@b.example>\r\nDate: Tue, 3 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n",
            new SmtpEnvelope("ann@b.example", ["x@layout.localhost", "y@other.localhost", "hidden@layout.localhost"], "client.example", "127.0.0.1:4000", "Tls13", "ann", true)),
        ("HTML with links, images, codes and attachments",
            "From: a@b.example\r\nTo: x@layout.localhost\r\nSubject: rich\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
            + "--b\r\nContent-Type: text/html\r\n\r\n<p>Your code is 482913</p><a href=\"https://example.com/x\">go</a><a href=\"https://example.com/y\"><img src=\"cid:logo\"></a><img src=\"https://example.com/i.png\" alt=\"\">\r\n"
            + "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n"
            + "--b\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
            + "--b\r\nContent-Type: text/plain; name=empty.txt\r\nContent-Disposition: attachment\r\n\r\n\r\n--b--\r\n",
            new SmtpEnvelope("a@b.example", ["x@layout.localhost"], "test", null, null, null, false)),
        ("malformed, flagged", "From: a@b.example\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n",
            new SmtpEnvelope("a@b.example", ["x@layout.localhost"], "test", null, null, null, false)),
    ];

    public static TheoryData<string> ShapeNames => [.. Shapes.Select(s => s.Name)];

    protected static Task<IReadOnlyList<StoredMessage>> IngestShapeAsync(StorageHarness storage, string name)
    {
        var (_, raw, envelope) = Shapes.Single(s => s.Name == name);
        return storage.Ingest.IngestAsync(Encoding.UTF8.GetBytes(raw), envelope, CancellationToken.None);
    }

    [Theory]
    [MemberData(nameof(ShapeNames), MemberType = typeof(DocumentLayoutTests))]
    public async Task Every_field_reads_back_as_it_was_written(string name)
    {
        await using var storage = await StartStorageAsync();
        var written = await IngestShapeAsync(storage, name);

        foreach (var message in written)
        {
            Assert.Equal(Stored(message), Stored((await storage.Messages.GetAsync(message.Id, default))!));
            Assert.Equal(Json(message), Json((await storage.Messages.GetAsync(message.Id, default))!));
        }
    }

    [Theory]
    [MemberData(nameof(ShapeNames), MemberType = typeof(DocumentLayoutTests))]
    public async Task A_listing_reads_what_a_summary_shows_as_the_full_document_has_it(string name)
    {
        await using var storage = await StartStorageAsync();
        var written = await IngestShapeAsync(storage, name);

        foreach (var inbox in written.Select(m => m.Inbox).Distinct())
        {
            var summaries = await storage.Messages.ListAsync(inbox, 0, 10, null, default);
            var full = new List<StoredMessage>();
            foreach (var summary in summaries)
                full.Add((await storage.Messages.GetAsync(summary.Id, default))!);
            Assert.Equal(full.Select(Summary), summaries.Select(Summary));
            Assert.All(summaries, s => Assert.Empty(s.TextLinks)); // what a listing does not show is not read
        }

        static string Summary(StoredMessage m) => System.Text.Json.JsonSerializer.Serialize(new
        {
            m.Id,
            m.Inbox,
            m.Received,
            m.Subject,
            m.From,
            m.To,
            m.Cc,
            m.Bcc,
            m.Summary,
            Attachments = m.Attachments.Count,
        });
    }

    protected static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    protected static string Json(StoredMessage message) => System.Text.Json.JsonSerializer.Serialize(message, Options);

    /// <summary>Every property that a list or search read gives (the bodies and headers come from the raw message).</summary>
    protected static string Stored(StoredMessage message)
    {
        var json = JsonNode.Parse(Json(message))!.AsObject();
        json.Remove("Text");
        json.Remove("Html");
        json.Remove("Headers");
        return json.ToJsonString(Options);
    }
}

/// <summary>
/// LiteDB's message document leaves out what holds its default ("" , false, 0, empty lists) and what its key
/// already says (inbox, receive time); documents written before, which still hold those fields, read back the same.
/// </summary>
public sealed class LiteDbDocumentLayoutTests() : DocumentLayoutTests(StorageEngine.LiteDb)
{
    [Fact]
    public async Task What_the_key_says_and_defaults_are_not_in_the_document()
    {
        using var directory = new TempDirectory();
        string path;
        await using (var storage = new StorageHarness(directory: directory.Path))
        {
            path = storage.DatabasePath;
            await storage.StoreAsync("x@layout.localhost", "plain");
        }

        using var db = new LiteDatabase(new ConnectionString { Filename = path, Collation = Collation.Binary, ReadOnly = true });
        var document = db.GetCollection("messages").FindAll().Single();
        foreach (var absent in new[] { "Inbox", "ReceivedTicks", "RawId", "RawCompressed", "Copies", "Cc", "Attachments", "TextLinks" })
            Assert.False(document.ContainsKey(absent), $"the document holds {absent}");
        Assert.False(document["Envelope"].AsDocument.ContainsKey("SmtpUtf8"));
        Assert.False(document["To"].AsArray[0].AsDocument.ContainsKey("Name"));
        Assert.StartsWith("layout/", document["Key"].AsString);
    }

    /// <summary>Documents of the earlier layout hold the inbox, receive time, raw id, compression flag and every default.</summary>
    [Fact]
    public async Task Documents_that_still_hold_those_fields_read_back_the_same()
    {
        using var directory = new TempDirectory();
        var (_, raw, envelope) = Shapes.Single(s => s.Name.StartsWith("named", StringComparison.Ordinal));
        IReadOnlyList<StoredMessage> written;
        string path;
        await using (var before = new StorageHarness(directory: directory.Path))
        {
            written = await before.Ingest.IngestAsync(Encoding.UTF8.GetBytes(raw), envelope, CancellationToken.None);
            path = before.DatabasePath;
        }

        using (var db = new LiteDatabase(new ConnectionString { Filename = path, Collation = Collation.Binary }))
        {
            var messages = db.GetCollection("messages");
            var contents = db.GetCollection("contents");
            foreach (var message in written)
            {
                var document = messages.FindById(message.Id);
                document["Inbox"] = message.Inbox;
                document["ReceivedTicks"] = message.ReceivedTicks;
                Assert.True(messages.Update(document));

                // The parsed fields: in the copy, or in what copies to several inboxes share.
                var shared = document.TryGetValue("Content", out var contentId);
                var holder = shared ? contents.FindById(contentId) : messages.FindById(message.Id);
                holder["RawId"] = "";
                holder["RawCompressed"] = holder["RawData"].AsBinary.LongLength != message.Size;
                foreach (var list in new[] { "Bcc", "Attachments", "TextLinks", "HtmlCodes" })
                    holder[list] = holder.TryGetValue(list, out var items) ? items : new BsonArray();
                holder["Envelope"].AsDocument["SmtpUtf8"] = message.Envelope.SmtpUtf8;
                foreach (var address in holder["To"].AsArray)
                    address.AsDocument["Name"] = address.AsDocument.TryGetValue("Name", out var known) ? known : "";
                Assert.True((shared ? contents : messages).Update(holder));
            }
        }

        await using var after = new StorageHarness(directory: directory.Path);
        foreach (var message in written)
            Assert.Equal(Stored(message), Stored((await after.Messages.GetAsync(message.Id, default))!));
    }
}

public sealed class PostgreSqlDocumentLayoutTests(PostgreSqlDatabase database) : DocumentLayoutTests(StorageEngine.PostgreSql, database), IClassFixture<PostgreSqlDatabase>;
