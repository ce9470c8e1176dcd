using System.Net;
using System.Net.Sockets;

namespace MailSink.Tests.Support;

/// <summary>
/// Ports of 127.0.0.1 the test holds for as long as it keeps the returned socket, so that nothing else can
/// take them meanwhile (a port found free and released at once may be someone else's a moment later).
/// </summary>
public static class HeldPorts
{
    /// <summary>A port a socket of the test listens on: taken, as a server already running would have it.</summary>
    public static Socket Listening(out int port)
    {
        var held = Bound(out port);
        held.Listen();
        return held;
    }

    /// <summary>A port a socket of the test listens on at IPv6's loopback address only (<c>[::1]</c>).</summary>
    public static Socket ListeningOnIPv6Loopback(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        socket.Listen();
        return socket;
    }

    /// <summary>A port bound but never listened on: every connection to it is refused, as to a server that is down.</summary>
    public static Socket Refusing(out int port) => Bound(out port);

    /// <summary>A UDP port bound and never read: datagrams sent there are taken and never answered, as by a DNS server that hangs.</summary>
    public static Socket SilentUdp(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }

    private static Socket Bound(out int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        return socket;
    }
}
