using System.Text;
using System.Text.RegularExpressions;

namespace MailSink.Tests.Support;

/// <summary>
/// A recorded SMTP session, replayed line by line (the idea of MailKit's replay streams, in our own form).
/// A transcript is a text file of lines:
/// <list type="bullet">
/// <item><c>C: text</c>: the client sends <c>text</c> and CRLF; <c>L: text</c>: the same with a bare LF (as
/// <c>openssl s_client</c> sends). Consecutive client lines go in one write, so they arrive pipelined.</item>
/// <item><c>S: text</c>: the next reply line must match <c>text</c>, where <c>*</c> stands for any characters.</item>
/// <item><c>S: &lt;closed&gt;</c>: the server has closed the connection.</item>
/// <item><c>M: n</c>: the session's inbox now holds <c>n</c> messages (read through the HTTP API).</item>
/// <item><c>#</c> starts a comment; blank lines are ignored.</item>
/// </list>
/// <c>{inbox}</c> anywhere is replaced by a fresh inbox name for each replay.
/// </summary>
internal static partial class Transcript
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    public static string Folder { get; } = Path.Combine(Repository.Root, "tests", "MailSink.Tests", "Smtp", "Transcripts");

    public static IEnumerable<object[]> Names() =>
        Directory.EnumerateFiles(Folder, "*.txt").Order(StringComparer.Ordinal).Select(f => new object[] { Path.GetFileNameWithoutExtension(f) });

    /// <summary>Replays the transcript over <paramref name="connection"/>; fails at the first line that differs, naming it.</summary>
    public static async Task ReplayAsync(string name, MemoryConnection connection, MailSinkHost host)
    {
        var inbox = MailSinkHost.NewInbox();
        var lines = File.ReadAllLines(Path.Combine(Folder, name + ".txt"));
        var pending = new StringBuilder();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Replace("{inbox}", inbox, StringComparison.Ordinal);
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var where = $"{name}.txt line {i + 1}";
            if (line.Length < 2 || line[1] != ':' || (line.Length > 2 && line[2] != ' '))
                throw new FormatException($"{where}: expected C:, L:, S: or M:, found \"{line}\"");
            var text = line.Length > 3 ? line[3..] : "";
            switch (line[0])
            {
                case 'C':
                    pending.Append(text).Append("\r\n");
                    continue;
                case 'L':
                    pending.Append(text).Append('\n');
                    continue;
            }

            if (pending.Length > 0)
            {
                await connection.SendAsync(pending.ToString());
                pending.Clear();
            }

            switch (line[0])
            {
                case 'S':
                    var reply = await connection.ReadLineAsync(ReplyTimeout);
                    if (text == "<closed>")
                        Assert.True(reply is null, $"{where}: expected the connection to be closed, got \"{reply}\"");
                    else
                        Assert.True(reply is not null && Matches(text, reply), $"{where}: expected \"{text}\", got {(reply is null ? "the end of the connection" : $"\"{reply}\"")}");
                    break;
                case 'M':
                    var count = int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
                    Assert.True((await host.ListAsync(inbox)).Length == count, $"{where}: expected {count} messages in the inbox");
                    break;
                default:
                    throw new FormatException($"{where}: unknown line kind '{line[0]}'");
            }
        }

        Assert.True(pending.Length == 0, $"{name}.txt ends with client lines that nothing answers");
    }

    private static bool Matches(string pattern, string actual) =>
        Regex.IsMatch(actual, "^" + string.Join(".*", pattern.Split('*').Select(Regex.Escape)) + "$", RegexOptions.Singleline);
}
