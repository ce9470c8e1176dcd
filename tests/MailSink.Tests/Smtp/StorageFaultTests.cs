using System.Text;
using MailSink.Server;
using MailSink.Storage;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MailSink.Tests.Smtp;

/// <summary>
/// Issue 5: a fault inside the database engine costs the message in flight a 451 (never a false 250), the
/// next message is stored without a restart, and the exit code at the end of the run reports the failure.
/// </summary>
public sealed class StorageFaultTests(ITestOutputHelper output)
{
    private static async Task<string> SendAsync(int port, string inbox, string subject, ITestOutputHelper output)
    {
        await using var client = await RawSmtpClient.ConnectAsync(port, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        return await TransactionAsync(client, inbox, subject);
    }

    /// <summary>One mail transaction on an open session; the reply to its end of data.</summary>
    private static async Task<string> TransactionAsync(RawSmtpClient client, string inbox, string subject)
    {
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<a@b.example>"));
        Assert.StartsWith("250", await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>"));
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        await client.SendRawAsync(Encoding.ASCII.GetBytes($"Subject: {subject}\r\n\r\nbody\r\n.\r\n"));
        return await client.ReadReplyAsync();
    }

    [Fact]
    public async Task A_broken_engine_refuses_one_message_with_451_and_the_next_is_stored()
    {
        await using var host = await MailSinkHost.StartAsync();
        var inbox = MailSinkHost.NewInbox();
        Assert.StartsWith("250", await SendAsync(host.SmtpPort, inbox, "before", output));
        Assert.Equal(0, await StartupGuard.ExitCodeAsync(host.Services));

        var repository = host.Services.GetRequiredService<LiteDbStore>();
        EngineFault.Inject(repository);

        Assert.StartsWith("451", await SendAsync(host.SmtpPort, inbox, "during", output));
        Assert.StartsWith("250", await SendAsync(host.SmtpPort, inbox, "after", output));

        var subjects = (await host.ListAsync(inbox)).Select(m => m.GetProperty("subject").GetString());
        Assert.Equal(["after", "before"], subjects);
        Assert.Equal(2, await StartupGuard.ExitCodeAsync(host.Services));
    }

    /// <summary>
    /// Whatever makes the store refuse a commit, the SMTP side is the same: that message gets 451, nothing of
    /// it is stored, and the session goes on to store the next one. The engine's writer is wrapped, through
    /// the host's services hook, in one that refuses one message as a store that cannot commit does.
    /// </summary>
    [Fact]
    public async Task A_refused_commit_costs_its_message_451_and_the_same_session_stores_the_next()
    {
        await using var host = await MailSinkHost.StartAsync(services => services.AddSingleton<IMessageWriter>(
            sp => new RefusingWriter(sp.GetRequiredService<LiteDbWriter>(), refusedSubject: "refused")));
        var inbox = MailSinkHost.NewInbox();

        await using var client = await RawSmtpClient.ConnectAsync(host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        Assert.StartsWith("250", await TransactionAsync(client, inbox, "before"));
        Assert.StartsWith("451", await TransactionAsync(client, inbox, "refused"));
        Assert.StartsWith("250", await TransactionAsync(client, inbox, "after"));

        var subjects = (await host.ListAsync(inbox)).Select(m => m.GetProperty("subject").GetString());
        Assert.Equal(["after", "before"], subjects);
        Assert.Equal(2, (await host.GetJsonAsync($"/api/servers/{inbox}")).GetProperty("messages").GetInt64());
    }

    /// <summary>The engine's writer, except that a message with one subject fails as an uncommitted write does.</summary>
    private sealed class RefusingWriter(IMessageWriter engine, string refusedSubject) : IMessageWriter
    {
        public int FailedBatches => engine.FailedBatches;

        public Task WriteAsync(PendingWrite write, bool alone) => write.Messages[0].Subject == refusedSubject
            ? Task.FromException(new StorageUnavailableException("The test refused this commit."))
            : engine.WriteAsync(write, alone);
    }
}
