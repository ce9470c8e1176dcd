using MailSink.Storage;
using MailSink.Tests.Support;
using MimeKit;

namespace MailSink.Tests.Smtp;

/// <summary>
/// HTML found by the content-analysis fuzz harness (Fuzz/corpus/content/anglesharp-*.txt) on which AngleSharp
/// 1.10.3's tree builder throws. A sink must store such mail like any other: the raw message is the truth and
/// analysis only an index, so an analysis fault may cost the links and codes, never the message.
/// </summary>
public sealed class BrokenHtmlTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    public static readonly TheoryData<string> Crashers = new()
    {
        "<table><p><select><xmp></xmp><table>",
        "<p><select><xmp></xmp><select><button>",
    };

    [Theory]
    [MemberData(nameof(Crashers))]
    public void Content_analysis_of_html_that_breaks_the_parser_does_not_throw(string html)
    {
        var message = new StoredMessage { Html = html, Text = "code 482913" };

        var fault = Record.Exception(() => ContentAnalyzer.Analyze(message));

        Assert.Null(fault);
        Assert.Equal(["482913"], message.TextCodes);
    }

    [Theory]
    [MemberData(nameof(Crashers))]
    public async Task A_message_whose_html_breaks_the_parser_is_stored_and_gets_250(string html)
    {
        var inbox = MailSinkHost.NewInbox();
        var message = SmtpSend.Simple($"html@{inbox}.localhost", "broken html", "");
        message.Body = new BodyBuilder { HtmlBody = html, TextBody = "the text part" }.ToMessageBody();

        var reply = await SmtpSend.MessageAsync(shared.Host.SmtpPort, message, output);

        Assert.StartsWith("OK message stored as ", reply, StringComparison.Ordinal);
        var stored = await shared.Host.SingleMessageAsync(inbox);
        Assert.Equal(html, stored.GetProperty("html").GetProperty("body").GetString()!.TrimEnd('\r', '\n'));
    }
}
