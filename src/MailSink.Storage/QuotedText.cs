using System.Globalization;
using System.Text;

namespace MailSink.Storage;

/// <summary>
/// Someone else's text quoted in what MailSink writes (an SMTP reply, an API error, a log line): shown so
/// that it can neither break the line nor rearrange what a person reads.
/// </summary>
public static class QuotedText
{
    /// <summary>
    /// <paramref name="text"/> printable, on one line, and at most <paramref name="max"/> characters (then
    /// '…', never half an emoji); what <see cref="IsHidden"/> names shows as '?'.
    /// </summary>
    public static string Printable(string? text, int max = 64)
    {
        text ??= "";
        var builder = new StringBuilder(Math.Min(text.Length, max));
        foreach (var c in text)
        {
            if (builder.Length >= max || (builder.Length == max - 1 && char.IsHighSurrogate(c)))
            {
                builder.Append('…');
                break;
            }

            builder.Append(IsHidden(c) ? '?' : c);
        }

        return builder.ToString();
    }

    /// <summary>
    /// What <see cref="Printable"/> shows as '?': control and format characters (bidi overrides among them),
    /// which could rearrange what a person reads.
    /// </summary>
    public static bool IsHidden(char c) =>
        char.IsControl(c) || char.GetUnicodeCategory(c) == UnicodeCategory.Format;
}
