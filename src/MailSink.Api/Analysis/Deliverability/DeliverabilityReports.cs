using System.Net;
using AngleSharp.Html.Parser;
using ARSoft.Tools.Net.Dns;
using MailSink.Storage;
using MailSink.Storage.Analysis;
using Microsoft.Extensions.Options;
using MimeKit;

namespace MailSink.Api.Analysis.Deliverability;

public sealed record BlockListResultDto(string Id, string Name, string Result);

#pragma warning disable CA1720 // "object" and "ptr" are the names in Mailosaur's report
public sealed record ContentDto(bool Embed, bool Iframe, bool Object, bool Script, bool ShortUrls, long TextSize, long TotalSize, bool MissingAlt, bool MissingListUnsubscribe);

public sealed record DnsRecordsDto(IReadOnlyList<string> A, IReadOnlyList<string> Mx, IReadOnlyList<string> Ptr);

#pragma warning restore CA1720

public sealed record SpamAssassinResultDto(double Score, string Result, IReadOnlyList<SpamAssassinRuleDto> Rules);

public sealed record DeliverabilityReportDto(
    AuthenticationResultDto Spf,
    IReadOnlyList<AuthenticationResultDto> Dkim,
    AuthenticationResultDto Dmarc,
    IReadOnlyList<BlockListResultDto> BlockLists,
    ContentDto Content,
    DnsRecordsDto DnsRecords,
    SpamAssassinResultDto? SpamAssassin,
    AuthenticationResultDto? Arc = null);

/// <summary>
/// Mailosaur's deliverability report for a stored message: SPF, DKIM and DMARC from DNS, block list lookups
/// of the connecting address, content checks, the sender domain's DNS records, and SpamAssassin's score
/// when spamd is set up. Made once, when first asked for, and kept with the message in the store (so a
/// restart, or another node, answers the same report, and a deleted message's report goes with it). Only
/// reports being made are held in memory, so that callers asking at once share one making; a finished or
/// failed one is let go, so that no node answers from memory for a message another node has deleted, or
/// repeats a failure (the store down) once the cause is gone.
/// </summary>
public sealed class DeliverabilityReports(
    IMessageRepository messages, IAnalysisStore analyses, AnalysisDns dns, AuthenticationChecks checks, SpamAssassinClient spamd, IOptions<DeliverabilityOptions> options)
{
    private const string Kind = "deliverability";
    private static readonly string[] Shorteners = ["bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly", "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy"];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<DeliverabilityReportDto?>>> _making = new(StringComparer.Ordinal);

    /// <summary>The report, or null when there is no such message.</summary>
    public async Task<DeliverabilityReportDto?> GetAsync(string id, CancellationToken cancellationToken)
    {
        Lazy<Task<DeliverabilityReportDto?>>? mine = null;
        mine = new Lazy<Task<DeliverabilityReportDto?>>(() => MakeOnceAsync(id, mine!));
        return await _making.GetOrAdd(id, mine).Value.WaitAsync(cancellationToken); // a making under way is joined
    }

    /// <summary>Makes (or reads back) the report, and lets its in-memory entry go however that ends (this entry only).</summary>
    private async Task<DeliverabilityReportDto?> MakeOnceAsync(string id, Lazy<Task<DeliverabilityReportDto?>> entry)
    {
        try
        {
            return await MakeAsync(id);
        }
        finally
        {
            _making.TryRemove(new KeyValuePair<string, Lazy<Task<DeliverabilityReportDto?>>>(id, entry));
        }
    }

    private async Task<DeliverabilityReportDto?> MakeAsync(string id)
    {
        var cancellationToken = CancellationToken.None; // shared by every caller: made to the end once started
        if (await analyses.GetAnalysisAsync(id, Kind, cancellationToken) is { } kept)
            return System.Text.Json.JsonSerializer.Deserialize<DeliverabilityReportDto>(kept, ApiJson.Web);
        if (await messages.GetAsync(id, cancellationToken) is not { } stored || await messages.GetRawAsync(id, cancellationToken) is not { } raw)
            return null;
        using var message = MimeMessage.Load(new MemoryStream(raw, writable: false), cancellationToken);
        // Plain: a record stored by a dual-stack listener before addresses were made plain holds ::ffff:a.b.c.d.
        var client = IPEndPoint.TryParse(stored.Envelope.RemoteAddress ?? "", out var endpoint) ? ClientAddress.Plain(endpoint.Address) : null;
        var fromDomain = message.From.Mailboxes.FirstOrDefault()?.Domain;

        var (spf, spfDomain) = await checks.SpfAsync(client, stored.Envelope.MailFrom, stored.Envelope.Ehlo, cancellationToken);
        var dkim = await checks.DkimAsync(message, cancellationToken);
        var dmarc = await checks.DmarcAsync(fromDomain, spf, spfDomain, dkim.Select(d => d.Domain), cancellationToken);
        var report = new DeliverabilityReportDto(
            spf,
            [.. dkim.Select(d => d.Result)],
            dmarc,
            await BlockListsAsync(client, cancellationToken),
            Content(stored, message),
            await DnsRecordsAsync(fromDomain, client, cancellationToken),
            await SpamAsync(raw, cancellationToken),
            await checks.ArcAsync(message, cancellationToken));
        await analyses.SaveAnalysisAsync(id, Kind, System.Text.Json.JsonSerializer.Serialize(report, ApiJson.Web), cancellationToken);
        return report;
    }

    private async Task<List<BlockListResultDto>> BlockListsAsync(IPAddress? client, CancellationToken cancellationToken)
    {
        var results = new List<BlockListResultDto>();
        foreach (var zone in options.Value.BlockLists)
        {
            if (client is null || LinkChecker.IsInternal(client))
            {
                results.Add(new BlockListResultDto(zone, zone, "NotListed")); // an internal address is on no public list: not asked
                continue;
            }

            var reversed = client.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
                ? string.Join('.', client.GetAddressBytes().Reverse())
                : string.Join('.', Convert.ToHexStringLower(client.GetAddressBytes()).Reverse());
            var (outcome, _) = await dns.QueryAsync<ARecord>($"{reversed}.{zone}", RecordType.A, cancellationToken);
            results.Add(new BlockListResultDto(zone, zone, outcome switch { DnsOutcome.Found => "Listed", DnsOutcome.None => "NotListed", _ => "Failed" }));
        }

        return results;
    }

    private static ContentDto Content(StoredMessage stored, MimeMessage message)
    {
        var html = stored.Html ?? "";
        var document = new HtmlParser().ParseDocument(HtmlDepthLimiter.ForParser(html)); // deep nesting cost seconds a report
        bool Has(string tag) => document.QuerySelector(tag) is not null;
        var hosts = stored.HtmlLinks.Concat(stored.TextLinks)
            .Select(l => Uri.TryCreate(l.Href, UriKind.Absolute, out var uri) ? uri.Host.ToLowerInvariant() : "");
        return new ContentDto(
            Embed: Has("embed"),
            Iframe: Has("iframe"),
            Object: Has("object"),
            Script: Has("script"),
            ShortUrls: hosts.Any(h => Shorteners.Contains(h)),
            TextSize: System.Text.Encoding.UTF8.GetByteCount(stored.Text ?? ""),
            TotalSize: stored.Size,
            MissingAlt: document.QuerySelectorAll("img").Any(i => !i.HasAttribute("alt")),
            MissingListUnsubscribe: !message.Headers.Contains("List-Unsubscribe"));
    }

    private async Task<DnsRecordsDto> DnsRecordsAsync(string? fromDomain, IPAddress? client, CancellationToken cancellationToken)
    {
        List<string> a = [], mx = [], ptr = [];
        if (!string.IsNullOrWhiteSpace(fromDomain))
        {
            a = [.. (await dns.QueryAsync<ARecord>(fromDomain, RecordType.A, cancellationToken)).Records.Select(r => r.Address.ToString())];
            mx = [.. (await dns.QueryAsync<MxRecord>(fromDomain, RecordType.Mx, cancellationToken)).Records.OrderBy(r => r.Preference).Select(r => $"{r.Preference} {r.ExchangeDomainName.ToString().TrimEnd('.')}")];
        }

        if (client is not null && !LinkChecker.IsInternal(client))
        {
            var name = ARSoft.Tools.Net.IPAddressExtensions.GetReverseLookupDomain(client).ToString();
            ptr = [.. (await dns.QueryAsync<PtrRecord>(name, RecordType.Ptr, cancellationToken)).Records.Select(r => r.PointerDomainName.ToString().TrimEnd('.'))];
        }

        return new DnsRecordsDto(a, mx, ptr);
    }

    private async Task<SpamAssassinResultDto?> SpamAsync(byte[] raw, CancellationToken cancellationToken)
    {
        if (!spamd.Configured || raw.Length > spamd.Options.MaxBytes)
            return null;
        try
        {
            var report = await spamd.AnalyzeAsync(raw, cancellationToken);
            var result = report.IsSpam ? "Fail" : report.Score >= report.Threshold / 2 ? "Warning" : "Pass";
            return new SpamAssassinResultDto(report.Score, result, [.. report.Rules.Select(r => new SpamAssassinRuleDto(r.Score, r.Rule, r.Description))]);
        }
        catch (SpamAssassinException)
        {
            return null;
        }
    }
}
