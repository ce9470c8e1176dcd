using System.Net;
using System.Net.Sockets;
using MailSink.Storage;
using Microsoft.Extensions.Options;

namespace MailSink.Api;

/// <summary>
/// Every HTTP request (API, web UI, <c>/health</c>) must name MailSink by a host it answers to. Without
/// this, a web page on <c>evil.example</c> can point that name's DNS at 127.0.0.1 (DNS rebinding): the
/// browser then treats MailSink as the page's own origin, and the page reads all mail. A rebound request
/// still says <c>Host: evil.example</c>, which is refused here with a 400 naming the setting that allows it.
/// </summary>
/// <remarks>
/// Always accepted, because no attacker's page can bring a browser to send them for a name the attacker
/// controls: <c>localhost</c> and names under it (browsers resolve those to loopback themselves), IP
/// literals, and single-label names (a container's service name such as <c>mailsink</c>, resolved from the
/// local search domain). Also accepted: the SMTP server name and <see cref="ApiOptions.AllowedHosts"/>,
/// where <c>*.example.com</c> takes the names under example.com (not example.com itself) and <c>*</c>
/// turns the check off. The port is ignored, case too, and one final dot. A request without a Host (HTTP/1.0)
/// passes: browsers always send one.
/// </remarks>
internal sealed class HostCheckMiddleware
{
    private readonly RequestDelegate _next;
    private readonly bool _anyHost;
    private readonly HashSet<string> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _suffixes = [];

    public HostCheckMiddleware(RequestDelegate next, IOptions<ApiOptions> options)
    {
        _next = next;
        foreach (var entry in options.Value.AllowedHosts)
        {
            var host = entry.TrimEnd('.');
            if (host == "*")
                _anyHost = true;
            else if (host.StartsWith("*.", StringComparison.Ordinal))
                _suffixes.Add(host[1..]); // ".example.com"
            else
                _names.Add(host);
        }
    }

    public Task InvokeAsync(HttpContext context)
    {
        string host;
        try
        {
            host = context.Request.Host.Host; // without the port; IPv6 in brackets; a punycode name decoded
        }
        catch (ArgumentException)
        {
            // A name whose punycode does not decode (Host: xn--a) throws as ASP.NET reads it: a 500 and a
            // stack trace in the log for every such request, before any key check.
            return ApiErrors.BadRequest("Host", $"Host '{QuotedText.Printable(context.Request.Headers.Host.ToString(), 100)}' is not a valid host name.").ExecuteAsync(context);
        }

        if (Allows(host))
            return _next(context);

        return ApiErrors.BadRequest(
                "Host",
                $"Host '{host}' is not allowed. MailSink answers to localhost, IP addresses, single-label names, its SMTP server name " +
                "and the names in the setting MailSink:Api:AllowedHosts, so that a web page cannot reach it through DNS rebinding. " +
                $"To use this name, add it to MailSink:Api:AllowedHosts (for example --MailSink:Api:AllowedHosts:0={host}).")
            .ExecuteAsync(context);
    }

    internal bool Allows(string host)
    {
        if (_anyHost || host.Length == 0)
            return true;
        if (host[0] == '[')
            return host[^1] == ']' && IPAddress.TryParse(host.AsSpan(1, host.Length - 2), out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6;

        var name = host.EndsWith('.') ? host[..^1] : host;
        if (name.Length == 0 || name.StartsWith('.'))
            return false;
        if (!name.Contains('.') || IsIPv4(name))
            return true;
        if (name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) || _names.Contains(name))
            return true;
        foreach (var suffix in _suffixes)
        {
            if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                return true;
        }

        return false;
    }

    /// <summary>Four decimal numbers: what a browser sends for an IPv4 address (it writes any other form of one so).</summary>
    private static bool IsIPv4(string name) =>
        name.Count(c => c == '.') == 3
        && name.All(c => char.IsAsciiDigit(c) || c == '.')
        && IPAddress.TryParse(name, out var address)
        && address.AddressFamily == AddressFamily.InterNetwork;
}
