using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace MailSink.Server.Smtp;

/// <summary>
/// The session line adapter: it stands between the client's socket and the SmtpServer library, reading
/// every client line first. It answers what the library cannot or answers badly (HELP, VRFY, syntax and
/// sequence errors, the whole AUTH exchange including CRAM-MD5, the DATA body with bare-LF and empty
/// messages, BDAT chunks), normalises the rest into commands the library parses reliably (one at a time), and turns
/// the library's terse replies into friendly ones. The library still runs the protocol state, STARTTLS,
/// AUTH's final step and the message transaction ending in <c>IMessageStore.SaveAsync</c>.
/// <para>
/// The library is strictly sequential: it reads one command, writes its reply, then reads again. So when
/// it asks for input, every forwarded command has been answered, and local replies can be written in order.
/// Replies are flushed when the adapter is about to wait for the client, so pipelined commands get their
/// replies in one write.
/// </para>
/// </summary>
internal sealed partial class SessionAdapter(SinkSession session, SessionTracker tracker, ILogger logger)
{
    private const int MaxCommandLine = 4096;

    /// <summary>RFC 5321 4.5.3.1.5: a reply line is at most 512 octets, its code and CRLF included.</summary>
    internal const int MaxReplyLine = 510;
    private static readonly byte[] EndOfData = "\r\n.\r\n"u8.ToArray();
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    private readonly SessionState _state = session.State;
    private readonly Queue<Forward> _forwards = new();
    private Forward? _expect;
    private bool _bannerSent;
    private bool _closing;
    private bool _libraryAwaitsBody;
    private bool _outputPending;
    private int _errors;
    private int _commandsWithoutMessage;
    private long _recipientsPastLimit;

    /// <summary>A line read now answers an AUTH challenge (what to type to leave it differs).</summary>
    private bool _awaitingAuthAnswer;

    /// <summary>The last thing read was a BDAT chunk: an empty line right after it is a line end typed after the chunk.</summary>
    private bool _chunkJustRead;

    /// <summary>What the next replies answer, for the rejects metric: "connect", a command's verb in lower case, or "other".</summary>
    private string _stage = "connect";

    private SessionSettings Settings => session.Settings;

    private ISmtpTransport Transport => session.Transport;

    private string Id => session.Id;

    /// <summary>The next bytes for the library to read: one command line, or the end of a DATA body; null ends the session.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> NextForLibraryAsync(CancellationToken cancellationToken)
    {
        while (!_closing)
        {
            if (_libraryAwaitsBody)
            {
                _libraryAwaitsBody = false;
                if (_expect?.Kind == ForwardKind.Bdat)
                    return EndOfData; // the chunks are the body, already in the session state
                return await ReceiveBodyAsync(cancellationToken) ? EndOfData : null;
            }

            if (_forwards.TryDequeue(out var forward))
            {
                _expect = forward;
                return forward.Line;
            }

            if (_errors >= Settings.MaxErrors)
            {
                Log.TooManyErrors(logger, Id, _errors);
                await CloseWithAsync($"421 {Settings.ServerName} Too many errors in this session ({_errors}), closing connection");
                return null;
            }

            var line = await ReadLineAsync(watchDrain: !_state.InTransaction, cancellationToken);
            if (line is null)
                return null;
            if (line.Error is not null)
            {
                if (line.Bdat)
                    await CloseForMalformedBdatAsync("BDAT (a line that could not be read)");
                else
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
            Reply($"220 {Settings.ServerName} ESMTP MailSink ready; mail to anything@<inbox>.localhost lands in inbox <inbox>");
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
            _closing = true;
            try
            {
                // Bounded: a client that pipelined much and never reads must not hold its slot with the 221.
                await FlushWithinAsync(ClosingFlushLimit, cancellationToken);
                await Transport.CloseTlsAsync();
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // the client does not read; the session ends all the same
            }
        }
    }

    /// <summary>
    /// Called before the TLS handshake: what was written must reach the client in plain text, within the
    /// handshake's own time (a client that never reads fails it as a handshake that never comes does).
    /// </summary>
    public ValueTask BeforeUpgradeAsync(CancellationToken cancellationToken) =>
        FlushWithinAsync(SocketTransport.HandshakeTimeout, cancellationToken);

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
        _state.HelloBeingAnswered = null;
    }

    private void Enqueue(ForwardKind kind, string line, string text = "", bool flag = false, RcptGroup? group = null, string? body = null) =>
        _forwards.Enqueue(new Forward(kind, Encoding.UTF8.GetBytes(line + "\r\n"), text, flag, group, body));

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
            Settings.Metrics?.SmtpRejects.Add(1, new("code", line[..3]), new("stage", _stage));
        }

        var output = Transport.Output;
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
        await Transport.Output.FlushAsync(cancellationToken);
    }

    /// <summary>How long the last replies of a session that is ending may take to go out.</summary>
    private static readonly TimeSpan ClosingFlushLimit = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Flushes within <paramref name="limit"/> as well as <paramref name="cancellationToken"/>: a client that
    /// sends and never reads fills the socket, and an unbounded flush would hold its connection slot for ever.
    /// </summary>
    private async ValueTask FlushWithinAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        await FlushAsync(timeout.Token);
    }

    private async ValueTask CloseWithAsync(string reply)
    {
        Reply(reply);
        _closing = true;
        try
        {
            await FlushWithinAsync(ClosingFlushLimit, CancellationToken.None);
            await Transport.CloseTlsAsync();
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client is gone; nothing more to say.
        }
    }
}
