using System.Text;
using MailSink.Storage;

namespace MailSink.Tests.Unit;

/// <summary>A raw message and its envelope in, the stored document out: lenient, and never an exception.</summary>
public sealed class MessageParserTests
{
    private static SmtpEnvelope Envelope(string mailFrom = "sender@example.com", params string[] rcptTo) =>
        new(mailFrom, rcptTo.Length == 0 ? ["to@abc.localhost"] : rcptTo, "client.example", "127.0.0.1:50000", "Tls13", "alice", SmtpUtf8: true);

    private static byte[] Raw(params string[] lines) => Encoding.UTF8.GetBytes(string.Join("\r\n", lines) + "\r\n");

    private static StoredMessage Parse(byte[] raw, SmtpEnvelope? envelope = null) => MessageParser.Parse(raw, envelope ?? Envelope());

    [Fact]
    public void A_simple_message_gives_its_subject_addresses_body_and_summary()
    {
        var message = Parse(Raw(
            "From: Alice Example <alice@example.com>",
            "To: Bob <bob@abc.localhost>, carol@abc.localhost",
            "Cc: \"Dave, D.\" <dave@abc.localhost>",
            "Subject: Hello there",
            "Date: Tue, 25 Nov 2025 14:30:00 +0100",
            "Message-ID: <id-1@example.com>",
            "",
            "Hi Bob,",
            "",
            "see you   tomorrow."));

        Assert.Null(message.ParseError);
        Assert.Equal("Hello there", message.Subject);
        Assert.Equal("id-1@example.com", message.MessageIdHeader);
        Assert.Equal(new DateTime(2025, 11, 25, 13, 30, 0, DateTimeKind.Utc), message.Date);
        Assert.Equal(DateTimeKind.Utc, message.Date!.Value.Kind);
        Assert.Equal([("Alice Example", "alice@example.com")], Pairs(message.From));
        Assert.Equal([("Bob", "bob@abc.localhost"), ("", "carol@abc.localhost")], Pairs(message.To));
        Assert.Equal([("Dave, D.", "dave@abc.localhost")], Pairs(message.Cc));
        Assert.Equal("Hi Bob,\n\nsee you   tomorrow.\n", message.Text); // MimeKit gives text with LF line ends
        Assert.Null(message.Html);
        Assert.Equal("Hi Bob, see you tomorrow.", message.Summary);
        Assert.Empty(message.Attachments);
    }

    [Fact]
    public void The_envelope_and_the_raw_size_are_kept()
    {
        var raw = Raw("Subject: s", "", "b");
        var envelope = new SmtpEnvelope("s@example.com", ["a@x.localhost", "b@y.localhost"], "helo.example", "10.0.0.1:2525", null, null, SmtpUtf8: false);

        var message = MessageParser.Parse(raw, envelope);

        Assert.Equal(raw.Length, message.Size);
        Assert.Equal("s@example.com", message.Envelope.MailFrom);
        Assert.Equal(["a@x.localhost", "b@y.localhost"], message.Envelope.RcptTo);
        Assert.Equal("helo.example", message.Envelope.Ehlo);
        Assert.Equal("10.0.0.1:2525", message.Envelope.RemoteAddress);
        Assert.Null(message.Envelope.TlsProtocol);
        Assert.Null(message.Envelope.AuthenticatedUser);
        Assert.False(message.Envelope.SmtpUtf8);
        Assert.True(Parse(raw).Envelope.SmtpUtf8);
        Assert.Equal("Tls13", Parse(raw).Envelope.TlsProtocol);
        Assert.Equal("alice", Parse(raw).Envelope.AuthenticatedUser);
    }

    [Fact]
    public void Multipart_alternative_gives_both_text_and_html_and_no_attachment()
    {
        var message = Parse(Raw(
            "From: a@example.com",
            "Subject: alt",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"b1\"",
            "",
            "--b1",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Plain caf\u00e9",
            "--b1",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<p>Html <b>caf\u00e9</b></p>",
            "--b1--"));

        Assert.Null(message.ParseError);
        Assert.Equal("Plain caf\u00e9", message.Text!.TrimEnd());
        Assert.Equal("<p>Html <b>caf\u00e9</b></p>", message.Html!.TrimEnd());
        Assert.Equal("Plain caf\u00e9", message.Summary);
        Assert.Empty(message.Attachments);
    }

    [Fact]
    public void Quoted_printable_and_base64_bodies_are_decoded()
    {
        var message = Parse(Raw(
            "Subject: qp",
            "Content-Type: text/plain; charset=iso-8859-1",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "Gr=FC=DFe, a long line=",
            " continues"));

        Assert.Equal("Gr\u00fc\u00dfe, a long line continues", message.Text!.TrimEnd());

        var html = Parse(Raw(
            "Subject: b64",
            "Content-Type: text/html; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            Convert.ToBase64String(Encoding.UTF8.GetBytes("<h1>\u65e5\u672c</h1>"))));

        Assert.Null(html.Text);
        Assert.Equal("<h1>\u65e5\u672c</h1>", html.Html);
        Assert.Equal("\u65e5\u672c", html.Summary);
    }

    [Fact]
    public void Multipart_mixed_lists_attachments_and_inline_images_with_decoded_lengths()
    {
        var pdf = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3 };
        var message = Parse(Raw(
            "From: a@example.com",
            "Subject: files",
            "Content-Type: multipart/mixed; boundary=outer",
            "",
            "--outer",
            "Content-Type: multipart/related; boundary=inner",
            "",
            "--inner",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<p>see <img src=\"cid:logo@example.com\"></p>",
            "--inner",
            "Content-Type: image/png",
            "Content-ID: <logo@example.com>",
            "Content-Disposition: inline; filename=logo.png",
            "Content-Transfer-Encoding: base64",
            "",
            Convert.ToBase64String(png),
            "--inner--",
            "--outer",
            "Content-Type: application/pdf; name=\"report.pdf\"",
            "Content-Disposition: attachment; filename=\"report.pdf\"",
            "Content-Transfer-Encoding: base64",
            "",
            Convert.ToBase64String(pdf, Base64FormattingOptions.InsertLineBreaks),
            "--outer--"));

        Assert.Null(message.ParseError);
        Assert.Equal("see", message.Summary);
        Assert.Equal(2, message.Attachments.Count);

        var logo = message.Attachments[0];
        Assert.Equal("logo.png", logo.FileName);
        Assert.Equal("image/png", logo.ContentType);
        Assert.Equal("logo@example.com", logo.ContentId);
        Assert.Equal(png.Length, logo.Length);

        var report = message.Attachments[1];
        Assert.Equal("report.pdf", report.FileName);
        Assert.Equal("application/pdf", report.ContentType);
        Assert.Null(report.ContentId);
        Assert.Equal(1000, report.Length);
        Assert.NotEqual(logo.PartIndex, report.PartIndex);
        Assert.All(message.Attachments, a => Assert.True(Guid.TryParse(a.Id, out _)));
        Assert.NotEqual(logo.Id, report.Id);
    }

    [Fact]
    public void An_attachment_can_be_found_again_by_its_part_index()
    {
        var raw = Raw(
            "Subject: files",
            "Content-Type: multipart/mixed; boundary=b",
            "",
            "--b",
            "Content-Type: text/plain",
            "",
            "body",
            "--b",
            "Content-Type: text/csv",
            "Content-Disposition: attachment; filename=data.csv",
            "",
            "a,b",
            "1,2",
            "--b--");
        var message = Parse(raw);

        var attachment = Assert.Single(message.Attachments);
        Assert.Equal("text/csv", attachment.ContentType);
        Assert.Equal("a,b\r\n1,2".Length, attachment.Length);
        var part = MessageParser.FindPart(raw, attachment.PartIndex);
        Assert.Equal("data.csv", Assert.IsAssignableFrom<MimeKit.MimePart>(part).FileName);
        Assert.Null(MessageParser.FindPart(raw, 99));
    }

    [Fact]
    public void A_text_part_sent_as_an_attachment_is_an_attachment_not_the_body()
    {
        var message = Parse(Raw(
            "Subject: notes",
            "Content-Type: multipart/mixed; boundary=b",
            "",
            "--b",
            "Content-Type: text/plain",
            "",
            "the body",
            "--b",
            "Content-Type: text/plain",
            "Content-Disposition: attachment; filename=notes.txt",
            "",
            "the notes",
            "--b--"));

        Assert.Equal("the body", message.Text!.TrimEnd());
        var notes = Assert.Single(message.Attachments);
        Assert.Equal("notes.txt", notes.FileName);
        Assert.Equal("text/plain", notes.ContentType);
    }

    [Fact]
    public void Headers_are_kept_in_order_unfolded_and_decoded()
    {
        var subject = "Gr\u00fc\u00dfe \ud83c\udf89 aus K\u00f6ln";
        var message = Parse(Raw(
            "Received: from a by b; Tue, 25 Nov 2025 14:30:00 +0000",
            "X-Custom: one",
            "Subject: =?UTF-8?B?" + Convert.ToBase64String(Encoding.UTF8.GetBytes(subject)) + "?=",
            "X-Folded: first part",
            "\tsecond part",
            "X-Custom: two",
            "From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.com>",
            "",
            "body"));

        Assert.Equal(subject, message.Subject);
        Assert.Equal(["Received", "X-Custom", "Subject", "X-Folded", "X-Custom", "From"], message.Headers.Select(h => h.Field));
        Assert.Equal("one", message.Headers[1].Value);
        Assert.Equal(subject, message.Headers[2].Value);
        Assert.Equal("first part\tsecond part", message.Headers[3].Value);
        Assert.Equal("two", message.Headers[4].Value);
        Assert.Equal([("Andr\u00e9", "andre@example.com")], Pairs(message.From));
    }

    [Fact]
    public void Raw_utf8_headers_of_an_smtputf8_message_keep_their_characters()
    {
        var message = Parse(Raw(
            "From: Jos\u00e9 <jos\u00e9@b\u00fccher.de>",
            "To: \u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a",
            "Subject: \u65e5\u672c\u8a9e\u306e\u4ef6\u540d \u2615",
            "",
            "\u00a1Hola!"));

        Assert.Null(message.ParseError);
        Assert.Equal("\u65e5\u672c\u8a9e\u306e\u4ef6\u540d \u2615", message.Subject);
        Assert.Equal([("Jos\u00e9", "jos\u00e9@b\u00fccher.de")], Pairs(message.From));
        Assert.Equal("\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a", Assert.Single(message.To).Email);
        Assert.Equal("\u00a1Hola!", message.Text!.TrimEnd());
        Assert.Contains(message.Headers, h => h.Field == "Subject" && h.Value == "\u65e5\u672c\u8a9e\u306e\u4ef6\u540d \u2615");
    }

    [Fact]
    public void Envelope_recipients_missing_from_to_and_cc_become_bcc_ignoring_case()
    {
        var message = Parse(
            Raw(
                "From: a@example.com",
                "To: Bob <Bob@ABC.localhost>",
                "Cc: carol@abc.localhost",
                "Subject: s",
                "",
                "b"),
            Envelope("a@example.com", "bob@abc.localhost", "CAROL@abc.localhost", "hidden@abc.localhost", "Hidden@ABC.localhost", "other@x.localhost"));

        Assert.Equal(["hidden@abc.localhost", "other@x.localhost"], message.Bcc.Select(a => a.Email));
        Assert.All(message.Bcc, a => Assert.Equal("", a.Name));
    }

    [Theory]
    [InlineData("x@xn--bcher-kva.localhost", "x@b\u00fccher.localhost")]
    [InlineData("x@b\u00fccher.localhost", "x@xn--bcher-kva.localhost")]
    [InlineData("x@B\u00dcCHER.localhost", "x@xn--bcher-kva.localhost")]
    public void A_recipient_whose_domain_the_header_spells_the_other_way_is_no_bcc(string rcpt, string header)
    {
        var message = Parse(Raw("From: a@example.com", $"To: {header}", "Subject: s", "", "b"), Envelope("a@example.com", rcpt, "hidden@b\u00fccher.localhost"));

        Assert.Equal(["hidden@b\u00fccher.localhost"], message.Bcc.Select(a => a.Email));
    }

    [Fact]
    public void A_bcc_header_is_kept_and_not_repeated_from_the_envelope()
    {
        var message = Parse(
            Raw("To: a@x.localhost", "Bcc: Secret <secret@x.localhost>", "Subject: s", "", "b"),
            Envelope("s@example.com", "a@x.localhost", "SECRET@x.localhost", "more@x.localhost"));

        Assert.Equal([("Secret", "secret@x.localhost"), ("", "more@x.localhost")], Pairs(message.Bcc));
    }

    [Fact]
    public void From_falls_back_to_mail_from_when_the_header_is_missing()
    {
        var message = Parse(Raw("Subject: typed by hand", "", "hello"), Envelope("me@example.com"));

        Assert.Equal([("", "me@example.com")], Pairs(message.From));
    }

    [Fact]
    public void The_null_sender_gives_no_from()
    {
        var message = Parse(Raw("Subject: bounce", "", "hello"), Envelope(""));

        Assert.Empty(message.From);
    }

    [Fact]
    public void A_from_header_wins_over_mail_from()
    {
        var message = Parse(Raw("From: header@example.com", "", "x"), Envelope("envelope@example.com"));

        Assert.Equal("header@example.com", Assert.Single(message.From).Email);
    }

    [Fact]
    public void A_message_of_only_headers_has_an_empty_body_and_no_error()
    {
        var message = Parse(Raw("From: a@example.com", "Subject: only headers"));

        Assert.Null(message.ParseError);
        Assert.Equal("only headers", message.Subject);
        Assert.True(string.IsNullOrEmpty(message.Text));
        Assert.Null(message.Html);
        Assert.Equal("", message.Summary);
        Assert.Empty(message.Attachments);
    }

    [Fact]
    public void An_empty_message_records_a_parse_error_and_keeps_the_envelope()
    {
        var message = Parse([], Envelope("s@example.com", "a@x.localhost", "b@y.localhost"));

        Assert.Equal("The message is empty.", message.ParseError);
        Assert.Equal(0, message.Size);
        Assert.Equal("s@example.com", message.Envelope.MailFrom);
        Assert.Equal("s@example.com", Assert.Single(message.From).Email);
        Assert.Equal(["a@x.localhost", "b@y.localhost"], message.Bcc.Select(a => a.Email));
        Assert.Null(message.Subject);
        Assert.Equal("", message.Summary);
    }

    [Fact]
    public void A_message_of_only_a_blank_line_has_no_header_section()
    {
        var message = Parse("\r\n"u8.ToArray());

        Assert.Equal("The message has no header section.", message.ParseError);
        Assert.Empty(message.Headers);
        Assert.Equal("sender@example.com", Assert.Single(message.From).Email);
    }

    [Fact]
    public void Garbage_bytes_never_throw_and_the_envelope_is_still_stored()
    {
        var random = new Random(2045);
        for (var round = 0; round < 200; round++)
        {
            var raw = new byte[random.Next(1, 2000)];
            random.NextBytes(raw);

            var message = Parse(raw, Envelope("s@example.com", "r@x.localhost"));

            Assert.Equal(raw.Length, message.Size);
            Assert.Equal(["r@x.localhost"], message.Envelope.RcptTo);
            Assert.Contains(message.Bcc, a => a.Email == "r@x.localhost");
            Assert.NotNull(message.Summary);
        }
    }

    [Fact]
    public void A_binary_first_line_records_why_parsing_failed()
    {
        var message = Parse([0x01, 0x02, 0xFF, 0xFE, (byte)'\r', (byte)'\n', (byte)'\r', (byte)'\n', (byte)'x']);

        Assert.StartsWith("MIME parse failed: ", message.ParseError, StringComparison.Ordinal);
        Assert.Equal("sender@example.com", Assert.Single(message.From).Email);
        Assert.Equal("to@abc.localhost", Assert.Single(message.Bcc).Email);
    }

    [Fact]
    public void A_multipart_without_its_closing_boundary_is_parsed_leniently()
    {
        var message = Parse(Raw(
            "Subject: cut short",
            "Content-Type: multipart/mixed; boundary=zz",
            "",
            "--zz",
            "Content-Type: text/plain",
            "",
            "partial text without end"));

        Assert.Equal("cut short", message.Subject);
        Assert.Equal("partial text without end", message.Text!.TrimEnd());
    }

    [Fact]
    public void A_multipart_without_a_boundary_parameter_does_not_throw()
    {
        var message = Parse(Raw(
            "Subject: no boundary",
            "Content-Type: multipart/mixed",
            "",
            "just text"));

        Assert.Equal("no boundary", message.Subject);
        Assert.NotNull(message.Summary);
    }

    [Fact]
    public void Broken_base64_in_an_attachment_does_not_throw()
    {
        var message = Parse(Raw(
            "Subject: bad b64",
            "Content-Type: multipart/mixed; boundary=b",
            "",
            "--b",
            "Content-Type: application/octet-stream",
            "Content-Disposition: attachment; filename=x.bin",
            "Content-Transfer-Encoding: base64",
            "",
            "!!!not*base64###",
            "--b--"));

        Assert.Equal("x.bin", Assert.Single(message.Attachments).FileName);
    }

    [Fact]
    public void Malformed_address_headers_are_read_leniently()
    {
        var message = Parse(Raw(
            "From: Broken <<a@example.com",
            "To: undisclosed-recipients:;",
            "Cc: a@b, , c@d",
            "Date: not a date",
            "Subject: s",
            "",
            "x"));

        Assert.Equal("s", message.Subject);
        Assert.Equal(["a@b", "c@d"], message.Cc.Select(a => a.Email));
    }

    [Fact]
    public void An_unparseable_date_header_gives_no_date()
    {
        Assert.Null(Parse(Raw("Date: yesterday-ish", "Subject: s", "", "x")).Date);
        Assert.Null(Parse(Raw("Date:", "Subject: s", "", "x")).Date);
    }

    [Theory]
    [InlineData("Tue, 25 Nov 2025 14:30:00 +0100")]
    [InlineData("25 Nov 2025 14:30:00 +0100")]
    [InlineData("Tue, 25 Nov 2025 08:30:00 -0500 (EST)")]
    public void A_date_header_is_stored_in_utc(string value)
    {
        Assert.Equal(new DateTime(2025, 11, 25, 13, 30, 0, DateTimeKind.Utc), Parse(Raw("Date: " + value, "", "x")).Date);
    }

    [Fact]
    public void A_missing_date_header_gives_no_date()
    {
        Assert.Null(Parse(Raw("Subject: s", "", "x")).Date);
    }

    [Fact]
    public void The_summary_collapses_whitespace()
    {
        var message = Parse(Raw("Subject: s", "", "  one\t two", "", "", "three   ", "   "));

        Assert.Equal("one two three", message.Summary);
    }

    [Fact]
    public void The_summary_is_cut_to_200_characters_with_an_ellipsis()
    {
        var words = string.Join(' ', Enumerable.Range(0, 200).Select(i => $"w{i}"));
        var message = Parse(Raw("Subject: s", "", words));

        Assert.Equal(201, message.Summary.Length);
        Assert.EndsWith("…", message.Summary, StringComparison.Ordinal);
        Assert.StartsWith("w0 w1 w2", message.Summary, StringComparison.Ordinal);
        Assert.Equal(words[..200].TrimEnd() + "…", message.Summary);
    }

    [Fact]
    public void Without_a_text_body_the_summary_is_the_html_without_tags_scripts_and_styles()
    {
        var message = Parse(Raw(
            "Subject: html only",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<html><head><style>p { color: red; }</style><script type=\"text/javascript\">alert('x')</script></head>",
            "<body><p>Fish &amp; chips</p>\t<p>caf&eacute;&nbsp;&#8364;5</p><!-- note --></body></html>"));

        Assert.Null(message.Text);
        Assert.Equal("Fish & chips caf\u00e9 \u20ac5", message.Summary);
    }

    [Theory]
    [InlineData("  leading and trailing  ")]
    [InlineData("tabs\tand\r\nline\n\nbreaks")]
    [InlineData("\u00a0no-break\u2028line\u2029paragraph\u0085next\u3000ideographic\u000bvertical\u000cfeed")]
    [InlineData("\u200bzero-width is not white space\u200b")]
    [InlineData("x")]
    public void The_summary_collapses_white_space_as_the_regular_expression_s_plus_does(string text)
    {
        var expected = System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ").Trim();

        Assert.Equal(expected, MessageParser.MakeSummary(text, null));
    }

    [Fact]
    public void The_summary_is_the_first_4096_characters_collapsed_and_cut_to_200()
    {
        // Around the lengths where the summary is cut or the scan stops: 200 collapsed, 4096 scanned.
        string[] pieces = [" ", "  ", "\r\n", "\t", "\u00a0", "\u3000", "a", "bc", "word", "\ud83c\udf89", "\ud800", "\udfff", "\u200b", "x"];
        var random = new Random(200);
        for (var round = 0; round < 3000; round++)
        {
            var text = new StringBuilder();
            var target = random.Next(3) switch { 0 => random.Next(180, 240), 1 => random.Next(4080, 4110), _ => random.Next(0, 8000) };
            while (text.Length < target)
                text.Append(pieces[random.Next(pieces.Length)]);
            if (random.Next(4) == 0)
                text.Insert(0, new string(' ', random.Next(1, 5000)));

            Assert.Equal(ReferenceSummary(text.ToString()), MessageParser.MakeSummary(text.ToString(), null));
        }
    }

    /// <summary>The summary as it was built before collapsing stopped early: the whole first 4,096 characters, then the cut.</summary>
    private static string ReferenceSummary(string source)
    {
        static string Cap(string value, int max) =>
            value.Length <= max ? value : value[..(char.IsHighSurrogate(value[max - 1]) ? max - 1 : max)];

        if (string.IsNullOrWhiteSpace(source))
            return "";
        var collapsed = new StringBuilder();
        var space = false;
        foreach (var c in Cap(source, 4096))
        {
            if (char.IsWhiteSpace(c))
            {
                space = collapsed.Length > 0;
                continue;
            }

            if (space)
                collapsed.Append(' ');
            space = false;
            collapsed.Append(c);
        }

        var all = collapsed.ToString();
        return all.Length <= 200 ? all : Cap(all, 200).TrimEnd() + "…";
    }

    [Fact]
    public void A_blank_text_body_gives_way_to_the_html_for_the_summary()
    {
        Assert.Equal("from html", MessageParser.MakeSummary(" \r\n ", "<b>from</b> html"));
        Assert.Equal("from text", MessageParser.MakeSummary("from text", "<b>from</b> html"));
        Assert.Equal("", MessageParser.MakeSummary(null, null));
    }

    [Fact]
    public void A_text_body_larger_than_the_cap_is_cut()
    {
        var big = new string('a', MessageParser.MaxBodyChars + 10);
        var message = Parse(Encoding.ASCII.GetBytes("Subject: big\r\n\r\n" + big));

        Assert.Equal(MessageParser.MaxBodyChars, message.Text!.Length);
        Assert.Equal(201, message.Summary.Length);
    }

    [Theory]
    [InlineData(198)]
    [InlineData(199)]
    [InlineData(200)]
    public void The_summary_never_cuts_an_emoji_in_half(int before)
    {
        var text = new string('a', before) + "\ud83c\udf89 party";

        var summary = MessageParser.MakeSummary(text, null);

        Assert.EndsWith("…", summary, StringComparison.Ordinal);
        Assert.True(IsWellFormed(summary), $"'{summary}' has a lone surrogate");
        Assert.StartsWith(new string('a', before), summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_capped_text_body_never_ends_in_half_an_emoji()
    {
        var text = new string('a', MessageParser.MaxBodyChars - 1) + "\ud83c\udf89";
        var message = Parse(Encoding.UTF8.GetBytes("Subject: big\r\n\r\n" + text));

        Assert.Equal(MessageParser.MaxBodyChars - 1, message.Text!.Length);
        Assert.True(IsWellFormed(message.Text));
    }

    [Fact]
    public void A_forwarded_message_attached_as_message_rfc822_is_listed_as_an_attachment()
    {
        var inner = "From: orig@example.com\r\nSubject: original\r\n\r\ninner body\r\n";
        var message = Parse(Raw(
            "Subject: Fwd: original",
            "Content-Type: multipart/mixed; boundary=b",
            "",
            "--b",
            "Content-Type: text/plain",
            "",
            "see attached",
            "--b",
            "Content-Type: message/rfc822",
            "Content-Disposition: attachment; filename=original.eml",
            "",
            inner,
            "--b--"));

        Assert.Equal("see attached", message.Text!.TrimEnd());
        var attached = Assert.Single(message.Attachments);
        Assert.Equal("original.eml", attached.FileName);
        Assert.Equal("message/rfc822", attached.ContentType);
        Assert.Equal(inner.Length, attached.Length);
    }

    [Theory]
    [InlineData("hello")]
    [InlineData("Hello there, no headers here.\r\nSecond line")]
    public void A_message_without_headers_keeps_its_text_as_the_body(string body)
    {
        var message = Parse(Encoding.UTF8.GetBytes(body + "\r\n"), Envelope("me@example.com", "you@abc.localhost"));

        Assert.NotNull(message.ParseError);
        Assert.Equal(body.Replace("\r\n", "\n", StringComparison.Ordinal), message.Text!.TrimEnd()); // LF, as MimeKit gives bodies
        Assert.Equal(body.Replace("\r\n", " ", StringComparison.Ordinal), message.Summary);
        Assert.Equal("me@example.com", Assert.Single(message.From).Email);
        Assert.Equal("you@abc.localhost", Assert.Single(message.Bcc).Email);
    }

    [Fact]
    public void A_raw_utf8_message_without_headers_keeps_its_characters()
    {
        var message = Parse(Encoding.UTF8.GetBytes("Gr\u00fc\u00dfe \u65e5\u672c \ud83c\udf89\r\n"));

        Assert.Equal("Gr\u00fc\u00dfe \u65e5\u672c \ud83c\udf89", message.Summary);
    }

    [Fact]
    public void Randomly_damaged_multipart_messages_never_throw()
    {
        var original = Raw(
            "From: =?UTF-8?B?" + Convert.ToBase64String("J\u00f6rg"u8.ToArray()) + "?= <j@example.com>",
            "To: a@x.localhost, \"B, C\" <b@x.localhost>",
            "Subject: =?ISO-8859-1?Q?caf=E9?=",
            "Date: Tue, 25 Nov 2025 14:30:00 +0100",
            "Content-Type: multipart/mixed; boundary=\"o\"",
            "",
            "--o",
            "Content-Type: multipart/alternative; boundary=i",
            "",
            "--i",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "caf=C3=A9 =E2=98=95",
            "--i",
            "Content-Type: text/html; charset=iso-8859-1",
            "",
            "<p>caf\u00e9</p>",
            "--i--",
            "--o",
            "Content-Type: message/rfc822",
            "",
            "Subject: inner",
            "",
            "inner",
            "--o",
            "Content-Type: application/octet-stream; name=a.bin",
            "Content-Disposition: attachment; filename*=UTF-8''%C3%A4.bin",
            "Content-Transfer-Encoding: base64",
            "",
            "AAECAwQFBgcICQ==",
            "--o",
            "Content-Type: text/plain; charset=x-unknown-charset",
            "Content-Transfer-Encoding: x-uuencode",
            "",
            "begin 644 a.txt",
            "--o--");
        var random = new Random(1866);
        byte[] interesting = [(byte)'-', (byte)'\r', (byte)'\n', (byte)':', (byte)'=', (byte)'"', (byte)';', (byte)'?', 0x00, 0xFF, 0xC3];

        for (var round = 0; round < 1500; round++)
        {
            var raw = original.ToList();
            for (var edits = random.Next(1, 12); edits > 0 && raw.Count > 0; edits--)
            {
                var at = random.Next(raw.Count);
                switch (random.Next(4))
                {
                    case 0: raw.RemoveAt(at); break;
                    case 1: raw.Insert(at, interesting[random.Next(interesting.Length)]); break;
                    case 2: raw[at] = (byte)random.Next(256); break;
                    default: raw.RemoveRange(at, raw.Count - at); break;
                }
            }

            var message = Parse([.. raw]);

            Assert.Equal(raw.Count, message.Size);
            Assert.NotNull(message.Summary);
            Assert.True(message.Summary.Length <= 201);
        }
    }

    [Fact]
    public void The_html_summary_leaves_out_the_title_styles_and_comments()
    {
        var html = """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>Reset your password</title>
            <style>td { padding: 0 }</style></head><body>
            <!--[if mso]><v:roundrect><v:textbox>Reset (Outlook)</v:textbox></v:roundrect><![endif]-->
            <p>Hi Bob,</p><!-- tracking: a > b --><p>click to reset.</p></body></html>
            """;

        Assert.Equal("Hi Bob, click to reset.", MessageParser.MakeSummary(null, html));
    }

    [Fact]
    public void The_html_summary_keeps_text_after_an_omitted_head_end_tag()
    {
        Assert.Equal("Hello", MessageParser.MakeSummary(null, "<html><head><title>T</title><body>Hello</body></html>"));
        Assert.Equal("shown", MessageParser.MakeSummary(null, "<!--[if !mso]><!-->shown<!--<![endif]-->"));
        Assert.Equal("visible", MessageParser.MakeSummary(null, "visible<style>p { color: red }"));
    }

    [Theory]
    [InlineData("<style>")]
    [InlineData("<script>")]
    [InlineData("<head>")]
    [InlineData("<!--")]
    [InlineData("<a")]
    [InlineData("<style ")]
    [InlineData("<!-- <style>")]
    [InlineData("<title>x</title")]
    public void The_html_summary_takes_linear_time_on_unclosed_elements(string unit)
    {
        // 64 KiB of unclosed "<style>" took seconds: every occurrence scanned to the end for "</style>".
        var html = string.Concat(Enumerable.Repeat(unit, 64 * 1024 / unit.Length)) + "<p>tail</p>";
        var watch = System.Diagnostics.Stopwatch.StartNew();

        MessageParser.MakeSummary(null, html);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.ElapsedMilliseconds} ms");
    }

    private static bool IsWellFormed(string text)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetByteCount(text);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    private static (string Name, string Email)[] Pairs(IEnumerable<StoredAddress> addresses) =>
        [.. addresses.Select(a => (a.Name, a.Email))];

    [Theory]
    [InlineData("Content-Type: multipart/mixed", "A multipart/mixed body has no boundary parameter, so its parts cannot be told apart: its content is shown as text.")]
    [InlineData("Content-Type: multipart/alternative; boundary=zzz", "A multipart/alternative body has no part that starts with its boundary 'zzz': its content is shown as text.")]
    public void A_multipart_body_without_parts_keeps_its_content_as_text_and_is_flagged(string contentType, string problem)
    {
        var raw = Encoding.ASCII.GetBytes($"From: a@b.example\r\nSubject: broken\r\nMIME-Version: 1.0\r\n{contentType}\r\n\r\nsome body\r\nsecond line\r\n");
        var message = Parse(raw);

        Assert.Equal("some body\nsecond line\n", message.Text);
        Assert.Equal("some body second line", message.Summary);
        Assert.Equal(problem, message.ParseError);
        Assert.Equal(message.Text, MessageParser.ReadContent(raw).Text); // a full read gives what ingest stored
    }

    [Fact]
    public void An_empty_multipart_inside_another_is_flagged_and_one_with_nothing_in_it_says_so()
    {
        var nested = Parse(Encoding.ASCII.GetBytes(string.Join("\r\n",
            "Subject: nested", "Content-Type: multipart/mixed; boundary=outer", "",
            "--outer", "Content-Type: multipart/alternative", "", "the text", "--outer--", "")));
        Assert.Equal("A multipart/alternative body has no boundary parameter, so its parts cannot be told apart: its content is shown as text.", nested.ParseError);
        Assert.Equal("the text\n", nested.Text);

        var bare = Parse(Encoding.ASCII.GetBytes("Subject: bare\r\nContent-Type: multipart/mixed; boundary=zzz\r\n\r\n--zzz--\r\n"));
        Assert.Equal("A multipart/mixed body has no part that starts with its boundary 'zzz': it holds no part.", bare.ParseError);
        Assert.Null(bare.Text);
    }
}

public sealed class MessageParserPartsTests
{
    private static readonly SmtpEnvelope Envelope = new("a@b.example", ["x@y.localhost"], "me", null, null, null, false);

    private static byte[] Raw(params string[] lines) => System.Text.Encoding.UTF8.GetBytes(string.Join("\r\n", lines) + "\r\n");

    /// <summary>Built in the test, not in the theory data: xUnit serialises theory data at discovery.</summary>
    private static readonly Dictionary<string, Func<byte[]>> BodySources = new()
    {
        ["plain text"] = () => Raw("Subject: s", "", "Hello,", "", "a body."),
        ["text and HTML"] = () => Raw(
            "MIME-Version: 1.0", "Content-Type: multipart/alternative; boundary=b", "",
            "--b", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "", "caf=C3=A9 =", "soft break",
            "--b", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64", "", Convert.ToBase64String(Encoding.UTF8.GetBytes("<p>caf\u00e9</p>")),
            "--b--"),
        ["HTML only, Latin-1"] = () => [.. Encoding.ASCII.GetBytes("Content-Type: text/html; charset=iso-8859-1\r\n\r\n<b>"), 0xE9, .. Encoding.ASCII.GetBytes("t</b>\r\n")],
        ["no header section"] = () => Raw("hello", "typed by hand"),
        ["only headers"] = () => Encoding.ASCII.GetBytes("Subject: nothing else\r\n"),
        ["empty"] = () => [],
        ["invalid UTF-8 in an 8-bit body"] = () => [.. Encoding.ASCII.GetBytes("Subject: x\r\n\r\nbad "), 0xC3, 0x28, 0xFF, (byte)'\r', (byte)'\n'],
        ["over the body cap"] = () => Encoding.ASCII.GetBytes("Subject: big\r\n\r\n" + new string('a', MessageParser.MaxBodyChars + 10)),
    };

    public static TheoryData<string> BodySourceNames => [.. BodySources.Keys];

    /// <summary>The document keeps neither bodies nor headers; a read takes them from the raw bytes and must get what ingest saw.</summary>
    [Theory]
    [MemberData(nameof(BodySourceNames))]
    public void Bodies_and_headers_read_back_from_the_raw_message_are_those_of_the_ingest_parse(string why)
    {
        var raw = BodySources[why]();
        var parsed = MessageParser.Parse(raw, Envelope);

        var content = MessageParser.ReadContent(raw);

        Assert.True(parsed.Text == content.Text, $"{why}: text differs");
        Assert.True(parsed.Html == content.Html, $"{why}: HTML differs");
        Assert.Equal(parsed.Headers.Select(h => (h.Field, h.Value)), content.Headers.Select(h => (h.Field, h.Value)));
    }

    [Fact]
    public void Every_top_level_header_is_kept_in_order_content_headers_included()
    {
        var message = MessageParser.Parse(Raw(
            "From: a@b.example", "Content-Type: text/plain; charset=utf-8", "Subject: s", "Content-Transfer-Encoding: 8bit", "MIME-Version: 1.0", "", "body"), Envelope);
        Assert.Equal(["From", "Content-Type", "Subject", "Content-Transfer-Encoding", "MIME-Version"], message.Headers.Select(h => h.Field));
        Assert.Equal("text/plain; charset=utf-8", message.Headers[1].Value);
    }

    [Fact]
    public void A_second_text_part_is_listed_as_an_attachment_instead_of_being_lost()
    {
        var message = MessageParser.Parse(Raw(
            "Subject: apple", "MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=b", "",
            "--b", "Content-Type: text/plain", "", "first text",
            "--b", "Content-Type: image/png", "Content-Disposition: inline", "Content-Transfer-Encoding: base64", "", "iVBORw0KGgo=",
            "--b", "Content-Type: text/plain", "", "second text",
            "--b--"), Envelope);

        Assert.StartsWith("first text", message.Text);
        Assert.Equal(["image/png", "text/plain"], message.Attachments.Select(a => a.ContentType));
    }

    [Fact]
    public void An_attached_message_downloads_as_the_message_itself()
    {
        var raw = Raw(
            "Subject: fwd", "MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=b", "",
            "--b", "Content-Type: text/plain", "", "see attached",
            "--b", "Content-Type: message/rfc822", "", "Subject: inner", "", "inner body",
            "--b--");
        var message = MessageParser.Parse(raw, Envelope);
        var attachment = Assert.Single(message.Attachments);
        Assert.Equal("message/rfc822", attachment.ContentType);

        using var bytes = new MemoryStream();
        MessageParser.WriteAttachment(MessageParser.FindPart(raw, attachment.PartIndex)!, bytes);
        Assert.Equal("Subject: inner\r\n\r\ninner body", System.Text.Encoding.UTF8.GetString(bytes.ToArray())); // the CRLF before a boundary belongs to it
        Assert.Equal(bytes.Length, attachment.Length);
    }
}
