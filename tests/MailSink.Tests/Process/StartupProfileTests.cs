using MailSink.Tests.Support;

// Not "Process": a namespace of that name would hide System.Diagnostics.Process from all of MailSink.Tests.
namespace MailSink.Tests.Processes;

/// <summary>
/// The start-up profile of multicore JIT (MAILSINK_JIT_PROFILE, docs/performance.md "Start-up: multicore JIT"):
/// written when the process ends, read by the next start, recorded by one process at a time, and no hindrance
/// where it cannot be written.
/// </summary>
public sealed class StartupProfileTests(ITestOutputHelper output)
{
    private const string Profile = "mailsink-startup.jitprofile";

    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_stopped_process_leaves_a_profile_that_the_next_start_uses_while_a_second_process_starts_without_recording()
    {
        using var root = new TempDirectory();
        using var profiles = new TempDirectory();
        var environment = new Dictionary<string, string> { ["MAILSINK_JIT_PROFILE"] = profiles.Path };
        var profile = Path.Combine(profiles.Path, Profile);

        await StartAndStopAsync(root.Path, environment);
        var first = new FileInfo(profile);
        Assert.True(first.Exists, "no profile after a process that started and stopped");
        Assert.True(first.Length > 10_000, $"the profile holds {first.Length} bytes: hardly any method was recorded");
        var firstWritten = first.LastWriteTimeUtc;

        // With the profile there, a start reads it and records again; a second process meanwhile finds the
        // folder taken and starts as usual, without touching the file.
        using var otherRoot = new TempDirectory();
        await using (var recorder = await MailSinkProcess.StartAsync(output, root.Path, environment))
        {
            await using (var second = await MailSinkProcess.StartAsync(output, otherRoot.Path, environment))
            {
                second.Signal(MailSinkProcess.SIGTERM);
                Assert.Equal(0, await second.WaitForExitAsync(ExitDeadline));
            }

            Assert.Equal(firstWritten, new FileInfo(profile).LastWriteTimeUtc);
            recorder.Signal(MailSinkProcess.SIGTERM);
            Assert.Equal(0, await recorder.WaitForExitAsync(ExitDeadline));
        }

        var again = new FileInfo(profile);
        Assert.True(again.LastWriteTimeUtc > firstWritten, "the start that read the profile did not write it again");
        Assert.True(again.Length > 10_000, $"the profile holds {again.Length} bytes after the second start");
    }

    /// <summary>A folder that cannot be written (here: one that does not exist) leaves the start as it was.</summary>
    [Fact]
    public async Task A_profile_folder_that_cannot_be_written_changes_nothing_else()
    {
        using var root = new TempDirectory();
        using var profiles = new TempDirectory();
        await StartAndStopAsync(root.Path, new Dictionary<string, string> { ["MAILSINK_JIT_PROFILE"] = Path.Combine(profiles.Path, "missing") });
        Assert.Empty(Directory.EnumerateFileSystemEntries(profiles.Path));
    }

    private async Task StartAndStopAsync(string root, Dictionary<string, string> environment)
    {
        await using var server = await MailSinkProcess.StartAsync(output, root, environment);
        server.Signal(MailSinkProcess.SIGTERM);
        Assert.Equal(0, await server.WaitForExitAsync(ExitDeadline));
    }
}
