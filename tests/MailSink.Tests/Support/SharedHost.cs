namespace MailSink.Tests.Support;

/// <summary>
/// One MailSink per test class (classes run in parallel, each on its own ports and files); tests in a
/// class share it and keep apart by using their own inboxes.
/// </summary>
public sealed class SharedHost : IAsyncLifetime
{
    public MailSinkHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await MailSinkHost.StartAsync();

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
