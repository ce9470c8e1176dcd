using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using MailSink.Api.Chaos;
using MailSink.Storage;

namespace MailSink.Server.Smtp;

/// <summary>Command handling: what is answered here, what is forwarded, and how replies are worded.</summary>
internal sealed partial class SessionAdapter
{
    private static readonly string Version =
        typeof(SessionAdapter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "dev";

    private async ValueTask HandleCommandAsync(string line, CancellationToken cancellationToken)
    {
        var trimmed = line.Trim(' ', '\t');
        var afterChunk = _chunkJustRead;
        _chunkJustRead = false;
        if (trimmed.Length == 0)
        {
            // Someone typing BDAT by hand ends the chunk with Enter, which is one line end more than it holds.
            Reply(afterChunk
                ? "500 Empty command: a BDAT chunk is exactly the bytes it states, and this line end came after them"
                : "500 Empty command; type HELP for the list of commands");
            return;
        }

        var space = trimmed.IndexOfAny([' ', '\t']);
        var typed = space < 0 ? trimmed : trimmed[..space];
        var verb = typed.ToUpperInvariant();
        var args = space < 0 ? "" : trimmed[(space + 1)..].Trim(' ', '\t');
        _stage = StageOf(verb);

        // RCPT, DATA and BDAT move a transaction on; anything else without a message stored in between
        // only keeps the session open (and so does a small BDAT chunk that is not the last: BdatAsync; and
        // a RCPT refused for too many recipients, past an allowance: PastRecipientAllowance). Refusals with 5xx
        // count towards MaxErrorsPerSession.
        if (verb is not ("RCPT" or "DATA" or "BDAT" or "QUIT") && await OverCommandCapAsync())
            return;

        switch (verb)
        {
            case "EHLO" or "HELO":
                Hello(verb, args);
                break;
            case "MAIL":
                Mail(args);
                break;
            case "RCPT":
                if (Rcpt(args) && PastRecipientAllowance() && await OverCommandCapAsync())
                    return;
                break;
            case "DATA":
                Data(args);
                break;
            case "BDAT":
                await BdatAsync(args, cancellationToken);
                break;
            case "RSET":
                Enqueue(ForwardKind.Rset, "RSET");
                break;
            case "NOOP":
                Reply("250 OK");
                break;
            case "QUIT":
                Enqueue(ForwardKind.Quit, "QUIT");
                break;
            case "HELP":
                Help(args);
                break;
            case "VRFY":
                Reply(args.Length == 0
                    ? "501 Syntax: VRFY address"
                    : "252 Cannot VRFY user, but will accept message and attempt delivery");
                break;
            case "EXPN":
                Reply("502 EXPN is not supported: this sink has no mailing lists");
                break;
            case "STARTTLS":
                StartTls(args);
                break;
            case "AUTH":
                await AuthAsync(args, cancellationToken);
                break;
            case "ETRN" or "TURN" or "ATRN" or "SEND" or "SOML" or "SAML" or "XCLIENT" or "XFORWARD":
                Reply($"502 {verb} is not implemented");
                break;
            default:
                Reply($"500 Command not recognized: {QuotedText.Printable(typed, 32)}; type HELP for the list of commands");
                break;
        }

        await AfterChaosAsync(cancellationToken);
    }

    /// <summary>
    /// Whether a RCPT refused with <c>452</c> for recipients past <c>MaxRecipients</c> counts as a command
    /// without a message: it does once a session has had ten times that many since its last message. A client
    /// that pipelines a long list hears 452 for the rest and sends those in another message (Postfix's
    /// recipient overshoot limit is the same idea); one that goes on past that only holds a slot, and 4xx
    /// replies are no errors to end it. (A 5xx refusal counts towards MaxErrorsPerSession instead.)
    /// </summary>
    private bool PastRecipientAllowance() => ++_recipientsPastLimit > 10L * Settings.MaxRecipients;

    /// <summary>Counts one command without a message; past the cap the session is closed with 421 and true returned.</summary>
    private async ValueTask<bool> OverCommandCapAsync()
    {
        if (++_commandsWithoutMessage <= Settings.MaxCommandsWithoutMessage)
            return false;
        Log.TooManyCommands(logger, Id, Settings.MaxCommandsWithoutMessage);
        await CloseWithAsync($"421 {Settings.ServerName} Too many commands without a message ({Settings.MaxCommandsWithoutMessage}), closing connection");
        return true;
    }

    private static string StageOf(string verb) => verb switch
    {
        "EHLO" => "ehlo",
        "HELO" => "helo",
        "MAIL" => "mail",
        "RCPT" => "rcpt",
        "DATA" => "data",
        "BDAT" => "bdat",
        "RSET" => "rset",
        "NOOP" => "noop",
        "QUIT" => "quit",
        "HELP" => "help",
        "VRFY" => "vrfy",
        "EXPN" => "expn",
        "STARTTLS" => "starttls",
        "AUTH" => "auth",
        _ => "other",
    };

    private void Hello(string verb, string args)
    {
        if (args.Length == 0)
        {
            Reply($"501 Syntax: {verb} hostname (for example: {verb} my-laptop)");
            return;
        }

        // RFC 5321: EHLO/HELO inside a transaction resets it. The library refuses EHLO there, so reset it first.
        if (_state.InTransaction)
            Enqueue(ForwardKind.SilentRset, "RSET");

        if (Chaos(ChaosStage.Helo, []))
            return;

        var name = args.Split(' ', 2)[0];
        var forwarded = HostName().IsMatch(name) ? name : "client.invalid";
        _state.HelloBeingAnswered = name;
        Enqueue(ForwardKind.Hello, $"{verb} {forwarded}", text: name);
    }

    /// <summary>
    /// MailSink asks for EHLO or HELO before a transaction (RFC 5321 4.1.4 lets a server), so that the
    /// envelope always records who the client said it was; MAIL, RCPT and DATA before it get the same 503.
    /// </summary>
    private const string GreetFirst = "503 Send EHLO or HELO first (for example: EHLO my-laptop)";

    private void Mail(string args)
    {
        if (!_state.Greeted)
        {
            Reply(GreetFirst);
            return;
        }

        if (_state.InTransaction)
        {
            Reply("503 Sender already given; send RSET to start a new message");
            return;
        }

        if (Settings.Listener.Auth == ListenerAuth.Required && _state.AuthenticatedUser is null)
        {
            Reply("530 Authentication required: this port takes mail only after AUTH");
            return;
        }

        if (!TryKeyword(args, "FROM", out var rest))
        {
            Reply("501 Syntax: MAIL FROM:<address>");
            return;
        }

        if (!SmtpPathParser.TryParseMailFrom(rest, out var parsed, out var error))
        {
            Reply($"501 {error} Syntax: MAIL FROM:<address>");
            return;
        }

        var address = parsed!.Addresses[0];
        if (address.Length > 0 && !SmtpPathParser.IsValidAddress(address, allowPostmaster: false, out error))
        {
            Reply($"501 {error}");
            return;
        }

        var smtpUtf8 = false;
        string? body = null;
        long declaredSize = 0;
        foreach (var (key, value) in parsed.Parameters)
        {
            switch (key.ToUpperInvariant())
            {
                case "SIZE":
                    if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
                    {
                        Reply("501 SIZE must be a number of bytes, e.g. SIZE=1024");
                        return;
                    }

                    if (size > Settings.MaxMessageBytes)
                    {
                        Reply($"552 Message size {size} exceeds the limit of {Settings.MaxMessageBytes} bytes");
                        return;
                    }

                    declaredSize = size;
                    break;
                case "BODY":
                    body = value?.ToUpperInvariant();
                    if (body is not ("7BIT" or "8BITMIME" or "BINARYMIME"))
                    {
                        Reply("501 BODY must be 7BIT, 8BITMIME or BINARYMIME");
                        return;
                    }

                    break;
                case "SMTPUTF8":
                    smtpUtf8 = true;
                    break;
                case "AUTH" or "RET" or "ENVID":
                    break; // accepted and ignored: nothing is relayed
                default:
                    Reply($"555 MAIL parameter {QuotedText.Printable(key.ToUpperInvariant(), 32)} is not supported");
                    return;
            }
        }

        // A disk short of room refuses mail before it is sent, so that a client tries again later (or
        // elsewhere) instead of sending it only to hear 451.
        if (Settings.Storage.RefuseMail(declaredSize) is { } noRoom)
        {
            Reply($"452 {noRoom}");
            return;
        }

        if (Chaos(ChaosStage.Mail, [address]))
            return;
        Enqueue(ForwardKind.Mail, $"MAIL FROM:<{ForLibrary(address)}>", text: address, flag: smtpUtf8, body: body);
    }

    /// <summary>Forwards the recipients to the library, or refuses the command; true when refused for too many recipients.</summary>
    private bool Rcpt(string args)
    {
        if (!_state.InTransaction)
        {
            Reply(_state.Greeted ? "503 Send MAIL FROM first" : GreetFirst);
            return false;
        }

        if (_state.Chunks is not null)
        {
            Reply("503 RCPT cannot follow BDAT: a message's recipients come before its chunks; send RSET to start again");
            return false;
        }

        if (!TryKeyword(args, "TO", out var rest))
        {
            Reply("501 Syntax: RCPT TO:<address>");
            return false;
        }

        if (!SmtpPathParser.TryParseRcptTo(rest, out var parsed, out var error))
        {
            Reply($"501 {error} Syntax: RCPT TO:<address>");
            return false;
        }

        foreach (var address in parsed!.Addresses)
        {
            if (!SmtpPathParser.IsValidAddress(address, allowPostmaster: true, out error))
            {
                Reply($"501 {error}");
                return false;
            }
        }

        foreach (var key in parsed.Parameters.Keys)
        {
            if (key.ToUpperInvariant() is not ("NOTIFY" or "ORCPT"))
            {
                Reply($"555 RCPT parameter {QuotedText.Printable(key.ToUpperInvariant(), 32)} is not supported");
                return false;
            }
        }

        if (_state.Recipients.Count + parsed.Addresses.Count > Settings.MaxRecipients)
        {
            Reply($"452 Too many recipients: at most {Settings.MaxRecipients} per message; send the rest in another message");
            return true;
        }

        if (Chaos(ChaosStage.Rcpt, parsed.Addresses))
            return false; // a fault the user set up: answered as the rule says, and not counted against the client

        var group = new RcptGroup(parsed.Addresses.Count);
        foreach (var address in parsed.Addresses)
            Enqueue(ForwardKind.Rcpt, $"RCPT TO:<{ForLibrary(address)}>", text: address, group: group);
        return false;
    }

    private void Data(string args)
    {
        if (!_state.Greeted)
        {
            Reply(GreetFirst);
            return;
        }

        // DATA takes nothing (RFC 5321 4.1.1.4). Taken with a word after it, a person's next lines would
        // silently become the message.
        if (args.Length > 0)
        {
            Reply("501 Syntax: DATA takes no parameters; type DATA alone, then the message");
            return;
        }

        if (!_state.InTransaction)
        {
            Reply("503 Send MAIL FROM and RCPT TO before DATA");
            return;
        }

        if (_state.Recipients.Count == 0)
        {
            Reply("503 Send RCPT TO before DATA: no recipient yet");
            return;
        }

        // RFC 3030: a message is sent with DATA or with BDAT, never both; a binary one only with BDAT.
        if (_state.Chunks is not null)
        {
            Reply("503 This message is being sent with BDAT, so DATA cannot follow; send RSET to start again");
            return;
        }

        if (_state.BinaryMime)
        {
            Reply("503 BODY=BINARYMIME was given: send the message with BDAT, not DATA");
            return;
        }

        Enqueue(ForwardKind.Data, "DATA");
    }

    /// <summary>Whether STARTTLS would work now: on a STARTTLS listener, before TLS.</summary>
    private bool StartTlsOffered => Settings.Listener.Tls == TlsMode.StartTls && !Transport.IsSecure;

    private void StartTls(string args)
    {
        if (args.Length > 0)
            Reply("501 Syntax: STARTTLS (no parameters)");
        else if (Transport.IsSecure)
            Reply("503 TLS is already active");
        else if (Settings.Listener.Tls != TlsMode.StartTls)
            Reply("502 STARTTLS is not offered on this port");
        else if (!_state.Greeted)
            Reply("503 Send EHLO first");
        else if (_state.InTransaction)
            Reply("503 STARTTLS is not allowed inside a mail transaction; send RSET first");
        else
            Enqueue(ForwardKind.StartTls, "STARTTLS");
    }

    private void Help(string topic)
    {
        if (HelpOn(topic.ToUpperInvariant()) is { } line)
        {
            Reply($"214 {line}");
            return;
        }

        ReplyLines(214,
        [
            $"MailSink {Version}, an SMTP sink: mail is stored, never relayed.",
            "Mail to anything@<inbox>.localhost lands in inbox <inbox>; other addresses land in the catch-all inbox.",
            $"Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP{(StartTlsOffered ? " STARTTLS" : "")}{(Settings.AuthAllowed(Transport.IsSecure) ? " AUTH" : "")}",
            "Example: EHLO me / MAIL FROM:<you@example.com> / RCPT TO:<test@demo.localhost> / DATA",
            "End the message with a line holding only a dot. Read it back over HTTP: GET /api/messages?server=demo. HELP <command> tells more.",
        ]);
    }

    /// <summary>One line on <paramref name="verb"/> for "HELP verb"; null for no topic or one unknown (the general help).</summary>
    private string? HelpOn(string verb) => verb switch
    {
        "EHLO" or "HELO" => $"{verb} <your host name>: starts the session (EHLO also lists what this server offers), e.g. {verb} my-laptop",
        "MAIL" => "MAIL FROM:<address> [SIZE=<bytes>] [BODY=8BITMIME|BINARYMIME] [SMTPUTF8]: starts a message; MAIL FROM:<> for a bounce",
        "RCPT" => "RCPT TO:<address>: adds a recipient (one per command); mail to anything@<inbox>.localhost lands in inbox <inbox>",
        "DATA" => "DATA: after MAIL and RCPT, send the message (headers, an empty line, the body), then a line holding only a dot",
        "BDAT" => "BDAT <size> [LAST]: sends the message in chunks of exactly <size> bytes each (CHUNKING); LAST marks the final one",
        "RSET" => "RSET: forgets the message begun (sender and recipients); the session goes on",
        "NOOP" => "NOOP: does nothing and answers 250 OK",
        "QUIT" => "QUIT: ends the session",
        "VRFY" => "VRFY <address>: answers 252; a sink takes mail for every address",
        "HELP" => "HELP [command]: this help",
        "STARTTLS" when Transport.IsSecure => "STARTTLS: not needed, this session is encrypted already",
        "STARTTLS" when !StartTlsOffered => "STARTTLS: not offered on this port, which takes plain text only",
        "STARTTLS" => "STARTTLS: turns on TLS for the rest of the session; say EHLO again afterwards",
        "AUTH" when !Settings.AuthAllowed(Transport.IsSecure) => "AUTH: only after STARTTLS on this server; send STARTTLS, then EHLO, then AUTH",
        "AUTH" => "AUTH PLAIN|LOGIN|CRAM-MD5 [initial response]: logs in; any user name and password are accepted unless set up otherwise",
        _ => null,
    };

    /// <summary>"FROM:" / "TO:" with any spacing and case, as people type it; the rest after the colon.</summary>
    private static bool TryKeyword(string args, string keyword, out string rest)
    {
        rest = "";
        if (!args.StartsWith(keyword, StringComparison.OrdinalIgnoreCase))
            return false;
        var after = args[keyword.Length..].TrimStart(' ', '\t');
        if (!after.StartsWith(':'))
            return false;
        rest = after[1..];
        return true;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9.\-]{0,252}$|^\[[0-9.:A-Fa-f]+\]$")]
    private static partial Regex HostName();
}
