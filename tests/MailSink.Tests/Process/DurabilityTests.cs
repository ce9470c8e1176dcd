using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using MailSink.Tests.Support;

// Not "Process": a namespace of that name would hide System.Diagnostics.Process from all of MailSink.Tests.
namespace MailSink.Tests.Processes;

/// <summary>
/// Issue 5, item 1: a message that got <c>250</c> after DATA survives <c>kill -9</c> of the server.
/// <para>
/// Two cycles by default. <c>MAILSINK_DURABILITY_CYCLES=20</c> runs a longer series (bench/durability.sh),
/// <c>MAILSINK_DURABILITY_SEED</c> picks other kill points.
/// </para>
/// </summary>
public sealed class DurabilityTests(ITestOutputHelper output)
{
    private const int Senders = 8;
    private static readonly TimeSpan SendDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Eight sessions pipeline distinct messages (0.2 to 16 KB, one in twenty 64 to 300 KB, UTF-8, lines that
    /// start with a dot, each body in two writes) to the real process. Once the cycle has 40 to 119
    /// acknowledgements, the session that receives the <c>250</c> of a large message sends SIGKILL before it
    /// does anything else: a large commit takes longest, so a <c>250</c> given before its commit reached the
    /// OS would be lost here; the other sessions are anywhere in theirs (half a body on the wire, a body
    /// awaiting its reply). The server then restarts on the same database and must: start without a word on
    /// stderr; answer every acknowledged id of every cycle so far with exactly the bytes sent; list every
    /// acknowledged id, no id twice and nothing never sent; and count in its inbox counter what it lists. The
    /// second cycle does it all again on the database that the first restart recovered (its log folded into
    /// the data file), and checks the first cycle's messages again.
    /// <para>
    /// Nothing here needs volume: a kill needs every session in full flow, which a few dozen messages give
    /// (it was a few hundred a cycle, three cycles). Most of the time is the server's three starts.
    /// </para>
    /// </summary>
    [Fact]
    public async Task Every_message_acknowledged_before_a_SIGKILL_is_there_byte_for_byte_after_the_restart()
    {
        var cycles = EnvironmentNumber("MAILSINK_DURABILITY_CYCLES", 2);
        var random = new Random(EnvironmentNumber("MAILSINK_DURABILITY_SEED", 5));
        using var root = new TempDirectory();
        var inbox = MailSinkHost.NewInbox();
        var acknowledged = new ConcurrentDictionary<string, Sent>();
        var sent = new ConcurrentDictionary<string, Sent>(); // by subject: every message whose body went out
        var clock = Stopwatch.StartNew();
        long totalInDoubt = 0, totalStoredUnacknowledged = 0;

        var server = await MailSinkProcess.StartAsync(output, root.Path);
        try
        {
            for (var cycle = 1; cycle <= cycles; cycle++)
            {
                var target = random.Next(40, 120);
                var before = acknowledged.Count;
                var killing = server;
                var run = new SendRun(server.SmtpPort, inbox, cycle, random.Next(), acknowledged, sent, target, () => killing.Signal(SIGKILL));
                var senders = Enumerable.Range(0, Senders).Select(run.SendUntilFailureAsync).ToArray();

                await Poll.UntilAsync(
                    () => Task.FromResult(run.Killed || senders.Any(s => s.IsFaulted)),
                    SendDeadline,
                    $"a large message is acknowledged after {target} in cycle {cycle} and the server is killed");
                var inDoubt = run.InFlight; // bodies sent whose reply had not come: stored or not, either is right
                Assert.Equal(128 + SIGKILL, await server.WaitForExitAsync(ExitDeadline));
                await Task.WhenAll(senders.Select(s => s.ContinueWith(_ => { }, TaskScheduler.Default)));
                Assert.All(senders, s => Assert.True(s.IsCompletedSuccessfully, s.Exception?.ToString()));
                await server.DisposeAsync();

                server = await MailSinkProcess.StartAsync(output, root.Path);
                Assert.Empty(server.StdErr);
                var check = await VerifyAsync(server, inbox, acknowledged, sent);
                totalInDoubt += inDoubt;
                var storedUnacknowledged = check.StoredUnacknowledged - totalStoredUnacknowledged;
                totalStoredUnacknowledged = check.StoredUnacknowledged;
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"cycle {cycle}: killed after {acknowledged.Count - before} acknowledgements ({inDoubt} bodies awaiting their reply); " +
                    $"restart: acknowledged {acknowledged.Count}, found intact {check.Found}, stored without an acknowledgement {storedUnacknowledged}, " +
                    $"listed {check.Listed} = inbox counter {check.Counter}; {clock.Elapsed.TotalSeconds:F1} s");
                output.WriteLine(line);

                Assert.Equal(acknowledged.Count, check.Found);
                Assert.Equal(check.Listed, check.Counter);
            }
        }
        finally
        {
            await server.DisposeAsync();
        }

        var summary = string.Create(CultureInfo.InvariantCulture,
            $"durability summary: {cycles} SIGKILLs, {acknowledged.Count} acknowledged, {acknowledged.Count} found intact, 0 lost; " +
            $"{totalInDoubt} in doubt at the kills, of which {totalStoredUnacknowledged} were stored; {clock.Elapsed.TotalSeconds:F1} s");
        output.WriteLine(summary);
    }

    private const int SIGKILL = 9;

    private const int LargeMessage = 64 * 1024;

    private sealed record Sent(string Subject, byte[] Stored);

    private sealed record Check(int Found, int StoredUnacknowledged, int Listed, long Counter);

    /// <summary>Every acknowledged id answers with its exact bytes; the listing and the inbox counter agree.</summary>
    private static async Task<Check> VerifyAsync(MailSinkProcess server, string inbox, ConcurrentDictionary<string, Sent> acknowledged, ConcurrentDictionary<string, Sent> sent)
    {
        var found = 0;
        var queue = new ConcurrentQueue<KeyValuePair<string, Sent>>(acknowledged);
        var problems = new ConcurrentQueue<string>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            while (queue.TryDequeue(out var item))
            {
                using var response = await server.Http.GetAsync($"/api/files/email/{item.Key}");
                if (response.StatusCode != HttpStatusCode.OK)
                    problems.Enqueue($"{item.Key} ({item.Value.Subject}): {(int)response.StatusCode}");
                else if (!(await response.Content.ReadAsByteArrayAsync()).AsSpan().SequenceEqual(item.Value.Stored))
                    problems.Enqueue($"{item.Key} ({item.Value.Subject}): bytes differ");
                else
                    Interlocked.Increment(ref found);
            }
        }));
        Assert.True(problems.IsEmpty, $"{problems.Count} acknowledged messages lost or damaged: {string.Join("; ", problems.Take(20))}");

        var listed = new List<(string Id, string Subject)>();
        for (var page = 0; ; page++)
        {
            var items = (await server.GetJsonAsync($"/api/messages?server={inbox}&itemsPerPage=1000&page={page}")).GetProperty("items");
            listed.AddRange(items.EnumerateArray().Select(i => (i.GetProperty("id").GetString()!, i.GetProperty("subject").GetString()!)));
            if (items.GetArrayLength() < 1000)
                break;
        }

        var listedIds = listed.Select(l => l.Id).ToHashSet();
        Assert.True(acknowledged.Keys.All(listedIds.Contains), "an acknowledged message is missing from its inbox's listing");
        Assert.Equal(listed.Count, listedIds.Count);
        var acknowledgedSubjects = acknowledged.Values.Select(s => s.Subject).ToHashSet();
        Assert.All(listed, l => Assert.True(sent.ContainsKey(l.Subject), $"listed message {l.Id} '{l.Subject}' was never sent"));
        var counter = (await server.GetJsonAsync($"/api/servers/{inbox}")).GetProperty("messages").GetInt64();
        return new Check(found, listed.Count(l => !acknowledgedSubjects.Contains(l.Subject)), listed.Count, counter);
    }

    /// <summary>
    /// One cycle's senders: each pipelines MAIL, RCPT and DATA, then the body, until the server dies. The first
    /// session to receive the acknowledgement of a large message once the cycle has <paramref name="target"/>
    /// calls <paramref name="kill"/> at once.
    /// </summary>
    private sealed class SendRun(
        int port, string inbox, int cycle, int seed, ConcurrentDictionary<string, Sent> acknowledged, ConcurrentDictionary<string, Sent> sent, int target, Action kill)
    {
        private int _inFlight;
        private int _acknowledged;
        private int _killing;
        private volatile bool _killed;

        public int InFlight => Volatile.Read(ref _inFlight);

        /// <summary>Whether the target was reached and the kill sent.</summary>
        public bool Killed => _killed;

        public async Task SendUntilFailureAsync(int sender)
        {
            var random = new Random(seed + sender);
            RawSmtpClient client;
            try
            {
                client = await RawSmtpClient.ConnectAsync(port);
                Assert.StartsWith("220 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
                Assert.StartsWith("250", await client.CommandAsync("EHLO durability.example"), StringComparison.Ordinal);
            }
            catch (Exception ex) when (IsConnectionLoss(ex))
            {
                return; // killed before this sender got going
            }

            await using (client)
            {
                for (var n = 0; ; n++)
                {
                    var subject = $"durability {cycle}-{sender}-{n}";
                    var (wire, stored) = Message(random, inbox, subject);
                    try
                    {
                        await client.SendRawAsync(Encoding.ASCII.GetBytes($"MAIL FROM:<s{sender}@durability.example>\r\nRCPT TO:<d@{inbox}.localhost>\r\nDATA\r\n"));
                        Assert.StartsWith("250 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
                        Assert.StartsWith("250 ", await client.ReadReplyAsync(), StringComparison.Ordinal);
                        Assert.StartsWith("354 ", await client.ReadReplyAsync(), StringComparison.Ordinal);

                        sent[subject] = new Sent(subject, stored);
                        Interlocked.Increment(ref _inFlight);
                        var cut = random.Next(wire.Length + 1); // two writes: a kill may find half a body on the wire
                        await client.SendRawAsync(wire[..cut]);
                        await client.SendRawAsync([.. wire[cut..], .. ".\r\n"u8]);
                        var reply = await client.ReadReplyAsync();
                        Assert.StartsWith($"250 OK message stored as ", reply, StringComparison.Ordinal);
                        acknowledged[RawSmtpClient.StoredId(reply)] = new Sent(subject, stored);
                        Interlocked.Decrement(ref _inFlight);
                        if (Interlocked.Increment(ref _acknowledged) >= target && stored.Length >= LargeMessage && Interlocked.Exchange(ref _killing, 1) == 0)
                        {
                            kill(); // before anything else: the commit just acknowledged has had no time to spare
                            _killed = true;
                        }
                    }
                    catch (Exception ex) when (IsConnectionLoss(ex))
                    {
                        return;
                    }
                }
            }
        }

        private static bool IsConnectionLoss(Exception ex) =>
            ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException;
    }

    /// <summary>A distinct message as sent in DATA (dot-stuffed, without the final dot) and as it must be stored.</summary>
    private static (byte[] Wire, byte[] Stored) Message(Random random, string inbox, string subject)
    {
        var lines = new List<string>
        {
            $"Subject: {subject}",
            "From: sender@durability.example",
            $"To: d@{inbox}.localhost",
            $"Message-ID: <{Guid.NewGuid():N}@durability.example>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
        };
        // Mostly small mail, now and then a large one, so that a kill can land inside a long body (and comes as one is acknowledged).
        var size = random.Next(20) == 0 ? random.Next(LargeMessage, 300 * 1024) : random.Next(200, 16 * 1024);
        var length = 0;
        while (length < size)
        {
            var line = random.Next(10) switch
            {
                0 => "." + RandomText(random, random.Next(0, 60)), // stuffed on the wire
                1 => "",
                2 => "Grüße, 日本語, emoji 😀 " + RandomText(random, 20),
                _ => RandomText(random, random.Next(1, 200)),
            };
            lines.Add(line);
            length += line.Length + 2;
        }

        var stored = string.Concat(lines.Select(l => l + "\r\n"));
        var wire = string.Concat(lines.Select(l => (l.StartsWith('.') ? "." + l : l) + "\r\n"));
        return (Encoding.UTF8.GetBytes(wire), Encoding.UTF8.GetBytes(stored));
    }

    private static string RandomText(Random random, int length)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,;:-_!?()";
        return string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
                span[i] = alphabet[r.Next(alphabet.Length)];
        });
    }

    private static int EnvironmentNumber(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
