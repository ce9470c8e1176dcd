using MailSink.Api.Chaos;
using MailSink.Storage;

namespace MailSink.Server.Smtp;

/// <summary>What one listener's sessions need to know, resolved once from the options.</summary>
internal sealed class SessionSettings(SmtpOptions options, ListenerOptions listener, BodySpool spool, IStorageSpace storage, ChaosRules chaos, MailSinkMetrics? metrics = null)
{
    /// <summary>Sessions, messages and rejects are counted here (null in tests that build settings alone).</summary>
    public MailSinkMetrics? Metrics { get; } = metrics;

    /// <summary>Fault rules, asked at each stage (connect, helo, mail, rcpt, data).</summary>
    public ChaosRules Chaos { get; } = chaos;

    /// <summary>Whether the store has room for new mail (asked at MAIL).</summary>
    public IStorageSpace Storage { get; } = storage;

    /// <summary>Where DATA bodies wait until their end: memory within a shared budget, then files.</summary>
    public BodySpool Spool { get; } = spool;

    public string ServerName { get; } = options.ServerName;

    public ListenerOptions Listener { get; } = listener;

    public long MaxMessageBytes { get; } = options.MaxMessageBytes;

    public int MaxRecipients { get; } = options.MaxRecipients;

    public TimeSpan IdleTimeout { get; } = options.IdleTimeout;

    public TimeSpan BusyIdleTimeout { get; } = options.BusyIdleTimeout < options.IdleTimeout ? options.BusyIdleTimeout : options.IdleTimeout;

    public int MaxErrors { get; } = options.MaxErrorsPerSession;

    public int MaxCommandsWithoutMessage { get; } = options.MaxCommandsWithoutMessage;

    public SmtpAuthMode AuthMode { get; } = options.Auth.Mode;

    public bool AllowInsecureAuth { get; } = options.Auth.AllowInsecure;

    public IReadOnlyDictionary<string, string> Users { get; } =
        options.Auth.Users.GroupBy(u => u.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Password, StringComparer.Ordinal);

    /// <summary>Whether AUTH is offered and accepted in a session that is (or is not) under TLS.</summary>
    public bool AuthAllowed(bool secure) => secure || AllowInsecureAuth;
}
