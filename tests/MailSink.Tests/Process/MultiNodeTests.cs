using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;

// Not "Process": a namespace of that name would hide System.Diagnostics.Process from all of MailSink.Tests.
namespace MailSink.Tests.Processes;

/// <summary>
/// Issue 12: several MailSink processes on one PostgreSQL database behave as one. Two real server
/// processes ("nodes", as an operator runs them) share this class's database: mail accepted by one is
/// listed, searched, read, awaited, streamed and deleted through the other; counts stay right while both
/// take mail and deletes; and killing one node with SIGKILL under load loses nothing it acknowledged.
/// </summary>
public sealed class MultiNodeTests(PostgreSqlDatabase database, ITestOutputHelper output) : IClassFixture<PostgreSqlDatabase>
{
    private const int SIGKILL = 9;

    private Task<MailSinkProcess> StartNodeAsync(TempDirectory root) => MailSinkProcess.StartAsync(output, root.Path, database.HostSettings);

    [Fact]
    public async Task Mail_accepted_on_one_node_is_listed_searched_read_awaited_streamed_and_deleted_on_the_other()
    {
        using var rootA = new TempDirectory();
        using var rootB = new TempDirectory();
        await using var a = await StartNodeAsync(rootA);
        await using var b = await StartNodeAsync(rootB);
        var inbox = MailSinkHost.NewInbox();

        // B waits and streams before A takes the mail.
        using var events = new HttpClient { BaseAddress = b.Http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var stream = await events.GetAsync($"/api/events?server={inbox}", HttpCompletionOption.ResponseHeadersRead);
        using var eventReader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        var awaited = b.Http.PostAsync($"/api/messages/await?server={inbox}&timeout=30000",
            new StringContent("""{"subject":"from node A"}""", Encoding.UTF8, "application/json"));

        var raw = Encoding.ASCII.GetBytes($"From: sender@example.com\r\nTo: t@{inbox}.localhost\r\nSubject: from node A\r\n\r\nA body with the word zebra.\r\n");
        var id = await SendAsync(a.SmtpPort, inbox, raw);

        // The wait and the stream on B are answered by A's arrival.
        using (var answer = await awaited.WaitAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal(id, (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        }

        Assert.Equal(id, await NextEventIdAsync(eventReader));

        // Listed, searched (by body too), read and downloaded byte for byte through B.
        var listed = (await b.GetJsonAsync($"/api/messages?server={inbox}")).GetProperty("items");
        Assert.Equal(id, Assert.Single(listed.EnumerateArray()).GetProperty("id").GetString());
        Assert.Equal(id, Assert.Single(await SearchAsync(b, inbox, """{"body":"ZEBRA"}""")).GetProperty("id").GetString());
        Assert.Empty(await SearchAsync(b, inbox, """{"body":"giraffe"}"""));
        Assert.Equal("from node A", (await b.GetJsonAsync($"/api/messages/{id}")).GetProperty("subject").GetString());
        Assert.Equal(raw, await b.Http.GetByteArrayAsync($"/api/files/email/{id}"));
        Assert.Equal(1, (await b.GetJsonAsync($"/api/servers/{inbox}")).GetProperty("messages").GetInt64());

        // Deleted through B: gone on A.
        Assert.Equal(HttpStatusCode.NoContent, (await b.Http.DeleteAsync($"/api/messages/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await a.Http.GetAsync($"/api/messages/{id}")).StatusCode);
        Assert.Equal(0, (await a.GetJsonAsync($"/api/servers/{inbox}")).GetProperty("messages").GetInt64());
    }

    [Fact]
    public async Task A_node_at_the_default_log_levels_writes_no_line_for_each_database_command()
    {
        // Npgsql logs every command it runs at Information: at the default levels a node's console would get
        // a line for each commit and three a second from the arrival listener.
        using var root = new TempDirectory();
        await using var node = await StartNodeAsync(root);
        var inbox = MailSinkHost.NewInbox();
        var id = await SendAsync(node.SmtpPort, inbox, Encoding.ASCII.GetBytes($"To: t@{inbox}.localhost\r\nSubject: quiet\r\n\r\nbody\r\n"));

        // The stored line is logged after the commit, and the console writes lines in order.
        await Poll.UntilAsync(() => node.StdOut.Any(line => line.Contains($"Stored message {id}")), MailSinkProcess.StartDeadline, "the stored line");
        Assert.DoesNotContain(node.StdOut, line => line.Contains("Npgsql"));
    }

    [Fact]
    public async Task Counts_stay_right_while_both_nodes_take_mail_and_delete_it()
    {
        using var rootA = new TempDirectory();
        using var rootB = new TempDirectory();
        await using var a = await StartNodeAsync(rootA);
        await using var b = await StartNodeAsync(rootB);
        var inbox = MailSinkHost.NewInbox();
        var ids = new ConcurrentQueue<string>();

        // Two senders on each node, and a deleter on each node taking every third message as it comes.
        var sending = Enumerable.Range(0, 4).Select(async sender =>
        {
            var node = sender % 2 == 0 ? a : b;
            for (var n = 0; n < 40; n++)
                ids.Enqueue(await SendAsync(node.SmtpPort, inbox, Encoding.ASCII.GetBytes($"Subject: {sender}-{n}\r\n\r\nx\r\n")));
        }).ToList();
        var deleted = new ConcurrentBag<string>();
        var deleting = new[] { a, b }.Select(async node =>
        {
            var taken = 0;
            while (!sending.All(s => s.IsCompleted) || !ids.IsEmpty)
            {
                if (!ids.TryDequeue(out var id))
                {
                    await Task.Yield();
                    continue;
                }

                if (Interlocked.Increment(ref taken) % 3 == 0)
                {
                    Assert.Equal(HttpStatusCode.NoContent, (await node.Http.DeleteAsync($"/api/messages/{id}")).StatusCode);
                    deleted.Add(id);
                }
            }
        }).ToList();
        await Task.WhenAll(sending);
        await Task.WhenAll(deleting);

        var expected = 160 - deleted.Count;
        Assert.InRange(deleted.Count, 20, 80);
        foreach (var node in new[] { a, b })
        {
            var items = (await node.GetJsonAsync($"/api/messages?server={inbox}&itemsPerPage=1000")).GetProperty("items");
            Assert.Equal(expected, items.GetArrayLength());
            Assert.Equal(expected, (await node.GetJsonAsync($"/api/servers/{inbox}")).GetProperty("messages").GetInt64());
            var times = items.EnumerateArray().Select(i => i.GetProperty("received").GetDateTimeOffset()).ToList();
            Assert.Equal(times.OrderByDescending(t => t), times); // newest first, across both nodes
            Assert.Equal(times.Count, times.Distinct().Count());
        }
    }

    [Fact]
    public async Task Killing_one_node_under_load_loses_nothing_it_acknowledged_and_the_other_goes_on()
    {
        using var rootA = new TempDirectory();
        using var rootB = new TempDirectory();
        var a = await StartNodeAsync(rootA);
        await using var b = await StartNodeAsync(rootB);
        var inbox = MailSinkHost.NewInbox();
        var acknowledged = new ConcurrentDictionary<string, byte[]>();
        using var stop = new CancellationTokenSource();
        try
        {
            var senders = Enumerable.Range(0, 6)
                .Select(sender => SendUntilStoppedAsync(sender % 2 == 0 ? a.SmtpPort : b.SmtpPort, inbox, sender, acknowledged, stop.Token))
                .ToList();
            await Poll.UntilAsync(() => Task.FromResult(acknowledged.Count >= 300 || senders.Any(s => s.IsFaulted)), TimeSpan.FromSeconds(60),
                "300 messages are acknowledged by the two nodes");

            a.Signal(SIGKILL);
            Assert.Equal(128 + SIGKILL, await a.WaitForExitAsync(TimeSpan.FromSeconds(15)));
            var atKill = acknowledged.Count;
            await Poll.UntilAsync(() => Task.FromResult(acknowledged.Count >= atKill + 100 || senders.Any(s => s.IsFaulted)), TimeSpan.FromSeconds(60),
                "node B goes on acknowledging mail after node A died");
            await stop.CancelAsync();
            await Task.WhenAll(senders);
            output.WriteLine($"{atKill} acknowledged when node A was killed, {acknowledged.Count} in all");
        }
        finally
        {
            await a.DisposeAsync();
        }

        // Every 250 of either node is there, byte for byte, through the survivor.
        foreach (var (id, raw) in acknowledged)
            Assert.Equal(raw, await b.Http.GetByteArrayAsync($"/api/files/email/{id}"));
        var counted = (await b.GetJsonAsync($"/api/servers/{inbox}")).GetProperty("messages").GetInt64();
        Assert.InRange(counted, acknowledged.Count, acknowledged.Count + 6); // a message in doubt at the kill may be stored
    }

    /// <summary>Sends messages one after another until told to stop or the node dies; records each acknowledged one.</summary>
    private static async Task SendUntilStoppedAsync(int port, string inbox, int sender, ConcurrentDictionary<string, byte[]> acknowledged, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var raw = Encoding.ASCII.GetBytes($"Subject: node-kill {sender}-{n}\r\n\r\n{new string((char)('a' + (n % 26)), 200 + (n % 700))}\r\n");
            try
            {
                acknowledged[await SendAsync(port, inbox, raw)] = raw;
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or Xunit.Sdk.XunitException)
            {
                if (ex is Xunit.Sdk.XunitException && !ex.Message.Contains("Connection closed", StringComparison.Ordinal))
                    throw;
                return; // the node died under this sender
            }
        }
    }

    /// <summary>One message over SMTP; its id from the 250.</summary>
    private static async Task<string> SendAsync(int port, string inbox, byte[] raw)
    {
        await using var client = await RawSmtpClient.ConnectAsync(port);
        await client.ReadReplyAsync();
        await client.SendRawAsync(Encoding.ASCII.GetBytes($"EHLO node-test\r\nMAIL FROM:<s@example.com>\r\nRCPT TO:<x@{inbox}.localhost>\r\nDATA\r\n"));
        for (var i = 0; i < 4; i++)
            await client.ReadReplyAsync();
        await client.SendRawAsync([.. raw, .. ".\r\n"u8]);
        return RawSmtpClient.StoredId(await client.ReadReplyAsync());
    }

    private static async Task<JsonElement[]> SearchAsync(MailSinkProcess node, string inbox, string criteria)
    {
        using var response = await node.Http.PostAsync($"/api/messages/search?server={inbox}", new StringContent(criteria, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray()];
    }

    /// <summary>The id in the next <c>event: message</c> of a live stream.</summary>
    private static async Task<string?> NextEventIdAsync(StreamReader reader)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var isMessage = false;
        while (await reader.ReadLineAsync(deadline.Token) is { } line)
        {
            if (line == "event: message")
                isMessage = true;
            else if (isMessage && line.StartsWith("data: ", StringComparison.Ordinal))
                return JsonDocument.Parse(line[6..]).RootElement.GetProperty("id").GetString();
        }

        return null;
    }
}
