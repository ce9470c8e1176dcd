using System.Text;
using BenchmarkDotNet.Attributes;
using MailSink.Server.Smtp;
using MailSink.Tests.Support;
using Microsoft.AspNetCore.Builder;

namespace MailSink.Benchmarks;

/// <summary>
/// Whole SMTP sessions in process: 2 KB messages sent over in-memory pipes through the session adapter,
/// the SmtpServer library, the message store, the parse and LiteDB's group commit, each reply read before
/// the next command (as smtp-source does). What bench/run.sh measures, without TCP and the kernel, so
/// that a change to the SMTP layer can be weighed per message. Per message; one session or ten at once.
/// </summary>
public class SmtpSessionBenchmarks
{
    private const int Messages = 200;
    private string _folder = "";
    private WebApplication _app = null!;
    private InMemorySmtp _smtp = null!;
    private string _body = "";

    [Params(1, 10)]
    public int Sessions { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _folder = Directory.CreateTempSubdirectory("mailsink-bench-smtp-").FullName;
        _app = MailSink.Server.Program.Build(
        [
            $"--contentRoot={_folder}", "--urls=http://127.0.0.1:0", "--MailSink:Smtp:BindAddress=127.0.0.1",
            "--MailSink:Smtp:Listeners:0:Port=0", "--MailSink:Smtp:Listeners:0:Tls=None", "--Logging:LogLevel:Default=Warning",
        ]);
        await _app.StartAsync();
        _smtp = new InMemorySmtp(_app.Services, TlsMode.None);
        _body = Encoding.UTF8.GetString(MailSink.Benchmarks.Messages.PlainText2K()) + ".\r\n";
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _smtp.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public Task Messages_2KB() =>
        Task.WhenAll(Enumerable.Range(0, Sessions).Select(_ => SessionAsync(Messages / Sessions)));

    private async Task SessionAsync(int count)
    {
        var connection = _smtp.Connect();
        await ReplyAsync(connection);
        await connection.SendAsync("EHLO bench.example\r\n");
        await ReplyAsync(connection);
        for (var i = 0; i < count; i++)
        {
            await connection.SendAsync("MAIL FROM:<sender@example.com>\r\n");
            await ReplyAsync(connection);
            await connection.SendAsync("RCPT TO:<user@bench.localhost>\r\n");
            await ReplyAsync(connection);
            await connection.SendAsync("DATA\r\n");
            await ReplyAsync(connection);
            await connection.SendAsync(_body);
            if (!(await ReplyAsync(connection)).StartsWith("250", StringComparison.Ordinal))
                throw new InvalidOperationException("A message was not stored.");
        }

        await connection.SendAsync("QUIT\r\n");
        await ReplyAsync(connection);
    }

    /// <summary>The last line of one reply.</summary>
    private static async Task<string> ReplyAsync(MemoryConnection connection)
    {
        while (true)
        {
            var line = await connection.ReadLineAsync(TimeSpan.FromSeconds(30)) ?? throw new InvalidOperationException("The session ended.");
            if (line.Length < 4 || line[3] == ' ')
                return line;
        }
    }
}
