using MailSink.Storage;
using MailSink.Storage.PostgreSql;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MailSink.Tests.Unit;

/// <summary>
/// The PostgreSQL listener's record of this node's own commits, which the writer announces itself: each
/// message announced exactly once, as this node's, however the writer's commit and the listener's reading
/// interleave (a commit whose answer was lost included), and nothing kept once the cursor has passed it.
/// The bookkeeping alone, without a database (the listener's reading is PostgreSqlEngineTests' business).
/// </summary>
public sealed class ListenerBookkeepingTests
{
    private static PostgreSqlListener NewListener(TimeProvider? time = null) =>
        new(null!, new ArrivalFeed(), NullLogger<PostgreSqlListener>.Instance, time ?? TimeProvider.System);

    private static StoredMessage Message(string id, long ticks) => new() { Id = id, ReceivedTicks = ticks };

    [Fact]
    public void Other_nodes_messages_are_announced_and_a_committed_own_one_is_passed_over_once()
    {
        var listener = NewListener();
        listener.Expect(["own"]);
        listener.Committed([Message("own", 5)]);

        var (others, ownAfterFailure) = listener.Sort([Message("theirs", 4), Message("own", 5)]);

        Assert.Equal(["theirs"], others.Select(m => m.Id));
        Assert.Empty(ownAfterFailure);
        Assert.Equal(0, listener.OwnCount);
    }

    [Fact]
    public void A_message_read_while_its_commit_was_in_flight_is_the_writer_s_to_announce_or_to_hand_back()
    {
        var listener = NewListener();
        listener.Expect(["ok", "lost"]);
        var (others, ownAfterFailure) = listener.Sort([Message("ok", 1), Message("lost", 2)]);
        Assert.Empty(others);
        Assert.Empty(ownAfterFailure);

        // The writer heard back for one: it announces it, and nothing is kept.
        listener.Committed([Message("ok", 1)]);
        // For the other the answer was lost: the message the listener read is handed back to announce.
        Assert.Equal(["lost"], listener.Forget(["lost"]).Select(m => m.Id));
        Assert.Equal(0, listener.OwnCount);
    }

    [Fact]
    public void A_commit_taken_for_failed_that_the_listener_reads_later_is_announced_by_the_listener_as_this_node_s()
    {
        var listener = NewListener();
        listener.Expect(["late"]);
        Assert.Empty(listener.Forget(["late"]));
        Assert.Equal(1, listener.OwnCount);

        var (others, ownAfterFailure) = listener.Sort([Message("late", 3)]);

        Assert.Empty(others);
        Assert.Equal(["late"], ownAfterFailure.Select(m => m.Id));
        Assert.Equal(0, listener.OwnCount);
    }

    [Fact]
    public void Own_messages_the_listener_never_reads_are_dropped_once_the_cursor_passes_them_and_those_in_flight_stay()
    {
        var listener = NewListener();
        listener.Expect(["deleted-early", "later", "in-flight"]);
        listener.Committed([Message("deleted-early", 10), Message("later", 30)]);

        listener.StartFrom(20); // as the cursor is once the listener has read past time 20
        listener.Prune();

        Assert.Equal(2, listener.OwnCount); // "later" (still ahead of the cursor) and "in-flight"
        Assert.Empty(listener.Sort([Message("later", 30)]).Others);
        Assert.Equal(1, listener.OwnCount);
    }

    /// <summary>
    /// A commit taken for failed may still come (its answer lost), so its id is kept: dropped only once it is
    /// older than <see cref="PostgreSqlListener.KeepFailed"/> and the listener has caught up (while it catches
    /// up, an old commit may be in the next page).
    /// </summary>
    [Fact]
    public void A_failed_commit_s_id_is_kept_for_a_while_and_dropped_after_it_only_once_the_listener_has_caught_up()
    {
        var clock = new FakeTimeProvider();
        var listener = NewListener(clock);
        listener.Expect(["failed"]);
        Assert.Empty(listener.Forget(["failed"]));

        clock.Advance(PostgreSqlListener.KeepFailed - TimeSpan.FromSeconds(1));
        listener.Prune(caughtUp: true);
        Assert.Equal(1, listener.OwnCount);

        clock.Advance(TimeSpan.FromSeconds(2));
        listener.Prune(caughtUp: false);
        Assert.Equal(1, listener.OwnCount);

        listener.Prune(caughtUp: true);
        Assert.Equal(0, listener.OwnCount);
        Assert.Equal(["failed"], listener.Sort([Message("failed", 7)]).Others.Select(m => m.Id)); // so late, it is announced as another node's
    }
}
