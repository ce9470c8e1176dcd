using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using MailSink.Storage;
using MailSink.Storage.Ingest;
using Microsoft.Extensions.DependencyInjection;

// Storage under concurrent reads, without SMTP or HTTP in the way: the MailSink application in process (the
// composition root of the server, its own temp folder, listeners on free loopback ports that nothing uses),
// eight tasks filing messages through MessageIngest (the same group commit that answers 250) and N tasks
// reading through the storage seam as the API does (list, search, find, raw). It stops at the first
// exception or after the given time, then opens the database again and checks that every acknowledged
// message is there byte for byte. Reproduces docs/reliability.md findings 5 and 6.
// Usage: StorageRace [seconds=180] [readers=4]. Exit code 1 when a storage operation failed.
var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 180;
var readerCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4;
var root = Path.Combine(Path.GetTempPath(), "mailsink-storage-race-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(root);
string[] settings =
[
    $"--contentRoot={root}", "--urls=http://127.0.0.1:0", "--MailSink:Smtp:BindAddress=127.0.0.1",
    "--MailSink:Smtp:Listeners:0:Port=0", "--MailSink:Smtp:Listeners:0:Tls=None", "--Logging:LogLevel:Default=Warning",
];

var acknowledged = new ConcurrentDictionary<string, byte[]>();
var ids = new ConcurrentQueue<string>();
Exception? failure = null;
long reads = 0;
var clock = Stopwatch.StartNew();
void Say(string line) => Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:F0} s] {line}");
long FolderBytes() => new DirectoryInfo(root).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

Say($"{readerCount} readers and 8 writers for at most {seconds} s in {root}");
var app = MailSink.Server.Program.Build(settings);
await app.StartAsync();
var ingest = app.Services.GetRequiredService<MessageIngest>();
var repository = app.Services.GetRequiredService<IMessageRepository>();
using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds)))
{
    var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
    {
        var random = new Random(w);
        for (var n = 0; !stop.IsCancellationRequested && failure is null; n++)
        {
            var inbox = $"race{random.Next(10)}";
            var text = new StringBuilder($"Subject: race {w}-{n}\r\nFrom: w{w}@race.example\r\nTo: a@{inbox}.localhost\r\n\r\n");
            var size = random.Next(1_000, 16_000);
            while (text.Length < size)
                text.Append("lorem ipsum dolor sit amet ").Append(random.Next()).Append("\r\n");
            var raw = Encoding.ASCII.GetBytes(text.ToString());
            try
            {
                var envelope = new SmtpEnvelope($"w{w}@race.example", [$"a@{inbox}.localhost"], "race.example", "127.0.0.1:1", null, null, false);
                var stored = await ingest.IngestAsync(raw, envelope, CancellationToken.None);
                acknowledged[stored[0].Id] = raw; // what a 250 would have promised
                ids.Enqueue(stored[0].Id);
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref failure, ex, null);
            }
        }
    })).ToList();

    var readers = Enumerable.Range(0, readerCount).Select(i => Task.Run(async () =>
    {
        var random = new Random(100 + i);
        string[] known = [];
        while (!stop.IsCancellationRequested && failure is null)
        {
            try
            {
                var inbox = $"race{random.Next(10)}";
                if (random.Next(100) == 0 || known.Length == 0)
                    known = [.. ids];
                switch (random.Next(4))
                {
                    case 0:
                        await repository.ListAsync(inbox, random.Next(0, 200), random.Next(1, 100), null, default);
                        break;
                    case 1:
                        await repository.SearchAsync(inbox, new SearchCriteria(null, null, null, "ipsum " + random.Next(), SearchMatch.All), 0, 10, null, default);
                        break;
                    case 2 when known.Length > 0:
                        await repository.GetAsync(known[random.Next(known.Length)], default);
                        break;
                    case 3 when known.Length > 0:
                        await repository.GetRawAsync(known[random.Next(known.Length)], default);
                        break;
                }

                Interlocked.Increment(ref reads);
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref failure, ex, null);
            }
        }
    })).ToList();

    var all = Task.WhenAll(writers.Concat(readers));
    while (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(5))) != all)
        Say($"{acknowledged.Count} messages acknowledged, {Interlocked.Read(ref reads)} reads, {FolderBytes() >> 20} MB on disk");
}

Say(failure is null
    ? $"no failure: {acknowledged.Count} messages acknowledged, {reads} reads"
    : $"FAILED: {acknowledged.Count} messages acknowledged, {reads} reads; {failure.GetType().FullName}: {failure.Message}\n" +
      string.Join('\n', (failure.StackTrace ?? "").Split('\n').Take(8)));
try
{
    await app.StopAsync();
    await app.DisposeAsync();
}
catch (Exception ex)
{
    Say($"stopping: {ex.GetType().Name}: {ex.Message}");
}

// The same database opened again: a failure in memory must not have cost an acknowledged message.
var reopened = MailSink.Server.Program.Build(settings);
await reopened.StartAsync();
var check = reopened.Services.GetRequiredService<IMessageRepository>();
int intact = 0, lost = 0;
foreach (var (id, raw) in acknowledged)
{
    if (await check.GetRawAsync(id, default) is { } bytes && bytes.AsSpan().SequenceEqual(raw))
        intact++;
    else
        lost++;
}

Say($"reopened: {acknowledged.Count} acknowledged, {intact} intact, {lost} missing or damaged");
await reopened.StopAsync();
await reopened.DisposeAsync();
Directory.Delete(root, recursive: true);
return failure is null && lost == 0 ? 0 : 1;
