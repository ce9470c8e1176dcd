using System.Net;
using ARSoft.Tools.Net.Spf;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace MailSink.Api.Analysis.Deliverability;

/// <summary>One authentication result, as Mailosaur reports it: Pass, Warning, Fail or Timeout, with what was seen.</summary>
public sealed record AuthenticationResultDto(string Result, string Description, string? RawValue, IReadOnlyDictionary<string, string> Tags);

/// <summary>SPF (RFC 7208), DKIM (RFC 6376) and DMARC (RFC 7489) for one stored message, over <see cref="AnalysisDns"/>.</summary>
public sealed class AuthenticationChecks(AnalysisDns dns)
{
    private static readonly IReadOnlyDictionary<string, string> NoTags = new Dictionary<string, string>();

    /// <summary>
    /// SPF of the MAIL FROM domain (the HELO name for the null sender) for the address that connected. ARSoft's
    /// validator evaluates the record; the limit of ten DNS-querying terms is RFC 7208's, not its default of 20.
    /// </summary>
    public async Task<(AuthenticationResultDto Result, string? Domain)> SpfAsync(IPAddress? client, string mailFrom, string? helo, CancellationToken cancellationToken)
    {
        var domain = mailFrom.Contains('@') ? mailFrom[(mailFrom.LastIndexOf('@') + 1)..] : helo;
        if (client is null || string.IsNullOrWhiteSpace(domain))
            return (new AuthenticationResultDto("Warning", "SPF cannot be checked: the message has no connecting address or no sender domain.", null, NoTags), null);

        var (_, texts) = await dns.TxtAsync(domain, cancellationToken);
        var record = texts.FirstOrDefault(t => t.StartsWith("v=spf1", StringComparison.OrdinalIgnoreCase) && (t.Length == 6 || t[6] == ' '));
        using var resolver = new VoidLookupLimit(dns.Resolver);
        var validator = new SpfValidator { DnsResolver = resolver, DnsLookupLimit = 10 };
        var sender = mailFrom.Contains('@') ? mailFrom : $"postmaster@{domain}";
        var outcome = await validator.CheckHostAsync(client, domain, sender, false, cancellationToken);
        var (result, description) = resolver.Exceeded ? ("Fail", $"{domain}'s SPF record cannot be evaluated (permerror: more than two void lookups).") : outcome.Result switch
        {
            SpfQualifier.Pass => ("Pass", $"{client} may send mail for {domain}."),
            SpfQualifier.Fail => ("Fail", $"{domain}'s SPF record does not allow {client} to send its mail (-all)."),
            SpfQualifier.SoftFail => ("Warning", $"{domain}'s SPF record probably does not allow {client} (~all: softfail)."),
            SpfQualifier.Neutral => ("Warning", $"{domain}'s SPF record says nothing of {client} (neutral)."),
            SpfQualifier.None => ("Warning", $"{domain} has no SPF record."),
            SpfQualifier.TempError => ("Timeout", $"SPF for {domain} could not be checked: DNS did not answer (temperror)."),
            _ => ("Fail", $"{domain}'s SPF record cannot be evaluated (permerror: bad syntax, or more than 10 DNS-querying terms)."),
        };
        return (new AuthenticationResultDto(result, description, record, Tags(record, ' ')), domain);
    }

    /// <summary>Every DKIM-Signature verified with its key from DNS; a message without one gets a Warning.</summary>
    public async Task<List<(AuthenticationResultDto Result, string? Domain)>> DkimAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var results = new List<(AuthenticationResultDto, string?)>();
        var locator = new KeyLocator(dns);
        var verifier = new DkimVerifier(locator);
        foreach (var header in message.Headers.Where(h => h.Id == HeaderId.DkimSignature))
        {
            var tags = Tags(header.Value, ';');
            var domain = tags.GetValueOrDefault("d");
            var selector = tags.GetValueOrDefault("s");
            try
            {
                var verified = await verifier.VerifyAsync(message, header, cancellationToken);
                results.Add((verified
                    ? new AuthenticationResultDto("Pass", $"The signature of {domain} (selector {selector}) verifies.", header.Value, tags)
                    : new AuthenticationResultDto("Fail", $"The signature of {domain} (selector {selector}) does not verify: the message was changed after signing, or signed with another key.", header.Value, tags),
                    verified ? domain : null));
            }
            catch (KeyLookupException ex)
            {
                results.Add((new AuthenticationResultDto(ex.TimedOut ? "Timeout" : "Fail", ex.Message, header.Value, tags), null));
            }
            catch (FormatException ex)
            {
                results.Add((new AuthenticationResultDto("Fail", $"The DKIM-Signature cannot be read: {ex.Message}", header.Value, tags), null));
            }
        }

        if (results.Count == 0)
            results.Add((new AuthenticationResultDto("Warning", "The message has no DKIM signature.", null, NoTags), null));
        return results;
    }

    /// <summary>
    /// The ARC chain (RFC 8617) of a message forwarded through intermediaries, verified by MimeKit with keys
    /// from DNS; null when the message has none.
    /// </summary>
    public async Task<AuthenticationResultDto?> ArcAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var seals = message.Headers.Where(h => h.Id == HeaderId.ArcSeal).ToList();
        if (seals.Count == 0)
            return null;
        var latest = seals.Select(h => h.Value).OrderByDescending(v => Tags(v, ';').GetValueOrDefault("i")).First();
        try
        {
            var result = await new ArcVerifier(new KeyLocator(dns)).VerifyAsync(message, cancellationToken);
            return result.Chain switch
            {
                ArcSignatureValidationResult.Pass => new AuthenticationResultDto("Pass", $"The ARC chain of {seals.Count} set(s) verifies.", latest, Tags(latest, ';')),
                ArcSignatureValidationResult.Fail => new AuthenticationResultDto("Fail",
                    $"The ARC chain does not verify{(result.ChainErrors != ArcValidationErrors.None ? $" ({result.ChainErrors})." : ".")}", latest, Tags(latest, ';')),
                _ => new AuthenticationResultDto("Warning", "The ARC headers do not form a chain that can be checked.", latest, Tags(latest, ';')),
            };
        }
        catch (KeyLookupException ex)
        {
            return new AuthenticationResultDto(ex.TimedOut ? "Timeout" : "Fail", ex.Message, latest, Tags(latest, ';'));
        }
        catch (FormatException ex)
        {
            return new AuthenticationResultDto("Fail", $"The ARC headers cannot be read: {ex.Message}", latest, Tags(latest, ';'));
        }
    }

    /// <summary>
    /// DMARC of the From domain: its record (or its organisational domain's), and whether SPF or DKIM passed
    /// for a domain aligned with From (relaxed: the same organisational domain; strict: the same name).
    /// </summary>
    public async Task<AuthenticationResultDto> DmarcAsync(string? fromDomain, AuthenticationResultDto spf, string? spfDomain, IEnumerable<string?> dkimDomains, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(fromDomain))
            return new AuthenticationResultDto("Warning", "DMARC cannot be checked: the message has no From domain.", null, NoTags);
        var (outcome, record) = await DmarcRecordAsync(fromDomain, cancellationToken);
        if (outcome == DnsOutcome.Timeout)
            return new AuthenticationResultDto("Timeout", $"DMARC for {fromDomain} could not be checked: DNS did not answer.", null, NoTags);
        if (record is null)
            return new AuthenticationResultDto("Warning", $"{fromDomain} has no DMARC record.", null, NoTags);

        var tags = Tags(record, ';');
        var policy = tags.GetValueOrDefault("p", "none");
        bool Aligned(string? domain, string mode) => domain is not null
            && (mode == "s" ? domain.Equals(fromDomain, StringComparison.OrdinalIgnoreCase) : OrganisationalDomain(domain) == OrganisationalDomain(fromDomain));
        var spfAligned = spf.Result == "Pass" && Aligned(spfDomain, tags.GetValueOrDefault("aspf", "r"));
        var dkimAligned = dkimDomains.Any(d => Aligned(d, tags.GetValueOrDefault("adkim", "r")));
        return spfAligned || dkimAligned
            ? new AuthenticationResultDto("Pass", $"{(dkimAligned ? "DKIM" : "SPF")} passed for a domain aligned with {fromDomain}.", record, tags)
            : new AuthenticationResultDto("Fail", $"Neither SPF nor DKIM passed for a domain aligned with {fromDomain}; its policy is p={policy}.", record, tags);
    }

    private async Task<(DnsOutcome, string?)> DmarcRecordAsync(string fromDomain, CancellationToken cancellationToken)
    {
        foreach (var domain in new[] { fromDomain, OrganisationalDomain(fromDomain) }.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var (outcome, texts) = await dns.TxtAsync($"_dmarc.{domain}", cancellationToken);
            if (outcome == DnsOutcome.Timeout)
                return (outcome, null);
            var record = texts.FirstOrDefault(t => t.TrimStart().StartsWith("v=DMARC1", StringComparison.OrdinalIgnoreCase));
            if (record is not null)
                return (DnsOutcome.Found, record);
        }

        return (DnsOutcome.None, null);
    }

    /// <summary>The organisational domain (RFC 7489 3.2), by the Public Suffix List.</summary>
    internal static string OrganisationalDomain(string domain) => PublicSuffixes.OrganisationalDomain(domain);

    /// <summary><c>k=v</c> pairs split by <paramref name="separator"/> (DKIM and DMARC use ';', SPF terms ' ').</summary>
    private static Dictionary<string, string> Tags(string? text, char separator)
    {
        var tags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in (text ?? "").Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOfAny(['=', ':']);
            if (equals > 0)
                tags[part[..equals].Trim()] = string.Concat(part[(equals + 1)..].Where(c => !char.IsWhiteSpace(c) || separator == ' '));
        }

        return tags;
    }

    /// <summary>
    /// RFC 7208 4.6.4: more than two "void lookups" (a mechanism's A, AAAA, MX or PTR query answered with no
    /// records) make check_host() a permerror. ARSoft's validator does not count them; this resolver does,
    /// and fails the third (the validator then stops, and <see cref="Exceeded"/> says why).
    /// </summary>
    private sealed class VoidLookupLimit(ARSoft.Tools.Net.Dns.IDnsResolver inner) : ARSoft.Tools.Net.Dns.IDnsResolver
    {
        private const int Limit = 2;
        private int _void;

        public bool Exceeded { get; private set; }

        public List<T> Resolve<T>(ARSoft.Tools.Net.DomainName name, ARSoft.Tools.Net.Dns.RecordType recordType = ARSoft.Tools.Net.Dns.RecordType.A,
            ARSoft.Tools.Net.Dns.RecordClass recordClass = ARSoft.Tools.Net.Dns.RecordClass.INet)
            where T : ARSoft.Tools.Net.Dns.DnsRecordBase =>
            ResolveAsync<T>(name, recordType, recordClass).GetAwaiter().GetResult();

        public async Task<List<T>> ResolveAsync<T>(ARSoft.Tools.Net.DomainName name, ARSoft.Tools.Net.Dns.RecordType recordType = ARSoft.Tools.Net.Dns.RecordType.A,
            ARSoft.Tools.Net.Dns.RecordClass recordClass = ARSoft.Tools.Net.Dns.RecordClass.INet, CancellationToken token = default)
            where T : ARSoft.Tools.Net.Dns.DnsRecordBase
        {
            var records = await inner.ResolveAsync<T>(name, recordType, recordClass, token);
            if (records.Count == 0 && recordType is ARSoft.Tools.Net.Dns.RecordType.A or ARSoft.Tools.Net.Dns.RecordType.Aaaa
                    or ARSoft.Tools.Net.Dns.RecordType.Mx or ARSoft.Tools.Net.Dns.RecordType.Ptr
                && ++_void > Limit)
            {
                Exceeded = true;
                throw new InvalidOperationException("More than two void lookups.");
            }

            return records;
        }

        public void ClearCache() => inner.ClearCache();

        public void Dispose()
        {
            // The inner resolver is the shared one: not this wrapper's to dispose.
        }
    }

    /// <summary>The key of a DKIM signature: the TXT record at <c>selector._domainkey.domain</c>.</summary>
    private sealed class KeyLocator(AnalysisDns dns) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            LocatePublicKeyAsync(methods, domain, selector, cancellationToken).GetAwaiter().GetResult();

        public override async Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default)
        {
            var name = $"{selector}._domainkey.{domain}";
            var (outcome, texts) = await dns.TxtAsync(name, cancellationToken);
            if (outcome == DnsOutcome.Timeout)
                throw new KeyLookupException($"The DKIM key {name} could not be looked up: DNS did not answer.", timedOut: true);
            var record = texts.FirstOrDefault(t => t.Contains("p=", StringComparison.Ordinal))
                         ?? throw new KeyLookupException($"There is no DKIM key at {name}.", timedOut: false);
            try
            {
                return GetPublicKey(record);
            }
            catch (Exception ex) when (ex is FormatException or ParseException or ArgumentException)
            {
                throw new KeyLookupException($"The DKIM key at {name} cannot be read: {ex.Message}", timedOut: false);
            }
        }
    }

    private sealed class KeyLookupException(string message, bool timedOut) : Exception(message)
    {
        public bool TimedOut { get; } = timedOut;
    }
}
