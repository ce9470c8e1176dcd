using System.Net;
using System.Net.Sockets;
using MailSink.Api.Chaos;
using MailSink.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SmtpServer;
using SmtpServer.Net;

namespace MailSink.Server.Smtp;

/// <summary>
/// MailSink's own listening sockets, bound at start (so a taken port stops the process at once and port 0
/// is resolved before anyone asks), and the library's <see cref="IEndpointListenerFactory"/> over them.
/// </summary>
public sealed class SmtpListeners : IEndpointListenerFactory, IDisposable
{
    /// <summary>Gives back the cancellation sources (the sockets are closed when SMTP stops).</summary>
    public void Dispose()
    {
        _stopAccepting.Dispose();
        Tracker.Dispose();
        _refusals.Dispose();
    }

    private readonly SmtpOptions _options;
    private readonly IStorageSpace _storage;
    private readonly ChaosRules _chaos;
    private readonly MailSinkMetrics? _metrics;
    private readonly ILoggerFactory _loggers;
    private readonly Dictionary<IEndpointDefinition, BoundListener> _byDefinition = new(ReferenceEqualityComparer.Instance);
    private readonly List<BoundListener> _bound = [];
    private readonly CancellationTokenSource _stopAccepting = new();

    /// <summary>Refused connections logged one by one, 10 a second on every listener together; a client that reconnects without end gets a count.</summary>
    private readonly LogAllowance _refusals;
    private readonly ILogger<SmtpEndpointListener> _listenerLogger;

    public SmtpListeners(
        IOptions<SmtpOptions> options, ILoggerFactory loggers, IHostEnvironment environment, IStorageSpace storage, ChaosRules chaos, MailSinkMetrics? metrics = null)
    {
        _storage = storage;
        _chaos = chaos;
        _metrics = metrics;
        _options = options.Value;
        _loggers = loggers;
        _listenerLogger = loggers.CreateLogger<SmtpEndpointListener>();
        _refusals = new LogAllowance(10, TimeProvider.System, counted => Log.ConnectionsRejectedSummary(_listenerLogger, counted));
        Tracker = new SessionTracker(_options.MaxConnections, _options.MaxConnectionsPerAddress);
        metrics?.Observe("mailsink.smtp.sessions.active", "{session}", "SMTP sessions open now", () => Tracker.Active);
        Spool = new BodySpool(
            _options.DataMemoryBytes,
            string.IsNullOrEmpty(_options.SpoolPath) ? Path.GetTempPath() : Path.GetFullPath(_options.SpoolPath, environment.ContentRootPath));
    }

    /// <summary>Where DATA bodies wait while they arrive (memory within a budget, then temporary files).</summary>
    internal BodySpool Spool { get; }

    /// <summary>Every listener with the port it really bound (after port 0 is resolved).</summary>
    public IReadOnlyList<BoundListener> Bound => _bound;

    /// <summary>The bound port of the first listener with this TLS mode (tests use port 0).</summary>
    public int PortOf(TlsMode tls, ListenerAuth? auth = null) =>
        _bound.First(b => b.Options.Tls == tls && (auth is null || b.Options.Auth == auth)).EndPoint.Port;

    internal SessionTracker Tracker { get; }

    internal bool IsAccepting => _bound.Count > 0 && !_stopAccepting.IsCancellationRequested;

    /// <summary>Binds every configured listener; throws <see cref="StartupException"/> naming the port on failure.</summary>
    internal void Bind()
    {
        var address = IPAddress.Parse(_options.BindAddress);
        if (address.Equals(IPAddress.IPv6Any) && !Socket.OSSupportsIPv6)
            address = IPAddress.Any; // "every address" on a machine without IPv6
        var listeners = _options.EffectiveListeners;
        for (var i = 0; i < listeners.Count; i++)
        {
            var listener = listeners[i];
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (address.Equals(IPAddress.IPv6Any))
                    socket.DualMode = true;
                socket.Bind(new IPEndPoint(address, listener.Port));
                socket.Listen(512);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                StopAccepting();
                var why = ex.SocketErrorCode switch
                {
                    SocketError.AddressAlreadyInUse => "the port is already in use",
                    SocketError.AccessDenied => "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
                    SocketError.AddressNotAvailable => "the address is not on this machine",
                    _ => ex.Message,
                };
                throw new StartupException($"Cannot listen for SMTP on {new IPEndPoint(address, listener.Port)}: {why}. {PortHint(_options, listener)}");
            }

            _bound.Add(new BoundListener(listener, (IPEndPoint)socket.LocalEndPoint!, socket, new SessionSettings(_options, listener, Spool, _storage, _chaos, _metrics)));
        }
    }

    /// <summary>
    /// How to choose another port for <paramref name="listener"/>. With the default listeners in effect it names
    /// all three: naming one listener replaces the defaults, so a hint for one alone dropped the other two.
    /// </summary>
    internal static string PortHint(SmtpOptions options, ListenerOptions listener)
    {
        if (options.Listeners.Count == 0)
        {
            var every = string.Join(" ", SmtpOptions.DefaultListeners.Select((l, k) => $"--MailSink:Smtp:Listeners:{k}:Port={(l.Port == 25 ? 2525 : 2000 + l.Port)}"));
            return $"Choose other ports by naming every listener you want, for example {every} (naming any listener replaces the default ones), or set MailSink:Smtp:BindAddress.";
        }

        var index = options.Listeners.IndexOf(listener);
        return $"Choose another port with --MailSink:Smtp:Listeners:{index}:Port=<port> (or MailSink__Smtp__Listeners__{index}__Port=<port>), or set MailSink:Smtp:BindAddress.";
    }

    /// <summary>Pairs the library's endpoint definitions, in order, with the bound sockets.</summary>
    internal void Attach(IReadOnlyList<IEndpointDefinition> definitions)
    {
        for (var i = 0; i < definitions.Count; i++)
            _byDefinition[definitions[i]] = _bound[i];
    }

    /// <summary>Closes the listening sockets; open sessions go on.</summary>
    internal void StopAccepting()
    {
        _stopAccepting.Cancel();
        foreach (var bound in _bound)
            bound.Socket.Dispose();
    }

    public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition) =>
        new SmtpEndpointListener(
            _byDefinition[endpointDefinition],
            Tracker,
            _refusals,
            _listenerLogger,
            _loggers.CreateLogger<SessionAdapter>(),
            _stopAccepting.Token);
}

/// <summary>One listener as configured, and where it is really bound.</summary>
public sealed class BoundListener
{
    internal BoundListener(ListenerOptions options, IPEndPoint endPoint, Socket socket, SessionSettings settings)
    {
        Options = options;
        EndPoint = endPoint;
        Socket = socket;
        Settings = settings;
    }

    public ListenerOptions Options { get; }

    public IPEndPoint EndPoint { get; }

    internal Socket Socket { get; }

    internal SessionSettings Settings { get; }
}
