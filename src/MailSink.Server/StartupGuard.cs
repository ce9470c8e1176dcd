using MailSink.Storage;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;

namespace MailSink.Server;

/// <summary>
/// Runs the application and turns the ways it can fail to start (a bad setting, a port in use, an
/// unreadable certificate or database) into one clear line on stderr and exit code 1, not a stack trace.
/// </summary>
internal static partial class StartupGuard
{
    /// <summary>The category of the host's "Hosting failed to start" error, logged with the whole stack trace.</summary>
    private const string HostLogLevelKey = "Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host";

    public static async Task<int> RunAsync(Func<WebApplication> build)
    {
        List<string> unknownSettings = [];
        try
        {
            await using var app = build();
            // Read now: options are validated before any service starts, so SettingsCheck would not get to
            // say that the setting a failed start asks for was given under a misspelled key.
            unknownSettings = SettingsCheck.UnknownSettings(app.Configuration);
            await StartAsync(app);
            await app.WaitForShutdownAsync();
            return await ExitCodeAsync(app.Services);
        }
        catch (Exception ex) when (Describe(ex) is { } message)
        {
            await Console.Error.WriteLineAsync($"MailSink cannot start: {string.Join(" Also: ", [message, .. unknownSettings])}");
            return 1;
        }
    }

    /// <summary>
    /// 0 after a clean run; 2 when messages could not be stored during it (each was refused with 451 and
    /// logged), so that a CI job or a supervisor that only looks at the exit code still notices.
    /// </summary>
    internal static async Task<int> ExitCodeAsync(IServiceProvider services)
    {
        var failed = services.GetRequiredService<IMessageWriter>().FailedBatches;
        if (failed == 0)
            return 0;
        await Console.Error.WriteLineAsync(
            $"MailSink stopped after storage failures: {failed} batch(es) of messages could not be stored and were refused with 451 (see the log).");
        return 2;
    }

    /// <summary>
    /// Starts the application with the host's own start-failure error silenced: the host logs it (stack trace
    /// and all, on stdout) before rethrowing, and this guard reports the failure itself. The added setting
    /// reloads the logging filters, and removing it once started restores them. A failure the guard cannot
    /// describe still ends the process as an unhandled exception, with its stack trace.
    /// </summary>
    private static async Task StartAsync(WebApplication app)
    {
        if (app.Configuration is not IConfigurationBuilder configuration) // a ConfigurationManager, in practice
        {
            await app.StartAsync();
            return;
        }

        var quiet = new MemoryConfigurationSource { InitialData = [new(HostLogLevelKey, nameof(LogLevel.Critical))] };
        configuration.Sources.Add(quiet);
        await app.StartAsync();
        configuration.Sources.Remove(quiet);
    }

    private static string? Describe(Exception ex) => ex switch
    {
        OptionsValidationException validation => string.Join(" ", validation.Failures),
        StartupException startup => startup.Message,
        StorageUnavailableException storage => storage.Message,
        InvalidOperationException { Message: var m } when ConversionFailure().Match(m) is { Success: true } failure
            => $"{failure.Groups["key"].Value} is '{failure.Groups["value"].Value}', which is not {Expected(failure.Groups["key"].Value, failure.Groups["type"].Value)}.",
        IOException io when io.Message.Contains("Failed to bind", StringComparison.Ordinal)
            => $"{io.Message} Choose another HTTP address with --urls http://127.0.0.1:<port> (or the Urls setting, ASPNETCORE_URLS=http://127.0.0.1:<port>).",
        AggregateException { InnerExceptions.Count: 1 } aggregate => Describe(aggregate.InnerException!),
        _ => null,
    };

    /// <summary>What a value of <paramref name="type"/> (a .NET type name) looks like, in words an operator knows.</summary>
    internal static string Expected(string key, string type) => type switch
    {
        "System.Int64" or "System.Int32" when key.EndsWith("Bytes", StringComparison.Ordinal) => "a whole number of bytes, e.g. 26214400",
        "System.Int64" or "System.Int32" => "a whole number, e.g. 100",
        "System.TimeSpan" => "a time span written as [days.]hours:minutes:seconds, e.g. 00:05:00",
        "System.Boolean" => "true or false",
        _ when EnumNames(type) is { } names => $"one of {string.Join(", ", names)}",
        _ => $"a valid value ({type.Split('.')[^1]})",
    };

    /// <summary>The names of an enum MailSink configures (<c>TlsMode</c>, say), found by its full name.</summary>
    private static string[]? EnumNames(string type) =>
        AppDomain.CurrentDomain.GetAssemblies()
            .Select(a => a.GetType(type, throwOnError: false))
            .FirstOrDefault(t => t is { IsEnum: true }) is { } found
            ? Enum.GetNames(found)
            : null;

    [System.Text.RegularExpressions.GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']+)' to type '(?<type>[^']+)'")]
    private static partial System.Text.RegularExpressions.Regex ConversionFailure();
}
