namespace MailSink.Storage;

/// <summary>The <c>MailSink:Routing</c> section: how a recipient address finds its inbox.</summary>
public sealed class RoutingOptions
{
    public const string Section = "MailSink:Routing";

    /// <summary>
    /// Domains whose first sub-label names the inbox: <c>x@abc.localhost</c> lands in inbox <c>abc</c>.
    /// Empty means the default, <c>localhost</c> (a list bound from configuration is appended to, so the
    /// default is applied after binding).
    /// </summary>
    public List<string> RootDomains { get; set; } = [];

    /// <summary>The inbox for every recipient outside the root domains.</summary>
    public string CatchAllInbox { get; set; } = "catchall";

    internal static readonly string[] DefaultRootDomains = ["localhost"];
}
