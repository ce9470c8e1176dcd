using System.Text;
using MailSink.Storage;

namespace MailSink.Benchmarks;

/// <summary>The sample messages: deterministic, and shaped like real test mail.</summary>
public static class Messages
{
    public static readonly SmtpEnvelope Envelope = new(
        "sender@example.com", ["user@bench.localhost"], "client.example.com", "127.0.0.1:50000", null, null, false);

    /// <summary>About 2 KB of plain text with a link and a one-time code.</summary>
    public static byte[] PlainText2K(int n = 0, string to = "user@bench.localhost")
    {
        var text = new StringBuilder()
            .Append("From: Shop <noreply@shop.example>\r\nTo: ").Append(to).Append("\r\n")
            .Append("Subject: Your sign-in code ").Append(n.ToString("D7", System.Globalization.CultureInfo.InvariantCulture)).Append("\r\n")
            .Append("Date: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <").Append(n).Append("@shop.example>\r\n")
            .Append("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
            .Append("Hello,\r\n\r\nYour sign-in code is 482913. It expires in 10 minutes.\r\n")
            .Append("Or open https://shop.example/signin?token=abc123 to continue.\r\n\r\n");
        while (text.Length < 2000)
            text.Append("The quick brown fox jumps over the lazy dog; this paragraph pads the mail.\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>About 20 KB multipart/alternative: a text part and an HTML part with links, images and a code.</summary>
    public static byte[] Alternative20K()
    {
        var html = new StringBuilder("<html><head><style>p { color: #333 }</style></head><body>");
        html.Append("<h1>Welcome aboard</h1><p>Your verification code is <b>G3H1Y2</b>.</p>");
        var text = new StringBuilder("Welcome aboard\r\n\r\nYour verification code is G3H1Y2.\r\n");
        for (var i = 0; html.Length < 13_000; i++)
        {
            html.Append("<p>Item ").Append(i).Append(": <a href=\"https://shop.example/item/").Append(i)
                .Append("\">see the item</a> <img src=\"https://cdn.shop.example/i/").Append(i).Append(".png\" alt=\"item\"></p>\r\n");
            text.Append("Item ").Append(i).Append(": https://shop.example/item/").Append(i).Append("\r\n");
        }

        html.Append("</body></html>");
        return Encoding.UTF8.GetBytes(new StringBuilder()
            .Append("From: Shop <noreply@shop.example>\r\nTo: user@bench.localhost\r\nSubject: Welcome\r\n")
            .Append("MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n")
            .Append("--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n").Append(text).Append("\r\n")
            .Append("--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n").Append(html).Append("\r\n--alt--\r\n")
            .ToString());
    }

    /// <summary>About 100 KB: a short text part and a base64 PDF-like attachment.</summary>
    public static byte[] WithAttachment100K()
    {
        var random = new Random(42);
        var data = new byte[72_000];
        random.NextBytes(data);
        var base64 = Convert.ToBase64String(data, Base64FormattingOptions.InsertLineBreaks);
        return Encoding.UTF8.GetBytes(new StringBuilder()
            .Append("From: Billing <billing@shop.example>\r\nTo: user@bench.localhost\r\nSubject: Your invoice\r\n")
            .Append("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n")
            .Append("--mix\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour invoice INV-2026-0042 is attached.\r\n")
            .Append("--mix\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\nContent-Disposition: attachment; filename=\"invoice.pdf\"\r\n")
            .Append("Content-Transfer-Encoding: base64\r\n\r\n").Append(base64).Append("\r\n--mix--\r\n")
            .ToString());
    }

    /// <summary>
    /// About 25 MB, what the memory test of <c>bench/run.sh</c> sends: a short text part and a base64 attachment
    /// in 76-character lines (57 random bytes each) that brings the message to 25,000,000 bytes or just under.
    /// </summary>
    public static byte[] WithAttachment25M()
    {
        const int size = 25_000_000;
        var head = new StringBuilder()
            .Append("From: Bench <bench@example.com>\r\nTo: user@bench.localhost\r\nSubject: the quarterly data\r\n")
            .Append("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"big\"\r\n\r\n")
            .Append("--big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe data is attached. Your code is 481516.\r\n\r\n")
            .Append("--big\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\n")
            .Append("Content-Transfer-Encoding: base64\r\n\r\n");
        const string end = "\r\n--big--\r\n";
        var lines = (size - head.Length - end.Length + 2) / 78; // 76 base64 characters and CRLF, less the last CRLF
        var random = new Random(42);
        var chunk = new byte[57];
        var text = new StringBuilder(head.ToString(), size);
        for (var i = 0; i < lines; i++)
        {
            random.NextBytes(chunk);
            text.Append(Convert.ToBase64String(chunk)).Append("\r\n");
        }

        text.Length -= 2;
        return Encoding.ASCII.GetBytes(text.Append(end).ToString());
    }

    /// <summary>
    /// What Postfix's <c>smtp-source -l 102400</c> sends (its headers, then the body it builds): 80-byte lines of
    /// one digit (1, 2, ... 9, 0, 1, ...) and 77 <c>X</c>, the last 80 bytes all <c>X</c>, then CRLF.
    /// </summary>
    public static byte[] SmtpSourceText100K()
    {
        const int length = 102_400;
        var body = new char[length];
        Array.Fill(body, 'X');
        for (var i = 80; i < length; i += 80)
        {
            body[i - 80] = "0123456789"[i / 80 % 10];
            body[i - 2] = '\r';
            body[i - 1] = '\n';
        }

        return Encoding.ASCII.GetBytes(new StringBuilder()
            .Append("From: <foo@client.example>\r\nTo: <foo@client.example>\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n")
            .Append("Message-Id: <1.2.3@client.example>\r\nSubject: from client.example\r\n\r\n")
            .Append(body).Append("\r\n")
            .ToString());
    }

    public static byte[] Get(string kind) => kind switch
    {
        "2 KB text" => PlainText2K(),
        "20 KB alternative" => Alternative20K(),
        "100 KB attachment" => WithAttachment100K(),
        "100 KB smtp-source" => SmtpSourceText100K(),
        "25 MB attachment" => WithAttachment25M(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
