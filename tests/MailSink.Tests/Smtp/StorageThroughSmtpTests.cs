using System.Text;
using MailSink.Tests.Support;

namespace MailSink.Tests.Smtp;

/// <summary>What is stored for awkward messages and envelopes, read back over HTTP.</summary>
public sealed class StorageThroughSmtpTests(SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    private async Task<string> SendAsync(string from, string[] recipients, string data)
    {
        await using var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        Assert.StartsWith("250", await client.CommandAsync($"MAIL FROM:<{from}>"));
        foreach (var rcpt in recipients)
            Assert.StartsWith("250", await client.CommandAsync($"RCPT TO:<{rcpt}>"));
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        await client.SendRawAsync(Encoding.UTF8.GetBytes(data + ".\r\n"));
        var reply = await client.ReadReplyAsync();
        Assert.StartsWith("250 OK message stored as", reply);
        return reply;
    }

    [Fact]
    public async Task An_empty_message_is_stored_as_zero_bytes()
    {
        var inbox = MailSinkHost.NewInbox();
        var id = RawSmtpClient.StoredId(await SendAsync("a@b.example", [$"x@{inbox}.localhost"], ""));

        Assert.Empty(await Host.RawAsync(id));
        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal(0, message.GetProperty("size").GetInt64());
        Assert.Equal("a@b.example", message.GetProperty("from")[0].GetProperty("email").GetString());
        Assert.Equal("The message is empty.", message.GetProperty("metadata").GetProperty("parseError").GetString());
    }

    [Fact]
    public async Task A_first_line_starting_with_a_dot_is_unstuffed()
    {
        var inbox = MailSinkHost.NewInbox();
        var id = RawSmtpClient.StoredId(await SendAsync("a@b.example", [$"x@{inbox}.localhost"], "..not a header\r\n\r\n...two dots\r\n"));
        Assert.Equal(".not a header\r\n\r\n..two dots\r\n"u8.ToArray(), await Host.RawAsync(id));
    }

    [Fact]
    public async Task Malformed_mime_is_stored_raw_and_flagged_never_refused()
    {
        var inbox = MailSinkHost.NewInbox();
        const string data = "Content-Type: multipart/mixed; boundary=\"never-closed\"\r\nSubject: broken\r\n\r\n--never-closed\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@ not base64 @@@\r\n";
        var id = RawSmtpClient.StoredId(await SendAsync("a@b.example", [$"x@{inbox}.localhost"], data));

        Assert.Equal(Encoding.UTF8.GetBytes(data), await Host.RawAsync(id));
        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal("broken", message.GetProperty("subject").GetString());
    }

    [Fact]
    public async Task Binary_garbage_is_stored_raw_with_the_envelope()
    {
        var inbox = MailSinkHost.NewInbox();
        const string data = "\u0001\u0002\u0003 no headers at all, just noise\r\n";
        var id = RawSmtpClient.StoredId(await SendAsync("a@b.example", [$"x@{inbox}.localhost"], data));
        Assert.Equal(Encoding.UTF8.GetBytes(data), await Host.RawAsync(id));
        var message = await Host.SingleMessageAsync(inbox);
        Assert.False(string.IsNullOrEmpty(message.GetProperty("metadata").GetProperty("parseError").GetString()));
        Assert.Equal($"x@{inbox}.localhost", message.GetProperty("metadata").GetProperty("rcptTo")[0].GetProperty("email").GetString());
    }

    [Fact]
    public async Task Recipients_route_by_subdomain_deeper_labels_too_one_copy_per_inbox_and_envelope_only_is_bcc()
    {
        var a = MailSinkHost.NewInbox();
        var b = MailSinkHost.NewInbox();
        var data = $"From: s@example.com\r\nTo: one@{a}.localhost\r\nCc: two@deep.er.{b}.localhost\r\nSubject: routed\r\n\r\nhi\r\n";
        var reply = await SendAsync("s@example.com", [$"one@{a}.localhost", $"ONE-MORE@{a.ToUpperInvariant()}.LOCALHOST", $"two@deep.er.{b}.localhost", "root@localhost"], data);
        Assert.Contains($"in inbox {a}", reply);
        Assert.Contains($"in inbox {b}", reply);
        Assert.Contains("in inbox catchall", reply);

        var inA = await Host.SingleMessageAsync(a); // two recipients of inbox a: still one copy
        Assert.Single(await Host.ListAsync(b));
        var bcc = inA.GetProperty("bcc").EnumerateArray().Select(x => x.GetProperty("email").GetString()!).ToArray();
        Assert.Equal([$"ONE-MORE@{a.ToUpperInvariant()}.LOCALHOST", "root@localhost"], bcc);
        Assert.Equal($"one@{a}.localhost", inA.GetProperty("to")[0].GetProperty("email").GetString());
        Assert.Equal($"two@deep.er.{b}.localhost", inA.GetProperty("cc")[0].GetProperty("email").GetString());
    }

    [Fact]
    public async Task The_null_sender_is_stored_as_an_empty_mail_from()
    {
        var inbox = MailSinkHost.NewInbox();
        await SendAsync("", [$"x@{inbox}.localhost"], "Subject: bounce\r\n\r\nreturned\r\n");
        var message = await Host.SingleMessageAsync(inbox);
        Assert.Equal("", message.GetProperty("metadata").GetProperty("mailFrom").GetString());
        Assert.Empty(message.GetProperty("from").EnumerateArray());
    }

    [Fact]
    public async Task Listing_is_newest_first_and_pages()
    {
        var inbox = MailSinkHost.NewInbox();
        for (var i = 0; i < 5; i++)
            await SendAsync("a@b.example", [$"x@{inbox}.localhost"], $"Subject: n{i}\r\n\r\n.\r\n");

        var subjects = (await Host.ListAsync(inbox)).Select(m => m.GetProperty("subject").GetString()!).ToArray();
        Assert.Equal(["n4", "n3", "n2", "n1", "n0"], subjects);

        var page = await Host.GetJsonAsync($"/api/messages?server={inbox}&page=1&itemsPerPage=2");
        Assert.Equal(["n2", "n1"], page.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("subject").GetString()!).ToArray());
    }
}
