using System.Buffers;
using MailSink.Server.Smtp;

namespace MailSink.Tests.Unit;

/// <summary>Telnet's commands taken out of command lines (RFC 854), on their own.</summary>
public sealed class TelnetCommandsTests
{
    [Theory]
    [InlineData("6E6F6F70", "6E6F6F70", 0, 0)] // noop: nothing to take
    [InlineData("6D61FFF4FFFD066E6F6F70", "6E6F6F70", 0xF4, 1)] // ma, Ctrl-C, noop: what came before is dropped
    [InlineData("6D61FFEDFFFD066E6F6F70", "6E6F6F70", 0xED, 1)] // ma, Ctrl-Z, noop
    [InlineData("6E6F6FFFFD06FFFD0670", "6E6F6F70", 0, 2)] // two marks inside a word
    [InlineData("61FFF762FFF8FFF763FFFD06", "63", 0, 1)] // erase character, erase line, erase character with nothing left
    [InlineData("6E6F6F70FFFFFFFD06", "6E6F6F70FF", 0, 1)] // IAC IAC is a 0xFF byte, left for the UTF-8 check
    [InlineData("FFFB186E6F6F70FFFD06", "FFFB186E6F6F70", 0, 1)] // WILL of another option: not what telnet sends unasked
    [InlineData("FFFA1800FFF06E6F6F70FFFD06", "FFFA1800FFF06E6F6F70", 0, 1)] // a subnegotiation (and SE): the same
    [InlineData("6AFFF4722E6578", "6AFFF4722E6578", 0, 0)] // Latin-1 "jÿôr.ex": no timing mark on the line, nothing taken
    [InlineData("6E6F6FFFF770", "6E6F6FFFF770", 0, 0)] // erase character alone, no mark on the line: left as it is
    public void Strip_leaves_what_was_typed(string lineHex, string keptHex, int key, int marks)
    {
        var effects = default(TelnetCommands.Effects);

        var kept = TelnetCommands.Strip(Convert.FromHexString(lineHex), ref effects);

        Assert.Equal(keptHex, Convert.ToHexString(kept));
        Assert.Equal(key, effects.Key);
        Assert.Equal(marks, effects.TimingMarks);
        Assert.Equal(marks > 0, effects.Any);
    }

    [Theory]
    [InlineData("FFF4FFFD06", 5)]
    [InlineData("FFF4FFFD066E", 5)] // stops at the text
    [InlineData("FFF4FFFD", 0)] // DO without its option: nothing yet, so that the key's word never goes before the mark's answer
    [InlineData("FFF4FF", 0)]
    [InlineData("FF", 0)]
    [InlineData("FFF4", 0)] // a key that ends what was read: its mark may be on the way, so its word waits
    [InlineData("FFF46E", 2)] // a key without a mark, then text: taken with the text
    [InlineData("FFF1", 2)] // NOP alone, whole
    [InlineData("FFF6", 2)] // are you there
    [InlineData("FFFF", 0)] // a 0xFF byte of data: for the line to refuse
    [InlineData("FF41", 0)]
    [InlineData("FFFA1800FFF0", 0)] // a subnegotiation: not telnet's unasked
    [InlineData("FFF4FFFB18", 2)] // a key, then WILL of another option: the key only
    public void TakeLeading_takes_whole_commands_only(string hex, int expected)
    {
        var effects = default(TelnetCommands.Effects);

        var taken = TelnetCommands.TakeLeading(new ReadOnlySequence<byte>(Convert.FromHexString(hex)), ref effects);

        Assert.Equal(expected, taken);
        Assert.Equal(expected > 0, effects.Any);
    }

    [Fact]
    public void A_run_of_commands_longer_than_a_persons_is_taken_up_to_its_last_whole_one()
    {
        var effects = default(TelnetCommands.Effects);
        byte[] run = [.. Enumerable.Repeat<byte[]>([0xFF, 0xF1], 31).SelectMany(b => b), 0xFF, 0xFD, 0x06];

        // 31 NOPs, then a mark cut by the 64 bytes looked at: not waited for, as a flood never completes.
        Assert.Equal(62, TelnetCommands.TakeLeading(new ReadOnlySequence<byte>(run), ref effects));
    }
}
