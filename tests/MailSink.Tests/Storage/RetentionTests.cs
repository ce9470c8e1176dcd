using System.Net;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailSink.Storage;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MailSink.Tests.Storage;

/// <summary>Retention keeps a long-running trap within its limits, oldest first, and frees what it removes, on every engine.</summary>
public abstract class RetentionTests(PostgreSqlDatabase? database = null)
{
    /// <summary>A MailSink on the class's engine (PostgreSQL: in the class's database) with these settings.</summary>
    protected Task<MailSinkHost> StartHostAsync(params string[] settings) =>
        MailSinkHost.StartAsync([.. database?.HostSettings ?? [], .. settings]);

    /// <summary>How long a retention pass (every 0.2 s in these tests) may take to catch up.</summary>
    protected static readonly TimeSpan RetentionDeadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_oldest_messages_beyond_the_per_inbox_cap_are_removed_with_their_bytes()
    {
        await using var host = await StartHostAsync("--MailSink:Storage:MaxMessagesPerInbox=3", "--MailSink:Storage:RetentionInterval=00:00:00.2");
        var inbox = MailSinkHost.NewInbox();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add(SmtpSend.StoredId(await SmtpSend.MessageAsync(host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", $"m{i}", "x"))));

        await Poll.UntilAsync(async () => (await host.ListAsync(inbox)).Length == 3, RetentionDeadline, "the inbox is down to 3");
        Assert.Equal(["m4", "m3", "m2"], (await host.ListAsync(inbox)).Select(m => m.GetProperty("subject").GetString()!));
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync($"/api/files/email/{ids[0]}")).StatusCode);
        Assert.Equal(3, (await host.GetJsonAsync($"/api/servers/{inbox}")).GetProperty("messages").GetInt64());
    }

    [Fact]
    public async Task Messages_older_than_the_maximum_age_are_removed()
    {
        await using var host = await StartHostAsync("--MailSink:Storage:MaxAge=00:00:03", "--MailSink:Storage:RetentionInterval=00:00:00.2");
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", "short-lived", "x"));
        Assert.Single(await host.ListAsync(inbox));
        await Poll.UntilAsync(async () => (await host.ListAsync(inbox)).Length == 0, RetentionDeadline, "the message has expired");
    }

    [Fact]
    public async Task The_bytes_stored_are_brought_under_the_cap_oldest_first()
    {
        const long cap = 200 * 1024;
        await using var host = await StartHostAsync($"--MailSink:Storage:MaxTotalBytes={cap}", "--MailSink:Storage:RetentionInterval=00:00:00.2");
        var store = host.Services.GetRequiredService<IRetentionStore>();
        var inbox = MailSinkHost.NewInbox();
        // Random text, which compresses to about three quarters: the cap counts bytes as stored.
        var body = Convert.ToBase64String(new Random(7).GetItems<byte>(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(), 7680));
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", host.SmtpPort, SecureSocketOptions.None);
            for (var i = 0; i < 200; i++)
                await client.SendAsync(SmtpSend.Simple($"a@{inbox}.localhost", $"churn {i}", body));
            await client.DisconnectAsync(true);
        }

        await Poll.UntilAsync(async () => await store.StoredBytesAsync(default) <= cap, RetentionDeadline, "retention caught up");
        var kept = await host.ListAsync(inbox);
        Assert.InRange(kept.Length, 1, 40);
        Assert.Equal("churn 199", kept[0].GetProperty("subject").GetString());
        Assert.Equal(kept.Length, (await host.GetJsonAsync($"/api/servers/{inbox}")).GetProperty("messages").GetInt64());
    }
}

/// <summary>LiteDB's file stops growing under churn.</summary>
public sealed class LiteDbRetentionTests(ITestOutputHelper output) : RetentionTests()
{
    /// <summary>
    /// The data file after folding the log into it: what the store really occupies (the log alone may
    /// reach LiteDB's 8 MB checkpoint size between checkpoints).
    /// </summary>
    private static long CheckpointedSize(LiteDbStore repository)
    {
        repository.Checkpoint();
        return new FileInfo(repository.FilePath).Length;
    }

    [Fact]
    public async Task Total_bytes_stay_under_the_cap_and_the_file_stops_growing_under_churn()
    {
        const long cap = 200 * 1024;
        await using var host = await MailSinkHost.StartAsync($"--MailSink:Storage:MaxTotalBytes={cap}", "--MailSink:Storage:RetentionInterval=00:00:00.2");
        var repository = host.Services.GetRequiredService<LiteDbStore>();
        var inbox = MailSinkHost.NewInbox();
        // Random text, which compresses to about three quarters: the cap counts bytes as stored.
        var body = Convert.ToBase64String(new Random(7).GetItems<byte>(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(), 7680));

        long sizeAfterWarmup = 0;
        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", host.SmtpPort, SecureSocketOptions.None);
            for (var i = 0; i < 1200; i++)
            {
                await client.SendAsync(SmtpSend.Simple($"a@{inbox}.localhost", $"churn {i}", body));
                if (i == 300)
                {
                    await Poll.UntilAsync(() => repository.StoredBytes <= cap, RetentionDeadline, "retention caught up");
                    sizeAfterWarmup = CheckpointedSize(repository);
                }
            }

            await client.DisconnectAsync(true);
        }

        await Poll.UntilAsync(() => repository.StoredBytes <= cap, RetentionDeadline, "retention caught up");
        var sizeAtEnd = CheckpointedSize(repository);
        output.WriteLine($"bytes stored {repository.StoredBytes}, file after 300 messages {sizeAfterWarmup}, after 1200 {sizeAtEnd}");
        Assert.True(sizeAtEnd < sizeAfterWarmup * 2, $"the file grew from {sizeAfterWarmup} to {sizeAtEnd} bytes under steady churn");
        var kept = await host.ListAsync(inbox);
        Assert.InRange(kept.Length, 1, 40);
        Assert.Equal("churn 1199", kept[0].GetProperty("subject").GetString());
    }
}

public sealed class PostgreSqlRetentionTests(PostgreSqlDatabase database) : RetentionTests(database), IClassFixture<PostgreSqlDatabase>;
