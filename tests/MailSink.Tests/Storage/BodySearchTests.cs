using System.Diagnostics;
using System.Text;
using MailSink.Storage;
using MailSink.Tests.Support;

namespace MailSink.Tests.Storage;

/// <summary>
/// Body search gives, for every needle, what reading each message and comparing its bodies gives: needles
/// whose case folding is not ASCII's, a lone surrogate, HTML, every MIME encoding; on every engine.
/// </summary>
public abstract class BodySearchTests(ITestOutputHelper output)
{
    // Words whose case folding is not ASCII's: 'ı' and 'ſ' upper-case to 'I' and 'S', the Kelvin sign
    // stays itself, 'ß' has no single-character upper case, and the emoji is a surrogate pair.
    protected static readonly string[] Words =
    [
        "alpha", "Bravo", "CHARLIE", "delta", "code", "is", "café", "ΑΒΓ", "αβγ", "ıd", "ID", "ſtop", "STOP",
        "\u212Aelvin", "kelvin", "straße", "STRASSE", "😀", "naïve", "Ω", "ω", "x", "<b>", "&amp;",
    ];

    private static readonly string[] AsciiWords = [.. Words.Where(w => Ascii.IsValid(w))];

    protected ITestOutputHelper Output => output;

    /// <summary>The stores that must all answer alike (the first is read message by message); disposed by the test.</summary>
    protected abstract Task<StorageHarness[]> StartStoresAsync();

    /// <summary>What the engine checks once every needle was compared.</summary>
    protected virtual void AfterTheNeedles(StorageHarness[] stores, int needles, int matched)
    {
    }

    /// <summary>
    /// Every store answers every body needle as comparing each message's bodies with
    /// <see cref="SearchCriteria.BodyMatches"/> does, the bodies read back message by message (<c>GetAsync</c>
    /// parses the raw message): the same messages, newest first, and the same page of them. Compared:
    /// <list type="bullet">
    /// <item>needles: every word as it is, upper- and lower-cased and a two-character piece of it; pairs of
    /// words that stand side by side in some message and pairs that stand side by side in none; the letters whose
    /// case folding is not ASCII's ('ı' and 'ſ' against ASCII 'i' and 's', the Kelvin sign against 'k', 'ß'
    /// against "SS"); a surrogate pair, and each of its halves alone and beside other text; HTML source
    /// ("&lt;b&gt;x"); LIKE's wildcards ("a_p", "%"), which match nothing; and what only the wire holds ("=C3" of
    /// quoted-printable, "QUJD" of base64), found in no body;</item>
    /// <item>bodies in every wire form (8-bit, quoted-printable, base64, text beside HTML, HTML alone, us-ascii),
    /// each with bodies of ASCII alone (kept in memory as bytes) and not (kept as strings), text and HTML of
    /// either kind in one message;</item>
    /// <item>bodies that searches read and keep (the first half, stored before the inbox's first search) and
    /// bodies kept as ingest decoded them (the second half, arriving after it); words before and after a long
    /// filler, so that what stands at the end of a long body is found too;</item>
    /// <item>each engine's stores (LiteDB: bodies never kept, all kept, and kept within a megabyte that the
    /// second half overflows, so that bodies kept at arrival are let go and read again).</item>
    /// </list>
    /// None of this depends on how much mail there is: 48 messages, two of each wire form, kind of body and half,
    /// and 85 needles. Only the megabyte needs volume, and the second half alone brings it: some 40 KB of inert
    /// filler each (digits, which no needle holds), 1.36 MB of bodies in all.
    /// </summary>
    [Fact]
    public async Task Body_search_answers_the_same_from_bodies_in_memory_as_from_the_messages()
    {
        var messages = Enumerable.Range(0, 48).Select(i => MakeMessage(i, filler: i >= 24)).ToList();

        var stores = await StartStoresAsync();
        try
        {
            await CompareAsync(stores, messages);
        }
        finally
        {
            foreach (var store in stores)
                await store.DisposeAsync();
        }
    }

    private async Task CompareAsync(StorageHarness[] stores, List<byte[]> messages)
    {
        foreach (var store in stores)
        {
            // The first half is stored before the inbox is first searched (its bodies are read by the
            // searches), the second after (its bodies are kept as ingest decoded them).
            foreach (var raw in messages.Take(messages.Count / 2))
                await store.StoreRawAsync("t@body.localhost", raw);
            Assert.Empty(await store.Messages.SearchAsync("body", new SearchCriteria(null, null, "no such subject", null), 0, 10, null, default));
            foreach (var raw in messages.Skip(messages.Count / 2))
                await store.StoreRawAsync("t@body.localhost", raw);
        }

        // What each body holds, read message by message.
        var read = new List<StoredMessage>();
        foreach (var listed in await stores[0].Messages.ListAsync("body", 0, 1000, null, default))
            read.Add((await stores[0].Messages.GetAsync(listed.Id, default))!);
        Assert.Equal(messages.Count, read.Count);

        var needles = Needles();
        var matched = 0;
        foreach (var needle in needles)
        {
            var criteria = new SearchCriteria(null, null, null, needle);
            var expected = read.Where(m => criteria.BodyMatches(m.Text, m.Html)).Select(m => m.Subject).ToList();
            matched += expected.Count;
            foreach (var store in stores)
            {
                var found = (await store.Messages.SearchAsync("body", criteria, 0, 1000, null, default)).Select(m => m.Subject).ToList();
                Assert.True(expected.SequenceEqual(found), $"'{needle}': expected [{string.Join(", ", expected)}], found [{string.Join(", ", found)}]");
            }

            // Paging over the matches.
            if (expected.Count > 3)
                Assert.Equal(expected.Skip(2).Take(2), (await stores[^1].Messages.SearchAsync("body", criteria, 2, 2, null, default)).Select(m => m.Subject));
        }

        // The needles tell the messages apart: each message is found by some and missed by others, and
        // what only the wire holds is there on the wire.
        Assert.All(read, m => Assert.Contains(needles, n => new SearchCriteria(null, null, null, n).BodyMatches(m.Text, m.Html)));
        Assert.All(read, m => Assert.Contains(needles, n => !new SearchCriteria(null, null, null, n).BodyMatches(m.Text, m.Html)));
        foreach (var wire in WireNeedles)
            Assert.Contains(messages, raw => Encoding.ASCII.GetString(raw).Contains(wire, StringComparison.Ordinal));
        AfterTheNeedles(stores, needles.Count, matched);
    }

    /// <summary>What appears in quoted-printable and base64 on the wire and in no decoded body.</summary>
    private static readonly string[] WireNeedles = ["=C3", "QUJD"];

    /// <summary>Every word as it is, upper- and lower-cased, and a piece of it; pairs; and the edges.</summary>
    private static List<string> Needles()
    {
        var needles = new List<string>();
        foreach (var word in Words)
        {
            needles.AddRange([word, word.ToUpperInvariant(), word.ToLowerInvariant()]);
            if (word.Length > 2)
                needles.Add(word.Substring(word.Length / 2 - 1, 2));
        }

        // Side by side in some sentence (of all the words, or of the ASCII ones), and in none.
        needles.AddRange(["alpha Bravo", "DELTA CODE", "café ΑΒΓ", "αβγ ıd", "😀 NAÏVE", "is ID", "STOP KELVIN", "alpha delta", "ω alpha"]);
        needles.AddRange(["ı", "I", "ſ", "s", "\u212A", "k", "ß", "SS", "😀", "\uD83D", "\uDE00", "E \uD83D", "\uDE00 NA", "absent-word", "<b>x", "a_p", "%", .. WireNeedles]);
        return [.. needles.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// <paramref name="count"/> words of <paramref name="pool"/> as they stand in it, from <paramref name="from"/> on (round again at its end).
    /// </summary>
    private static string Sentence(string[] pool, int from, int count) =>
        string.Join(" ", Enumerable.Range(from, count).Select(i => pool[i % pool.Length]));

    /// <summary>
    /// Message <paramref name="n"/>: wire form n % 6 (8-bit text, quoted-printable, base64, text and HTML, HTML
    /// alone, us-ascii), of the ASCII words alone every other round of forms (us-ascii always; the HTML beside a
    /// text takes the other kind), a run of words that starts further on and grows with n, and with
    /// <paramref name="filler"/> some 40 KB of digits between that run and three more words.
    /// </summary>
    protected static byte[] MakeMessage(int n, bool filler)
    {
        var shape = n % 6;
        var asciiOnly = shape == 5 || n / 6 % 2 == 1;
        var pool = asciiOnly ? AsciiWords : Words;
        var other = asciiOnly ? Words : AsciiWords;
        var text = Sentence(pool, 5 * n, 4 + n % 11)
            + (filler ? string.Concat(Enumerable.Repeat("\r\n0123456789 0123456789 0123456789 0123456789", 900)) : "")
            + " " + Sentence(pool, 3 * n + 7, 3);
        var header = $"From: s@example.com\r\nTo: t@body.localhost\r\nSubject: message {n}\r\nMIME-Version: 1.0\r\n";
        var message = shape switch
        {
            0 => $"{header}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n",
            1 => $"{header}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{QuotedPrintable(text)}\r\n",
            // "ABC" first: base64 "QUJD" on the wire.
            2 => $"{header}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{Convert.ToBase64String(Encoding.UTF8.GetBytes("ABC " + text))}\r\n",
            3 => $"{header}Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
                + $"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>{Sentence(other, 2 * n, 6)}</p><b>x</b></body></html>\r\n--b--\r\n",
            4 => $"{header}Content-Type: text/html; charset=utf-8\r\n\r\n<div>{text}</div>\r\n",
            _ => $"{header}Content-Type: text/plain; charset=us-ascii\r\n\r\n{text}\r\n",
        };
        return Encoding.UTF8.GetBytes(message);
    }

    private static string QuotedPrintable(string text)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(text))
            builder.Append(b is >= 33 and <= 126 and not (byte)'=' ? ((char)b).ToString() : $"={b:X2}");
        return builder.ToString();
    }
}

public sealed class PostgreSqlBodySearchTests(PostgreSqlDatabase database, ITestOutputHelper output) : BodySearchTests(output), IClassFixture<PostgreSqlDatabase>
{
    protected override async Task<StorageHarness[]> StartStoresAsync() => [await StorageHarness.StartAsync(StorageEngine.PostgreSql, database)];
}

/// <summary>
/// LiteDB's body search from bodies kept in memory (issue 5, item 6: a body search over a large inbox took the
/// database for seconds): the same answers as reading every message, within its memory budget, and a long
/// scan that lets the rest of the database's users through.
/// </summary>
public sealed class LiteDbBodySearchTests(ITestOutputHelper output) : BodySearchTests(output)
{
    /// <summary>
    /// The same mail in three stores: no bodies kept, bodies kept freely, and kept within a megabyte (which the
    /// second half overflows as it arrives: the bodies kept longest ago are let go, and every search reads them again).
    /// </summary>
    protected override Task<StorageHarness[]> StartStoresAsync() =>
        Task.FromResult<StorageHarness[]>([new StorageHarness(searchCacheMegabytes: 0), new StorageHarness(), new StorageHarness(searchCacheMegabytes: 1)]);

    protected override void AfterTheNeedles(StorageHarness[] stores, int needles, int matched)
    {
        var (none, free, tight) = (stores[0], stores[1], stores[2]);
        Output.WriteLine($"{needles} needles, {matched} matches; kept {Index(free).KeptBodyBytes:N0}, {Index(none).KeptBodyBytes:N0} and {Index(tight).KeptBodyBytes:N0} bytes");
        Assert.Equal(0, Index(none).KeptBodyBytes);
        Assert.InRange(Index(tight).KeptBodyBytes, 1, 1L << 20);
        Assert.True(Index(free).KeptBodyBytes > Index(tight).KeptBodyBytes);
    }

    [Fact]
    public void Bodies_kept_as_ascii_bytes_compare_as_their_strings_do()
    {
        var random = new Random(11);
        for (var i = 0; i < 20_000; i++)
        {
            var text = random.Next(3) == 0 ? null : RandomText(random, ascii: random.Next(4) != 0);
            var html = random.Next(3) == 0 ? null : RandomText(random, ascii: true);
            var bodies = new SearchBodies(text, html);
            Assert.Equal(text, bodies.Text);
            Assert.Equal(html, bodies.Html);
            var needle = random.Next(3) == 0 && (text ?? html) is { Length: > 0 } source
                ? source.Substring(random.Next(source.Length), 1)
                : RandomText(random, ascii: random.Next(2) == 0, maxLength: 3);
            if (needle.Length == 0)
                continue;
            var criteria = new SearchCriteria(null, null, null, needle);
            Assert.True(
                criteria.BodyMatches(text, html) == bodies.Contain(needle),
                $"'{needle}' in '{text}' / '{html}': strings say {criteria.BodyMatches(text, html)}");
        }
    }

    [Fact]
    public async Task Kept_bodies_stay_within_their_budget_and_deletes_give_them_back()
    {
        await using var storage = new StorageHarness(searchCacheMegabytes: 1);
        var body = string.Join("\r\n", Enumerable.Range(0, 100).Select(i => $"line {i} of a body some eighty characters long, to fill the budget {i * 7}"));
        for (var i = 0; i < 120; i++)
            await storage.StoreAsync($"u@keep{i % 2}.localhost", $"m{i}", body);
        var index = Index(storage);

        Assert.Empty(await storage.Messages.SearchAsync("keep0", new SearchCriteria(null, null, null, "absent"), 0, 10, null, default)); // reads and keeps 60 bodies
        Assert.Empty(await storage.Messages.SearchAsync("keep1", new SearchCriteria(null, null, null, "absent"), 0, 10, null, default)); // 60 more: over 1 MB together
        Assert.InRange(index.KeptBodyBytes, 512 * 1024, 1L << 20);

        // Arrivals in a searched inbox are kept as they come; the budget holds.
        for (var i = 0; i < 100; i++)
            await storage.StoreAsync("u@keep0.localhost", $"late {i}", body);
        Assert.InRange(index.KeptBodyBytes, 512 * 1024, 1L << 20);
        Assert.Single((await storage.Messages.SearchAsync("keep0", new SearchCriteria(null, null, null, "FILL THE BUDGET 693"), 0, 500, null, default)), m => m.Subject == "late 99");

        // Deleting gives back what the deleted messages' bodies took, and churn does not grow the keeping order.
        Assert.Equal(160, (await storage.Messages.DeleteAllAsync("keep0", default)));
        Assert.Equal(60, (await storage.Messages.DeleteAllAsync("keep1", default)));
        Assert.Equal(0, index.KeptBodyBytes);
        for (var round = 0; round < 30; round++)
        {
            for (var i = 0; i < 100; i++)
                await storage.StoreAsync("u@keep0.localhost", $"churn {round} {i}", "short body");
            Assert.Equal(100, (await storage.Messages.DeleteAllAsync("keep0", default)));
        }

        Assert.Equal(0, index.KeptBodyBytes);
        Assert.InRange(index.KeptQueueLength, 0, 1024);

        // Reopening the database forgets every body kept.
        await storage.StoreAsync("u@keep0.localhost", "after", body);
        Assert.Single(await storage.Messages.SearchAsync("keep0", new SearchCriteria(null, null, null, "line 99"), 0, 10, null, default));
        Assert.True(index.KeptBodyBytes > 0);
        Assert.True(storage.Store.ReleaseIfIdle(TimeSpan.Zero));
        Assert.Equal(0, index.KeptBodyBytes);
    }

    [Fact]
    public async Task A_long_body_search_lets_other_uses_of_the_database_through()
    {
        await using var storage = new StorageHarness(searchCacheMegabytes: 0); // nothing kept: every message is read
        var body = string.Join("\r\n", Enumerable.Range(0, 60).Select(i => $"line {i} of a body to be read and parsed"));
        for (var i = 0; i < 400; i++)
            await storage.StoreAsync("u@long.localhost", $"m{i}", body);

        // Between the messages it reads, a search holds nothing: halfway through this one, another use
        // of the database (a list, on another thread) finishes while the search waits for it.
        var gate = storage.Store.Gate;
        var steps = 0;
        var heldAtAStep = 0;
        var listedHalfway = false;
        storage.Store.BetweenSearchSteps = _ =>
        {
            if (gate.IsHeldByCurrentThread)
                heldAtAStep++;
            if (++steps == 200)
                listedHalfway = Task.Run(() => storage.Messages.ListAsync("long", 0, 5, null, default)).Wait(TimeSpan.FromSeconds(30));
        };

        var clock = Stopwatch.StartNew();
        var found = (await storage.Messages.SearchAsync("long", new SearchCriteria(null, null, null, "absent"), 0, 10, null, default));
        Output.WriteLine($"the search read 400 messages in {clock.Elapsed.TotalMilliseconds:F0} ms");

        Assert.Empty(found);
        Assert.Equal(400, steps);
        Assert.Equal(0, heldAtAStep);
        Assert.True(listedHalfway, "a list could not finish while the search was halfway");
    }

    [Fact]
    public async Task Body_searches_take_turns_and_other_searches_do_not_wait_for_them()
    {
        await using var storage = new StorageHarness(searchCacheMegabytes: 0);
        for (var i = 0; i < 20; i++)
            await storage.StoreAsync("u@turns.localhost", $"m{i}", $"body {i}");

        Task<IReadOnlyList<StoredMessage>>? second = null;
        var bySubjectMeanwhile = -1;
        var paused = 0;
        storage.Store.BetweenSearchSteps = _ =>
        {
            if (Interlocked.Exchange(ref paused, 1) != 0)
                return; // only the first search's first step
            // While a body search is under way: a search by subject answers, a second body search waits its turn.
            var bySubject = storage.Messages.SearchAsync("turns", new SearchCriteria(null, null, "m7", null), 0, 10, null, CancellationToken.None);
            bySubjectMeanwhile = bySubject.Wait(TimeSpan.FromSeconds(30)) ? bySubject.Result.Count : -1;
            second = storage.Messages.SearchAsync("turns", new SearchCriteria(null, null, null, "body 3"), 0, 10, null, CancellationToken.None);
            Assert.False(second.Wait(TimeSpan.FromMilliseconds(200)), "a second body search ran beside the first");
        };

        var first = await storage.Messages.SearchAsync("turns", new SearchCriteria(null, null, null, "body 1"), 0, 10, null, CancellationToken.None);

        Assert.Equal(["m19", "m18", "m17", "m16", "m15", "m14", "m13", "m12", "m11", "m10"], first.Select(m => m.Subject));
        Assert.Equal(1, bySubjectMeanwhile);
        Assert.Equal(["m3"], (await second!.WaitAsync(TimeSpan.FromSeconds(30))).Select(m => m.Subject));
    }

    [Fact]
    public void A_body_read_for_a_deleted_or_forgotten_message_is_not_kept()
    {
        var index = new SearchIndex(1 << 20);
        var facts = index.Snapshot("box", () => [Message("a", 1), Message("b", 2), Message("c", 3)]);

        // A search read message a, then a delete came before the search could keep its bodies.
        index.Removed("box", ["a"]);
        index.KeepBodies(facts[0], "text of a", null, makeRoom: false);
        Assert.Null(facts[0].Bodies);
        Assert.Equal(0, index.KeptBodyBytes);

        // Kept, then deleted: given back.
        index.KeepBodies(facts[1], "text of b", null, makeRoom: false);
        Assert.True(index.KeptBodyBytes > 0);
        index.Removed("box", ["b"]);
        Assert.Equal(0, index.KeptBodyBytes);

        // The inbox forgotten (a reopen) under a search still running on its old list.
        index.ForgetAll();
        index.KeepBodies(facts[2], "text of c", null, makeRoom: true);
        Assert.Equal(0, index.KeptBodyBytes);

        // Arrivals in an inbox forgotten meanwhile keep nothing either.
        var again = index.Snapshot("box", () => [Message("c", 3)]);
        index.Forget("box");
        index.Added([Message("d", 4, "text of d")]);
        index.KeepBodies(again[0], "text of c", null, makeRoom: true);
        Assert.Equal(0, index.KeptBodyBytes);
    }

    [Fact]
    public async Task An_inbox_larger_than_the_budget_keeps_its_newest_bodies_from_one_search_to_the_next()
    {
        await using var storage = new StorageHarness(searchCacheMegabytes: 1);
        var body = string.Join("\r\n", Enumerable.Range(0, 100).Select(i => $"line {i} of a body some eighty characters long, to fill the budget"));
        for (var i = 0; i < 330; i++) // about 2.3 MB of bodies against 1 MB
            await storage.StoreAsync("u@large.localhost", $"m{i}", body);

        var keptAtStep = new List<bool>();
        storage.Store.BetweenSearchSteps = candidate => keptAtStep.Add(candidate.Bodies is not null);
        Assert.Empty(await storage.Messages.SearchAsync("large", new SearchCriteria(null, null, null, "absent"), 0, 10, null, default));
        Assert.DoesNotContain(true, keptAtStep); // nothing was in memory before the first search
        keptAtStep.Clear();

        Assert.Empty(await storage.Messages.SearchAsync("large", new SearchCriteria(null, null, null, "absent too"), 0, 10, null, default));
        var kept = keptAtStep.Count(k => k);
        // The first search filled the budget with the newest bodies (it reads newest first) and let none of
        // them go for older ones: the second finds those in memory.
        Assert.InRange(kept, 100, 200);
        Assert.All(keptAtStep.Take(kept), Assert.True);
    }

    [Fact]
    public async Task A_wait_s_time_covers_its_search_and_a_message_already_there_answers_even_a_wait_of_nothing()
    {
        await using var storage = new StorageHarness();
        await storage.StoreAsync("u@wait.localhost", "there", "body with the word");
        var waiter = new MessageWaiter(storage.Messages, storage.Feed);

        var found = await waiter.WaitAsync("wait", new SearchCriteria(null, null, null, "the word"), null, TimeSpan.Zero, CancellationToken.None);
        Assert.Equal("there", found?.Subject);

        // Every body search's turn taken (as by a long scan): a wait of 200 ms gives up within its look's second.
        var turns = storage.Store.BodySearchTurns;
        await turns.WaitAsync();
        try
        {
            var clock = Stopwatch.StartNew();
            var none = await waiter.WaitAsync("wait", new SearchCriteria(null, null, null, "the word"), null, TimeSpan.FromMilliseconds(200), CancellationToken.None)
                .WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Null(none);
            Output.WriteLine($"gave up after {clock.ElapsedMilliseconds} ms");
        }
        finally
        {
            turns.Release();
        }
    }

    private static StoredMessage Message(string id, long ticks, string? text = null) =>
        new() { Id = id, Inbox = "box", ReceivedTicks = ticks, Text = text };

    private static SearchIndex Index(StorageHarness storage) => storage.Store.SearchIndex;

    private const string Folding = "ıſ\u212AßİÅåΩωé";

    private static string RandomText(Random random, bool ascii, int maxLength = 40)
    {
        var length = random.Next(maxLength + 1);
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(ascii
                ? (char)random.Next(0, 128)
                : random.Next(4) switch
                {
                    0 => Folding[random.Next(Folding.Length)],
                    1 => (char)random.Next(0x80, 0x3000),
                    _ => (char)random.Next(0, 128),
                });
        }

        return builder.ToString();
    }
}
