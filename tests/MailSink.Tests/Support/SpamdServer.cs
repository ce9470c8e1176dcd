using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace MailSink.Tests.Support;

/// <summary>
/// A class fixture: SpamAssassin's own spamd (Debian's <c>spamd</c> package, installed by .ci/run), started
/// for the tests on a free loopback port with local tests only (no DNS or network rules), and stopped after.
/// Ready once it answers PING with PONG. Never a spamd someone left running.
/// </summary>
public sealed class SpamdServer : IAsyncLifetime
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromMinutes(2);
    private readonly TempDirectory _folder = new();
    private Process? _process;
    private readonly StringBuilder _log = new();

    public int Port { get; private set; }

    /// <summary>What points a MailSink host at this spamd.</summary>
    public string[] HostSettings => ["--MailSink:Analysis:SpamAssassin:Host=127.0.0.1", $"--MailSink:Analysis:SpamAssassin:Port={Port}"];

    public async Task InitializeAsync()
    {
        var spamd = new[] { "/usr/sbin/spamd", "/usr/bin/spamd" }.FirstOrDefault(File.Exists)
                    ?? throw new InvalidOperationException("spamd is not installed (Debian: apt-get install spamd; .ci/run installs it).");
        Port = MailSinkProcess.FreePort();
        var start = new ProcessStartInfo(spamd) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
                 {
                     $"--listen=127.0.0.1:{Port}", "--allowed-ips=127.0.0.1", "--local", "--nouser-config",
                     "--min-children=1", "--max-children=2", $"--pidfile={Path.Combine(_folder.Path, "spamd.pid")}",
                     "--syslog=stderr", $"--helper-home-dir={_folder.Path}",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        if (Environment.UserName == "root")
        {
            start.ArgumentList.Add("--username=nobody"); // spamd will not run its children as root
            start.ArgumentList.Add("--groupname=nogroup");
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Capture(e.Data);
        _process.ErrorDataReceived += (_, e) => Capture(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var clock = Stopwatch.StartNew();
        while (!await PongAsync())
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"spamd exited with {_process.ExitCode} before it was ready:\n{Log()}");
            if (clock.Elapsed > StartDeadline)
                throw new InvalidOperationException($"spamd did not answer PING within {StartDeadline.TotalSeconds:0} s:\n{Log()}");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _process?.Dispose();
        _folder.Dispose();
    }

    private void Capture(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
    }

    private string Log()
    {
        lock (_log)
            return _log.ToString();
    }

    private async Task<bool> PongAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.ConnectAsync("127.0.0.1", Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING SPAMC/1.5\r\n\r\n"u8.ToArray(), timeout.Token);
            client.Client.Shutdown(SocketShutdown.Send);
            using var reader = new StreamReader(stream, Encoding.ASCII);
            return (await reader.ReadLineAsync(timeout.Token))?.EndsWith("PONG", StringComparison.Ordinal) == true;
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }
}
