using System.Net;

namespace MailSink.Storage;

/// <summary>
/// A client's address as a person knows it. On a dual-stack listener (<c>::</c>, the default for SMTP and
/// HTTP) an IPv4 client arrives as <c>::ffff:a.b.c.d</c>; it is greeted, logged, stored, counted and checked
/// as <c>a.b.c.d</c>, as it would be on an IPv4 listener. SMTP and HTTP alike store it as
/// <see cref="IPEndPoint"/> writes it (<c>127.0.0.1:5000</c>, <c>[::1]:5000</c>), which parses back.
/// </summary>
public static class ClientAddress
{
    public static IPAddress Plain(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>
    /// What the per-address connection cap counts: an IPv4 address, or an IPv6 address's /64 network, which
    /// one machine commonly has whole (counting each of its addresses alone would let it take every slot).
    /// </summary>
    public static IPAddress Network(IPAddress address)
    {
        address = Plain(address);
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            return address;
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes, address.ScopeId); // a link-local network is one per interface
    }

    public static EndPoint? Plain(EndPoint? endPoint) =>
        endPoint is IPEndPoint { Address.IsIPv4MappedToIPv6: true } ip ? new IPEndPoint(ip.Address.MapToIPv4(), ip.Port) : endPoint;
}
