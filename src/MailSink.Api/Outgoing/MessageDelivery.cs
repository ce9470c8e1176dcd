using MailKit.Net.Smtp;
using MailKit.Security;
using MailSink.Storage;
using MailSink.Storage.Ingest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace MailSink.Api.Outgoing;

/// <summary>
/// Delivers mail made or released through the API. An address under a root domain is MailSink's own: the
/// message is filed there through <see cref="MessageIngest"/>, as if it had come over SMTP (same parse,
/// analysis, arrival feed and waits). Any other address goes to the configured relay, and only when a
/// pattern of <see cref="RelayOptions.AllowedRecipients"/> allows it. Every recipient is checked before
/// anything is sent or stored, so a refused call has done nothing.
/// </summary>
public sealed partial class MessageDelivery(MessageIngest ingest, InboxRouter router, IOptions<RelayOptions> relay, ILogger<MessageDelivery> logger)
{
    private static readonly TimeSpan RelayTimeout = TimeSpan.FromSeconds(30);

    /// <summary>What was done: the copies stored in MailSink's inboxes, and the addresses handed to the relay.</summary>
    public sealed record Outcome(IReadOnlyList<StoredMessage> Stored, IReadOnlyList<string> Relayed);

    /// <summary>
    /// Recipients that passed <see cref="Check"/>: each address once, MailSink's own apart from those the
    /// relay may take. Only <see cref="Check"/> makes them, so nothing is delivered unchecked.
    /// </summary>
    public sealed class Recipients
    {
        internal Recipients(IReadOnlyList<string> given, IReadOnlyList<string> local, IReadOnlyList<string> outside)
        {
            Given = given;
            Local = local;
            Outside = outside;
        }

        /// <summary>The recipients as the caller gave them.</summary>
        public IReadOnlyList<string> Given { get; }

        public IReadOnlyList<string> Local { get; }

        public IReadOnlyList<string> Outside { get; }
    }

    /// <summary>
    /// The recipients, checked, when every one can be delivered to; otherwise null, and
    /// <paramref name="refusal"/> says why, naming the first that cannot.
    /// </summary>
    public Recipients? Check(IReadOnlyList<string> recipients, out string? refusal)
    {
        refusal = null;
        if (recipients.Count == 0)
        {
            refusal = "Give at least one recipient address.";
            return null;
        }

        var local = new List<string>();
        var outside = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var given in recipients)
        {
            if (!MailboxAddress.TryParse(given, out var parsed) || parsed.Address.IndexOf('@') is <= 0)
            {
                refusal = $"'{given}' is not an email address.";
                return null;
            }

            var address = parsed.Address;
            var isLocal = router.IsLocal(address);
            refusal = isLocal ? null : RelayRefusal(address);
            if (refusal is not null)
                return null;
            if (seen.Add(address))
                (isLocal ? local : outside).Add(address);
        }

        return new Recipients(recipients, local, outside);
    }

    /// <summary>Why the relay may not take mail for <paramref name="address"/>, or null when it may.</summary>
    private string? RelayRefusal(string address)
    {
        if (!relay.Value.Configured)
            return $"Sending to {address} is not available in MailSink without a relay: it delivers only to its own inboxes " +
                   $"(addresses such as anything@<server>.localhost) unless {RelayOptions.Section}:Host and {RelayOptions.Section}:AllowedRecipients are configured.";
        if (!relay.Value.Allows(address))
            return $"Sending to {address} is refused: it matches none of {RelayOptions.Section}:AllowedRecipients, so MailSink does not relay it.";
        return null;
    }

    /// <summary>
    /// Sends <paramref name="raw"/> to every recipient. The relay goes first: should it fail, nothing has
    /// been stored and the caller can say so.
    /// </summary>
    public async Task<Outcome> DeliverAsync(byte[] raw, string mailFrom, Recipients recipients, string? remoteAddress, CancellationToken cancellationToken)
    {
        if (recipients.Outside.Count > 0)
            await RelayAsync(raw, mailFrom, recipients.Outside, cancellationToken);

        IReadOnlyList<StoredMessage> stored = [];
        if (recipients.Local.Count > 0)
            stored = await ingest.IngestAsync(raw, Envelope(mailFrom, recipients.Local, remoteAddress), cancellationToken);
        return new Outcome(stored, recipients.Outside);
    }

    /// <summary>Files <paramref name="raw"/> into one inbox, whatever its recipients (a message made or uploaded for that inbox).</summary>
    public async Task<StoredMessage> StoreAsync(byte[] raw, string mailFrom, IReadOnlyList<string> recipients, string inbox, string? remoteAddress, CancellationToken cancellationToken) =>
        (await ingest.IngestAsync(raw, Envelope(mailFrom, recipients, remoteAddress), cancellationToken, inbox: inbox))[0];

    /// <summary>Files <paramref name="raw"/> into the inbox of each recipient, as SMTP would.</summary>
    public Task<IReadOnlyList<StoredMessage>> StoreRoutedAsync(byte[] raw, string mailFrom, IReadOnlyList<string> recipients, string? remoteAddress, CancellationToken cancellationToken) =>
        ingest.IngestAsync(raw, Envelope(mailFrom, recipients, remoteAddress), cancellationToken);

    /// <summary>What an API-made message's metadata says of its arrival: no EHLO, no TLS, no AUTH; the HTTP client's address.</summary>
    private static SmtpEnvelope Envelope(string mailFrom, IReadOnlyList<string> recipients, string? remoteAddress) =>
        new(mailFrom, recipients, null, remoteAddress, null, null, SmtpUtf8: !System.Text.Ascii.IsValid(mailFrom) || recipients.Any(r => !System.Text.Ascii.IsValid(r)));

    private async Task RelayAsync(byte[] raw, string mailFrom, IReadOnlyList<string> recipients, CancellationToken cancellationToken)
    {
        var options = relay.Value;
        using var message = MimeMessage.Load(new MemoryStream(raw, writable: false), cancellationToken);
        using var client = new SmtpClient { Timeout = (int)RelayTimeout.TotalMilliseconds };
        if (options.TrustAnyCertificate)
        {
#pragma warning disable CA5359 // MailSink:Relay:TrustAnyCertificate: the operator's explicit choice, for a test relay's self-signed certificate
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        try
        {
            await client.ConnectAsync(options.Host, options.Port, Secure(options.Tls), cancellationToken);
            if (!string.IsNullOrEmpty(options.User))
                await client.AuthenticateAsync(options.User, options.Password, cancellationToken);
            var sender = string.IsNullOrEmpty(mailFrom) ? new MailboxAddress("", "") : MailboxAddress.Parse(mailFrom);
            await client.SendAsync(message, sender, recipients.Select(r => new MailboxAddress("", r)), cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
        }
        catch (Exception ex) when (ex is SmtpCommandException or SmtpProtocolException or IOException or System.Net.Sockets.SocketException
                                       or AuthenticationException or SslHandshakeException or TimeoutException)
        {
            Log.RelayFailed(logger, options.Host, options.Port, ex);
            throw new RelayFailedException($"The relay {options.Host}:{options.Port} did not take the message: {ex.Message}", ex);
        }

        Log.Relayed(logger, recipients.Count, options.Host, options.Port);
    }

    private static SecureSocketOptions Secure(RelayTls tls) => tls switch
    {
        RelayTls.None => SecureSocketOptions.None,
        RelayTls.StartTls => SecureSocketOptions.StartTls,
        RelayTls.Implicit => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.StartTlsWhenAvailable,
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Relayed a message to {Count} recipient(s) through {Host}:{Port}")]
        public static partial void Relayed(ILogger logger, int count, string host, int port);

        [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "The relay {Host}:{Port} did not take a message")]
        public static partial void RelayFailed(ILogger logger, string host, int port, Exception exception);
    }
}

/// <summary>The relay refused a message or could not be reached; nothing was stored.</summary>
public sealed class RelayFailedException(string message, Exception inner) : Exception(message, inner);
