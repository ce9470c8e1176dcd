using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SmtpServer;

namespace MailSink.Server.Smtp;

/// <summary>
/// Starts SMTP (certificate and sockets while the host is starting, then the library) and stops it gracefully: stop accepting, close idle
/// sessions with <c>421</c>, let sessions inside a transaction finish and their messages be stored, and
/// only then stop the library (which would otherwise abort DATA in flight).
/// </summary>
internal sealed class SmtpHostedService(
    SmtpListeners listeners,
    CertificateProvider certificates,
    IOptions<SmtpOptions> options,
    IServiceProvider services,
    ILogger<SmtpHostedService> logger) : IHostedLifecycleService, IDisposable
{
    private readonly CancellationTokenSource _stop = new();

    public void Dispose() => _stop.Dispose();
    private Task _run = Task.CompletedTask;
    private X509Certificate2? _certificate;

    /// <summary>
    /// The certificate and the ports first, in the host's starting step: a taken port or a bad certificate
    /// stops the start before the database is opened (the storage engine only takes its file's lock in this
    /// step, and opens it in the next).
    /// </summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        var needsTls = options.Value.EffectiveListeners.Any(l => l.Tls != TlsMode.None);
        _certificate = needsTls ? certificates.Load() : null;
        listeners.Bind();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var serverOptions = LibraryOptions(options.Value, listeners.Bound, _certificate);
        listeners.Attach(serverOptions.Endpoints.ToList());
        var server = new SmtpServer.SmtpServer(serverOptions, services);
        server.SessionCreated += (_, e) => BeginSessionScope(logger, e.Context);
        server.SessionFaulted += (_, e) => Log.SessionFaulted(logger, SinkSession.ShortId(e.Context), e.Exception.GetBaseException().Message);
        _run = server.StartAsync(_stop.Token);

        foreach (var bound in listeners.Bound)
            Log.Listening(logger, bound.EndPoint.ToString(), bound.Options.Tls, bound.Options.Auth);
        return Task.CompletedTask;
    }

    /// <summary>How the library is set up: one endpoint per bound listener, in order, with what MailSink does itself switched off.</summary>
    internal static ISmtpServerOptions LibraryOptions(SmtpOptions smtp, IReadOnlyList<BoundListener> bound, X509Certificate2? certificate)
    {
        var builder = new SmtpServerOptionsBuilder()
            .ServerName(smtp.ServerName)
            .MaxRetryCount(int.MaxValue)
            .MaxAuthenticationAttempts(int.MaxValue)
            .CommandWaitTimeout(Timeout.InfiniteTimeSpan);
        foreach (var listener in bound)
        {
            builder.Endpoint(endpoint =>
            {
                endpoint.Endpoint(listener.EndPoint)
                    .IsSecure(listener.Options.Tls == TlsMode.Implicit)
                    // AUTH is the session adapter's from start to end, and so is the check that an
                    // AUTH-required listener takes mail only after it: the library never sees AUTH.
                    .AllowUnsecureAuthentication(true)
                    .AuthenticationRequired(false)
                    .SessionTimeout(Timeout.InfiniteTimeSpan) // idle time is enforced per read by the adapter
                    .SupportedSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13);
                if (listener.Options.Tls != TlsMode.None)
                    endpoint.Certificate(certificate!);
            });
        }

        return builder.Build();
    }

    /// <summary>
    /// Gives every log line written during a session (ours, the library's, the storage's) a scope naming
    /// the session, for formatters that show scopes (<c>IncludeScopes</c>). The library raises
    /// <c>SessionCreated</c> synchronously at the start of the session's own task; a scope is an async-local
    /// value, so it stays with that task until the session ends, and is never seen by any other session.
    /// </summary>
    internal static void BeginSessionScope(ILogger logger, ISessionContext context) =>
        _ = SessionScope(logger, SinkSession.ShortId(context));

    private static readonly Func<ILogger, string, IDisposable?> SessionScope = LoggerMessage.DefineScope<string>("SMTP session {SessionId}");

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Log.Draining(logger, listeners.Tracker.Active);
        listeners.Tracker.BeginDrain();
        listeners.StopAccepting();
        try
        {
            await listeners.Tracker.WhenIdleAsync().WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Log.DrainTimedOut(logger, listeners.Tracker.Active);
        }

        await _stop.CancelAsync();
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            // Sessions still open after the drain deadline were aborted.
        }

        Log.Stopped(logger);
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
