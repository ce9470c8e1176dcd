using System.Net;
using System.Net.Sockets;
using System.Text;
using MailSink.Storage;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace MailSink.Server.Smtp;

/// <summary>
/// Accepts connections on one bound socket for the library: NoDelay on (the library's own listener leaves
/// it off and one connection then crawls at ~22 messages/s), the connection cap answered with <c>421</c>,
/// and, once MailSink stops accepting, no new session (the library is only stopped after the drain).
/// </summary>
internal sealed class SmtpEndpointListener(
    BoundListener bound,
    SessionTracker tracker,
    LogAllowance refusals,
    ILogger<SmtpEndpointListener> logger,
    ILogger<SessionAdapter> sessionLogger,
    CancellationToken stopAccepting) : IEndpointListener
{
    public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
    {
        while (true)
        {
            Socket socket;
            try
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopAccepting);
                socket = await bound.Socket.AcceptAsync(linked.Token);
            }
            catch (Exception ex) when ((ex is OperationCanceledException or SocketException or ObjectDisposedException)
                                       && !cancellationToken.IsCancellationRequested)
            {
                if (!stopAccepting.IsCancellationRequested)
                {
                    Log.AcceptFailed(logger, bound.EndPoint.Port, ex.Message);
                    continue;
                }

                // Draining: take no new session, and wait for the library to be stopped.
                await Task.Delay(Timeout.Infinite, cancellationToken);
                throw;
            }

            socket.NoDelay = true;
            var remote = (IPEndPoint)ClientAddress.Plain(socket.RemoteEndPoint)!;
            var client = remote.Address;
            if (tracker.TryAcquire(client) is { } refusal)
            {
                Reject(socket, remote, bound.Settings.ServerName, refusal);
                continue;
            }

            var session = new SinkSession(context, new SocketTransport(socket, remote, sessionLogger), bound.Settings, tracker);
            if (logger.IsEnabled(LogLevel.Debug)) // its arguments are strings made for nothing otherwise
                Log.SessionOpened(logger, session.Id, remote.ToString(), bound.EndPoint.Port);
            bound.Settings.Metrics?.SmtpSessions.Add(1);
            return new SessionPipe(session, tracker, sessionLogger, closed: () => tracker.Release(client));
        }
    }

    private void Reject(Socket socket, IPEndPoint remote, string serverName, string refusal)
    {
        if (refusals.Take())
            Log.ConnectionRejected(logger, remote.ToString(), tracker.Active, refusal);
        try
        {
            socket.Send(Encoding.ASCII.GetBytes($"421 {serverName} {refusal}\r\n"));
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        finally
        {
            socket.Dispose();
        }
    }

    public void Dispose()
    {
    }
}
