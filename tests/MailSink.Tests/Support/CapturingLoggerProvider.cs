using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace MailSink.Tests.Support;

/// <summary>
/// Keeps every log entry of an in-process MailSink as text: category, event id, the formatted message, every
/// structured value, the active scopes and any exception. Add it with
/// <c>host.Services.GetRequiredService&lt;ILoggerFactory&gt;().AddProvider(...)</c>; the host's log levels still
/// decide what reaches it.
/// </summary>
public sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<string> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<string> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class CapturingLogger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var entry = new StringBuilder($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)}");
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                    entry.Append(" | ").Append(key).Append('=').Append(value);
            }

            provider._scopes.ForEachScope((scope, text) => text.Append(" | scope ").Append(scope), entry);
            if (exception is not null)
                entry.Append(" | ").Append(exception);
            provider._entries.Enqueue(entry.ToString());
        }
    }
}
