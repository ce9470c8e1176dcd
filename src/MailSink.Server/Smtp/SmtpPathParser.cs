using System.Text;
using MailSink.Storage;

namespace MailSink.Server.Smtp;

/// <summary>
/// Parses what follows <c>MAIL FROM:</c> and <c>RCPT TO:</c> the way people and programs really write it:
/// with or without angle brackets, with a display name, with a comma-separated list of recipients, with
/// UTF-8 anywhere, with ESMTP parameters after the path. Errors are sentences for the person typing.
/// </summary>
internal static class SmtpPathParser
{
    private const int MaxAddressLength = 512;

    public sealed record Result(IReadOnlyList<string> Addresses, IReadOnlyDictionary<string, string?> Parameters);

    /// <summary>Parses a reverse path: one address (or <c>&lt;&gt;</c>) and parameters.</summary>
    public static bool TryParseMailFrom(string text, out Result? result, out string error) =>
        TryParse(text, allowList: false, out result, out error);

    /// <summary>Parses forward paths: one or more addresses separated by commas, and parameters.</summary>
    public static bool TryParseRcptTo(string text, out Result? result, out string error) =>
        TryParse(text, allowList: true, out result, out error);

    private static bool TryParse(string text, bool allowList, out Result? result, out string error)
    {
        result = null;
        var addresses = new List<string>();
        var i = SkipSpaces(text, 0);

        while (true)
        {
            if (i >= text.Length)
            {
                error = "No address given.";
                return false;
            }

            // "Display Name <a@b>": skip a leading name when an angle bracket follows.
            if (text[i] != '<')
            {
                var lt = FindDisplayNameEnd(text, i, allowList);
                if (lt > i)
                    i = lt;
            }

            string address;
            if (text[i] == '<')
            {
                var end = FindClosingBracket(text, i + 1);
                if (end < 0)
                {
                    error = "Missing '>' after the address.";
                    return false;
                }

                address = text[(i + 1)..end].Trim();
                i = end + 1;
            }
            else
            {
                var end = FindBareEnd(text, i, allowList);
                address = text[i..end];
                i = end;
                if (address.Length == 0)
                {
                    error = "No address given.";
                    return false;
                }
            }

            address = StripSourceRoute(address);
            addresses.Add(address);

            i = SkipSpaces(text, i);
            if (allowList && i < text.Length && text[i] == ',')
            {
                i = SkipSpaces(text, i + 1);
                continue;
            }

            break;
        }

        var parameters = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var token in text[i..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = token.IndexOf('=');
            var key = eq < 0 ? token : token[..eq];
            var value = eq < 0 ? null : token[(eq + 1)..];
            if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                // "a b@c" is more likely a broken address than a broken parameter: say what is wrong with it.
                error = addresses[^1].Length > 0 && !IsValidAddress(addresses[^1], allowList, out var addressError)
                    ? addressError
                    : $"'{QuotedText.Printable(token)}' is not an address parameter (KEY or KEY=VALUE).";
                return false;
            }

            // The same parameter twice with the same value is harmless, and Python's smtplib sends it so when a
            // caller's mail_options name SMTPUTF8 or BODY=8BITMIME, which it adds itself as well.
            if (!parameters.TryAdd(key, value) && !string.Equals(parameters[key], value, StringComparison.OrdinalIgnoreCase))
            {
                error = $"Parameter {key.ToUpperInvariant()} is given twice, as {Shown(parameters[key])} and as {Shown(value)}.";
                return false;
            }
        }

        result = new Result(addresses, parameters);
        error = "";
        return true;
    }

    private static string Shown(string? value) => value is null ? "a flag" : $"'{QuotedText.Printable(value, 32)}'";

    /// <summary>
    /// Checks one address: <c>local@domain</c>, local part a dot-atom or a quoted string (UTF-8 allowed),
    /// domain of DNS labels (UTF-8 allowed) or an address literal. <paramref name="allowPostmaster"/> lets
    /// the bare <c>Postmaster</c> through, as RFC 5321 requires for RCPT.
    /// </summary>
    public static bool IsValidAddress(string address, bool allowPostmaster, out string error)
    {
        error = "";
        if (address.Length > MaxAddressLength)
        {
            error = $"The address is longer than {MaxAddressLength} characters.";
            return false;
        }

        if (address.Any(c => char.IsControl(c)))
        {
            error = "The address contains control characters.";
            return false;
        }

        var at = LastAtOutsideQuotes(address);
        if (at < 0)
        {
            if (allowPostmaster && address.Equals("postmaster", StringComparison.OrdinalIgnoreCase))
                return true;
            error = $"'{QuotedText.Printable(address)}' has no domain: write it as name@domain, e.g. test@inbox.localhost.";
            return false;
        }

        var local = address[..at];
        var domain = address[(at + 1)..];
        if (local.Length == 0)
        {
            error = $"'{QuotedText.Printable(address)}' has nothing before the '@'.";
            return false;
        }

        if (!IsValidLocalPart(local))
        {
            error = $"The local part of '{QuotedText.Printable(address)}' is not valid (spaces and brackets need quotes).";
            return false;
        }

        if (!IsValidDomain(domain))
        {
            // QuotedText.Printable shows such a character as '?': say which it was, or the reply reads as nonsense.
            var hidden = domain.FirstOrDefault(QuotedText.IsHidden);
            error = hidden == default
                ? $"The domain of '{QuotedText.Printable(address)}' is not valid."
                : $"The domain of '{QuotedText.Printable(address)}' is not valid: it holds U+{(int)hidden:X4}, an invisible character that changes how text reads (shown as '?').";
            return false;
        }

        return true;
    }

    private static bool IsValidLocalPart(string local)
    {
        if (local.Length >= 2 && local[0] == '"' && local[^1] == '"')
        {
            for (var i = 1; i < local.Length - 1; i++)
            {
                if (local[i] == '\\')
                    i++; // quoted pair
                else if (local[i] == '"')
                    return false;
            }

            return true;
        }

        foreach (var c in local)
        {
            if (c > 127)
                continue; // SMTPUTF8
            if (char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~.".Contains(c))
                continue;
            return false;
        }

        return true;
    }

    private static bool IsValidDomain(string domain)
    {
        if (domain.Length == 0)
            return false;
        if (domain[0] == '[')
            return domain[^1] == ']' && domain.Length > 2 && !domain[1..^1].Any(c => c is '[' or ']' or '\\' or ' ');

        var labels = domain.TrimEnd('.').Split('.');
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
                return false;
            if (!label.All(c => c > 127 || char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                return false;
            if (!Ascii.IsValid(label) && !IsValidIdn(label))
                return false;
        }

        return true;
    }

    /// <summary>
    /// A label in Unicode must be a valid internationalised name (IDNA): that refuses bidi controls (which can
    /// make an address read as another on screen) and other characters no domain may hold.
    /// </summary>
    private static bool IsValidIdn(string label)
    {
        try
        {
            Idn.GetAscii(label);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static readonly System.Globalization.IdnMapping Idn = new();

    private static int FindClosingBracket(string text, int start) =>
        UnquotedPositions(text, start).FirstOrDefault(i => text[i] == '>', -1);

    /// <summary>
    /// The '&lt;' after a display name, or -1 when an '@' or (in a list) a comma comes first: then the text
    /// is a bare address. Quoted text is skipped, so <c>"a@b" &lt;a@b&gt;</c> and <c>"a&lt;b"@c</c> both work.
    /// </summary>
    private static int FindDisplayNameEnd(string text, int start, bool allowList)
    {
        var stop = UnquotedPositions(text, start).FirstOrDefault(i => text[i] is '<' or '@' || (allowList && text[i] == ','), -1);
        return stop >= 0 && text[stop] == '<' ? stop : -1;
    }

    private static int FindBareEnd(string text, int start, bool allowList) =>
        UnquotedPositions(text, start).FirstOrDefault(i => text[i] == ' ' || (allowList && text[i] == ','), text.Length);

    private static int LastAtOutsideQuotes(string address) =>
        UnquotedPositions(address, 0).LastOrDefault(i => address[i] == '@', -1);

    /// <summary>Positions of the characters outside double quotes (a backslash escapes inside them).</summary>
    private static IEnumerable<int> UnquotedPositions(string text, int start)
    {
        var quoted = false;
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted && c == '\\')
                i++;
            else if (c == '"')
                quoted = !quoted;
            else if (!quoted)
                yield return i;
        }
    }

    /// <summary>RFC 5321 source routes (<c>@a,@b:user@c</c>) must be accepted and ignored.</summary>
    private static string StripSourceRoute(string address)
    {
        if (address.StartsWith('@'))
        {
            var colon = address.IndexOf(':');
            if (colon > 0)
                return address[(colon + 1)..];
        }

        return address;
    }

    private static int SkipSpaces(string text, int i)
    {
        while (i < text.Length && text[i] is ' ' or '\t')
            i++;
        return i;
    }
}
