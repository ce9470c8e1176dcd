namespace MailSink.Storage;

/// <summary>
/// What search needs of a message, small enough to keep in memory for every message: its id and time,
/// the senders (MAIL FROM and From) and recipients (RCPT TO, To, Cc, Bcc), and the subject.
/// </summary>
internal sealed record SearchFacts(string Id, long Ticks, string[] Senders, string[] Recipients, string? Subject)
{
    public static SearchFacts Of(StoredMessage message) => new(
        message.Id,
        message.ReceivedTicks,
        [message.Envelope.MailFrom, .. message.From.Select(a => a.Email)],
        [.. message.Envelope.RcptTo, .. message.To.Select(a => a.Email), .. message.Cc.Select(a => a.Email), .. message.Bcc.Select(a => a.Email)],
        message.Subject);
}
