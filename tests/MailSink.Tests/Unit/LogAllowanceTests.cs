using MailSink.Storage;
using Microsoft.Extensions.Time.Testing;

namespace MailSink.Tests.Unit;

/// <summary>Lines a second written one by one, the rest counted and the count handed on when the second is over.</summary>
public sealed class LogAllowanceTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<int> _summaries = [];

    private LogAllowance NewAllowance(int perSecond) => new(perSecond, _time, _summaries.Add);

    [Fact]
    public void The_first_lines_of_a_second_are_written_and_the_rest_counted_then_summarized_before_the_next_line()
    {
        using var allowance = NewAllowance(3);
        Assert.Equal([true, true, true, false, false], Enumerable.Range(0, 5).Select(_ => allowance.Take()));
        Assert.Empty(_summaries);

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(allowance.Take());
        _time.Advance(TimeSpan.FromMilliseconds(1)); // the timer ends the second: its count comes without another line
        Assert.Equal([3], _summaries);

        Assert.True(allowance.Take());
        Assert.Equal([3], _summaries);
    }

    [Fact]
    public void A_line_after_a_quiet_second_summarizes_first_and_disposing_summarizes_what_is_left()
    {
        var allowance = NewAllowance(1);
        allowance.Take();
        allowance.Take();
        _time.Advance(TimeSpan.FromSeconds(5)); // the timer fired at 1 s
        Assert.Equal([1], _summaries);
        Assert.True(allowance.Take());
        Assert.False(allowance.Take());
        allowance.Dispose();
        Assert.Equal([1, 1], _summaries);
    }
}
