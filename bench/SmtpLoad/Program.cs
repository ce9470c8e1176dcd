using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

// SMTP load for MailSink's benchmarks: N messages of S bytes over C connections, either with MailKit
// (a real client, pipelining on) or with a raw pipelining client (MAIL+RCPT+DATA in one write).
//   raw      every message to load@<inbox>.localhost, the same bytes each time
//   fill     raw, but message n goes to u<(n/10)%100>@<inbox><n%10>.localhost with the subject
//            "load test message <n>" (ten inboxes, a hundred recipients each, unique subjects): the
//            store the API measurements read
//   mailkit  MailKit's SmtpClient, one SendAsync per message
//   mailkit-bdat  the same, with MailKit's PreferSendAsBinaryData: BDAT instead of DATA where the server
//            offers CHUNKING (one round trip a message fewer)
// kind: text (one line of text repeated, default), words (random words, which compress about as badly
// as prose in an unknown language: the honest case for the database-size measurement) or attachment
// (a short text part and a base64 attachment).
// Prints one line: mode, messages, connections, size, seconds, messages/s, MB/s, raw bytes sent.
// Usage: SmtpLoad <port> <messages> <connections> <bytes> <mailkit|mailkit-bdat|raw|fill> [inbox] [text|words|attachment]
if (args.Length < 5)
{
    Console.Error.WriteLine("usage: SmtpLoad <port> <messages> <connections> <bytes> <mailkit|mailkit-bdat|raw|fill> [inbox] [text|words|attachment]");
    return 2;
}

var port = int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
var total = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
var connections = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
var size = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);
var mode = args[4];
var inbox = args.Length > 5 ? args[5] : "bench";
var kind = args.Length > 6 ? args[6] : "text";

var body = kind switch
{
    "attachment" => MakeAttachmentMessage(size),
    "words" => MakeWordsBody(size),
    _ => MakeBody(size),
};
var tail = MakeTail(body);
var remaining = total;
long rawBytes = 0;
var stopwatch = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => mode switch
{
    "raw" => RawAsync(fill: false),
    "fill" => RawAsync(fill: true),
    "mailkit-bdat" => MailKitAsync(new BdatPreferringClient()),
    _ => MailKitAsync(new SmtpClient()),
}));
stopwatch.Stop();

var seconds = stopwatch.Elapsed.TotalSeconds;
Console.WriteLine($"{mode}\t{total}\t{connections}\t{size}\t{seconds:F2}\t{total / seconds:F0}\t{(double)total * size / seconds / 1e6:F1}\t{rawBytes}");
return 0;

int Take() => Interlocked.Decrement(ref remaining);

async Task MailKitAsync(SmtpClient client)
{
    using var _ = client;
    await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
    var message = MimeMessage.Load(new MemoryStream(body));
    while (Take() >= 0)
    {
        await client.SendAsync(message, MailboxAddress.Parse("bench@example.com"), [MailboxAddress.Parse($"load@{inbox}.localhost")]);
        Interlocked.Add(ref rawBytes, body.Length);
    }

    await client.DisconnectAsync(true);
}

async Task RawAsync(bool fill)
{
    using var tcp = new TcpClient { NoDelay = true };
    await tcp.ConnectAsync("127.0.0.1", port);
    var stream = tcp.GetStream();
    var reader = new StreamReader(stream, Encoding.ASCII);
    await Expect(reader, "220");
    await stream.WriteAsync(Encoding.ASCII.GetBytes("EHLO bench\r\n"));
    await Expect(reader, "250");
    var fixedEnvelope = Encoding.ASCII.GetBytes($"MAIL FROM:<bench@example.com>\r\nRCPT TO:<load@{inbox}.localhost>\r\nDATA\r\n");
    var end = Encoding.ASCII.GetBytes(".\r\n");
    int left;
    while ((left = Take()) >= 0)
    {
        byte[] envelope, head;
        if (fill)
        {
            // Numbered from 0 in sending order (roughly: connections interleave).
            var n = total - 1 - left;
            var to = $"u{n / 10 % 100}@{inbox}{n % 10}.localhost";
            envelope = Encoding.ASCII.GetBytes($"MAIL FROM:<bench@example.com>\r\nRCPT TO:<{to}>\r\nDATA\r\n");
            head = Encoding.ASCII.GetBytes($"From: Bench <bench@example.com>\r\nTo: {to}\r\nSubject: load test message {n:D7}\r\n\r\n");
        }
        else
        {
            envelope = fixedEnvelope;
            head = [];
        }

        await stream.WriteAsync(envelope);
        await Expect(reader, "250");
        await Expect(reader, "250");
        await Expect(reader, "354");
        if (fill)
        {
            await stream.WriteAsync(head);
            await stream.WriteAsync(tail);
            Interlocked.Add(ref rawBytes, head.Length + tail.Length);
        }
        else
        {
            await stream.WriteAsync(body);
            Interlocked.Add(ref rawBytes, body.Length);
        }

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

// Random words of 2-9 letters from a vocabulary of 2,000, in lines of about 70 characters.
static byte[] MakeWordsBody(int size)
{
    var random = new Random(7);
    var vocabulary = Enumerable.Range(0, 2000)
        .Select(_ => new string(Enumerable.Range(0, random.Next(2, 10)).Select(_ => (char)('a' + random.Next(26))).ToArray()))
        .ToArray();
    var text = new StringBuilder("From: Bench <bench@example.com>\r\nTo: load@bench.localhost\r\nSubject: load test words\r\n\r\n");
    var line = 0;
    while (text.Length < size - 12)
    {
        var word = vocabulary[random.Next(vocabulary.Length)];
        text.Append(word);
        line += word.Length + 1;
        text.Append(line > 70 ? "\r\n" : " ");
        if (line > 70)
            line = 0;
    }

    return Encoding.ASCII.GetBytes(text.Append("\r\n").ToString());
}

// The body of MakeBody without its header block (fill mode writes its own headers in front), cut so
// that a fill message is about the requested size.
static byte[] MakeTail(byte[] body)
{
    var text = Encoding.ASCII.GetString(body);
    var start = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
    return Encoding.ASCII.GetBytes(text[start..]);
}

// A multipart/mixed message: a short text part and a base64 attachment that brings it to about size bytes.
static byte[] MakeAttachmentMessage(int size)
{
    const string boundary = "=-bench-boundary-0123456789";
    var head = new StringBuilder()
        .Append("From: Bench <bench@example.com>\r\nTo: load@bench.localhost\r\nSubject: load test attachment\r\n")
        .Append("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"").Append(boundary).Append("\"\r\n\r\n")
        .Append("--").Append(boundary).Append("\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
        .Append("The report is attached. Your code is 481516.\r\n\r\n")
        .Append("--").Append(boundary).Append("\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n")
        .Append("Content-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
        .ToString();
    var end = $"\r\n--{boundary}--\r\n";
    var lines = Math.Max(1, (size - head.Length - end.Length) / 78); // 76 base64 characters and CRLF
    var random = new Random(42);
    var chunk = new byte[57];
    var text = new StringBuilder(head, size + 100);
    for (var i = 0; i < lines; i++)
    {
        random.NextBytes(chunk);
        text.Append(Convert.ToBase64String(chunk)).Append("\r\n");
    }

    text.Length -= 2;
    text.Append(end);
    return Encoding.ASCII.GetBytes(text.ToString());
}

/// <summary>MailKit's switch to send every message with BDAT where the server offers CHUNKING (a protected property).</summary>
internal sealed class BdatPreferringClient : SmtpClient
{
    protected override bool PreferSendAsBinaryData => true;
}
