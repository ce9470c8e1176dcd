using System.Globalization;
using System.Net.Sockets;
using System.Text;
using MailSink.Tests.Support;

namespace MailSink.Tests.Processes;

/// <summary>
/// Memory for message bodies in flight is bounded whatever clients do. Forty clients each send 24 MB of
/// DATA without the final dot to the real server process, whose resident memory is read from /proc:
/// when every body was kept in memory until its end, RSS went from 94 MB to 1,076 MB and stayed there
/// after the clients left. Now bodies wait in memory within MailSink:Smtp:DataMemoryBytes (64 MB by
/// default) and in temporary files past it, and a body is given back when its session ends.
/// </summary>
public sealed class BodyMemoryTests(ITestOutputHelper output)
{
    private const int Clients = 40;
    private const long BodyBytes = 24L * 1024 * 1024;

    /// <summary>What growth over the warm baseline may be: the 64 MB budget, each session's socket buffers and the runtime's slack.</summary>
    private const long AllowedGrowth = 250L * 1024 * 1024;

    [Fact]
    public async Task Forty_unfinished_24_mb_bodies_keep_memory_bounded_and_give_it_back_when_the_clients_leave()
    {
        Assert.True(OperatingSystem.IsLinux(), "this test reads the server's memory from /proc");
        using var root = new TempDirectory();
        var spool = Path.Combine(root.Path, "spool");
        await using var server = await MailSinkProcess.StartAsync(output, root.Path, $"--MailSink:Smtp:SpoolPath={spool}");
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(server.SmtpPort, SmtpSend.Simple($"warm@{inbox}.localhost", "warm-up", "hello"));
        var baseline = Rss(server.Pid);
        var baselineFiles = OpenFiles(server.Pid);
        var baselineTargets = OpenFileTargets(server.Pid);
        output.WriteLine($"baseline: RSS {baseline / 1048576} MB, {baselineFiles} open files");

        var clients = new List<TcpClient>();
        try
        {
            for (var i = 0; i < Clients; i++)
                clients.Add(await StartDataAsync(server.SmtpPort, inbox));

            var line = Encoding.ASCII.GetBytes(new string('x', 998) + "\r\n");
            var block = new byte[64 * 1024 - (64 * 1024 % line.Length)];
            for (var at = 0; at < block.Length; at += line.Length)
                line.CopyTo(block, at);

            long peak = 0;
            var sending = Task.WhenAll(clients.Select(async client =>
            {
                var stream = client.GetStream();
                for (long sent = 0; sent < BodyBytes; sent += block.Length)
                    await stream.WriteAsync(block);
            }));

            // Until the server has read every byte sent (nothing left in any queue of its SMTP connections,
            // /proc/net/tcp), the highest RSS seen; then the bodies are all in flight at once, none finished.
            await Poll.UntilAsync(
                () =>
                {
                    peak = Math.Max(peak, Rss(server.Pid));
                    return Task.FromResult(sending.IsCompleted && QueuedBytes(server.SmtpPort) == 0);
                },
                TimeSpan.FromSeconds(120),
                "the server has read all 40 × 24 MB");
            await sending;
            peak = Math.Max(peak, Rss(server.Pid));
            output.WriteLine($"peak RSS with 40 bodies in flight: {peak / 1048576} MB (+{(peak - baseline) / 1048576} MB)");
            Assert.True(peak - baseline < AllowedGrowth, $"RSS grew by {(peak - baseline) / 1048576} MB with 40 unfinished bodies");
        }
        finally
        {
            foreach (var client in clients)
                client.Dispose();
        }

        // The clients are gone: each session ends and gives back its body (files closed, memory returned).
        try
        {
            await Poll.UntilAsync(() => Task.FromResult(OpenFiles(server.Pid) <= baselineFiles), TimeSpan.FromSeconds(30),
                "the server holds no more files than before the clients came");
        }
        catch (Xunit.Sdk.XunitException)
        {
            // Which ones, so that a failure says what was left open (a body's file, a socket, something else).
            var extra = OpenFileTargets(server.Pid).GroupBy(t => t).Select(g => (g.Key, Count: g.Count() - baselineTargets.Count(b => b == g.Key))).Where(x => x.Count > 0);
            throw new Xunit.Sdk.XunitException($"{OpenFiles(server.Pid)} files open against {baselineFiles} before; more than before: {string.Join(", ", extra.Take(20).Select(x => $"{x.Key} ×{x.Count}"))}");
        }
        var after = Rss(server.Pid);
        output.WriteLine($"after the clients left: RSS {after / 1048576} MB");
        Assert.True(after - baseline < AllowedGrowth, $"RSS stayed {(after - baseline) / 1048576} MB over the baseline");
        Assert.Empty(Directory.GetFiles(spool));

        // And it still takes mail.
        await SmtpSend.MessageAsync(server.SmtpPort, SmtpSend.Simple($"after@{inbox}.localhost", "after", "still here"));
    }

    private static async Task<TcpClient> StartDataAsync(int port, string inbox)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var reader = new StreamReader(client.GetStream(), Encoding.ASCII);
        var writer = client.GetStream();
        await ExpectAsync(reader, "220");
        foreach (var (command, code) in new[] { ("EHLO me", "250"), ("MAIL FROM:<a@b.example>", "250"), ($"RCPT TO:<big@{inbox}.localhost>", "250"), ("DATA", "354") })
        {
            await writer.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
            await ExpectAsync(reader, code);
        }

        return client;
    }

    private static async Task ExpectAsync(StreamReader reader, string code)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = await reader.ReadLineAsync(deadline.Token) ?? throw new IOException("the server closed the connection");
            if (!line.StartsWith(code, StringComparison.Ordinal))
                throw new Xunit.Sdk.XunitException($"expected {code}, got {line}");
            if (line.Length < 4 || line[3] != '-')
                return;
        }
    }

    private static long Rss(int pid) =>
        ProcField($"/proc/{pid}/status", "VmRSS:") * 1024; // in kB

    /// <summary>Bytes waiting in the send and receive queues of every TCP connection to or from <paramref name="port"/> on loopback.</summary>
    private static long QueuedBytes(int port)
    {
        long queued = 0;
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            // sl local_address rem_address st tx_queue:rx_queue ...; addresses as hex IP:port
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var local = int.Parse(fields[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var remote = int.Parse(fields[2].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (local != port && remote != port)
                continue;
            var queues = fields[4].Split(':');
            queued += long.Parse(queues[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                      + long.Parse(queues[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }

        return queued;
    }

    /// <summary>
    /// Descriptors a session could hold (sockets, body files, pipes), not the runtime's own assembly files: an
    /// assembly loaded late (System.Reflection.Metadata, once, for a stack trace) stays open for the life of
    /// the process, and twice made this test fail with nothing left over from the sessions.
    /// </summary>
    private static int OpenFiles(int pid) => OpenFileTargets(pid).Count(t => !t.EndsWith(".dll", StringComparison.Ordinal) && !t.EndsWith(".so", StringComparison.Ordinal));

    /// <summary>What each open descriptor is (a path, <c>socket:[inode]</c> shortened to <c>socket</c>, a pipe...).</summary>
    private static string[] OpenFileTargets(int pid) =>
    [
        .. Directory.GetFiles($"/proc/{pid}/fd").Select(fd =>
        {
            try
            {
                var target = new FileInfo(fd).LinkTarget ?? "?";
                return target.StartsWith("socket:", StringComparison.Ordinal) ? "socket" : target;
            }
            catch (IOException)
            {
                return "closed meanwhile";
            }
        }),
    ];

    private static long ProcField(string path, string name)
    {
        var line = File.ReadLines(path).First(l => l.StartsWith(name, StringComparison.Ordinal));
        return long.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
