using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using MailSink.Soak;

// The soak of issue 5, item 6, against a running MailSink (bench/soak.sh starts a Release build): SMTP
// sessions and API readers and waiters at once for a bounded time, then every acknowledged message accounted
// for through the API, and the server's memory and open files back near their warm baseline after a GC.
// Usage: Soak <smtpPort> <httpPort> <serverPid> [seconds=180] [sessions=50] [readers=50] [messages/s=500] [requests/s=500] [database file]
// Exit code 0 when every check holds. Loopback only.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: Soak <smtpPort> <httpPort> <serverPid> [seconds=180] [sessions=50] [readers=50] [messages/s=500] [requests/s=500]");
    return 2;
}

int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
var smtpPort = Arg(0, 0);
var httpPort = Arg(1, 0);
var probe = new ServerProbe(Arg(2, 0));
var seconds = Arg(3, 180);
var sessions = Arg(4, 50);
var readers = Arg(5, 50);
var messageRate = Arg(6, 500);
var requestRate = Arg(7, 500);
var database = args.Length > 8 ? args[8] : null;
long DatabaseBytes() => database is null ? 0 : new[] { database, Path.ChangeExtension(database, null) + "-log" + Path.GetExtension(database) }
    .Where(File.Exists).Sum(f => new FileInfo(f).Length);
const int Inboxes = 10;

var ledger = new Ledger();
var clock = Stopwatch.StartNew();
void Say(string line) => Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1} s] {line}");

Say($"soak: {sessions} SMTP sessions at {messageRate} messages/s in all, {readers} API readers at {requestRate} requests/s in all, {seconds} s; server {probe.Describe()} (cold)");

// Warm-up at the same concurrency, then a settled baseline: what is left after the JIT, pools and caches are made.
var warmUp = Math.Clamp(seconds / 10, 10, 30);
await RunLoadAsync(TimeSpan.FromSeconds(warmUp), "warm-up");
var baseline = await SettleAsync(null);
var baselineDatabase = DatabaseBytes();
Say($"baseline after the warm-up and a GC: {baseline.Rss / 1048576.0:F1} MB RSS, managed heap {baseline.Heap / 1048576.0:F1} MB, {baseline.Files} open files ({baseline.Sockets} sockets)");

var peak = await RunLoadAsync(TimeSpan.FromSeconds(seconds), "load");
var loadMessages = ledger.Messages.Count;

var (missing, listed, counterMismatches, rawChecked, rawBad) = (-1, -1, -1, 0, 0);
try
{
    (missing, listed, counterMismatches, rawChecked, rawBad) = await VerifyAsync();
}
catch (HttpRequestException ex)
{
    ledger.Error($"verification: {ex.Message}");
    Say($"the API failed during the verification: {ex.Message}");
}

Say($"accounted for: {loadMessages} acknowledged, {missing} missing, {listed} listed in {Inboxes} inboxes, {counterMismatches} inbox counters off, {rawChecked} raw messages re-read ({rawBad} differ)");

// LiteDB 5 keeps every page it has read until the database is closed; MailSink closes and reopens it after
// a minute without use (IdleReleaseHostedService, checked every 10 s), so memory is measured once the server
// has been idle for longer than that: back near the baseline with no allowance for the page cache.
// The idle period is part of the scenario (a shared trap between bursts), not a wait for an event.
Say("idle for 75 s, as a shared trap is between bursts");
await Task.Delay(TimeSpan.FromSeconds(75));
var after = await SettleAsync(baseline, deadline: TimeSpan.FromSeconds(30));
Say($"after the load, a minute idle and a GC: {after.Rss / 1048576.0:F1} MB RSS ({(after.Rss - baseline.Rss) / 1048576.0:+0.0;-0.0} MB), managed heap {after.Heap / 1048576.0:F1} MB ({(after.Heap - baseline.Heap) / 1048576.0:+0.0;-0.0} MB), {after.Files} open files ({after.Files - baseline.Files:+0;-0}), of which {after.Sockets} sockets ({after.Sockets - baseline.Sockets:+0;-0}), {after.Threads} threads; peak during the load {peak.Rss / 1048576.0:F1} MB, {peak.Files} files, {peak.Sockets} sockets");

var errors = ledger.ErrorCount;
foreach (var error in ledger.FirstErrors)
    Say("error: " + error);
var memoryOk = after.Rss <= baseline.Rss + RssSlack(baseline.Rss)
               && (after.Heap < 0 || after.Heap <= baseline.Heap + (32L << 20));
Say($"the database grew by {(DatabaseBytes() - baselineDatabase) / 1048576.0:F1} MB");
// Every connection closed; the database handles LiteDB pools per concurrent reader may stay (a bounded pool).
var filesOk = after.Sockets <= baseline.Sockets && after.Files <= peak.Files;
var ok = errors == 0 && missing == 0 && counterMismatches == 0 && rawBad == 0 && memoryOk && filesOk;
Say($"result: {(ok ? "PASS" : "FAIL")}: {errors} errors, {ledger.Sessions} SMTP sessions, {loadMessages} messages acknowledged, {ledger.Requests} API requests, " +
    $"memory {(memoryOk ? "back" : "NOT back")} near baseline, sockets {(filesOk ? "back" : "NOT back")} to baseline");
return ok ? 0 : 1;

// Near baseline: within a quarter of it plus 32 MB.
static long RssSlack(long baseline) => (baseline / 4) + (32L << 20);

async Task<Sample> RunLoadAsync(TimeSpan duration, string phase)
{
    var before = ledger.Messages.Count;
    var requestsBefore = ledger.Requests;
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(60) };
    using var stopReaders = new CancellationTokenSource(duration);
    using var stopSenders = new CancellationTokenSource();
    var senders = Enumerable.Range(0, sessions).Select(i => new SmtpSender(smtpPort, i, Inboxes, (double)messageRate / sessions, ledger).RunAsync(stopSenders.Token)).ToList();
    var apiReaders = Enumerable.Range(0, readers).Select(i => new ApiReader(http, i, Inboxes, (double)requestRate / readers, ledger).RunAsync(stopReaders.Token)).ToList();

    var peak = new Sample(0, 0, 0, 0);
    var phaseClock = Stopwatch.StartNew();
    var all = Task.WhenAll(apiReaders);
    while (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(5))) != all)
    {
        var now = new Sample(probe.RssBytes(), probe.OpenFiles(), probe.Threads(), probe.Sockets());
        peak = new Sample(Math.Max(peak.Rss, now.Rss), Math.Max(peak.Files, now.Files), Math.Max(peak.Threads, now.Threads), Math.Max(peak.Sockets, now.Sockets));
        Say($"{phase}: {ledger.Messages.Count - before} messages, {ledger.Requests - requestsBefore} requests, {ledger.ErrorCount} errors; server {now.Rss / 1048576.0:F1} MB RSS, {now.Files} open files ({now.Sockets} sockets), {now.Threads} threads");
    }

    // Readers first (a waiter's message is sent by a sender), then the senders, each finishing its message.
    stopSenders.Cancel();
    await Task.WhenAll(senders);
    var elapsed = phaseClock.Elapsed.TotalSeconds;
    Say($"{phase} done: {ledger.Messages.Count - before} messages in {elapsed:F0} s ({(ledger.Messages.Count - before) / elapsed:F0}/s), {ledger.Requests - requestsBefore} API requests ({(ledger.Requests - requestsBefore) / elapsed:F0}/s)");
    Say($"API latency so far: {ledger.Latencies()}");
    return peak;
}

async Task<(int Missing, int Listed, int CounterMismatches, int RawChecked, int RawBad)> VerifyAsync()
{
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(60) };
    var listedIds = new HashSet<string>();
    var mismatches = 0;
    for (var i = 0; i < Inboxes; i++)
    {
        var count = 0;
        for (var page = 0; ; page++)
        {
            var items = (await http.GetFromJsonAsync<JsonElement>($"/api/messages?server=soak{i}&itemsPerPage=1000&page={page}")).GetProperty("items");
            foreach (var item in items.EnumerateArray())
                listedIds.Add(item.GetProperty("id").GetString()!);
            count += items.GetArrayLength();
            if (items.GetArrayLength() < 1000)
                break;
        }

        var counter = (await http.GetFromJsonAsync<JsonElement>($"/api/servers/soak{i}")).GetProperty("messages").GetInt64();
        if (counter != count)
        {
            mismatches++;
            ledger.Error($"inbox soak{i}: counter {counter}, listed {count}");
        }
    }

    var missing = ledger.Messages.Keys.Count(id => !listedIds.Contains(id));
    var random = new Random(7);
    var sample = ledger.Messages.Values.OrderBy(_ => random.Next()).Take(3000).ToList();
    var bad = 0;
    await Parallel.ForEachAsync(sample, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (message, token) =>
    {
        var bytes = await http.GetByteArrayAsync($"/api/files/email/{message.Id}", token);
        if (!SHA256.HashData(bytes).AsSpan().SequenceEqual(message.Sha256))
            Interlocked.Increment(ref bad);
    });
    return (missing, listedIds.Count, mismatches, sample.Count, bad);
}

// Collects garbage in the server and waits (with a deadline) until memory and open files settle: near the
// baseline when there is one, otherwise until two readings a second apart agree.
async Task<Sample> SettleAsync(Sample? reference, TimeSpan? deadline = null)
{
    var limit = deadline ?? TimeSpan.FromSeconds(60);
    var clock = Stopwatch.StartNew();
    var last = new Sample(long.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue);
    while (true)
    {
        var heap = probe.CollectGarbage();
        await Task.Delay(TimeSpan.FromSeconds(1));
        var now = new Sample(probe.RssBytes(), probe.OpenFiles(), probe.Threads(), probe.Sockets(), heap);
        var settled = reference is { } b
            ? now.Rss <= b.Rss + RssSlack(b.Rss) && (now.Heap < 0 || now.Heap <= b.Heap + (32L << 20)) && now.Sockets <= b.Sockets
            : Math.Abs(now.Rss - last.Rss) < (4L << 20) && now.Files == last.Files;
        if (settled || clock.Elapsed > limit)
            return now;
        last = now;
    }
}

internal sealed record Sample(long Rss, int Files, int Threads, int Sockets = 0, long Heap = -1);
