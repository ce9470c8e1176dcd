using System.Diagnostics;
using System.Text;

namespace MailSink.Tests.Support;

/// <summary>
/// The real <c>telnet</c> program on a terminal of its own, typed at as a person would: util-linux's
/// <c>script</c> gives it a pseudo-terminal, and keys written here reach it through that terminal, so that
/// Ctrl-C is turned into telnet's interrupt by the terminal and telnet, as on a desk. What telnet shows is
/// collected, and a test waits, with a deadline, for the text it expects to appear on the screen.
/// </summary>
public sealed class TelnetTerminal : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly Process _process;
    private readonly ITestOutputHelper _output;
    private readonly StringBuilder _screen = new();
    private readonly SemaphoreSlim _changed = new(0);
    private readonly Task _reading;
    private int _seen;

    private TelnetTerminal(Process process, ITestOutputHelper output)
    {
        _process = process;
        _output = output;
        _reading = Task.Run(ReadScreenAsync);
    }

    public static TelnetTerminal Open(int port, ITestOutputHelper output)
    {
        ExternalTool.Locate("telnet", "telnet");
        var start = new ProcessStartInfo(ExternalTool.Locate("script", "bsdutils"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--quiet", "--command", $"telnet 127.0.0.1 {port}", "/dev/null" })
            start.ArgumentList.Add(argument);
        start.Environment["TERM"] = "dumb";
        return new TelnetTerminal(Process.Start(start)!, output);
    }

    /// <summary>Keys as typed: "\r" is Enter, "\x03" Ctrl-C.</summary>
    public async Task TypeAsync(string keys)
    {
        _output.WriteLine($"typed: {keys.Replace("\r", "<Enter>", StringComparison.Ordinal).Replace("\x03", "<Ctrl-C>", StringComparison.Ordinal)}");
        await _process.StandardInput.WriteAsync(keys);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Waits until <paramref name="text"/> shows on the screen after what was seen before, and returns the screen up to it.</summary>
    public async Task<string> SeeAsync(string text)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var finished = _reading.IsCompleted;
            string screen;
            lock (_screen)
                screen = _screen.ToString();
            var at = screen.IndexOf(text, _seen, StringComparison.Ordinal);
            if (at >= 0)
            {
                var shown = screen[_seen..(at + text.Length)];
                _seen = at + text.Length;
                return shown;
            }

            if (finished || DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"telnet never showed \"{text}\"; after what was seen before, it showed:\n{screen[_seen..]}");
            await _changed.WaitAsync(TimeSpan.FromMilliseconds(200));
        }
    }

    private async Task ReadScreenAsync()
    {
        var buffer = new char[4096];
        int n;
        while ((n = await _process.StandardOutput.ReadAsync(buffer)) > 0)
        {
            lock (_screen)
                _screen.Append(buffer, 0, n);
            _changed.Release();
        }

        _changed.Release();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        await _reading;
        _output.WriteLine($"telnet's screen:\n{_screen}");
        _process.Dispose();
        _changed.Dispose();
    }
}
