using MailSink.Storage;
using MailSink.Storage.Ingest;
using MailSink.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace MailSink.Tests.Unit;

/// <summary>
/// The log line for each stored message: every one while mail comes slowly (what a person at the console
/// wants to see), one line a second counting the rest under load (what a line per message would cost).
/// </summary>
public sealed class StoredMessageLogTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly StoredMessageLog _log;
    private int _next;

    public StoredMessageLogTests() => _log = new StoredMessageLog(_logs.CreateLogger("ingest"), _time);

    public void Dispose() => _log.Dispose();

    private void Store(int count)
    {
        for (var i = 0; i < count; i++)
            _log.Stored(new StoredMessage { Id = $"m{++_next}", Inbox = "shop", Size = 2048 }, "sender@example.com");
    }

    private List<string> Lines(string level) => _logs.Entries.Where(e => e.StartsWith(level + " ", StringComparison.Ordinal)).ToList();

    [Fact]
    public void Mail_that_comes_slowly_is_logged_message_by_message_with_its_inbox_size_and_sender()
    {
        Store(3);
        _time.Advance(TimeSpan.FromSeconds(2));
        Store(3);
        _time.Advance(TimeSpan.FromSeconds(2));

        var lines = Lines("Information");
        Assert.Equal(6, lines.Count);
        Assert.All(lines, line => Assert.Contains("ingest[2003] Stored message m", line));
        Assert.Contains("Stored message m1 in inbox shop (2048 bytes from sender@example.com)", lines[0]);
        Assert.DoesNotContain(_logs.Entries, e => e.Contains("[2014]", StringComparison.Ordinal) || e.StartsWith("Debug", StringComparison.Ordinal));
    }

    [Fact]
    public void Beyond_ten_a_second_the_rest_go_to_debug_and_one_line_counts_them_when_the_second_ends()
    {
        Store(25);

        Assert.Equal(StoredMessageLog.PerSecond, Lines("Information").Count);
        Assert.Equal(15, Lines("Debug").Count);
        Assert.Contains("Stored message m25 in inbox shop", Lines("Debug")[^1]);
        Assert.DoesNotContain(_logs.Entries, e => e.Contains("[2014]", StringComparison.Ordinal)); // not before the second is over

        _time.Advance(TimeSpan.FromSeconds(1)); // the timer: mail may have stopped, the count still comes

        var summary = Assert.Single(_logs.Entries, e => e.Contains("[2014]", StringComparison.Ordinal));
        Assert.StartsWith("Information", summary);
        Assert.Contains("Stored 15 more messages in the last second", summary);

        Store(1); // a new second: logged one by one again
        Assert.Contains("Stored message m26", Lines("Information")[^1]);
    }

    [Fact]
    public void Under_steady_load_each_second_gives_ten_lines_and_one_count()
    {
        for (var second = 0; second < 3; second++)
        {
            for (var tenth = 0; tenth < 10; tenth++)
            {
                Store(10);
                _time.Advance(TimeSpan.FromMilliseconds(100));
            }
        }

        var summaries = _logs.Entries.Where(e => e.Contains("[2014]", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, summaries.Count);
        Assert.All(summaries, s => Assert.Contains("Stored 90 more messages", s));
        Assert.Equal(30, Lines("Information").Count(l => l.Contains("[2003]", StringComparison.Ordinal)));
        Assert.Equal(300, _logs.Entries.Count(e => e.Contains("[2003]", StringComparison.Ordinal))); // none is missing at Debug
    }

    [Fact]
    public void Stopping_writes_the_count_of_a_second_not_yet_over()
    {
        Store(12);
        _log.Dispose();

        Assert.Contains(_logs.Entries, e => e.Contains("Stored 2 more messages", StringComparison.Ordinal));
    }
}
