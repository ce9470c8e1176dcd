using System.Text.Json;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using MailSink.Storage.Analysis;

namespace MailSink.Api.Analysis;

public sealed record HtmlFeatureDto(string Slug, string Title, string Url, string Category, IReadOnlyList<string> NotSupported, IReadOnlyList<string> Partial);

public sealed record HtmlCompatibilityDto(string DataVersion, string DataDate, IReadOnlyList<HtmlFeatureDto> Features);

/// <summary>
/// Which HTML and CSS features a message uses, and which mail clients lack them, from caniemail's data
/// (embedded: the npm package caniemail 2.0.2, MIT). A feature is found by its caniemail name: an element
/// (<c>html-video</c>), an attribute (<c>html-srcset</c>), a CSS property (<c>css-border-radius</c>), a value
/// (<c>css-display-flex</c>, <c>css-linear-gradient</c>), an at-rule or a pseudo-class. A client is each
/// family and platform, by its latest test.
/// </summary>
public static partial class HtmlCompatibility
{
    private static readonly Lazy<Data> Loaded = new(Load);

    private sealed record Feature(string Slug, string Title, string Url, string Category, List<string> No, List<string> Partial);

    private sealed record Data(string Version, string Date, Dictionary<string, Feature> Features);

    public static HtmlCompatibilityDto Check(string? html)
    {
        var data = Loaded.Value;
        var used = Used(html ?? "").Where(data.Features.ContainsKey).Select(s => data.Features[s])
            .OrderByDescending(f => f.No.Count).ThenByDescending(f => f.Partial.Count).ThenBy(f => f.Slug, StringComparer.Ordinal);
        return new HtmlCompatibilityDto(data.Version, data.Date, [.. used.Select(f => new HtmlFeatureDto(f.Slug, f.Title, f.Url, f.Category, f.No, f.Partial))]);
    }

    /// <summary>caniemail's names of what the HTML uses (names caniemail does not know are dropped by the caller).</summary>
    internal static HashSet<string> Used(string html)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        if (html.Length == 0)
            return used;
        var document = new HtmlParser().ParseDocument(HtmlDepthLimiter.ForParser(html)); // deep nesting cost seconds a request
        if (html.TrimStart().StartsWith("<!doctype", StringComparison.OrdinalIgnoreCase))
            used.Add("html-doctype");
        foreach (var element in document.All)
        {
            var tag = element.LocalName;
            used.Add($"html-{tag}");
            if (tag is "h1" or "h2" or "h3" or "h4" or "h5" or "h6")
                used.Add("html-h1-h6");
            if (tag is "ul" or "ol" or "li" or "dl")
                used.Add("html-lists");
            if (tag == "input")
                used.Add($"html-input-{(element.GetAttribute("type") ?? "text").ToLowerInvariant()}");
            if (tag == "meta" && element.GetAttribute("name")?.Equals("color-scheme", StringComparison.OrdinalIgnoreCase) == true)
                used.Add("html-meta-color-scheme");
            if (tag == "a" && element.GetAttribute("href") is { } href)
            {
                if (href.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase))
                    used.Add("html-mailto-links");
                if (href.StartsWith('#'))
                    used.Add("html-anchor-links");
            }

            foreach (var attribute in element.Attributes)
                Attribute(used, attribute);
            if (element.GetAttribute("style") is { } style)
                Declarations(used, style);
            if (tag == "style")
                StyleSheet(used, element.TextContent);
        }

        return used;
    }

    private static void Attribute(HashSet<string> used, IAttr attribute)
    {
        var name = attribute.Name.ToLowerInvariant();
        if (name.StartsWith("aria-", StringComparison.Ordinal))
            used.Add($"html-{name}");
        else if (name == "loading")
            used.Add("html-loading-attribute");
        else if (name is "srcset" or "role" or "lang" or "dir" or "align" or "valign" or "width" or "height" or "background" or "cellpadding" or "cellspacing" or "target" or "hidden" or "required" or "popover")
            used.Add($"html-{name}");
        else if (name == "inert")
            used.Add("css-inert-attribute");
    }

    private static void StyleSheet(HashSet<string> used, string css)
    {
        foreach (Match at in AtRule().Matches(css))
            used.Add($"css-at-{at.Groups[1].Value.ToLowerInvariant()}");
        foreach (Match prelude in MediaPrelude().Matches(css))
        {
            foreach (var media in new[] { "prefers-color-scheme", "prefers-reduced-motion", "orientation", "hover", "device-pixel-ratio" })
            {
                if (prelude.Groups[1].Value.Contains(media, StringComparison.OrdinalIgnoreCase))
                    used.Add($"css-at-media-{media}");
            }
        }

        // Selectors: what is left once the declaration blocks are gone.
        var selectors = Block().Replace(css, " ");
        foreach (Match pseudo in PseudoElement().Matches(selectors))
            used.Add($"css-pseudo-element-{pseudo.Groups[1].Value.ToLowerInvariant()}");
        foreach (Match pseudo in PseudoClass().Matches(selectors))
            used.Add($"css-pseudo-class-{pseudo.Groups[1].Value.ToLowerInvariant()}");
        foreach (Match block in Block().Matches(css))
            Declarations(used, block.Groups[1].Value);
        if (css.Contains("/*", StringComparison.Ordinal))
            used.Add("css-comments");
    }

    /// <summary>One declaration block: each property, and the values caniemail names (display kinds, functions, units, !important).</summary>
    private static void Declarations(HashSet<string> used, string declarations)
    {
        foreach (var declaration in declarations.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = declaration.IndexOf(':');
            if (colon <= 0)
                continue;
            var property = declaration[..colon].Trim().ToLowerInvariant();
            var value = declaration[(colon + 1)..].Trim().ToLowerInvariant();
            used.Add(property.StartsWith("--", StringComparison.Ordinal) ? "css-variables" : $"css-{property}");
            if (property == "display" && value.Split(' ')[0] is "flex" or "grid" or "none" or "inline-flex" or "inline-grid")
                used.Add($"css-display-{value.Split(' ')[0].Replace("inline-", "", StringComparison.Ordinal)}");
            if (value.Contains("!important", StringComparison.Ordinal))
                used.Add("css-important");
            foreach (Match function in Function().Matches(value))
            {
                var name = function.Groups[1].Value;
                used.Add(name switch
                {
                    "var" => "css-variables",
                    "calc" => "css-unit-calc",
                    "rgb" or "rgba" => $"css-{name}",
                    "linear-gradient" or "radial-gradient" or "conic-gradient" => $"css-{name}",
                    _ => $"css-function-{name}",
                });
            }

            foreach (Match unit in Unit().Matches(value))
                used.Add($"css-unit-{(unit.Groups[1].Value == "%" ? "percent" : unit.Groups[1].Value)}");
        }
    }

    private static Data Load()
    {
        using var stream = typeof(HtmlCompatibility).Assembly.GetManifestResourceStream("caniemail.json")
                           ?? throw new InvalidOperationException("caniemail.json is not embedded.");
        using var json = JsonDocument.Parse(stream);
        var root = json.RootElement;
        var families = root.GetProperty("nicenames").GetProperty("family");
        var platforms = root.GetProperty("nicenames").GetProperty("platform");
        string Nice(JsonElement names, string key) => names.TryGetProperty(key, out var nice) ? nice.GetString() ?? key : key;
        var features = new Dictionary<string, Feature>(StringComparer.Ordinal);
        foreach (var item in root.GetProperty("data").EnumerateArray())
        {
            List<string> no = [], partial = [];
            foreach (var family in item.GetProperty("stats").EnumerateObject())
            {
                foreach (var platform in family.Value.EnumerateObject())
                {
                    // The latest test of the platform decides ("y", "n", "a", "u", maybe with "#1" note marks).
                    var latest = platform.Value.EnumerateObject().LastOrDefault().Value.GetString() ?? "u";
                    var client = $"{Nice(families, family.Name)} {Nice(platforms, platform.Name)}";
                    if (latest.StartsWith('n'))
                        no.Add(client);
                    else if (latest.StartsWith('a'))
                        partial.Add(client);
                }
            }

            var slug = item.GetProperty("slug").GetString()!;
            features[slug] = new Feature(slug, item.GetProperty("title").GetString() ?? slug, item.GetProperty("url").GetString() ?? "",
                item.GetProperty("category").GetString() ?? "", no, partial);
        }

        return new Data(root.GetProperty("api_version").GetString() ?? "", root.GetProperty("last_update_date").GetString() ?? "", features);
    }

    [GeneratedRegex(@"@(media|font-face|import|keyframes|supports)\b", RegexOptions.IgnoreCase)]
    private static partial Regex AtRule();

    [GeneratedRegex(@"::([a-z-]+)", RegexOptions.IgnoreCase)]
    private static partial Regex PseudoElement();

    [GeneratedRegex(@"(?<!:):([a-z][a-z-]*)", RegexOptions.IgnoreCase)]
    private static partial Regex PseudoClass();

    // Each pattern matches in time linear in the CSS, whatever it holds (a style sheet is the sender's to
    // make): a prelude stops at the next at-rule, and a function name is tried once, from its start.
    [GeneratedRegex(@"@media([^{@]*)\{", RegexOptions.IgnoreCase)]
    private static partial Regex MediaPrelude();

    [GeneratedRegex(@"\{([^{}]*)\}")]
    private static partial Regex Block();

    [GeneratedRegex(@"(?<![a-z-])(?>([a-z-]+))\(")]
    private static partial Regex Function();

    [GeneratedRegex(@"\d(px|em|rem|vh|vw|vmin|vmax|pt|pc|cm|mm|in|ex|ch|%)(?![a-z])")]
    private static partial Regex Unit();
}
