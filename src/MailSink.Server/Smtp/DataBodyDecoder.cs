namespace MailSink.Server.Smtp;

/// <summary>
/// Turns the bytes after <c>354</c> into the message: finds the end line (a lone dot, after CRLF or a bare
/// LF), removes dot-stuffing from every line including the first, and ends every line with CRLF (bare-LF
/// clients such as <c>openssl s_client</c> get canonical line ends; CRLF input passes byte for byte). An
/// empty message (a dot right after <c>354</c>) is zero bytes. Beyond the size limit it stops keeping
/// bytes but still reads to the end, so the session can answer <c>552</c> and go on. What telnet sends for
/// Ctrl-C (or another key) at a line's start is telnet's, not the message's, and is left out
/// (<see cref="TelnetKeys"/>), unless <paramref name="lookForTelnet"/> is false.
/// Works incrementally on any chunking of the input and never needs to look back (the few bytes that may
/// be telnet's are held until they are known). The bytes kept wait
/// in the <paramref name="spool"/>'s memory or files (without one, in memory: for tests and benchmarks).
/// </summary>
internal sealed class DataBodyDecoder(long maxBytes, BodySpool? spool = null, bool lookForTelnet = true) : IDisposable
{
    private static ReadOnlySpan<byte> CrLf => "\r\n"u8;

    private MessageBuffer _buffer = new(spool);
    private State _state = State.LineStart;
    private bool _lastKeptWasCr;
    private long _size;
    /// <summary>At most this many keys are left out of one message; past them the bytes are the message's (and count towards its size).</summary>
    private const int MaxTelnetKeys = 100;

    private int _telnetMatched;
    private byte _telnetSecond; // the key's command, in the bytes held so far
    private int _telnetSeen;

    private enum State
    {
        LineStart,
        Dot,    // a dot at the start of a line
        DotCr,  // ".\r" at the start of a line
        InLine,
        Telnet, // 0xFF at the start of a line: perhaps what telnet sends for a key
    }

    public bool TooLarge { get; private set; }

    /// <summary>
    /// Keys pressed in telnet while the message was typed (Ctrl-C and the like), not yet answered: their bytes
    /// are left out of the message, and the session answers each one's timing mark.
    /// </summary>
    public int TelnetKeys { get; set; }

    /// <summary>The last of those keys' command (<see cref="TelnetCommands.KeyName"/>).</summary>
    public byte TelnetKey { get; private set; }

    /// <summary>The session has said, once for this message, that a key does not end it.</summary>
    public bool TelnetKeyNoted { get; set; }

    /// <summary>Bytes the message has (or would have had, when too large).</summary>
    public long Size => _size;

    /// <summary>Consumes input; returns true when the end line was found, with <paramref name="consumed"/> up to its end.</summary>
    public bool Feed(ReadOnlySpan<byte> input, out int consumed)
    {
        var i = 0;
        while (i < input.Length)
        {
            switch (_state)
            {
                case State.LineStart:
                    if (input[i] == (byte)'.')
                    {
                        _state = State.Dot;
                        i++;
                    }
                    else if (input[i] == TelnetCommands.Iac && lookForTelnet && _telnetSeen < MaxTelnetKeys)
                    {
                        _state = State.Telnet;
                        _telnetMatched = 1;
                        i++;
                    }
                    else
                    {
                        _state = State.InLine;
                    }

                    break;

                case State.Telnet:
                    if (TelnetCommands.ContinuesKey(_telnetMatched, input[i]))
                    {
                        if (_telnetMatched == 1)
                            _telnetSecond = input[i];
                        _telnetMatched++;
                        i++;
                        if (_telnetMatched == TelnetCommands.KeyLength)
                        {
                            // Telnet's, not the message's: the line is what the person typed after the key (their
                            // terminal dropped what came before), so a dot typed next ends the message.
                            TelnetKeys++;
                            TelnetKey = _telnetSecond;
                            _telnetSeen++;
                            _state = State.LineStart;
                        }
                    }
                    else
                    {
                        KeepHeldTelnet(); // content after all, and this byte is the line's next
                        _state = State.InLine;
                    }

                    break;

                case State.Dot:
                    if (input[i] == (byte)'\n')
                    {
                        consumed = i + 1;
                        return true;
                    }

                    if (input[i] == (byte)'\r')
                    {
                        _state = State.DotCr;
                        i++;
                    }
                    else
                    {
                        _state = State.InLine; // the stuffed dot is dropped
                    }

                    break;

                case State.DotCr:
                    if (input[i] == (byte)'\n')
                    {
                        consumed = i + 1;
                        return true;
                    }

                    Keep("\r"u8); // ".\rx": a stray CR after a stuffed dot is content
                    _state = State.InLine;
                    break;

                case State.InLine:
                    var rest = input[i..];
                    var lf = rest.IndexOf((byte)'\n');
                    if (lf < 0)
                    {
                        Keep(rest);
                        i = input.Length;
                        break;
                    }

                    var crBefore = lf > 0 ? rest[lf - 1] == (byte)'\r' : _lastKeptWasCr;
                    if (crBefore)
                    {
                        Keep(rest[..(lf + 1)]);
                    }
                    else
                    {
                        Keep(rest[..lf]);
                        Keep(CrLf);
                    }

                    i += lf + 1;
                    _state = State.LineStart;
                    break;
            }
        }

        consumed = input.Length;
        return false;
    }

    /// <summary>Consumes input, segment by segment, up to the end line: what was consumed, and whether the end line was found.</summary>
    public (long Consumed, bool Done) Feed(System.Buffers.ReadOnlySequence<byte> input)
    {
        long consumed = 0;
        foreach (var segment in input)
        {
            var done = Feed(segment.Span, out var used);
            consumed += used;
            if (done)
                return (consumed, true);
        }

        return (consumed, false);
    }

    /// <summary>The message after the end line was found, which now owns its bytes; or the fact that it was too large.</summary>
    public ReceivedBody Complete()
    {
        if (TooLarge)
            return ReceivedBody.OverLimit;
        var body = ReceivedBody.Of(_buffer);
        _buffer = new MessageBuffer(spool); // what this decoder disposes from now on holds nothing
        return body;
    }

    /// <summary>Keeps the bytes held as perhaps a telnet key's: they began like one and turned out not to be.</summary>
    private void KeepHeldTelnet()
    {
        ReadOnlySpan<byte> held = [TelnetCommands.Iac, _telnetSecond, TelnetCommands.Iac, TelnetCommands.Do];
        Keep(held[.._telnetMatched]);
    }

    private void Keep(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            return;
        _size += bytes.Length;
        _lastKeptWasCr = bytes[^1] == (byte)'\r';
        if (TooLarge)
            return;
        if (_size > maxBytes)
        {
            TooLarge = true;
            _buffer.Dispose();
            return;
        }

        _buffer.Append(bytes);
    }

    public void Dispose() => _buffer.Dispose();
}
