using System.Diagnostics;

namespace MailSink.Tests.Support;

/// <summary>Waits for a condition with a deadline, checking it again every few milliseconds; never a fixed sleep.</summary>
public static class Poll
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(25);

    /// <summary>Returns as soon as <paramref name="condition"/> holds; fails the test naming <paramref name="what"/> at the deadline.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
                throw new Xunit.Sdk.XunitException($"Gave up after {timeout.TotalSeconds:0} s waiting until {what}.");
            await Task.Delay(Interval);
        }
    }

    /// <summary><see cref="UntilAsync(Func{Task{bool}}, TimeSpan, string)"/> for a condition checked without waiting for anything.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what);

    /// <summary>Returns what <paramref name="probe"/> gives as soon as it gives something; fails the test naming <paramref name="what"/> at the deadline.</summary>
    public static async Task<T> ForAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
        where T : struct
    {
        T? found = null;
        await UntilAsync(async () => (found = await probe()) is not null, timeout, what);
        return found!.Value;
    }
}
