using MailSink.Storage.Analysis;
using MailSink.Storage.Mime;
using Microsoft.Extensions.Logging;

namespace MailSink.Storage.Ingest;

/// <summary>
/// Files one received message: parse once, route every recipient to its inbox, write the raw bytes once
/// and one message per inbox in the engine's next group commit, and return only after that commit.
/// </summary>
public sealed class MessageIngest(IMessageWriter writer, InboxRouter router, ILogger<MessageIngest> logger, MailSinkMetrics? metrics = null, TimeProvider? time = null)
    : IDisposable
{
    private readonly StoredMessageLog _log = new(logger, time ?? TimeProvider.System);

    /// <param name="alone">
    /// The sender is the only client connected: the engine may commit on this thread (see <see cref="IMessageWriter"/>).
    /// </param>
    /// <param name="inbox">
    /// The one inbox the message goes to, whatever its recipients (a message made through the API for an
    /// inbox); null: each recipient's inbox, as routed.
    /// </param>
    public async Task<IReadOnlyList<StoredMessage>> IngestAsync(
        byte[] raw, SmtpEnvelope envelope, CancellationToken cancellationToken, bool alone = false, string? inbox = null)
    {
        var template = MessageParser.Parse(raw, envelope);
        ContentAnalyzer.Analyze(template);

        var inboxes = inbox is not null ? [inbox] : envelope.RcptTo.Select(router.Route).Distinct(StringComparer.Ordinal).ToList();
        if (inboxes.Count == 0)
            inboxes.Add(router.CatchAllInbox);

        var rawId = TimeOrderedId.NewVersion7().ToString("N");
        var messages = inboxes.Select(target => CopyFor(template, target)).ToList();

        // The write is not cancelled once queued: a message that reaches the disk is kept even if the
        // session ends before its 250 goes out (a duplicate at worst, never a loss).
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await writer.WriteAsync(new PendingWrite(rawId, RawMessage.Pack(raw), messages), alone).WaitAsync(cancellationToken);
        if (metrics is not null)
        {
            metrics.StorageWriteDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            metrics.MessagesStored.Add(messages.Count);
        }

        foreach (var message in messages)
            _log.Stored(message, envelope.MailFrom.Length > 0 ? envelope.MailFrom : "<>");
        if (template.ParseError is not null)
            Log.MessageParseProblem(logger, messages[0].Id, template.ParseError);
        return messages;
    }

    private static StoredMessage CopyFor(StoredMessage template, string inbox) => new()
    {
        Id = TimeOrderedId.NewVersion7().ToString(),
        Inbox = inbox,
        Size = template.Size,
        Envelope = template.Envelope,
        Subject = template.Subject,
        From = template.From,
        To = template.To,
        Cc = template.Cc,
        Bcc = template.Bcc,
        MessageIdHeader = template.MessageIdHeader,
        Date = template.Date,
        Text = template.Text,
        Html = template.Html,
        Summary = template.Summary,
        Headers = template.Headers,
        ContentLoaded = true,
        HtmlLinks = template.HtmlLinks,
        HtmlImages = template.HtmlImages,
        HtmlCodes = template.HtmlCodes,
        TextLinks = template.TextLinks,
        TextCodes = template.TextCodes,
        // Attachment ids are globally unique, so each copy gets its own.
        Attachments = template.Attachments.Select(a => new StoredAttachment
        {
            Id = TimeOrderedId.NewVersion7().ToString(),
            FileName = a.FileName,
            ContentType = a.ContentType,
            ContentId = a.ContentId,
            Length = a.Length,
            PartIndex = a.PartIndex,
        }).ToList(),
        ParseError = template.ParseError,
    };

    public void Dispose() => _log.Dispose();
}
