using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using MailSink.Tests.Support;

// Not "Process": a namespace of that name would hide System.Diagnostics.Process from all of MailSink.Tests.
namespace MailSink.Tests.Processes;

/// <summary>
/// What an operator sees when the real process cannot start: a non-zero exit and one line on stderr that
/// says what is wrong and what to do, with no stack trace anywhere in the output.
/// </summary>
public sealed partial class StartupFailureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_taken_SMTP_port_stops_the_process_with_one_line_saying_how_to_choose_another()
    {
        using var held = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        held.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        held.Listen();
        var port = ((IPEndPoint)held.LocalEndPoint!).Port;

        var line = await FailedStartAsync($"--MailSink:Smtp:Listeners:0:Port={port}");

        Assert.Contains(port.ToString(CultureInfo.InvariantCulture), line, StringComparison.Ordinal);
        Assert.Contains("Choose another port", line, StringComparison.Ordinal);
        Assert.Contains("--MailSink:Smtp:Listeners:0:Port=", line, StringComparison.Ordinal);
    }

    [Theory]
    // A second listener keeps this case off ports 25/587/465: should the bad item be dropped instead of
    // refused, MailSink would otherwise fall back to its default listeners.
    [InlineData("MailSink:Smtp:Listeners:0:Tls", "--MailSink:Smtp:Listeners:0:Tls=Bogus", "--MailSink:Smtp:Listeners:1:Port=0", "--MailSink:Smtp:Listeners:1:Tls=None")]
    [InlineData("MailSink:Smtp:MaxMessageBytes", "--MailSink:Smtp:MaxMessageBytes=0")]
    [InlineData("MailSink:Smtp:MaxMessageBytes", "--MailSink:Smtp:MaxMessageBytes=lots")]
    [InlineData("MailSink:Storage:SearchCacheMegabytes", "--MailSink:Storage:SearchCacheMegabytes=-1")]
    [InlineData("MailSink:Api:AllowedHosts:0", "--MailSink:Api:AllowedHosts:0=http://mail.example.com")]
    [InlineData("MailSink:Api:AllowedHosts:1", "--MailSink:Api:AllowedHosts:0=mail.example.com", "--MailSink:Api:AllowedHosts:1=mail.example.com:8025")]
    [InlineData("MailSink:Storage:Engine", "--MailSink:Storage:Engine=Oracle")]
    [InlineData("MailSink:Storage:PostgreSql:ConnectionString", "--MailSink:Storage:Engine=PostgreSql")]
    [InlineData("MailSink:Storage:PostgreSql:ConnectionString", "--MailSink:Storage:Engine=PostgreSql", "--MailSink:Storage:PostgreSql:ConnectionString=Hots=db")]
    public async Task A_bad_value_stops_the_process_with_one_line_naming_the_key(string key, params string[] settings)
    {
        var line = await FailedStartAsync(settings);

        Assert.Contains(key, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_PostgreSQL_that_does_not_answer_stops_the_process_with_one_line_naming_the_key()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port; // free again once closed: nothing listens there
        }

        var line = await FailedStartAsync(
            "--MailSink:Storage:Engine=PostgreSql",
            $"--MailSink:Storage:PostgreSql:ConnectionString=Host=127.0.0.1;Port={port};Database=mailsink;Username=mailsink;Timeout=3");

        Assert.Contains("MailSink:Storage:PostgreSql:ConnectionString", line, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}/mailsink", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_certificate_file_stops_the_process_with_one_line_naming_the_key()
    {
        var line = await FailedStartAsync(
            "--MailSink:Smtp:Listeners:0:Tls=Implicit",
            "--MailSink:Smtp:Certificate:Path=/nonexistent.pfx");

        Assert.Contains("MailSink:Smtp:Certificate:Path", line, StringComparison.Ordinal);
        Assert.Contains("/nonexistent.pfx", line, StringComparison.Ordinal);
    }

    /// <summary>Starts MailSink, expects it to exit non-zero with one stderr line and no stack trace; returns the line.</summary>
    private async Task<string> FailedStartAsync(params string[] settings)
    {
        using var root = new TempDirectory();
        await using var server = MailSinkProcess.Launch(output, root.Path, settings);

        var exitCode = await server.WaitForFailedStartAsync();

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(server.StdErr);
        Assert.StartsWith("MailSink cannot start: ", line, StringComparison.Ordinal);
        var trace = server.StdOut.Concat(server.StdErr).Where(l => StackFrame().IsMatch(l) || ExceptionName().IsMatch(l)).ToList();
        Assert.True(trace.Count == 0, $"the output shows a stack trace or exception:\n{string.Join('\n', trace)}");
        return line;
    }

    [GeneratedRegex(@"^\s+at \S+.*\(.*\)")]
    private static partial Regex StackFrame();

    [GeneratedRegex(@"\b[A-Z]\w*Exception\b")]
    private static partial Regex ExceptionName();
}
