using System.Globalization;
using System.Text;
using LiteDB;
using MailSink.Storage;
using MailSink.Tests.Support;

namespace MailSink.Tests.Storage;

/// <summary>
/// Raw messages are stored compressed, in chunks, and come back byte for byte, on every engine; what is
/// stored of the parsed message keeps no bodies, so a full read takes them from the raw message.
/// </summary>
public abstract class RawStorageTests(StorageEngine engine, PostgreSqlDatabase? database = null)
{
    protected Task<StorageHarness> StartStorageAsync() => StorageHarness.StartAsync(engine, database);

    private static readonly SmtpEnvelope Envelope = new("a@b.example", ["x@raw.localhost"], "test", null, null, null, false);

    protected static byte[] Text(int length)
    {
        var text = new StringBuilder("Subject: text\r\n\r\n");
        for (var line = 0; text.Length < length; line++)
            text.Append(CultureInfo.InvariantCulture, $"{line:D5} the quick brown fox jumps over the lazy dog\r\n");
        return Encoding.ASCII.GetBytes(text.ToString()[..length]);
    }

    protected static byte[] Noise(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Built in the test, not in the theory data: xUnit serialises theory data at discovery, megabytes and all.</summary>
    private static readonly Dictionary<string, Func<byte[]>> Messages = new()
    {
        ["empty"] = () => [],
        ["one byte"] = () => [(byte)'x'],
        ["2 KB of text"] = () => Text(2048),
        ["1 KB of random bytes, kept in the document as they are"] = () => Noise(1024, 3),
        ["64 KB of random bytes, which do not compress"] = () => Noise(64 * 1024, 1),
        ["exactly one chunk of text"] = () => Text(RawMessage.ChunkBytes),
        ["one byte over a chunk"] = () => Text(RawMessage.ChunkBytes + 1),
        ["three chunks: text, noise, text"] = () => [.. Text(RawMessage.ChunkBytes), .. Noise(RawMessage.ChunkBytes, 2), .. Text(1000)],
    };

    public static TheoryData<string> MessageNames => [.. Messages.Keys];

    [Theory]
    [MemberData(nameof(MessageNames))]
    public async Task A_stored_message_reads_back_byte_for_byte(string name)
    {
        var raw = Messages[name]();
        await using var storage = await StartStorageAsync();

        var stored = await storage.Ingest.IngestAsync(raw, Envelope, CancellationToken.None);

        var read = await storage.Messages.GetRawAsync(stored[0].Id, default);
        Assert.True(raw.AsSpan().SequenceEqual(read), name);
    }

    [Fact]
    public async Task A_full_read_gives_the_bodies_a_list_does_not_carry_them()
    {
        await using var storage = await StartStorageAsync();
        var raw = Encoding.UTF8.GetBytes(
            "Subject: both\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
            + "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain caf\u00e9\r\n"
            + "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html caf\u00e9</p>\r\n--b--\r\n");
        var stored = (await storage.Ingest.IngestAsync(raw, Envelope, CancellationToken.None))[0];

        var listed = Assert.Single(await storage.Messages.ListAsync("raw", 0, 10, null, default));
        var read = (await storage.Messages.GetAsync(stored.Id, default))!;

        Assert.Null(listed.Text);
        Assert.Null(listed.Html);
        Assert.Equal(stored.Text, read.Text);
        Assert.Equal(stored.Html, read.Html);
        Assert.Equal("plain caf\u00e9", read.Text!.TrimEnd());
        Assert.Equal("<p>html caf\u00e9</p>", read.Html!.TrimEnd());
        Assert.Equal(stored.Summary, read.Summary);
    }

    [Fact]
    public async Task Search_by_body_reads_the_bodies_from_the_raw_messages()
    {
        await using var storage = await StartStorageAsync();
        var wanted = await storage.StoreAsync("a@raw.localhost", "one", body: "your code is in here: NEEDLE-42");
        await storage.StoreAsync("a@raw.localhost", "two", body: "nothing to see");

        var found = (await storage.Messages.SearchAsync("raw", new SearchCriteria(null, null, null, "needle-42"), 0, 10, null, default));

        Assert.Equal([wanted.Id], found.Select(m => m.Id));
    }

    protected static byte[] LargeMessage() => [.. Encoding.ASCII.GetBytes("Subject: large\r\n\r\n"), .. Encoding.ASCII.GetBytes(Convert.ToBase64String(Noise(48 * 1024, 4)))];

    protected static readonly SmtpEnvelope TwoInboxes = new("a@b.example", ["x@one.localhost", "y@two.localhost"], "test", null, null, null, false);

    /// <summary>Through the seam: the copies read the same bytes, which are counted once, until the last copy takes them along.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Copies_in_two_inboxes_read_one_stored_message_until_the_last_one_goes(bool large)
    {
        await using var storage = await StartStorageAsync();
        var raw = large ? LargeMessage() : Text(2048);
        var before = await storage.StoredBytesAsync();
        var alone = (await storage.Ingest.IngestAsync(raw, new SmtpEnvelope("a@b.example", ["x@one.localhost"], "test", null, null, null, false), CancellationToken.None))[0];
        var once = await storage.StoredBytesAsync() - before;
        Assert.True(await storage.Messages.DeleteAsync(alone.Id, default));
        Assert.Equal(before, await storage.StoredBytesAsync());

        var copies = await storage.Ingest.IngestAsync(raw, TwoInboxes, CancellationToken.None);

        Assert.Equal(["one", "two"], copies.Select(c => c.Inbox));
        Assert.Equal(raw, await storage.Messages.GetRawAsync(copies[0].Id, default));
        Assert.Equal(raw, await storage.Messages.GetRawAsync(copies[1].Id, default));
        var twice = await storage.StoredBytesAsync() - before;
        Assert.True(once > 0 && twice - once < 1024, $"one copy took {once} bytes and two {twice}: their message was counted more than once");
        Assert.True(await storage.Messages.DeleteAsync(copies[0].Id, default));
        Assert.Equal(raw, await storage.Messages.GetRawAsync(copies[1].Id, default));
        Assert.Equal("y", (await storage.Messages.GetAsync(copies[1].Id, default))!.Envelope.RcptTo[1][..1]);
        Assert.True(await storage.StoredBytesAsync() - before > 0);

        Assert.True(await storage.Messages.DeleteAsync(copies[1].Id, default));
        Assert.Null(await storage.Messages.GetRawAsync(copies[1].Id, default));
        Assert.Null(await storage.Messages.GetRawAsync(copies[0].Id, default));
        Assert.Equal(before, await storage.StoredBytesAsync());
    }

    /// <summary>
    /// Messages committed together (the PostgreSQL engine writes a batch's rows with one statement a table,
    /// each row's arrays a slice of one flat array): with none to three attachments, one to three senders and
    /// one or two recipients, some of more than one raw chunk, some to two inboxes. Every copy reads back its
    /// own raw bytes, is found by each of its own addresses and by no other, and lists and downloads its own
    /// attachments, each id distinct.
    /// </summary>
    [Fact]
    public async Task Messages_committed_together_keep_each_one_s_own_raw_bytes_addresses_and_attachments()
    {
        await using var storage = await StartStorageAsync();
        var sent = Enumerable.Range(0, 24).Select(i => (Index: i, Attachments: i % 4, TwoInboxes: i % 3 == 0, Raw: WithAttachments(i, i % 4))).ToArray();
        var stored = await Task.WhenAll(sent.Select(m => storage.Ingest.IngestAsync(m.Raw,
            new SmtpEnvelope("a@b.example", m.TwoInboxes ? ["x@att-one.localhost", "y@att-two.localhost"] : ["x@att-one.localhost"], "test", null, null, null, false),
            CancellationToken.None)));
        Assert.Contains(sent, m => m.Raw.Length > RawMessage.ChunkBytes);

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (m, copies) in sent.Zip(stored))
        {
            Assert.Equal(m.TwoInboxes ? 2 : 1, copies.Count);
            foreach (var copy in copies)
            {
                var raw = await storage.Messages.GetRawAsync(copy.Id, default);
                Assert.True(m.Raw.AsSpan().SequenceEqual(raw), $"message {m.Index}'s raw bytes");
                var read = (await storage.Messages.GetAsync(copy.Id, default))!;
                Assert.Equal(Enumerable.Range(0, m.Attachments).Select(a => $"m{m.Index}-{a}.txt"), read.Attachments.Select(a => a.FileName));
                foreach (var (attachment, a) in read.Attachments.Select((x, a) => (x, a)))
                {
                    Assert.True(ids.Add(attachment.Id), $"attachment id {attachment.Id} given twice");
                    var file = (await storage.Messages.GetAttachmentAsync(attachment.Id, default))!;
                    Assert.Equal($"m{m.Index}-{a}.txt", file.Attachment.FileName);
                    Assert.Equal($"content of message {m.Index}, attachment {a}", Encoding.ASCII.GetString(file.Content));
                }
            }

            var byAddress = Senders(m.Index).Select(from => new SearchCriteria(from, null, null, null))
                .Concat(Recipients(m.Index).Select(to => new SearchCriteria(null, to, null, null)));
            foreach (var criteria in byAddress)
            {
                var found = await storage.Messages.SearchAsync("att-one", criteria, 0, 50, null, default);
                Assert.Equal([$"m{m.Index}"], found.Select(f => f.Subject));
            }
        }
    }

    private static IEnumerable<string> Senders(int index) => Enumerable.Range(0, (index % 3) + 1).Select(k => $"s{index}-{k}@from.example");

    private static IEnumerable<string> Recipients(int index) => Enumerable.Range(0, (index % 2) + 1).Select(k => $"r{index}-{k}@to.example");

    private static byte[] WithAttachments(int index, int attachments)
    {
        var mime = new StringBuilder($"From: {string.Join(", ", Senders(index))}\r\nTo: {string.Join(", ", Recipients(index))}\r\nSubject: m{index}\r\n")
            .Append("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n")
            .Append(CultureInfo.InvariantCulture, $"body {index}\r\n");
        if (index % 8 == 1) // more than one raw chunk
        {
            for (var line = 0; mime.Length < RawMessage.ChunkBytes + 1000; line++)
                mime.Append(CultureInfo.InvariantCulture, $"{index} {line:D6} the quick brown fox jumps over the lazy dog\r\n");
        }

        for (var a = 0; a < attachments; a++)
        {
            mime.Append("--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=").Append(CultureInfo.InvariantCulture, $"m{index}-{a}.txt")
                .Append("\r\nContent-Transfer-Encoding: base64\r\n\r\n")
                .Append(Convert.ToBase64String(Encoding.ASCII.GetBytes($"content of message {index}, attachment {a}"))).Append("\r\n");
        }

        return Encoding.ASCII.GetBytes(mime.Append("--b--\r\n").ToString());
    }
}

/// <summary>LiteDB's packing: chunks, compression flags, documents of earlier layouts.</summary>
public sealed class LiteDbRawStorageTests() : RawStorageTests(StorageEngine.LiteDb)
{
    [Fact]
    public void Text_is_compressed_and_noise_is_kept_as_it_is()
    {
        var text = RawMessage.Pack(Text(2048));
        var noise = RawMessage.Pack(Noise(2048, 3));

        Assert.True(Assert.Single(text.Chunks).Compressed);
        Assert.True(text.StoredBytes < 1024, $"2 KB of text took {text.StoredBytes} bytes");
        Assert.False(Assert.Single(noise.Chunks).Compressed);
        Assert.Equal(2048, noise.StoredBytes);
    }

    [Fact]
    public void A_chunk_written_before_compression_existed_reads_as_it_is()
    {
        var raw = Text(3000);
        var destination = new byte[raw.Length];

        var written = LiteDbStore.UnpackChunk(new BsonDocument { ["_id"] = "old", ["data"] = raw, ["n"] = 1, ["size"] = raw.Length }, destination, 0);

        Assert.Equal(raw.Length, written);
        Assert.Equal(raw, destination);
    }

    [Fact]
    public void A_damaged_compressed_chunk_is_an_error_not_wrong_bytes()
    {
        var packed = RawMessage.Pack(Text(5000)).Chunks[0];
        var damaged = packed.Data.ToArray();
        damaged[damaged.Length / 2] ^= 0xFF;
        damaged = damaged[..^4];

        Assert.Throws<InvalidDataException>(() => LiteDbStore.UnpackChunk(
            new BsonDocument { ["_id"] = "bad", ["data"] = damaged, ["z"] = RawMessage.Brotli }, new byte[5000], 0));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Copies_in_two_inboxes_share_their_message_until_the_last_one_goes(bool large)
    {
        await using var storage = new StorageHarness();
        var raw = large ? LargeMessage() : Text(2048);
        Assert.Equal(!large, RawMessage.Pack(raw).Embedded);
        var before = storage.Store.StoredBytes;

        var copies = await storage.Ingest.IngestAsync(raw, TwoInboxes, CancellationToken.None);

        // One shared content and one raw message, whichever copy is read.
        Assert.Equal((1, large ? 1 : 0), Collections(storage));
        Assert.Equal(raw, await storage.Messages.GetRawAsync(copies[0].Id, default));
        Assert.True(storage.Store.StoredBytes - before < raw.Length + 4096, "the copies' bytes were counted more than once");
        Assert.True(await storage.Messages.DeleteAsync(copies[0].Id, default));
        Assert.Equal(raw, await storage.Messages.GetRawAsync(copies[1].Id, default));
        Assert.Equal("y", (await storage.Messages.GetAsync(copies[1].Id, default))!.Envelope.RcptTo[1][..1]);
        Assert.Equal((1, large ? 1 : 0), Collections(storage));

        Assert.True(await storage.Messages.DeleteAsync(copies[1].Id, default));
        Assert.Null(await storage.Messages.GetRawAsync(copies[1].Id, default));
        Assert.Equal((0, 0), Collections(storage));
        Assert.Equal(before, storage.Store.StoredBytes);
    }

    /// <summary>Documents in <c>contents</c> and raw messages in <c>raw</c>, counted in the file itself.</summary>
    private static (int Contents, int Raw) Collections(StorageHarness storage)
    {
        var db = storage.Store.Database;
        lock (storage.Store.Gate)
            return (db.GetCollection("contents").Count(), db.GetCollection("raw").Count());
    }

    /// <summary>
    /// Databases of an earlier layout kept a full document per inbox copy, the copies sharing a raw message
    /// in <c>raw</c>, found through an index on RawId; opening one records the copies in each document and
    /// drops that index and the ReceivedTicks one, and its copies read and delete as before.
    /// </summary>
    [Fact]
    public async Task A_database_of_an_earlier_layout_is_upgraded_on_open_and_reads_as_before()
    {
        using var directory = new TempDirectory();
        var raw = LargeMessage();
        string path;
        StoredMessage first;
        await using (var before = new StorageHarness(directory: directory.Path))
        {
            first = (await before.Ingest.IngestAsync(raw, OneInbox, CancellationToken.None))[0];
            path = before.DatabasePath;
        }

        // The second copy as that layout wrote it: the same document in another inbox, sharing the raw message.
        var secondId = Guid.CreateVersion7().ToString();
        using (var db = new LiteDatabase(new ConnectionString { Filename = path, Collation = Collation.Binary }))
        {
            var messages = db.GetCollection("messages");
            var copy = messages.FindById(first.Id);
            copy["_id"] = secondId;
            copy["Key"] = copy["Key"].AsString.Replace("one/", "two/", StringComparison.Ordinal);
            messages.Insert(copy);
            messages.EnsureIndex("RawId", "$.RawId");
            messages.EnsureIndex("ReceivedTicks", "$.ReceivedTicks");
        }

        await using (var after = new StorageHarness(directory: directory.Path))
        {
            Assert.Equal(raw, await after.Messages.GetRawAsync(secondId, default));
            Assert.Equal("two", (await after.Messages.GetAsync(secondId, default))!.Inbox);
            Assert.True(await after.Messages.DeleteAsync(first.Id, default));
            Assert.Equal(raw, await after.Messages.GetRawAsync(secondId, default)); // the other copy still has it
            Assert.True(await after.Messages.DeleteAsync(secondId, default));
            Assert.Equal((0, 0), Collections(after));
        }

        using (var db = new LiteDatabase(new ConnectionString { Filename = path, Collation = Collation.Binary }))
        {
            var indexes = db.GetCollection("$indexes").Find(Query.EQ("collection", "messages")).Select(i => i["name"].AsString);
            Assert.Equal(["Key", "_id"], indexes.Order(StringComparer.Ordinal));
        }
    }

    private static readonly SmtpEnvelope OneInbox = new("a@b.example", ["x@one.localhost"], "test", null, null, null, false);
}

public sealed class PostgreSqlRawStorageTests(PostgreSqlDatabase database) : RawStorageTests(StorageEngine.PostgreSql, database), IClassFixture<PostgreSqlDatabase>;
