using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MailSink.Tests.Support;

/// <summary>
/// The official <c>mailosaur</c> npm client, installed with <c>npm ci</c> from the committed lock file
/// into the test output's <c>Node</c> folder when it is not there yet: once per fixture, and under a
/// file lock so that concurrent test runs sharing the output folder never install over each other.
/// </summary>
public sealed class MailosaurNpmClient : IAsyncLifetime
{
    private const string StampFile = ".mailsink-installed-from-lock";
    private static readonly TimeSpan InstallDeadline = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan LockDeadline = InstallDeadline + TimeSpan.FromMinutes(1);

    /// <summary>Where package.json, package-lock.json, node_modules and the scripts are.</summary>
    public string Folder { get; } = Path.Combine(AppContext.BaseDirectory, "Node");

    /// <summary>What <c>npm ci</c> printed, or why it was not needed.</summary>
    public string InstallLog { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await using var installLock = await LockAsync(Path.Combine(Folder, ".install.lock"));
        if (IsInstalled(out var installed))
        {
            InstallLog = $"mailosaur {installed} already installed in {Folder}";
            return;
        }

        var log = new StringBuilder();
        var start = new ProcessStartInfo("npm") { WorkingDirectory = Folder };
        foreach (var argument in new[] { "ci", "--no-audit", "--no-fund" })
            start.ArgumentList.Add(argument);
        var exitCode = await ChildProcess.RunAsync(start, line => { lock (log) log.AppendLine(line); }, InstallDeadline);
        InstallLog = log.ToString();
        if (exitCode != 0 || !File.Exists(Path.Combine(Folder, "node_modules", "mailosaur", "package.json")))
            throw new InvalidOperationException($"npm ci in {Folder} failed (exit code {exitCode}):\n{InstallLog}");
        await File.WriteAllTextAsync(Path.Combine(Folder, "node_modules", StampFile), LockHash());
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>
    /// Installed by us from this very lock file: the stamp is written after a successful <c>npm ci</c>
    /// (which starts by deleting node_modules), so a half-done or outdated install is never taken.
    /// </summary>
    private bool IsInstalled(out string? version)
    {
        version = null;
        var stamp = Path.Combine(Folder, "node_modules", StampFile);
        var package = Path.Combine(Folder, "node_modules", "mailosaur", "package.json");
        if (!File.Exists(stamp) || !File.Exists(package) || File.ReadAllText(stamp) != LockHash())
            return false;

        using var present = JsonDocument.Parse(File.ReadAllBytes(package));
        version = present.RootElement.GetProperty("version").GetString();
        return true;
    }

    private string LockHash() => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(Folder, "package-lock.json"))));

    /// <summary>An exclusive lock on a file (flock on Unix), polled until the deadline.</summary>
    private static async Task<FileStream> LockAsync(string path)
    {
        var deadline = DateTime.UtcNow + LockDeadline;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
        }
    }
}
