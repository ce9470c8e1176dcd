using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using MailSink.Storage;

namespace MailSink.Tests.Fuzz;

/// <summary>
/// <see cref="ContentAnalyzer"/> as it was before its hand-written scanner and single-walk visible text
/// (branch analyzer-perf, parent of the change): regular expressions over the whole text, and every text node
/// asking its ancestors whether it is hidden. Slow but plainly right, so it stays here as the oracle that
/// the fast version is compared with (ContentAnalyzerDifferentialTests). Do not "fix" it: a change in
/// behaviour is made in both, on purpose, with a test.
/// </summary>
internal static partial class ReferenceContentAnalyzer
{
    private const int MaxLinks = 1000;
    private const int MaxImages = 1000;
    private const int MaxCodes = 10;
    private const int MaxScanChars = 1024 * 1024;

    private static readonly HtmlParser Parser = new(new HtmlParserOptions { IsScripting = false });
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
        var document = Parser.ParseDocument(HtmlDepthLimiter.Limit(html.Length > MaxScanChars ? html[..MaxScanChars] : html));

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
    internal static string VisibleText(IDocument document)
    {
        var text = new StringBuilder();
        var root = (INode?)document.Body ?? document.DocumentElement;
        if (root is null)
            return "";
        foreach (var node in root.GetDescendants().OfType<IText>())
        {
            if (node.ParentElement is { } parent && parent.GetAncestors().OfType<IElement>().Prepend(parent).Any(e => HiddenElements.Contains(e.TagName)))
                continue;
            text.Append(node.Data).Append('\n');
            if (text.Length > MaxScanChars)
                break;
        }

        return text.ToString();
    }

    /// <summary>http(s) and ftp URLs in plain text, without trailing punctuation.</summary>
    internal static List<string> FindUrls(string text) =>
        Url().Matches(text).Select(m => m.Value.TrimEnd('.', ',', ';', ':', '!', '?', ')', ']', '\'', '"', '>')).Take(MaxLinks).ToList();

    /// <summary>
    /// One-time codes: tokens of 4 to 8 characters standing alone, either all digits (not a year, not part
    /// of a date, time, decimal or grouped number) or upper-case letters and digits mixed (at least one
    /// of each). Addresses and URLs are ignored. First occurrences, at most ten.
    /// </summary>
    internal static List<string> FindCodes(string text)
    {
        if (text.Length > MaxScanChars)
            text = text[..MaxScanChars];
        text = Email().Replace(Url().Replace(text, " "), " ");

        var codes = new List<string>();
        foreach (Match match in Candidate().Matches(text))
        {
            var token = match.Value;
            var start = match.Index;
            var end = start + token.Length;
            if (PartOfLargerNumber(text, start, end))
                continue;

            var digits = token.Count(char.IsAsciiDigit);
            if (digits == token.Length)
            {
                if (token.Length == 4 && token[0] is '1' or '2' && int.Parse(token, System.Globalization.CultureInfo.InvariantCulture) is >= 1900 and <= 2099)
                    continue; // a year
            }
            else if (digits == 0)
            {
                continue; // a word in capitals
            }

            if (!codes.Contains(token))
                codes.Add(token);
            if (codes.Count == MaxCodes)
                break;
        }

        return codes;
    }

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

    [GeneratedRegex(@"(?<![\p{L}\p{N}])[A-Z0-9]{4,8}(?![\p{L}\p{N}])")]
    private static partial Regex Candidate();

    [GeneratedRegex(@"\b(?:https?|ftp)://[^\s<>""']+", RegexOptions.IgnoreCase)]
    private static partial Regex Url();

    [GeneratedRegex(@"[^\s<>""'@]+@[^\s<>""'@]+\.[^\s<>""'@]+")]
    private static partial Regex Email();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
