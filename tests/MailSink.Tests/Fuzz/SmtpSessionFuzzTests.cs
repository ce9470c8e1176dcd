using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using MailSink.Tests.Support;

namespace MailSink.Tests.Fuzz;

/// <summary>
/// Issue 5, item 4: the session line adapter reads every byte a client sends. Random and mutated command
/// lines, AUTH exchanges and DATA bodies go over a real socket to an in-process MailSink, one line at a
/// time or pipelined. Every line gets exactly one reply (a DATA body one, after its final dot; a BDAT line
/// one, after the chunk of the size it states) with a code
/// of 2xx to 5xx; the server closes the session only after 421 or 221; and afterwards a normal transaction
/// in the same session (or a new one, after a close) is stored and readable through the API.
/// </summary>
public sealed partial class SmtpSessionFuzzTests(SmtpSessionFuzzTests.FuzzHost fixture, ITestOutputHelper output)
    : IClassFixture<SmtpSessionFuzzTests.FuzzHost>
{
    /// <summary>A small size limit, so that random bodies reach 552, one SMTP user, so that AUTH can fail and succeed, and no per-session caps.</summary>
    public sealed class FuzzHost : IAsyncLifetime
    {
        public MailSinkHost Host { get; private set; } = null!;

        public async Task InitializeAsync() => Host = await MailSinkHost.StartAsync(
            "--MailSink:Smtp:Listeners:0:Port=0", "--MailSink:Smtp:Listeners:0:Tls=StartTls", "--MailSink:Smtp:Listeners:0:Auth=Optional",
            "--MailSink:Smtp:MaxMessageBytes=65536", "--MailSink:Smtp:MaxRecipients=20",
            // The fuzzer sends as many bad commands as it likes: the per-session caps are ClientLimitsTests' business.
            "--MailSink:Smtp:MaxErrorsPerSession=1000000", "--MailSink:Smtp:MaxCommandsWithoutMessage=1000000",
            "--MailSink:Smtp:Auth:Mode=Users", "--MailSink:Smtp:Auth:Users:0:Name=fuzz", "--MailSink:Smtp:Auth:Users:0:Password=secret");

        public Task DisposeAsync() => Host.DisposeAsync().AsTask();
    }

    private static readonly string[] Dictionary =
    [
        "EHLO ", "HELO ", "MAIL FROM:", "RCPT TO:", "DATA", "RSET", "NOOP", "QUIT", "HELP", "VRFY ", "EXPN ", "AUTH ", "STARTTLS",
        "BDAT 10 LAST", "<", ">", "<>", "@", ":", ",", " SIZE=", " BODY=8BITMIME", " BODY=BINARYMIME", " SMTPUTF8", " NOTIFY=NEVER",
        "PLAIN", "LOGIN", "CRAM-MD5", "AGZ1enoAc2VjcmV0", "=", "*", "postmaster", "user@inbox.localhost", "\"q u\"@x.example",
        "ſ", "ı", "\t", "\u00e9", "\ud83d\ude00",
    ];

    private MailSinkHost Host => fixture.Host;

    [Fact]
    public async Task Random_sessions_get_one_well_formed_reply_per_line_and_a_normal_transaction_still_works()
    {
        var inbox = MailSinkHost.NewInbox();
        var sessions = 0;
        var lines = 0;
        await FuzzRun.RunAsync("smtp-session", output, async input =>
        {
            var session = new FuzzSession(Host, inbox, input);
            var seen = await session.RunAsync();
            sessions++;
            lines += session.LinesSent;
            return seen;
        });

        output.WriteLine($"{sessions} sessions, {lines} client lines");
        Assert.Equal(HttpStatusCode.OK, (await Host.Http.GetAsync("/health")).StatusCode);
        var id = SmtpSend.StoredId(await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"after@{inbox}.localhost", "after the fuzz", "still here")));
        Assert.Equal("after the fuzz", (await Host.GetJsonAsync($"/api/messages/{id}")).GetProperty("subject").GetString());
    }

    private enum Mode
    {
        Command,
        AuthResponse,
        Body,
    }

    /// <summary>One client session: what it sends comes from a corpus transcript or from the seed; what it gets is checked.</summary>
    private sealed partial class FuzzSession(MailSinkHost host, string inbox, FuzzInput input)
    {
        private readonly Random _random = input.Random;
        private readonly StringBuilder _transcript = new();
        private readonly List<string> _seen = [];
        private readonly Queue<string>? _literal = input.Literal is { } text ? new Queue<string>(text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n')) : null;
        private RawSmtpClient? _client;
        private Mode _mode = Mode.Command;
        private bool _startTlsSent;
        private int _steps;

        public int LinesSent { get; private set; }

        public async Task<IEnumerable<string>> RunAsync()
        {
            _steps = _literal?.Count ?? _random.Next(1, 40);
            try
            {
                await ConnectAsync();
                for (var step = 0; step < _steps && _client is not null; step++)
                {
                    var group = NextGroup();
                    if (group is null)
                        break;
                    await SendGroupAsync(group);
                }

                await NormalTransactionAsync();
                return _seen;
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                throw new Xunit.Sdk.XunitException($"{ex.GetType().Name}: {ex.Message}\n{Transcript()}");
            }
            finally
            {
                if (_client is not null)
                    await _client.DisposeAsync();
            }
        }

        private string Transcript() => _transcript.Length <= 6000 ? _transcript.ToString() : "…" + _transcript.ToString(_transcript.Length - 6000, 6000);

        private void Fail(string what) => throw new Xunit.Sdk.XunitException($"{what}\n{Transcript()}");

        private async Task ConnectAsync()
        {
            _client = await RawSmtpClient.ConnectAsync(host.SmtpPort);
            _mode = Mode.Command;
            var banner = await ReadReplyAsync();
            if (!banner.StartsWith("220 ", StringComparison.Ordinal))
                Fail($"banner was '{banner}'");
        }

        /// <summary>The next lines to send in one write, each of which gets one reply (a body: one reply in all).</summary>
        private List<byte[]>? NextGroup()
        {
            if (_literal is not null)
            {
                if (_literal.Count == 0)
                    return null;
                if (_mode != Mode.Body)
                    return [Unescape(_literal.Dequeue())];
                var body = new List<byte[]>();
                while (_literal.Count > 0)
                {
                    var line = _literal.Dequeue();
                    if (line == ".")
                        break;
                    body.Add(Unescape(line));
                }

                return body;
            }

            return _mode switch
            {
                Mode.AuthResponse => [AuthResponse()],
                Mode.Body => [.. Enumerable.Range(0, _random.Next(0, 20)).Select(_ => BodyLine())],
                _ when _random.Next(8) == 0 => [.. Enumerable.Range(0, _random.Next(2, 7)).Select(_ => SimpleCommand())],
                _ => [Command()],
            };
        }

        private async Task SendGroupAsync(List<byte[]> group)
        {
            if (_mode == Mode.Body)
            {
                // Dot-stuffed, so that no line ends the body early; then the final dot.
                var wire = new List<byte>();
                foreach (var line in group)
                {
                    if (line.Length > 0 && line[0] == '.')
                        wire.Add((byte)'.');
                    wire.AddRange(line);
                    wire.AddRange(Eol());
                }

                wire.AddRange(_random.Next(4) == 0 ? ".\n"u8.ToArray() : ".\r\n"u8.ToArray());
                Log($"C: <body of {group.Count} lines, {wire.Count} bytes>");
                LinesSent += group.Count + 1;
                await _client!.SendRawAsync([.. wire]);
                await ExpectReplyAsync("body");
                return;
            }

            var bytes = new List<byte>();
            foreach (var line in group)
            {
                Log("C: " + Escape(line));
                var eol = Eol();
                bytes.AddRange(line);
                bytes.AddRange(eol);
                // What the server reads as the line: all but the final LF (a CR before it is dropped there).
                if (_mode == Mode.Command && ChunkSize([.. line, .. eol[..^1]]) is { } size)
                {
                    // The chunk the line announces follows it at once, whatever the server will answer.
                    Log($"C: <chunk of {size} bytes>");
                    bytes.AddRange(RandomBytes(checked((int)size)));
                }
            }

            LinesSent += group.Count;
            _startTlsSent = group.Count == 1 && Verb(group[0]) == "STARTTLS";
            await _client!.SendRawAsync([.. bytes]);
            for (var i = 0; i < group.Count && _client is not null; i++)
                await ExpectReplyAsync(_mode == Mode.AuthResponse ? "auth" : "command");
            if (group.Count > 1 && _client is null)
                Fail("a pipelined group of plain commands closed the session");
        }

        /// <summary>Reads one reply, checks its form and follows what it means for the session.</summary>
        private async Task<string> ExpectReplyAsync(string after)
        {
            var reply = await ReadReplyAsync();
            var lines = reply.Split('\n');
            var code = lines[^1].Length >= 3 ? lines[^1][..3] : "";
            if (!ReplyLine().IsMatch(lines[^1]) || lines.Any(l => !l.StartsWith(code, StringComparison.Ordinal) || !ReplyLine().IsMatch(l)))
                Fail($"malformed reply '{reply}'");
            _seen.Add($"{after} -> {Shape(lines[0])}");

            switch (code)
            {
                case "221" or "421":
                    if (!await _client!.IsClosedByServerAsync())
                        Fail($"the session stayed open after '{reply}'");
                    await _client.DisposeAsync();
                    _client = null;
                    break;
                case "334":
                    _mode = Mode.AuthResponse;
                    break;
                case "354":
                    _mode = Mode.Body;
                    break;
                case "220" when _startTlsSent:
                    _startTlsSent = false;
                    await _client!.StartTlsAsync();
                    _mode = Mode.Command;
                    _seen.Add("tls upgraded");
                    break;
                default:
                    _mode = Mode.Command;
                    break;
            }

            return reply;
        }

        private async Task<string> ReadReplyAsync()
        {
            try
            {
                var reply = await _client!.ReadReplyAsync();
                foreach (var line in reply.Split('\n'))
                    Log("S: " + line);
                return reply;
            }
            catch (IOException ex)
            {
                Fail($"the server dropped the session without 421 or 221: {ex.Message}");
                throw;
            }
            catch (OperationCanceledException)
            {
                Fail("no reply within 10 s");
                throw;
            }
        }

        /// <summary>Ends what is open, checks that exactly the expected reply comes next, then sends a real message.</summary>
        private async Task NormalTransactionAsync()
        {
            if (_client is not null && _mode == Mode.AuthResponse)
                await SendExpectingAsync("*", "501 Authentication cancelled");
            if (_client is not null && _mode == Mode.Body)
            {
                Log("C: .");
                await _client.SendRawAsync(".\r\n"u8.ToArray());
                await ExpectReplyAsync("body");
            }

            if (_client is not null)
            {
                // An unknown command whose reply names it: any extra reply still queued would come before it.
                var marker = $"XFUZZ{(uint)input.Seed % 100_000_000}";
                await SendExpectingAsync(marker, $"500 Command not recognized: {marker}; type HELP for the list of commands");
                Assert.StartsWith("250 ", await SendExpectingAsync("RSET", null), StringComparison.Ordinal);
            }
            else
            {
                await ConnectAsync();
                _seen.Add("reconnected");
            }

            var subject = $"check {input.Seed} {Guid.NewGuid():N}";
            Assert.StartsWith("250", await SendExpectingAsync("EHLO check.example", null), StringComparison.Ordinal);
            await SendExpectingAsync("MAIL FROM:<check@example.com>", "250 sender check@example.com OK");
            await SendExpectingAsync($"RCPT TO:<check@{inbox}.localhost>", $"250 recipient check@{inbox}.localhost OK");
            Assert.StartsWith("354 ", await SendExpectingAsync("DATA", null), StringComparison.Ordinal);
            var stored = await SendExpectingAsync($"Subject: {subject}\r\n\r\nA normal message after the fuzz.\r\n.", null);
            if (!stored.StartsWith("250 OK message stored as ", StringComparison.Ordinal))
                Fail($"the normal message got '{stored}'");
            await SendExpectingAsync("QUIT", "221 mailsink.localhost closing connection, goodbye");

            var message = await host.GetJsonAsync($"/api/messages/{RawSmtpClient.StoredId(stored)}");
            Assert.Equal(subject, message.GetProperty("subject").GetString());
        }

        private async Task<string> SendExpectingAsync(string line, string? expected)
        {
            Log("C: " + line);
            await _client!.SendAsync(line);
            var reply = await ExpectReplyAsync("check");
            if (expected is not null && reply != expected)
                Fail($"expected '{expected}' after '{line}', got '{reply}'");
            return reply;
        }

        private void Log(string line) => _transcript.Append(line.Length > 300 ? line[..300] + $"… ({line.Length} chars)" : line).Append('\n');

        private byte[] Eol() => _random.Next(5) == 0 ? "\n"u8.ToArray() : "\r\n"u8.ToArray();

        private byte[] Command()
        {
            var random = _random;
            var verb = random.Next(100) switch
            {
                < 10 => random.Pick(["EHLO", "HELO"]),
                < 25 => "MAIL",
                < 40 => "RCPT",
                < 48 => "DATA",
                < 52 => "RSET",
                < 55 => "NOOP",
                < 57 => "QUIT",
                < 59 => "HELP",
                < 62 => random.Pick(["VRFY", "EXPN"]),
                < 70 => "AUTH",
                < 72 => "STARTTLS",
                < 74 => random.Pick(["BDAT", "ETRN", "XCLIENT", "TURN"]),
                < 89 => "",
                _ => "MUTATE",
            };
            if (verb == "")
                return Garbage();
            if (verb == "MUTATE")
                return Tame(Encode(Mutator.Mutate(random, Encoding.UTF8.GetString(Command()), Dictionary, input.PickCorpus())));

            var written = random.Next(6) switch
            {
                0 => verb.ToLowerInvariant(),
                1 => verb.Replace('S', 'ſ').Replace('I', 'ı').ToLowerInvariant(),
                _ => verb,
            };
            var args = verb switch
            {
                "EHLO" or "HELO" => random.Pick(["client.example", "", "[127.0.0.1]", "[IPv6:::1]", "bücher.example", "a b c", Mutator.RandomAscii(random, random.Next(0, 30))]),
                "MAIL" => random.Pick(["FROM:", "from:", "FROM :", "FROM", ""]) + Path(random, list: false) + Parameters(random, mail: true),
                "RCPT" => random.Pick(["TO:", "to:", "TO :", "TO", ""]) + Path(random, list: true) + Parameters(random, mail: false),
                "AUTH" => random.Pick(["PLAIN", "LOGIN", "CRAM-MD5", "plain", "XOAUTH2", ""]) + (random.Next(2) == 0 ? " " + AuthText() : ""),
                "VRFY" or "EXPN" => random.Pick(["", "postmaster", "user@inbox.localhost"]),
                "DATA" or "RSET" or "NOOP" or "QUIT" or "STARTTLS" => random.Next(6) == 0 ? Mutator.RandomAscii(random, 5) : "",
                "BDAT" => BdatArguments(),
                _ => Mutator.RandomAscii(random, random.Next(0, 20)),
            };
            var line = args.Length == 0 ? written : written + random.Pick([" ", " ", "  ", "\t"]) + args;
            return Tame(random.Next(10) == 0 ? Encode(Mutator.Mutate(random, line, Dictionary)) : Encode(line));
        }

        /// <summary>A BDAT line's arguments: mostly well formed (a size, LAST or not), sometimes not.</summary>
        private string BdatArguments() => _random.Next(6) switch
        {
            0 => Mutator.RandomAscii(_random, _random.Next(0, 20)),
            1 => _random.Pick(["", "x", "-1", "10 LAST now", "1234567890123456789", "5 FIRST"]),
            _ => _random.Next(0, 300) + _random.Pick(["", " LAST", " last", "\tLaSt", "  LAST"]),
        };

        /// <summary>A BDAT line whose chunk would be too large to send here gets a size the fuzzer can send.</summary>
        private byte[] Tame(byte[] line) =>
            ChunkSize(line) is > 100_000 ? Encode($"BDAT {_random.Next(0, 70_000)}{(_random.Next(2) == 0 ? " LAST" : "")}") : line;

        /// <summary>
        /// The size of the chunk that must follow this line, as RFC 3030 and the server read it (a size of
        /// decimal digits, then LAST in any ASCII case or nothing), or null when the line is no well-formed BDAT.
        /// </summary>
        private static long? ChunkSize(byte[] line)
        {
            if (Verb(line) != "BDAT")
                return null;
            var text = Encoding.UTF8.GetString(line).Trim(' ', '\t', '\r');
            var space = text.IndexOfAny([' ', '\t']);
            var match = BdatLine().Match(space < 0 ? "" : text[(space + 1)..].Trim(' ', '\t'));
            return match.Success && long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : null;
        }

        [GeneratedRegex(@"^([0-9]{1,18})(?:[ \t]+[Ll][Aa][Ss][Tt])?$")]
        private static partial Regex BdatLine();

        /// <summary>
        /// A line that starts as BDAT does, whatever follows: one the server cannot read (control bytes, not
        /// UTF-8, too long) then closes the session, so it never goes into a pipelined group.
        /// </summary>
        private static bool LooksLikeBdat(byte[] line)
        {
            var text = line.AsSpan().TrimStart(" \t"u8);
            return text.Length >= 4 && System.Text.Ascii.EqualsIgnoreCase(text[..4], "BDAT"u8) && (text.Length == 4 || !char.IsAsciiLetterOrDigit((char)text[4]));
        }

        /// <summary>A command that gets exactly one reply and leaves the session in command mode.</summary>
        private byte[] SimpleCommand()
        {
            for (var attempt = 0; ; attempt++)
            {
                var line = attempt < 20 ? Command() : "NOOP"u8.ToArray();
                if (Verb(line) is not ("DATA" or "AUTH" or "STARTTLS" or "QUIT" or "BDAT") && !LooksLikeBdat(line))
                    return line;
            }
        }

        private byte[] AuthResponse() => _random.Next(8) switch
        {
            0 => "*"u8.ToArray(),
            1 => "="u8.ToArray(),
            2 => Garbage(),
            3 => Encode(Convert.ToBase64String("\0fuzz\0secret"u8)),
            _ => Encode(AuthText()),
        };

        private string AuthText() => _random.Next(6) switch
        {
            0 => Convert.ToBase64String("\0fuzz\0secret"u8),
            1 => Convert.ToBase64String("\0fuzz\0wrong"u8),
            2 => Convert.ToBase64String(Encoding.UTF8.GetBytes(_random.Pick(["fuzz", "secret", "fuzz 0123456789abcdef0123456789abcdef", "\0\0", "a\u0000b\u0007"]))),
            3 => "=",
            4 => Mutator.RandomAscii(_random, _random.Next(0, 40)),
            _ => Convert.ToBase64String(RandomBytes(_random.Next(0, 40))),
        };

        private byte[] BodyLine() => _random.Next(12) switch
        {
            0 => [],
            1 => Encode("." + Mutator.RandomAscii(_random, _random.Next(0, 10))),
            2 => RandomBytes(_random.Next(0, 200)).Select(b => b == (byte)'\n' ? (byte)'x' : b).ToArray(),
            3 => Encode(new string('A', _random.Next(0, 3) == 0 ? 70_000 : _random.Next(900, 5000))),
            4 => Encode(_random.Pick(["Subject: fuzz", "Content-Type: multipart/mixed; boundary=x", "--x", "--x--", "MIME-Version: 1.0", "From: <>", "To: a@b"])),
            5 => Encode(Mutator.RandomChars(_random, _random.Next(0, 60)).Replace('\n', ' ')),
            _ => Encode(Mutator.RandomAscii(_random, _random.Next(0, 100))),
        };

        private byte[] Garbage() => _random.Next(6) switch
        {
            0 => [],
            1 => RandomBytes(_random.Next(1, 200)).Select(b => b == (byte)'\n' ? (byte)' ' : b).ToArray(),
            2 => Encode(new string('x', _random.Next(4000, 5000))),
            3 => Encode(Mutator.RandomChars(_random, _random.Next(1, 40)).Replace('\n', ' ')),
            4 => [.. Encode(Mutator.RandomAscii(_random, 3)), (byte)_random.Pick([0x00, 0x1B, 0x7F, 0x08, 0x0D, 0xFF, 0xC3, 0xED, 0xF8])],
            _ => Encode(Mutator.RandomAscii(_random, _random.Next(1, 60))),
        };

        private string Path(Random random, bool list)
        {
            var count = list && random.Next(4) == 0 ? random.Next(2, 30) : 1;
            var paths = Enumerable.Range(0, count).Select(_ => random.Next(8) switch
            {
                0 => "<>",
                1 => Mutator.Mutate(random, "<" + SmtpPathParserFuzzTests.ValidAddress(random) + ">", Dictionary),
                2 => input.PickCorpus().Split('\n')[0],
                3 => "postmaster",
                4 => SmtpPathParserFuzzTests.ValidAddress(random),
                _ => $"<x{random.Next(100)}@{inbox}.localhost>",
            });
            return string.Join(random.Pick([",", ", "]), paths);
        }

        private static string Parameters(Random random, bool mail) => random.Next(4) != 0
            ? ""
            : " " + random.Pick<string>(mail
                ? ["SIZE=100", "SIZE=99999999", "SIZE=-1", "SIZE=x", "BODY=8BITMIME", "BODY=BINARYMIME", "BODY=x", "SMTPUTF8", "AUTH=<>", "RET=HDRS", "FOO=bar", "SIZE=1 SIZE=2"]
                : ["NOTIFY=NEVER", "ORCPT=rfc822;a@b", "FOO", "NOTIFY=SUCCESS NOTIFY=FAILURE"]);

        private byte[] RandomBytes(int count)
        {
            var bytes = new byte[count];
            _random.NextBytes(bytes);
            return bytes;
        }

        private static byte[] Encode(string text) => Encoding.UTF8.GetBytes(text.Replace('\n', ' '));

        /// <summary>The verb as the server reads it, or "" when the line is refused before that (control bytes, invalid UTF-8, too long).</summary>
        private static string Verb(byte[] line)
        {
            var bytes = line.AsSpan();
            if (!bytes.IsEmpty && bytes[^1] == '\r')
                bytes = bytes[..^1];
            if (bytes.Length > 4096)
                return "";
            foreach (var b in bytes)
            {
                if ((b < 0x20 && b != '\t') || b == 0x7F)
                    return "";
            }

            string text;
            try
            {
                text = new UTF8Encoding(false, true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                return "";
            }

            var trimmed = text.Trim(' ', '\t');
            var space = trimmed.IndexOfAny([' ', '\t']);
            return (space < 0 ? trimmed : trimmed[..space]).ToUpperInvariant();
        }

        /// <summary>A corpus line: \xHH is that byte, \\ a backslash.</summary>
        private static byte[] Unescape(string line)
        {
            var bytes = new List<byte>();
            var utf8 = Encoding.UTF8.GetBytes(line);
            for (var i = 0; i < utf8.Length; i++)
            {
                if (utf8[i] == '\\' && i + 3 < utf8.Length && utf8[i + 1] == 'x'
                    && byte.TryParse(Encoding.ASCII.GetString(utf8, i + 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var b))
                {
                    bytes.Add(b);
                    i += 3;
                }
                else if (utf8[i] == '\\' && i + 1 < utf8.Length && utf8[i + 1] == '\\')
                {
                    bytes.Add((byte)'\\');
                    i++;
                }
                else
                {
                    bytes.Add(utf8[i]);
                }
            }

            return [.. bytes];
        }

        private static string Escape(byte[] line)
        {
            var builder = new StringBuilder();
            foreach (var b in line)
                builder.Append(b is >= 0x20 and < 0x7F and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:X2}");
            return builder.ToString();
        }

        /// <summary>The kind of reply: its code and first words, without the client's text it echoes.</summary>
        private static string Shape(string line)
        {
            var code = line[..4];
            var text = line[4..];
            if (code == "334 " && text is not ("" or "VXNlcm5hbWU6" or "UGFzc3dvcmQ6"))
                return "334 <challenge>";
            var words = Echo().Replace(text, "…").Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(4);
            return code + Digits().Replace(string.Join(' ', words), "#");
        }

        [GeneratedRegex(@"^[2-5][0-9][0-9][ -]")]
        private static partial Regex ReplyLine();

        [GeneratedRegex(@"'[^']*'|<[^>]*>|\S+@\S+|recognized: [^;]*|mechanism \S+|parameter \S+|Hello .*|MailSink .*")]
        private static partial Regex Echo();

        [GeneratedRegex(@"\d+")]
        private static partial Regex Digits();
    }
}
