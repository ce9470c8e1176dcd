using MailSink.Storage;
using Microsoft.Extensions.Options;

namespace MailSink.Tests.Unit;

/// <summary>Which inbox a recipient lands in: the label directly left of a root domain, else the catch-all.</summary>
public sealed class InboxRouterTests
{
    private static InboxRouter Router(params string[] roots) =>
        new(Options.Create(new RoutingOptions { RootDomains = [.. roots] }));

    [Theory]
    [InlineData("x@abc.localhost", "abc")]
    [InlineData("a@x.abc.localhost", "abc")]
    [InlineData("a@deep.er.x.abc.localhost", "abc")]
    [InlineData("X@ABC.LOCALHOST", "abc")]
    [InlineData("x@Abc.LocalHost", "abc")]
    [InlineData("x@abc.localhost.", "abc")]
    [InlineData("x@my-inbox.localhost", "my-inbox")]
    [InlineData("x@my_inbox.localhost", "my_inbox")]
    [InlineData("x@42.localhost", "42")]
    [InlineData("\"a@b\"@abc.localhost", "abc")]
    [InlineData("jos\u00e9@abc.localhost", "abc")]
    public void A_recipient_under_localhost_lands_in_the_label_left_of_it(string address, string inbox)
    {
        Assert.Equal(inbox, Router().Route(address));
    }

    [Theory]
    [InlineData("root@localhost")]
    [InlineData("root@LOCALHOST.")]
    [InlineData("bob@example.com")]
    [InlineData("bob@abc.localhost.example.com")]
    [InlineData("bob@notlocalhost")]
    [InlineData("bob@abclocalhost")]
    [InlineData("postmaster")]
    [InlineData("a@")]
    [InlineData("")]
    [InlineData("u@[127.0.0.1]")]
    [InlineData("u@[IPv6:::1]")]
    public void Any_other_recipient_lands_in_the_catch_all_inbox(string address)
    {
        Assert.Equal("catchall", Router().Route(address));
    }

    [Fact]
    public void The_catch_all_inbox_is_configurable()
    {
        var router = new InboxRouter(Options.Create(new RoutingOptions { CatchAllInbox = "other" }));

        Assert.Equal("other", router.CatchAllInbox);
        Assert.Equal("other", router.Route("bob@example.com"));
    }

    [Theory]
    [InlineData("x@abc.example.com", "abc")]
    [InlineData("x@abc.mail.example.com", "abc")]
    [InlineData("x@a.b.mail.example.com", "b")]
    [InlineData("x@example.com", "catchall")]
    [InlineData("x@mail.example.com", "catchall")]
    [InlineData("x@MAIL.example.com.", "catchall")]
    [InlineData("x@a!b.mail.example.com", "catchall")]
    [InlineData("x@abc.localhost", "catchall")]
    public void With_custom_roots_the_longest_matching_root_decides(string address, string inbox)
    {
        Assert.Equal(inbox, Router("example.com", "mail.example.com").Route(address));
        Assert.Equal(inbox, Router("mail.example.com", "example.com").Route(address));
    }

    [Fact]
    public void Custom_roots_replace_localhost_and_may_include_it_again()
    {
        var router = Router("mailosaur.net", "localhost");

        Assert.Equal("abc", router.Route("x@abc.mailosaur.net"));
        Assert.Equal("def", router.Route("x@def.localhost"));
        Assert.Equal("catchall", Router("mailosaur.net").Route("x@def.localhost"));
    }

    [Theory]
    [InlineData("EXAMPLE.COM")]
    [InlineData("example.com.")]
    [InlineData(" example.com ")]
    [InlineData(".example.com")]
    public void Root_domains_are_normalised_like_addresses(string root)
    {
        Assert.Equal("abc", Router(root).Route("x@abc.example.com"));
    }

    [Fact]
    public void Duplicate_roots_do_no_harm()
    {
        Assert.Equal("abc", Router("localhost", "LOCALHOST", "localhost.").Route("x@abc.localhost"));
    }

    [Fact]
    public void A_punycode_label_and_its_unicode_form_land_in_the_same_inbox_named_in_ascii()
    {
        var router = Router();

        var fromPunycode = router.Route("x@xn--bcher-kva.localhost");
        var fromUnicode = router.Route("x@b\u00fccher.localhost");
        var fromUpperUnicode = router.Route("x@B\u00dcCHER.localhost");

        Assert.Equal("xn--bcher-kva", fromPunycode);
        Assert.Equal(fromPunycode, fromUnicode);
        Assert.Equal(fromPunycode, fromUpperUnicode);
    }

    [Fact]
    public void A_look_alike_label_is_shown_as_the_ascii_form_it_is()
    {
        // Cyrillic "\u0430\u0440\u0440\u04cf\u0435" reads as "apple": its inbox is named by what it really is.
        Assert.Equal("xn--80ak6aa92e", Router().Route("x@\u0430\u0440\u0440\u04cf\u0435.localhost"));
        Assert.Equal("xn--80ak6aa92e", Router().Route("x@xn--80ak6aa92e.localhost"));
    }

    [Fact]
    public void A_label_with_bidi_controls_is_no_inbox()
    {
        // U+202E RIGHT-TO-LEFT OVERRIDE would make the name read backwards: not a valid name, so the catch-all.
        Assert.Equal("catchall", Router().Route("x@abc\u202edef.localhost"));
    }

    [Fact]
    public void A_decomposed_unicode_label_lands_in_the_same_inbox_as_its_composed_form()
    {
        // "bu" + COMBINING DIAERESIS is the same name as "b\u00fc", as IDNA treats it.
        Assert.Equal("xn--bcher-kva", Router().Route("x@bu\u0308cher.localhost"));
        Assert.Equal("abc", Router("bu\u0308cher.example").Route("x@abc.b\u00fccher.example"));
    }

    [Fact]
    public void A_unicode_root_matches_its_punycode_spelling()
    {
        var router = Router("b\u00fccher.example");

        Assert.Equal("abc", router.Route("x@abc.xn--bcher-kva.example"));
        Assert.Equal("abc", Router("xn--bcher-kva.example").Route("x@abc.b\u00fccher.example"));
    }

    [Fact]
    public void Invalid_punycode_is_kept_as_written()
    {
        Assert.Equal("xn--zz-", InboxRouter.NormalizeDomain("XN--ZZ-"));
    }

    [Theory]
    [InlineData("x@a+b.localhost")]
    [InlineData("x@a!b.localhost")]
    [InlineData("x@a/b.localhost")]
    public void A_label_that_is_not_a_valid_inbox_id_goes_to_the_catch_all(string address)
    {
        Assert.Equal("catchall", Router().Route(address));
    }

    [Fact]
    public void A_label_too_long_for_an_inbox_id_goes_to_the_catch_all()
    {
        Assert.Equal(new string('a', 63), Router().Route($"x@{new string('a', 63)}.localhost"));
        Assert.Equal("catchall", Router().Route($"x@{new string('a', 64)}.localhost"));
    }

    [Theory]
    [InlineData("abc", true)]
    [InlineData("catchall", true)]
    [InlineData("xn--bcher-kva", true)]
    [InlineData("b\u00fccher", false)]
    [InlineData("a-b_c9", true)]
    [InlineData("", false)]
    [InlineData("a.b", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    [InlineData("a@b", false)]
    public void Inbox_ids_are_single_labels(string id, bool valid)
    {
        Assert.Equal(valid, InboxRouter.IsValidInboxId(id));
    }

    [Theory]
    [InlineData("Example.COM.", "example.com")]
    [InlineData("  example.com  ", "example.com")]
    [InlineData("[127.0.0.1]", "[127.0.0.1]")]
    [InlineData("[IPv6:::1]", "[ipv6:::1]")]
    [InlineData("XN--BCHER-KVA.example", "xn--bcher-kva.example")]
    [InlineData("b\u00fccher.example", "xn--bcher-kva.example")]
    [InlineData(".example.com", "example.com")]
    [InlineData("bu\u0308cher.example", "xn--bcher-kva.example")]
    [InlineData("a\ud800.example", "a\ud800.example")]
    public void Domains_have_one_spelling(string domain, string expected)
    {
        Assert.Equal(expected, InboxRouter.NormalizeDomain(domain));
    }
}
