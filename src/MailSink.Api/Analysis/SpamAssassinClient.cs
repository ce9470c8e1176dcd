using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using MailSink.Storage;
using Microsoft.Extensions.Options;

namespace MailSink.Api.Analysis;

/// <summary>The <c>MailSink:Analysis:SpamAssassin</c> section: the spamd that scores messages.</summary>
public sealed class SpamAssassinOptions
{
    public const string Section = "MailSink:Analysis:SpamAssassin";

    /// <summary>spamd's host; empty: spam analysis is off (the call says how to turn it on).</summary>
    public string Host { get; set; } = "";

    public int Port { get; set; } = 783;

    /// <summary>How long one analysis may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Larger messages are not sent (spamc's own limit is 500 KB).</summary>
    public int MaxBytes { get; set; } = 1024 * 1024;
}

/// <summary>What spamd said of a message: its score, the score that makes spam, and each rule that hit.</summary>
public sealed record SpamReport(double Score, double Threshold, bool IsSpam, IReadOnlyList<SpamRule> Rules);

public sealed record SpamRule(string Rule, double Score, string Description);

/// <summary>spamd could not be asked, or did not answer as its protocol says.</summary>
public sealed class SpamAssassinException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Speaks spamd's protocol (SPAMC/1.5) over TCP: one <c>REPORT</c> per message, whose answer carries the
/// score in a <c>Spam:</c> header and the rules that hit in the report's table.
/// </summary>
public sealed partial class SpamAssassinClient(IOptions<SpamAssassinOptions> options)
{
    public SpamAssassinOptions Options => options.Value;

    public bool Configured => !string.IsNullOrWhiteSpace(options.Value.Host);

    /// <summary>Scores a raw message. Throws <see cref="SpamAssassinException"/> when spamd cannot be reached or answers wrongly.</summary>
    public async Task<SpamReport> AnalyzeAsync(byte[] raw, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(settings.Host, settings.Port, timeout.Token);
            var stream = client.GetStream();
            var head = Encoding.ASCII.GetBytes($"REPORT SPAMC/1.5\r\nContent-length: {raw.Length}\r\nUser: mailsink\r\n\r\n");
            await stream.WriteAsync(head, timeout.Token);
            await stream.WriteAsync(raw, timeout.Token);
            client.Client.Shutdown(SocketShutdown.Send);
            using var answer = new MemoryStream();
            await stream.CopyToAsync(answer, timeout.Token);
            return Parse(Encoding.UTF8.GetString(answer.ToArray()));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SpamAssassinException($"spamd at {settings.Host}:{settings.Port} did not answer within {settings.Timeout.TotalSeconds:0} s.");
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            throw new SpamAssassinException($"spamd at {settings.Host}:{settings.Port} cannot be reached: {ex.Message}", ex);
        }
    }

    /// <summary>Reads spamd's answer: <c>SPAMD/1.x 0 EX_OK</c>, headers (<c>Spam: True ; 7.1 / 5.0</c>), a blank line, the report.</summary>
    internal static SpamReport Parse(string answer)
    {
        var blank = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = blank < 0 ? answer : answer[..blank];
        var body = blank < 0 ? "" : answer[(blank + 4)..];
        var lines = head.Split("\r\n");
        if (lines.Length == 0 || StatusLine().Match(lines[0]) is not { Success: true } status)
            throw new SpamAssassinException($"spamd answered something other than its protocol: '{QuotedText.Printable(lines.FirstOrDefault(), 120)}'.");
        if (status.Groups["code"].Value != "0")
            throw new SpamAssassinException($"spamd refused the message: {QuotedText.Printable(lines[0], 120)}.");
        var spam = lines.Select(l => SpamHeader().Match(l)).FirstOrDefault(m => m.Success)
                   ?? throw new SpamAssassinException("spamd's answer has no Spam: header.");
        var score = double.Parse(spam.Groups["score"].Value, CultureInfo.InvariantCulture);
        var threshold = double.Parse(spam.Groups["threshold"].Value, CultureInfo.InvariantCulture);
        var isSpam = spam.Groups["verdict"].Value.Equals("True", StringComparison.OrdinalIgnoreCase)
                     || spam.Groups["verdict"].Value.Equals("Yes", StringComparison.OrdinalIgnoreCase);
        return new SpamReport(score, threshold, isSpam, Rules(body));
    }

    /// <summary>
    /// The report's table: after the "---- ----" line, one rule per line (<c>pts rule description</c>), a
    /// description that goes on over the next lines indented.
    /// </summary>
    private static List<SpamRule> Rules(string report)
    {
        var rules = new List<SpamRule>();
        var inTable = false;
        foreach (var line in report.Replace("\r\n", "\n").Split('\n'))
        {
            if (!inTable)
            {
                inTable = line.TrimStart().StartsWith("----", StringComparison.Ordinal);
                continue;
            }

            if (RuleLine().Match(line) is { Success: true } rule)
            {
                rules.Add(new SpamRule(rule.Groups["rule"].Value, double.Parse(rule.Groups["score"].Value, CultureInfo.InvariantCulture), rule.Groups["text"].Value.Trim()));
            }
            else if (rules.Count > 0 && line.StartsWith("  ", StringComparison.Ordinal) && line.Trim().Length > 0)
            {
                var last = rules[^1];
                rules[^1] = last with { Description = $"{last.Description} {line.Trim()}" };
            }
            else if (line.Trim().Length == 0 && rules.Count > 0)
            {
                break;
            }
        }

        return rules;
    }

    [GeneratedRegex(@"^SPAMD/\d+\.\d+ (?<code>\d+) ")]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"^Spam: *(?<verdict>\w+) *; *(?<score>-?\d+(\.\d+)?) */ *(?<threshold>-?\d+(\.\d+)?)", RegexOptions.IgnoreCase)]
    private static partial Regex SpamHeader();

    [GeneratedRegex(@"^\s*(?<score>-?\d+(\.\d+)?)\s+(?<rule>[A-Z0-9_]+)\s+(?<text>.*)$")]
    private static partial Regex RuleLine();
}
