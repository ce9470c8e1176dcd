using System.Buffers;

namespace MailSink.Server.Smtp;

/// <summary>
/// Telnet's in-band commands (RFC 854) in what a person types at <c>telnet host 25</c>. A telnet client
/// speaks its protocol even to a port that does not: Ctrl-C sends "interrupt process" followed by "DO
/// TIMING-MARK" (RFC 860), and the client then throws away everything the server writes until the server
/// answers that mark. A server that never answers looks dead from then on: the person's next commands are
/// carried out, but no reply is shown, not even QUIT's.
/// <para>
/// A command is the byte 0xFF (IAC) and a command byte from 0xF0 up, which no UTF-8 text contains, so in a
/// command line it cannot be mistaken for something a client meant to say. BDAT chunks are never looked at;
/// in a DATA body only Ctrl-C's own five bytes at a line's start are noticed, and left out of the message.
/// </para>
/// </summary>
internal static class TelnetCommands
{
    public const byte Iac = 0xFF;
    private const byte SubnegotiationEnd = 0xF0;
    private const byte Break = 0xF3;
    private const byte InterruptProcess = 0xF4;
    private const byte AreYouThere = 0xF6;
    private const byte EraseCharacter = 0xF7;
    private const byte EraseLine = 0xF8;
    private const byte Subnegotiation = 0xFA;
    private const byte Will = 0xFB;
    public const byte Do = 0xFD;
    private const byte TimingMark = 0x06;

    /// <summary>The answer to "DO TIMING-MARK": "WILL TIMING-MARK", the mark itself (RFC 860).</summary>
    public static ReadOnlySpan<byte> TimingMarkAnswer => [Iac, Will, TimingMark];

    /// <summary>
    /// What a telnet client sends for Ctrl-C or Ctrl-\ is five bytes: "interrupt process" (or "break") and "DO
    /// TIMING-MARK". In a DATA body they are looked for at a line's start only, where a telnet client in line
    /// mode sends them; no text, 8-bit or not, has them.
    /// </summary>
    public const int InterruptLength = 5;

    /// <summary>Whether <paramref name="next"/>, after the first <paramref name="matched"/> of Ctrl-C's bytes, still matches them.</summary>
    public static bool ContinuesInterrupt(int matched, byte next) => matched switch
    {
        0 => next == Iac,
        1 => next is InterruptProcess or Break,
        2 => next == Iac,
        3 => next == Do,
        4 => next == TimingMark,
        _ => false,
    };

    /// <summary>What the commands found ask of the server.</summary>
    public struct Effects
    {
        /// <summary>How many "DO TIMING-MARK" to answer.</summary>
        public int TimingMarks;

        /// <summary>Ctrl-C (interrupt process).</summary>
        public bool Interrupted;

        /// <summary>Ctrl-\ (break).</summary>
        public bool Break;

        /// <summary>"Are you there" (telnet's <c>send ayt</c>).</summary>
        public bool AreYouThere;

        /// <summary>Whether any telnet command was found.</summary>
        public bool Any;
    }

    /// <summary>
    /// Takes the whole telnet commands at the start of <paramref name="input"/>: how many bytes they make up (0
    /// when it does not start with one, or only with part of one), and what they ask in <paramref name="effects"/>.
    /// Line editing (erase a character, erase the line) has nothing to edit at the start of a line.
    /// </summary>
    public static int TakeLeading(in ReadOnlySequence<byte> input, ref Effects effects)
    {
        // A telnet client sends a few bytes at a time; a longer run is left to the line (Strip).
        Span<byte> head = stackalloc byte[64];
        var length = (int)Math.Min(input.Length, head.Length);
        input.Slice(0, length).CopyTo(head);
        head = head[..length];

        var taken = 0;
        while (taken + 1 < head.Length && head[taken] == Iac && head[taken + 1] >= SubnegotiationEnd && head[taken + 1] != Iac)
        {
            var size = CommandSize(head[taken..]);
            if (size == 0)
                break; // the rest of it is still to come
            Apply(head.Slice(taken, size), ref effects);
            taken += size;
        }

        return taken;
    }

    /// <summary>
    /// A command line without its telnet commands, as typed: "interrupt", "break" and "erase line" drop
    /// what came before them on the line, "erase character" the character before it. "IAC IAC" is a 0xFF
    /// byte of data; so is an IAC not followed by a command, and each is left for the UTF-8 check to refuse.
    /// </summary>
    public static byte[] Strip(ReadOnlySpan<byte> line, ref Effects effects)
    {
        var kept = new List<byte>(line.Length);
        var i = 0;
        while (i < line.Length)
        {
            if (line[i] != Iac || i + 1 >= line.Length || line[i + 1] < SubnegotiationEnd)
            {
                kept.Add(line[i++]);
                continue;
            }

            if (line[i + 1] == Iac)
            {
                kept.Add(Iac);
                i += 2;
                continue;
            }

            // A subnegotiation cut off by the line end, or an option byte missing: the command ends the line.
            var size = CommandSize(line[i..]);
            if (size == 0)
                size = line.Length - i;
            var command = line.Slice(i, size);
            Apply(command, ref effects);
            switch (command[1])
            {
                case InterruptProcess or Break or EraseLine:
                    kept.Clear();
                    break;
                case EraseCharacter:
                    while (kept.Count > 0 && (kept[^1] & 0xC0) == 0x80)
                        kept.RemoveAt(kept.Count - 1); // a UTF-8 character's continuation bytes
                    if (kept.Count > 0)
                        kept.RemoveAt(kept.Count - 1);
                    break;
            }

            i += size;
        }

        return [.. kept];
    }

    /// <summary>The length of the command at the start of <paramref name="bytes"/> (which starts "IAC command"); 0 when it is not all there.</summary>
    private static int CommandSize(ReadOnlySpan<byte> bytes)
    {
        var command = bytes[1];
        if (command is >= Will and <= 0xFE)
            return bytes.Length >= 3 ? 3 : 0; // WILL, WONT, DO, DONT and the option
        if (command != Subnegotiation)
            return 2;
        for (var i = 2; i + 1 < bytes.Length; i++)
        {
            if (bytes[i] == Iac && bytes[i + 1] == SubnegotiationEnd)
                return i + 2;
        }

        return 0;
    }

    private static void Apply(ReadOnlySpan<byte> command, ref Effects effects)
    {
        effects.Any = true;
        switch (command[1])
        {
            case InterruptProcess:
                effects.Interrupted = true;
                break;
            case Break:
                effects.Break = true;
                break;
            case AreYouThere:
                effects.AreYouThere = true;
                break;
            case Do when command.Length == 3 && command[2] == TimingMark:
                effects.TimingMarks++;
                break;
        }
    }
}
