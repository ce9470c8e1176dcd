using MailSink.Api.Analysis;

namespace MailSink.Tests.Unit;

/// <summary>The bounded memory behind previews and deliverability reports: the newest stay, the oldest go first.</summary>
public sealed class NewestKeptTests
{
    [Fact]
    public void Past_the_capacity_the_oldest_entries_go_first()
    {
        var kept = new NewestKept<string>(() => 3);
        for (var i = 0; i < 5; i++)
            kept.Add($"k{i}", $"v{i}");

        Assert.Equal([null, null, "v2", "v3", "v4"], Enumerable.Range(0, 5).Select(i => kept.Find($"k{i}")));
    }

    [Fact]
    public void A_value_is_made_once_and_found_again_until_it_is_removed()
    {
        var kept = new NewestKept<string>(() => 10);
        var made = 0;
        Assert.Equal("v1", kept.GetOrAdd("a", _ => $"v{++made}"));
        Assert.Equal("v1", kept.GetOrAdd("a", _ => $"v{++made}"));
        Assert.Equal(1, made);

        kept.Remove("a");
        Assert.Null(kept.Find("a"));
        Assert.Equal("v2", kept.GetOrAdd("a", _ => $"v{++made}"));
    }

    [Fact]
    public void The_capacity_is_read_at_each_addition()
    {
        var capacity = 5;
        var kept = new NewestKept<string>(() => capacity);
        for (var i = 0; i < 5; i++)
            kept.Add($"k{i}", $"v{i}");
        capacity = 2;
        kept.Add("k5", "v5");

        Assert.Equal([null, null, null, null, "v4", "v5"], Enumerable.Range(0, 6).Select(i => kept.Find($"k{i}")));
    }
}
