using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using Microsoft.Extensions.Options;

namespace MailSink.Api.Analysis.Deliverability;

/// <summary>The <c>MailSink:Analysis</c> section's DNS and block list settings.</summary>
public sealed class DeliverabilityOptions
{
    public const string Section = "MailSink:Analysis";

    /// <summary>DNS servers (<c>1.2.3.4</c>, <c>1.2.3.4:5353</c>, <c>[::1]:53</c>; one port for all); empty: the system's resolvers.</summary>
    public List<string> DnsServers { get; set; } = [];

    /// <summary>How long one DNS query may take; past it the check says Timeout (the usual case on a CI box without DNS).</summary>
    public TimeSpan DnsTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>DNSBL zones the sending address is looked up in (such as <c>zen.spamhaus.org</c>); none by default.</summary>
    public List<string> BlockLists { get; set; } = [];

    /// <summary>
    /// <see cref="DnsServers"/> as addresses and the one port they share (53 when none is given), or null
    /// when an entry is not an IP address with an optional port, or the ports differ. Validation and the
    /// resolver read the setting through this alone.
    /// </summary>
    public (List<IPAddress> Addresses, int Port)? Servers()
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var server in DnsServers)
        {
            if (!IPEndPoint.TryParse(server.Trim(), out var endpoint))
                return null;
            endpoints.Add(endpoint.Port == 0 ? new IPEndPoint(endpoint.Address, 53) : endpoint);
        }

        var ports = endpoints.Select(e => e.Port).Distinct().ToList();
        return ports.Count > 1 ? null : ([.. endpoints.Select(e => e.Address)], ports.Count == 0 ? 53 : ports[0]);
    }
}

/// <summary>What a DNS question got: records, none (the name or the type does not exist), or no answer in time.</summary>
public enum DnsOutcome
{
    Found,
    None,
    Timeout,
}

/// <summary>DNS for the deliverability checks: one stub resolver over the configured servers, with a short deadline.</summary>
public sealed class AnalysisDns
{
    public AnalysisDns(IOptions<DeliverabilityOptions> options)
    {
        var settings = options.Value;
        var timeout = (int)settings.DnsTimeout.TotalMilliseconds;
        if (settings.DnsServers.Count == 0)
        {
            Resolver = new DnsStubResolver(DnsClient.GetLocalConfiguredDnsServers(), timeout);
            return;
        }

        // Checked at start (ApiServiceCollectionExtensions): a bad value never gets this far.
        var (addresses, port) = settings.Servers() ?? throw new InvalidOperationException($"{DeliverabilityOptions.Section}:DnsServers was not validated.");
        Resolver = new DnsStubResolver(new DnsClient(addresses, [new UdpClientTransport(port), new TcpClientTransport(port)], true, timeout));
    }

    /// <summary>For ARSoft's SPF validator, which asks its own questions.</summary>
    public IDnsResolver Resolver { get; }


    public async Task<(DnsOutcome Outcome, List<T> Records)> QueryAsync<T>(string name, RecordType type, CancellationToken cancellationToken)
        where T : DnsRecordBase
    {
        try
        {
            var records = await Resolver.ResolveAsync<T>(DomainName.Parse(name), type, RecordClass.INet, cancellationToken);
            return (records.Count > 0 ? DnsOutcome.Found : DnsOutcome.None, records);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return (DnsOutcome.Timeout, []); // no answer, or a server failure: nothing can be said of the name
        }
    }

    /// <summary>The TXT records of a name, each as one string (its parts joined, as RFC 7208 and 6376 read them).</summary>
    public async Task<(DnsOutcome Outcome, List<string> Texts)> TxtAsync(string name, CancellationToken cancellationToken)
    {
        var (outcome, records) = await QueryAsync<TxtRecord>(name, RecordType.Txt, cancellationToken);
        return (outcome, records.Select(r => string.Concat(r.TextParts)).ToList());
    }
}
