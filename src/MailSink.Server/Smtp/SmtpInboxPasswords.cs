using System.Security.Cryptography;
using System.Text;
using MailSink.Api;
using Microsoft.Extensions.Options;

namespace MailSink.Server.Smtp;

/// <summary>
/// The SMTP password of an inbox (Mailosaur's model: the inbox id is the user name). In Users mode, the
/// configured user named like the inbox, or none. In the default AcceptAny mode every password is
/// accepted, so the password given is one that is stable per inbox (derived from its id) and long enough
/// for clients that check it: a suite can log in with it as it would at Mailosaur, and AUTH takes it.
/// </summary>
internal sealed class SmtpInboxPasswords(IOptions<SmtpOptions> options) : IInboxPasswords
{
    private const int Length = 16;

    public string PasswordFor(string inboxId)
    {
        var auth = options.Value.Auth;
        if (auth.Mode != SmtpAuthMode.Users)
            return Derived(inboxId);
        return auth.Users.LastOrDefault(u => string.Equals(u.Name, inboxId, StringComparison.OrdinalIgnoreCase))?.Password ?? "";
    }

    /// <summary>Letters and digits from a hash of the inbox id: the same on every node and after a restart.</summary>
    internal static string Derived(string inboxId)
    {
        const string alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("mailsink-smtp-password:" + inboxId.ToLowerInvariant()));
        return string.Create(Length, hash, (span, bytes) =>
        {
            for (var i = 0; i < span.Length; i++)
                span[i] = alphabet[bytes[i] % alphabet.Length];
        });
    }
}
