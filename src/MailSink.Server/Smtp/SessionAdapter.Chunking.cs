using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MailSink.Storage;

namespace MailSink.Server.Smtp;

/// <summary>
/// CHUNKING (RFC 3030): <c>BDAT size [LAST]</c> followed by exactly that many bytes, in as many chunks as
/// the client likes, the last one marked. The library knows nothing of it: the adapter reads every chunk,
/// answers each one but the last, and at the last hands the library a <c>DATA</c> whose body is already
/// there, so that the message is stored and answered exactly as one sent with DATA. The bytes are kept as
/// sent (no dot-stuffing to undo, no line ends to mend), which is also what BINARYMIME needs.
/// </summary>
internal sealed partial class SessionAdapter
{
    /// <summary>A chunk that is not the last and brings less than this counts as a command without a message.</summary>
    private const int ProgressChunkBytes = 1024;

    private async ValueTask BdatAsync(string args, CancellationToken cancellationToken)
    {
        var match = BdatArguments().Match(args);
        if (!match.Success || !long.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            await CloseForMalformedBdatAsync("BDAT " + args);
            return;
        }

        var last = match.Groups[2].Success;

        // "BDAT 0" now and then would otherwise hold a slot for ever, as NOOP would.
        if (!last && size < ProgressChunkBytes && await OverCommandCapAsync())
            return;

        var refusal = BdatRefusal();
        var keep = refusal is null && (_state.Chunks?.Length ?? 0) + size <= Settings.MaxMessageBytes;
        if (refusal is null && keep)
            _state.Chunks ??= new MessageBuffer(Settings.Spool);

        // The chunk is read whatever the answer: its bytes follow the command and are not commands.
        if (!await ReceiveChunkAsync(size, keep ? _state.Chunks : null, cancellationToken))
            return;
        _chunkJustRead = true;

        if (refusal is not null)
        {
            // RFC 3030: a refused chunk fails its message. Going on with the transaction could store a
            // message that lacks this chunk.
            if (_state.InTransaction)
            {
                _state.ResetTransaction();
                Enqueue(ForwardKind.SilentRset, "RSET");
            }

            Reply(refusal);
            return;
        }

        if (!keep)
        {
            // RFC 3030: after a 5xx to a chunk the message has failed; the chunks the client had already
            // pipelined behind it are read and refused with 503, as the transaction is over.
            Log.MessageTooLarge(logger, Id, Settings.MaxMessageBytes);
            _state.ResetTransaction();
            Enqueue(ForwardKind.SilentRset, "RSET");
            Reply($"552 Message exceeds the limit of {Settings.MaxMessageBytes} bytes; nothing was stored, and the transaction is reset");
            return;
        }

        if (!last)
        {
            Reply($"250 {size} octets received, {_state.Chunks!.Length} in all so far");
            return;
        }

        _state.Body = ReceivedBody.Of(_state.Chunks!);
        _state.Chunks = null;
        Enqueue(ForwardKind.Bdat, "DATA");
    }

    /// <summary>Why a chunk cannot be taken now (a 503), or null when it can.</summary>
    private string? BdatRefusal()
    {
        if (!_state.Greeted)
            return GreetFirst;
        if (!_state.InTransaction)
            return "503 Send MAIL FROM and RCPT TO before BDAT";
        if (_state.Recipients.Count == 0)
            return "503 Send RCPT TO before BDAT: no recipient yet; the chunk is dropped and the transaction reset";
        return null;
    }

    /// <summary>
    /// A BDAT whose size cannot be read: the chunk after it (if any) cannot be told from commands, and
    /// reading it as commands could run what is in a message. Postfix closes the connection too.
    /// </summary>
    private async ValueTask CloseForMalformedBdatAsync(string command)
    {
        Log.MalformedBdat(logger, Id, QuotedText.Printable(command, 40));
        await CloseWithAsync($"421 {Settings.ServerName} Syntax: BDAT <size> [LAST]; the bytes after a malformed BDAT cannot be told from commands, closing connection");
    }

    /// <summary>Whether a line the reader refused (too long, control bytes, not UTF-8) is a BDAT command all the same.</summary>
    private static bool IsBdatLine(ReadOnlySequence<byte> line)
    {
        Span<byte> start = stackalloc byte[16];
        var head = start[..(int)Math.Min(start.Length, line.Length)];
        line.Slice(0, head.Length).CopyTo(head);
        var text = head.TrimStart(" \t"u8);
        return text.Length >= 4
            && Ascii.EqualsIgnoreCase(text[..4], "BDAT"u8)
            && (text.Length == 4 || !char.IsAsciiLetterOrDigit((char)text[4]));
    }

    /// <summary>
    /// Reads the <paramref name="size"/> bytes of a chunk that follow its command: into <paramref name="into"/>,
    /// or, when null, read and dropped. False when the session ended first (closed, idle, or gone).
    /// </summary>
    private async ValueTask<bool> ReceiveChunkAsync(long size, MessageBuffer? into, CancellationToken cancellationToken)
    {
        if (size == 0)
            return true; // nothing to wait for
        var chunk = new ChunkTaker(size, into);
        // A chunk outside a transaction is only being read to be dropped: a drain need not wait for it.
        if (await ReadBytesAsync(chunk, static (chunk, input) => chunk.Take(input), watchDrain: !_state.InTransaction, cancellationToken))
            return true;
        Log.ChunkAbandoned(logger, Id, size - chunk.Left);
        return false;
    }

    /// <summary>Takes a chunk's bytes as they come, up to its size, into a buffer (or nowhere, when it is dropped).</summary>
    private sealed class ChunkTaker(long size, MessageBuffer? into)
    {
        public long Left { get; private set; } = size;

        public (long Taken, bool Done) Take(ReadOnlySequence<byte> input)
        {
            var taken = input.Slice(0, Math.Min(Left, input.Length));
            if (into is not null)
            {
                foreach (var segment in taken)
                    into.Append(segment.Span);
            }

            Left -= taken.Length;
            return (taken.Length, Left == 0);
        }
    }

    /// <summary>RFC 3030: <c>chunk-size [SP "LAST"]</c>, the size in decimal digits; LAST in any ASCII case, as people type it.</summary>
    [GeneratedRegex(@"^([0-9]{1,18})(?:[ \t]+([Ll][Aa][Ss][Tt]))?$")]
    private static partial Regex BdatArguments();
}
