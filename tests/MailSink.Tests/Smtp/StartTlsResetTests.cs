using System.Text;
using MailSink.Tests.Support;

namespace MailSink.Tests.Smtp;

/// <summary>
/// RFC 3207 section 4.2: after the TLS handshake the server forgets everything the client told it before
/// (EHLO name, AUTH, any transaction). A man in the middle who authenticates a session as himself before
/// the victim's client turns to TLS must not have the victim's mail stored as his.
/// </summary>
public sealed class StartTlsResetTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    private static string Plain(string user, string password) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));

    [Fact]
    public async Task Auth_and_ehlo_given_before_starttls_are_forgotten_after_it()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO attacker-box");
        Assert.Equal("235 Authentication succeeded", await client.CommandAsync($"AUTH PLAIN {Plain("attacker", "x")}"));
        Assert.Equal("220 Ready to start TLS", await client.CommandAsync("STARTTLS"));
        await client.StartTlsAsync();

        // Nothing of the plain-text session is left: MAIL needs a new EHLO, as in Postfix.
        Assert.Equal("503 Send EHLO or HELO first (for example: EHLO my-laptop)", await client.CommandAsync("MAIL FROM:<victim@example.com>"));
        Assert.StartsWith("250-", await client.CommandAsync("EHLO victim-laptop"));
        Assert.Equal("250 sender victim@example.com OK", await client.CommandAsync("MAIL FROM:<victim@example.com>"));
        Assert.StartsWith("250 ", await client.CommandAsync($"RCPT TO:<a@{inbox}.localhost>"));
        Assert.StartsWith("354 ", await client.CommandAsync("DATA"));
        Assert.StartsWith("250 OK message stored as", await client.CommandAsync("Subject: after TLS\r\n\r\nbody\r\n."));

        var metadata = (await Host.SingleMessageAsync(inbox)).GetProperty("metadata");
        Assert.Equal("victim-laptop", metadata.GetProperty("ehlo").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, metadata.GetProperty("authenticatedUser").ValueKind);
    }

    [Fact]
    public async Task A_client_can_authenticate_again_after_starttls_and_its_own_user_is_stored()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO attacker-box");
        Assert.Equal("235 Authentication succeeded", await client.CommandAsync($"AUTH PLAIN {Plain("attacker", "x")}"));
        await client.CommandAsync("STARTTLS");
        await client.StartTlsAsync();
        await client.CommandAsync("EHLO victim-laptop");

        // Before the fix this was "503 Already authenticated": the attacker's login survived the handshake.
        Assert.Equal("235 Authentication succeeded", await client.CommandAsync($"AUTH PLAIN {Plain("victim", "secret")}"));
        await client.CommandAsync("MAIL FROM:<victim@example.com>");
        await client.CommandAsync($"RCPT TO:<a@{inbox}.localhost>");
        await client.CommandAsync("DATA");
        Assert.StartsWith("250 OK message stored as", await client.CommandAsync("Subject: mine\r\n\r\nbody\r\n."));

        var metadata = (await Host.SingleMessageAsync(inbox)).GetProperty("metadata");
        Assert.Equal("victim", metadata.GetProperty("authenticatedUser").GetString());
        Assert.Equal("victim-laptop", metadata.GetProperty("ehlo").GetString());
    }
}

/// <summary>A STARTTLS listener that takes mail only after AUTH: a login from before TLS does not count after it.</summary>
public sealed class StartTlsAuthRequiredHost() : ConfiguredHost(
    "--MailSink:Smtp:Listeners:0:Port=0", "--MailSink:Smtp:Listeners:0:Tls=StartTls", "--MailSink:Smtp:Listeners:0:Auth=Required");

public sealed class StartTlsResetAuthRequiredTests(StartTlsAuthRequiredHost fixture, ITestOutputHelper output) : IClassFixture<StartTlsAuthRequiredHost>
{
    [Fact]
    public async Task An_auth_required_listener_asks_for_auth_again_after_starttls()
    {
        await using var client = await RawSmtpClient.ConnectAsync(fixture.Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO attacker-box");
        Assert.Equal("235 Authentication succeeded",
            await client.CommandAsync($"AUTH PLAIN {Convert.ToBase64String(Encoding.UTF8.GetBytes("\0attacker\0x"))}"));
        await client.CommandAsync("STARTTLS");
        await client.StartTlsAsync();
        await client.CommandAsync("EHLO victim-laptop");

        Assert.Equal("530 Authentication required: this port takes mail only after AUTH", await client.CommandAsync("MAIL FROM:<victim@example.com>"));
        Assert.Equal("235 Authentication succeeded",
            await client.CommandAsync($"AUTH PLAIN {Convert.ToBase64String(Encoding.UTF8.GetBytes("\0victim\0y"))}"));
        Assert.Equal("250 sender victim@example.com OK", await client.CommandAsync("MAIL FROM:<victim@example.com>"));
    }
}
