using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MailSink.Soak;

/// <summary>
/// One API client of the soak: lists, reads (parsed and raw, checking the bytes), searches and waits, at
/// its share of the request rate. Every answer is checked; anything unexpected is an error.
/// </summary>
internal sealed class ApiReader(HttpClient http, int index, int inboxes, double requestsPerSecond, Ledger ledger)
{
    private readonly Random _random = new(1000 + index);

    public async Task RunAsync(CancellationToken stop)
    {
        using var pace = new PeriodicTimer(TimeSpan.FromSeconds(1 / requestsPerSecond));
        while (await Tick(pace, stop))
        {
            var operation = _random.Next(10);
            var started = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                ledger.Request();
                switch (operation)
                {
                    case 0 or 1:
                        await ListAsync();
                        break;
                    case 2 or 3:
                        await GetAsync();
                        break;
                    case 4 or 5:
                        await RawAsync();
                        break;
                    case 6 or 7:
                        await SearchAsync();
                        break;
                    case 8:
                        await AwaitAsync();
                        break;
                    default:
                        await Expect(await http.GetAsync("/api/servers", CancellationToken.None), HttpStatusCode.OK, "servers");
                        break;
                }

                ledger.Took(operation switch { 0 or 1 => "list", 2 or 3 => "get", 4 or 5 => "raw", 6 or 7 => "search", 8 => "await", _ => "servers" }, started.Elapsed);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or InvalidDataException)
            {
                ledger.Error($"reader {index} operation {operation}: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    private static async Task<bool> Tick(PeriodicTimer pace, CancellationToken stop)
    {
        try
        {
            return await pace.WaitForNextTickAsync(stop);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private string Inbox() => $"soak{_random.Next(inboxes)}";

    private async Task ListAsync()
    {
        var json = await JsonAsync(await http.GetAsync($"/api/messages?server={Inbox()}&itemsPerPage={_random.Next(1, 100)}"), "list");
        if (json.GetProperty("items").GetArrayLength() > 100)
            throw new InvalidDataException("list returned more than itemsPerPage");
    }

    private async Task GetAsync()
    {
        if (ledger.Any(_random) is not { } message)
            return;
        var json = await JsonAsync(await http.GetAsync($"/api/messages/{message.Id}"), "get");
        if (json.GetProperty("subject").GetString() != message.Subject || json.GetProperty("server").GetString() != message.Inbox)
            throw new InvalidDataException($"message {message.Id} came back with another subject or inbox");
    }

    private async Task RawAsync()
    {
        if (ledger.Any(_random) is not { } message)
            return;
        using var response = await http.GetAsync($"/api/files/email/{message.Id}");
        await Expect(response, HttpStatusCode.OK, "raw");
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (bytes.Length != message.Size || !SHA256.HashData(bytes).AsSpan().SequenceEqual(message.Sha256))
            throw new InvalidDataException($"raw message {message.Id} differs from what was sent");
    }

    /// <summary>
    /// Half the searches are by the subject of any message sent; the others by body, as a test looks for the
    /// code its mail carries with Mailosaur's <c>messages.get</c> (itemsPerPage 1, newest first): for the code
    /// of a message sent a moment ago, or, one time in ten, for a code never sent, received after the last
    /// 5 s (a test that passes its start time, as Mailosaur's documentation advises), which reads every
    /// message of those seconds.
    /// </summary>
    private async Task SearchAsync()
    {
        if (_random.Next(2) == 0)
        {
            if (ledger.Any(_random) is not { } known)
                return;
            var word = known.Subject.Split(' ')[^1];
            var json = await PostSearchAsync(known.Inbox, new { subject = word }, 10, null);
            if (!json.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("id").GetString() == known.Id))
                throw new InvalidDataException($"search for the subject of {known.Id} did not find it");
            return;
        }

        if (_random.Next(10) == 0)
        {
            var since = DateTimeOffset.UtcNow.AddSeconds(-5);
            var none = await PostSearchAsync(Inbox(), new { body = "code is 0" + _random.Next(10000, 99999) }, 1, since);
            if (none.GetProperty("items").GetArrayLength() != 0)
                throw new InvalidDataException("a search for a code never sent found a message");
            return;
        }

        if (ledger.RecentWithCode(_random) is not { } sent)
            return;
        var items = (await PostSearchAsync(sent.Inbox, new { body = "code is " + sent.Code }, 1, null)).GetProperty("items");
        // The newest message with that code: this one, or a later one that happened to get the same code.
        var found = items.GetArrayLength() == 1 ? items[0].GetProperty("id").GetString()! : null;
        if (found is null || (found != sent.Id && (!ledger.Messages.TryGetValue(found, out var other) || other.Code != sent.Code)))
            throw new InvalidDataException($"search for the code of {sent.Id} found {found ?? "nothing"}");
    }

    private async Task<JsonElement> PostSearchAsync(string inbox, object criteria, int itemsPerPage, DateTimeOffset? receivedAfter)
    {
        using var content = new StringContent(JsonSerializer.Serialize(criteria), Encoding.UTF8, "application/json");
        var after = receivedAfter is { } at ? "&receivedAfter=" + Uri.EscapeDataString(at.ToString("O", System.Globalization.CultureInfo.InvariantCulture)) : "";
        return await JsonAsync(await http.PostAsync($"/api/messages/search?server={inbox}&itemsPerPage={itemsPerPage}{after}", content), "search");
    }

    /// <summary>Asks the senders for a message with a new subject and waits for it through the API.</summary>
    private async Task AwaitAsync()
    {
        var inbox = Inbox();
        var subject = $"wanted {Guid.NewGuid():N}";
        using var content = new StringContent(JsonSerializer.Serialize(new { subject }), Encoding.UTF8, "application/json");
        var waiting = http.PostAsync($"/api/messages/await?server={inbox}&timeout=30000", content);
        ledger.Wanted.Enqueue((inbox, subject));
        var json = await JsonAsync(await waiting, "await");
        if (json.GetProperty("subject").GetString() != subject)
            throw new InvalidDataException($"await for '{subject}' answered another message");
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, string what)
    {
        using (response)
        {
            await Expect(response, HttpStatusCode.OK, what);
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }
    }

    private static async Task Expect(HttpResponseMessage response, HttpStatusCode status, string what)
    {
        if (response.StatusCode != status)
            throw new InvalidDataException($"{what} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}
