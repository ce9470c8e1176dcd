using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

// HTTP API latency for MailSink's benchmark (bench/run.sh). Two modes:
//
//   api <httpPort> <inboxPrefix> <storedMessages> <iterations>
//     against a store filled by "SmtpLoad ... fill" (message n in inbox <prefix><n%10>, to
//     u<(n/10)%100>@..., subject "load test message <n>"): list one inbox (50 newest), search by
//     sentTo (a recipient with 1% of the inbox), search by subject (one match), get one message.
//     Requests one at a time on a kept-alive connection, after a warm-up; each route gets <iterations>
//     requests (searches a fifth of that), cut short after 30 s once 20 are done.
//
//   await <smtpPort> <httpPort> <rate> <seconds> <sampleEvery> <inboxPrefix>
//     sends 2 KB messages at <rate> a second (open loop, ten SMTP connections, ten inboxes); for every
//     <sampleEvery>-th message a client is already waiting in POST /api/messages/await for it. Measures
//     from the client reading the message's 250 to the waiting client receiving the message.
//
// Prints tab-separated lines: name, count, p50 ms, p99 ms, mean ms, max ms, and a note.
if (args.Length < 1)
    return Usage();

using var http = new HttpClient(new SocketsHttpHandler
{
    MaxConnectionsPerServer = 512,
    PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    UseProxy = false,
})
{ Timeout = TimeSpan.FromSeconds(60) };

switch (args[0])
{
    case "api" when args.Length == 5:
        http.BaseAddress = new Uri($"http://127.0.0.1:{args[1]}/");
        await ApiAsync(http, args[2], int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture));
        return 0;
    case "await" when args.Length == 7:
        http.BaseAddress = new Uri($"http://127.0.0.1:{args[2]}/");
        return await AwaitAsync(
            http,
            int.Parse(args[1], CultureInfo.InvariantCulture),
            int.Parse(args[3], CultureInfo.InvariantCulture),
            int.Parse(args[4], CultureInfo.InvariantCulture),
            int.Parse(args[5], CultureInfo.InvariantCulture),
            args[6]);
    default:
        return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("usage: ApiBench api <httpPort> <inboxPrefix> <storedMessages> <iterations>");
    Console.Error.WriteLine("       ApiBench await <smtpPort> <httpPort> <rate> <seconds> <sampleEvery> <inboxPrefix>");
    return 2;
}

static async Task ApiAsync(HttpClient http, string prefix, int stored, int iterations)
{
    var random = new Random(7);

    // Ids to fetch, from every depth of every inbox.
    var ids = new List<string>();
    for (var k = 0; k < 10; k++)
    {
        using var page = await GetJsonAsync(http, $"api/messages?server={prefix}{k}&itemsPerPage=1000&page={k}");
        foreach (var item in page.RootElement.GetProperty("items").EnumerateArray())
            ids.Add(item.GetProperty("id").GetString()!);
    }

    if (ids.Count == 0)
        throw new InvalidOperationException($"no messages in inboxes {prefix}0..9");

    // Warm-up: every route a few times.
    for (var i = 0; i < 20; i++)
    {
        await ListAsync(http, prefix, i);
        await GetAsync(http, ids[i % ids.Count]);
        await SearchAsync(http, prefix, i % 10, $"{{\"sentTo\":\"u{i}@{prefix}{i % 10}.localhost\"}}");
    }

    var searchIterations = Math.Max(20, iterations / 5);
    // Get first: the list and search requests allocate heavily, and their garbage would be collected
    // during whatever runs next.
    Report("get one message", await MeasureAsync(iterations, _ => GetAsync(http, ids[random.Next(ids.Count)])), "");
    Report("list one inbox, 50 newest", await MeasureAsync(iterations, i => ListAsync(http, prefix, i)), "");

    var items = new List<int>();
    Report("search sentTo (1% of the inbox)", await MeasureAsync(searchIterations, async i =>
    {
        var k = i % 10;
        items.Add(await SearchAsync(http, prefix, k, $"{{\"sentTo\":\"u{random.Next(100)}@{prefix}{k}.localhost\"}}"));
    }), $"items per reply {items.Min()}-{items.Max()}");

    items.Clear();
    Report("search subject (one match)", await MeasureAsync(searchIterations, async i =>
    {
        // Message n is in inbox n % 10; pick one of that inbox at random depth.
        var k = i % 10;
        var n = (random.Next(stored / 10) * 10) + k;
        items.Add(await SearchAsync(http, prefix, k, $"{{\"subject\":\"message {n:D7}\"}}"));
    }), $"items per reply {items.Min()}-{items.Max()}");

    // A body search for text no message holds reads every body of the inbox: the first time from the
    // messages themselves (each raw message unpacked and parsed), right after from the bodies that search
    // kept in memory, as far as MailSink:Storage:SearchCacheMegabytes had room (64 MB hold about three of
    // these inboxes: the fourth and fifth are kept in part or not at all).
    var first = new List<double>();
    var again = new List<double>();
    for (var k = 0; k < 5; k++)
    {
        var clock = Stopwatch.StartNew();
        if (await SearchAsync(http, prefix, k, "{\"body\":\"no message holds this\"}") != 0)
            throw new InvalidOperationException("a body search for absent text found messages");
        first.Add(clock.Elapsed.TotalMilliseconds);
        clock.Restart();
        await SearchAsync(http, prefix, k, "{\"body\":\"nor this\"}");
        again.Add(clock.Elapsed.TotalMilliseconds);
    }

    Report($"search body, absent, first time ({stored / 10:N0} messages read)", first, "one inbox each, 5 inboxes");
    Report("search body, absent, again", again, "the same inbox right after, from what the budget kept");
}

static async Task ListAsync(HttpClient http, string prefix, int i)
{
    using var doc = await GetJsonAsync(http, $"api/messages?server={prefix}{i % 10}&itemsPerPage=50");
    if (doc.RootElement.GetProperty("items").GetArrayLength() != 50)
        throw new InvalidOperationException("list did not return 50 items");
}

static async Task GetAsync(HttpClient http, string id)
{
    using var response = await http.GetAsync($"api/messages/{id}");
    response.EnsureSuccessStatusCode();
    await response.Content.ReadAsByteArrayAsync();
}

static async Task<int> SearchAsync(HttpClient http, string prefix, int k, string criteria)
{
    using var content = new StringContent(criteria, Encoding.UTF8, "application/json");
    using var response = await http.PostAsync($"api/messages/search?server={prefix}{k}&itemsPerPage=50", content);
    response.EnsureSuccessStatusCode();
    using var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
    return doc.RootElement.GetProperty("items").GetArrayLength();
}

static async Task<JsonDocument> GetJsonAsync(HttpClient http, string path)
{
    using var response = await http.GetAsync(path);
    response.EnsureSuccessStatusCode();
    return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
}

// At most count requests, and no more than 30 seconds' worth once 20 are done: a slow route must
// not stretch the whole benchmark (the request count is in the report).
static async Task<List<double>> MeasureAsync(int count, Func<int, Task> request)
{
    var times = new List<double>(count);
    var budget = Stopwatch.StartNew();
    for (var i = 0; i < count && (i < 20 || budget.Elapsed < TimeSpan.FromSeconds(30)); i++)
    {
        var start = Stopwatch.GetTimestamp();
        await request(i);
        times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    return times;
}

static async Task<int> AwaitAsync(HttpClient http, int smtpPort, int rate, int seconds, int sampleEvery, string prefix)
{
    const int connections = 10;
    var total = rate * seconds;
    var dotSent = new long[total];
    var replied = new long[total];
    var visible = new long[total];
    var failures = 0;
    var failureKinds = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
    var body = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog, 0123456789 times over and over.\r\n", 25)));
    var queue = Channel.CreateUnbounded<int>();
    var waiters = new List<Task>();
    const double leadMs = 50; // the waiting client asks this long before its message is sent

    var senders = Enumerable.Range(0, connections).Select(_ => SendAsync()).ToList();
    var clock = Stopwatch.StartNew();
    int next = 0, nextWaiter = 0;
    while (next < total)
    {
        var now = clock.Elapsed.TotalMilliseconds;
        while (nextWaiter < total && (nextWaiter * 1000.0 / rate) - leadMs <= now)
        {
            if (nextWaiter % sampleEvery == 0)
                waiters.Add(WaitAsync(nextWaiter));
            nextWaiter++;
        }

        while (next < total && next * 1000.0 / rate <= now)
            queue.Writer.TryWrite(next++);
        await Task.Delay(1);
    }

    queue.Writer.Complete();
    await Task.WhenAll(senders);
    var sendSeconds = clock.Elapsed.TotalSeconds;
    await Task.WhenAll(waiters);

    var sampled = Enumerable.Range(0, total).Where(i => i % sampleEvery == 0 && visible[i] != 0 && replied[i] != 0).ToList();
    var afterReply = sampled.Select(i => Stopwatch.GetElapsedTime(replied[i], visible[i]).TotalMilliseconds).ToList();
    var afterDot = sampled.Select(i => Stopwatch.GetElapsedTime(dotSent[i], visible[i]).TotalMilliseconds).ToList();
    var replyTimes = Enumerable.Range(0, total).Where(i => replied[i] != 0).Select(i => Stopwatch.GetElapsedTime(dotSent[i], replied[i]).TotalMilliseconds).ToList();
    var achieved = total / sendSeconds;
    var failed = failures == 0 ? "" : $" ({string.Join(", ", failureKinds.Select(k => $"{k.Value} {k.Key}"))})";
    Report("250 to visible to a waiting client", afterReply, $"{achieved:F0} msg/s sent, {sampled.Count} waiters answered, {failures} failed{failed}");
    Report("end of DATA to visible to a waiting client", afterDot, "");
    Report("end of DATA to 250", replyTimes, "");
    return 0; // failures are in the report

    async Task SendAsync()
    {
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, smtpPort);
        var stream = tcp.GetStream();
        var reader = new StreamReader(stream, Encoding.ASCII);
        await Expect(reader, "220");
        await stream.WriteAsync("EHLO bench\r\n"u8.ToArray());
        await Expect(reader, "250");
        await foreach (var i in queue.Reader.ReadAllAsync())
        {
            var to = $"u{i % 100}@{prefix}{i % 10}.localhost";
            var message = Encoding.ASCII.GetBytes(
                $"MAIL FROM:<bench@example.com>\r\nRCPT TO:<{to}>\r\nDATA\r\n");
            await stream.WriteAsync(message);
            await Expect(reader, "250");
            await Expect(reader, "250");
            await Expect(reader, "354");
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"From: Bench <bench@example.com>\r\nTo: {to}\r\nSubject: lat {i:D7}\r\n\r\n"));
            await stream.WriteAsync(body);
            await stream.WriteAsync(".\r\n"u8.ToArray());
            dotSent[i] = Stopwatch.GetTimestamp();
            await Expect(reader, "250");
            replied[i] = Stopwatch.GetTimestamp();
        }

        await stream.WriteAsync("QUIT\r\n"u8.ToArray());
    }

    async Task WaitAsync(int i)
    {
        try
        {
            var after = DateTime.UtcNow.AddSeconds(-1).ToString("o", CultureInfo.InvariantCulture);
            using var content = JsonContent.Create(new { subject = $"lat {i:D7}" });
            using var response = await http.PostAsync(
                $"api/messages/await?server={prefix}{i % 10}&timeout=10000&receivedAfter={Uri.EscapeDataString(after)}", content);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            var at = Stopwatch.GetTimestamp();
            if (response.StatusCode != HttpStatusCode.OK || !Encoding.UTF8.GetString(bytes).Contains($"lat {i:D7}", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref failures);
                failureKinds.AddOrUpdate($"HTTP {(int)response.StatusCode}", 1, (_, n) => n + 1);
                return;
            }

            visible[i] = at;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            Interlocked.Increment(ref failures);
            failureKinds.AddOrUpdate(ex.GetType().Name, 1, (_, n) => n + 1);
        }
    }
}

static async Task Expect(StreamReader reader, string code)
{
    while (true)
    {
        var line = await reader.ReadLineAsync() ?? throw new IOException("connection closed");
        if (!line.StartsWith(code, StringComparison.Ordinal))
            throw new IOException($"expected {code}, got: {line}");
        if (line.Length < 4 || line[3] != '-')
            return;
    }
}

static void Report(string name, List<double> times, string note)
{
    if (times.Count == 0)
    {
        Console.WriteLine($"{name}\t0\t-\t-\t-\t-\t{note}");
        return;
    }

    var sorted = times.Order().ToArray();
    double At(double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"{name}\t{sorted.Length}\t{At(0.50):F2}\t{At(0.99):F2}\t{sorted.Average():F2}\t{sorted[^1]:F2}\t{note}"));
}
