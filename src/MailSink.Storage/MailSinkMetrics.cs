using System.Diagnostics.Metrics;

namespace MailSink.Storage;

/// <summary>
/// MailSink's own instruments, on a meter named <see cref="MeterName"/> made by the host's
/// <see cref="IMeterFactory"/> (so that two MailSinks in one process, as in tests, count apart). Names
/// follow OpenTelemetry's conventions (dots, a unit); the Prometheus endpoint shows them as
/// <c>mailsink_smtp_messages_accepted_total</c>, <c>mailsink_smtp_accepted_bytes_total</c> and so on. Recording costs next to nothing when nothing listens.
/// </summary>
public sealed class MailSinkMetrics
{
    public const string MeterName = "MailSink";

    private readonly Meter _meter;

    public MailSinkMetrics(IMeterFactory factory)
    {
        _meter = factory.Create(MeterName);
        SmtpSessions = _meter.CreateCounter<long>("mailsink.smtp.sessions", "{session}", "SMTP connections accepted");
        SmtpMessagesAccepted = _meter.CreateCounter<long>("mailsink.smtp.messages.accepted", "{message}", "Messages answered 250 after DATA (stored)");
        SmtpBytesAccepted = _meter.CreateCounter<long>("mailsink.smtp.accepted", "By", "Bytes of the messages accepted");
        SmtpRejects = _meter.CreateCounter<long>("mailsink.smtp.rejects", "{reply}", "4xx and 5xx replies, by code and by the command they answered");
        StorageWriteDuration = _meter.CreateHistogram<double>("mailsink.storage.write.duration", "s",
            "From a message handed to the store to its commit being durable (group commit wait included)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        MessagesStored = _meter.CreateCounter<long>("mailsink.messages.stored", "{message}", "Message copies stored, one per inbox reached (SMTP and API)");
        WebhookDeliveries = _meter.CreateCounter<long>("mailsink.webhook.deliveries", "{delivery}", "Webhook POSTs, by result: delivered, retried, failed, dropped");
    }

    public Counter<long> SmtpSessions { get; }

    public Counter<long> SmtpMessagesAccepted { get; }

    public Counter<long> SmtpBytesAccepted { get; }

    public Counter<long> SmtpRejects { get; }

    public Histogram<double> StorageWriteDuration { get; }

    public Counter<long> MessagesStored { get; }

    public Counter<long> WebhookDeliveries { get; }

    /// <summary>A gauge read when metrics are collected (sessions open, waiters, the store's size).</summary>
    public void Observe(string name, string unit, string description, Func<long> read) =>
        _meter.CreateObservableUpDownCounter(name, read, unit, description);
}
