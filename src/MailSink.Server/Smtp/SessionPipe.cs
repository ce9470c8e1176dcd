using System.IO.Pipelines;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using SmtpServer.IO;

namespace MailSink.Server.Smtp;

/// <summary>
/// One client connection as the library sees it. The library reads through <see cref="CommandReader"/> and
/// writes through <see cref="ReplyWriter"/>, both of which go through the session's <see cref="SessionAdapter"/>;
/// the adapter alone talks to the transport. A STARTTLS upgrade asked for by the library is run by the
/// transport, with the adapter told before (to flush) and after (to forget what was said in plain text).
/// </summary>
internal sealed class SessionPipe : ISecurableDuplexPipe
{
    private readonly SinkSession _session;
    private readonly Action? _closed;
    private int _disposed;

    /// <param name="session">The session, over its transport.</param>
    /// <param name="tracker">The server's open sessions (for idle timeouts and the drain).</param>
    /// <param name="logger">Where the session's log lines go.</param>
    /// <param name="closed">Called once when the library is done with the connection (gives back its connection slot).</param>
    public SessionPipe(SinkSession session, SessionTracker tracker, ILogger logger, Action? closed = null)
    {
        _session = session;
        _closed = closed;
        Adapter = new SessionAdapter(session, tracker, logger);
        Input = new CommandReader(Adapter);
        Output = new ReplyWriter(Adapter);
    }

    public SessionAdapter Adapter { get; }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public bool IsSecure => _session.Transport.IsSecure;

    public SslProtocols SslProtocol => _session.Transport.SslProtocol;

    public async Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default)
    {
        await Adapter.BeforeUpgradeAsync(cancellationToken);
        await _session.Transport.UpgradeAsync(certificate, protocols, cancellationToken);
        Adapter.AfterUpgrade();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _session.Transport.Dispose();
        _session.State.ResetTransaction(); // a body still held (the client left before its turn) is given back
        _closed?.Invoke();
    }
}
