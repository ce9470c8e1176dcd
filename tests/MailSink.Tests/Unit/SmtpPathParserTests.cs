using MailSink.Server.Smtp;

namespace MailSink.Tests.Unit;

/// <summary>What follows <c>MAIL FROM:</c> and <c>RCPT TO:</c>, as people and programs really write it.</summary>
public sealed class SmtpPathParserTests
{
    [Theory]
    [InlineData("a@b.example", "a@b.example")]
    [InlineData("<a@b.example>", "a@b.example")]
    [InlineData("  <a@b.example>", "a@b.example")]
    [InlineData("\t<a@b.example>", "a@b.example")]
    [InlineData("< a@b.example >", "a@b.example")]
    [InlineData("Alice Example <alice@b.example>", "alice@b.example")]
    [InlineData("\"Example, Alice\" <alice@b.example>", "alice@b.example")]
    [InlineData("<@relay.example:a@b.example>", "a@b.example")]
    [InlineData("<@one.example,@two.example:a@b.example>", "a@b.example")]
    [InlineData("\"a b\"@b.example", "\"a b\"@b.example")]
    [InlineData("<\"a b\"@b.example>", "\"a b\"@b.example")]
    [InlineData("<\"a>b\"@b.example>", "\"a>b\"@b.example")]
    [InlineData("\"a\\\"q\"@b.example", "\"a\\\"q\"@b.example")]
    [InlineData("jos\u00e9@b\u00fccher.de", "jos\u00e9@b\u00fccher.de")]
    [InlineData("<\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a>", "\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a")]
    [InlineData("<u@[127.0.0.1]>", "u@[127.0.0.1]")]
    [InlineData("u@[IPv6:::1]", "u@[IPv6:::1]")]
    public void A_mail_from_path_yields_its_one_address(string text, string expected)
    {
        Assert.True(SmtpPathParser.TryParseMailFrom(text, out var result, out var error), error);

        Assert.Equal([expected], result!.Addresses);
        Assert.Empty(result.Parameters);
        Assert.Equal("", error);
    }

    [Theory]
    [InlineData("<>")]
    [InlineData("< >")]
    [InlineData("<> SIZE=10")]
    [InlineData("Nobody <>")]
    public void The_null_sender_is_an_empty_address(string text)
    {
        Assert.True(SmtpPathParser.TryParseMailFrom(text, out var result, out var error), error);

        Assert.Equal([""], result!.Addresses);
    }

    [Fact]
    public void Parameters_after_the_path_are_keys_with_optional_values()
    {
        Assert.True(SmtpPathParser.TryParseMailFrom("<a@b.example> SIZE=1 SMTPUTF8  BODY=8BITMIME", out var result, out var error), error);

        Assert.Equal(["a@b.example"], result!.Addresses);
        Assert.Equal(3, result.Parameters.Count);
        Assert.Equal("1", result.Parameters["SIZE"]);
        Assert.Null(result.Parameters["SMTPUTF8"]);
        Assert.Equal("8BITMIME", result.Parameters["body"]);
    }

    [Theory]
    [InlineData("a@b.example SIZE=1")]
    [InlineData("<a@b.example>SIZE=1")]
    [InlineData("Alice <a@b.example> size=1")]
    public void Parameters_follow_bare_angle_and_named_paths(string text)
    {
        Assert.True(SmtpPathParser.TryParseMailFrom(text, out var result, out var error), error);

        Assert.Equal(["a@b.example"], result!.Addresses);
        Assert.Equal("1", result.Parameters["SIZE"]);
    }

    [Fact]
    public void A_parameter_with_an_empty_value_is_kept_as_empty()
    {
        Assert.True(SmtpPathParser.TryParseMailFrom("<a@b.example> ENVID=", out var result, out _));

        Assert.Equal("", result!.Parameters["ENVID"]);
    }

    /// <summary>What Python's smtplib sends when mail_options name SMTPUTF8 or BODY=8BITMIME, which it adds itself too.</summary>
    [Theory]
    [InlineData("<j\u00f6rg@ex\u00e4mple.de> size=229 SMTPUTF8 SMTPUTF8 BODY=8BITMIME", "SIZE=229 SMTPUTF8 BODY=8BITMIME")]
    [InlineData("<a@b.example> BODY=8BITMIME body=8bitmime SIZE=10 SIZE=10", "BODY=8BITMIME SIZE=10")]
    public void The_same_parameter_twice_with_the_same_value_is_taken_once(string text, string expected)
    {
        Assert.True(SmtpPathParser.TryParseMailFrom(text, out var result, out var error), error);

        Assert.Equal(expected, string.Join(' ', result!.Parameters.Select(p => p.Value is null ? p.Key.ToUpperInvariant() : $"{p.Key.ToUpperInvariant()}={p.Value}")));
    }

    [Theory]
    [InlineData("<a@b.example> SIZE=1 SIZE=2", "Parameter SIZE is given twice, as '1' and as '2'.")]
    [InlineData("<a@b.example> size=1 SIZE=2", "Parameter SIZE is given twice, as '1' and as '2'.")]
    [InlineData("<a@b.example> BODY=7BIT BODY=8BITMIME", "Parameter BODY is given twice, as '7BIT' and as '8BITMIME'.")]
    [InlineData("<a@b.example> SMTPUTF8 SMTPUTF8=yes", "Parameter SMTPUTF8 is given twice, as a flag and as 'yes'.")]
    public void A_parameter_given_twice_with_different_values_is_an_error(string text, string expected)
    {
        Assert.False(SmtpPathParser.TryParseMailFrom(text, out var result, out var error));

        Assert.Null(result);
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("<a@b.example> =1", "'=1' is not an address parameter (KEY or KEY=VALUE).")]
    [InlineData("<a@b.example> SI_ZE=1", "'SI_ZE=1' is not an address parameter (KEY or KEY=VALUE).")]
    [InlineData("<a@b.example> <c@d.example>", "'<c@d.example>' is not an address parameter (KEY or KEY=VALUE).")]
    public void A_malformed_parameter_is_named_in_the_error(string text, string expected)
    {
        Assert.False(SmtpPathParser.TryParseMailFrom(text, out _, out var error));

        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("a b@c.example", "'a' has no domain: write it as name@domain, e.g. test@inbox.localhost.")]
    [InlineData("a@b.example, c@d.example", "The domain of 'a@b.example,' is not valid.")]
    public void A_broken_bare_address_is_explained_rather_than_its_tail_called_a_parameter(string text, string expected)
    {
        Assert.False(SmtpPathParser.TryParseMailFrom(text, out _, out var error));

        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("", "No address given.")]
    [InlineData("   ", "No address given.")]
    [InlineData("<a@b.example", "Missing '>' after the address.")]
    [InlineData("<\"a>@b.example", "Missing '>' after the address.")]
    public void A_missing_path_is_an_error(string text, string expected)
    {
        Assert.False(SmtpPathParser.TryParseMailFrom(text, out var result, out var error));
        Assert.Null(result);
        Assert.Equal(expected, error);

        Assert.False(SmtpPathParser.TryParseRcptTo(text, out _, out error));
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("a@x.localhost, b@y.localhost")]
    [InlineData("a@x.localhost,b@y.localhost")]
    [InlineData("<a@x.localhost>,<b@y.localhost>")]
    [InlineData("<a@x.localhost> , <b@y.localhost>")]
    [InlineData("Alice <a@x.localhost>, Bob <b@y.localhost>")]
    [InlineData("\"Alice, A.\" <a@x.localhost>, \"Bob, B.\" <b@y.localhost>")]
    [InlineData("a@x.localhost, Bob <b@y.localhost>")]
    public void A_rcpt_line_may_list_several_recipients_separated_by_commas(string text)
    {
        Assert.True(SmtpPathParser.TryParseRcptTo(text, out var result, out var error), error);

        Assert.Equal(["a@x.localhost", "b@y.localhost"], result!.Addresses);
        Assert.Empty(result.Parameters);
    }

    [Fact]
    public void A_rcpt_list_is_followed_by_its_parameters()
    {
        Assert.True(SmtpPathParser.TryParseRcptTo("<a@x.localhost>, <b@y.localhost> NOTIFY=NEVER ORCPT=rfc822;a@x.localhost", out var result, out var error), error);

        Assert.Equal(["a@x.localhost", "b@y.localhost"], result!.Addresses);
        Assert.Equal("NEVER", result.Parameters["NOTIFY"]);
        Assert.Equal("rfc822;a@x.localhost", result.Parameters["ORCPT"]);
    }

    [Fact]
    public void A_source_route_inside_a_rcpt_list_is_not_taken_for_a_list_comma()
    {
        Assert.True(SmtpPathParser.TryParseRcptTo("<@a.example,@b.example:u@c.example>, <v@d.example>", out var result, out var error), error);

        Assert.Equal(["u@c.example", "v@d.example"], result!.Addresses);
    }

    [Fact]
    public void A_quoted_local_part_with_a_comma_is_one_recipient()
    {
        Assert.True(SmtpPathParser.TryParseRcptTo("\"last, first\"@x.localhost", out var result, out var error), error);

        Assert.Equal(["\"last, first\"@x.localhost"], result!.Addresses);
    }

    [Theory]
    [InlineData("a@x.localhost,")]
    [InlineData("a@x.localhost, ,b@y.localhost")]
    public void An_empty_entry_in_a_rcpt_list_is_an_error(string text)
    {
        Assert.False(SmtpPathParser.TryParseRcptTo(text, out _, out var error));

        Assert.Equal("No address given.", error);
    }

    [Fact]
    public void Mail_from_does_not_take_a_list()
    {
        Assert.False(SmtpPathParser.TryParseMailFrom("<a@x.localhost>,<b@y.localhost>", out _, out var error));

        Assert.Equal("',<b@y.localhost>' is not an address parameter (KEY or KEY=VALUE).", error);
    }

    [Theory]
    [InlineData("postmaster")]
    [InlineData("<Postmaster>")]
    [InlineData("POSTMASTER")]
    public void Postmaster_without_a_domain_is_a_recipient(string text)
    {
        Assert.True(SmtpPathParser.TryParseRcptTo(text, out var result, out _));
        var address = Assert.Single(result!.Addresses);

        Assert.True(SmtpPathParser.IsValidAddress(address, allowPostmaster: true, out var error), error);
        Assert.False(SmtpPathParser.IsValidAddress(address, allowPostmaster: false, out error));
        Assert.Equal($"'{address}' has no domain: write it as name@domain, e.g. test@inbox.localhost.", error);
    }

    [Theory]
    [InlineData("a@b")]
    [InlineData("a@b.example")]
    [InlineData("a@b.example.")]
    [InlineData("first.last+tag@sub.b.example")]
    [InlineData("!#$%&'*+-/=?^_`{|}~@b.example")]
    [InlineData("\"a b\"@c.example")]
    [InlineData("\"a\\\"q\"@x.example")]
    [InlineData("\"a@b\"@c.example")]
    [InlineData("\"\"@c.example")]
    [InlineData("jos\u00e9@b\u00fccher.de")]
    [InlineData("\u0438\u0432\u0430\u043d@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444")]
    [InlineData("u@xn--bcher-kva.de")]
    [InlineData("u@[127.0.0.1]")]
    [InlineData("u@[IPv6:2001:db8::1]")]
    [InlineData("u@under_score.example")]
    [InlineData("u@a-b.example")]
    [InlineData("u@1.2.example")]
    public void Valid_addresses_are_accepted(string address)
    {
        Assert.True(SmtpPathParser.IsValidAddress(address, allowPostmaster: false, out var error), error);
        Assert.Equal("", error);
    }

    [Theory]
    [InlineData("nodomain", "'nodomain' has no domain: write it as name@domain, e.g. test@inbox.localhost.")]
    [InlineData("\"a@b\"", "'\"a@b\"' has no domain: write it as name@domain, e.g. test@inbox.localhost.")]
    [InlineData("@b.example", "'@b.example' has nothing before the '@'.")]
    [InlineData("a@", "The domain of 'a@' is not valid.")]
    [InlineData("a b@c.example", "The local part of 'a b@c.example' is not valid (spaces and brackets need quotes).")]
    [InlineData("a(b)@c.example", "The local part of 'a(b)@c.example' is not valid (spaces and brackets need quotes).")]
    [InlineData("a\"b\"@c.example", "The local part of 'a\"b\"@c.example' is not valid (spaces and brackets need quotes).")]
    [InlineData("\"a\"b\"\"@c.example", "The local part of '\"a\"b\"\"@c.example' is not valid (spaces and brackets need quotes).")]
    [InlineData("a@b@c.example", "The local part of 'a@b@c.example' is not valid (spaces and brackets need quotes).")]
    [InlineData("a@-b.example", "The domain of 'a@-b.example' is not valid.")]
    [InlineData("a@b-.example", "The domain of 'a@b-.example' is not valid.")]
    [InlineData("a@b..example", "The domain of 'a@b..example' is not valid.")]
    [InlineData("a@.b.example", "The domain of 'a@.b.example' is not valid.")]
    [InlineData("a@.", "The domain of 'a@.' is not valid.")]
    [InlineData("a@b example", "The domain of 'a@b example' is not valid.")]
    [InlineData("a@b!.example", "The domain of 'a@b!.example' is not valid.")]
    [InlineData("a@[]", "The domain of 'a@[]' is not valid.")]
    [InlineData("a@[1.2.3.4", "The domain of 'a@[1.2.3.4' is not valid.")]
    [InlineData("a@[1.2 .3.4]", "The domain of 'a@[1.2 .3.4]' is not valid.")]
    [InlineData("a@abc\u202edef.example", "The domain of 'a@abc?def.example' is not valid: it holds U+202E, an invisible character that changes how text reads (shown as '?').")] // RIGHT-TO-LEFT OVERRIDE, not echoed
    [InlineData("a@\u2066abc\u2069.example", "The domain of 'a@?abc?.example' is not valid: it holds U+2066, an invisible character that changes how text reads (shown as '?').")] // an isolate around the label
    [InlineData("a\u0000b@c.example", "The address contains control characters.")]
    [InlineData("a@c.example\r\n", "The address contains control characters.")]
    [InlineData("a\tb@c.example", "The address contains control characters.")]
    [InlineData("a\u0085b@c.example", "The address contains control characters.")]
    public void Invalid_addresses_are_rejected_with_a_sentence(string address, string expected)
    {
        Assert.False(SmtpPathParser.IsValidAddress(address, allowPostmaster: true, out var error));

        Assert.Equal(expected, error);
    }

    [Fact]
    public void A_domain_label_may_have_63_characters_but_not_64()
    {
        Assert.True(SmtpPathParser.IsValidAddress($"a@{new string('x', 63)}.example", false, out _));
        Assert.False(SmtpPathParser.IsValidAddress($"a@{new string('x', 64)}.example", false, out _));
    }

    [Fact]
    public void An_address_may_have_512_characters_but_not_513()
    {
        var domain = string.Join('.', Enumerable.Repeat(new string('d', 60), 4)); // 243 characters
        var at512 = new string('l', 512 - domain.Length - 1) + "@" + domain;

        Assert.True(SmtpPathParser.IsValidAddress(at512, false, out var error), error);
        Assert.False(SmtpPathParser.IsValidAddress("l" + at512, false, out error));
        Assert.Equal("The address is longer than 512 characters.", error);
    }

    [Fact]
    public void A_quoted_display_name_containing_an_at_sign_is_skipped_like_any_display_name()
    {
        Assert.True(SmtpPathParser.TryParseMailFrom("\"alice@b.example\" <alice@b.example>", out var result, out var error), error);

        Assert.Equal(["alice@b.example"], result!.Addresses);
    }

    [Fact]
    public void A_bare_quoted_local_part_containing_an_angle_bracket_is_not_taken_for_a_display_name()
    {
        Assert.True(SmtpPathParser.TryParseMailFrom("\"a<b\"@c.example", out var result, out var error), error);

        Assert.Equal(["\"a<b\"@c.example"], result!.Addresses);
    }

    [Theory]
    [InlineData("postmaster, <b@y.localhost>", "postmaster|b@y.localhost")]
    [InlineData("bob, <b@y.localhost>", "bob|b@y.localhost")]
    [InlineData("a@x.localhost, postmaster, Bob <b@y.localhost>", "a@x.localhost|postmaster|b@y.localhost")]
    public void A_recipient_before_a_named_recipient_in_a_list_is_not_dropped(string text, string expected)
    {
        Assert.True(SmtpPathParser.TryParseRcptTo(text, out var result, out var error), error);

        Assert.Equal(expected.Split('|'), result!.Addresses);
    }

    [Fact]
    public void In_a_rcpt_list_an_unquoted_comma_separates_recipients_even_before_a_name()
    {
        // RFC 5322 wants such a name quoted; guessing would silently drop "Doe" if it were an address.
        Assert.True(SmtpPathParser.TryParseRcptTo("Doe, John <j@x.localhost>", out var result, out var error), error);

        Assert.Equal(["Doe", "j@x.localhost"], result!.Addresses);
    }

    [Fact]
    public void In_mail_from_a_name_with_an_unquoted_comma_is_still_a_name()
    {
        Assert.True(SmtpPathParser.TryParseMailFrom("Doe, John <j@x.localhost>", out var result, out var error), error);

        Assert.Equal(["j@x.localhost"], result!.Addresses);
    }
}
