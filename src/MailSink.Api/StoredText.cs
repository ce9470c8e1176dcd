using System.Buffers;

namespace MailSink.Api;

/// <summary>
/// The rule for every string a client hands the API to keep (today: a server's name, on create and on
/// rename). What is kept comes back in listings: without a limit, 1,000 names of 60,000 characters made
/// <c>GET api/servers</c> 60.8 MB. It is shown in terminals, logs and the web UI, so it holds no control
/// characters either. An endpoint that stores a client's string checks it here.
/// </summary>
internal static class StoredText
{
    /// <summary>The most characters (Unicode scalar values: an emoji is one) a stored string may have.</summary>
    public const int MaxLength = 200;

    /// <summary>Unicode's control characters (category Cc): C0, DEL and C1.</summary>
    private static readonly SearchValues<char> ControlCharacters = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), .. Enumerable.Range(0x7f, 0x21).Select(c => (char)c)]);

    /// <summary>True when <paramref name="value"/> may be stored; otherwise a Mailosaur-shaped 400 naming <paramref name="field"/>.</summary>
    public static bool TryCheck(string field, string value, out IResult? error)
    {
        error = null;
        var control = value.AsSpan().IndexOfAny(ControlCharacters);
        if (control >= 0)
        {
            error = ApiErrors.BadRequest(
                field, $"{field} must not contain a control character (it has U+{(int)value[control]:X4} at position {control}).");
            return false;
        }

        // Request bodies were read as valid UTF-16 (RequestBodies refuses lone surrogates), so runes are whole.
        var length = value.Length <= MaxLength ? value.Length : value.EnumerateRunes().Count();
        if (length > MaxLength)
        {
            error = ApiErrors.BadRequest(field, $"{field} must be at most {MaxLength} characters (it has {length}).");
            return false;
        }

        return true;
    }
}
