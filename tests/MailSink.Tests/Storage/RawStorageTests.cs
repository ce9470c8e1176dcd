using System.Globalization;
using System.Text;
using LiteDB;
using MailSink.Storage;
using MailSink.Tests.Support;

namespace MailSink.Tests.Storage;

/// <summary>
/// Raw messages are stored compressed, in chunks, and come back byte for byte; the parsed document keeps no
/// bodies, so a full read takes them from the raw message.
/// </summary>
public sealed class RawStorageTests
{
    private static readonly SmtpEnvelope Envelope = new("a@b.example", ["x@raw.localhost"], "test", null, null, null, false);

    private static byte[] Text(int length)
    {
        var text = new StringBuilder("Subject: text\r\n\r\n");
        for (var line = 0; text.Length < length; line++)
            text.Append(CultureInfo.InvariantCulture, $"{line:D5} the quick brown fox jumps over the lazy dog\r\n");
        return Encoding.ASCII.GetBytes(text.ToString()[..length]);
    }

    private static byte[] Noise(int length, int seed)
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
        await using var storage = new StorageHarness();

        var stored = await storage.Ingest.IngestAsync(raw, Envelope, CancellationToken.None);

        Assert.True(raw.AsSpan().SequenceEqual(storage.Repository.ReadRaw(stored[0])), name);
    }

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

        var written = RawMessage.Unpack(new BsonDocument { ["_id"] = "old", ["data"] = raw, ["n"] = 1, ["size"] = raw.Length }, destination, 0);

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

        Assert.Throws<InvalidDataException>(() => RawMessage.Unpack(
            new BsonDocument { ["_id"] = "bad", ["data"] = damaged, ["z"] = RawMessage.Brotli }, new byte[5000], 0));
    }

    [Fact]
    public async Task A_full_read_gives_the_bodies_a_list_does_not_carry_them()
    {
        await using var storage = new StorageHarness();
        var raw = Encoding.UTF8.GetBytes(
            "Subject: both\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
            + "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain caf\u00e9\r\n"
            + "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html caf\u00e9</p>\r\n--b--\r\n");
        var stored = (await storage.Ingest.IngestAsync(raw, Envelope, CancellationToken.None))[0];

        var listed = Assert.Single(storage.Repository.ListMessages("raw", 0, 10));
        var read = storage.Repository.ReadMessage(stored.Id)!;

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
        await using var storage = new StorageHarness();
        var wanted = await storage.StoreAsync("a@raw.localhost", "one", body: "your code is in here: NEEDLE-42");
        await storage.StoreAsync("a@raw.localhost", "two", body: "nothing to see");

        var found = storage.Repository.Search("raw", new SearchCriteria(null, null, null, "needle-42"), 0, 10);

        Assert.Equal([wanted.Id], found.Select(m => m.Id));
    }

    private static byte[] LargeMessage() => [.. Encoding.ASCII.GetBytes("Subject: large\r\n\r\n"), .. Encoding.ASCII.GetBytes(Convert.ToBase64String(Noise(48 * 1024, 4)))];

    private static readonly SmtpEnvelope TwoInboxes = new("a@b.example", ["x@one.localhost", "y@two.localhost"], "test", null, null, null, false);

    [Fact]
    public async Task Copies_in_two_inboxes_share_a_large_raw_message_until_the_last_one_goes()
    {
        await using var storage = new StorageHarness();
        var raw = LargeMessage();
        Assert.False(RawMessage.Pack(raw).Embedded);

        var copies = await storage.Ingest.IngestAsync(raw, TwoInboxes, CancellationToken.None);

        Assert.Equal(raw.Length, storage.Repository.TotalRawBytes); // stored once
        Assert.True(storage.Repository.DeleteMessage(copies[0].Id));
        Assert.Equal(raw, storage.Repository.ReadRaw(storage.Repository.FindMessage(copies[1].Id)!));
        Assert.Equal(raw.Length, storage.Repository.TotalRawBytes);
        Assert.True(storage.Repository.DeleteMessage(copies[1].Id));
        Assert.Equal(0, storage.Repository.TotalRawBytes);
        Assert.Null(storage.Repository.ReadRaw(copies[1]));
    }

    [Fact]
    public async Task A_small_message_lives_in_each_copy_and_each_copy_goes_on_its_own()
    {
        await using var storage = new StorageHarness();
        var raw = Text(2048);

        var copies = await storage.Ingest.IngestAsync(raw, TwoInboxes, CancellationToken.None);
        Assert.True(storage.Repository.DeleteMessage(copies[0].Id));

        var kept = storage.Repository.FindMessage(copies[1].Id)!;
        Assert.NotNull(kept.RawData);
        Assert.Equal(raw, storage.Repository.ReadRaw(kept));
        Assert.Equal(raw.Length, storage.Repository.TotalRawBytes);
    }

    /// <summary>
    /// Databases of the earlier layout found the copies sharing a raw message through an index on RawId;
    /// opening one records the copies in each document and drops that index and the ReceivedTicks one.
    /// </summary>
    [Fact]
    public async Task A_database_of_the_earlier_layout_is_upgraded_on_open()
    {
        using var directory = new TempDirectory();
        var raw = LargeMessage();
        string path;
        IReadOnlyList<StoredMessage> copies;
        await using (var before = new StorageHarness(directory: directory.Path))
        {
            copies = await before.Ingest.IngestAsync(raw, TwoInboxes, CancellationToken.None);
            path = before.DatabasePath;
        }

        using (var db = new LiteDatabase(new ConnectionString { Filename = path, Collation = Collation.Binary }))
        {
            var messages = db.GetCollection("messages");
            foreach (var doc in messages.FindAll().ToList())
            {
                doc["Copies"] = new BsonArray();
                messages.Update(doc);
            }

            messages.EnsureIndex("RawId", "$.RawId");
            messages.EnsureIndex("ReceivedTicks", "$.ReceivedTicks");
        }

        await using (var after = new StorageHarness(directory: directory.Path))
        {
            Assert.Equal([copies[1].Id], after.Repository.FindMessage(copies[0].Id)!.Copies);
            Assert.True(after.Repository.DeleteMessage(copies[0].Id));
            Assert.Equal(raw, after.Repository.ReadRaw(after.Repository.FindMessage(copies[1].Id)!));
            Assert.True(after.Repository.DeleteMessage(copies[1].Id));
            Assert.Equal(0, after.Repository.TotalRawBytes);
        }

        using (var db = new LiteDatabase(new ConnectionString { Filename = path, Collation = Collation.Binary }))
        {
            var indexes = db.GetCollection("$indexes").Find(Query.EQ("collection", "messages")).Select(i => i["name"].AsString);
            Assert.Equal(["Key", "_id"], indexes.Order(StringComparer.Ordinal));
        }
    }
}
