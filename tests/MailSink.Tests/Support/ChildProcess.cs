using System.Diagnostics;

namespace MailSink.Tests.Support;

/// <summary>Runs an external program (node, npm) with a deadline, handing each output line over as it comes.</summary>
public static class ChildProcess
{
    /// <summary>
    /// The exit code; past the deadline the process and its children are killed and a
    /// <see cref="TimeoutException"/> is thrown. Standard error lines are prefixed with "stderr: ".
    /// </summary>
    public static async Task<int> RunAsync(ProcessStartInfo start, Action<string> onLine, TimeSpan deadline)
    {
        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                onLine(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                onLine("stderr: " + e.Data);
        };

        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish within {deadline.TotalSeconds:0} s and was killed.");
        }

        // WaitForExitAsync returns once the output pipes are drained, so every line has been handed over.
        return process.ExitCode;
    }

    /// <summary>Hands lines to the test output, ignoring lines that arrive after the test has finished.</summary>
    public static Action<string> To(ITestOutputHelper output) => line =>
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // the test has finished; its output is closed
        }
    };
}
