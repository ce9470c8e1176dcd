using System.Diagnostics;
using System.Text;

namespace MailSink.Tests.Support;

/// <summary>
/// Runs a real client program (swaks, openssl) with arguments and optional standard input, with a
/// deadline, its output going to the test output. A missing tool fails the test with what to install:
/// these tests prove what only the real tools show, so they must not pass by skipping (.ci/run installs them).
/// </summary>
public static class ExternalTool
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static async Task<Result> RunAsync(ITestOutputHelper output, string tool, IEnumerable<string> arguments, string? stdin = null)
    {
        var path = Locate(tool);
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        output.WriteLine($"$ {tool} {string.Join(' ', start.ArgumentList.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a))}");

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            // Bytes as given: no newline translation (openssl must send bare LF line ends).
            var bytes = new UTF8Encoding(false).GetBytes(stdin);
            try
            {
                await process.StandardInput.BaseStream.WriteAsync(bytes);
                await process.StandardInput.BaseStream.FlushAsync();
            }
            catch (IOException ex)
            {
                output.WriteLine($"{tool} stopped reading its input: {ex.Message}");
            }
        }

        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // the tool has already exited; its output says why
        }
        try
        {
            await process.WaitForExitAsync().WaitAsync(Deadline);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            output.WriteLine($"{tool} stdout:\n{await stdout}\n{tool} stderr:\n{await stderr}");
            throw new Xunit.Sdk.XunitException($"{tool} did not finish within {Deadline.TotalSeconds:0} s");
        }

        var result = new Result(process.ExitCode, await stdout, await stderr);
        output.WriteLine($"{tool} exited with {result.ExitCode}\n--- stdout\n{result.StdOut}\n--- stderr\n{result.StdErr}");
        return result;
    }

    /// <summary>The program's path on PATH; a missing one fails the test naming the Debian <paramref name="packages"/> to install.</summary>
    public static string Locate(string tool, string packages = "swaks openssl libnet-ssleay-perl")
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
                return candidate;
        }

        throw new Xunit.Sdk.XunitException(
            $"{tool} is not installed, and this test needs the real program. Install it (Debian/Ubuntu: " +
            $"apt-get install {packages}), as .ci/run does.");
    }
}
