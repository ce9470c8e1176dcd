namespace MailSink.Api;

/// <summary>
/// The SMTP password of an inbox, for <c>GET api/servers/{id}/password</c>. The SMTP side owns the
/// credentials (MailSink.Server implements this); the API only asks.
/// </summary>
public interface IInboxPasswords
{
    /// <summary>The password for the inbox's SMTP user, or an empty string when there is none.</summary>
    string PasswordFor(string inboxId);
}
