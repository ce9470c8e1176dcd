namespace MailSink.Storage.Retention;

/// <summary>How much a pass of the size cap (<c>MaxTotalBytes</c>) removes at a time.</summary>
public static class RetentionSteps
{
    /// <summary>The most of the oldest messages removed in one step of the size cap.</summary>
    public const int MaxStep = 10;

    /// <summary>
    /// As many of the oldest messages as <paramref name="excess"/> bytes are worth at the store's average
    /// message size, at least one and at most <see cref="MaxStep"/>: a store just over its cap loses one
    /// message, not ten (ten 25 MB messages for one too many), and a store far over it still goes down in
    /// few transactions. The pass checks the total again after every step.
    /// </summary>
    public static int OldestToRemove(long excess, long storedBytes, long messages)
    {
        if (excess <= 0 || storedBytes <= 0)
            return 0;
        var worth = Math.Ceiling((double)excess * messages / storedBytes);
        return (int)Math.Clamp(worth, 1, MaxStep);
    }
}
