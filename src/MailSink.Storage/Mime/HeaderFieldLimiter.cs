namespace MailSink.Storage.Mime;

/// <summary>
/// Shortens oversized header fields in a copy given to the MIME parser. MimeKit's parser takes time
/// quadratic in the folded lines of one field (a 1 MB folded header took about 2 s, twice over); cut
/// to 64 KB a field costs about 25 ms. The raw message is stored untouched; only the parsed view is cut.
/// </summary>
internal static class HeaderFieldLimiter
{
    public const int MaxFieldBytes = 64 * 1024;

    /// <summary>The message with every top-level header field cut to <paramref name="maxField"/> bytes (at a line end), and the names of the fields cut.</summary>
    public static ReadOnlyMemory<byte> Limit(ReadOnlyMemory<byte> raw, out List<string> cut, int maxField = MaxFieldBytes)
    {
        cut = [];
        var span = raw.Span;
        var fields = new List<(int Start, int End)>();
        var position = 0;
        var fieldStart = -1;
        while (position < span.Length)
        {
            var lf = span[position..].IndexOf((byte)'\n');
            var lineEnd = lf < 0 ? span.Length : position + lf + 1;
            var line = span[position..lineEnd];
            var blank = line.Length <= 2 && line.TrimEnd("\r\n"u8).IsEmpty;
            var continuation = !blank && line[0] is (byte)' ' or (byte)'\t';
            if (!continuation)
            {
                if (fieldStart >= 0)
                    fields.Add((fieldStart, position));
                fieldStart = position;
            }

            if (blank)
            {
                fieldStart = -1;
                break; // end of the header block
            }

            position = lineEnd;
        }

        if (fieldStart >= 0)
            fields.Add((fieldStart, position));

        if (!fields.Exists(f => f.End - f.Start > maxField))
            return raw;

        var copy = new List<byte>(raw.Length);
        var from = 0;
        foreach (var (start, end) in fields)
        {
            if (end - start <= maxField)
                continue;
            copy.AddRange(span[from..start]);
            var field = span[start..end];
            var keep = field[..maxField].LastIndexOf((byte)'\n') + 1;
            if (keep <= 0)
                keep = maxField; // one unfolded line: cut it and end it
            copy.AddRange(field[..keep]);
            if (field[keep - 1] != (byte)'\n')
                copy.AddRange("\r\n"u8);
            var colon = field.IndexOf((byte)':');
            cut.Add(System.Text.Encoding.ASCII.GetString(field[..(colon < 0 ? Math.Min(40, field.Length) : Math.Min(colon, 76))]));
            from = end;
        }

        copy.AddRange(span[from..]);
        return copy.ToArray();
    }
}
