using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace MailSink.Soak;

/// <summary>The server process as /proc shows it (resident memory, open descriptors), and a way to make it collect garbage.</summary>
internal sealed class ServerProbe(int pid)
{
    /// <summary>GCHeapCollect: enabling an EventPipe session with this keyword induces a full, blocking collection (what dotnet-gcdump uses).</summary>
    private const long GcHeapCollectKeyword = 0x800000;

    public long RssBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }

        throw new InvalidOperationException($"no VmRSS for {pid}");
    }

    public int OpenFiles() => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;

    /// <summary>Open descriptors that are sockets: listeners and connections.</summary>
    public int Sockets() => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Count(fd =>
    {
        try
        {
            return new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true;
        }
        catch (IOException)
        {
            return false; // closed meanwhile
        }
    });

    public int Threads() => Directory.GetDirectories($"/proc/{pid}/task").Length;

    /// <summary>Induces a full collection in the server and returns the managed heap size it reports afterwards (GCHeapStats), or -1.</summary>
    public long CollectGarbage()
    {
        const long GcKeyword = 0x1;
        var client = new DiagnosticsClient(pid);
        using var session = client.StartEventPipeSession(
            [new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GcKeyword | GcHeapCollectKeyword)],
            requestRundown: false);
        long heap = -1;
        using var reported = new ManualResetEventSlim();
        var reader = Task.Run(() =>
        {
            using var source = new EventPipeEventSource(session.EventStream);
            source.Clr.GCHeapStats += stats =>
            {
                Interlocked.Exchange(ref heap, stats.GenerationSize0 + stats.GenerationSize1 + stats.GenerationSize2 + stats.GenerationSize3 + stats.GenerationSize4);
                reported.Set();
            };
            source.Process();
        });
        reported.Wait(TimeSpan.FromSeconds(30));
        session.Stop();
        reader.Wait(TimeSpan.FromSeconds(30));
        return Interlocked.Read(ref heap);
    }

    public string Describe() => $"RSS {RssBytes() / 1048576.0:F1} MB, {OpenFiles()} open files ({Sockets()} sockets), {Threads()} threads";
}
