using System.Buffers;

namespace MailSink.Server.Smtp;

/// <summary>
/// Telnet's in-band commands (RFC 854) in what a person types at <c>telnet host 25</c>. A telnet client
/// speaks its protocol even to a port that does not: Ctrl-C sends "interrupt process" followed by "DO
/// TIMING-MARK" (RFC 860), and the client then throws away everything the server writes until the server
/// answers that mark. A server that never answers looks dead from then on: the person's next commands are
/// carried out, but no reply is shown, not even QUIT's. Ctrl-\, Ctrl-Z and Ctrl-O do the same with "break",
/// "suspend" and "abort output".
/// <para>
/// Only what a telnet client sends to a server that never negotiated is taken: the one-byte commands and
/// WILL, WONT, DO or DONT of the timing mark. 0xFF is never UTF-8, so none of it can be a command a client
/// meant; before a line anything of it is taken, inside a line only where the line holds "DO TIMING-MARK"
/// too (the key's own signature; a byte pair such as 0xFF 0xF4 alone is left for the UTF-8 check to refuse, as
/// a Latin-1 "ÿô" must be). BDAT chunks are never looked at; in a DATA body only a key's five bytes at a
/// line's start are (<see cref="DataBodyDecoder"/>).
/// </para>
/// </summary>
internal static class TelnetCommands
{
    public const byte Iac = 0xFF;
    public const byte Do = 0xFD;
    private const byte EndOfFile = 0xEC;
    private const byte Suspend = 0xED;
    private const byte Abort = 0xEE;
    private const byte Break = 0xF3;
    private const byte InterruptProcess = 0xF4;
    private const byte AbortOutput = 0xF5;
    private const byte AreYouThere = 0xF6;
    private const byte EraseCharacter = 0xF7;
    private const byte EraseLine = 0xF8;
    private const byte GoAhead = 0xF9;
    private const byte Will = 0xFB;
    private const byte DoNot = 0xFE;
    private const byte TimingMark = 0x06;

    /// <summary>The answer to "DO TIMING-MARK": "WILL TIMING-MARK", the mark itself (RFC 860).</summary>
    public static ReadOnlySpan<byte> TimingMarkAnswer => [Iac, Will, TimingMark];

    /// <summary>A key's bytes in line mode: its command, then "DO TIMING-MARK" (IAC x IAC DO 6).</summary>
    public const int KeyLength = 5;

    /// <summary>Whether <paramref name="next"/>, after the first <paramref name="matched"/> of a key's five bytes, still matches them.</summary>
    public static bool ContinuesKey(int matched, byte next) => matched switch
    {
        0 => next == Iac,
        1 => IsKey(next),
        2 => next == Iac,
        3 => next == Do,
        4 => next == TimingMark,
        _ => false,
    };

    /// <summary>The key a command stands for, as a person pressed it.</summary>
    public static string KeyName(byte command) => command switch
    {
        InterruptProcess => "Interrupt (Ctrl-C)",
        Break => "Break (Ctrl-\\)",
        Suspend => "Suspend (Ctrl-Z)",
        AbortOutput => "Abort output (Ctrl-O)",
        Abort => "Abort",
        _ => "End of file",
    };

    /// <summary>The commands a key sends: interrupt, break, suspend, abort output, abort, end of file.</summary>
    private static bool IsKey(byte command) => command is InterruptProcess or Break or Suspend or AbortOutput or Abort or EndOfFile;

    /// <summary>What the commands found ask of the server.</summary>
    public struct Effects
    {
        /// <summary>How many "DO TIMING-MARK" to answer.</summary>
        public int TimingMarks;

        /// <summary>The last key's command (<see cref="KeyName"/>), or 0.</summary>
        public byte Key;

        /// <summary>"Are you there" (telnet's <c>send ayt</c>).</summary>
        public bool AreYouThere;

        /// <summary>Whether any telnet command was found.</summary>
        public bool Any;
    }

    /// <summary>
    /// Takes the whole telnet commands at the start of <paramref name="input"/>: how many bytes they make up, and
    /// what they ask in <paramref name="effects"/>. 0 when it does not start with one, and also while the last
    /// one is incomplete or is a key that ends the bytes read: a key's word must not go out before its timing
    /// mark has come and is answered first (past a run of 64 bytes, longer than any person's, it may). Line
    /// editing (erase a character, erase the line) has nothing to edit at the start of a line.
    /// </summary>
    public static int TakeLeading(in ReadOnlySequence<byte> input, ref Effects effects)
    {
        // A telnet client sends a few bytes at a time; a longer run is left to the line (Strip).
        const int Window = 64;
        Span<byte> head = stackalloc byte[Window];
        var length = (int)Math.Min(input.Length, Window);
        input.Slice(0, length).CopyTo(head);
        head = head[..length];

        var taken = 0;
        var found = default(Effects);
        var lastIsKey = false;
        while (taken < head.Length && head[taken] == Iac)
        {
            var size = CommandSize(head[taken..]);
            if (size < 0)
                return length < Window ? 0 : taken; // incomplete: wait for the rest (unless the run is longer than a person's)
            if (size == 0)
                break; // not telnet's
            Apply(head.Slice(taken, size), ref found);
            lastIsKey = size == 2 && IsKey(head[taken + 1]);
            taken += size;
        }

        // A key that ends what has been read may have its mark still on the way (a read can end between the
        // two): its word waits for the mark's answer, so nothing is taken yet. A key sent without a mark gets
        // its word once the next bytes come.
        if (lastIsKey && taken == length && length < Window)
            return 0;
        if (taken > 0)
            effects = found;
        return taken;
    }

    /// <summary>
    /// A command line without its telnet commands, as typed, if it holds "DO TIMING-MARK" (else unchanged):
    /// a key drops what came before it on the line, "erase line" too, "erase character" the character
    /// before it. Any other 0xFF stays, for the UTF-8 check to refuse.
    /// </summary>
    public static byte[] Strip(ReadOnlySpan<byte> line, ref Effects effects)
    {
        if (line.IndexOf([Iac, Do, TimingMark]) < 0)
            return line.ToArray();

        var kept = new List<byte>(line.Length);
        var i = 0;
        while (i < line.Length)
        {
            if (line[i..] is [Iac, Iac, ..])
            {
                kept.Add(Iac); // IAC IAC: a 0xFF byte of data
                i += 2;
                continue;
            }

            var size = line[i] == Iac ? CommandSize(line[i..]) : 0;
            if (size <= 0)
            {
                kept.Add(line[i++]);
                continue;
            }

            var command = line.Slice(i, size);
            Apply(command, ref effects);
            if (IsKey(command[1]) || command[1] == EraseLine)
            {
                kept.Clear();
            }
            else if (command[1] == EraseCharacter)
            {
                while (kept.Count > 0 && (kept[^1] & 0xC0) == 0x80)
                    kept.RemoveAt(kept.Count - 1); // a UTF-8 character's continuation bytes
                if (kept.Count > 0)
                    kept.RemoveAt(kept.Count - 1);
            }

            i += size;
        }

        return [.. kept];
    }

    /// <summary>
    /// The length of the command at the start of <paramref name="bytes"/> (which starts with IAC): 2 or 3; 0 when
    /// it is not one a telnet client sends unasked (left as data); -1 when it may be one but is not all there.
    /// </summary>
    private static int CommandSize(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 2)
            return -1;
        var command = bytes[1];
        if (IsKey(command) || command is 0xEF or (>= 0xF1 and <= GoAhead))
            return 2; // a key, end of record, NOP, data mark, are-you-there, erase character or line, go ahead
        if (command is >= Will and <= DoNot)
            return bytes.Length < 3 ? -1 : bytes[2] == TimingMark ? 3 : 0;
        return 0; // IAC IAC (a 0xFF byte), a subnegotiation, or not telnet at all
    }

    private static void Apply(ReadOnlySpan<byte> command, ref Effects effects)
    {
        effects.Any = true;
        if (IsKey(command[1]))
            effects.Key = command[1];
        else if (command[1] == AreYouThere)
            effects.AreYouThere = true;
        else if (command is [_, Do, TimingMark])
            effects.TimingMarks++;
    }
}
