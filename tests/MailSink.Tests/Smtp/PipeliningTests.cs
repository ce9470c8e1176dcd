using System.Text;
using MailKit.Security;
using MailSink.Tests.Support;
using MimeKit;

namespace MailSink.Tests.Smtp;

/// <summary>PIPELINING: replies come in order whether commands arrive one by one or in one write.</summary>
public sealed class PipeliningTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    [Fact]
    public async Task A_whole_transaction_in_one_write_gets_every_reply_in_order()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.SendRawAsync(Encoding.ASCII.GetBytes(
            $"EHLO me\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<one@{inbox}.localhost>\r\nRCPT TO:<two@{inbox}.localhost>\r\nNOOP\r\nDATA\r\n"));
        Assert.StartsWith("250-mailsink.localhost", await client.ReadReplyAsync());
        Assert.Equal("250 sender a@b.example OK", await client.ReadReplyAsync());
        Assert.Equal($"250 recipient one@{inbox}.localhost OK", await client.ReadReplyAsync());
        Assert.Equal($"250 recipient two@{inbox}.localhost OK", await client.ReadReplyAsync());
        Assert.Equal("250 OK", await client.ReadReplyAsync());
        Assert.StartsWith("354", await client.ReadReplyAsync());

        // The body, the end, and the next transaction, all at once.
        await client.SendRawAsync(Encoding.ASCII.GetBytes(
            $"Subject: first\r\n\r\n1\r\n.\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<one@{inbox}.localhost>\r\nDATA\r\n"));
        Assert.StartsWith("250 OK message stored", await client.ReadReplyAsync());
        Assert.StartsWith("250 sender", await client.ReadReplyAsync());
        Assert.StartsWith("250 recipient", await client.ReadReplyAsync());
        Assert.StartsWith("354", await client.ReadReplyAsync());
        await client.SendAsync("Subject: second\r\n\r\n2\r\n.\r\nQUIT");
        Assert.StartsWith("250 OK message stored", await client.ReadReplyAsync());
        Assert.StartsWith("221", await client.ReadReplyAsync());

        Assert.Equal(2, (await Host.ListAsync(inbox)).Length);
    }

    [Fact]
    public async Task Mailkit_pipelines_many_recipients_and_many_messages_on_one_connection()
    {
        var inboxes = Enumerable.Range(0, 3).Select(_ => MailSinkHost.NewInbox()).ToArray();
        using (var client = MailKitClients.Create(output))
        {
            await client.ConnectAsync("127.0.0.1", Host.SmtpPort, SecureSocketOptions.StartTls);
            Assert.True(client.Capabilities.HasFlag(MailKit.Net.Smtp.SmtpCapabilities.Pipelining));
            for (var n = 0; n < 20; n++)
            {
                var message = new MimeMessage();
                message.From.Add(MailboxAddress.Parse("sender@example.com"));
                for (var r = 0; r < 60; r++)
                    message.To.Add(MailboxAddress.Parse($"r{r}@{inboxes[r % inboxes.Length]}.localhost"));
                message.Subject = $"message {n}";
                message.Body = new TextPart("plain") { Text = "hello" };
                await client.SendAsync(message);
            }

            await client.DisconnectAsync(true);
        }

        foreach (var inbox in inboxes)
        {
            var items = await Host.ListAsync(inbox);
            Assert.Equal(20, items.Length);
            Assert.Equal("message 19", items[0].GetProperty("subject").GetString());
        }
    }

    [Fact]
    public async Task Health_reports_smtp_and_storage()
    {
        var health = await Host.GetJsonAsync("/health");
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.Equal("healthy", health.GetProperty("checks").GetProperty("smtp").GetProperty("status").GetString());
        Assert.Equal("healthy", health.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
    }
}
