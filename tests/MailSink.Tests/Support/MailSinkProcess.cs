using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace MailSink.Tests.Support;

/// <summary>
/// The real MailSink executable as a child process, <c>dotnet MailSink.Server.dll</c>, the way an operator
/// runs it: its own working directory (the content root), its database, free ports of 127.0.0.1 for HTTP
/// and one plain-text SMTP listener, all given as command-line settings. Its stdout and stderr go to the
/// test output, line by line, and are kept for assertions. Disposing kills it if it is still running.
/// </summary>
public sealed class MailSinkProcess : IAsyncDisposable
{
    public const int SIGTERM = 15;

    /// <summary>How long a start may take on a busy two-core machine.</summary>
    public static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly ITestOutputHelper _output;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly Task _exited;

    private MailSinkProcess(ITestOutputHelper output, string root, int httpPort, int smtpPort, IReadOnlyList<string> arguments, string? executable = null)
    {
        _output = output;
        Root = root;
        HttpPort = httpPort;
        SmtpPort = smtpPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(10) };

        var start = new ProcessStartInfo(executable ?? DotnetHost())
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (executable is null)
            start.ArgumentList.Add(ServerDll.Value);
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);

        // Only the command line configures the child: nothing inherited from the test runner's environment.
        foreach (var name in start.Environment.Keys.ToList())
        {
            if (name.StartsWith("MailSink__", StringComparison.OrdinalIgnoreCase) || name.StartsWith("Logging__", StringComparison.OrdinalIgnoreCase) ||
                name is "ASPNETCORE_URLS" or "DOTNET_URLS" or "URLS" or "ASPNETCORE_ENVIRONMENT" or "DOTNET_ENVIRONMENT")
            {
                start.Environment.Remove(name);
            }
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Capture(_stdout, "out", e.Data);
        _process.ErrorDataReceived += (_, e) => Capture(_stderr, "err", e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Pid = _process.Id;
        Log($"started pid {Pid}: dotnet {string.Join(' ', start.ArgumentList)}");
        _exited = _process.WaitForExitAsync(); // also waits for the end of stdout and stderr
    }

    /// <summary>The working directory: content root, home of <c>data/</c> and <c>certs/</c>.</summary>
    public string Root { get; }

    public int Pid { get; }

    public int HttpPort { get; }

    /// <summary>The plain-text SMTP listener (<c>Tls=None</c>, AUTH optional).</summary>
    public int SmtpPort { get; }

    public HttpClient Http { get; }

    public bool HasExited => _exited.IsCompleted;

    /// <summary>Every stdout line so far.</summary>
    public IReadOnlyList<string> StdOut => [.. _stdout];

    /// <summary>Every stderr line so far.</summary>
    public IReadOnlyList<string> StdErr => [.. _stderr];

    /// <summary>Where <see cref="Launch"/> puts the database unless told otherwise.</summary>
    public static string DatabasePath(string root) => Path.Combine(root, "data", "mailsink.db");

    /// <summary>Starts MailSink and waits until <c>GET /health</c> answers 200.</summary>
    public static async Task<MailSinkProcess> StartAsync(ITestOutputHelper output, string root, params string[] settings)
    {
        var process = Launch(output, root, settings);
        try
        {
            await process.WaitUntilHealthyAsync();
            return process;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Starts MailSink without waiting. <paramref name="settings"/> come after the defaults (HTTP and SMTP on
    /// free ports of 127.0.0.1, <c>Listeners:0</c> plain text, the database in <paramref name="root"/>), so
    /// they override them: for the command line, the last value of a key wins.
    /// </summary>
    public static MailSinkProcess Launch(ITestOutputHelper output, string root, params string[] settings)
    {
        var (httpPort, smtpPort) = TwoFreePorts();
        string[] arguments =
        [
            "--urls", $"http://127.0.0.1:{httpPort}",
            "--MailSink:Smtp:BindAddress=127.0.0.1",
            $"--MailSink:Smtp:Listeners:0:Port={smtpPort}",
            "--MailSink:Smtp:Listeners:0:Tls=None",
            $"--MailSink:Storage:Path={DatabasePath(root)}",
            "--Logging:LogLevel:Microsoft.AspNetCore=Warning", // not a line per health poll
            .. settings,
        ];
        return new MailSinkProcess(output, root, httpPort, smtpPort, arguments);
    }

    /// <summary>
    /// Starts another MailSink executable (the installed dotnet tool's <c>mailsink</c>) in <paramref name="root"/>
    /// with exactly <paramref name="arguments"/>: nothing is added, so its own defaults hold.
    /// </summary>
    public static MailSinkProcess LaunchCommand(ITestOutputHelper output, string root, string executable, int httpPort, int smtpPort, params string[] arguments) =>
        new(output, root, httpPort, smtpPort, arguments, executable);

    /// <summary>Two different free ports: both are held while the second is chosen (released one by one, the kernel may hand out the same port twice).</summary>
    public static (int First, int Second) TwoFreePorts()
    {
        using var first = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var second = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        first.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        second.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (((IPEndPoint)first.LocalEndPoint!).Port, ((IPEndPoint)second.LocalEndPoint!).Port);
    }

    /// <summary>A port of 127.0.0.1 that was free a moment ago (bound to port 0 and released).</summary>
    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>The status of <c>GET /health</c>, or null when nothing answers.</summary>
    public async Task<HttpStatusCode?> HealthAsync()
    {
        try
        {
            using var response = await Http.GetAsync("/health");
            return response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public async Task WaitUntilHealthyAsync()
    {
        await Poll.UntilAsync(
            async () => HasExited
                ? throw new Xunit.Sdk.XunitException($"MailSink exited with code {_process.ExitCode} before it was ready:\n{string.Join('\n', StdErr)}")
                : await HealthAsync() == HttpStatusCode.OK,
            StartDeadline,
            $"MailSink (pid {Pid}) answers GET /health with 200");
        Log("healthy");
    }

    /// <summary>
    /// For a start that must fail: waits until the process exits (returning its exit code) or, if it comes up
    /// healthy after all, fails the test at once instead of waiting out the deadline.
    /// </summary>
    public async Task<int> WaitForFailedStartAsync()
    {
        await Poll.UntilAsync(
            async () => HasExited || (await HealthAsync() == HttpStatusCode.OK
                ? throw new Xunit.Sdk.XunitException($"MailSink started and is healthy although its start should have failed:\n{string.Join('\n', StdOut)}")
                : false),
            StartDeadline,
            $"MailSink (pid {Pid}) exits");
        await _exited;
        return _process.ExitCode;
    }

    /// <summary>Sends a POSIX signal, as <c>kill -SIG pid</c> would.</summary>
    public void Signal(int signal)
    {
        Log($"sending signal {signal}");
        if (Kill(Pid, signal) != 0)
            throw new InvalidOperationException($"kill({Pid}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Waits for the process to exit by itself and returns its exit code; fails the test at the deadline.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _exited.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"MailSink (pid {Pid}) did not exit within {timeout.TotalSeconds:0} s.");
        }

        Log($"exited with code {_process.ExitCode}");
        return _process.ExitCode;
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    public async Task<byte[]> GetBytesAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}");
        return await response.Content.ReadAsByteArrayAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!HasExited)
        {
            Log("still running at dispose: killing it");
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // it exited meanwhile
            }

            try
            {
                await _exited.WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
                Log("did not die within 30 s of SIGKILL");
            }
        }

        _process.Dispose();
    }

    private void Capture(ConcurrentQueue<string> lines, string stream, string? line)
    {
        if (line is null)
            return;
        lines.Enqueue(line);
        Log($"{stream}: {line}");
    }

    private void Log(string line)
    {
        try
        {
            _output.WriteLine($"[mailsink {Pid}] {line}");
        }
        catch (InvalidOperationException)
        {
            // the test has finished; its output is closed
        }
    }

    /// <summary>The dotnet host running these tests (the SDK sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>
    /// MailSink.Server.dll with its runtimeconfig.json: the test project references the server, so the SDK
    /// copies both next to the tests; failing that, the server's own output folder of the same configuration.
    /// </summary>
    private static readonly Lazy<string> ServerDll = new(() =>
    {
        var here = AppContext.BaseDirectory;
        var beside = Path.Combine(here, "MailSink.Server.dll");
        if (File.Exists(beside) && File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json")))
            return beside;

        var configuration = typeof(MailSinkProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var framework = new DirectoryInfo(here.TrimEnd(Path.DirectorySeparatorChar)).Name;
        for (var dir = new DirectoryInfo(here); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "MailSink.Server", "bin", configuration, framework, "MailSink.Server.dll");
            if (File.Exists(candidate) && File.Exists(Path.ChangeExtension(candidate, ".runtimeconfig.json")))
                return candidate;
        }

        throw new InvalidOperationException(
            $"MailSink.Server.dll with its runtimeconfig.json is neither in {here} nor in src/MailSink.Server/bin/{configuration}/{framework}: build the solution first.");
    });

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
