using MailSink.Api;
using Microsoft.Extensions.Options;

namespace MailSink.Server.Smtp;

/// <summary>In Users mode, an SMTP user named like an inbox is that inbox's SMTP login (Mailosaur's model).</summary>
internal sealed class SmtpInboxPasswords(IOptions<SmtpOptions> options) : IInboxPasswords
{
    public string PasswordFor(string inboxId)
    {
        var auth = options.Value.Auth;
        if (auth.Mode != SmtpAuthMode.Users)
            return "";
        return auth.Users.LastOrDefault(u => string.Equals(u.Name, inboxId, StringComparison.OrdinalIgnoreCase))?.Password ?? "";
    }
}
