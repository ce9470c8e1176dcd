using System.Diagnostics;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailSink.Tests.Support;

namespace MailSink.Tests.Processes;

/// <summary>
/// The server packed as a dotnet tool, installed into a temporary tool path from the packed package, and run
/// as <c>mailsink</c> from an empty folder: the same defaults as <c>dotnet run</c>, its data beside it.
/// </summary>
public sealed class DotnetToolTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan PackDeadline = TimeSpan.FromMinutes(4);
    private readonly TempDirectory _work = new();

    private string Tool => Path.Combine(_work.Path, "tools", "mailsink");

    public async Task InitializeAsync()
    {
        try
        {
            await PackAndInstallAsync();
        }
        catch
        {
            _work.Dispose(); // a failed set-up is not followed by DisposeAsync: its folder would stay
            throw;
        }
    }

    private async Task PackAndInstallAsync()
    {
        var repository = Repository.Root;
        var packages = Path.Combine(_work.Path, "packages");
        await RunAsync("dotnet", repository, "pack", Path.Combine(repository, "src", "MailSink.Server"), "-c", "Release", "-o", packages, "--nologo", "-v", "q");
        await RunAsync("dotnet", _work.Path, "tool", "install", "MailSink", "--tool-path", Path.Combine(_work.Path, "tools"), "--add-source", packages, "--version", "0.2.0");
        Assert.True(File.Exists(Tool), $"no {Tool} after the install");
        // One package per runtime: this machine's, precompiled, when it is linux-x64; the portable one elsewhere.
        Assert.True(File.Exists(Path.Combine(packages, "MailSink.linux-x64.0.2.0.nupkg")) && File.Exists(Path.Combine(packages, "MailSink.any.0.2.0.nupkg")),
            string.Join(", ", Directory.GetFiles(packages).Select(Path.GetFileName)));
        if (System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier == "linux-x64")
            Assert.True(Directory.Exists(Path.Combine(_work.Path, "tools", ".store", "mailsink", "0.2.0", "mailsink.linux-x64")), "the linux-x64 package was not the one installed");
    }

    public Task DisposeAsync()
    {
        _work.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task The_installed_tool_runs_from_an_empty_folder_with_the_default_listener_slots()
    {
        var help = await RunAsync(Tool, _work.Path, "--help");
        Assert.Contains("Usage: mailsink", help);
        Assert.Contains("--MailSink:Smtp:Listeners:0:Port=25", help);
        // The help sends a tool user to the README for every setting: it is in the installed package.
        Assert.Contains("Configuration table of MailSink's README", help);
        var readmes = Directory.GetFiles(Path.Combine(_work.Path, "tools", ".store"), "README.md", SearchOption.AllDirectories);
        Assert.NotEmpty(readmes); // the runtime's package and the one that points at it
        Assert.All(readmes, readme => Assert.Contains("| `MailSink:Smtp:MaxMessageBytes` |", File.ReadAllText(readme)));

        var folder = Path.Combine(_work.Path, "empty");
        Directory.CreateDirectory(folder);
        await using var server = MailSinkProcess.LaunchCommand(output, folder, Tool,
            "--urls", "http://127.0.0.1:0", "--MailSink:Smtp:BindAddress=127.0.0.1",
            "--MailSink:Smtp:Listeners:0:Port=0", "--MailSink:Smtp:Listeners:1:Port=0", "--MailSink:Smtp:Listeners:2:Port=0");
        await server.WaitUntilHealthyAsync();
        Assert.Equal(3, server.SmtpPorts.Count);
        var (starttls, submission, implicitTls) = (server.SmtpPorts[0], server.SmtpPorts[1], server.SmtpPorts[2]);

        // Slots 0 and 1 offer STARTTLS, slot 2 is TLS from the first byte, as the README says.
        foreach (var (port, security) in new[] { (starttls, SecureSocketOptions.StartTls), (submission, SecureSocketOptions.StartTls), (implicitTls, SecureSocketOptions.SslOnConnect) })
        {
            using var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
            await client.ConnectAsync("127.0.0.1", port, security);
            Assert.True(client.IsSecure);
            await client.SendAsync(SmtpSend.Simple("a@tool.localhost", $"through {port}", "x"));
            await client.DisconnectAsync(true);
        }

        var listed = (await server.GetJsonAsync("/api/messages?server=tool")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(3, listed.Count);
        Assert.True(File.Exists(Path.Combine(folder, "data", "mailsink.db")), "the store is in the folder it was started from");
        Assert.True(File.Exists(Path.Combine(folder, "certs", "mailsink.pfx")), "so is its certificate");
        Assert.Contains(server.StdOut, l => l.Contains($"Storage open at {Path.Combine(folder, "data", "mailsink.db")}", StringComparison.Ordinal));

        server.Signal(MailSinkProcess.SIGTERM);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    private async Task<string> RunAsync(string command, string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { WorkingDirectory = folder };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        var lines = new System.Text.StringBuilder();
        var exit = await ChildProcess.RunAsync(start, line =>
        {
            lock (lines)
                lines.AppendLine(line);
            output.WriteLine(line);
        }, PackDeadline);
        Assert.True(exit == 0, $"{command} {string.Join(' ', arguments)} exited with {exit}:\n{lines}");
        return lines.ToString();
    }
}
