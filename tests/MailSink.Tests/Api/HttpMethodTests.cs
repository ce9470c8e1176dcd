using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;
using MimeKit;

namespace MailSink.Tests.Api;

/// <summary>
/// HEAD wherever GET is answered (RFC 9110 section 9.1): <c>curl -I</c>, link checkers and load balancers get
/// the GET's status and headers without its body. Before, every API route but <c>/health</c> and <c>/metrics</c>
/// answered HEAD with 405. A method a path does not take is a 405 that says which it does.
/// </summary>
public sealed class HttpMethodTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    [Fact]
    public async Task Every_read_answers_head_with_the_get_s_status_and_headers_and_no_body()
    {
        var inbox = MailSinkHost.NewInbox();
        var builder = new BodyBuilder { TextBody = "A message to read with HEAD." };
        builder.Attachments.Add("notes.txt", Encoding.UTF8.GetBytes("attached text"), new ContentType("text", "plain"));
        var message = SmtpSend.Simple($"reader@{inbox}.localhost", "Read by HEAD", "");
        message.Body = builder.ToMessageBody();
        var id = SmtpSend.StoredId(await SmtpSend.MessageAsync(Host.SmtpPort, message, output));
        var attachment = (await Host.GetJsonAsync($"/api/messages/{id}")).GetProperty("attachments")[0].GetProperty("id").GetString();

        string[] paths =
        [
            $"/api/messages/{id}",
            $"/api/messages?server={inbox}",
            $"/api/files/email/{id}",
            $"/api/files/attachments/{attachment}",
            $"/api/servers/{inbox}",
            "/api/servers",
            "/api/usage/limits",
            $"/api/messages/{Guid.NewGuid()}", // a 404 is a 404 either way
            "/",
            "/health",
            "/openapi/v1.json",
        ];
        foreach (var path in paths)
        {
            using var get = await Host.Http.GetAsync(path);
            var getBody = await get.Content.ReadAsByteArrayAsync();
            using var head = await Host.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
            var headBody = await head.Content.ReadAsByteArrayAsync();

            Assert.True(get.StatusCode == head.StatusCode, $"{path}: GET {(int)get.StatusCode}, HEAD {(int)head.StatusCode}");
            Assert.Equal(get.Content.Headers.ContentType?.ToString(), head.Content.Headers.ContentType?.ToString());
            if (get.Content.Headers.ContentLength is { } length && get.Headers.TransferEncodingChunked != true)
                Assert.True(length == head.Content.Headers.ContentLength, $"{path}: GET's Content-Length {length}, HEAD's {head.Content.Headers.ContentLength}");
            Assert.Equal(get.Content.Headers.ContentDisposition?.ToString(), head.Content.Headers.ContentDisposition?.ToString());
            Assert.Empty(headBody);
            if (get.StatusCode == HttpStatusCode.OK)
                Assert.NotEmpty(getBody);
        }

        // The raw message's length as stored, for someone checking a download before taking it.
        using var raw = await Host.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/files/email/{id}"));
        Assert.Equal((await Host.RawAsync(id)).Length, raw.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Head_is_refused_where_get_is_and_the_refusal_names_the_method_to_use()
    {
        using var search = await Host.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/messages/search"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, search.StatusCode);
        Assert.Equal(["POST"], search.Content.Headers.Allow);

        foreach (var path in new[] { "/api/messages/search", "/api/messages/await", "/api/messages/raw" })
        {
            using var options = await Host.Http.SendAsync(new HttpRequestMessage(HttpMethod.Options, path));
            Assert.Equal(HttpStatusCode.MethodNotAllowed, options.StatusCode);
            Assert.Equal(["POST"], options.Content.Headers.Allow);
        }

        // A route that takes only POST, through routing's own 405.
        using var forward = await Host.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/messages/{Guid.NewGuid()}/forward"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, forward.StatusCode);
        Assert.Equal(["POST"], forward.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("DELETE", "/api/servers", "GET, HEAD, POST")]
    [InlineData("PATCH", "/api/usage/limits", "GET, HEAD")]
    [InlineData("PUT", "/api/devices", "GET, HEAD, POST")]
    public async Task A_method_a_path_does_not_take_is_a_405_naming_the_ones_it_does(string method, string path, string allowed)
    {
        using var response = await Host.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(allowed, string.Join(", ", response.Content.Headers.Allow));
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("method", error.GetProperty("errors")[0].GetProperty("field").GetString());
        Assert.Equal(
            $"{method} {path} is not served: that path takes {allowed}.",
            error.GetProperty("errors")[0].GetProperty("detail")[0].GetProperty("description").GetString());
    }

    [Fact]
    public async Task Head_of_the_event_stream_ends_at_its_headers_and_the_connection_serves_the_next_request()
    {
        // The stream's GET never ends; its HEAD must, or a keep-alive connection would stay stuck behind it.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var uri = new Uri(Host.BaseUrl);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await socket.ConnectAsync(IPAddress.Loopback, uri.Port, deadline.Token);
        await using var stream = new NetworkStream(socket);
        var hostHeader = $"Host: {uri.Authority}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HEAD /api/events HTTP/1.1\r\n{hostHeader}\r\n"), deadline.Token);
        var first = await ReadHeadersAsync(stream, deadline.Token);
        Assert.StartsWith("HTTP/1.1 200", first, StringComparison.Ordinal);
        Assert.Contains("Content-Type: text/event-stream", first, StringComparison.OrdinalIgnoreCase);

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HEAD /health HTTP/1.1\r\n{hostHeader}\r\n"), deadline.Token);
        var second = await ReadHeadersAsync(stream, deadline.Token);
        Assert.StartsWith("HTTP/1.1 200", second, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/json", second, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>One response's status line and headers, up to the empty line (a HEAD response has nothing after it).</summary>
    private static async Task<string> ReadHeadersAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new List<byte>();
        var one = new byte[1];
        while (!received.TakeLast(4).SequenceEqual("\r\n\r\n"u8.ToArray()))
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0)
                throw new IOException($"The server closed the connection after: {Encoding.ASCII.GetString(received.ToArray())}");
            received.Add(one[0]);
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }
}
