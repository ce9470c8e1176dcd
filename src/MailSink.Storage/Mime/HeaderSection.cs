namespace MailSink.Storage.Mime;

/// <summary>
/// The copy of a message given to the MIME parser, where its header section needs it; the raw message is
/// stored untouched, and only the parsed view differs.
/// <list type="bullet">
/// <item>Oversized header fields are cut: MimeKit's parser takes time quadratic in the folded lines of one
/// field (a 1 MB folded header took about 2 s, twice over); cut to 64 KB a field costs about 25 ms.</item>
/// <item>A header section that runs into the body without its blank line ends at the first line that is
/// not a header field, as Postfix's cleanup ends it. MimeKit would take every line after it for a header
/// of its own (named by the whole line, CRLF included), and the body would be lost from the parsed view.</item>
/// </list>
/// </summary>
internal static class HeaderSection
{
    public const int MaxFieldBytes = 64 * 1024;

    /// <summary>
    /// The message as the parser should see it: every top-level header field cut to <paramref name="maxField"/>
    /// bytes (at a line end), with the names of the fields cut in <paramref name="cut"/>; and a line end put
    /// before <paramref name="strayLine"/>, the first line of the header section that is not a field (null if none).
    /// </summary>
    /// <remarks>
    /// <paramref name="endAtStrayLine"/> false gives the copy MailSink parsed before it ended header sections so
    /// (before 2026-12-06), where attachment part numbers stored then were counted.
    /// </remarks>
    public static ReadOnlyMemory<byte> ForParser(ReadOnlyMemory<byte> raw, out List<string> cut, out string? strayLine, int maxField = MaxFieldBytes, bool endAtStrayLine = true)
    {
        cut = [];
        strayLine = null;
        var span = raw.Span;
        var fields = new List<(int Start, int End)>();
        var position = 0;
        var fieldStart = -1;
        var stray = -1;
        while (position < span.Length)
        {
            var lf = span[position..].IndexOf((byte)'\n');
            var lineEnd = lf < 0 ? span.Length : position + lf + 1;
            var line = span[position..lineEnd];
            var content = line.TrimEnd("\r\n"u8);
            var blank = line.Length <= 2 && content.IsEmpty;
            var continuation = !blank && line[0] is (byte)' ' or (byte)'\t';
            if (endAtStrayLine && fieldStart >= 0 && !continuation && !content.IsEmpty && !IsField(line))
            {
                stray = position;
                strayLine = QuotedText.Printable(System.Text.Encoding.UTF8.GetString(content), 60);
                break;
            }

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

        if (stray < 0 && !fields.Exists(f => f.End - f.Start > maxField))
            return raw;

        var copy = new List<byte>(raw.Length + 2);
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

        if (stray >= 0)
        {
            copy.AddRange(span[from..stray]);
            copy.AddRange("\r\n"u8);
            from = stray;
        }

        copy.AddRange(span[from..]);
        return copy.ToArray();
    }

    /// <summary>
    /// Whether a line (not the first: an mbox "From " line there is left to MimeKit) starts a header field: a
    /// name without spaces or control characters, then ':' (space or tab allowed before the colon, RFC 5322's
    /// obsolete syntax). A name with 8-bit bytes is taken for a field, as MimeKit takes it; "From my iPhone"
    /// or "Dear customer: welcome" is not one.
    /// </summary>
    private static bool IsField(ReadOnlySpan<byte> line)
    {
        var colon = line.IndexOf((byte)':');
        if (colon <= 0)
            return false;
        var name = line[..colon].TrimEnd(" \t"u8);
        if (name.IsEmpty)
            return false;
        foreach (var b in name)
        {
            if (b is < 33 or 127)
                return false;
        }

        return true;
    }
}
