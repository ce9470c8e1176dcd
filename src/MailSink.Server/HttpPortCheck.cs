using System.Net;
using System.Net.Sockets;

namespace MailSink.Server;

/// <summary>
/// Tries the HTTP addresses (<c>--urls</c>) before anything else starts. Kestrel binds them last, after the
/// store is open, so a taken port used to fail a start that had already opened the live database and said
/// so; now such a start stops first, with one line naming the address, as a taken SMTP port does.
/// Registered first, so that its <see cref="StartingAsync"/> runs before every other service's.
/// </summary>
internal sealed class HttpPortCheck(IConfiguration configuration) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        foreach (var url in (configuration[WebHostDefaults.ServerUrlsKey] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TryEndPoint(url, out var endpoint) || endpoint.Port == 0)
                continue;
            using var probe = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (endpoint.Address.Equals(IPAddress.IPv6Any))
                    probe.DualMode = true; // as Kestrel binds it: a port IPv4 has taken is taken for it too
                probe.Bind(endpoint);
                probe.Listen();
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                // Worded as Kestrel words it, so that StartupGuard gives the one line it gives for Kestrel's.
                throw new IOException($"Failed to bind to address {url}: address already in use.", ex);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The address to try: an IP literal, or for <c>*</c> and <c>+</c> what Kestrel binds for them (<c>::</c> as
    /// one dual-stack socket, or IPv4's any address on a machine without IPv6); names (localhost…) are left to Kestrel.
    /// </summary>
    private static bool TryEndPoint(string url, out IPEndPoint endpoint)
    {
        endpoint = null!;
        try
        {
            var address = BindingAddress.Parse(url);
            var host = address.Host.Trim('[', ']');
            var ip = host is "*" or "+"
                ? Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any
                : IPAddress.TryParse(host, out var parsed) ? parsed : null;
            if (ip is null)
                return false;
            endpoint = new IPEndPoint(ip, address.Port);
            return true;
        }
        catch (FormatException)
        {
            return false; // Kestrel says what is wrong with it
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
