using System.Runtime;

namespace MailSink.Server;

/// <summary>
/// Multicore JIT for start-up. The methods compiled while MailSink starts are recorded in a profile, written
/// when the process ends; the next start reads it and compiles those methods ahead, on another core, while
/// the main thread builds the host (docs/performance.md, "Start-up: multicore JIT"). The profile lives next
/// to the executable, so that it goes with the build it describes (the runtime leaves out what an older
/// profile says of assemblies that changed since), or in the folder <c>MAILSINK_JIT_PROFILE</c> names;
/// <c>MAILSINK_JIT_PROFILE=off</c> turns it off. One process at a time records (the others start without
/// it): the profile is one file. Where the folder cannot be written, nothing happens.
/// </summary>
internal static class StartupJitProfile
{
    internal const string FileName = "mailsink-startup.jitprofile";
    internal const string Variable = "MAILSINK_JIT_PROFILE";

    // Held for the life of the process, whose end writes the profile.
    private static FileStream? s_recording;

    public static void Start()
    {
        var directory = Environment.GetEnvironmentVariable(Variable) switch
        {
            null or "" => AppContext.BaseDirectory,
            "off" or "0" or "false" => null,
            var named => named,
        };
        if (directory is null)
            return;
        try
        {
            // FileShare.None: an exclusive advisory lock (flock on Unix), let go when the process ends.
            s_recording = new FileStream(Path.Combine(directory, FileName + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return; // another MailSink records into this folder, or it cannot be written
        }

        ProfileOptimization.SetProfileRoot(directory);
        ProfileOptimization.StartProfile(FileName);
    }
}
