using MailSink.Tests.Support;

namespace MailSink.Tests.Smtp;

/// <summary>
/// Issue 15: recorded sessions (Smtp/Transcripts/*.txt) replayed through the session adapter, the library
/// and the store without a socket, so that the wording and order of every reply in a session a person
/// types is pinned down line by line. The socket tests beside these keep proving the transport.
/// </summary>
public sealed class TranscriptTests(SharedHost shared) : IClassFixture<SharedHost>, IAsyncLifetime
{
    private InMemorySmtp _smtp = null!;

    public Task InitializeAsync()
    {
        _smtp = new InMemorySmtp(shared.Host.Services);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _smtp.DisposeAsync();

    public static IEnumerable<object[]> Transcripts() => Transcript.Names();

    [Theory]
    [MemberData(nameof(Transcripts))]
    public async Task Session_replies_as_recorded(string transcript)
    {
        await Transcript.ReplayAsync(transcript, _smtp.Connect(), shared.Host);
    }
}
