using System.Text.Json.Serialization;

namespace MailSink.Api.Chaos;

/// <summary>Where in an SMTP session a fault rule acts.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ChaosStage>))]
public enum ChaosStage
{
    /// <summary>Instead of the greeting (a reply closes the connection, as a busy server's 421 does).</summary>
    Connect,

    /// <summary>EHLO or HELO.</summary>
    Helo,

    /// <summary>MAIL FROM; an address pattern matches the sender.</summary>
    Mail,

    /// <summary>RCPT TO; inbox and address patterns match the recipient.</summary>
    Rcpt,

    /// <summary>After the message's final dot, instead of storing it (a delay: after storing it, before the 250).</summary>
    Data,
}

/// <summary>What a rule does when it applies.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ChaosAction>))]
public enum ChaosAction
{
    /// <summary>Answer <see cref="ChaosRule.Code"/> and <see cref="ChaosRule.Text"/> instead of going on.</summary>
    Reply,

    /// <summary>Wait <see cref="ChaosRule.DelayMilliseconds"/>, then go on as usual.</summary>
    Delay,

    /// <summary>Close the connection without a reply (at Data: the message is not stored).</summary>
    Disconnect,
}

/// <summary>
/// One fault to inject: at a stage, for the mail it matches (an inbox, an address pattern, or any), a
/// number of times or with a probability, until it expires. Rules from the API and from configuration
/// (<c>MailSink:Chaos:Rules</c>) apply on every listener; the first matching rule acts.
/// </summary>
public sealed class ChaosRule
{
    /// <summary>Given by MailSink when the rule is added.</summary>
    public string Id { get; set; } = "";

    public ChaosStage Stage { get; set; }

    public ChaosAction Action { get; set; } = ChaosAction.Reply;

    /// <summary>The reply code (Reply): 4xx or 5xx.</summary>
    public int Code { get; set; } = 451;

    /// <summary>The reply text; a default naming the rule when empty.</summary>
    public string? Text { get; set; }

    /// <summary>Only mail for this inbox (a recipient that routes to it). Mail, Rcpt and Data only.</summary>
    public string? Inbox { get; set; }

    /// <summary>Only this address pattern (<c>*</c> for any characters): the sender at Mail, a recipient at Rcpt and Data.</summary>
    public string? Address { get; set; }

    /// <summary>Apply this many times, then stop (null: without limit).</summary>
    public int? Count { get; set; }

    /// <summary>Apply to this share of what matches, from 0 to 1 (null: all).</summary>
    public double? Probability { get; set; }

    /// <summary>Stop applying at this time (null: never).</summary>
    public DateTimeOffset? Expires { get; set; }

    public int DelayMilliseconds { get; set; }

    /// <summary>How many times the rule has acted.</summary>
    public long Applied { get; set; }
}
