using LiteDB;

namespace MailSink.Storage.LiteDb;

/// <summary>How MailSink's documents map to BSON.</summary>
internal static class DocumentMapper
{
    /// <summary>
    /// The mapper for the database. A message document leaves out every field that holds its default: the
    /// lists that are empty (no Cc, no links, no attachments...), "" (the raw id of a message whose raw bytes
    /// are in its document, an address without a display name), false and 0, at every level. Each reads
    /// back as the default it was, and together they are about 170 of the 2 KB a 2 KB message's document
    /// takes (LiteDB puts a document of under 2,448 bytes only on a page with that much free).
    /// </summary>
    public static BsonMapper Create()
    {
        var parts = Plain();
        var message = Plain();
        WithoutDefaults<StoredEnvelope>(message, parts);
        WithoutDefaults<StoredAddress>(message, parts);
        WithoutDefaults<StoredLink>(message, parts);
        WithoutDefaults<StoredImage>(message, parts);
        WithoutDefaults<StoredAttachment>(message, parts);
        var mapper = Plain();
        WithoutDefaults<MessageDocument>(mapper, message);
        return mapper;
    }

    /// <summary>Strings kept as they are: LiteDB's defaults trim them and store "" as null.</summary>
    private static BsonMapper Plain()
    {
        var mapper = new BsonMapper { TrimWhitespace = false, EmptyStringToNull = false };
        mapper.Entity<MessageDocument>().Id(m => m.Id, autoId: false).Ignore(m => m.RawCompressed);
        mapper.Entity<InboxRecord>().Id(i => i.Id, autoId: false);
        return mapper;
    }

    /// <summary>The document, less its fields that <paramref name="drop"/> picks.</summary>
    public static BsonDocument Without(BsonDocument document, Func<KeyValuePair<string, BsonValue>, bool> drop)
    {
        foreach (var key in document.Where(drop).Select(field => field.Key).ToList())
            document.Remove(key);
        return document;
    }

    /// <summary>Registers <typeparamref name="T"/> on <paramref name="mapper"/>: mapped by <paramref name="inner"/>, minus the fields equal to a new <typeparamref name="T"/>'s.</summary>
    private static void WithoutDefaults<T>(BsonMapper mapper, BsonMapper inner)
        where T : new()
    {
        var defaults = inner.ToDocument(new T());
        mapper.RegisterType<T>(
            value => Without(inner.ToDocument(value), IsDefault),
            bson => inner.ToObject<T>(bson.AsDocument));

        bool IsDefault(KeyValuePair<string, BsonValue> field) =>
            (field.Value.IsArray && field.Value.AsArray.Count == 0)
            || (defaults.TryGetValue(field.Key, out var initial) && initial == field.Value);
    }
}

/// <summary>The size of documents as LiteDB stores them.</summary>
internal static class BsonDocumentExtensions
{
    /// <summary>The document's length in BSON, what it takes in the data file (less page overhead).</summary>
    public static int StoredLength(this BsonDocument document) => BsonSerializer.Serialize(document).Length;
}
