using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

// SMTP load for MailSink's benchmarks: N messages of S bytes over C connections, either with MailKit
// (a real client, pipelining on) or with a raw pipelining client (MAIL+RCPT+DATA in one write).
// Prints one line: mode, messages, connections, size, seconds, messages/s, MB/s.
// Usage: SmtpLoad <port> <messages> <connections> <bytes> <mailkit|raw> [inbox]
if (args.Length < 5)
{
    Console.Error.WriteLine("usage: SmtpLoad <port> <messages> <connections> <bytes> <mailkit|raw> [inbox]");
    return 2;
}

var port = int.Parse(args[0]);
var total = int.Parse(args[1]);
var connections = int.Parse(args[2]);
var size = int.Parse(args[3]);
var mode = args[4];
var inbox = args.Length > 5 ? args[5] : "bench";

var body = MakeBody(size);
var remaining = total;
var stopwatch = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => mode == "raw" ? RawAsync() : MailKitAsync()));
stopwatch.Stop();

var seconds = stopwatch.Elapsed.TotalSeconds;
Console.WriteLine($"{mode}\t{total}\t{connections}\t{size}\t{seconds:F2}\t{total / seconds:F0}\t{(double)total * size / seconds / 1e6:F1}");
return 0;

bool Take() => Interlocked.Decrement(ref remaining) >= 0;

async Task MailKitAsync()
{
    using var client = new SmtpClient();
    await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
    var message = MimeMessage.Load(new MemoryStream(body));
    while (Take())
        await client.SendAsync(message, MailboxAddress.Parse("bench@example.com"), [MailboxAddress.Parse($"load@{inbox}.localhost")]);
    await client.DisconnectAsync(true);
}

async Task RawAsync()
{
    using var tcp = new TcpClient { NoDelay = true };
    await tcp.ConnectAsync("127.0.0.1", port);
    var stream = tcp.GetStream();
    var reader = new StreamReader(stream, Encoding.ASCII);
    await Expect(reader, "220");
    await stream.WriteAsync(Encoding.ASCII.GetBytes("EHLO bench\r\n"));
    await Expect(reader, "250");
    var envelope = Encoding.ASCII.GetBytes($"MAIL FROM:<bench@example.com>\r\nRCPT TO:<load@{inbox}.localhost>\r\nDATA\r\n");
    var end = Encoding.ASCII.GetBytes(".\r\n");
    while (Take())
    {
        await stream.WriteAsync(envelope);
        await Expect(reader, "250");
        await Expect(reader, "250");
        await Expect(reader, "354");
        await stream.WriteAsync(body);
        await stream.WriteAsync(end);
        await Expect(reader, "250");
    }

    await stream.WriteAsync(Encoding.ASCII.GetBytes("QUIT\r\n"));
    await Expect(reader, "221");
}

static async Task Expect(StreamReader reader, string code)
{
    while (true)
    {
        var line = await reader.ReadLineAsync() ?? throw new IOException("connection closed");
        if (!line.StartsWith(code, StringComparison.Ordinal))
            throw new IOException($"expected {code}, got: {line}");
        if (line.Length < 4 || line[3] != '-')
            return;
    }
}

static byte[] MakeBody(int size)
{
    var text = new StringBuilder("From: Bench <bench@example.com>\r\nTo: load@bench.localhost\r\nSubject: load test message\r\n\r\n");
    var line = "The quick brown fox jumps over the lazy dog, 0123456789 times over and over.\r\n";
    while (text.Length + line.Length < size)
        text.Append(line);
    return Encoding.ASCII.GetBytes(text.ToString());
}
