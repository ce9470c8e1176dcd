using MailSink.Storage;

namespace MailSink.Tests.Unit;

/// <summary>The ids of messages, raw messages and attachments: RFC 9562 version 7 UUIDs, unique, carrying the time they were made.</summary>
public sealed class TimeOrderedIdTests
{
    [Fact]
    public void An_id_is_a_version_7_uuid_of_the_rfc_variant_with_the_time_it_was_made()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var id = TimeOrderedId.NewVersion7();
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        Assert.Equal(7, id.Version);
        Assert.Equal(0b10, id.Variant >> 2); // RFC 9562's variant: the two top bits of octet 8 are 10
        var text = id.ToString("N");
        var milliseconds = Convert.ToInt64(text[..12], 16); // the first 48 bits, most significant first
        Assert.InRange(milliseconds, before, after);
    }

    [Fact]
    public void Ids_made_in_the_same_millisecond_on_several_threads_are_all_different()
    {
        var ids = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < 50_000; i++)
                ids.Add(TimeOrderedId.NewVersion7());
        });

        Assert.Equal(200_000, ids.Distinct().Count());
    }

    [Fact]
    public void Ids_sort_by_the_millisecond_they_were_made_in_like_guid_create_version_7()
    {
        var first = TimeOrderedId.NewVersion7();
        var stamp = first.ToString("N")[..12];
        Guid later;
        var deadline = DateTime.UtcNow.AddSeconds(5);
        do
            later = TimeOrderedId.NewVersion7();
        while (later.ToString("N")[..12] == stamp && DateTime.UtcNow < deadline);

        Assert.True(string.CompareOrdinal(first.ToString(), later.ToString()) < 0);
        Assert.True(string.CompareOrdinal(Guid.CreateVersion7().ToString()[..13], later.ToString()[..13]) >= 0);
    }
}
