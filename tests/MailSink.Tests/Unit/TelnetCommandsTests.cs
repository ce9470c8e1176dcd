using System.Buffers;
using MailSink.Server.Smtp;

namespace MailSink.Tests.Unit;

/// <summary>Telnet's commands taken out of command lines (RFC 854), on their own.</summary>
public sealed class TelnetCommandsTests
{
    [Theory]
    [InlineData("6E6F6F70", "6E6F6F70", false, 0)] // noop: nothing to take
    [InlineData("FFF4FFFD066E6F6F70", "6E6F6F70", true, 1)] // Ctrl-C, noop
    [InlineData("6D61FFF4FFFD066E6F6F70", "6E6F6F70", true, 1)] // ma, Ctrl-C, noop: what came before is dropped
    [InlineData("6E6F6FFFFD06FFFD0670", "6E6F6F70", false, 2)] // two marks inside a word
    [InlineData("6E6F6F70FFFA18004142", "6E6F6F70", false, 0)] // a subnegotiation cut off by the line end
    [InlineData("6E6F6F70FF", "6E6F6F70FF", false, 0)] // IAC last: a 0xFF byte
    [InlineData("FF416E", "FF416E", false, 0)] // IAC before a byte under 0xF0: data
    [InlineData("FFFFFFF0", "FF", false, 0)] // IAC IAC is 0xFF; then a stray SE is dropped
    [InlineData("61FFF762FFF8FFF763", "63", false, 0)] // erase character, erase line, erase character with nothing left
    public void Strip_leaves_what_was_typed(string lineHex, string keptHex, bool interrupted, int marks)
    {
        var effects = default(TelnetCommands.Effects);

        var kept = TelnetCommands.Strip(Convert.FromHexString(lineHex), ref effects);

        Assert.Equal(keptHex, Convert.ToHexString(kept));
        Assert.Equal(interrupted, effects.Interrupted);
        Assert.Equal(marks, effects.TimingMarks);
        Assert.Equal(lineHex != keptHex, effects.Any);
    }

    [Theory]
    [InlineData("FFF4FFFD06", 5)]
    [InlineData("FFF4FFFD066E", 5)] // stops at the text
    [InlineData("FFF4FFFD", 2)] // DO without its option: waits for it
    [InlineData("FF", 0)]
    [InlineData("FFFF", 0)] // a 0xFF byte of data: for the line to refuse
    [InlineData("FF41", 0)]
    [InlineData("FFFA1800FFF0FFF6", 8)] // a whole subnegotiation, then "are you there"
    [InlineData("FFFA1800", 0)] // a subnegotiation not yet ended
    public void TakeLeading_takes_whole_commands_only(string hex, int expected)
    {
        var effects = default(TelnetCommands.Effects);

        var taken = TelnetCommands.TakeLeading(new ReadOnlySequence<byte>(Convert.FromHexString(hex)), ref effects);

        Assert.Equal(expected, taken);
        Assert.Equal(expected > 0, effects.Any);
    }
}
