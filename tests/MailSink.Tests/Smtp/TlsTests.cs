using System.Security.Authentication;
using MailKit.Security;
using MailSink.Tests.Support;
using MimeKit;

namespace MailSink.Tests.Smtp;

/// <summary>STARTTLS and implicit TLS, TLS 1.2 and 1.3, with a real client (MailKit) and a raw one.</summary>
public sealed class TlsTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    [Theory]
    [InlineData(SslProtocols.Tls12, "Tls12")]
    [InlineData(SslProtocols.Tls13, "Tls13")]
    public async Task Starttls_works_with_tls_1_2_and_1_3(SslProtocols protocol, string recorded)
    {
        var inbox = MailSinkHost.NewInbox();
        using (var client = MailKitClients.Create(output))
        {
            client.SslProtocols = protocol;
            await client.ConnectAsync("127.0.0.1", Host.SmtpPort, SecureSocketOptions.StartTls);
            Assert.True(client.IsSecure);
            await client.SendAsync(Message(inbox, $"over {recorded}"));
            await client.DisconnectAsync(true);
        }

        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal(recorded, message.GetProperty("metadata").GetProperty("tls").GetString());
    }

    [Theory]
    [InlineData(SslProtocols.Tls12, "Tls12")]
    [InlineData(SslProtocols.Tls13, "Tls13")]
    public async Task Implicit_tls_works_with_tls_1_2_and_1_3(SslProtocols protocol, string recorded)
    {
        var inbox = MailSinkHost.NewInbox();
        using (var client = MailKitClients.Create(output))
        {
            client.SslProtocols = protocol;
            await client.ConnectAsync("127.0.0.1", Host.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
            await client.SendAsync(Message(inbox, "implicit"));
            await client.DisconnectAsync(true);
        }

        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal(recorded, message.GetProperty("metadata").GetProperty("tls").GetString());
    }

    [Fact]
    public async Task Starttls_is_advertised_only_before_tls_and_plain_text_pipelined_after_it_is_dropped()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        Assert.Contains("250-STARTTLS", await client.CommandAsync("EHLO me"));

        // A man in the middle appends a command after STARTTLS in the same packet: it must not run.
        await client.SendAsync("STARTTLS\r\nMAIL FROM:<injected@evil.example>");
        Assert.Equal("220 Ready to start TLS", await client.ReadReplyAsync());
        await client.StartTlsAsync();

        var ehlo = await client.CommandAsync("EHLO me");
        Assert.DoesNotContain("STARTTLS", ehlo);
        Assert.Contains("AUTH LOGIN PLAIN CRAM-MD5", ehlo);
        Assert.Equal("503 TLS is already active", await client.CommandAsync("STARTTLS"));
        Assert.Equal("250 sender real@good.example OK", await client.CommandAsync("MAIL FROM:<real@good.example>"));
    }

    [Fact]
    public async Task Starttls_is_refused_where_it_is_not_offered()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.AuthRequiredPort, output);
        await client.ReadReplyAsync();
        Assert.DoesNotContain("STARTTLS", await client.CommandAsync("EHLO me"));
        Assert.Equal("502 STARTTLS is not offered on this port", await client.CommandAsync("STARTTLS"));
        Assert.Equal("250 OK", await client.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task Help_lists_starttls_only_where_it_works()
    {
        await using (var plain = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output))
        {
            await plain.ReadReplyAsync();
            Assert.Contains("HELP STARTTLS AUTH", await plain.CommandAsync("HELP"));
            await plain.CommandAsync("EHLO me");
            await plain.CommandAsync("STARTTLS");
            await plain.StartTlsAsync();
            Assert.Contains("Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP AUTH\n", await plain.CommandAsync("HELP")); // TLS already on
            Assert.Equal("214 STARTTLS: not needed, this session is encrypted already", await plain.CommandAsync("HELP STARTTLS"));
        }

        await using var implicitTls = await RawSmtpClient.ConnectAsync(Host.ImplicitTlsPort, output, implicitTls: true);
        await implicitTls.ReadReplyAsync();
        var help = await implicitTls.CommandAsync("HELP");
        Assert.DoesNotContain("STARTTLS", help);
        Assert.Contains("Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP AUTH\n", help);
        Assert.Equal("214 STARTTLS: not needed, this session is encrypted already", await implicitTls.CommandAsync("help starttls"));
    }

    internal static MimeMessage Message(string inbox, string subject)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Sender", "sender@example.com"));
        message.To.Add(new MailboxAddress("Test", $"test@{inbox}.localhost"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = $"Body of {subject}" };
        return message;
    }
}
