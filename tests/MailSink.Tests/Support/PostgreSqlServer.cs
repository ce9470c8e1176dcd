using System.Diagnostics;
using Npgsql;

namespace MailSink.Tests.Support;

/// <summary>
/// A PostgreSQL server of the tests' own, started the way a user starts one: Debian's binaries
/// (<c>/usr/lib/postgresql/*/bin</c>, the newest), <c>initdb</c> into a new temporary folder, <c>pg_ctl start</c>
/// on a free port of 127.0.0.1, and at the end <c>pg_ctl stop</c> and the folder deleted. PostgreSQL refuses to
/// run as root: as root (CI) it runs as the <c>postgres</c> user, who is given the folder. Tests never use a
/// server someone left running. One is shared by the whole run (<see cref="SharedAsync"/>), started on first
/// use and stopped when the test process exits; a test class takes a database of its own in it
/// (<see cref="PostgreSqlDatabase"/>). A test that must stop its server starts one of its own.
/// </summary>
public sealed class PostgreSqlServer : IAsyncDisposable
{
    private const string Binaries = "/usr/lib/postgresql";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly Lazy<Task<PostgreSqlServer>> Shared = new(StartSharedAsync);

    private readonly TempDirectory _folder;
    private readonly string _bin;
    private int _stopped;

    private PostgreSqlServer(TempDirectory folder, string bin, int port)
    {
        _folder = folder;
        _bin = bin;
        Port = port;
    }

    public int Port { get; }

    private string DataDirectory => Path.Combine(_folder.Path, "data");

    private string SocketDirectory => Path.Combine(_folder.Path, "socket");

    /// <summary>The server every test class shares.</summary>
    public static Task<PostgreSqlServer> SharedAsync() => Shared.Value;

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=10;Command Timeout=60";

    private static async Task<PostgreSqlServer> StartSharedAsync()
    {
        var server = await StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.StopAtExit();
        return server;
    }

    /// <summary>
    /// Stops the server and deletes its folder from a shell of its own: the test host may be ended as soon as
    /// its handlers run, and the folder (some 40 MB) then stayed. Waits a little for it; what it leaves, the
    /// next run removes (<see cref="RemoveAbandoned"/>).
    /// </summary>
    private void StopAtExit()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
            return;
        var stop = $"'{Path.Combine(_bin, "pg_ctl")}' stop -w -m immediate -D '{DataDirectory}'";
        if (Environment.IsPrivilegedProcess)
            stop = $"runuser -u postgres -- {stop}";
        var start = new ProcessStartInfo("sh") { UseShellExecute = false, WorkingDirectory = "/" };
        foreach (var argument in (string[])["-c", $"{stop} >/dev/null 2>&1; rm -rf '{_folder.Path}'"])
            start.ArgumentList.Add(argument);
        using var shell = Process.Start(start);
        shell?.WaitForExit(TimeSpan.FromSeconds(10));
    }

    /// <summary>A new server in a new folder; dispose it to stop it and delete the folder.</summary>
    public static async Task<PostgreSqlServer> StartAsync()
    {
        var bin = FindBinaries();
        RemoveAbandoned();
        var folder = new TempDirectory();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder.Path, "owner.pid"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Directory.CreateDirectory(Path.Combine(folder.Path, "socket"));
            if (Environment.IsPrivilegedProcess)
                await RunAsync("chown", ["-R", "postgres:", folder.Path], asPostgres: false);
            await RunAsync(Path.Combine(bin, "initdb"),
                ["-D", Path.Combine(folder.Path, "data"), "--auth=trust", "-U", "postgres", "--locale=C.UTF-8", "-E", "UTF8", "--no-sync"],
                asPostgres: Environment.IsPrivilegedProcess);
            for (var attempt = 1; ; attempt++)
            {
                var server = new PostgreSqlServer(folder, bin, MailSinkProcess.FreePort());
                try
                {
                    await server.StartServerAsync();
                    return server;
                }
                catch (Xunit.Sdk.XunitException) when (attempt < 3)
                {
                    // the port was taken in between: another one
                }
            }
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <summary>Starts the server again after <see cref="StopServerAsync"/> (tests of a database that goes away and comes back).</summary>
    public Task StartServerAsync() => RunAsync(Path.Combine(_bin, "pg_ctl"),
        ["start", "-w", "-t", "60", "-D", DataDirectory, "-l", Path.Combine(_folder.Path, "server.log"),
            "-o", $"-p {Port} -k {SocketDirectory} -c listen_addresses=127.0.0.1 -c max_connections=300"],
        asPostgres: Environment.IsPrivilegedProcess);

    /// <summary>Stops the server, its folder kept (<paramref name="immediate"/>: without a clean shutdown, as a crash would).</summary>
    public Task StopServerAsync(bool immediate = false) => RunAsync(Path.Combine(_bin, "pg_ctl"),
        ["stop", "-w", "-D", DataDirectory, "-m", immediate ? "immediate" : "fast"], asPostgres: Environment.IsPrivilegedProcess);

    /// <summary>A new, empty database with a unique name; its name.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..16];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return name;
    }

    public async Task DropDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
            return;
        try
        {
            await StopServerAsync(immediate: true);
        }
        catch (Exception ex) when (ex is Xunit.Sdk.XunitException or TimeoutException)
        {
            // already stopped; the folder goes all the same
        }

        _folder.Dispose();
    }

    /// <summary>The newest server binaries Debian installed, or a failure that says what to install.</summary>
    private static string FindBinaries()
    {
        var newest = Directory.Exists(Binaries)
            ? Directory.GetDirectories(Binaries)
                .Select(d => (Dir: d, Version: double.TryParse(Path.GetFileName(d), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(d => File.Exists(Path.Combine(d.Dir, "bin", "initdb")) && File.Exists(Path.Combine(d.Dir, "bin", "pg_ctl")))
                .OrderByDescending(d => d.Version)
                .Select(d => Path.Combine(d.Dir, "bin"))
                .FirstOrDefault()
            : null;
        return newest ?? throw new Xunit.Sdk.XunitException(
            $"PostgreSQL's server programs (initdb, pg_ctl) were not found in {Binaries}/*/bin, and these tests start a server of their own. "
            + "Install Debian's postgresql package (apt-get install postgresql), as .ci/run does.");
    }

    /// <summary>
    /// Servers of earlier test runs that ended without stopping them (a killed test process): each folder
    /// names the process that made it; when that process is gone, its server is stopped and the folder deleted.
    /// </summary>
    private static void RemoveAbandoned()
    {
        var root = Path.Combine(Path.GetTempPath(), "mailsink-tests");
        if (!Directory.Exists(root))
            return;
        foreach (var owner in Directory.GetFiles(root, "owner.pid", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 1 }))
        {
            var folder = Path.GetDirectoryName(owner)!;
            if (!int.TryParse(File.ReadAllText(owner), out var pid) || Directory.Exists($"/proc/{pid}"))
                continue;
            var pidFile = Path.Combine(folder, "data", "postmaster.pid");
            if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var postmaster))
            {
                try
                {
                    Process.GetProcessById(postmaster).Kill(entireProcessTree: true);
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // gone already
                }
            }

            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // another run's cleaning it
            }
        }
    }

    private static async Task RunAsync(string program, string[] arguments, bool asPostgres)
    {
        var start = asPostgres ? new ProcessStartInfo("runuser") : new ProcessStartInfo(program);
        if (asPostgres)
        {
            foreach (var argument in (string[])["-u", "postgres", "--", program])
                start.ArgumentList.Add(argument);
        }

        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.WorkingDirectory = "/";
        var output = new List<string>();
        var exit = await ChildProcess.RunAsync(start, line =>
        {
            lock (output)
                output.Add(line);
        }, Deadline);
        if (exit != 0)
        {
            lock (output)
            {
                throw new Xunit.Sdk.XunitException(
                    $"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {exit}:\n{string.Join('\n', output.TakeLast(30))}");
            }
        }
    }
}

/// <summary>A class fixture: a database of its own for one test class, in the shared server; dropped afterwards.</summary>
public sealed class PostgreSqlDatabase : IAsyncLifetime
{
    private PostgreSqlServer _server = null!;

    public string Name { get; private set; } = "";

    public string ConnectionString { get; private set; } = "";

    /// <summary>The settings that point a MailSink host at this database.</summary>
    public string[] HostSettings =>
        ["--MailSink:Storage:Engine=PostgreSql", $"--MailSink:Storage:PostgreSql:ConnectionString={ConnectionString}"];

    public async Task InitializeAsync()
    {
        _server = await PostgreSqlServer.SharedAsync();
        Name = await _server.CreateDatabaseAsync();
        ConnectionString = _server.ConnectionString(Name);
    }

    public Task DisposeAsync() => _server.DropDatabaseAsync(Name);
}
