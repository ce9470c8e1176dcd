using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MailSink.Storage;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MailSink.Tests.Ui;

/// <summary>GET api/events over real HTTP: arrivals pushed as they are committed, per inbox or all.</summary>
public sealed class EventsApiTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private MailSinkHost Host => shared.Host;

    [Fact]
    public async Task A_message_is_pushed_to_the_stream_right_after_its_250()
    {
        var inbox = MailSinkHost.NewInbox();
        using var stream = await EventStream.OpenAsync(Host.Http, $"/api/events?server={inbox}");
        Assert.Equal("text/event-stream", stream.ContentType);

        var reply = await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"x@{inbox}.localhost", "pushed", "body"));
        var acknowledged = Stopwatch.StartNew();
        var data = await stream.NextMessageAsync();
        output.WriteLine($"event {acknowledged.Elapsed.TotalMilliseconds:F1} ms after the 250");

        Assert.Equal(SmtpSend.StoredId(reply), data.GetProperty("id").GetString());
        Assert.Equal(inbox, data.GetProperty("server").GetString());
        Assert.Equal("pushed", data.GetProperty("subject").GetString());
        Assert.True(acknowledged.Elapsed < TimeSpan.FromMilliseconds(500), $"the event came {acknowledged.Elapsed.TotalMilliseconds:F0} ms after the 250");
    }

    [Fact]
    public async Task The_stream_of_every_inbox_carries_each_inbox_and_one_inbox_only_its_own()
    {
        var (first, second) = (MailSinkHost.NewInbox(), MailSinkHost.NewInbox());
        using var all = await EventStream.OpenAsync(Host.Http, "/api/events");
        using var onlySecond = await EventStream.OpenAsync(Host.Http, $"/api/events?server={second.ToUpperInvariant()}");

        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"x@{first}.localhost", "one", "body"));
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"x@{second}.localhost", "two", "body"));

        // Other tests of this class may send to their own inboxes meanwhile: look for ours.
        Assert.Equal("one", (await all.NextMessageAsync(m => m.GetProperty("server").GetString() == first)).GetProperty("subject").GetString());
        Assert.Equal("two", (await all.NextMessageAsync(m => m.GetProperty("server").GetString() == second)).GetProperty("subject").GetString());
        Assert.Equal("two", (await onlySecond.NextMessageAsync()).GetProperty("subject").GetString());
    }

    [Fact]
    public async Task Closing_the_stream_ends_the_subscription()
    {
        var inbox = MailSinkHost.NewInbox();
        var feed = Host.Services.GetRequiredService<ArrivalFeed>();
        using (await EventStream.OpenAsync(Host.Http, $"/api/events?server={inbox}"))
            Assert.Equal(1, feed.SubscriberCount(inbox));

        await Poll.UntilAsync(() => Task.FromResult(feed.SubscriberCount(inbox) == 0), Deadline, "the closed stream unsubscribed");
    }

    [Fact]
    public async Task Stopping_the_host_ends_open_streams_instead_of_waiting_for_them()
    {
        var host = await MailSinkHost.StartAsync();
        var stream = await EventStream.OpenAsync(host.Http, "/api/events");
        var clock = Stopwatch.StartNew();
        await host.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        output.WriteLine($"stopped in {clock.Elapsed.TotalMilliseconds:F0} ms with a stream open");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {clock.Elapsed.TotalSeconds:F1} s: the open stream held it up");
        stream.Dispose();
    }

    /// <summary>A server-sent event stream read line by line.</summary>
    internal sealed class EventStream : IDisposable
    {
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private EventStream(HttpResponseMessage response, Stream body)
        {
            _response = response;
            _reader = new StreamReader(body, Encoding.UTF8);
        }

        public string? ContentType => _response.Content.Headers.ContentType?.MediaType;

        /// <summary>Opens the stream and reads up to its first comment, so the server has subscribed.</summary>
        public static async Task<EventStream> OpenAsync(HttpClient http, string path, AuthenticationHeaderValue? authorization = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = authorization;
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var stream = new EventStream(response, await response.Content.ReadAsStreamAsync());
            Assert.Equal(": connected", await stream.ReadLineAsync());
            return stream;
        }

        /// <summary>The data of the next <c>message</c> event (that matches, when given a condition).</summary>
        public async Task<JsonElement> NextMessageAsync(Func<JsonElement, bool>? where = null)
        {
            string? type = null;
            string? data = null;
            while (true)
            {
                var line = await ReadLineAsync();
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                    type = line["event: ".Length..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                    data = line["data: ".Length..];
                else if (line.Length == 0)
                {
                    if (type == "message" && data is not null)
                    {
                        var element = JsonDocument.Parse(data).RootElement;
                        if (where is null || where(element))
                            return element;
                    }

                    (type, data) = (null, null);
                }
            }
        }

        private async Task<string> ReadLineAsync() =>
            await _reader.ReadLineAsync().WaitAsync(Deadline) ?? throw new Xunit.Sdk.XunitException("The event stream ended.");

        public void Dispose()
        {
            _reader.Dispose();
            _response.Dispose();
        }
    }
}
