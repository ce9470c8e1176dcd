using System.Security.Cryptography;
using System.Text;
using SmtpServer;
using SmtpServer.Authentication;

namespace MailSink.Server.Smtp;

/// <summary>
/// The library's last AUTH step. The session adapter has already checked the real credentials (any
/// mechanism) and forwards the user name with a one-time token; this only confirms that token.
/// </summary>
internal sealed class SinkUserAuthenticator : IUserAuthenticator
{
    public Task<bool> AuthenticateAsync(ISessionContext context, string user, string password, CancellationToken cancellationToken)
    {
        var state = SessionState.Of(context);
        var pending = state.PendingAuth;
        state.PendingAuth = null;
        var ok = pending is { } p
                 && p.User == user
                 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(p.Token), Encoding.UTF8.GetBytes(password));
        return Task.FromResult(ok);
    }
}
