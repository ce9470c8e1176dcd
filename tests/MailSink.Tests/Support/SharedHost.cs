namespace MailSink.Tests.Support;

/// <summary>
/// One MailSink per test class (classes run in parallel, each on its own ports and files); tests in a
/// class share it and keep apart by using their own inboxes.
/// </summary>
public sealed class SharedHost() : ConfiguredHost();

/// <summary>A class fixture: one MailSink started with these settings for the tests of a class.</summary>
public abstract class ConfiguredHost(params string[] settings) : IAsyncLifetime
{
    public MailSinkHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await MailSinkHost.StartAsync(settings);

    public Task DisposeAsync() => Host.DisposeAsync().AsTask();
}
