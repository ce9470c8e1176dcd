using System.Text;
using MailSink.Storage;
using MimeKit;

namespace MailSink.Tests.Unit;

/// <summary>An attachment's decoded length, counted without decoding, is the number of bytes MimeKit's decoder writes.</summary>
public sealed class DecodedLengthTests
{
    [Theory]
    [InlineData("base64", "AAECAwQFBgcICQ==")]
    [InlineData("base64", "AAECAwQFBgcICQ")]
    [InlineData("base64", "AAECAwQFBgcICQ=")]
    [InlineData("base64", "AAECAwQFBgcI\r\nCQ==\r\n")]
    [InlineData("base64", "!!!not*base64###")]
    [InlineData("base64", "QQ==QQ==")]
    [InlineData("base64", "=AAA")]
    [InlineData("base64", "A=AA")]
    [InlineData("base64", "AA=A")]
    [InlineData("base64", "AAA=")]
    [InlineData("base64", "AAAA=")]
    [InlineData("base64", "A=A=A=A=A=A=")]
    [InlineData("base64", "====")]
    [InlineData("base64", "A A A A\tB-B.B*B")]
    [InlineData("base64", "AAA")]
    [InlineData("base64", "")]
    [InlineData("quoted-printable", "caf=C3=A9 =\r\nsoft")]
    [InlineData("x-uuencode", "begin 644 a.txt\r\n#86)C\r\n`\r\nend\r\n")]
    [InlineData("8bit", "caf\u00e9\r\n")]
    [InlineData("binary", "\0\u0001\r\n")]
    [InlineData("", "plain\r\n")]
    [InlineData("x-bogus", "as it is")]
    public void Length_is_what_decoding_writes(string transferEncoding, string content)
    {
        foreach (var persistent in new[] { false, true })
            AssertSameLength(transferEncoding, Encoding.UTF8.GetBytes(content), persistent);
    }

    [Fact]
    public void Base64_over_several_read_buffers_with_padding_and_junk_across_their_edges()
    {
        var random = new Random(25);
        var data = new byte[200_000];
        random.NextBytes(data);
        var encoded = Encoding.ASCII.GetBytes(Convert.ToBase64String(data, Base64FormattingOptions.InsertLineBreaks));
        AssertSameLength("base64", encoded, persistent: true);

        foreach (var at in new[] { 65_535, 65_536, 65_537, 131_071, 131_072, 100_000 })
        {
            var damaged = (byte[])encoded.Clone();
            damaged[at] = (byte)'=';
            damaged[at + 3] = (byte)'!';
            AssertSameLength("base64", damaged, persistent: true);
        }
    }

    private static void AssertSameLength(string transferEncoding, byte[] content, bool persistent)
    {
        var head = "Content-Type: application/octet-stream\r\n" + (transferEncoding.Length > 0 ? $"Content-Transfer-Encoding: {transferEncoding}\r\n" : "") + "\r\n";
        var raw = Encoding.ASCII.GetBytes(head).Concat(content).ToArray();
        var part = Assert.IsType<MimePart>(MimeEntity.Load(new MemoryStream(raw, writable: false), persistent));
        if (part.Content is null)
            return; // no content: nothing to count (the parser gives 0)

        using var counter = new CountingStream();
        part.Content.DecodeTo(counter);

        Assert.Equal(counter.Length, DecodedLength.Of(part.Content));
    }
}
