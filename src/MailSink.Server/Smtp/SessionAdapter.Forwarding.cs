using System.Text.RegularExpressions;

namespace MailSink.Server.Smtp;

/// <summary>
/// Commands handed to the library (<see cref="Forward"/>): what each one was, and how the library's terse
/// reply to it becomes MailSink's reply and MailSink's record of the session.
/// </summary>
internal sealed partial class SessionAdapter
{
    /// <summary>Handles the library's reply to a forwarded command; true when the command is finished.</summary>
    private bool OnReply(Forward forward, int code, string text)
    {
        switch (forward.Kind)
        {
            case ForwardKind.Hello:
                if (code == 250)
                {
                    _state.Greeted = true;
                    _state.Ehlo = forward.Text;
                    _state.ResetTransaction();
                }

                ReplyRaw(Clean(text));
                return true;

            case ForwardKind.SilentRset:
                _state.ResetTransaction();
                return true;

            case ForwardKind.Rset:
                _state.ResetTransaction();
                Reply(code == 250 ? "250 OK, transaction reset" : Clean(text).TrimEnd());
                return true;

            case ForwardKind.Mail:
                if (code == 250)
                {
                    _state.MailFrom = forward.Text;
                    _state.SmtpUtf8 = forward.Flag;
                    _state.BinaryMime = forward.Body == "BINARYMIME";
                    _state.EightBitMime = forward.Body == "8BITMIME";
                    Reply($"250 sender {Show(forward.Text)} OK");
                }
                else
                {
                    ReplyRaw(Clean(text));
                }

                return true;

            case ForwardKind.Rcpt:
                var group = forward.Group!;
                group.Remaining--;
                if (code == 250)
                {
                    _state.Recipients.Add(forward.Text);
                    group.Accepted.Add(forward.Text);
                }
                else
                {
                    group.FirstFailure ??= Clean(text).TrimEnd();
                }

                if (group.Remaining == 0)
                    Reply(RcptReply(group));
                return true;

            case ForwardKind.Data or ForwardKind.Bdat:
                if (code == 354)
                {
                    // After BDAT LAST the client has sent the whole message already and waits for no 354.
                    if (forward.Kind == ForwardKind.Data)
                        Reply("354 Start mail input; end with <CRLF>.<CRLF> (a line holding only a dot)");
                    _libraryAwaitsBody = true;
                    return false; // the final reply comes after the body
                }

                if (_state.DropAfterData)
                {
                    _state.DropAfterData = false;
                    _state.ResetTransaction();
                    Drop();
                    return true;
                }

                if (code == 250 && _state.StoreReply is { } stored)
                {
                    Reply(stored);
                    _commandsWithoutMessage = 0;
                    _recipientsPastLimit = 0;
                }
                else
                    ReplyRaw(Clean(text));
                _state.StoreReply = null;
                _state.ResetTransaction();
                return true;

            case ForwardKind.Quit:
                Reply($"221 {Settings.ServerName} closing connection, goodbye");
                return true;

            case ForwardKind.StartTls:
                Reply(code == 220 ? "220 Ready to start TLS" : Clean(text).TrimEnd());
                return true;

            default:
                ReplyRaw(Clean(text));
                return true;
        }
    }

    private static string RcptReply(RcptGroup group) => group.Accepted.Count switch
    {
        0 => group.FirstFailure ?? "550 Recipient rejected",
        1 when group.FirstFailure is null => $"250 recipient {group.Accepted[0]} OK",
        _ when group.FirstFailure is null => $"250 recipients {string.Join(", ", group.Accepted)} OK",
        _ => $"250 recipients {string.Join(", ", group.Accepted)} OK; others rejected: {group.FirstFailure}",
    };

    private static string Show(string address) => address.Length == 0 ? "<>" : address;

    /// <summary>
    /// What the library is given for an address. The library mis-decodes UTF-8 domains and rejects some
    /// valid forms, and MailSink keeps the real envelope itself, so anything unusual is replaced with a
    /// placeholder the library surely parses.
    /// </summary>
    private static string ForLibrary(string address)
    {
        if (address.Length == 0)
            return "";
        return SimpleAddress().IsMatch(address) ? address : "envelope@mailsink.invalid";
    }

    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")]
    private static partial Regex SimpleAddress();

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

    private enum ForwardKind
    {
        Hello,
        Mail,
        Rcpt,
        Data,

        /// <summary>BDAT LAST: a DATA for the library, whose body the adapter already holds.</summary>
        Bdat,
        Rset,
        SilentRset,
        Quit,
        StartTls,
    }

    /// <summary>
    /// A command handed to the library, and what to do with its reply. For MAIL, <paramref name="Flag"/> is
    /// SMTPUTF8 and <paramref name="Body"/> the <c>BODY</c> parameter (upper case), if given.
    /// </summary>
    private sealed record Forward(ForwardKind Kind, byte[] Line, string Text, bool Flag, RcptGroup? Group, string? Body = null);

    /// <summary>Recipients of one <c>RCPT TO:</c> line (a comma list): one reply for all of them.</summary>
    private sealed class RcptGroup(int count)
    {
        public int Remaining { get; set; } = count;

        public List<string> Accepted { get; } = [];

        public string? FirstFailure { get; set; }
    }
}
