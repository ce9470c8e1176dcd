using MailSink.Api.Outgoing;
using MailSink.Storage.Ingest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailSink.Api.Chaos;

/// <summary>The <c>MailSink:Chaos</c> section: rules that hold for the whole run.</summary>
public sealed class ChaosOptions
{
    public const string Section = "MailSink:Chaos";

    public List<ChaosRule> Rules { get; set; } = [];
}

/// <summary>
/// The fault rules in force in this process, asked by the SMTP sessions at each stage. A rule with a
/// count is consumed under a lock, so that "the next 3 messages" is exactly three however many sessions
/// race for it. Rules live in memory: set them per test through the API, or for the run in configuration.
/// </summary>
public sealed partial class ChaosRules
{
    private readonly Lock _gate = new();
    private readonly List<ChaosRule> _rules = [];
    private readonly InboxRouter _router;
    private readonly TimeProvider _time;
    private readonly ILogger<ChaosRules> _logger;
    private volatile bool _any;

    public ChaosRules(IOptions<ChaosOptions> options, InboxRouter router, TimeProvider time, ILogger<ChaosRules> logger)
    {
        (_router, _time, _logger) = (router, time, logger);
        foreach (var rule in options.Value.Rules)
        {
            if (Problem(rule) is { } problem)
                throw new OptionsValidationException(ChaosOptions.Section, typeof(ChaosOptions), [$"{ChaosOptions.Section}:Rules: {problem}"]);
            Add(rule);
        }
    }

    /// <summary>A copy of every rule in force, with how often each has acted.</summary>
    public IReadOnlyList<ChaosRule> All()
    {
        lock (_gate)
            return [.. _rules.Select(Copy)];
    }

    /// <summary>Adds a rule (checked with <see cref="Problem"/> first) under a new id; returns it.</summary>
    public ChaosRule Add(ChaosRule rule)
    {
        var added = Copy(rule);
        added.Id = Guid.NewGuid().ToString("N")[..12];
        added.Applied = 0;
        if (string.IsNullOrWhiteSpace(added.Text))
            added.Text = null;
        if (added.Inbox is not null)
            added.Inbox = InboxRouter.NormalizeInboxId(added.Inbox);
        lock (_gate)
        {
            _rules.Add(added);
            _any = true;
        }

        return Copy(added);
    }

    public bool Remove(string id)
    {
        lock (_gate)
        {
            var removed = _rules.RemoveAll(r => r.Id == id) > 0;
            _any = _rules.Count > 0;
            return removed;
        }
    }

    /// <summary>Replaces every rule.</summary>
    public IReadOnlyList<ChaosRule> Replace(IEnumerable<ChaosRule> rules)
    {
        Clear();
        return [.. rules.Select(Add)];
    }

    public void Clear()
    {
        lock (_gate)
        {
            _rules.Clear();
            _any = false;
        }
    }

    /// <summary>Why a rule cannot be used, or null.</summary>
    public static string? Problem(ChaosRule rule)
    {
        if (!Enum.IsDefined(rule.Stage))
            return "stage must be connect, helo, mail, rcpt or data.";
        if (!Enum.IsDefined(rule.Action))
            return "action must be reply, delay or disconnect.";
        if (rule.Action == ChaosAction.Reply && rule.Code is < 400 or > 599)
            return $"code must be a 4xx or 5xx reply code (it is {rule.Code}).";
        if (rule.Action == ChaosAction.Delay && rule.DelayMilliseconds is < 1 or > 600_000)
            return "delayMilliseconds must be from 1 to 600000 for a delay.";
        if (rule.Stage is ChaosStage.Connect or ChaosStage.Helo && (rule.Inbox is not null || rule.Address is not null))
            return "inbox and address need a stage that knows addresses (mail, rcpt or data).";
        if (rule.Stage == ChaosStage.Mail && rule.Inbox is not null)
            return "inbox needs the rcpt or data stage (at mail the recipients are not known yet); match the sender with address.";
        if (rule.Inbox is not null && !InboxRouter.IsValidInboxId(InboxRouter.NormalizeInboxId(rule.Inbox)))
            return "inbox must be an inbox id.";
        if (rule.Count is < 1)
            return "count must be 1 or more (leave it out for no limit).";
        if (rule.Probability is < 0 or > 1)
            return "probability must be from 0 to 1.";
        if (rule.Text is { Length: > 400 } || rule.Text?.Any(char.IsControl) == true)
            return "text must be at most 400 characters, without line breaks or control characters.";
        return null;
    }

    /// <summary>
    /// The rule that acts now at <paramref name="stage"/> for mail with these addresses (the sender at Mail,
    /// the recipients at Rcpt and Data; none before), consumed and counted; null when none does.
    /// </summary>
    public ChaosRule? Apply(ChaosStage stage, IReadOnlyList<string> addresses, string session)
    {
        if (!_any)
            return null;
        ChaosRule? acting = null;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            _rules.RemoveAll(r => r.Expires <= now);
            foreach (var rule in _rules)
            {
                if (rule.Stage != stage || !Matches(rule, addresses))
                    continue;
                if (rule.Probability is { } share && Random.Shared.NextDouble() >= share)
                    continue;
                rule.Applied++;
                if (rule.Count is { } left)
                    rule.Count = left - 1;
                acting = Copy(rule);
                break;
            }

            _rules.RemoveAll(r => r.Count == 0);
            _any = _rules.Count > 0;
        }

        if (acting is not null)
            Log.Applied(_logger, acting.Id, acting.Stage, acting.Action, acting.Code, session);
        return acting;
    }

    /// <summary>The reply line a Reply rule gives.</summary>
    public static string ReplyLine(ChaosRule rule) =>
        $"{rule.Code} {rule.Text ?? $"Fault injected by MailSink chaos rule {rule.Id} (stage {rule.Stage.ToString().ToLowerInvariant()})"}";

    private bool Matches(ChaosRule rule, IReadOnlyList<string> addresses)
    {
        if (rule.Inbox is null && rule.Address is null)
            return true;
        return addresses.Any(a =>
            (rule.Inbox is null || _router.Route(a) == rule.Inbox)
            && (rule.Address is null || RelayOptions.Matches(rule.Address, a)));
    }

    private static ChaosRule Copy(ChaosRule r) => new()
    {
        Id = r.Id,
        Stage = r.Stage,
        Action = r.Action,
        Code = r.Code,
        Text = r.Text,
        Inbox = r.Inbox,
        Address = r.Address,
        Count = r.Count,
        Probability = r.Probability,
        Expires = r.Expires,
        DelayMilliseconds = r.DelayMilliseconds,
        Applied = r.Applied,
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "Chaos rule {Rule} acted at {Stage}: {Action} {Code} (session {Session})")]
        public static partial void Applied(ILogger logger, string rule, ChaosStage stage, ChaosAction action, int code, string session);
    }
}
