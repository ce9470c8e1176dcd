using SmtpServer;

namespace MailSink.Server.Smtp;

/// <summary>
/// Everything MailSink knows of one SMTP session, in one typed place: its transport, its listener's
/// settings and its envelope state. The library hands our seams (<see cref="SinkCommandFactory"/>,
/// <see cref="SinkMessageStore"/>) only its own session context; <see cref="Of"/> is the one way from that
/// context back to this.
/// </summary>
internal sealed class SinkSession
{
    private const string PropertyKey = "MailSink.Session";

    private readonly SessionTracker? _tracker;
    private string? _id;

    public SinkSession(ISessionContext context, ISmtpTransport transport, SessionSettings settings, SessionTracker? tracker)
    {
        Context = context;
        Transport = transport;
        Settings = settings;
        _tracker = tracker;
        context.Properties[PropertyKey] = this;
    }

    public ISessionContext Context { get; }

    public ISmtpTransport Transport { get; }

    public SessionSettings Settings { get; }

    public SessionState State { get; } = new();

    /// <summary>The session's short id, as the log lines show it (made the first time it is asked for).</summary>
    public string Id => _id ??= ShortId(Context);

    /// <summary>A session's short id, from the library's context alone (for events raised on any session).</summary>
    public static string ShortId(ISessionContext context) => context.SessionId.ToString("N")[..8];

    /// <summary>Whether this is the only SMTP session open on the server.</summary>
    public bool Alone => _tracker?.Active == 1;

    public static SinkSession Of(ISessionContext context) =>
        context.Properties.TryGetValue(PropertyKey, out var value) && value is SinkSession session
            ? session
            : throw new InvalidOperationException("The session was not opened through MailSink's listener.");
}
