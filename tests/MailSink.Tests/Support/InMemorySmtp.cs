using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;
using MailSink.Server.Smtp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace MailSink.Tests.Support;

// Also compiled into bench/MailSink.Benchmarks: nothing here may use the tests' own helpers.

/// <summary>
/// SMTP sessions without a socket: a second instance of the SmtpServer library, set up exactly as the host
/// sets up its own (<see cref="SmtpHostedService.LibraryOptions"/>), serving one of the host's listeners
/// over in-memory pipes. Everything behind the transport is the host's (the services of a
/// started MailSink): the session adapter, the listener's settings, the message store and the storage,
/// so what a session stores is read back through the host's API. TLS needs a real handshake, which the
/// socket tests cover. The transcript tests replay sessions through it; bench/MailSink.Benchmarks
/// compiles this file in too, to measure the SMTP layer without TCP.
/// </summary>
internal sealed class InMemorySmtp : IAsyncDisposable
{
    private readonly Channel<MemoryTransport> _connections = Channel.CreateUnbounded<MemoryTransport>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    public InMemorySmtp(IServiceProvider services, TlsMode tls = TlsMode.StartTls)
    {
        var listeners = services.GetRequiredService<SmtpListeners>();
        var bound = listeners.Bound.First(b => b.Options.Tls == tls);
        var certificate = tls == TlsMode.None ? null : services.GetRequiredService<CertificateProvider>().Load();
        var options = SmtpHostedService.LibraryOptions(services.GetRequiredService<IOptions<SmtpOptions>>().Value, [bound], certificate);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<SessionAdapter>();
        var ours = new Services(services, new ListenerFactory(_connections.Reader, bound.Settings, listeners.Tracker, logger));
        _run = new SmtpServer.SmtpServer(options, ours).StartAsync(_stop.Token);
    }

    /// <summary>A new session; the banner is the first thing to read.</summary>
    public MemoryConnection Connect()
    {
        var transport = new MemoryTransport();
        _connections.Writer.TryWrite(transport);
        return transport.Client;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    /// <summary>The host's services, but our listener factory.</summary>
    private sealed class Services(IServiceProvider host, IEndpointListenerFactory listeners) : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(IEndpointListenerFactory) ? listeners : host.GetService(serviceType);
    }

    private sealed class ListenerFactory(ChannelReader<MemoryTransport> connections, SessionSettings settings, SessionTracker tracker, ILogger logger)
        : IEndpointListenerFactory, IEndpointListener
    {
        public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition) => this;

        public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
        {
            var transport = await connections.ReadAsync(cancellationToken);
            return new SessionPipe(new SinkSession(context, transport, settings, tracker: null), tracker, logger);
        }

        public void Dispose()
        {
        }
    }
}

/// <summary>A connection over two in-memory pipes: the server's side.</summary>
internal sealed class MemoryTransport : ISmtpTransport
{
    private readonly Pipe _toServer = new();
    private readonly Pipe _toClient = new();

    public MemoryTransport() => Client = new MemoryConnection(_toServer.Writer, _toClient.Reader);

    public MemoryConnection Client { get; }

    public PipeReader Input => _toServer.Reader;

    public PipeWriter Output => _toClient.Writer;

    public EndPoint? RemoteEndPoint { get; } = new IPEndPoint(IPAddress.Loopback, 1025);

    public bool IsSecure => false;

    public SslProtocols SslProtocol => SslProtocols.None;

    public Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken) =>
        throw new NotSupportedException("TLS needs a real handshake: the socket tests cover STARTTLS.");

    public void AcknowledgeQuickly()
    {
    }

    public ValueTask CloseTlsAsync() => default;

    /// <summary>The client reads the end of the connection.</summary>
    public void Abort() => _toClient.Writer.Complete();

    public void Dispose()
    {
        Abort();
        _toServer.Reader.Complete();
    }
}

/// <summary>A connection over two in-memory pipes: the client's side.</summary>
internal sealed class MemoryConnection
{
    private readonly PipeWriter _send;
    private readonly PipeReader _receive;

    internal MemoryConnection(PipeWriter send, PipeReader receive)
    {
        _send = send;
        _receive = receive;
    }

    /// <summary>Sends bytes as one write (so several commands in it arrive pipelined).</summary>
    public async Task SendAsync(string text)
    {
        await _send.WriteAsync(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>One reply line without its CRLF, or null when the server has closed the connection.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            ReadResult result;
            try
            {
                result = await _receive.ReadAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No reply line within {timeout.TotalSeconds:0} s.");
            }

            var buffer = result.Buffer;
            if (buffer.PositionOf((byte)'\n') is { } lf)
            {
                var line = Encoding.UTF8.GetString(buffer.Slice(0, lf));
                _receive.AdvanceTo(buffer.GetPosition(1, lf));
                return line.TrimEnd('\r');
            }

            if (result.IsCompleted)
            {
                _receive.AdvanceTo(buffer.End);
                return null;
            }

            _receive.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
