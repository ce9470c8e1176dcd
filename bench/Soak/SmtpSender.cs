using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace MailSink.Soak;

/// <summary>
/// One SMTP client of the soak: pipelines MAIL, RCPT and DATA, sends a message, records its id when it gets
/// 250, at its share of the target rate. It reconnects every few dozen messages (QUIT, or now and then just
/// closing between transactions) so that sessions come and go for the whole run.
/// </summary>
internal sealed class SmtpSender(int port, int index, int inboxes, double messagesPerSecond, Ledger ledger)
{
    private readonly Random _random = new(index);
    private int _sent;

    public async Task RunAsync(CancellationToken stop)
    {
        using var pace = new PeriodicTimer(TimeSpan.FromSeconds(1 / messagesPerSecond));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await SessionAsync(pace, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or SocketException or InvalidDataException)
            {
                ledger.Error($"sender {index}: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    private async Task SessionAsync(PeriodicTimer pace, CancellationToken stop)
    {
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port, stop);
        ledger.Session();
        var stream = tcp.GetStream();
        var reader = new ReplyReader(stream);
        await reader.ExpectAsync("220", stop);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"EHLO soak{index}.example\r\n"), stop);
        await reader.ExpectAsync("250", stop);

        var count = _random.Next(20, 200);
        for (var n = 0; n < count && await pace.WaitForNextTickAsync(stop); n++)
        {
            var (inbox, subject) = ledger.Wanted.TryDequeue(out var wanted)
                ? wanted
                : ($"soak{_random.Next(inboxes)}", $"soak {index}-{_sent} {Guid.NewGuid():N}");
            _sent++;
            var (body, code) = Body(subject, inbox);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"MAIL FROM:<s{index}@soak.example>\r\nRCPT TO:<m@{inbox}.localhost>\r\nDATA\r\n"), CancellationToken.None);
            await reader.ExpectAsync("250", CancellationToken.None);
            await reader.ExpectAsync("250", CancellationToken.None);
            await reader.ExpectAsync("354", CancellationToken.None);
            await stream.WriteAsync(body, CancellationToken.None);
            await stream.WriteAsync(".\r\n"u8.ToArray(), CancellationToken.None);
            var reply = await reader.ExpectAsync("250", CancellationToken.None);
            const string marker = "stored as ";
            var at = reply.IndexOf(marker, StringComparison.Ordinal);
            var id = reply.Substring(at + marker.Length, 36);
            ledger.Add(new Ledger.Acknowledged(id, inbox, subject, SHA256.HashData(body), body.Length, code));
        }

        if (_random.Next(4) != 0)
        {
            await stream.WriteAsync("QUIT\r\n"u8.ToArray(), CancellationToken.None);
            await reader.ExpectAsync("221", CancellationToken.None);
        }
    }

    /// <summary>
    /// Mostly 1-16 KB, now and then 100-200 KB; no line starts with a dot, so it goes on the wire as stored.
    /// One in three holds a code, as a verification mail does.
    /// </summary>
    private (byte[] Message, string? Code) Body(string subject, string inbox)
    {
        var text = new StringBuilder($"Subject: {subject}\r\nFrom: s{index}@soak.example\r\nTo: m@{inbox}.localhost\r\nMessage-ID: <{Guid.NewGuid():N}@soak.example>\r\n\r\n");
        var size = _random.Next(50) == 0 ? _random.Next(100_000, 200_000) : _random.Next(1_000, 16_000);
        var code = _random.Next(3) == 0 ? _random.Next(100000, 999999).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        text.Append(code is null ? "Hello.\r\n" : $"Your code is {code}.\r\n");
        while (text.Length < size)
            text.Append("The quick brown fox jumps over the lazy dog; ").Append(_random.Next()).Append(" https://example.com/x\r\n");
        return (Encoding.ASCII.GetBytes(text.ToString()), code);
    }

    /// <summary>Reads whole SMTP replies (the last line of a multi-line one decides), with a deadline.</summary>
    private sealed class ReplyReader(NetworkStream stream)
    {
        private readonly byte[] _buffer = new byte[8192];
        private readonly StringBuilder _pending = new();

        public async Task<string> ExpectAsync(string code, CancellationToken cancellationToken)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(30));
            while (true)
            {
                var text = _pending.ToString();
                var lf = text.IndexOf('\n', StringComparison.Ordinal);
                if (lf >= 0)
                {
                    var line = text[..lf].TrimEnd('\r');
                    _pending.Remove(0, lf + 1);
                    if (line.Length >= 4 && line[3] == '-')
                        continue;
                    return line.StartsWith(code, StringComparison.Ordinal) ? line : throw new InvalidDataException($"expected {code}, got '{line}'");
                }

                int read;
                try
                {
                    read = await stream.ReadAsync(_buffer, deadline.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new IOException($"no {code} reply within 30 s");
                }

                if (read == 0)
                    throw new IOException($"connection closed while waiting for {code}");
                _pending.Append(Encoding.UTF8.GetString(_buffer, 0, read));
            }
        }
    }
}
