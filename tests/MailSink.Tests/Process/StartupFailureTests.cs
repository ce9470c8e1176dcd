using System.Globalization;
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
        using var held = HeldPorts.Listening(out var port);

        using var root = new TempDirectory();
        var line = await FailedStartAsync(root, $"--MailSink:Smtp:Listeners:0:Port={port}");

        // Nothing was opened before the port was found taken, and nothing says otherwise.
        Assert.False(File.Exists(MailSinkProcess.DatabasePath(root.Path)), "the database was opened by a start that failed on a taken port");
        Assert.Contains(port.ToString(CultureInfo.InvariantCulture), line, StringComparison.Ordinal);
        Assert.Contains("Choose another port", line, StringComparison.Ordinal);
        Assert.Contains("--MailSink:Smtp:Listeners:0:Port=", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_taken_HTTP_port_stops_the_process_before_the_store_is_opened()
    {
        using var held = HeldPorts.Listening(out var port);

        using var root = new TempDirectory();
        var line = await FailedStartAsync(root, "--urls", $"http://127.0.0.1:{port}");

        Assert.False(File.Exists(MailSinkProcess.DatabasePath(root.Path)), "the database was opened by a start that failed on a taken HTTP port");
        Assert.Contains($"http://127.0.0.1:{port}", line, StringComparison.Ordinal);
        Assert.Contains("Choose another HTTP address with --urls http://127.0.0.1:<port>", line, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>*</c> (the default's host) is every address, IPv6 included, as Kestrel binds it: a port another
    /// server holds on <c>[::1]</c> alone is taken for it, and found so before the store is opened.
    /// </summary>
    [Fact]
    public async Task An_HTTP_port_taken_on_ipv6_alone_stops_a_start_on_every_address_before_the_store_is_opened()
    {
        using var held = HeldPorts.ListeningOnIPv6Loopback(out var port);

        using var root = new TempDirectory();
        var line = await FailedStartAsync(root, "--urls", $"http://*:{port}");

        Assert.False(File.Exists(MailSinkProcess.DatabasePath(root.Path)), "the database was opened by a start that failed on a taken HTTP port");
        Assert.Contains($"http://*:{port}", line, StringComparison.Ordinal);
    }

    /// <summary>
    /// Options are checked before any service starts, so the warning about a key that is no setting would
    /// never be logged when that very slip is why the start fails: the failed start's line says it instead.
    /// </summary>
    [Fact]
    public async Task A_start_that_fails_for_a_setting_given_under_a_misspelled_key_names_the_slip()
    {
        using var root = new TempDirectory();
        var line = await FailedStartAsync(root, "--MailSink:Storage:Engine=PostgreSql", "--MailSink:Storage:PostgreSql:ConectionString=Host=127.0.0.1");

        Assert.Contains("MailSink:Storage:PostgreSql:ConnectionString must be set", line, StringComparison.Ordinal);
        Assert.Contains(
            "Also: MailSink:Storage:PostgreSql:ConectionString is not a MailSink setting and is ignored (did you mean MailSink:Storage:PostgreSql:ConnectionString?)",
            line, StringComparison.Ordinal);
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
    [InlineData("MailSink:Analysis:DnsServers", "--MailSink:Analysis:DnsServers:0=dns.example.com")]
    [InlineData("MailSink:Relay:AllowedRecipients:0", "--MailSink:Relay:Host=smtp.example.com", "--MailSink:Relay:AllowedRecipients:0=*@*")]
    [InlineData("MailSink:Webhooks:Endpoints:0:Url", "--MailSink:Webhooks:Endpoints:0:Url=not a url")]
    [InlineData("MailSink:Storage:PostgreSql:ConnectionString", "--MailSink:Storage:Engine=PostgreSql")]
    [InlineData("MailSink:Storage:PostgreSql:ConnectionString", "--MailSink:Storage:Engine=PostgreSql", "--MailSink:Storage:PostgreSql:ConnectionString=Hots=db")]
    public async Task A_bad_value_stops_the_process_with_one_line_naming_the_key(string key, params string[] settings)
    {
        var line = await FailedStartAsync(settings);

        Assert.Contains(key, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--MailSink:Smtp:MaxMessageBytes=abc", "MailSink:Smtp:MaxMessageBytes is 'abc', which is not a whole number of bytes, e.g. 26214400.")]
    [InlineData("--MailSink:Smtp:IdleTimeout=soon", "MailSink:Smtp:IdleTimeout is 'soon', which is not a time span written as [days.]hours:minutes:seconds, e.g. 00:05:00.")]
    [InlineData("--MailSink:Smtp:Auth:Mode=Everyone", "MailSink:Smtp:Auth:Mode is 'Everyone', which is not one of AcceptAny, Users.")]
    public async Task A_value_of_the_wrong_kind_is_named_in_words_not_as_a_dotnet_type(string setting, string expected)
    {
        var line = await FailedStartAsync(setting);

        Assert.Equal($"MailSink cannot start: {expected}", line);
        Assert.DoesNotContain("System.", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_PostgreSQL_that_does_not_answer_stops_the_process_with_one_line_naming_the_key()
    {
        using var down = HeldPorts.Refusing(out var port); // nothing listens there, and nothing can meanwhile

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

    /// <summary>
    /// Issue 12: two processes on one LiteDB file both answered 250 and one's mail was lost. The second
    /// now stops before it binds a port or opens the file, with one line naming the file and the ways out.
    /// </summary>
    [Fact]
    public async Task A_second_process_on_the_same_database_file_stops_with_one_line_before_binding_anything()
    {
        using var root = new TempDirectory();
        await using var first = await MailSinkProcess.StartAsync(output, root.Path);
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(first.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "before", "x"));

        using var otherRoot = new TempDirectory();
        await using var second = MailSinkProcess.Launch(output, otherRoot.Path, $"--MailSink:Storage:Path={MailSinkProcess.DatabasePath(root.Path)}");
        Assert.NotEqual(0, await second.WaitForFailedStartAsync());

        var line = Assert.Single(second.StdErr);
        Assert.StartsWith("MailSink cannot start: The database ", line, StringComparison.Ordinal);
        Assert.Contains(MailSinkProcess.DatabasePath(root.Path), line, StringComparison.Ordinal);
        Assert.Contains("MailSink:Storage:Path", line, StringComparison.Ordinal);
        Assert.Contains("MailSink:Storage:Engine=PostgreSql", line, StringComparison.Ordinal);
        Assert.DoesNotContain(second.StdOut, l => l.Contains("Listening", StringComparison.OrdinalIgnoreCase) || l.Contains("Storage open", StringComparison.Ordinal));

        // The first goes on, with its mail.
        await SmtpSend.MessageAsync(first.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "after", "x"));
        using var listed = await first.Http.GetAsync($"/api/messages?server={inbox}");
        var body = await listed.Content.ReadAsStringAsync();
        Assert.Contains("\"before\"", body, StringComparison.Ordinal);
        Assert.Contains("\"after\"", body, StringComparison.Ordinal);
    }

    /// <summary>Starts MailSink, expects it to exit non-zero with one stderr line and no stack trace; returns the line.</summary>
    private async Task<string> FailedStartAsync(params string[] settings)
    {
        using var root = new TempDirectory();
        return await FailedStartAsync(root, settings);
    }

    private async Task<string> FailedStartAsync(TempDirectory root, params string[] settings)
    {
        await using var server = MailSinkProcess.Launch(output, root.Path, settings);

        var exitCode = await server.WaitForFailedStartAsync();

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(server.StdErr);
        Assert.StartsWith("MailSink cannot start: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(server.StdOut, l => l.Contains("Storage open", StringComparison.Ordinal)); // said only once everything started
        var trace = server.StdOut.Concat(server.StdErr).Where(l => StackFrame().IsMatch(l) || ExceptionName().IsMatch(l)).ToList();
        Assert.True(trace.Count == 0, $"the output shows a stack trace or exception:\n{string.Join('\n', trace)}");
        return line;
    }

    [GeneratedRegex(@"^\s+at \S+.*\(.*\)")]
    private static partial Regex StackFrame();

    [GeneratedRegex(@"\b[A-Z]\w*Exception\b")]
    private static partial Regex ExceptionName();
}
