using Microsoft.Extensions.Options;

namespace MailSink.Api.Webhooks;

/// <summary>The <c>MailSink:Webhooks</c> section: where every stored message is announced by an HTTP POST.</summary>
public sealed class WebhookOptions
{
    public const string Section = "MailSink:Webhooks";

    public List<WebhookEndpoint> Endpoints { get; set; } = [];

    /// <summary>Messages waiting for one endpoint at most; past it new ones are dropped (counted and logged), so that memory stays bounded.</summary>
    public int MaxQueued { get; set; } = 10_000;

    /// <summary>Tries per message, the first included; then it is given up (counted and logged).</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>The wait before the first retry; each later one waits twice as long, at most a minute.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one POST may take before it counts as failed.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

public sealed class WebhookEndpoint
{
    /// <summary>An absolute http or https URL.</summary>
    public string Url { get; set; } = "";

    /// <summary>Only this inbox's messages; empty: every inbox.</summary>
    public string? Inbox { get; set; }

    /// <summary>When set, each POST carries <c>X-MailSink-Signature: sha256=&lt;hex HMAC-SHA256 of the body&gt;</c>.</summary>
    public string? Secret { get; set; }
}

/// <summary>A bad <c>MailSink:Webhooks</c> value stops the process with one line naming its key.</summary>
internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.Endpoints.Count; i++)
        {
            var url = options.Endpoints[i].Url;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                failures.Add($"{WebhookOptions.Section}:Endpoints:{i}:Url must be an absolute http or https URL (it is '{url}').");
        }

        if (options.MaxQueued < 1)
            failures.Add($"{WebhookOptions.Section}:MaxQueued must be 1 or more.");
        if (options.MaxAttempts < 1)
            failures.Add($"{WebhookOptions.Section}:MaxAttempts must be 1 or more.");
        if (options.RetryDelay < TimeSpan.Zero || options.Timeout <= TimeSpan.Zero)
            failures.Add($"{WebhookOptions.Section}:RetryDelay must be 0 or more and Timeout more than 0.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
