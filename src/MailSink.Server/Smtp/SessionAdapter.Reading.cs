using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;

namespace MailSink.Server.Smtp;

/// <summary>
/// Reading from the client: command lines (LF or CRLF ended, within a length limit, valid UTF-8 without
/// control characters), DATA bodies straight into <see cref="SessionState.Body"/>, and the idle, busy and
/// drain timeouts that end a session waiting for either.
/// </summary>
internal sealed partial class SessionAdapter
{
    /// <summary>Reads one client line (LF or CRLF ended); null when the session is over (closed, idle, draining).</summary>
    private async ValueTask<ClientLine?> ReadLineAsync(bool watchDrain, CancellationToken cancellationToken)
    {
        var discarding = false;
        var discardingBdat = false;
        var needMore = false;
        // The whole line must arrive within the idle timeout: a client trickling a byte at a time does
        // not keep the session open.
        var since = Environment.TickCount64;
        while (true)
        {
            var input = Transport.Input;
            ReadResult result;
            if (needMore || !input.TryRead(out result))
            {
                var read = await ReadTransportAsync(input, watchDrain, since, cancellationToken);
                if (read is null)
                    return null;
                result = read.Value;
            }

            var buffer = result.Buffer;
            var telnet = default(TelnetCommands.Effects);
            if (!discarding && buffer.FirstSpan is [TelnetCommands.Iac, ..] && TelnetCommands.TakeLeading(buffer, ref telnet) is > 0 and var taken)
            {
                // Telnet's commands before a line (Ctrl-C, say) are answered at once: the client shows
                // nothing more until its timing mark is answered.
                input.AdvanceTo(buffer.GetPosition(taken));
                if (await AnswerTelnetAsync(telnet))
                    return null;
                needMore = false;
                since = Environment.TickCount64; // a new line starts after them
                continue;
            }

            var lf = buffer.PositionOf((byte)'\n');
            if (lf is { } end)
            {
                var line = buffer.Slice(0, end);
                var clientLine = discarding || line.Length > MaxCommandLine
                    ? new ClientLine(null, $"500 Line too long: commands are limited to {MaxCommandLine} bytes", discarding ? discardingBdat : IsBdatLine(line))
                    : Decode(line, ref telnet);
                input.AdvanceTo(buffer.GetPosition(1, end));
                if (telnet.Any && await AnswerTelnetAsync(telnet))
                    return null;
                if (clientLine is not null)
                    return clientLine;

                // The line held telnet's commands and nothing else: on to the next.
                needMore = false;
                since = Environment.TickCount64;
                continue;
            }

            if (discarding || buffer.Length > MaxCommandLine)
            {
                if (!discarding)
                    discardingBdat = IsBdatLine(buffer);
                discarding = true;
                input.AdvanceTo(buffer.End);
            }
            else
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }

            if (result.IsCompleted)
            {
                Log.ClientClosed(logger, Id);
                _closing = true;
                return null;
            }

            needMore = true;
        }

        // Null when the line held nothing but telnet's commands.
        static ClientLine? Decode(System.Buffers.ReadOnlySequence<byte> line, ref TelnetCommands.Effects telnet)
        {
            var bytes = line.ToArray().AsSpan();
            // A BDAT line is never edited: one that is not plain text closes the session (BdatAsync), as what
            // the client sends next may be its chunk.
            if (bytes.Contains(TelnetCommands.Iac) && !IsBdatLine(line))
                bytes = TelnetCommands.Strip(bytes, ref telnet);
            if (!bytes.IsEmpty && bytes[^1] == (byte)'\r')
                bytes = bytes[..^1];
            if (bytes.IsEmpty && telnet.Any)
                return null;
            for (var i = 0; i < bytes.Length; i++)
            {
                if ((bytes[i] < 0x20 && bytes[i] != (byte)'\t') || bytes[i] == 0x7F)
                {
                    // Characters, not bytes: UTF-8's continuation bytes (10xxxxxx) start none.
                    var column = 1;
                    foreach (var before in bytes[..i])
                        column += (before & 0xC0) == 0x80 ? 0 : 1;
                    return new ClientLine(null, $"500 Command contains a control character ({ControlName(bytes[i])}) at column {column}; not understood, type it again", IsBdatLine(line));
                }
            }

            try
            {
                return new ClientLine(StrictUtf8.GetString(bytes), null);
            }
            catch (DecoderFallbackException)
            {
                return new ClientLine(null, "500 Command is not valid UTF-8; not understood", IsBdatLine(line));
            }
        }
    }

    /// <summary>
    /// Answers what telnet's commands asked: each timing mark first (the client throws away what comes before
    /// it), then a word on an interrupt or an "are you there". Each batch of commands counts as a command
    /// without a message. True when that closed the session.
    /// </summary>
    private async ValueTask<bool> AnswerTelnetAsync(TelnetCommands.Effects telnet)
    {
        AnswerTimingMarks(telnet.TimingMarks);
        if (await OverCommandCapAsync())
            return true;
        if (telnet.Key != 0)
        {
            var what = TelnetCommands.KeyName(telnet.Key);
            Reply(_awaitingAuthAnswer
                ? $"250 {what} ignored: type * to cancel the AUTH exchange"
                : _state.InTransaction
                    ? $"250 {what} ignored: type RSET to drop the message begun, or QUIT to end the session"
                    : $"250 {what} ignored: type QUIT to end the session");
        }
        else if (telnet.AreYouThere)
        {
            Reply($"250 Yes, {Settings.ServerName} is here");
        }

        return false;
    }

    /// <summary>Answers telnet's "DO TIMING-MARK" <paramref name="count"/> times, ahead of any reply after it (not an SMTP reply).</summary>
    private void AnswerTimingMarks(int count)
    {
        for (var i = 0; i < count; i++)
            Transport.Output.Write(TelnetCommands.TimingMarkAnswer);
        _outputPending |= count > 0;
    }

    /// <summary>A control byte as a person would know it: a terminal's Backspace sends 0x08 or 0x7F.</summary>
    private static string ControlName(byte b) => b switch
    {
        0x00 => "0x00, NUL",
        0x08 => "0x08, a backspace",
        0x1B => "0x1B, escape",
        0x7F => "0x7F, delete or backspace",
        _ => $"0x{b:X2}",
    };

    /// <summary>
    /// Waits for client bytes, flushing replies first; ends the session on drain or when the client has been
    /// silent (or sent too little) since <paramref name="since"/> for the idle timeout: the configured one,
    /// or the shorter busy one while most connection slots are taken. A session already waiting when the
    /// server becomes busy has its wait shortened then, so that idle sessions make way for new clients.
    /// </summary>
    private async ValueTask<ReadResult?> ReadTransportAsync(PipeReader input, bool watchDrain, long since, CancellationToken cancellationToken)
    {
        var flushed = false;
        try
        {
            using var timeout = watchDrain
                ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, tracker.Draining)
                : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Remaining(since, tracker.Busy ? Settings.BusyIdleTimeout : Settings.IdleTimeout));
            using var busy = tracker.Busy ? default : tracker.BecameBusy.Register(() =>
            {
                try
                {
                    timeout.CancelAfter(Remaining(since, Settings.BusyIdleTimeout));
                }
                catch (ObjectDisposedException)
                {
                    // the read is over
                }
            });

            // Under the same timeout (the busy one too, if the server becomes busy meanwhile): a client that
            // sends and never reads fills the socket, and a flush would then wait for ever, holding a slot.
            await FlushAsync(timeout.Token);
            flushed = true;
            return await input.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (watchDrain && tracker.Draining.IsCancellationRequested)
            {
                Log.SessionDrained(logger, Id);
                await CloseWithAsync($"421 {Settings.ServerName} Service shutting down, please try again later");
            }
            else
            {
                // Which timeout ended it: the busy one unless the full idle time has passed.
                var idle = Environment.TickCount64 - since >= (long)Settings.IdleTimeout.TotalMilliseconds ? Settings.IdleTimeout : Settings.BusyIdleTimeout;
                if (flushed)
                {
                    Log.SessionIdle(logger, Id, idle.TotalSeconds);
                    await CloseWithAsync($"421 {Settings.ServerName} Idle for {idle.TotalSeconds:0} seconds, closing connection");
                }
                else
                {
                    // The replies never left: the client sends and does not read, and its socket is full. A 421
                    // would wait behind them, so the connection is closed without one.
                    Log.ClientNotReading(logger, Id, idle.TotalSeconds);
                    _closing = true;
                }
            }

            return null;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            Log.ClientClosed(logger, Id);
            _closing = true;
            return null;
        }
    }

    /// <summary>Reads the DATA body straight from the client into <see cref="SessionState.Body"/>.</summary>
    private async ValueTask<bool> ReceiveBodyAsync(CancellationToken cancellationToken)
    {
        // A program that declared 8-bit text is no person at telnet: its body is not searched for keys.
        using var decoder = new DataBodyDecoder(Settings.MaxMessageBytes, Settings.Spool, lookForTelnet: !_state.EightBitMime);
        if (!await ReadBytesAsync((Adapter: this, Decoder: decoder), static (s, input) => s.Adapter.FeedBody(s.Decoder, input), watchDrain: false, cancellationToken))
        {
            Log.DataAbandoned(logger, Id, decoder.Size);
            return false;
        }

        _state.Body = decoder.Complete();
        return true;
    }

    private (long Taken, bool Done) FeedBody(DataBodyDecoder decoder, ReadOnlySequence<byte> input)
    {
        var fed = decoder.Feed(input);
        if (decoder.TelnetKeys > 0)
        {
            // Not an SMTP reply: only a telnet client sends these bytes, and it shows nothing more until its
            // timing mark is answered, the reply to the final dot included. The word on it, once a message.
            AnswerTimingMarks(decoder.TelnetKeys);
            decoder.TelnetKeys = 0;
            if (!decoder.TelnetKeyNoted)
            {
                decoder.TelnetKeyNoted = true;
                Reply($"354 {TelnetCommands.KeyName(decoder.TelnetKey)} cannot end a message: a line holding only a dot ends and stores it; to drop it, close the connection (in telnet: Ctrl-], then quit)");
            }
        }

        return fed;
    }

    /// <summary>
    /// Hands client bytes to <paramref name="take"/> until it has all it wants (a DATA body to its end line, a
    /// BDAT chunk to its size), which may take long but must keep moving: the idle time counts from the last
    /// KiB taken. False when the session ended first (the client gone or idle, or the server draining).
    /// </summary>
    private async ValueTask<bool> ReadBytesAsync<TState>(
        TState state, Func<TState, ReadOnlySequence<byte>, (long Taken, bool Done)> take, bool watchDrain, CancellationToken cancellationToken)
    {
        var since = Environment.TickCount64;
        long taken = 0, progressMark = 0;
        var needMore = false;
        while (true)
        {
            var input = Transport.Input;
            ReadResult result;
            if (needMore || !input.TryRead(out result))
            {
                var read = await ReadTransportAsync(input, watchDrain, since, cancellationToken);
                if (read is null)
                    return false;
                result = read.Value;
            }

            var (n, done) = take(state, result.Buffer);
            input.AdvanceTo(result.Buffer.GetPosition(n));
            taken += n;
            if (taken - progressMark >= 1024)
            {
                progressMark = taken;
                since = Environment.TickCount64;
            }

            if (done)
                return true;
            if (result.IsCompleted)
            {
                _closing = true;
                return false;
            }

            // More is to come: ask for it now. What ended in this read needs no such system call, as its
            // acknowledgement goes out with the reply.
            Transport.AcknowledgeQuickly();
            needMore = true;
        }
    }

    /// <summary>What is left of <paramref name="idle"/> since <paramref name="since"/> (a tick count), at least zero.</summary>
    private static TimeSpan Remaining(long since, TimeSpan idle) =>
        TimeSpan.FromMilliseconds(Math.Max(0, since + (long)idle.TotalMilliseconds - Environment.TickCount64));

    /// <summary>A line read: its text, or why it was refused, and whether a refused line was a BDAT all the same.</summary>
    private sealed record ClientLine(string? Text, string? Error, bool Bdat = false);
}
