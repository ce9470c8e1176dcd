using Microsoft.Extensions.Options;

namespace MailSink.Api.Outgoing;

/// <summary>
/// The <c>MailSink:Relay</c> section: the one way mail made through the API (create with <c>send</c>,
/// forward, reply, release) can leave MailSink. Without a <see cref="Host"/>, or to a recipient no pattern
/// of <see cref="AllowedRecipients"/> matches, nothing leaves: the call is refused with a 400.
/// </summary>
public sealed class RelayOptions
{
    public const string Section = "MailSink:Relay";

    /// <summary>The SMTP server to hand outside mail to. Empty: no relay (the default).</summary>
    public string Host { get; set; } = "";

    public int Port { get; set; } = 25;

    public RelayTls Tls { get; set; } = RelayTls.Auto;

    /// <summary>Accept the relay's certificate whatever it is (a test relay with a self-signed one).</summary>
    public bool TrustAnyCertificate { get; set; }

    /// <summary>AUTH user name; empty: no AUTH.</summary>
    public string User { get; set; } = "";

    public string Password { get; set; } = "";

    /// <summary>
    /// Addresses that may be relayed to, each a pattern where <c>*</c> stands for any characters
    /// (<c>*@example.com</c>, <c>qa-*@example.org</c>, <c>alice@example.net</c>); any case. Empty: none.
    /// </summary>
    public List<string> AllowedRecipients { get; set; } = [];

    public bool Configured => !string.IsNullOrWhiteSpace(Host);

    /// <summary>Whether <paramref name="address"/> matches one of <see cref="AllowedRecipients"/>.</summary>
    public bool Allows(string address) => AllowedRecipients.Any(pattern => Matches(pattern.Trim(), address.Trim()));

    /// <summary>A glob match, <c>*</c> for any run of characters, case-insensitive, the whole address.</summary>
    internal static bool Matches(string pattern, string address)
    {
        int p = 0, a = 0, star = -1, resume = 0;
        while (a < address.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = a;
            }
            else if (p < pattern.Length && char.ToLowerInvariant(pattern[p]) == char.ToLowerInvariant(address[a]))
            {
                p++;
                a++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                a = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
            p++;
        return p == pattern.Length;
    }
}

/// <summary>How the relay connection is secured.</summary>
public enum RelayTls
{
    /// <summary>STARTTLS when the relay offers it, plain text otherwise.</summary>
    Auto,

    /// <summary>Plain text only.</summary>
    None,

    /// <summary>STARTTLS, required.</summary>
    StartTls,

    /// <summary>TLS from the first byte (port 465).</summary>
    Implicit,
}

/// <summary>A bad <c>MailSink:Relay</c> value stops the process with one line naming its key.</summary>
internal sealed class RelayOptionsValidator : IValidateOptions<RelayOptions>
{
    public ValidateOptionsResult Validate(string? name, RelayOptions options)
    {
        var failures = new List<string>();
        if (options.Port is < 1 or > 65535)
            failures.Add($"{RelayOptions.Section}:Port must be from 1 to 65535 (it is {options.Port}).");
        if (!options.Configured && options.AllowedRecipients.Count > 0)
            failures.Add($"{RelayOptions.Section}:AllowedRecipients is set but {RelayOptions.Section}:Host is not: name the SMTP server to relay to.");
        for (var i = 0; i < options.AllowedRecipients.Count; i++)
        {
            var pattern = options.AllowedRecipients[i];
            if (string.IsNullOrWhiteSpace(pattern) || !pattern.Contains('@') || pattern[(pattern.LastIndexOf('@') + 1)..].Trim().Trim('*', '.').Length == 0)
            {
                failures.Add(
                    $"{RelayOptions.Section}:AllowedRecipients:{i} must be an address pattern such as *@example.com or alice@example.com " +
                    $"(a pattern that allows every address is refused: MailSink must never become an open relay); it is '{pattern}'.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
