using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace MailSink.Testing;

/// <summary>
/// A typed client for MailSink's HTTP API, against any MailSink (one <see cref="MailSinkServer"/> started,
/// or a shared one by its URL). Thread-safe; dispose it when done (it owns its HttpClient unless given one).
/// </summary>
public sealed class MailSinkClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <param name="baseUrl">Where MailSink's HTTP side is, such as <c>http://localhost:8025/</c>.</param>
    /// <param name="apiKey">The API key, when the MailSink requires one.</param>
    public MailSinkClient(string baseUrl, string? apiKey = null)
        : this(new HttpClient { BaseAddress = new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/"), Timeout = Timeout.InfiniteTimeSpan }, apiKey)
    {
        _ownsHttp = true;
    }

    /// <summary>Over an HttpClient the caller owns, its BaseAddress set to MailSink's.</summary>
    public MailSinkClient(HttpClient http, string? apiKey = null)
    {
        _http = http;
        if (apiKey is not null)
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(apiKey + ":")));
    }

    /// <summary>The root domain addresses are made under (MailSink's <c>MailSink:Routing:RootDomains</c>).</summary>
    public string Domain { get; init; } = "localhost";

    /// <summary>A new inbox name with its domain: mail to <c>inbox.Address()</c> lands there, nothing to create first.</summary>
    public Inbox NewInbox() => Inbox.New(Domain);

    public async Task<IReadOnlyList<Server>> ListServersAsync(CancellationToken cancellationToken = default) =>
        (await GetAsync<ItemsOf<Server>>("api/servers", cancellationToken)).Items;

    public Task<Server> CreateServerAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<Server>(HttpMethod.Post, "api/servers", new { name }, cancellationToken);

    public Task<Server?> GetServerAsync(string id, CancellationToken cancellationToken = default) =>
        GetOrNullAsync<Server>($"api/servers/{Uri.EscapeDataString(id)}", cancellationToken);

    public Task<bool> DeleteServerAsync(string id, CancellationToken cancellationToken = default) =>
        DeletePathAsync($"api/servers/{Uri.EscapeDataString(id)}", cancellationToken);

    /// <summary>An inbox's messages, newest first.</summary>
    public async Task<IReadOnlyList<MessageSummary>> ListAsync(
        string inbox, int page = 0, int itemsPerPage = 50, DateTimeOffset? receivedAfter = null, CancellationToken cancellationToken = default) =>
        (await GetAsync<ItemsOf<MessageSummary>>($"api/messages?{Query(inbox, page, itemsPerPage, receivedAfter)}", cancellationToken)).Items;

    /// <summary>An inbox's messages matching the criteria, newest first.</summary>
    public async Task<IReadOnlyList<MessageSummary>> SearchAsync(
        string inbox, SearchCriteria criteria, int page = 0, int itemsPerPage = 50, DateTimeOffset? receivedAfter = null, CancellationToken cancellationToken = default) =>
        (await SendAsync<ItemsOf<MessageSummary>>(HttpMethod.Post, $"api/messages/search?{Query(inbox, page, itemsPerPage, receivedAfter)}", Body(criteria), cancellationToken)).Items;

    /// <summary>One message in full, or null when there is none with that id.</summary>
    public Task<Message?> GetAsync(string id, CancellationToken cancellationToken = default) =>
        GetOrNullAsync<Message>($"api/messages/{Uri.EscapeDataString(id)}", cancellationToken);

    /// <summary>
    /// The newest message matching the criteria (any, when null), as soon as it is stored: MailSink answers
    /// on its arrival, nothing polls. <see cref="TimeoutException"/> when none comes in time (default 10 s).
    /// </summary>
    public async Task<Message> AwaitAsync(
        string inbox, SearchCriteria? criteria = null, TimeSpan? timeout = null, DateTimeOffset? receivedAfter = null, CancellationToken cancellationToken = default)
    {
        var wait = timeout ?? TimeSpan.FromSeconds(10);
        var path = $"api/messages/await?server={Uri.EscapeDataString(inbox)}&timeout={(long)wait.TotalMilliseconds}"
                   + After(receivedAfter);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = criteria is null ? null : JsonContent.Create(Body(criteria), options: Json) };
        using var response = await _http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.RequestTimeout)
            throw new TimeoutException($"No message matching the criteria arrived in inbox {inbox} within {wait.TotalSeconds:0.###} s.");
        await EnsureSuccessAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<Message>(Json, cancellationToken))!;
    }

    /// <summary>The next message to <paramref name="address"/> (its inbox is the label left of <see cref="Domain"/>).</summary>
    public Task<Message> WaitForMessageToAsync(string address, TimeSpan? timeout = null, DateTimeOffset? receivedAfter = null, CancellationToken cancellationToken = default) =>
        AwaitAsync(Inbox.Of(address, Domain).Id, new SearchCriteria(SentTo: address), timeout, receivedAfter, cancellationToken);

    /// <summary>The first link of the next message to <paramref name="address"/> (a sign-up confirmation, a password reset).</summary>
    public async Task<string> WaitForLinkAsync(string address, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        (await WaitForMessageToAsync(address, timeout, cancellationToken: cancellationToken)).FirstLink
        ?? throw new InvalidOperationException($"The message to {address} has no link.");

    /// <summary>The one-time code of the next message to <paramref name="address"/>.</summary>
    public async Task<string> WaitForCodeAsync(string address, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        (await WaitForMessageToAsync(address, timeout, cancellationToken: cancellationToken)).FirstCode
        ?? throw new InvalidOperationException($"The message to {address} has no one-time code.");

    /// <summary>The raw message, byte for byte as received.</summary>
    public Task<byte[]> GetRawAsync(string id, CancellationToken cancellationToken = default) =>
        GetBytesAsync($"api/files/email/{Uri.EscapeDataString(id)}", cancellationToken);

    /// <summary>An attachment's decoded bytes.</summary>
    public Task<byte[]> GetAttachmentAsync(string attachmentId, CancellationToken cancellationToken = default) =>
        GetBytesAsync($"api/files/attachments/{Uri.EscapeDataString(attachmentId)}", cancellationToken);

    /// <summary>False when there was no such message.</summary>
    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        DeletePathAsync($"api/messages/{Uri.EscapeDataString(id)}", cancellationToken);

    public Task DeleteAllAsync(string inbox, CancellationToken cancellationToken = default) =>
        DeletePathAsync($"api/messages?server={Uri.EscapeDataString(inbox)}", cancellationToken);

    /// <summary>
    /// Each message as it is stored from now on (of one inbox, or all when null), read from MailSink's
    /// server-sent event stream until <paramref name="cancellationToken"/> ends it.
    /// </summary>
    public async IAsyncEnumerable<MessageSummary> StreamAsync(string? inbox = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var path = inbox is null ? "api/events" : $"api/events?server={Uri.EscapeDataString(inbox)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
        string? kind = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (kind is null or "message" && data.Length > 0)
                    yield return JsonSerializer.Deserialize<MessageSummary>(data.ToString(), Json)!;
                (kind, data) = (null, data.Clear());
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                kind = line[6..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Append(line.AsSpan(5).TrimStart(' '));
            }
        }
    }

    public void Dispose()
    {
        if (_ownsHttp)
            _http.Dispose();
    }

    private static string Query(string inbox, int page, int itemsPerPage, DateTimeOffset? receivedAfter) =>
        $"server={Uri.EscapeDataString(inbox)}&page={page}&itemsPerPage={itemsPerPage}" + After(receivedAfter);

    /// <summary>The <c>receivedAfter</c> query parameter (UTC, round-trip format), or nothing.</summary>
    private static string After(DateTimeOffset? receivedAfter) =>
        receivedAfter is { } after ? $"&receivedAfter={Uri.EscapeDataString(after.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture))}" : "";

    private static object Body(SearchCriteria criteria) =>
        new { criteria.SentFrom, criteria.SentTo, criteria.Subject, criteria.Body, Match = criteria.MatchAny ? "ANY" : "ALL" };

    private async Task<T> GetAsync<T>(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(path, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;
    }

    private async Task<T?> GetOrNullAsync<T>(string path, CancellationToken cancellationToken)
        where T : class
    {
        using var response = await _http.GetAsync(path, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        await EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken);
    }

    private async Task<byte[]> GetBytesAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(path, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken);
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body, options: Json) };
        using var response = await _http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;
    }

    private async Task<bool> DeletePathAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.DeleteAsync(path, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return false;
        await EnsureSuccessAsync(response, cancellationToken);
        return true;
    }

    /// <summary>A failed call as a <see cref="MailSinkApiException"/> carrying MailSink's own description.</summary>
    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
            return;
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        string? field = null;
        var description = $"MailSink answered {(int)response.StatusCode} {response.ReasonPhrase} to {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}";
        try
        {
            var error = JsonDocument.Parse(text).RootElement.GetProperty("errors")[0];
            field = error.GetProperty("field").GetString();
            description += $": ({field}) {error.GetProperty("detail")[0].GetProperty("description").GetString()}";
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            // Not MailSink's error shape (an empty 401 or 404): the status says it.
        }

        throw new MailSinkApiException((int)response.StatusCode, field, description);
    }

    private sealed record ItemsOf<T>(IReadOnlyList<T> Items);
}
