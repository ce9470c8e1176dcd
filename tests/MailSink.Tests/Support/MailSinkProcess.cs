using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MailSink.Tests.Support;

/// <summary>
/// The real MailSink executable as a child process, <c>dotnet MailSink.Server.dll</c>, the way an operator
/// runs it: its own working directory (the content root), its database, HTTP and one plain-text SMTP
/// listener on port 0 of 127.0.0.1, all given as command-line settings. The child binds the ports itself
/// and the ports are read from the lines it logs at start (README, Quick start), so no port is chosen here
/// and then lost to someone else before the child binds it. Its stdout and stderr go to the test output,
/// line by line, and are kept for assertions. Disposing kills it if it is still running.
/// </summary>
public sealed partial class MailSinkProcess : IAsyncDisposable
{
    public const int SIGTERM = 15;

    /// <summary>How long a start may take on a busy two-core machine.</summary>
    public static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly ITestOutputHelper _output;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly Task _exited;

    // What the child reported before "Application started": filled on the stdout reader's thread only,
    // published to other threads by completing _reported.
    private readonly List<int> _smtpPorts = [];
    private readonly List<Uri> _httpAddresses = [];
    private readonly TaskCompletionSource<ReportedPorts> _reported = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private MailSinkProcess(ITestOutputHelper output, string root, IReadOnlyList<string> arguments, string? executable = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        _output = output;
        Root = root;
        Http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) }; // its address once the child has reported it

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

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) =>
        {
            ReadStartupLine(e.Data);
            Capture(_stdout, "out", e.Data);
        };
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

    /// <summary>The port of the first HTTP address the child reported.</summary>
    public int HttpPort => Reported.HttpAddresses[0].Port;

    /// <summary>The first SMTP listener's port: with <see cref="Launch"/>, the plain-text one (<c>Tls=None</c>, AUTH optional).</summary>
    public int SmtpPort => Reported.SmtpPorts[0];

    /// <summary>Every SMTP listener's port, in the order of <c>MailSink:Smtp:Listeners</c>.</summary>
    public IReadOnlyList<int> SmtpPorts => Reported.SmtpPorts;

    /// <summary>A client of the first reported HTTP address (no address before the child has reported it).</summary>
    public HttpClient Http { get; }

    public bool HasExited => _exited.IsCompleted;

    /// <summary>Every stdout line so far.</summary>
    public IReadOnlyList<string> StdOut => [.. _stdout];

    /// <summary>Every stderr line so far.</summary>
    public IReadOnlyList<string> StdErr => [.. _stderr];

    /// <summary>Where <see cref="Launch"/> puts the database unless told otherwise.</summary>
    public static string DatabasePath(string root) => Path.Combine(root, "data", "mailsink.db");

    /// <summary>Starts MailSink and waits until <c>GET /health</c> answers 200.</summary>
    public static Task<MailSinkProcess> StartAsync(ITestOutputHelper output, string root, params string[] settings) =>
        StartAsync(output, root, new Dictionary<string, string>(), settings);

    /// <summary>Starts MailSink with these environment variables besides the runner's, and waits until <c>GET /health</c> answers 200.</summary>
    public static async Task<MailSinkProcess> StartAsync(ITestOutputHelper output, string root, IReadOnlyDictionary<string, string> environment, params string[] settings)
    {
        var process = Launch(output, root, environment, settings);
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
    /// port 0 of 127.0.0.1, <c>Listeners:0</c> plain text, the database in <paramref name="root"/>), so
    /// they override them: for the command line, the last value of a key wins. A test that needs a given
    /// port (one held taken, or a restart on the ports reported before) names it in <paramref name="settings"/>.
    /// </summary>
    public static MailSinkProcess Launch(ITestOutputHelper output, string root, params string[] settings) =>
        Launch(output, root, new Dictionary<string, string>(), settings);

    /// <summary>As <see cref="Launch(ITestOutputHelper, string, string[])"/>, with these environment variables besides the runner's.</summary>
    public static MailSinkProcess Launch(ITestOutputHelper output, string root, IReadOnlyDictionary<string, string> environment, params string[] settings)
    {
        string[] arguments =
        [
            "--urls", "http://127.0.0.1:0",
            "--MailSink:Smtp:BindAddress=127.0.0.1",
            "--MailSink:Smtp:Listeners:0:Port=0",
            "--MailSink:Smtp:Listeners:0:Tls=None",
            $"--MailSink:Storage:Path={DatabasePath(root)}",
            "--Logging:LogLevel:Microsoft.AspNetCore=Warning", // not a line per health poll
            .. settings,
        ];
        return new MailSinkProcess(output, root, arguments, environment: environment);
    }

    /// <summary>
    /// Starts another MailSink executable (the installed dotnet tool's <c>mailsink</c>) in <paramref name="root"/>
    /// with exactly <paramref name="arguments"/>: nothing is added, so its own defaults hold. Give it port 0
    /// and read <see cref="SmtpPorts"/> and <see cref="Http"/> after <see cref="WaitUntilHealthyAsync"/>.
    /// </summary>
    public static MailSinkProcess LaunchCommand(ITestOutputHelper output, string root, string executable, params string[] arguments) =>
        new(output, root, arguments, executable);

    /// <summary>
    /// A port of 127.0.0.1 that was free a moment ago (bound to port 0 and released), for servers of the
    /// tests' own that cannot report a port they chose; a MailSink child binds port 0 itself instead.
    /// </summary>
    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>The status of <c>GET /health</c>, or null when nothing answers or the child has not yet reported its HTTP address.</summary>
    public async Task<HttpStatusCode?> HealthAsync()
    {
        if (Http.BaseAddress is null)
            return null;
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

    /// <summary>Waits until the child has reported its ports (see <see cref="WaitForPortsAsync"/>), then until <c>GET /health</c> answers 200.</summary>
    public async Task WaitUntilHealthyAsync()
    {
        await WaitForPortsAsync();
        await Poll.UntilAsync(
            async () => HasExited
                ? throw new Xunit.Sdk.XunitException($"MailSink exited with code {_process.ExitCode} before it was ready:\n{string.Join('\n', StdErr)}")
                : await HealthAsync() == HttpStatusCode.OK,
            StartDeadline,
            $"MailSink (pid {Pid}) answers GET /health with 200");
        Log("healthy");
    }

    /// <summary>
    /// Waits until the child has logged "Application started." (which the host logs after every service has
    /// started, so after every "SMTP listening on" and "Now listening on" line) and checks that it reported at
    /// least one SMTP listener and one HTTP address. Fails the test with the child's output if it exits first,
    /// reports nothing to listen on, or does not get there within <see cref="StartDeadline"/>.
    /// </summary>
    public async Task WaitForPortsAsync()
    {
        try
        {
            await Task.WhenAny(_reported.Task, _exited).WaitAsync(StartDeadline);
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"MailSink (pid {Pid}) did not report its ports within {StartDeadline.TotalSeconds:0} s:\n{Output()}");
        }

        if (!_reported.Task.IsCompleted)
            throw new Xunit.Sdk.XunitException($"MailSink exited with code {_process.ExitCode} before it reported its ports:\n{Output()}");
        var ports = _reported.Task.Result;
        if (ports.SmtpPorts.Count == 0 || ports.HttpAddresses.Count == 0)
            throw new Xunit.Sdk.XunitException($"MailSink (pid {Pid}) started without an \"SMTP listening on\" and a \"Now listening on\" line:\n{Output()}");
        Log($"reported SMTP on {string.Join(", ", ports.SmtpPorts)}, HTTP on {string.Join(", ", ports.HttpAddresses)}");
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

    private ReportedPorts Reported => _reported.Task.IsCompletedSuccessfully
        ? _reported.Task.Result
        : throw new InvalidOperationException("MailSink has not reported its ports yet: await WaitUntilHealthyAsync or WaitForPortsAsync first.");

    /// <summary>
    /// Reads the start-up lines on the stdout reader's thread, in order: each SMTP listener's and HTTP
    /// address's line, then "Application started.", after which nothing more is read as a port (a later
    /// line may carry text a client sent).
    /// </summary>
    private void ReadStartupLine(string? line)
    {
        if (line is null || _reported.Task.IsCompleted)
            return;
        if (SmtpListening().Match(line) is { Success: true } smtp && IPEndPoint.TryParse(smtp.Groups["endpoint"].Value, out var endpoint))
        {
            _smtpPorts.Add(endpoint.Port);
        }
        else if (HttpListening().Match(line) is { Success: true } http && Uri.TryCreate(http.Groups["url"].Value, UriKind.Absolute, out var url))
        {
            _httpAddresses.Add(url);
        }
        else if (ApplicationStarted().IsMatch(line))
        {
            if (_httpAddresses.Count > 0)
            {
                // A wildcard address is reached through loopback.
                var first = _httpAddresses[0];
                Http.BaseAddress = first.Host is "0.0.0.0" or "[::]" ? new UriBuilder(first) { Host = "127.0.0.1" }.Uri : first;
            }

            _reported.TrySetResult(new ReportedPorts([.. _smtpPorts], [.. _httpAddresses]));
        }
    }

    private string Output() => string.Join('\n', StdOut.Select(l => $"out: {l}").Concat(StdErr.Select(l => $"err: {l}")));

    private sealed record ReportedPorts(IReadOnlyList<int> SmtpPorts, IReadOnlyList<Uri> HttpAddresses);

    /// <summary>The server's own line per SMTP listener, naming the endpoint it really bound: <c>SMTP listening on 127.0.0.1:34039 (TLS None, AUTH Optional)</c>.</summary>
    [GeneratedRegex(@"\bSMTP listening on (?<endpoint>\S+) \(TLS ")]
    private static partial Regex SmtpListening();

    /// <summary>ASP.NET Core's line per HTTP address, port 0 resolved: <c>Now listening on: http://127.0.0.1:46807</c>.</summary>
    [GeneratedRegex(@"\bNow listening on: (?<url>\S+)$")]
    private static partial Regex HttpListening();

    [GeneratedRegex(@"\bApplication started\.")]
    private static partial Regex ApplicationStarted();

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
