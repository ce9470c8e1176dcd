namespace MailSink.Tests.Support;

/// <summary>
/// One MailSink per test class (classes run in parallel, each on its own ports and files); tests in a
/// class share it and keep apart by using their own inboxes.
/// </summary>
public sealed class SharedHost() : ConfiguredHost();

/// <summary>The same on PostgreSQL, in a database of the class's own.</summary>
public sealed class PostgreSqlSharedHost() : PostgreSqlHost();

/// <summary>A class fixture: one MailSink started with these settings for the tests of a class.</summary>
public abstract class ConfiguredHost(params string[] settings) : IAsyncLifetime
{
    public MailSinkHost Host { get; private set; } = null!;

    protected string[] Settings { get; } = settings;

    /// <summary>What the host is started with: <see cref="Settings"/>, and what the fixture adds.</summary>
    protected virtual Task<string[]> SettingsAsync() => Task.FromResult(Settings);

    public async Task InitializeAsync() => Host = await MailSinkHost.StartAsync(await SettingsAsync());

    public virtual Task DisposeAsync() => Host.DisposeAsync().AsTask();
}

/// <summary>A class fixture: one MailSink on PostgreSQL, in a database of the class's own, started with these settings.</summary>
public abstract class PostgreSqlHost(params string[] settings) : ConfiguredHost(settings)
{
    private readonly PostgreSqlDatabase _database = new();

    protected override async Task<string[]> SettingsAsync()
    {
        await _database.InitializeAsync();
        return [.. _database.HostSettings, .. Settings];
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _database.DisposeAsync();
    }
}
