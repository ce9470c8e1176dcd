using System.Text;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MailSink.Tests.Storage;

/// <summary>
/// One message to many inboxes is stored once: what its copies share (raw message, parsed fields, links)
/// is kept once, and each copy holds only its id, inbox and time. A 947 KB message with 1,000 links of
/// 900 characters sent to 1,000 inboxes in one transaction grew the database from 64 MB to 1,252 MB when
/// every copy carried its own analysis.
/// </summary>
public sealed class FanOutTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_message_with_a_thousand_long_links_to_a_thousand_inboxes_is_stored_about_once()
    {
        await using var host = await MailSinkHost.StartAsync();
        var store = host.Services.GetRequiredService<LiteDbStore>();
        var prefix = "f" + Guid.NewGuid().ToString("N")[..6];
        var html = new StringBuilder("<html><body>");
        for (var i = 0; i < 1000; i++)
            html.Append("<a href=\"https://example.com/").Append(i).Append('/').Append(new string((char)('a' + (i % 26)), 880)).Append("\">link ").Append(i).Append("</a><br>\r\n");
        html.Append("</body></html>");
        var message = $"From: a@b.example\r\nSubject: fan-out\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n{html}\r\n";
        Assert.InRange(message.Length, 900_000, 1_000_000);
        var before = Checkpointed(store);

        await using (var client = await RawSmtpClient.ConnectAsync(host.SmtpPort))
        {
            await client.ReadReplyAsync();
            await client.CommandAsync("EHLO me");
            await client.CommandAsync("MAIL FROM:<a@b.example>");
            var rcpts = new StringBuilder();
            for (var i = 0; i < 1000; i++)
                rcpts.Append("RCPT TO:<x@").Append(prefix).Append(i).Append(".localhost>\r\n");
            await client.SendRawAsync(Encoding.ASCII.GetBytes(rcpts.ToString()), "1,000 RCPT commands");
            for (var i = 0; i < 1000; i++)
                Assert.StartsWith("250 ", await client.ReadReplyAsync());
            Assert.StartsWith("354", await client.CommandAsync("DATA"));
            await client.SendRawAsync(Encoding.ASCII.GetBytes(message + ".\r\n"), "the message");
            Assert.StartsWith("250 OK message stored", await client.ReadReplyAsync());
        }

        var growth = Checkpointed(store) - before;
        output.WriteLine($"the data file grew by {growth:N0} bytes for a {message.Length:N0}-byte message in 1,000 inboxes");
        Assert.True(growth < 10L * 1024 * 1024, $"the data file grew by {growth:N0} bytes");

        // Every copy is whole: its own id and inbox, the shared links.
        var last = await host.SingleMessageAsync(prefix + "999");
        Assert.Equal(prefix + "999", last.GetProperty("server").GetString());
        Assert.Equal(1000, last.GetProperty("html").GetProperty("links").GetArrayLength());
        Assert.Equal(1000, last.GetProperty("metadata").GetProperty("rcptTo").GetArrayLength());
        Assert.Equal("fan-out", (await host.ListAsync(prefix + "0")).Single().GetProperty("subject").GetString());
    }

    /// <summary>The data file once the log is folded into it: what the store really occupies.</summary>
    private static long Checkpointed(LiteDbStore store)
    {
        store.Checkpoint();
        return new FileInfo(store.FilePath).Length;
    }
}
