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
        var smtp = options.Value;
        var certificate = _certificate;

        var builder = new SmtpServerOptionsBuilder()
            .ServerName(smtp.ServerName)
            .MaxRetryCount(int.MaxValue)
            .MaxAuthenticationAttempts(int.MaxValue)
            .CommandWaitTimeout(Timeout.InfiniteTimeSpan);
        foreach (var bound in listeners.Bound)
        {
            builder.Endpoint(endpoint =>
            {
                endpoint.Endpoint(bound.EndPoint)
                    .IsSecure(bound.Options.Tls == TlsMode.Implicit)
                    // AUTH is the session adapter's from start to end, and so is the check that an
                    // AUTH-required listener takes mail only after it: the library never sees AUTH.
                    .AllowUnsecureAuthentication(true)
                    .AuthenticationRequired(false)
                    .SessionTimeout(Timeout.InfiniteTimeSpan) // idle time is enforced per read by the adapter
                    .SupportedSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13);
                if (bound.Options.Tls != TlsMode.None)
                    endpoint.Certificate(certificate!);
            });
        }

        var serverOptions = builder.Build();
        listeners.Attach(serverOptions.Endpoints.ToList());
        var server = new SmtpServer.SmtpServer(serverOptions, services);
        server.SessionFaulted += (_, e) => Log.SessionFaulted(logger, e.Context.SessionId.ToString("N")[..8], e.Exception.GetBaseException().Message);
        _run = server.StartAsync(_stop.Token);

        foreach (var bound in listeners.Bound)
            Log.Listening(logger, bound.EndPoint.ToString(), bound.Options.Tls, bound.Options.Auth);
        return Task.CompletedTask;
    }

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
