using System.Net;
using MailSink.Storage;

namespace MailSink.Tests.Unit;

/// <summary>A client's address as greeted and stored, and as the per-address connection cap counts it.</summary>
public sealed class ClientAddressTests
{
    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3")]
    [InlineData("::1", "::")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::")]
    [InlineData("fe80::1%2", "fe80::%2")]
    [InlineData("fe80::1%3", "fe80::%3")]
    public void The_connection_cap_counts_an_ipv4_address_or_an_ipv6_network(string address, string counted)
    {
        Assert.Equal(IPAddress.Parse(counted), ClientAddress.Network(IPAddress.Parse(address)));
    }

    [Fact]
    public void An_ipv4_client_on_a_dual_stack_socket_is_its_ipv4_address()
    {
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 25), ClientAddress.Plain(new IPEndPoint(IPAddress.Parse("::ffff:10.1.2.3"), 25)));
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 25), ClientAddress.Plain(new IPEndPoint(IPAddress.IPv6Loopback, 25)));
    }
}
