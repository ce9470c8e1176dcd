using System.Net;
using System.Net.Sockets;
using MailSink.Storage;
using Microsoft.Extensions.Options;

namespace MailSink.Api.Analysis;

/// <summary>The <c>MailSink:Analysis:LinkCheck</c> section.</summary>
public sealed class LinkCheckOptions
{
    public const string Section = "MailSink:Analysis:LinkCheck";

    /// <summary>
    /// Let links reach loopback, private, link-local and other internal addresses. Off: a message's links
    /// cannot make MailSink probe the network it runs in (such links are reported as blocked, unasked).
    /// </summary>
    public bool AllowPrivate { get; set; }

    /// <summary>How long one link (all its redirects) may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Links checked at most per message (the first ones).</summary>
    public int MaxLinks { get; set; } = 100;

    /// <summary>Links checked at the same time.</summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>Redirects followed per link at most.</summary>
    public int MaxRedirects { get; set; } = 5;
}

/// <summary>One link's outcome: <c>ok</c> (2xx at the end), <c>broken</c> (4xx/5xx), <c>timeout</c>, <c>blocked</c>, <c>error</c> or <c>too-many-redirects</c>.</summary>
public sealed record LinkResultDto(string Url, string Result, int? Status, string? FinalUrl, IReadOnlyList<string> Redirects, string? Error);

public sealed record LinkCheckDto(IReadOnlyList<LinkResultDto> Links);

/// <summary>
/// Checks a message's links the way a person's click would find them: HEAD (GET when HEAD is refused),
/// redirects followed one by one, a deadline per link, a few at a time. Every connection, redirects
/// included, goes through one check of the address really connected to, so that neither a link nor a
/// redirect nor DNS can point MailSink at an internal address unless <see cref="LinkCheckOptions.AllowPrivate"/>.
/// </summary>
public sealed class LinkChecker : IDisposable
{
    private readonly LinkCheckOptions _options;
    private readonly HttpClient _http;

    public LinkChecker(IOptions<LinkCheckOptions> options)
    {
        _options = options.Value;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectTimeout = _options.Timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = ConnectAsync,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("MailSink-LinkCheck/1");
    }

    public void Dispose() => _http.Dispose();

    public async Task<LinkCheckDto> CheckAsync(StoredMessage message, CancellationToken cancellationToken)
    {
        var urls = message.HtmlLinks.Select(l => l.Href).Concat(message.TextLinks.Select(l => l.Href))
            .Where(h => Uri.TryCreate(h, UriKind.Absolute, out var u) && u.Scheme is "http" or "https")
            .Distinct(StringComparer.Ordinal).Take(_options.MaxLinks).ToList();
        var results = new LinkResultDto[urls.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, urls.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Concurrency), CancellationToken = cancellationToken },
            async (i, token) => results[i] = await CheckOneAsync(urls[i], token));
        return new LinkCheckDto(results);
    }

    private async Task<LinkResultDto> CheckOneAsync(string url, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.Timeout);
        var redirects = new List<string>();
        var current = new Uri(url);
        try
        {
            while (true)
            {
                var (status, location) = await StatusAsync(current, deadline.Token);
                if (status is >= 300 and < 400 && location is { } next)
                {
                    if (redirects.Count >= _options.MaxRedirects)
                        return new LinkResultDto(url, "too-many-redirects", status, current.ToString(), redirects, $"more than {_options.MaxRedirects} redirects");
                    current = new Uri(current, next);
                    if (current.Scheme is not ("http" or "https"))
                        return new LinkResultDto(url, "error", status, current.ToString(), redirects, $"redirected to a {current.Scheme}: address");
                    redirects.Add(current.ToString());
                    continue;
                }

                return new LinkResultDto(url, status is >= 200 and < 300 ? "ok" : "broken", status, current.ToString(), redirects, null);
            }
        }
        catch (BlockedAddressException ex)
        {
            return new LinkResultDto(url, "blocked", null, current.ToString(), redirects, ex.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new LinkResultDto(url, "timeout", null, current.ToString(), redirects, $"no answer within {_options.Timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException ex) when (ex.InnerException is BlockedAddressException blocked)
        {
            return new LinkResultDto(url, "blocked", null, current.ToString(), redirects, blocked.Message);
        }
        catch (HttpRequestException ex)
        {
            return new LinkResultDto(url, "error", null, current.ToString(), redirects, ex.Message);
        }
    }

    /// <summary>HEAD, then GET when the server does not do HEAD; the status, and the Location of a redirect.</summary>
    private async Task<(int Status, string? Location)> StatusAsync(Uri url, CancellationToken cancellationToken)
    {
        using (var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url), HttpCompletionOption.ResponseHeadersRead, cancellationToken))
        {
            if (head.StatusCode is not (HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented))
                return ((int)head.StatusCode, head.Headers.Location?.OriginalString);
        }

        using var get = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Get, url), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        return ((int)get.StatusCode, get.Headers.Location?.OriginalString);
    }

    /// <summary>Resolves the host and connects, unless an address it resolves to is internal and that is not allowed.</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(context.DnsEndPoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
        if (!_options.AllowPrivate && addresses.FirstOrDefault(IsInternal) is { } inside)
            throw new BlockedAddressException($"{context.DnsEndPoint.Host} is {inside}, an internal address ({LinkCheckOptions.Section}:AllowPrivate is off)");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Loopback, private (RFC 1918, unique local), link-local, carrier-grade NAT, unspecified, multicast.</summary>
    internal static bool IsInternal(IPAddress address)
    {
        address = ClientAddress.Plain(address);
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
            return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast;
        var b = address.GetAddressBytes();
        return b[0] == 10 || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254)
               || (b[0] == 100 && b[1] is >= 64 and <= 127) || b[0] == 0 || b[0] >= 224;
    }

    private sealed class BlockedAddressException(string message) : Exception(message);
}
