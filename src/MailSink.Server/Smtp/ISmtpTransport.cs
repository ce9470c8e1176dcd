using System.IO.Pipelines;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace MailSink.Server.Smtp;

/// <summary>
/// One client connection as a session sees it: the client's bytes, the replies, TLS, and how it ends.
/// <see cref="SocketTransport"/> in the server; in-memory pipes in the transcript tests, which replay
/// recorded sessions through the same adapter and library without a socket.
/// </summary>
internal interface ISmtpTransport : IDisposable
{
    /// <summary>The client's bytes, after TLS when it is on. Replaced by an upgrade: never cache it.</summary>
    PipeReader Input { get; }

    /// <summary>Where replies go, through TLS when it is on. Replaced by an upgrade: never cache it.</summary>
    PipeWriter Output { get; }

    EndPoint? RemoteEndPoint { get; }

    bool IsSecure { get; }

    SslProtocols SslProtocol { get; }

    /// <summary>Runs the TLS handshake as the server; <see cref="Input"/> and <see cref="Output"/> go through TLS after it.</summary>
    Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken);

    /// <summary>Asks the client to send more without waiting for a delayed acknowledgement (TCP only).</summary>
    void AcknowledgeQuickly();

    /// <summary>Ends TLS politely (close_notify) before the connection closes; best effort, nothing when not under TLS.</summary>
    ValueTask CloseTlsAsync();

    /// <summary>Closes the connection at once, without TLS's goodbye (a fault rule's drop); Dispose still tidies up.</summary>
    void Abort();
}
