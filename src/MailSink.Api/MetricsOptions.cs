namespace MailSink.Api;

/// <summary>The <c>MailSink:Metrics</c> section: the Prometheus endpoint at <c>/metrics</c>.</summary>
public sealed class MetricsOptions
{
    public const string Section = "MailSink:Metrics";

    /// <summary>Serve <c>/metrics</c> (and collect what it shows).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Serve <c>/metrics</c> without the API key even when one is set (a scraper inside a trusted network).</summary>
    public bool AllowAnonymous { get; set; }
}
