using System.Net;
using System.Security.Cryptography;
using System.Text;
using MailKit.Security;
using MailSink.Tests.Support;

namespace MailSink.Tests.Smtp;

/// <summary>AUTH PLAIN, LOGIN and CRAM-MD5 in AcceptAny mode, with MailKit and by hand.</summary>
public sealed class AuthTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    public static TheoryData<string> Mechanisms => ["PLAIN", "LOGIN", "CRAM-MD5"];

    [Theory]
    [MemberData(nameof(Mechanisms))]
    public async Task Each_mechanism_authenticates_with_mailkit_and_the_user_is_recorded(string mechanism)
    {
        var inbox = MailSinkHost.NewInbox();
        var credentials = new NetworkCredential($"user-{mechanism}", "any password");
        using (var client = MailKitClients.Create(output))
        {
            await client.ConnectAsync("127.0.0.1", Host.SmtpPort, SecureSocketOptions.StartTls);
            SaslMechanism sasl = mechanism switch
            {
                "PLAIN" => new SaslMechanismPlain(credentials),
                "LOGIN" => new SaslMechanismLogin(credentials),
                _ => new SaslMechanismCramMd5(credentials),
            };
            await client.AuthenticateAsync(sasl);
            await client.SendAsync(TlsTests.Message(inbox, mechanism));
            await client.DisconnectAsync(true);
        }

        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal($"user-{mechanism}", message.GetProperty("metadata").GetProperty("authenticatedUser").GetString());
    }

    [Fact]
    public async Task Plain_works_with_an_initial_response_and_with_a_continuation()
    {
        var response = B64("\0alice\0secret");
        await using (var client = await Connected())
            Assert.Equal("235 Authentication succeeded", await client.CommandAsync($"AUTH PLAIN {response}"));

        await using (var client = await Connected())
        {
            await client.PlayAsync($"""
                C: auth plain
                S: 334 
                C: {response}
                S: 235 Authentication succeeded
                C: auth plain {response}
                S: 503 Already authenticated
                """);
        }
    }

    [Fact]
    public async Task Login_works_with_an_initial_response_and_with_continuations()
    {
        await using (var client = await Connected())
        {
            await client.PlayAsync($"""
                C: AUTH LOGIN {B64("bob")}
                S: 334 UGFzc3dvcmQ6
                C: {B64("pw")}
                S: 235 Authentication succeeded
                """);
        }

        await using (var client = await Connected())
        {
            await client.PlayAsync($"""
                C: AUTH LOGIN
                S: 334 VXNlcm5hbWU6
                C: {B64("bob")}
                S: 334 UGFzc3dvcmQ6
                C: {B64("pw")}
                S: 235 Authentication succeeded
                """);
        }
    }

    [Fact]
    public async Task Cram_md5_works_by_hand()
    {
        await using var client = await Connected();
        var challengeReply = await client.CommandAsync("AUTH CRAM-MD5");
        Assert.StartsWith("334 ", challengeReply);
        var challenge = Encoding.ASCII.GetString(Convert.FromBase64String(challengeReply[4..]));
        Assert.Matches(@"^<\d+\.\d+@mailsink\.localhost>$", challenge);
        var digest = Convert.ToHexStringLower(HMACMD5.HashData("pw"u8, Encoding.ASCII.GetBytes(challenge)));
        Assert.Equal("235 Authentication succeeded", await client.CommandAsync(B64($"carol {digest}")));
    }

    [Theory]
    [InlineData("AUTH PLAIN")]
    [InlineData("AUTH LOGIN")]
    [InlineData("AUTH CRAM-MD5")]
    public async Task A_star_cancels_with_501_and_the_session_goes_on(string command)
    {
        await using var client = await Connected();
        Assert.StartsWith("334", await client.CommandAsync(command));
        Assert.Equal("501 Authentication cancelled", await client.CommandAsync("*"));
        Assert.Equal("250 OK", await client.CommandAsync("NOOP"));
        Assert.Equal("235 Authentication succeeded", await client.CommandAsync($"AUTH PLAIN {B64("\0a\0b")}"));
    }

    [Theory]
    [InlineData("AUTH PLAIN !!!notbase64!!!", null, "AUTH PLAIN takes base64 of a NUL, the user name, a NUL and the password (user me, password x: AUTH PLAIN AG1lAHg=)")]
    [InlineData("AUTH PLAIN me x", null, "AUTH PLAIN takes base64 of a NUL, the user name, a NUL and the password (user me, password x: AUTH PLAIN AG1lAHg=)")]
    [InlineData("AUTH PLAIN", "@@@", "AUTH PLAIN takes base64 of a NUL, the user name, a NUL and the password (user me, password x: AUTH PLAIN AG1lAHg=)")]
    [InlineData("AUTH LOGIN", "%%%", "type the user name in base64 (%%% is JSUl)")]
    [InlineData("AUTH LOGIN", "me", "type the user name in base64 (me is bWU=)")]
    [InlineData("AUTH LOGIN", "a user", "type the user name in base64")]
    [InlineData("AUTH LOGIN bm90LWJhc2U2NA===", null, "type the user name in base64 (bm90LWJhc2U2NA=== is Ym05MExXSmhjMlUyTkE9PT0=)")]
    [InlineData("AUTH CRAM-MD5", "not base64 at all", "type base64 of the user name, a space and the challenge's HMAC-MD5 in hex, keyed with the password")]
    public async Task Invalid_base64_gets_501_saying_what_to_type_never_a_dropped_connection(string command, string? continuation, string wanted)
    {
        await using var client = await Connected();
        var reply = await client.CommandAsync(command);
        if (continuation is not null)
        {
            Assert.StartsWith("334", reply);
            reply = await client.CommandAsync(continuation);
        }

        Assert.Equal($"501 Invalid base64 data in the AUTH response: {wanted}", reply);
        Assert.Equal("250 OK", await client.CommandAsync("NOOP"));
    }

    /// <summary>The example a 501 gives is right: typed as it is, it logs in (any credentials are taken here).</summary>
    [Fact]
    public async Task The_examples_in_the_501s_work_when_typed()
    {
        await using (var client = await Connected())
            Assert.Equal("235 Authentication succeeded", await client.CommandAsync("AUTH PLAIN AG1lAHg="));

        await using (var client = await Connected())
        {
            Assert.StartsWith("334 ", await client.CommandAsync("AUTH LOGIN"));
            Assert.StartsWith("501 Invalid base64 data in the AUTH response: type the user name in base64 (me is bWU=)", await client.CommandAsync("me"));
            Assert.StartsWith("334 ", await client.CommandAsync("AUTH LOGIN"));
            Assert.StartsWith("334 ", await client.CommandAsync("bWU="));
            Assert.Equal("501 Invalid base64 data in the AUTH response: type the password in base64 (x is eA==)", await client.CommandAsync("x"));
            Assert.StartsWith("334 ", await client.CommandAsync("AUTH LOGIN bWU="));
            Assert.Equal("235 Authentication succeeded", await client.CommandAsync("eA=="));
        }
    }

    [Theory]
    [InlineData("AUTH", "501 Syntax: AUTH mechanism [initial-response]; mechanisms: PLAIN LOGIN CRAM-MD5")]
    [InlineData("AUTH XOAUTH2 abc", "504 Unrecognized authentication mechanism XOAUTH2; use one of: PLAIN LOGIN CRAM-MD5")]
    [InlineData("AUTH PLAIN AGFsaWNl", "501 Malformed PLAIN response: expected base64 of authzid NUL user NUL password")]
    [InlineData("AUTH CRAM-MD5 abc", "501 CRAM-MD5 takes no initial response")]
    public async Task Malformed_auth_commands_get_clear_errors(string command, string reply)
    {
        await using var client = await Connected();
        Assert.Equal(reply, await client.CommandAsync(command));
        Assert.Equal("250 OK", await client.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task On_an_auth_required_listener_mail_before_auth_gets_530()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await RawSmtpClient.ConnectAsync(Host.AuthRequiredPort, output);
        await client.PlayAsync($"""
            S: 220 *
            C: EHLO me
            S: 250-*
            S: *
            C: MAIL FROM:<a@b.example>
            S: 530 Authentication required: this port takes mail only after AUTH
            C: AUTH PLAIN {B64("\0dave\0pw")}
            S: 235 Authentication succeeded
            C: MAIL FROM:<a@b.example>
            S: 250 sender a@b.example OK
            C: RCPT TO:<x@{inbox}.localhost>
            S: 250 *
            C: DATA
            S: 354 *
            C: Subject: after auth
            C:
            C: .
            S: 250 OK message stored as *
            """);

        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal("dave", message.GetProperty("metadata").GetProperty("authenticatedUser").GetString());
    }

    private async Task<RawSmtpClient> Connected()
    {
        var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        return client;
    }

    internal static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
