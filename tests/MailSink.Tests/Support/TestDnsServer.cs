using System.Collections.Concurrent;
using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace MailSink.Tests.Support;

/// <summary>
/// A real DNS server (ARSoft.Tools.Net's) on a free loopback port, UDP and TCP, answering from records the
/// tests add: TXT for SPF, DKIM and DMARC, A, MX and PTR. A name can be made to fail (SERVFAIL) or to go
/// unanswered (the client's timeout). Everything else is NXDOMAIN.
/// </summary>
public sealed class TestDnsServer : IAsyncLifetime
{
    private readonly ConcurrentDictionary<(string Name, RecordType Type), List<DnsRecordBase>> _records = new();
    private readonly ConcurrentDictionary<string, bool> _silent = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Task> _held = new(StringComparer.OrdinalIgnoreCase);
    private DnsServer? _server;

    public int Port { get; private set; }

    /// <summary>Queries answered so far, by name (lower case), for tests that count lookups.</summary>
    public ConcurrentQueue<string> Queries { get; } = new();

    /// <summary>What points a MailSink host at this server (with a short timeout, as on a CI box).</summary>
    public string[] HostSettings => [$"--MailSink:Analysis:DnsServers:0=127.0.0.1:{Port}", "--MailSink:Analysis:DnsTimeout=00:00:01"];

    public Task InitializeAsync()
    {
        Port = MailSinkProcess.FreePort();
        var endpoint = new IPEndPoint(IPAddress.Loopback, Port);
        _server = new DnsServer(new UdpServerTransport(endpoint), new TcpServerTransport(endpoint));
        _server.QueryReceived += async (_, e) =>
        {
            if (e.Query is not DnsMessage query || query.Questions.Count == 0)
                return;
            var question = query.Questions[0];
            var name = question.Name.ToString().TrimEnd('.').ToLowerInvariant();
            Queries.Enqueue(name);
            if (_silent.ContainsKey(name))
                return; // no response: the client waits for its timeout
            if (_held.TryGetValue(name, out var held))
                await held;
            var response = query.CreateResponseInstance();
            if (_records.TryGetValue((name, question.RecordType), out var answers))
                response.AnswerRecords.AddRange(answers);
            else if (!_records.Keys.Any(k => k.Name == name))
                response.ReturnCode = ReturnCode.NxDomain;
            e.Response = response;
        };
        _server.Start();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _server?.Stop();
        return Task.CompletedTask;
    }

    private void Add(string name, RecordType type, DnsRecordBase record) =>
        _records.AddOrUpdate((name.ToLowerInvariant(), type), _ => [record], (_, list) => [.. list, record]);

    /// <summary>A TXT record; text over 255 characters is split into strings, as a zone file would.</summary>
    public void Txt(string name, string text) =>
        Add(name, RecordType.Txt, new TxtRecord(DomainName.Parse(name), 60, text.Chunk(255).Select(c => new string(c))));

    public void A(string name, string address) => Add(name, RecordType.A, new ARecord(DomainName.Parse(name), 60, IPAddress.Parse(address)));

    public void Mx(string name, int preference, string exchange) =>
        Add(name, RecordType.Mx, new MxRecord(DomainName.Parse(name), 60, (ushort)preference, DomainName.Parse(exchange)));

    /// <summary>Queries for <paramref name="name"/> are answered only once <paramref name="release"/> completes.</summary>
    public void Hold(string name, Task release) => _held[name.ToLowerInvariant()] = release;

    /// <summary>Queries for <paramref name="name"/> go unanswered.</summary>
    public void Silence(string name) => _silent[name.ToLowerInvariant()] = true;
}
