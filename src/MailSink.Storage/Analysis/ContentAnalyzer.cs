using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace MailSink.Storage.Analysis;

/// <summary>
/// Finds, once at ingest, what tests assert on: links and images of the HTML body, URLs of the text
/// body, and one-time codes in either. Works on the parsed bodies; never throws.
/// </summary>
public static partial class ContentAnalyzer
{
    private const int MaxLinks = 1000;
    private const int MaxImages = 1000;
    private const int MaxCodes = 10;

    /// <summary>
    /// How much of a body is analysed. Codes sit near the top of a message, but the limit stays where it was:
    /// with the hand-written scan a body of a million characters costs about 0.3-0.4 ms for prose or smtp-source's
    /// lines of X and about 4 ms for text made only of short capitalised tokens (the regex version: 8-120 ms), so
    /// a lower limit would save little and would lose codes that come after a long preamble (quoted threads,
    /// a large style block). For HTML the cost of a large body is the parse, not the code search.
    /// </summary>
    private const int MaxScanChars = HtmlDepthLimiter.MaxParsedChars; // as much text as HTML is parsed

    /// <summary>http, https and ftp URLs: the scheme at a word boundary, then anything up to a space, quote or angle bracket.</summary>
    private const string UrlPattern = @"\b(?:https?|ftp)://[^\s<>""']+";

    private static readonly HtmlParser Parser = new(new HtmlParserOptions { IsScripting = false });
    private static readonly SearchValues<char> UpperCaseLettersAndDigits = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

    private static readonly HashSet<string> HiddenElements = ["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "HEAD", "TITLE"];

    public static void Analyze(StoredMessage message)
    {
        if (!string.IsNullOrEmpty(message.Html))
        {
            try
            {
                AnalyzeHtml(message.Html, message);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // AngleSharp's tree builder throws on some malformed HTML (found by fuzzing: <select> inside
                // tables). Analysis is an index: it may lose the links and codes, never the message.
                message.HtmlLinks = [];
                message.HtmlImages = [];
                message.HtmlCodes = [];
                var note = $"The HTML body could not be analysed for links and codes ({ex.GetType().Name}).";
                message.ParseError = message.ParseError is null ? note : $"{message.ParseError} {note}";
            }
        }

        if (!string.IsNullOrEmpty(message.Text))
        {
            var text = message.Text.Length > MaxScanChars ? message.Text[..MaxScanChars] : message.Text;
            message.TextLinks = FindUrls(text).Select(u => new StoredLink { Href = u, Text = u }).ToList();
            message.TextCodes = FindCodes(text);
        }
    }

    private static void AnalyzeHtml(string html, StoredMessage message)
    {
        var document = Parser.ParseDocument(HtmlDepthLimiter.ForParser(html));

        foreach (var element in document.QuerySelectorAll("a[href], area[href]").Take(MaxLinks))
        {
            var text = Collapse(element.TextContent);
            message.HtmlLinks.Add(new StoredLink
            {
                Href = element.GetAttribute("href")!.Trim(),
                Text = text.Length == 0 ? null : text,
            });
        }

        foreach (var image in document.QuerySelectorAll("img[src]").Take(MaxImages))
            message.HtmlImages.Add(new StoredImage { Src = image.GetAttribute("src")!.Trim(), Alt = image.GetAttribute("alt") });

        message.HtmlCodes = FindCodes(VisibleText(document));
    }

    /// <summary>The text a reader sees, with a break between elements so that words do not run together.</summary>
    /// <remarks>
    /// One walk in document order (depth first, children left to right) that does not enter a hidden element:
    /// everything inside one is hidden. Asking every text node for its ancestors instead cost the depth of the
    /// tree per text node.
    /// </remarks>
    internal static string VisibleText(IDocument document)
    {
        var root = (INode?)document.Body ?? document.DocumentElement;
        if (root is null)
            return "";
        for (INode? node = root; node is not null; node = node.Parent)
        {
            if (IsHidden(node))
                return "";
        }

        var text = new StringBuilder();
        var pending = new Stack<INode>();
        PushChildren(root);
        while (pending.TryPop(out var node))
        {
            if (node is IText textNode)
            {
                text.Append(textNode.Data).Append('\n');
                if (text.Length > MaxScanChars)
                    break;
            }
            else if (!IsHidden(node))
            {
                PushChildren(node);
            }
        }

        return text.ToString();

        static bool IsHidden(INode node) => node is IElement element && HiddenElements.Contains(element.TagName);

        void PushChildren(INode parent)
        {
            var children = parent.ChildNodes;
            for (var i = children.Length - 1; i >= 0; i--)
                pending.Push(children[i]);
        }
    }

    /// <summary>http(s) and ftp URLs in plain text, without trailing punctuation.</summary>
    internal static List<string> FindUrls(string text) =>
        UrlMatches(text).Select(m => text.Substring(m.Start, m.Length).TrimEnd('.', ',', ';', ':', '!', '?', ')', ']', '\'', '"', '>')).Take(MaxLinks).ToList();

    /// <summary>
    /// What <c>Regex.Matches</c> gives for <see cref="UrlPattern"/> in <paramref name="text"/>, without running the
    /// regex over the whole text. Every match has a "://" 3 to 5 characters after its start (ftp, http, https), so a fast
    /// search for "://" finds where one may start, and the regex is tried there only, anchored; two "://" can
    /// never be closer than 3 characters, so the first start that matches is the leftmost match.
    /// </summary>
    private static IEnumerable<(int Start, int Length)> UrlMatches(string text)
    {
        var from = 0; // where the next match may start: the end of the previous one
        var search = 3; // where its "://" may be
        while (search < text.Length)
        {
            var separator = text.IndexOf("://", search, StringComparison.Ordinal);
            if (separator < 0)
                yield break;

            search = separator + 1;
            for (var start = Math.Max(from, separator - 5); start <= separator - 3; start++)
            {
                var length = UrlLengthAt(text, start);
                if (length > 0)
                {
                    yield return (start, length);
                    from = start + length;
                    search = from + 3;
                    break;
                }
            }
        }

        static int UrlLengthAt(string text, int start)
        {
            // The whole text, not a slice from start: \b looks at the character before.
            foreach (var match in UrlAt().EnumerateMatches(text, start))
                return match.Length;
            return 0;
        }
    }

    /// <summary>The text with every URL, and then every address, replaced by a space.</summary>
    private static string BlankUrlsAndAddresses(string text)
    {
        List<(int Start, int Length)>? urls = null;
        var removed = 0;
        foreach (var match in UrlMatches(text))
        {
            (urls ??= []).Add(match);
            removed += match.Length - 1;
        }

        if (urls is not null)
        {
            text = string.Create(text.Length - removed, (text, urls), static (blanked, state) =>
            {
                var copied = 0;
                foreach (var (start, length) in state.urls)
                {
                    state.text.AsSpan(copied, start - copied).CopyTo(blanked);
                    blanked[start - copied] = ' ';
                    blanked = blanked[(start - copied + 1)..];
                    copied = start + length;
                }

                state.text.AsSpan(copied).CopyTo(blanked);
            });
        }

        return text.Contains('@', StringComparison.Ordinal) ? Email().Replace(text, " ") : text;
    }

    /// <summary>
    /// One-time codes: tokens of 4 to 8 characters standing alone, either all digits (not a year, not part
    /// of a date, time, decimal or grouped number) or upper-case letters and digits mixed (at least one
    /// of each). Addresses and URLs are ignored. First occurrences, at most ten.
    /// </summary>
    /// <remarks>
    /// The candidates are what the regex <c>(?&lt;![\p{L}\p{N}])[A-Z0-9]{4,8}(?![\p{L}\p{N}])</c> matched
    /// (letters and numbers in the sense of Unicode categories L and N, one UTF-16 unit at a time, so a
    /// surrogate is neither), found by a hand-written scan: the regex cost 17-50 ns per character on text in
    /// capitals such as smtp-source's lines of X. tests/MailSink.Tests keeps the regex version as the oracle.
    /// </remarks>
    internal static List<string> FindCodes(string text)
    {
        if (text.Length > MaxScanChars)
            text = text[..MaxScanChars];
        text = BlankUrlsAndAddresses(text);

        var codes = new List<string>();
        var span = text.AsSpan();
        var position = 0;
        while (true)
        {
            // Where the regex could start: an upper-case letter or digit (a vectorised search; prose is mostly
            // lower case). It matches there when the stretch of [A-Z0-9] is 4 to 8 long and has no letter or
            // number on either side. No match starts inside the stretch: each of those follows a letter or digit.
            var next = span[position..].IndexOfAny(UpperCaseLettersAndDigits);
            if (next < 0)
                break;
            var start = position + next;
            var end = start + 1;
            while (end < span.Length && end - start <= 8 && (char.IsAsciiDigit(span[end]) || char.IsAsciiLetterUpper(span[end])))
                end++;
            if (end - start > 8)
            {
                var rest = span[end..].IndexOfAnyExcept(UpperCaseLettersAndDigits);
                end = rest < 0 ? span.Length : end + rest;
            }

            position = end;
            if (end - start is < 4 or > 8
                || (start > 0 && IsLetterOrNumber(span[start - 1]))
                || (end < span.Length && IsLetterOrNumber(span[end]))
                || PartOfLargerNumber(text, start, end))
                continue;

            var token = span[start..end];
            var letters = CountLetters(token);
            if (letters == 0)
            {
                if (token is ['1', '9', _, _] or ['2', '0', _, _])
                    continue; // a year, 1900 to 2099
            }
            else if (letters == token.Length)
            {
                continue; // a word in capitals
            }

            if (!Contains(codes, token))
                codes.Add(token.ToString());
            if (codes.Count == MaxCodes)
                break;
        }

        return codes;

        static int CountLetters(ReadOnlySpan<char> token)
        {
            var letters = 0;
            foreach (var c in token)
            {
                if (char.IsAsciiLetterUpper(c))
                    letters++;
            }

            return letters;
        }

        static bool Contains(List<string> codes, ReadOnlySpan<char> token)
        {
            foreach (var code in codes)
            {
                if (token.SequenceEqual(code))
                    return true;
            }

            return false;
        }
    }

    /// <summary>What the regex class <c>[\p{L}\p{N}]</c> matches.</summary>
    private static bool IsLetterOrNumber(char c) => char.IsLetter(c) || char.IsNumber(c);

    /// <summary>
    /// "12:30", "2024-01-02", "1,234.56", "INV-1234", "+1 555 0100": the token is a piece of something
    /// larger. A label such as "code:" before the token does not count.
    /// </summary>
    private static bool PartOfLargerNumber(string text, int start, int end)
    {
        static bool Joiner(char c) => c is ':' or '-' or '/' or '.' or ',' or '_' or '+';
        if (start >= 2 && Joiner(text[start - 1])
            && (char.IsDigit(text[start - 2]) || (text[start - 1] != ':' && char.IsLetter(text[start - 2]))))
            return true;
        if (start >= 1 && text[start - 1] is '$' or '€' or '£' or '#' or '+')
            return true;
        if (end + 1 < text.Length && Joiner(text[end]) && char.IsLetterOrDigit(text[end + 1]))
            return true;

        // Digit groups separated by single spaces are one number (a phone number, a grouped amount).
        var digitsOnly = text.AsSpan(start, end - start).ContainsAnyExceptInRange('0', '9') is false;
        return digitsOnly
               && ((start >= 2 && text[start - 1] == ' ' && char.IsDigit(text[start - 2]))
                   || (end + 1 < text.Length && text[end] == ' ' && char.IsDigit(text[end + 1])));
    }

    private static string Collapse(string text) => Whitespace().Replace(text, " ").Trim();

    /// <summary>A URL starting exactly where the search starts (<see cref="UrlMatches"/> decides where).</summary>
    [GeneratedRegex(@"\G" + UrlPattern, RegexOptions.IgnoreCase)]
    private static partial Regex UrlAt();

    [GeneratedRegex(@"[^\s<>""'@]+@[^\s<>""'@]+\.[^\s<>""'@]+")]
    private static partial Regex Email();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
