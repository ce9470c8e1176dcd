using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;

namespace MailSink.Storage.Ingest;

/// <summary>
/// Maps a recipient address to the inbox it lands in: <c>local@&lt;id&gt;.&lt;root&gt;</c> (deeper labels
/// too) goes to inbox <c>&lt;id&gt;</c>, the label directly left of a root domain, lower-cased; any other
/// address goes to the catch-all inbox.
/// </summary>
public sealed class InboxRouter
{
    private static readonly IdnMapping Idn = new();
    private readonly string[] _roots;
    private readonly string _primaryRoot;

    public InboxRouter(IOptions<RoutingOptions> options)
    {
        var value = options.Value;
        var roots = value.RootDomains.Count == 0 ? RoutingOptions.DefaultRootDomains : value.RootDomains.ToArray();
        // Longest first, so that "mail.example.com" wins over "example.com".
        _roots = roots.Select(NormalizeDomain).Distinct().OrderByDescending(r => r.Length).ToArray();
        _primaryRoot = NormalizeDomain(roots[0]);
        CatchAllInbox = value.CatchAllInbox;
    }

    public string CatchAllInbox { get; }

    /// <summary>An address that routes to <paramref name="inbox"/>: <c>{local}@{inbox}.{first root domain}</c>.</summary>
    public string AddressOf(string inbox, string? local = null) => $"{local ?? inbox}@{inbox}.{_primaryRoot}";

    /// <summary>The inbox id for one envelope or header address.</summary>
    public string Route(string address)
    {
        if (Split(address) is not var (domain, root) || domain.Length == root.Length)
            return CatchAllInbox;
        var prefix = domain[..(domain.Length - root.Length - 1)];
        var label = prefix[(prefix.LastIndexOf('.') + 1)..];
        return IsValidInboxId(label) ? label : CatchAllInbox;
    }

    /// <summary>
    /// Whether mail to the address stays in MailSink: its domain is a root domain or under one. Anything else
    /// is the outside world, which MailSink never sends to unless a relay is configured to allow it.
    /// </summary>
    public bool IsLocal(string address) => Split(address) is not null;

    /// <summary>
    /// The address's domain (normalised) and the root domain it is or is under, or null. The longest root
    /// decides: a shorter root must not read the longer one's own labels as an inbox ("x@mail.example.com"
    /// is at root mail.example.com).
    /// </summary>
    private (string Domain, string Root)? Split(string address)
    {
        var at = address.LastIndexOf('@');
        if (at < 0 || at == address.Length - 1)
            return null;
        var domain = NormalizeDomain(address[(at + 1)..]);
        foreach (var root in _roots)
        {
            if (domain == root
                || (domain.Length > root.Length + 1 && domain.EndsWith(root, StringComparison.Ordinal) && domain[domain.Length - root.Length - 1] == '.'))
                return (domain, root);
        }

        return null;
    }

    /// <summary>
    /// An inbox id is one DNS label in its ASCII form (letters, digits, hyphen, underscore), at most 63
    /// characters: what can stand left of a root domain, nothing that could be confused with a path or a
    /// key separator, and nothing that can pass for another name on screen.
    /// </summary>
    public static bool IsValidInboxId(string id)
    {
        if (id.Length is 0 or > 63)
            return false;
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
                return false;
        }

        return true;
    }

    /// <summary>
    /// One spelling per domain: lower case, no leading or trailing dot, and internationalised labels in their
    /// ASCII (punycode) form, as DNS itself spells them. An inbox is named by that form: a label in Unicode
    /// can look like another one (<c>xn--80ak6aa92e</c> is a Cyrillic look-alike of "apple"), its ASCII form
    /// cannot. A name that is not a valid internationalised name (bidi controls, say) keeps its characters,
    /// which no inbox id has: it lands in the catch-all inbox.
    /// </summary>
    public static string NormalizeDomain(string domain)
    {
        domain = domain.Trim().Trim('.').ToLowerInvariant();
        if (domain.StartsWith('[') || Ascii.IsValid(domain))
            return domain; // an address literal, or already ASCII ("xn--" labels as written)
        try
        {
            // IDNA also folds case and composes characters: "BU\u0308CHER" is "xn--bcher-kva".
            return Idn.GetAscii(domain).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return domain;
        }
    }

    /// <summary>An inbox id as a caller may write it (any case, a Unicode label): the id it names.</summary>
    public static string NormalizeInboxId(string id) => NormalizeDomain(id);
}
