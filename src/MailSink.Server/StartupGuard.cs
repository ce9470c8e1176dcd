using MailSink.Storage;
using Microsoft.Extensions.Options;

namespace MailSink.Server;

/// <summary>
/// Runs the application and turns the ways it can fail to start (a bad setting, a port in use, an
/// unreadable certificate or database) into one clear line on stderr and exit code 1, not a stack trace.
/// </summary>
internal static class StartupGuard
{
    public static async Task<int> RunAsync(Func<WebApplication> build)
    {
        try
        {
            await using var app = build();
            await app.RunAsync();
            return 0;
        }
        catch (Exception ex) when (Describe(ex) is { } message)
        {
            await Console.Error.WriteLineAsync($"MailSink cannot start: {message}");
            return 1;
        }
    }

    private static string? Describe(Exception ex) => ex switch
    {
        OptionsValidationException validation => string.Join(" ", validation.Failures),
        StartupException startup => startup.Message,
        StorageUnavailableException storage => storage.Message,
        InvalidOperationException { Message: var m } when m.StartsWith("Failed to convert configuration value", StringComparison.Ordinal)
            => $"{m.TrimEnd('.')}: check that key's value.",
        IOException io when io.Message.Contains("Failed to bind", StringComparison.Ordinal)
            => $"{io.Message} Choose another HTTP address with --urls http://127.0.0.1:9000 (or the Urls setting).",
        AggregateException { InnerExceptions.Count: 1 } aggregate => Describe(aggregate.InnerException!),
        _ => null,
    };
}
