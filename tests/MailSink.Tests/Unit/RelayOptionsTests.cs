using MailSink.Api.Outgoing;

namespace MailSink.Tests.Unit;

/// <summary>Which recipients a relay allows, and which settings stop the start.</summary>
public sealed class RelayOptionsTests
{
    [Theory]
    [InlineData("*@example.com", "alice@example.com", true)]
    [InlineData("*@example.com", "Alice@EXAMPLE.com", true)]
    [InlineData("*@example.com", "alice@example.org", false)]
    [InlineData("*@example.com", "alice@sub.example.com", false)]
    [InlineData("*@*.example.com", "alice@sub.example.com", true)]
    [InlineData("*@example.com", "alice@example.com.evil.net", false)]
    [InlineData("qa-*@example.org", "qa-42@example.org", true)]
    [InlineData("qa-*@example.org", "dev-42@example.org", false)]
    [InlineData("alice@example.net", "alice@example.net", true)]
    [InlineData("alice@example.net", "malice@example.net", false)]
    public void Patterns_match_whole_addresses_in_any_case(string pattern, string address, bool allowed) =>
        Assert.Equal(allowed, RelayOptions.Matches(pattern, address));

    [Fact]
    public void A_relay_allows_only_what_its_patterns_match()
    {
        var relay = new RelayOptions { Host = "smtp.example.com", AllowedRecipients = ["*@example.com", "ops@example.org"] };
        Assert.True(relay.Allows("x@example.com"));
        Assert.True(relay.Allows("ops@example.org"));
        Assert.False(relay.Allows("x@example.org"));
        Assert.False(new RelayOptions { Host = "smtp.example.com" }.Allows("x@example.com"));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("*@*")]
    [InlineData("*@*.*")]
    [InlineData("example.com")]
    [InlineData(" ")]
    public void A_pattern_that_would_make_an_open_relay_stops_the_start(string pattern)
    {
        var result = new RelayOptionsValidator().Validate(null, new RelayOptions { Host = "smtp.example.com", AllowedRecipients = [pattern] });
        Assert.True(result.Failed);
        Assert.Contains("MailSink:Relay:AllowedRecipients:0", result.FailureMessage);
    }

    [Fact]
    public void Allowed_recipients_without_a_host_and_a_bad_port_stop_the_start()
    {
        var result = new RelayOptionsValidator().Validate(null, new RelayOptions { Port = 0, AllowedRecipients = ["*@example.com"] });
        Assert.True(result.Failed);
        Assert.Contains("MailSink:Relay:Port", result.FailureMessage);
        Assert.Contains("MailSink:Relay:Host", result.FailureMessage);
        Assert.False(new RelayOptionsValidator().Validate(null, new RelayOptions()).Failed);
    }
}
