using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using MailSink.Storage;
using Microsoft.Extensions.Logging;

namespace MailSink.Server.Smtp;

/// <summary>An accepted TCP connection, and TLS over it once the session asks for it.</summary>
internal sealed class SocketTransport : ISmtpTransport
{
    internal static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(15);
    private static readonly StreamPipeReaderOptions ReaderOptions = new(bufferSize: 64 * 1024, minimumReadSize: 8 * 1024, leaveOpen: true);
    private static readonly StreamPipeWriterOptions WriterOptions = new(leaveOpen: true);

    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly ILogger _logger;
    private SslStream? _tls;
    private int _disposed;

    /// <param name="socket">The accepted connection.</param>
    /// <param name="remote">Its client's address, made plain once by the listener (<see cref="ClientAddress"/>).</param>
    /// <param name="logger">Where the transport's log lines go.</param>
    public SocketTransport(Socket socket, IPEndPoint remote, ILogger logger)
    {
        _socket = socket;
        _logger = logger;
        RemoteEndPoint = remote;
        _network = new NetworkStream(socket, ownsSocket: true);
        Input = PipeReader.Create(_network, ReaderOptions);
        Output = PipeWriter.Create(_network, WriterOptions);
    }

    public PipeReader Input { get; private set; }

    public PipeWriter Output { get; private set; }

    public EndPoint? RemoteEndPoint { get; }

    public bool IsSecure => _tls is not null;

    public SslProtocols SslProtocol => _tls?.SslProtocol ?? SslProtocols.None;

    /// <summary>
    /// Acknowledges received data at once instead of after Linux's delayed-ACK pause. A client that leaves
    /// Nagle on (MailKit does) sends the last piece of a message only after its earlier pieces are
    /// acknowledged; with a delayed ACK every message over a few KB then waits about 40 ms. Linux resets
    /// quick-ACK mode by itself, so it is re-armed after reads. Elsewhere this does nothing.
    /// </summary>
    public void AcknowledgeQuickly()
    {
        if (!OperatingSystem.IsLinux() || _disposed != 0)
            return;
        try
        {
            _socket.SetRawSocketOption(IpProtoTcp, TcpQuickAck, QuickAckOn);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    private const int IpProtoTcp = 6;
    private const int TcpQuickAck = 12;
    private static readonly byte[] QuickAckOn = BitConverter.GetBytes(1);

    public async Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken)
    {
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
        Input = PipeReader.Create(tls, ReaderOptions);
        Output = PipeWriter.Create(tls, WriterOptions);
    }

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
        Abort();
        _tls?.Dispose();
        _network.Dispose();
    }
}
