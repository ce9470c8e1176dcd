using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using SmtpServer;

namespace MailSink.Server.Smtp;

/// <summary>
/// The session line adapter: it stands between the client's socket and the SmtpServer library, reading
/// every client line first. It answers what the library cannot or answers badly (HELP, VRFY, syntax and
/// sequence errors, the whole AUTH exchange including CRAM-MD5, the DATA body with bare-LF and empty
/// messages), normalises the rest into commands the library parses reliably (one at a time), and turns
/// the library's terse replies into friendly ones. The library still runs the protocol state, STARTTLS,
/// AUTH's final step and the message transaction ending in <c>IMessageStore.SaveAsync</c>.
/// <para>
/// The library is strictly sequential: it reads one command, writes its reply, then reads again. So when
/// it asks for input, every forwarded command has been answered, and local replies can be written in order.
/// Replies are flushed when the adapter is about to wait for the client, so pipelined commands get their
/// replies in one write.
/// </para>
/// </summary>
internal sealed partial class SessionAdapter(
    SessionPipe pipe,
    ISessionContext context,
    SessionSettings settings,
    SessionTracker tracker,
    ILogger logger)
{
    private const int MaxCommandLine = 4096;

    /// <summary>RFC 5321 4.5.3.1.5: a reply line is at most 512 octets, its code and CRLF included.</summary>
    internal const int MaxReplyLine = 510;
    private static readonly byte[] EndOfData = "\r\n.\r\n"u8.ToArray();
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    private readonly SessionState _state = new();
    private readonly Queue<Forward> _forwards = new();
    private Forward? _expect;
    private bool _bannerSent;
    private bool _closing;
    private bool _libraryAwaitsBody;
    private bool _outputPending;
    private int _errors;
    private int _commandsWithoutMessage;

    /// <summary>What the next replies answer, for the rejects metric: "connect", a command's verb in lower case, or "other".</summary>
    private string _stage = "connect";

    public SessionState State => _state;

    private string Id => context.SessionId.ToString("N")[..8];

    /// <summary>The next bytes for the library to read: one command line, or the end of a DATA body; null ends the session.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> NextForLibraryAsync(CancellationToken cancellationToken)
    {
        while (!_closing)
        {
            if (_libraryAwaitsBody)
            {
                _libraryAwaitsBody = false;
                return await ReceiveBodyAsync(cancellationToken) ? EndOfData : null;
            }

            if (_forwards.TryDequeue(out var forward))
            {
                _expect = forward;
                return forward.Line;
            }

            if (_errors >= settings.MaxErrors)
            {
                Log.TooManyErrors(logger, Id, _errors);
                await CloseWithAsync($"421 {settings.ServerName} Too many errors in this session ({_errors}), closing connection");
                return null;
            }

            var line = await ReadLineAsync(watchDrain: !_state.InTransaction, cancellationToken);
            if (line is null)
                return null;
            if (line.Error is not null)
            {
                Reply(line.Error);
                continue;
            }

            await HandleCommandAsync(line.Text!, cancellationToken);
        }

        return null;
    }

    /// <summary>Everything the library writes arrives here, one flush at a time.</summary>
    public async ValueTask OnLibraryOutputAsync(ReadOnlyMemory<byte> output, CancellationToken cancellationToken)
    {
        if (_closing)
            return;
        if (!_bannerSent)
        {
            // The library's banner names its version; ours says what this server is.
            _bannerSent = true;
            if (await ChaosAtConnectAsync(cancellationToken))
                return;
            Reply($"220 {settings.ServerName} ESMTP MailSink ready; mail to anything@<inbox>.localhost lands in inbox <inbox>");
            await FlushAsync(cancellationToken);
            return;
        }

        var text = Encoding.UTF8.GetString(output.Span);
        var code = FinalCode(text);
        var forward = _expect;
        if (forward is null)
        {
            Log.UnexpectedLibraryReply(logger, Id, code);
            ReplyRaw(Clean(text));
            return;
        }

        if (OnReply(forward, code, text))
            _expect = null;
        if (forward.Kind == ForwardKind.Quit)
        {
            await FlushAsync(cancellationToken);
            await pipe.CloseTlsAsync();
            _closing = true;
        }
    }

    /// <summary>Called before the TLS handshake: what was written must reach the client in plain text.</summary>
    public ValueTask BeforeUpgradeAsync(CancellationToken cancellationToken) => FlushAsync(cancellationToken);

    /// <summary>
    /// Called after a successful TLS handshake. Everything learnt from the client before it is forgotten
    /// (RFC 3207 section 4.2): the EHLO name, the AUTH user, any transaction. Otherwise a man in the middle
    /// could authenticate a session as himself before the victim's client turns to TLS, and the victim's
    /// mail would be stored as his. MAIL needs a new EHLO after this (503 until then), as in Postfix.
    /// </summary>
    public void AfterUpgrade()
    {
        _state.Greeted = false;
        _state.Ehlo = null;
        _state.AuthenticatedUser = null;
        _state.ResetTransaction();
        context.Properties.Remove(SinkCommandFactory.HelloNameKey);
    }

    private void Enqueue(ForwardKind kind, string line, string text = "", bool flag = false, RcptGroup? group = null) =>
        _forwards.Enqueue(new Forward(kind, Encoding.UTF8.GetBytes(line + "\r\n"), text, flag, group));

    /// <summary>
    /// Writes one reply line, shortened to <see cref="MaxReplyLine"/> bytes if it is longer. A final line
    /// with a 5xx code counts towards <see cref="SessionSettings.MaxErrors"/>.
    /// </summary>
    private void Reply(string line)
    {
        if (line.Length >= 4 && line[3] == ' ' && line[0] is '4' or '5')
        {
            if (line[0] == '5')
                _errors++;
            settings.Metrics?.SmtpRejects.Add(1, new("code", line[..3]), new("stage", _stage));
        }

        var output = pipe.TransportOutput;
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(line.Length) + 2);
        var length = Encoding.UTF8.GetBytes(line, span);
        if (length > MaxReplyLine)
            length = Encoding.UTF8.GetBytes(Shorten(line), span);
        span[length++] = (byte)'\r';
        span[length++] = (byte)'\n';
        output.Advance(length);
        _outputPending = true;
    }

    /// <summary>A reply of the library's, line by line (each within the limit too).</summary>
    private void ReplyRaw(string text)
    {
        foreach (var line in text.Split("\r\n"))
        {
            if (line.Length > 0)
                Reply(line);
        }
    }

    /// <summary>
    /// The line cut to fit <see cref="MaxReplyLine"/> bytes, "..." marking the cut, never inside a character.
    /// Echoes of what the client sent (a long address, a comma list of recipients, an EHLO name) are where
    /// a line could grow: a client such as Python's smtplib fails a whole session on a longer one.
    /// </summary>
    internal static string Shorten(string line)
    {
        const string Mark = "...";
        var keep = Math.Min(line.Length, MaxReplyLine - Mark.Length);
        while (keep > 0 && (Encoding.UTF8.GetByteCount(line.AsSpan(0, keep)) > MaxReplyLine - Mark.Length || char.IsHighSurrogate(line[keep - 1])))
            keep--;
        return string.Concat(line.AsSpan(0, keep), Mark);
    }

    /// <summary>A multi-line reply: <c>code-</c> on every line but the last.</summary>
    private void ReplyLines(int code, IReadOnlyList<string> lines)
    {
        for (var i = 0; i < lines.Count; i++)
            Reply($"{code}{(i < lines.Count - 1 ? '-' : ' ')}{lines[i]}");
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (!_outputPending)
            return;
        _outputPending = false;
        await pipe.TransportOutput.FlushAsync(cancellationToken);
    }

    private async ValueTask CloseWithAsync(string reply)
    {
        Reply(reply);
        _closing = true;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await FlushAsync(timeout.Token);
            await pipe.CloseTlsAsync();
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client is gone; nothing more to say.
        }
    }

    /// <summary>Reads one client line (LF or CRLF ended); null when the session is over (closed, idle, draining).</summary>
    private async ValueTask<ClientLine?> ReadLineAsync(bool watchDrain, CancellationToken cancellationToken)
    {
        var discarding = false;
        var needMore = false;
        // The whole line must arrive within the idle timeout: a client trickling a byte at a time does
        // not keep the session open.
        var since = Environment.TickCount64;
        while (true)
        {
            var input = pipe.TransportInput;
            ReadResult result;
            if (needMore || !input.TryRead(out result))
            {
                var read = await ReadTransportAsync(input, watchDrain, since, cancellationToken);
                if (read is null)
                    return null;
                result = read.Value;
            }

            var buffer = result.Buffer;
            var lf = buffer.PositionOf((byte)'\n');
            if (lf is { } end)
            {
                var line = buffer.Slice(0, end);
                var clientLine = discarding || line.Length > MaxCommandLine
                    ? new ClientLine(null, $"500 Line too long: commands are limited to {MaxCommandLine} bytes")
                    : Decode(line);
                input.AdvanceTo(buffer.GetPosition(1, end));
                return clientLine;
            }

            if (discarding || buffer.Length > MaxCommandLine)
            {
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

        static ClientLine Decode(System.Buffers.ReadOnlySequence<byte> line)
        {
            var bytes = line.ToArray().AsSpan();
            if (!bytes.IsEmpty && bytes[^1] == (byte)'\r')
                bytes = bytes[..^1];
            foreach (var b in bytes)
            {
                if ((b < 0x20 && b != (byte)'\t') || b == 0x7F)
                    return new ClientLine(null, "500 Command contains control characters (such as NUL); not understood");
            }

            try
            {
                return new ClientLine(StrictUtf8.GetString(bytes), null);
            }
            catch (DecoderFallbackException)
            {
                return new ClientLine(null, "500 Command is not valid UTF-8; not understood");
            }
        }
    }

    /// <summary>
    /// Waits for client bytes, flushing replies first; ends the session on drain or when the client has been
    /// silent (or sent too little) since <paramref name="since"/> for the idle timeout: the configured one,
    /// or the shorter busy one while most connection slots are taken. A session already waiting when the
    /// server becomes busy has its wait shortened then, so that idle sessions make way for new clients.
    /// </summary>
    private async ValueTask<ReadResult?> ReadTransportAsync(PipeReader input, bool watchDrain, long since, CancellationToken cancellationToken)
    {
        try
        {
            await FlushAsync(cancellationToken);
            using var timeout = watchDrain
                ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, tracker.Draining)
                : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Remaining(since, tracker.Busy ? settings.BusyIdleTimeout : settings.IdleTimeout));
            using var busy = tracker.Busy ? default : tracker.BecameBusy.Register(() =>
            {
                try
                {
                    timeout.CancelAfter(Remaining(since, settings.BusyIdleTimeout));
                }
                catch (ObjectDisposedException)
                {
                    // the read is over
                }
            });
            return await input.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (watchDrain && tracker.Draining.IsCancellationRequested)
            {
                Log.SessionDrained(logger, Id);
                await CloseWithAsync($"421 {settings.ServerName} Service shutting down, please try again later");
            }
            else
            {
                // Which timeout ended it: the busy one unless the full idle time has passed.
                var idle = Environment.TickCount64 - since >= (long)settings.IdleTimeout.TotalMilliseconds ? settings.IdleTimeout : settings.BusyIdleTimeout;
                Log.SessionIdle(logger, Id, idle.TotalSeconds);
                await CloseWithAsync($"421 {settings.ServerName} Idle for {idle.TotalSeconds:0} seconds, closing connection");
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
        using var decoder = new DataBodyDecoder(settings.MaxMessageBytes, settings.Spool);
        var needMore = false;
        // The body may take long, but it must keep moving: the idle time counts from the last KiB received.
        var since = Environment.TickCount64;
        long progressMark = 0, received = 0;
        while (true)
        {
            var input = pipe.TransportInput;
            ReadResult result;
            if (needMore || !input.TryRead(out result))
            {
                var read = await ReadTransportAsync(input, watchDrain: false, since, cancellationToken);
                if (read is null)
                {
                    Log.DataAbandoned(logger, Id, decoder.Size);
                    return false;
                }

                result = read.Value;
            }

            pipe.AcknowledgeQuickly();
            var buffer = result.Buffer;
            received += buffer.Length;
            if (received - progressMark >= 1024)
            {
                progressMark = received;
                since = Environment.TickCount64;
            }

            long consumed = 0;
            var done = false;
            foreach (var segment in buffer)
            {
                done = decoder.Feed(segment.Span, out var used);
                consumed += used;
                if (done)
                    break;
            }

            if (done)
            {
                input.AdvanceTo(buffer.GetPosition(consumed));
                _state.Body = decoder.Complete();
                return true;
            }

            input.AdvanceTo(buffer.End);
            if (result.IsCompleted)
            {
                Log.DataAbandoned(logger, Id, decoder.Size);
                _closing = true;
                return false;
            }

            needMore = true;
        }
    }

    /// <summary>What is left of <paramref name="idle"/> since <paramref name="since"/> (a tick count), at least zero.</summary>
    private static TimeSpan Remaining(long since, TimeSpan idle) =>
        TimeSpan.FromMilliseconds(Math.Max(0, since + (long)idle.TotalMilliseconds - Environment.TickCount64));

    /// <summary>The code of the last line of a reply, or 0.</summary>
    private static int FinalCode(string reply)
    {
        var trimmed = reply.TrimEnd('\r', '\n');
        var start = trimmed.LastIndexOf('\n') + 1;
        return trimmed.Length - start >= 3 && int.TryParse(trimmed.AsSpan(start, 3), out var code) ? code : 0;
    }

    /// <summary>The library's replies without its ", N retry(ies) remaining." tail.</summary>
    private static string Clean(string reply) => RetryTail().Replace(reply, "");

    [GeneratedRegex(@", \d+ retry\(ies\) remaining\.")]
    private static partial Regex RetryTail();

    private sealed record ClientLine(string? Text, string? Error);

    private enum ForwardKind
    {
        Hello,
        Mail,
        Rcpt,
        Data,
        Rset,
        SilentRset,
        Quit,
        StartTls,
    }

    /// <summary>A command handed to the library, and what to do with its reply.</summary>
    private sealed record Forward(ForwardKind Kind, byte[] Line, string Text, bool Flag, RcptGroup? Group);

    /// <summary>Recipients of one <c>RCPT TO:</c> line (a comma list): one reply for all of them.</summary>
    private sealed class RcptGroup(int count)
    {
        public int Remaining { get; set; } = count;

        public List<string> Accepted { get; } = [];

        public string? FirstFailure { get; set; }
    }
}
