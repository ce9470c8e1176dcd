using System.Net;
using System.Net.Sockets;
using System.Text;
using MailSink.Server;
using MailSink.Server.Smtp;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MailSink.Tests.Smtp;

/// <summary>
/// Every address means IPv6 as well as IPv4 (the defaults, <c>::</c> for SMTP and <c>*</c> for HTTP), so that a
/// client for which <c>localhost</c> is <c>::1</c> gets in; an IPv4 client on that dual-stack socket is still
/// greeted, stored and counted as its IPv4 address, not as <c>::ffff:127.0.0.1</c>.
/// </summary>
public sealed class DualStackTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_defaults_are_every_address_ipv6_and_ipv4()
    {
        using var empty = new TempDirectory();
        await using var app = Program.Build([$"--contentRoot={empty.Path}"]);

        Assert.Equal("::", app.Services.GetRequiredService<IOptions<SmtpOptions>>().Value.BindAddress);
        Assert.Equal("http://*:8025", app.Configuration["Urls"]);
    }

    [Fact]
    public async Task Smtp_and_http_answer_on_ipv6_and_ipv4_loopback_and_each_client_keeps_its_own_address()
    {
        Assert.True(Socket.OSSupportsIPv6, "this test needs IPv6 on the loopback interface");
        await using var host = await MailSinkHost.StartAsync("--MailSink:Smtp:BindAddress=::", "--urls=http://*:0");
        Assert.True(host.Listeners.Bound.All(b => b.EndPoint.Address.Equals(IPAddress.IPv6Any)));

        foreach (var (loopback, shown) in new[] { (IPAddress.IPv6Loopback, "::1"), (IPAddress.Loopback, "127.0.0.1") })
        {
            var inbox = MailSinkHost.NewInbox();
            var tcp = new TcpClient(loopback.AddressFamily) { NoDelay = true };
            await tcp.ConnectAsync(loopback, host.SmtpPort);
            await using (var client = RawSmtpClient.Over(tcp, output))
            {
                await client.PlayAsync($"""
                    S: 220 *
                    C: helo me
                    S: 250 mailsink.localhost Hello me [{shown}], pleased to meet you
                    C: mail from: a@b.example
                    S: 250 *
                    C: rcpt to: x@{inbox}.localhost
                    S: 250 *
                    C: data
                    S: 354 *
                    C: Subject: over {shown}
                    C:
                    C: hi
                    C: .
                    S: 250 OK message stored as *
                    """);
            }

            var message = await host.SingleMessageAsync(inbox);
            var v6 = loopback.AddressFamily == AddressFamily.InterNetworkV6;
            Assert.StartsWith(v6 ? $"[{shown}]:" : $"{shown}:", message.GetProperty("metadata").GetProperty("remoteAddress").GetString());

            using var http = new HttpClient();
            var port = new Uri(host.BaseUrl).Port;
            var url = v6 ? $"http://[::1]:{port}" : $"http://127.0.0.1:{port}";
            using var health = await http.GetAsync($"{url}/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            using var list = await http.GetAsync($"{url}/api/messages?server={inbox}");
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);

            // A message uploaded over HTTP keeps its caller's address in the form SMTP stores, which the
            // deliverability report parses back ("::1:5000" would not parse, or parse as another address).
            var uploaded = MailSinkHost.NewInbox();
            using var content = new ByteArrayContent(Encoding.ASCII.GetBytes($"From: a@b.example\r\nTo: x@{uploaded}.localhost\r\nSubject: up\r\n\r\nhi\r\n"));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("message/rfc822");
            using var upload = await http.PostAsync($"{url}/api/messages/raw", content);
            Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
            var remote = (await host.SingleMessageAsync(uploaded)).GetProperty("metadata").GetProperty("remoteAddress").GetString();
            Assert.StartsWith(v6 ? $"[{shown}]:" : $"{shown}:", remote);
            Assert.True(IPEndPoint.TryParse(remote!, out var parsed) && parsed.Address.Equals(loopback), remote);
        }
    }
}
