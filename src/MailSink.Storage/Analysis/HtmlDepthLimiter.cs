using System.Text;

namespace MailSink.Storage.Analysis;

/// <summary>
/// Caps element nesting in the copy of an HTML body given to the HTML parser, as browsers do (Chromium
/// stops nesting at 512 levels). AngleSharp's tree builder looks through the open elements for every tag,
/// so its time is the number of tags times the depth: 40,000 nested elements took about 3 s, and even at
/// Chromium's 512 levels 25,000 elements took a second. Links, images and codes do not need the structure,
/// so the cap is low: 64 levels, deeper than the nested tables of real mail. At the cap, the
/// innermost open element is closed before the next one opens, so deeper elements become siblings and
/// every link, image and text is still there for the analysis.
/// A linear scan; it reads tags only roughly (comments, scripts and attribute quotes are honoured).
/// </summary>
public static class HtmlDepthLimiter
{
    public const int MaxDepth = 64;

    /// <summary>The most of an HTML body that is parsed: its first MiB (a mail client shows far less; Gmail clips at 102 KB).</summary>
    public const int MaxParsedChars = 1024 * 1024;

    /// <summary>
    /// The copy of an HTML body to give the HTML parser, so that no body costs more than a moment: its first
    /// <see cref="MaxParsedChars"/>, nesting capped at <see cref="MaxDepth"/>. For every analysis that parses
    /// HTML: ingest's links and codes, and the API's compatibility and deliverability checks.
    /// </summary>
    public static string ForParser(string html) => Limit(html.Length > MaxParsedChars ? html[..MaxParsedChars] : html);

    private static readonly HashSet<string> Void = new(StringComparer.OrdinalIgnoreCase)
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    };

    private static readonly HashSet<string> RawText = new(StringComparer.OrdinalIgnoreCase) { "script", "style", "textarea", "title", "xmp" };

    public static string Limit(string html)
    {
        // Cheap exit: a document with fewer opening tags than the cap cannot nest deeper than it.
        var opens = 0;
        for (var i = 0; i + 1 < html.Length && opens <= MaxDepth; i++)
        {
            if (html[i] == '<' && char.IsAsciiLetter(html[i + 1]))
                opens++;
        }

        if (opens <= MaxDepth)
            return html;

        var output = new StringBuilder(html.Length);
        var open = new List<string>(MaxDepth);
        var position = 0;
        while (position < html.Length)
        {
            var lt = html.IndexOf('<', position);
            if (lt < 0 || lt + 1 >= html.Length)
            {
                output.Append(html, position, html.Length - position);
                break;
            }

            output.Append(html, position, lt - position);
            if (html.AsSpan(lt).StartsWith("<!--"))
            {
                var end = html.IndexOf("-->", lt + 4, StringComparison.Ordinal);
                end = end < 0 ? html.Length : end + 3;
                output.Append(html, lt, end - lt);
                position = end;
                continue;
            }

            var closing = html[lt + 1] == '/';
            var nameStart = lt + (closing ? 2 : 1);
            if (nameStart >= html.Length || !char.IsAsciiLetter(html[nameStart]))
            {
                output.Append('<');
                position = lt + 1;
                continue;
            }

            var tagEnd = FindTagEnd(html, nameStart);
            var nameEnd = nameStart;
            while (nameEnd < tagEnd && (char.IsAsciiLetterOrDigit(html[nameEnd]) || html[nameEnd] == '-'))
                nameEnd++;
            var name = html[nameStart..nameEnd];
            var selfClosing = tagEnd - 1 > lt && html[tagEnd - 1] == '/';
            var next = Math.Min(tagEnd + 1, html.Length);

            if (closing)
            {
                var at = open.FindLastIndex(n => n.Equals(name, StringComparison.OrdinalIgnoreCase));
                if (at >= 0)
                    open.RemoveRange(at, open.Count - at);
                output.Append(html, lt, next - lt);
            }
            else if (Void.Contains(name) || selfClosing)
            {
                output.Append(html, lt, next - lt);
            }
            else
            {
                if (open.Count == MaxDepth)
                {
                    output.Append("</").Append(open[^1]).Append('>');
                    open.RemoveAt(open.Count - 1);
                }

                open.Add(name);
                output.Append(html, lt, next - lt);
                if (RawText.Contains(name))
                {
                    // Copy a script or style element whole: tags inside it are text.
                    var close = html.IndexOf("</" + name, next, StringComparison.OrdinalIgnoreCase);
                    var end = close < 0 ? html.Length : close;
                    output.Append(html, next, end - next);
                    next = end;
                }
            }

            position = next;
        }

        return output.ToString();
    }

    private static int FindTagEnd(string html, int from)
    {
        char quote = '\0';
        for (var i = from; i < html.Length; i++)
        {
            var c = html[i];
            if (quote != '\0')
            {
                if (c == quote)
                    quote = '\0';
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '>')
            {
                return i;
            }
        }

        return html.Length;
    }
}
