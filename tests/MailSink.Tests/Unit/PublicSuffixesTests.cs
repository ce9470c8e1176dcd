using MailSink.Api.Analysis.Deliverability;

namespace MailSink.Tests.Unit;

/// <summary>Organisational domains by the Public Suffix List, including its wildcard and exception rules.</summary>
public sealed class PublicSuffixesTests
{
    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("mail.example.com", "example.com")]
    [InlineData("a.b.mail.example.com", "example.com")]
    [InlineData("example.co.uk", "example.co.uk")]
    [InlineData("mail.example.co.uk", "example.co.uk")]
    [InlineData("co.uk", "co.uk")]                           // a public suffix is its own
    [InlineData("shop.example.com.au", "example.com.au")]
    [InlineData("a.b.example.ck", "b.example.ck")]            // *.ck: every name under ck is a suffix
    [InlineData("www.ck", "www.ck")]                          // !www.ck: the exception
    [InlineData("sub.www.ck", "www.ck")]
    [InlineData("MAIL.Example.COM.", "example.com")]
    [InlineData("brand.unknowntld", "brand.unknowntld")]      // no rule: the last label is the suffix
    [InlineData("x.brand.unknowntld", "brand.unknowntld")]
    public void The_organisational_domain_is_the_public_suffix_and_one_label(string domain, string expected) =>
        Assert.Equal(expected, PublicSuffixes.OrganisationalDomain(domain));
}
