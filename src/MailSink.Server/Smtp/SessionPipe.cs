using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.IO;

namespace MailSink.Server.Smtp;

/// <summary>
/// One client connection as the library sees it. The transport (socket, then TLS) is ours; the library
/// reads through <see cref="CommandReader"/> and writes through <see cref="ReplyWriter"/>, both of which
/// go through the session's <see cref="SessionAdapter"/>.
/// </summary>
internal sealed class SessionPipe : ISecurableDuplexPipe
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(15);
    private static readonly StreamPipeReaderOptions ReaderOptions = new(bufferSize: 64 * 1024, minimumReadSize: 8 * 1024, leaveOpen: true);
    private static readonly StreamPipeWriterOptions WriterOptions = new(leaveOpen: true);

    private readonly Socket _socket;
    private readonly IPAddress _client;
    private readonly NetworkStream _network;
    private readonly SessionTracker _tracker;
    private readonly ILogger _logger;
    private SslStream? _tls;
    private int _disposed;

    public SessionPipe(Socket socket, IPAddress client, ISessionContext context, SessionSettings settings, SessionTracker tracker, ILogger logger)
    {
        _socket = socket;
        _client = client;
        _tracker = tracker;
        _logger = logger;
        _network = new NetworkStream(socket, ownsSocket: true);
        TransportInput = PipeReader.Create(_network, ReaderOptions);
        TransportOutput = PipeWriter.Create(_network, WriterOptions);
        Settings = settings;
        settings.Metrics?.SmtpSessions.Add(1);
        Adapter = new SessionAdapter(this, context, settings, tracker, logger);
        context.Properties[SessionState.PropertyKey] = Adapter.State;
        Input = new CommandReader(Adapter);
        Output = new ReplyWriter(Adapter);
    }

    public SessionSettings Settings { get; }

    /// <summary>Whether this is the only SMTP session open on the server.</summary>
    public bool Alone => _tracker.Active == 1;

    public SessionAdapter Adapter { get; }

    /// <summary>The client's bytes, after TLS when it is on. Replaced by an upgrade: never cache it.</summary>
    public PipeReader TransportInput { get; private set; }

    public PipeWriter TransportOutput { get; private set; }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public bool IsSecure => _tls is not null;

    /// <summary>
    /// Acknowledges received data at once instead of after Linux's delayed-ACK pause. A client that leaves
    /// Nagle on (MailKit does) sends the last piece of a message only after its earlier pieces are
    /// acknowledged; with a delayed ACK every message over a few KB then waits about 40 ms (about 22
    /// messages a second on one connection). Linux resets quick-ACK mode by itself, so it is re-armed
    /// after reads. Elsewhere this does nothing.
    /// </summary>
    public void AcknowledgeQuickly()
    {
        if (!OperatingSystem.IsLinux() || _disposed != 0)
            return;
        try
        {
            _socket.SetRawSocketOption(IpProtoTcp, TcpQuickAck, QuickAckOn);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private const int IpProtoTcp = 6;
    private const int TcpQuickAck = 12;
    private static readonly byte[] QuickAckOn = BitConverter.GetBytes(1);

    public SslProtocols SslProtocol => _tls?.SslProtocol ?? SslProtocols.None;

    public async Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default)
    {
        await Adapter.BeforeUpgradeAsync(cancellationToken);

        // Plain text the client pipelined after STARTTLS stays in the old reader and is dropped with it:
        // nothing typed before the handshake can be injected into the TLS session.
        var tls = new SslStream(_network, leaveInnerStreamOpen: true);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HandshakeTimeout);
        try
        {
            await tls.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificate = certificate,
                    EnabledSslProtocols = protocols,
                    ClientCertificateRequired = false,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                },
                timeout.Token);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
        {
            Log.TlsHandshakeFailed(_logger, ex.Message);
            await tls.DisposeAsync();
            throw;
        }

        _tls = tls;
        TransportInput = PipeReader.Create(tls, ReaderOptions);
        TransportOutput = PipeWriter.Create(tls, WriterOptions);
        Adapter.AfterUpgrade();
    }

    /// <summary>Ends TLS politely (close_notify) before the socket closes; best effort.</summary>
    public async ValueTask CloseTlsAsync()
    {
        if (_tls is null)
            return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _tls.ShutdownAsync().WaitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    /// <summary>Closes the connection at once, without TLS's goodbye (a fault rule's drop); Dispose still tidies up.</summary>
    public void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _tls?.Dispose();
        _network.Dispose();
        Adapter.State.ResetTransaction(); // a body still held (the client left before its turn) is given back
        _tracker.Release(_client);
    }
}
