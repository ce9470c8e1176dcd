using System.Buffers;
using MailSink.Api.Chaos;
using MailSink.Storage;
using MailSink.Storage.Ingest;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace MailSink.Server.Smtp;

/// <summary>
/// The library's message store, kept thin: it takes the envelope and the bytes the session adapter read,
/// hands them to <see cref="MessageIngest"/>, and answers <c>250</c> only after the commit. It never
/// throws (the library would then answer nothing or a bare 554): faults become <c>451</c>.
/// Not <see cref="IDisposable"/>: the library disposes what it resolves after every use.
/// </summary>
internal sealed class SinkMessageStore(MessageIngest ingest, LargeIngestTurns largeIngests, ILogger<SinkMessageStore> logger) : IMessageStore
{

    public async Task<SmtpResponse> SaveAsync(
        ISessionContext context,
        IMessageTransaction transaction,
        ReadOnlySequence<byte> buffer,
        CancellationToken cancellationToken)
    {
        var session = SinkSession.Of(context);
        try
        {
            var state = session.State;
            var settings = session.Settings;
            using var body = state.Body;
            state.Body = null;
            if (body is null)
                return new SmtpResponse(SmtpReplyCode.TransactionFailed, "No message data was received");
            if (body.TooLarge)
            {
                Log.MessageTooLarge(logger, session.Id, settings.MaxMessageBytes);
                return new SmtpResponse(SmtpReplyCode.SizeLimitExceeded, $"Message exceeds the limit of {settings.MaxMessageBytes} bytes; nothing was stored");
            }

            var chaos = settings.Chaos.Apply(ChaosStage.Data, state.Recipients, session.Id);
            if (chaos?.Action == ChaosAction.Reply)
                return new SmtpResponse((SmtpReplyCode)chaos.Code, ChaosRules.ReplyLine(chaos)[4..]);
            if (chaos?.Action == ChaosAction.Disconnect)
            {
                state.DropAfterData = true;
                return new SmtpResponse((SmtpReplyCode)451, "Dropped by a fault rule");
            }

            var envelope = new SmtpEnvelope(
                state.MailFrom ?? "",
                [.. state.Recipients],
                state.Ehlo,
                session.Transport.RemoteEndPoint?.ToString(),
                session.Transport.IsSecure ? session.Transport.SslProtocol.ToString() : null,
                state.AuthenticatedUser,
                state.SmtpUtf8);

            // The only session open may commit right here (MessageWriter says why): that holds the socket
            // event thread for one commit, which no other SMTP session is waiting on.
            var stored = body.Length <= LargeIngestTurns.MessageBytes && !body.Spilled
                ? await ingest.IngestAsync(body.ToArray(), envelope, cancellationToken, alone: session.Alone)
                : await IngestLargeAsync(body, envelope, cancellationToken);
            state.StoreReply = StoredReply(stored);
            settings.Metrics?.SmtpMessagesAccepted.Add(1);
            settings.Metrics?.SmtpBytesAccepted.Add(body.Length);
            if (chaos?.Action == ChaosAction.Delay)
                await Task.Delay(chaos.DelayMilliseconds, cancellationToken); // stored first: the 250 is late, the message is not
            return new SmtpResponse(SmtpReplyCode.Ok, "OK message stored");
        }
        catch (Exception ex)
        {
            Log.StoreFailed(logger, session.Id, ex);
            return new SmtpResponse((SmtpReplyCode)451, "Local error in storage: the message was not stored, please try again later");
        }
    }

    /// <summary>
    /// A large message (or one that waited in a file) is read into memory only once it has a turn, so that
    /// memory for messages being stored is bounded by the number of turns, not by the number of sessions.
    /// </summary>
    private async Task<IReadOnlyList<StoredMessage>> IngestLargeAsync(ReceivedBody body, SmtpEnvelope envelope, CancellationToken cancellationToken)
    {
        using var turn = await largeIngests.TakeAsync(cancellationToken);
        return await Task.Run(() => ingest.IngestAsync(body.ToArray(), envelope, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// "250 OK message stored as {id} in inbox {inbox}", each copy named while the line stays within
    /// RFC 5321's 512 octets; past that, the first copy and how many more (a message to 150 inboxes made a
    /// line of 8 KB, which Python's smtplib answered with "Line too long" although the message was stored,
    /// so the client sent it again). The API lists every copy.
    /// </summary>
    internal static string StoredReply(IReadOnlyList<StoredMessage> stored)
    {
        var all = $"250 OK message stored as {string.Join("; ", stored.Select(m => $"{m.Id} in inbox {m.Inbox}"))}";
        if (System.Text.Encoding.UTF8.GetByteCount(all) <= SessionAdapter.MaxReplyLine)
            return all;
        var first = stored[0];
        return $"250 OK message stored as {first.Id} in inbox {first.Inbox} and as {stored.Count - 1} more copies in other inboxes (the API lists them)";
    }
}
