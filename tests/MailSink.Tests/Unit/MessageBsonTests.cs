using System.Text;
using LiteDB;
using MailSink.Storage;
using MailSink.Storage.Ingest;
using MailSink.Storage.LiteDb;
using MailSink.Storage.Mime;

namespace MailSink.Tests.Unit;

/// <summary>
/// The hand-written BSON of a new message document is what the database's mapper makes of it, byte for
/// byte: every field at its default left out at every level, the rest in the mapper's order and types.
/// </summary>
public sealed class MessageBsonTests
{
    private static readonly BsonMapper Mapper = DocumentMapper.Create();

    [Fact]
    public void Thousands_of_documents_with_every_field_at_its_default_or_not_are_written_as_the_mapper_writes_them()
    {
        var random = new Random(20261205);
        for (var i = 0; i < 3000; i++)
        {
            var document = RandomDocument(random);
            Assert.Equal(Bytes(Mapper.ToDocument(document)), Bytes(MessageBson.Of(document)));
        }
    }

    [Fact]
    public void A_document_at_all_its_defaults_and_one_with_every_field_set_are_written_as_the_mapper_writes_them()
    {
        var empty = new MessageDocument { Id = "m" };
        Assert.Equal(Bytes(Mapper.ToDocument(empty)), Bytes(MessageBson.Of(empty)));

        var random = new Random(7);
        var full = RandomDocument(random, always: true);
        Assert.Equal(LiteDB.JsonSerializer.Serialize(Mapper.ToDocument(full)), LiteDB.JsonSerializer.Serialize(MessageBson.Of(full))); // a readable difference first
        Assert.Equal(Bytes(Mapper.ToDocument(full)), Bytes(MessageBson.Of(full)));
        Assert.True(MessageBson.Of(full).Count >= 25, "every field was set, so every field is written");
    }

    [Fact]
    public void Parsed_messages_are_written_as_the_mapper_writes_them()
    {
        var raw = "From: \"Ann\" <ann@b.example>\r\nTo: x@bson.localhost, \"\" <y@bson.localhost>\r\nSubject: s\r\nMessage-ID: <1@b>\r\n"
            + "Date: Tue, 3 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
            + "--b\r\nContent-Type: text/html\r\n\r\n<p>code 482913</p><a href=\"https://example.com/x\">go</a><img src=\"cid:logo\" alt=\"\">\r\n"
            + "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\nx\r\n--b--\r\n";
        var envelope = new SmtpEnvelope("ann@b.example", ["x@bson.localhost"], "client", "127.0.0.1:1", "Tls13", "ann", true);
        var message = MessageParser.Parse(Encoding.UTF8.GetBytes(raw), envelope);
        ContentAnalyzer.Analyze(message);
        var document = MessageDocument.Of(message);
        document.Id = "id";
        document.Key = MessageDocument.MakeKey("bson", 638_000_000_000_000_000);
        document.RawData = [1, 2, 3];

        Assert.NotEmpty(message.Attachments);
        Assert.NotEmpty(message.HtmlLinks);
        Assert.Equal(Bytes(Mapper.ToDocument(document)), Bytes(MessageBson.Of(document)));
    }

    private static byte[] Bytes(BsonDocument document) => BsonSerializer.Serialize(document);

    private static MessageDocument RandomDocument(Random random, bool always = false)
    {
        bool Set() => always || random.Next(2) == 0;
        string? Text(bool nullable) => always ? $"t{random.Next(100)}" : random.Next(4) switch
        {
            0 => nullable ? null : "",
            1 => "",
            _ => $"t{random.Next(100)}",
        };
        List<T> List<T>(Func<T> make) => [.. Enumerable.Range(0, always ? 2 : random.Next(3)).Select(_ => make())];
        StoredAddress Address() => new() { Name = Text(false)!, Email = Text(false)! };
        StoredLink Link() => new() { Href = Text(false)!, Text = Text(true) };

        return new MessageDocument
        {
            Id = $"id{random.Next()}",
            Key = Text(false)!,
            RawId = Text(false)!,
            RawData = Set() ? [(byte)random.Next(256), 0, 1] : null,
            Copies = List(() => Text(false)!),
            Content = Text(true),
            AttachmentIds = List(() => $"a{random.Next()}"),
            Refs = Set() ? random.Next(1, 5) : 0,
            Size = Set() ? random.NextInt64(1, 1L << 40) : 0,
            Envelope = new StoredEnvelope
            {
                MailFrom = Text(false)!,
                RcptTo = List(() => Text(false)!),
                Ehlo = Text(true),
                RemoteAddress = Text(true),
                TlsProtocol = Text(true),
                AuthenticatedUser = Text(true),
                SmtpUtf8 = Set(),
            },
            Subject = Text(true),
            From = List(Address),
            To = List(Address),
            Cc = List(Address),
            Bcc = List(Address),
            MessageIdHeader = Text(true),
            Date = Set() ? new DateTime(2026, 11, 3, 10, 0, random.Next(60), DateTimeKind.Utc) : null,
            Summary = Text(false)!,
            HtmlLinks = List(Link),
            HtmlImages = List(() => new StoredImage { Src = Text(false)!, Alt = Text(true) }),
            HtmlCodes = List(() => Text(false)!),
            TextLinks = List(Link),
            TextCodes = List(() => Text(false)!),
            Attachments = List(() => new StoredAttachment
            {
                Id = Text(false)!,
                FileName = Text(true),
                ContentType = Set() ? "image/png" : "application/octet-stream",
                ContentId = Text(true),
                Length = Set() ? random.Next(1, 1000) : 0,
                PartIndex = Set() ? random.Next(1, 9) : 0,
            }),
            ParseError = Text(true),
        };
    }
}
