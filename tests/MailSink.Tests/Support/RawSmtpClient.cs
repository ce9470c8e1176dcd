using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace MailSink.Tests.Support;

/// <summary>
/// A client with no protocol knowledge: it sends literal lines over a real socket and reads whole replies
/// (multi-line replies up to the "NNN " line), so that transcript tests see exactly what a person at
/// telnet would. Reads have a deadline; nothing sleeps.
/// </summary>
public sealed partial class RawSmtpClient : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly TcpClient _tcp;
    private Stream _stream;
    private readonly ITestOutputHelper? _output;
    private readonly List<byte> _pending = [];

    private RawSmtpClient(TcpClient tcp, Stream stream, ITestOutputHelper? output)
    {
        _tcp = tcp;
        _stream = stream;
        _output = output;
    }

    public static async Task<RawSmtpClient> ConnectAsync(int port, ITestOutputHelper? output = null, bool implicitTls = false)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        Stream stream = tcp.GetStream();
        if (implicitTls)
        {
            var tls = new SslStream(stream, false, (_, _, _, _) => true);
            await tls.AuthenticateAsClientAsync("localhost");
            stream = tls;
        }

        return new RawSmtpClient(tcp, stream, output);
    }

    /// <summary>A client over a connection the test made itself (from a chosen local address, say).</summary>
    public static RawSmtpClient Over(TcpClient tcp, ITestOutputHelper? output = null) => new(tcp, tcp.GetStream(), output);

    /// <summary>The TLS handshake after a 220 to STARTTLS; any certificate is accepted and returned.</summary>
    public async Task<System.Security.Cryptography.X509Certificates.X509Certificate2> StartTlsAsync()
    {
        System.Security.Cryptography.X509Certificates.X509Certificate2? presented = null;
        var tls = new SslStream(_stream, false, (_, certificate, _, _) =>
        {
            presented = new System.Security.Cryptography.X509Certificates.X509Certificate2(certificate!);
            return true;
        });
        await tls.AuthenticateAsClientAsync("localhost");
        _stream = tls;
        return presented!;
    }

    public Task SendAsync(string line, string eol = "\r\n") => SendRawAsync(Encoding.UTF8.GetBytes(line + eol), line);

    public async Task SendRawAsync(byte[] bytes, string? log = null)
    {
        _output?.WriteLine($"C: {log ?? $"<{bytes.Length} bytes>"}");
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Reads one whole reply; lines joined with \n, without line ends.</summary>
    public async Task<string> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync() ?? throw new IOException($"Connection closed after: {string.Join(" | ", lines)}");
            lines.Add(line);
            _output?.WriteLine($"S: {line}");
            if (line.Length < 4 || line[3] != '-')
                return string.Join("\n", lines);
        }
    }

    /// <summary>Sends a line and returns the reply.</summary>
    public async Task<string> CommandAsync(string line, string eol = "\r\n")
    {
        await SendAsync(line, eol);
        return await ReadReplyAsync();
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, whatever they are (telnet's commands, say).</summary>
    public async Task<byte[]> ReadBytesAsync(int count)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var buffer = new byte[4096];
        while (_pending.Count < count)
        {
            var n = await _stream.ReadAsync(buffer, timeout.Token);
            if (n == 0)
                throw new IOException($"Connection closed after {_pending.Count} of {count} bytes");
            _pending.AddRange(buffer.AsSpan(0, n).ToArray());
        }

        var bytes = _pending.GetRange(0, count).ToArray();
        _pending.RemoveRange(0, count);
        _output?.WriteLine($"S: <{Convert.ToHexString(bytes)}>");
        return bytes;
    }

    /// <summary>True when the server closed the connection (after any reply still on the wire).</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        try
        {
            return await ReadLineAsync() is null;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<string?> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var buffer = new byte[4096];
        while (true)
        {
            var lf = _pending.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var line = _pending.GetRange(0, lf).ToArray();
                _pending.RemoveRange(0, lf + 1);
                return Encoding.UTF8.GetString(line).TrimEnd('\r');
            }

            var n = await _stream.ReadAsync(buffer, timeout.Token);
            if (n == 0)
                return null;
            _pending.AddRange(buffer.AsSpan(0, n).ToArray());
        }
    }

    /// <summary>
    /// Plays a transcript: "C: line" is sent (with <paramref name="eol"/>), "S: reply" is the exact reply
    /// expected, where <c>*</c> matches anything. Consecutive "S:" lines form one multi-line reply.
    /// </summary>
    public async Task PlayAsync(string transcript, string eol = "\r\n")
    {
        var expected = new List<string>();
        foreach (var raw in transcript.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("S: ", StringComparison.Ordinal))
            {
                expected.Add(line[3..]);
                continue;
            }

            await CheckAsync(expected);
            if (line.StartsWith("C: ", StringComparison.Ordinal))
                await SendAsync(line[3..], eol);
            else if (line == "C:")
                await SendAsync("", eol);
        }

        await CheckAsync(expected);
    }

    private async Task CheckAsync(List<string> expected)
    {
        if (expected.Count == 0)
            return;
        var reply = await ReadReplyAsync();
        var pattern = "^" + string.Join("\n", expected.Select(e => Regex.Escape(e).Replace(@"\*", ".*", StringComparison.Ordinal))) + "$";
        Assert.Matches(new Regex(pattern, RegexOptions.Singleline), reply);
        expected.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }

    /// <summary>The message id in a "250 OK message stored as {id} in inbox {inbox}" reply.</summary>
    public static string StoredId(string reply) => StoredAs().Match(reply) is { Success: true } m
        ? m.Groups[1].Value
        : throw new Xunit.Sdk.XunitException($"Not a 'stored as' reply: {reply}");

    [GeneratedRegex(@"stored as ([0-9a-f-]{36})")]
    private static partial Regex StoredAs();
}
