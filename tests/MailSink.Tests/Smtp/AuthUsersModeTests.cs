using System.Security.Cryptography;
using System.Text;
using MailSink.Tests.Support;
using static MailSink.Tests.Smtp.AuthTests;

namespace MailSink.Tests.Smtp;

/// <summary>Users mode: only configured users pass, with any mechanism; wrong credentials get 535.</summary>
public sealed class AuthUsersModeTests(AuthUsersModeTests.UsersHost fixture, ITestOutputHelper output)
    : IClassFixture<AuthUsersModeTests.UsersHost>
{
    public sealed class UsersHost() : ConfiguredHost(
            "--MailSink:Smtp:Listeners:0:Port=0", "--MailSink:Smtp:Listeners:0:Tls=StartTls",
            "--MailSink:Smtp:Auth:Mode=Users",
            "--MailSink:Smtp:Auth:AllowInsecure=false",
            "--MailSink:Smtp:Auth:Users:0:Name=alice", "--MailSink:Smtp:Auth:Users:0:Password=wonderland");

    [Fact]
    public async Task Auth_is_neither_offered_nor_accepted_before_tls_when_insecure_auth_is_off()
    {
        await using var client = await RawSmtpClient.ConnectAsync(fixture.Host.SmtpPort, output);
        await client.ReadReplyAsync();
        Assert.DoesNotContain("AUTH", await client.CommandAsync("EHLO me"));
        Assert.Equal("538 Encryption required: send STARTTLS before AUTH", await client.CommandAsync($"AUTH PLAIN {B64("\0alice\0wonderland")}"));
        Assert.Equal("214 AUTH: only after STARTTLS on this server; send STARTTLS, then EHLO, then AUTH", await client.CommandAsync("HELP AUTH"));
    }

    [Theory]
    [InlineData("alice", "wonderland", "235 Authentication succeeded")]
    [InlineData("alice", "wrong", "535 Authentication credentials invalid")]
    [InlineData("mallory", "wonderland", "535 Authentication credentials invalid")]
    public async Task Plain_and_login_check_the_configured_users(string user, string password, string reply)
    {
        await using (var client = await Secured())
            Assert.Equal(reply, await client.CommandAsync($"AUTH PLAIN {B64($"\0{user}\0{password}")}"));

        await using (var client = await Secured())
        {
            Assert.Equal("334 UGFzc3dvcmQ6", await client.CommandAsync($"AUTH LOGIN {B64(user)}"));
            Assert.Equal(reply, await client.CommandAsync(B64(password)));
        }
    }

    [Theory]
    [InlineData("wonderland", "235 Authentication succeeded")]
    [InlineData("wrong", "535 Authentication credentials invalid")]
    public async Task Cram_md5_checks_the_digest_against_the_configured_password(string password, string reply)
    {
        await using var client = await Secured();
        var challenge = Encoding.ASCII.GetString(Convert.FromBase64String((await client.CommandAsync("AUTH CRAM-MD5"))[4..]));
        var digest = Convert.ToHexStringLower(HMACMD5.HashData(Encoding.UTF8.GetBytes(password), Encoding.ASCII.GetBytes(challenge)));
        Assert.Equal(reply, await client.CommandAsync(B64($"alice {digest}")));
    }

    [Fact]
    public async Task After_a_failure_the_session_can_still_authenticate()
    {
        await using var client = await Secured();
        Assert.StartsWith("535", await client.CommandAsync($"AUTH PLAIN {B64("\0alice\0nope")}"));
        Assert.StartsWith("535", await client.CommandAsync($"AUTH PLAIN {B64("\0alice\0nope")}"));
        Assert.Equal("235 Authentication succeeded", await client.CommandAsync($"AUTH PLAIN {B64("\0alice\0wonderland")}"));
    }

    private async Task<RawSmtpClient> Secured()
    {
        var client = await RawSmtpClient.ConnectAsync(fixture.Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        Assert.Equal("220 Ready to start TLS", await client.CommandAsync("STARTTLS"));
        await client.StartTlsAsync();
        Assert.Contains("AUTH LOGIN PLAIN CRAM-MD5", await client.CommandAsync("EHLO me"));
        return client;
    }
}
