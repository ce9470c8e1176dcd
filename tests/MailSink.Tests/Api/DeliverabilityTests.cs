using System.Net;
using System.Text.Json;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace MailSink.Tests.Api;

/// <summary>
/// GET /api/analysis/deliverability/{id} against a DNS server the test runs: SPF (RFC 7208), DKIM (RFC 6376,
/// messages signed here with MimeKit) and DMARC (RFC 7489) as the RFCs say, and Timeout, never a hang,
/// when DNS does not answer. Mail comes over SMTP from 127.0.0.1.
/// </summary>
public sealed class DeliverabilityTests(TestDnsServer dns) : IClassFixture<TestDnsServer>
{
    private static readonly AsymmetricCipherKeyPair Key = NewKey();
    private static readonly AsymmetricCipherKeyPair OtherKey = NewKey();

    private static AsymmetricCipherKeyPair NewKey()
    {
        var generator = new RsaKeyPairGenerator();
        generator.Init(new KeyGenerationParameters(new SecureRandom(), 1024));
        return generator.GenerateKeyPair();
    }

    private static string DkimRecord(AsymmetricCipherKeyPair key) =>
        "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(key.Public).GetDerEncoded());

    private static MimeMessage Mail(string from, string to, string subject, string html = "<p>Hello <img src=\"cid:x\" alt=\"x\"></p>")
    {
        var message = new MimeMessage { Subject = subject, Date = DateTimeOffset.UtcNow };
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Headers.Add("List-Unsubscribe", "<mailto:unsubscribe@example.test>");
        message.Body = new BodyBuilder { HtmlBody = html, TextBody = "Hello" }.ToMessageBody();
        message.Prepare(EncodingConstraint.SevenBit);
        return message;
    }

    private static void Sign(MimeMessage message, AsymmetricCipherKeyPair key, string domain, string selector) =>
        new DkimSigner(key.Private, domain, selector) { HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed, BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed }
            .Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date]);

    private async Task<JsonElement> ReportAsync(MailSinkHost host, MimeMessage message, string mailFrom)
    {
        var inbox = MailSinkHost.NewInbox();
        message.To.Clear();
        message.To.Add(MailboxAddress.Parse($"x@{inbox}.localhost"));
        await SmtpSend.MessageAsync(host.SmtpPort, message, sender: MailboxAddress.Parse(mailFrom));
        var id = (await host.ListAsync(inbox)).Single().GetProperty("id").GetString();
        return await host.GetJsonAsync($"/api/analysis/deliverability/{id}");
    }

    private static string Result(JsonElement check) => check.GetProperty("result").GetString()!;

    [Fact]
    public async Task Signed_mail_from_an_allowed_address_passes_spf_dkim_and_dmarc()
    {
        dns.Txt("good.test", "v=spf1 ip4:127.0.0.1 -all");
        dns.Txt("s1._domainkey.good.test", DkimRecord(Key));
        dns.Txt("_dmarc.good.test", "v=DMARC1; p=reject; adkim=r; aspf=r");
        dns.A("good.test", "192.0.2.10");
        dns.Mx("good.test", 10, "mx.good.test");
        await using var host = await MailSinkHost.StartAsync([.. dns.HostSettings, "--MailSink:Analysis:BlockLists:0=bl.example.test"]);
        var message = Mail("News <news@good.test>", "x@placeholder.localhost", "Signed");
        // The To header is signed: address it before signing, as ReportAsync would.
        var inbox = MailSinkHost.NewInbox();
        message.To.Clear();
        message.To.Add(MailboxAddress.Parse($"x@{inbox}.localhost"));
        Sign(message, Key, "good.test", "s1");
        await SmtpSend.MessageAsync(host.SmtpPort, message, sender: MailboxAddress.Parse("bounces@good.test"));
        var id = (await host.ListAsync(inbox)).Single().GetProperty("id").GetString();
        var report = await host.GetJsonAsync($"/api/analysis/deliverability/{id}");

        Assert.Equal("Pass", Result(report.GetProperty("spf")));
        Assert.Equal("v=spf1 ip4:127.0.0.1 -all", report.GetProperty("spf").GetProperty("rawValue").GetString());
        var dkim = Assert.Single(report.GetProperty("dkim").EnumerateArray());
        Assert.Equal("Pass", Result(dkim));
        Assert.Equal("good.test", dkim.GetProperty("tags").GetProperty("d").GetString());
        Assert.Equal("Pass", Result(report.GetProperty("dmarc")));
        Assert.Equal("reject", report.GetProperty("dmarc").GetProperty("tags").GetProperty("p").GetString());
        Assert.Equal(["192.0.2.10"], report.GetProperty("dnsRecords").GetProperty("a").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(["10 mx.good.test"], report.GetProperty("dnsRecords").GetProperty("mx").EnumerateArray().Select(a => a.GetString()));
        var content = report.GetProperty("content");
        Assert.False(content.GetProperty("script").GetBoolean());
        Assert.False(content.GetProperty("missingAlt").GetBoolean());
        Assert.False(content.GetProperty("missingListUnsubscribe").GetBoolean());
        Assert.True(content.GetProperty("totalSize").GetInt64() > 0);
        // 127.0.0.1 is on no public block list: reported as not listed, without a query.
        var listed = Assert.Single(report.GetProperty("blockLists").EnumerateArray());
        Assert.Equal(("bl.example.test", "NotListed"), (listed.GetProperty("id").GetString(), Result(listed)));
        Assert.DoesNotContain(dns.Queries, q => q.EndsWith("bl.example.test", StringComparison.Ordinal));

        // Made once and kept: asking again asks DNS nothing.
        var queries = dns.Queries.Count;
        Assert.Equal(report.GetRawText(), (await host.GetJsonAsync($"/api/analysis/deliverability/{id}")).GetRawText());
        Assert.Equal(queries, dns.Queries.Count);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync($"/api/analysis/deliverability/{Guid.NewGuid()}")).StatusCode);

        // Deleted, the message takes its report with it: nothing is answered from memory.
        Assert.Equal(HttpStatusCode.NoContent, (await host.Http.DeleteAsync($"/api/messages/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync($"/api/analysis/deliverability/{id}")).StatusCode);
    }

    [Fact]
    public async Task A_changed_body_a_wrong_key_and_no_signature_are_told_apart()
    {
        dns.Txt("dk.test", "v=spf1 -all");
        dns.Txt("right._domainkey.dk.test", DkimRecord(Key));
        dns.Txt("wrong._domainkey.dk.test", DkimRecord(OtherKey));
        await using var host = await MailSinkHost.StartAsync(dns.HostSettings);

        async Task<JsonElement> SignedAsync(string selector, Action<MimeMessage>? after = null)
        {
            var inbox = MailSinkHost.NewInbox();
            var message = Mail("a@dk.test", $"x@{inbox}.localhost", $"signed {selector}");
            Sign(message, Key, "dk.test", selector);
            after?.Invoke(message);
            await SmtpSend.MessageAsync(host.SmtpPort, message, sender: MailboxAddress.Parse("a@dk.test"));
            var id = (await host.ListAsync(inbox)).Single().GetProperty("id").GetString();
            return await host.GetJsonAsync($"/api/analysis/deliverability/{id}");
        }

        var changed = await SignedAsync("right", m => ((Multipart)m.Body!)[0] = new TextPart("plain") { Text = "Changed after signing" });
        Assert.Equal("Fail", Result(changed.GetProperty("dkim")[0]));
        Assert.Contains("does not verify", changed.GetProperty("dkim")[0].GetProperty("description").GetString());

        var wrongKey = await SignedAsync("wrong");
        Assert.Equal("Fail", Result(wrongKey.GetProperty("dkim")[0]));

        var noKey = await SignedAsync("absent");
        Assert.Equal("Fail", Result(noKey.GetProperty("dkim")[0]));
        Assert.Contains("There is no DKIM key at absent._domainkey.dk.test", noKey.GetProperty("dkim")[0].GetProperty("description").GetString());

        var unsigned = await ReportAsync(host, Mail("a@dk.test", "x@y.localhost", "unsigned"), "a@dk.test");
        Assert.Equal("Warning", Result(unsigned.GetProperty("dkim")[0]));
        Assert.Equal("Fail", Result(unsigned.GetProperty("spf")));
        Assert.Equal("Warning", Result(unsigned.GetProperty("dmarc"))); // dk.test publishes no DMARC record
    }

    /// <summary>RFC 7208's rules, as data: the record(s) published, and what check_host() must answer for 127.0.0.1.</summary>
    [Theory]
    [InlineData("ip4", "v=spf1 ip4:127.0.0.0/8 -all", "", "Pass")]
    [InlineData("fail", "v=spf1 ip4:192.0.2.0/24 -all", "", "Fail")]
    [InlineData("softfail", "v=spf1 ip4:192.0.2.0/24 ~all", "", "Warning")]
    [InlineData("neutral", "v=spf1 ?all", "", "Warning")]
    [InlineData("none", "", "", "Warning")]
    [InlineData("a", "v=spf1 a -all", "A:a.spf.test=127.0.0.1", "Pass")]
    [InlineData("mx", "v=spf1 mx -all", "MX:mx.spf.test=mail.mx.spf.test;A:mail.mx.spf.test=127.0.0.1", "Pass")]
    [InlineData("include", "v=spf1 include:inc.other.test -all", "TXT:inc.other.test=v=spf1 ip4:127.0.0.1 -all", "Pass")]
    [InlineData("include-none", "v=spf1 include:nothing.other.test -all", "", "Fail")] // include of a domain without a record: permerror
    [InlineData("redirect", "v=spf1 redirect=red.other.test", "TXT:red.other.test=v=spf1 ip4:127.0.0.1 -all", "Pass")]
    [InlineData("syntax", "v=spf1 ip4:not-an-address -all", "", "Fail")] // permerror
    [InlineData("two-records", "v=spf1 -all|v=spf1 +all", "", "Fail")] // permerror: more than one record
    [InlineData("limit", "v=spf1 include:l1.lim.test -all", "LIMIT", "Fail")] // permerror: over 10 DNS-querying terms
    [InlineData("temperror", "v=spf1 include:silent.other.test -all", "SILENT:silent.other.test", "Timeout")]
    [InlineData("void-two", "v=spf1 a:n1.void.test a:n2.void.test ip4:127.0.0.1 -all", "", "Pass")] // two void lookups are allowed
    [InlineData("void-three", "v=spf1 a:n1.void.test a:n2.void.test a:n3.void.test ip4:127.0.0.1 -all", "", "Fail")] // the third is a permerror
    [InlineData("macro", "v=spf1 exists:%{i}._spf.%{d} -all", "A:127.0.0.1._spf.macro.spf.test=127.0.0.2", "Pass")] // %{i} the client address, %{d} the domain
    [InlineData("macro-miss", "v=spf1 exists:%{l}.users.%{d} -all", "A:someone-else.users.macro-miss.spf.test=127.0.0.2", "Fail")] // %{l} is "bounce", not listed
    public async Task Spf_follows_rfc_7208(string scenario, string records, string extra, string expected)
    {
        var domain = $"{scenario}.spf.test";
        foreach (var record in records.Split('|', StringSplitOptions.RemoveEmptyEntries))
            dns.Txt(domain, record);
        foreach (var item in extra.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (item == "LIMIT")
            {
                // A chain of eleven includes: the eleventh DNS-querying term is over RFC 7208's limit of ten.
                for (var i = 1; i <= 11; i++)
                    dns.Txt($"l{i}.lim.test", i < 11 ? $"v=spf1 include:l{i + 1}.lim.test -all" : "v=spf1 ip4:127.0.0.1 -all");
                continue;
            }

            var (kind, rest) = (item[..item.IndexOf(':')], item[(item.IndexOf(':') + 1)..]);
            var name = rest.Split('=', 2)[0];
            var value = rest.Contains('=') ? rest.Split('=', 2)[1] : "";
            switch (kind)
            {
                case "A": dns.A(name, value); break;
                case "MX": dns.Mx(name, 10, value); break;
                case "TXT": dns.Txt(name, value); break;
                case "SILENT": dns.Silence(name); break;
            }
        }

        await using var host = await MailSinkHost.StartAsync(dns.HostSettings);
        var report = await ReportAsync(host, Mail($"a@{domain}", "x@y.localhost", scenario), $"bounce@{domain}");
        Assert.Equal(expected, Result(report.GetProperty("spf")));
    }

    /// <summary>A forwarder's ARC signer: it records what it saw (SPF pass) in ARC-Authentication-Results.</summary>
    private sealed class Forwarder(AsymmetricKeyParameter key) : ArcSigner(key, "forwarder.test", "arc")
    {
        protected override AuthenticationResults GenerateArcAuthenticationResults(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
            new("mx.forwarder.test") { Results = { new AuthenticationMethodResult("spf", "pass") } };

        protected override Task<AuthenticationResults> GenerateArcAuthenticationResultsAsync(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
            Task.FromResult(GenerateArcAuthenticationResults(options, message, cancellationToken));
    }

    [Fact]
    public async Task An_arc_chain_is_verified_when_present()
    {
        dns.Txt("arc._domainkey.forwarder.test", DkimRecord(Key));
        await using var host = await MailSinkHost.StartAsync(dns.HostSettings);

        async Task<JsonElement> ForwardedAsync(bool tamper)
        {
            var inbox = MailSinkHost.NewInbox();
            var message = Mail("a@origin.test", $"x@{inbox}.localhost", $"forwarded {tamper}");
            new Forwarder(Key.Private).Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date]);
            if (tamper)
                message.Subject = "changed by the next hop";
            await SmtpSend.MessageAsync(host.SmtpPort, message, sender: MailboxAddress.Parse("a@origin.test"));
            var id = (await host.ListAsync(inbox)).Single().GetProperty("id").GetString();
            return await host.GetJsonAsync($"/api/analysis/deliverability/{id}");
        }

        var intact = await ForwardedAsync(tamper: false);
        Assert.Equal("Pass", Result(intact.GetProperty("arc")));
        Assert.Equal("forwarder.test", intact.GetProperty("arc").GetProperty("tags").GetProperty("d").GetString());
        Assert.Equal("Fail", Result((await ForwardedAsync(tamper: true)).GetProperty("arc")));

        var plain = await ReportAsync(host, Mail("a@origin.test", "x@y.localhost", "not forwarded"), "a@origin.test");
        Assert.Equal(JsonValueKind.Null, plain.GetProperty("arc").ValueKind);
    }

    [Fact]
    public async Task Dmarc_fails_with_its_policy_when_nothing_aligned_passes()
    {
        dns.Txt("strict.test", "v=spf1 ip4:127.0.0.1 -all");
        dns.Txt("_dmarc.brand.test", "v=DMARC1; p=quarantine; aspf=s");
        dns.Txt("mail.brand.test", "v=spf1 ip4:127.0.0.1 -all");
        await using var host = await MailSinkHost.StartAsync(dns.HostSettings);

        // SPF passes, but for strict.test: not aligned with From brand.test.
        var other = await ReportAsync(host, Mail("a@brand.test", "x@y.localhost", "unaligned"), "a@strict.test");
        Assert.Equal("Pass", Result(other.GetProperty("spf")));
        Assert.Equal("Fail", Result(other.GetProperty("dmarc")));
        Assert.Contains("p=quarantine", other.GetProperty("dmarc").GetProperty("description").GetString());

        // Under a two-label public suffix, another registrant's domain is not aligned (co.uk is no organisation).
        dns.Txt("other.co.uk", "v=spf1 ip4:127.0.0.1 -all");
        dns.Txt("_dmarc.brand.co.uk", "v=DMARC1; p=reject");
        var neighbour = await ReportAsync(host, Mail("a@brand.co.uk", "x@y.localhost", "neighbour"), "a@other.co.uk");
        Assert.Equal("Pass", Result(neighbour.GetProperty("spf")));
        Assert.Equal("Fail", Result(neighbour.GetProperty("dmarc")));
        dns.Txt("mail.brand.co.uk", "v=spf1 ip4:127.0.0.1 -all");
        var own = await ReportAsync(host, Mail("a@brand.co.uk", "x@y.localhost", "own subdomain"), "a@mail.brand.co.uk");
        Assert.Equal("Pass", Result(own.GetProperty("dmarc"))); // relaxed: mail.brand.co.uk is brand.co.uk's

        // mail.brand.test is aligned with brand.test in relaxed mode only; aspf=s asks for the same name.
        var sub = await ReportAsync(host, Mail("a@brand.test", "x@y.localhost", "subdomain"), "a@mail.brand.test");
        Assert.Equal("Fail", Result(sub.GetProperty("dmarc")));
    }

    [Fact]
    public async Task Dns_that_does_not_answer_gives_timeouts_not_a_hang()
    {
        using var silent = HeldPorts.SilentUdp(out var port);
        await using var host = await MailSinkHost.StartAsync($"--MailSink:Analysis:DnsServers:0=127.0.0.1:{port}", "--MailSink:Analysis:DnsTimeout=00:00:00.5");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var report = await ReportAsync(host, Mail("a@nowhere.test", "x@y.localhost", "offline"), "a@nowhere.test");
        Assert.Equal("Timeout", Result(report.GetProperty("spf")));
        Assert.Equal("Timeout", Result(report.GetProperty("dmarc")));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    /// <summary>
    /// Callers that ask at once, while the report is being made (its DNS held back here), all wait for that
    /// one making: DNS is asked once, one report is kept, and every caller has the same.
    /// </summary>
    [Fact]
    public async Task Callers_asking_at_once_share_one_making_of_the_report()
    {
        dns.Txt("shared.test", "v=spf1 ip4:127.0.0.1 -all");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        dns.Hold("shared.test", release.Task);
        await using var host = await MailSinkHost.StartAsync([.. dns.HostSettings, "--MailSink:Analysis:DnsTimeout=00:00:30"]);
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(host.SmtpPort, Mail("a@shared.test", $"x@{inbox}.localhost", "shared"), sender: MailboxAddress.Parse("a@shared.test"));
        var id = (await host.ListAsync(inbox)).Single().GetProperty("id").GetString()!;
        var reports = host.Services.GetRequiredService<MailSink.Api.Analysis.Deliverability.DeliverabilityReports>();

        // Each call has joined the making (or started it) by the time it returns its task.
        var callers = Enumerable.Range(0, 5).Select(_ => reports.GetAsync(id, CancellationToken.None)).ToArray();
        await Poll.UntilAsync(() => dns.Queries.Contains("shared.test"), TimeSpan.FromSeconds(20), "the making asked DNS for the sender's SPF record");
        Assert.All(callers, caller => Assert.False(caller.IsCompleted));
        release.SetResult();
        var made = await Task.WhenAll(callers);

        Assert.All(made, report => Assert.Same(made[0], report));
        Assert.Equal("Pass", made[0]!.Spf.Result);
        Assert.Single(dns.Queries, q => q == "_dmarc.shared.test"); // each making asks once
        Assert.NotNull(await host.Services.GetRequiredService<MailSink.Storage.IAnalysisStore>().GetAnalysisAsync(id, "deliverability", CancellationToken.None));
    }
}
