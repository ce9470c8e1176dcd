using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using MailSink.Api;
using MailSink.Storage;
using Microsoft.AspNetCore.Http;

namespace MailSink.Tests.Ui;

/// <summary>One client's event stream, driven through an in-memory response body: no sockets.</summary>
public sealed class ArrivalEventStreamTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan NoHeartbeat = TimeSpan.FromHours(1);

    [Fact]
    public async Task Each_arrival_is_a_message_event_carrying_its_summary()
    {
        var feed = new ArrivalFeed();
        await using var client = StreamClient.Start(feed, inbox: null, capacity: 16, NoHeartbeat);
        Assert.Equal(": connected\nretry: 2000", await client.ReadBlockAsync());

        var message = Message("box1", "Hello there");
        message.Attachments.Add(new StoredAttachment { Id = "a1", FileName = "x.pdf" });
        feed.Publish([message]);

        var block = await client.ReadBlockAsync();
        var lines = block.Split('\n');
        Assert.Equal($"id: {message.Id}", lines[0]);
        Assert.Equal("event: message", lines[1]);
        Assert.StartsWith("data: ", lines[2]);
        Assert.Equal(3, lines.Length);
        var data = JsonDocument.Parse(lines[2]["data: ".Length..]).RootElement;
        Assert.Equal(message.Id, data.GetProperty("id").GetString());
        Assert.Equal("box1", data.GetProperty("server").GetString());
        Assert.Equal("Hello there", data.GetProperty("subject").GetString());
        Assert.Equal("sender@example.com", data.GetProperty("from")[0].GetProperty("email").GetString());
        Assert.Equal(1, data.GetProperty("attachments").GetInt32());
    }

    [Fact]
    public async Task A_stream_for_one_inbox_carries_only_that_inbox()
    {
        var feed = new ArrivalFeed();
        await using var client = StreamClient.Start(feed, inbox: "mine", capacity: 16, NoHeartbeat);
        await client.ReadBlockAsync();

        feed.Publish([Message("other", "not for me"), Message("mine", "for me")]);

        Assert.Contains("\"subject\":\"for me\"", await client.ReadBlockAsync());
        Assert.Equal(1, feed.SubscriberCount("mine"));
        Assert.Equal(0, feed.SubscriberCount("other"));
    }

    [Fact]
    public async Task An_idle_stream_sends_heartbeat_comments()
    {
        var feed = new ArrivalFeed();
        await using var client = StreamClient.Start(feed, inbox: null, capacity: 16, TimeSpan.FromMilliseconds(50));
        await client.ReadBlockAsync();

        Assert.Equal(": heartbeat", await client.ReadBlockAsync());
        Assert.Equal(": heartbeat", await client.ReadBlockAsync());
    }

    [Fact]
    public async Task A_client_that_falls_behind_keeps_the_newest_and_is_told_how_many_it_lost()
    {
        var feed = new ArrivalFeed();
        // A body that takes one byte before it makes the writer wait: the stream is stuck on its first
        // flush until the test reads, like a client that stopped reading.
        await using var client = StreamClient.Start(feed, inbox: null, capacity: 3, NoHeartbeat, new PipeOptions(pauseWriterThreshold: 1, resumeWriterThreshold: 1));
        var messages = Enumerable.Range(1, 10).Select(i => Message("box", $"m{i}")).ToArray();
        foreach (var message in messages)
            feed.Publish([message]); // returns at once even though nobody reads: the writer thread never waits

        Assert.Equal(": connected\nretry: 2000", await client.ReadBlockAsync());
        Assert.Equal("event: overflow\ndata: {\"dropped\":7}", await client.ReadBlockAsync());
        string[] kept = [await client.ReadBlockAsync(), await client.ReadBlockAsync(), await client.ReadBlockAsync()];
        Assert.Equal(messages[7..].Select(m => $"id: {m.Id}"), kept.Select(block => block.Split('\n')[0]));
    }

    [Fact]
    public async Task The_stream_unsubscribes_when_the_client_goes_away()
    {
        var feed = new ArrivalFeed();
        var client = StreamClient.Start(feed, inbox: "gone", capacity: 16, NoHeartbeat);
        await client.ReadBlockAsync();
        Assert.Equal(1, feed.SubscriberCount("gone"));

        await client.DisposeAsync(); // cancels, like RequestAborted, and waits for the stream to end

        Assert.Equal(0, feed.SubscriberCount("gone"));
        feed.Publish([Message("gone", "after")]); // nothing left to call
    }

    private static StoredMessage Message(string inbox, string subject) => new()
    {
        Id = Guid.CreateVersion7().ToString(),
        Inbox = inbox,
        ReceivedTicks = DateTime.UtcNow.Ticks,
        Subject = subject,
        From = [new StoredAddress { Name = "Sender", Email = "sender@example.com" }],
        To = [new StoredAddress { Email = $"x@{inbox}.localhost" }],
    };

    /// <summary>An <see cref="ArrivalEventStream"/> writing into a pipe, and the reading end of it.</summary>
    private sealed class StreamClient : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly StreamReader _reader;
        private readonly Task _run;

        private StreamClient(ArrivalFeed feed, string? inbox, int capacity, TimeSpan heartbeat, PipeOptions options)
        {
            var pipe = new Pipe(options);
            var context = new DefaultHttpContext();
            context.Response.Body = pipe.Writer.AsStream();
            _reader = new StreamReader(pipe.Reader.AsStream(), Encoding.UTF8);
            var stream = new ArrivalEventStream(feed, inbox, capacity, new JsonSerializerOptions(JsonSerializerDefaults.Web));
            _run = stream.RunAsync(context.Response, heartbeat, _stop.Token);
        }

        public static StreamClient Start(ArrivalFeed feed, string? inbox, int capacity, TimeSpan heartbeat, PipeOptions? options = null) =>
            new(feed, inbox, capacity, heartbeat, options ?? PipeOptions.Default);

        /// <summary>The next event block, without its closing blank line.</summary>
        public async Task<string> ReadBlockAsync()
        {
            var lines = new List<string>();
            while (true)
            {
                var line = await _reader.ReadLineAsync().WaitAsync(Deadline)
                    ?? throw new Xunit.Sdk.XunitException("The stream ended.");
                if (line.Length == 0)
                    return string.Join('\n', lines);
                lines.Add(line);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _run.WaitAsync(Deadline);
            _stop.Dispose();
            _reader.Dispose();
        }
    }
}
