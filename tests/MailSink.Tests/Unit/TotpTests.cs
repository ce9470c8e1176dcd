using System.Text;
using MailSink.Api;

namespace MailSink.Tests.Unit;

/// <summary>One-time passwords against RFC 6238's published vectors and an independent computation.</summary>
public sealed class TotpTests
{
    /// <summary>RFC 6238 Appendix B, the SHA-1 column: the 20-byte ASCII secret "12345678901234567890", 8 digits.</summary>
    [Theory]
    [InlineData(59L, "94287082")]
    [InlineData(1111111109L, "07081804")]
    [InlineData(1111111111L, "14050471")]
    [InlineData(1234567890L, "89005924")]
    [InlineData(2000000000L, "69279037")]
    [InlineData(20000000000L, "65353130")]
    public void Rfc_6238_test_vectors(long unixSeconds, string expected)
    {
        var (code, _) = Totp.Compute(Encoding.ASCII.GetBytes("12345678901234567890"), unixSeconds, digits: 8);
        Assert.Equal(expected, code);
    }

    /// <summary>
    /// The secret of Mailosaur's client examples, 6 digits as authenticator apps show them; the codes were
    /// computed with Python's hmac module, apart from this code.
    /// </summary>
    [Theory]
    [InlineData(1700000000L, "799490", 1700000010L)]
    [InlineData(1767225600L, "688872", 1767225630L)]
    public void The_clients_example_secret_gives_what_an_authenticator_app_shows(long unixSeconds, string expected, long expires)
    {
        Assert.True(Totp.TryDecodeBase32("ONSWG4TFOQYTEMY=", out var secret));
        Assert.Equal("secret123", Encoding.ASCII.GetString(secret));
        var (code, until) = Totp.Compute(secret, unixSeconds);
        Assert.Equal(expected, code);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(expires), until);
    }

    [Theory]
    [InlineData("onswg4tfoqytemy", "secret123")]
    [InlineData("ONSW G4TF OQYT EMY=", "secret123")]
    [InlineData("JBSWY3DPEHPK3PXP", "Hello!\u00de\u00ad\u00be\u00ef")]
    public void Base32_is_read_in_any_case_with_spaces_and_padding(string text, string expected)
    {
        Assert.True(Totp.TryDecodeBase32(text, out var bytes));
        Assert.Equal(expected, Encoding.Latin1.GetString(bytes));
    }

    [Theory]
    [InlineData("")]
    [InlineData("====")]
    [InlineData("not base32!")]
    [InlineData("ABC1")] // 1 is not in the alphabet
    public void What_is_not_base32_is_refused(string text) => Assert.False(Totp.TryDecodeBase32(text, out _));
}
