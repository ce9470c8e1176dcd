using System.Text;
using MailSink.Server.Smtp;

namespace MailSink.Tests.Unit;

/// <summary>
/// The DATA body decoder on its own: the bytes a client sends after <c>354</c> in, the stored message out.
/// Every case is also fed split at every position, because the network may cut the stream anywhere.
/// </summary>
public sealed class DataBodyDecoderTests
{
    private const long NoLimit = long.MaxValue;

    [Fact]
    public void Crlf_input_passes_byte_for_byte_including_8bit_and_utf8()
    {
        var body = Concat(
            "Subject: caf\u00e9 \u2615\r\n\r\n"u8.ToArray(),
            [0x80, 0xFF, 0x00, 0x7F, (byte)'\t', (byte)'\r', (byte)'\n'],
            "Gr\u00fc\u00dfe, \u65e5\u672c\r\n"u8.ToArray());

        var run = Decode(Concat(body, ".\r\n"u8.ToArray()), NoLimit);

        Assert.True(run.Found);
        Assert.Equal(body, run.Bytes);
    }

    [Fact]
    public void Bare_lf_lines_get_crlf()
    {
        var run = Decode("Subject: x\n\nline one\nline two\n.\n"u8.ToArray(), NoLimit);

        Assert.Equal("Subject: x\r\n\r\nline one\r\nline two\r\n", Text(run.Bytes));
    }

    [Fact]
    public void Mixed_crlf_and_bare_lf_lines_each_end_in_exactly_one_crlf()
    {
        var run = Decode("a\r\nb\nc\r\n\n\r\nd\n.\r\n"u8.ToArray(), NoLimit);

        Assert.Equal("a\r\nb\r\nc\r\n\r\n\r\nd\r\n", Text(run.Bytes));
    }

    [Theory]
    [InlineData("..x\r\n.\r\n", ".x\r\n")]
    [InlineData("a\r\n..b\r\n.\r\n", "a\r\n.b\r\n")]
    [InlineData("...\r\n.\r\n", "..\r\n")]
    [InlineData("..\r\n.\r\n", ".\r\n")]
    [InlineData("..\n.\n", ".\r\n")]
    [InlineData(".x\r\n.\r\n", "x\r\n")]
    [InlineData("a.\r\nb..c\r\n.\r\n", "a.\r\nb..c\r\n")]
    [InlineData(" .\r\n.\r\n", " .\r\n")]
    public void Dot_stuffing_is_removed_from_every_line_including_the_first(string input, string expected)
    {
        var run = Decode(Encoding.UTF8.GetBytes(input), NoLimit);

        Assert.True(run.Found);
        Assert.Equal(expected, Text(run.Bytes));
    }

    [Theory]
    [InlineData(".\r\n")]
    [InlineData(".\n")]
    public void A_dot_straight_away_is_an_empty_message(string input)
    {
        var run = Decode(Encoding.ASCII.GetBytes(input), NoLimit);

        Assert.True(run.Found);
        Assert.Equal(input.Length, run.Consumed);
        Assert.Empty(run.Bytes!);
        Assert.False(run.TooLarge);
        Assert.Equal(0, run.Size);
    }

    [Theory]
    [InlineData("hello\r\n.\r\n")]
    [InlineData("hello\n.\n")]
    [InlineData("hello\r\n.\n")]
    [InlineData("hello\n.\r\n")]
    public void The_end_line_is_found_after_crlf_or_bare_lf(string input)
    {
        var run = Decode(Encoding.ASCII.GetBytes(input), NoLimit);

        Assert.True(run.Found);
        Assert.Equal(input.Length, run.Consumed);
        Assert.Equal("hello\r\n", Text(run.Bytes));
    }

    [Theory]
    [InlineData("a\r\n")]
    [InlineData("a\r\n.")]
    [InlineData("a\r\n.\r")]
    [InlineData("a\r\n .\r\n")]
    [InlineData("a\r\n.x\r\n")]
    [InlineData("a.\r\n")]
    [InlineData("")]
    public void Input_without_an_end_line_is_not_complete(string input)
    {
        using var decoder = new DataBodyDecoder(NoLimit);

        var found = decoder.Feed(Encoding.ASCII.GetBytes(input), out var consumed);

        Assert.False(found);
        Assert.Equal(input.Length, consumed);
    }

    [Fact]
    public void A_lone_cr_inside_a_line_is_kept()
    {
        var run = Decode("a\rb\r\nc\rd\n.\r\n"u8.ToArray(), NoLimit);

        Assert.Equal("a\rb\r\nc\rd\r\n", Text(run.Bytes));
    }

    [Theory]
    [InlineData(".\rx\r\n.\r\n", "\rx\r\n")]
    [InlineData(".\r\r\n.\r\n", "\r\r\n")]
    [InlineData("..\r\r\n.\r\n", ".\r\r\n")]
    [InlineData("\r\r\n.\r\n", "\r\r\n")]
    public void A_cr_after_a_stuffed_dot_is_content_not_part_of_an_end_line(string input, string expected)
    {
        var run = Decode(Encoding.ASCII.GetBytes(input), NoLimit);

        Assert.True(run.Found);
        Assert.Equal(expected, Text(run.Bytes));
    }

    [Fact]
    public void The_final_crlf_of_the_last_line_belongs_to_the_message()
    {
        var run = Decode("Subject: s\r\n\r\nlast line\r\n.\r\n"u8.ToArray(), NoLimit);

        Assert.EndsWith("last line\r\n", Text(run.Bytes), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("body\r\n.\r\n", "QUIT\r\n")]
    [InlineData("body\n.\n", "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n")]
    [InlineData(".\r\n", "NOOP\r\n")]
    [InlineData("body\r\n.\r\n", ".\r\n")]
    public void Bytes_after_the_end_line_are_left_for_the_next_command(string message, string after)
    {
        var input = Encoding.ASCII.GetBytes(message + after);
        using var decoder = new DataBodyDecoder(NoLimit);

        var found = decoder.Feed(input, out var consumed);

        Assert.True(found);
        Assert.Equal(message.Length, consumed);
        Assert.Equal(after, Encoding.ASCII.GetString(input, consumed, input.Length - consumed));
    }

    [Fact]
    public void When_the_end_line_comes_in_a_later_chunk_consumed_counts_only_that_chunk()
    {
        using var decoder = new DataBodyDecoder(NoLimit);

        Assert.False(decoder.Feed("line\r\n"u8, out var first));
        Assert.True(decoder.Feed(".\r\nRSET\r\n"u8, out var second));

        Assert.Equal(6, first);
        Assert.Equal(3, second);
        using var body = decoder.Complete();
        Assert.Equal("line\r\n", Text(body.ToArray()));
    }

    [Fact]
    public void A_message_of_exactly_the_limit_is_kept()
    {
        var run = Decode("12345678\r\n.\r\n"u8.ToArray(), maxBytes: 10);

        Assert.True(run.Found);
        Assert.False(run.TooLarge);
        Assert.Equal("12345678\r\n", Text(run.Bytes));
        Assert.Equal(10, run.Size);
    }

    [Fact]
    public void A_message_one_byte_over_the_limit_is_too_large_but_the_end_line_is_still_found()
    {
        var input = "123456789\r\n.\r\nQUIT\r\n"u8.ToArray();

        var run = Decode(input, maxBytes: 10);

        Assert.True(run.Found);
        Assert.True(run.TooLarge);
        Assert.Null(run.Bytes);
        Assert.Equal(11, run.Size);
        Assert.Equal(input.Length - "QUIT\r\n".Length, run.Consumed);
    }

    [Fact]
    public void Size_counts_the_canonical_message_even_far_past_the_limit()
    {
        var line = new string('x', 998) + "\n";
        var input = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(line, 300)) + ".\n");

        var run = Decode(input, maxBytes: 1000, chunk: 4096);

        Assert.True(run.Found);
        Assert.True(run.TooLarge);
        Assert.Null(run.Bytes);
        Assert.Equal(300 * 1000, run.Size);
        Assert.Equal(input.Length, run.Consumed);
    }

    [Fact]
    public void The_limit_applies_to_the_message_after_crlf_is_added_to_bare_lf_lines()
    {
        // 9 bytes sent, 10 stored ("abcdefgh\r\n"): the stored form is what counts.
        Assert.False(Decode("abcdefgh\n.\n"u8.ToArray(), maxBytes: 10).TooLarge);
        Assert.True(Decode("abcdefgh\n.\n"u8.ToArray(), maxBytes: 9).TooLarge);
    }

    [Fact]
    public void A_zero_limit_still_accepts_the_empty_message()
    {
        var run = Decode(".\r\n"u8.ToArray(), maxBytes: 0);

        Assert.False(run.TooLarge);
        Assert.Empty(run.Bytes!);
    }

    [Fact]
    public void A_body_larger_than_one_buffer_chunk_comes_back_whole()
    {
        var random = new Random(5321);
        var builder = new StringBuilder();
        for (var i = 0; i < 4000; i++)
            builder.Append(i % 7 == 0 ? ".." : "").Append(new string((char)('a' + random.Next(26)), random.Next(0, 120))).Append(i % 3 == 0 ? "\n" : "\r\n");
        var input = Encoding.ASCII.GetBytes(builder + ".\r\n");
        var expected = Reference(input, out _);
        Assert.True(expected!.Length > 3 * 64 * 1024, "the body must span several 64 KiB buffer chunks");

        var run = Decode(input, NoLimit, chunk: 7001);

        Assert.Equal(expected, run.Bytes);
        Assert.Equal(expected.Length, run.Size);
    }

    public static TheoryData<string> Tricky => new()
    {
        "Subject: a\r\n\r\n..x\r\n.\rx\r\n\r\r\na\rb\n...\n\n\r\n.\r\nAFTER",
        "..\r\n.\r\r\n.x\n.\r.\n\n.\n",
        ".\r\n",
        "\n.\n",
        "\r\n.\r\n",
        "\r\r\r\n\r\n.\r\nQUIT\r\n",
        "caf\u00e9\r\n.caf\u00e9\n.\r\n",
        "a\r",
    };

    [Theory]
    [MemberData(nameof(Tricky))]
    public void Splitting_the_input_at_any_one_position_gives_the_same_result(string text)
    {
        var input = Encoding.UTF8.GetBytes(text);
        var whole = Decode(input, NoLimit);
        AssertMatchesReference(input, whole);

        for (var cut = 0; cut <= input.Length; cut++)
            Assert.Equal(whole, Decode(input, NoLimit, cuts: [cut]));
    }

    [Theory]
    [MemberData(nameof(Tricky))]
    public void Splitting_the_input_at_any_two_positions_gives_the_same_result(string text)
    {
        var input = Encoding.UTF8.GetBytes(text);
        var whole = Decode(input, NoLimit);

        for (var first = 0; first <= input.Length; first++)
        {
            for (var second = first; second <= input.Length; second++)
                Assert.Equal(whole, Decode(input, NoLimit, cuts: [first, second]));
        }
    }

    [Theory]
    [MemberData(nameof(Tricky))]
    public void Feeding_one_byte_at_a_time_gives_the_same_result(string text)
    {
        var input = Encoding.UTF8.GetBytes(text);

        Assert.Equal(Decode(input, NoLimit), Decode(input, NoLimit, chunk: 1));
    }

    [Fact]
    public void Random_inputs_in_random_chunks_match_a_line_by_line_reference()
    {
        var random = new Random(20251128);
        byte[] alphabet = [(byte)'.', (byte)'.', (byte)'\r', (byte)'\r', (byte)'\n', (byte)'\n', (byte)'a', 0xC3, 0xA9, 0x00];
        for (var round = 0; round < 3000; round++)
        {
            var input = new byte[random.Next(0, 40)];
            for (var i = 0; i < input.Length; i++)
                input[i] = alphabet[random.Next(alphabet.Length)];
            var limit = random.Next(4) == 0 ? random.Next(0, 20) : NoLimit;

            var whole = Decode(input, limit);
            AssertMatchesReference(input, whole, limit);

            var cuts = Enumerable.Range(0, random.Next(0, 6)).Select(_ => random.Next(0, input.Length + 1)).Order().ToArray();
            Assert.Equal(whole, Decode(input, limit, cuts: cuts));
            Assert.Equal(whole, Decode(input, limit, chunk: 1));
        }
    }

    /// <summary>
    /// Telnet's Ctrl-C (and Ctrl-\) at a line's start: five bytes that are the telnet client's, not the
    /// message's. They are left out and counted (the session answers them), whichever way the input is cut.
    /// </summary>
    [Fact]
    public void Telnet_ctrl_c_at_a_line_start_is_left_out_and_counted_at_every_split_position()
    {
        byte[] input = [.. "Subject: x\r\n\r\nfirst\r\n"u8, 0xFF, 0xF4, 0xFF, 0xFD, 0x06, .. "second\r\n"u8, 0xFF, 0xF3, 0xFF, 0xFD, 0x06, .. ".\r\n"u8];

        for (var cut = 0; cut < input.Length; cut++)
        {
            using var decoder = new DataBodyDecoder(NoLimit);
            Assert.False(decoder.Feed(input.AsSpan(0, cut), out _));
            Assert.True(decoder.Feed(input.AsSpan(cut), out var used));
            Assert.Equal(input.Length - cut, used);
            Assert.Equal(2, decoder.TelnetKeys);
            using var body = decoder.Complete();
            Assert.Equal("Subject: x\r\n\r\nfirst\r\nsecond\r\n", Text(body.ToArray()));
        }
    }

    [Fact]
    public void Keys_are_looked_for_only_when_asked_and_only_the_first_hundred_in_a_message()
    {
        byte[] ctrlC = [0xFF, 0xF4, 0xFF, 0xFD, 0x06];
        byte[] line = [.. ctrlC, .. "x\r\n"u8];

        using (var declared8Bit = new DataBodyDecoder(NoLimit, lookForTelnet: false))
        {
            Assert.True(declared8Bit.Feed([.. line, .. ".\r\n"u8], out _));
            Assert.Equal(0, declared8Bit.TelnetKeys);
            using var body = declared8Bit.Complete();
            Assert.Equal(line, body.ToArray());
        }

        using var flood = new DataBodyDecoder(NoLimit);
        byte[] input = [.. Enumerable.Repeat(line, 101).SelectMany(l => l), .. ".\r\n"u8];
        Assert.True(flood.Feed(input, out _));
        Assert.Equal(100, flood.TelnetKeys);
        using var kept = flood.Complete();
        Assert.Equal([.. Enumerable.Repeat("x\r\n"u8.ToArray(), 100).SelectMany(l => l), .. line], kept.ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xF4, 0xFF, 0xFD, 0x07 })]
    [InlineData(new byte[] { 0xFF, 0xF4, 0xFF })]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xF4, 0xFF, 0xFD, 0x06 })]
    [InlineData(new byte[] { (byte)'a', 0xFF, 0xF4, 0xFF, 0xFD, 0x06 })]
    public void Bytes_that_only_begin_like_ctrl_c_or_are_not_at_a_line_start_are_kept(byte[] line)
    {
        byte[] input = [.. line, .. "\r\n.\r\n"u8];

        var run = Decode(input, NoLimit);

        Assert.Equal(Convert.ToHexString([.. line, .. "\r\n"u8]), run.Hex);
        Assert.Equal(run, Decode(input, NoLimit, chunk: 1));
    }

    [Fact]
    public void Random_inputs_with_telnet_bytes_in_random_chunks_match_the_reference()
    {
        var random = new Random(20261206);
        byte[][] symbols =
        [
            [(byte)'.'], [(byte)'\r'], [(byte)'\n'], [(byte)'\n'], [(byte)'a'], [0xFF],
            [0xFF, 0xF4, 0xFF, 0xFD, 0x06], [0xFF, 0xED, 0xFF, 0xFD, 0x06], [0xFF, 0xF4, 0xFF], [0xFF, 0xF5, 0xFF, 0xFD], [0xFF, 0xF6, 0xFF, 0xFD, 0x06],
        ];
        for (var round = 0; round < 3000; round++)
        {
            var input = Enumerable.Range(0, random.Next(0, 16)).SelectMany(_ => symbols[random.Next(symbols.Length)]).ToArray();

            var whole = Decode(input, NoLimit);
            AssertMatchesReference(input, whole);

            var cuts = Enumerable.Range(0, random.Next(0, 6)).Select(_ => random.Next(0, input.Length + 1)).Order().ToArray();
            Assert.Equal(whole, Decode(input, NoLimit, cuts: cuts));
            Assert.Equal(whole, Decode(input, NoLimit, chunk: 1));
        }
    }

    [Fact]
    public void Split_input_over_the_limit_is_too_large_at_every_split_position()
    {
        var input = "0123456789\r\n..abc\n.\r\n"u8.ToArray();

        for (var cut = 0; cut <= input.Length; cut++)
        {
            var run = Decode(input, maxBytes: 14, cuts: [cut]);
            Assert.True(run.Found);
            Assert.True(run.TooLarge);
            Assert.Equal(18, run.Size);
            Assert.Equal(input.Length, run.Consumed);
        }
    }

    private static void AssertMatchesReference(byte[] input, Run run, long maxBytes = NoLimit)
    {
        var expected = Reference(input, out var consumed);
        Assert.Equal(expected is not null, run.Found);
        if (expected is null)
            return;
        Assert.Equal(consumed, run.Consumed);
        Assert.Equal(expected.Length, run.Size);
        Assert.Equal(expected.Length > maxBytes, run.TooLarge);
        if (!run.TooLarge)
            Assert.Equal(expected, run.Bytes);
    }

    /// <summary>
    /// RFC 5321 4.5.2 written the obvious, non-incremental way: cut into lines at LF; a telnet key's five
    /// bytes (Ctrl-C, Ctrl-\, Ctrl-Z...) at a line's start (any number of them) are dropped first; "." (or ".\r") ends the message; a
    /// leading dot is dropped; a line keeps its CR before the LF or gets one.
    /// </summary>
    private static byte[]? Reference(byte[] input, out int consumed)
    {
        var output = new List<byte>();
        var start = 0;
        while (true)
        {
            var lf = Array.IndexOf(input, (byte)'\n', start);
            if (lf < 0)
            {
                consumed = input.Length;
                return null;
            }

            var line = input[start..lf];
            start = lf + 1;
            while (line is [0xFF, 0xF4 or 0xF3 or 0xED or 0xEE or 0xF5 or 0xEC, 0xFF, 0xFD, 0x06, ..])
                line = line[5..];
            if (line is [(byte)'.'] or [(byte)'.', (byte)'\r'])
            {
                consumed = start;
                return [.. output];
            }

            if (line is [(byte)'.', ..])
                line = line[1..];
            output.AddRange(line);
            if (line is not [.., (byte)'\r'])
                output.Add((byte)'\r');
            output.Add((byte)'\n');
        }
    }

    [Fact]
    public void Bodies_stay_in_memory_within_the_budget_wait_in_a_file_past_it_and_give_everything_back()
    {
        var spool = new BodySpool(128 * 1024, Path.Combine(Path.GetTempPath(), "mailsink-tests", "spool"));
        var first = Lines(100 * 1024);
        var second = Lines(10 * 1024);
        var large = Lines(BodySpool.MemoryPerBody + 1000);

        using (var a = new DataBodyDecoder(NoLimit, spool))
        using (var b = new DataBodyDecoder(NoLimit, spool))
        {
            Assert.False(a.Feed(first, out _));
            Assert.Equal(128 * 1024, spool.InMemoryBytes); // two 64 KiB chunks: the whole budget
            Assert.False(b.Feed(second, out _));
            Assert.Equal(1, spool.SpilledBodies); // no room left in memory: the second body waits in a file

            Assert.True(a.Feed(".\r\n"u8, out _));
            Assert.True(b.Feed(".\r\n"u8, out _));
            using var bodyA = a.Complete();
            using var bodyB = b.Complete();
            Assert.False(bodyA.Spilled);
            Assert.True(bodyB.Spilled);
            Assert.Equal(first, bodyA.ToArray());
            Assert.Equal(second, bodyB.ToArray());
        }

        Assert.Equal(0, spool.InMemoryBytes);
        Assert.Equal(0, spool.SpilledBodies);

        // One body may not take more than its share of memory, however much the budget has.
        var roomy = new BodySpool(long.MaxValue, Path.Combine(Path.GetTempPath(), "mailsink-tests", "spool"));
        using (var c = new DataBodyDecoder(NoLimit, roomy))
        {
            Assert.True(c.Feed([.. large, .. ".\r\n"u8.ToArray()], out _));
            using var body = c.Complete();
            Assert.True(body.Spilled);
            Assert.Equal(large, body.ToArray());
        }

        Assert.Equal(0, roomy.InMemoryBytes);
        Assert.Equal(0, roomy.SpilledBodies);

        static byte[] Lines(int length)
        {
            var line = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n"u8;
            var bytes = new byte[length - (length % line.Length)];
            for (var i = 0; i < bytes.Length; i += line.Length)
                line.CopyTo(bytes.AsSpan(i));
            return bytes;
        }
    }

    private sealed record Run(bool Found, int Consumed, bool TooLarge, long Size, string? Hex)
    {
        public byte[]? Bytes => Hex is null ? null : Convert.FromHexString(Hex);
    }

    /// <summary>
    /// Feeds <paramref name="input"/> in pieces (at <paramref name="cuts"/>, or every <paramref name="chunk"/>
    /// bytes) until the end line: once with the body in memory, once with a spool that has no memory to
    /// give (the body waits in a file from its first byte); both must give the same run.
    /// </summary>
    private static Run Decode(byte[] input, long maxBytes, int[]? cuts = null, int chunk = 0)
    {
        var inMemory = Decode(input, maxBytes, cuts, chunk, spool: null);
        var spool = new BodySpool(0, Path.Combine(Path.GetTempPath(), "mailsink-tests", "spool"));
        var inFile = Decode(input, maxBytes, cuts, chunk, spool);
        Assert.Equal(inMemory, inFile);
        Assert.Equal(0, spool.InMemoryBytes);
        Assert.Equal(0, spool.SpilledBodies);
        return inMemory;
    }

    private static Run Decode(byte[] input, long maxBytes, int[]? cuts, int chunk, BodySpool? spool)
    {
        var bounds = cuts is not null
            ? [0, .. cuts, input.Length]
            : chunk > 0
                ? [.. Enumerable.Range(0, (input.Length + chunk - 1) / chunk).Select(i => i * chunk), input.Length]
                : new[] { 0, input.Length };

        using var decoder = new DataBodyDecoder(maxBytes, spool);
        var consumed = 0;
        for (var i = 0; i + 1 < bounds.Length; i++)
        {
            var found = decoder.Feed(input.AsSpan(bounds[i], bounds[i + 1] - bounds[i]), out var used);
            Assert.InRange(used, 0, bounds[i + 1] - bounds[i]);
            consumed += used;
            if (found)
            {
                using var body = decoder.Complete();
                Assert.Equal(decoder.TooLarge, body.TooLarge);
                var bytes = body.TooLarge ? null : body.ToArray();
                Assert.Equal(body.TooLarge ? 0 : bytes!.Length, body.Length);
                return new Run(true, consumed, body.TooLarge, decoder.Size, bytes is null ? null : Convert.ToHexString(bytes));
            }

            Assert.Equal(bounds[i + 1] - bounds[i], used);
        }

        return new Run(false, consumed, decoder.TooLarge, decoder.Size, null);
    }

    private static string Text(byte[]? bytes) => Encoding.UTF8.GetString(bytes ?? throw new InvalidOperationException("no bytes"));

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
