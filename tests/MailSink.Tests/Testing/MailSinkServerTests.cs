using MailKit.Net.Smtp;
using MailKit.Security;
using MailSink.Storage;
using MailSink.Testing;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using SearchCriteria = MailSink.Testing.SearchCriteria;

namespace MailSink.Tests.Testing;

/// <summary>MailSink.Testing: one call starts a real MailSink in the test process; the typed client reads what it caught.</summary>
public sealed class MailSinkServerTests
{
    private static MimeMessage Mail(string to, string subject, string html, string text = "", byte[]? attachment = null)
    {
        var message = new MimeMessage { Subject = subject };
        message.From.Add(new MailboxAddress("App", "noreply@app.test"));
        message.To.Add(MailboxAddress.Parse(to));
        var body = new BodyBuilder { HtmlBody = html, TextBody = text };
        if (attachment is not null)
            body.Attachments.Add("report.bin", attachment);
        message.Body = body.ToMessageBody();
        return message;
    }

    private static async Task SendAsync(MailSinkServer server, MimeMessage message, int? port = null, SecureSocketOptions security = SecureSocketOptions.None)
    {
        using var smtp = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
        await smtp.ConnectAsync(server.SmtpHost, port ?? server.SmtpPort, security);
        await smtp.SendAsync(message);
        await smtp.DisconnectAsync(true);
    }

    [Fact]
    public async Task A_suite_waits_for_the_link_and_the_code_its_application_sent()
    {
        await using var server = await MailSinkServer.StartAsync();
        var inbox = server.Client.NewInbox();
        Assert.Matches("^[a-z0-9]{8}$", inbox.Id);
        var alice = inbox.Address("alice");

        var link = server.Client.WaitForLinkAsync(alice);
        await SendAsync(server, Mail(alice, "Confirm your address", """<p>Code <b>734291</b>. <a href="https://app.test/confirm?t=abc">Confirm</a></p>"""));
        Assert.Equal("https://app.test/confirm?t=abc", await link);
        Assert.Equal("734291", await server.Client.WaitForCodeAsync(alice));

        var message = await server.Client.WaitForMessageToAsync(alice);
        Assert.Equal("Confirm your address", message.Subject);
        Assert.Equal("noreply@app.test", message.From.Single().Email);
        Assert.Equal(inbox.Id, message.Server);
        Assert.Equal(message.Id, (await server.Client.GetAsync(message.Id))!.Id);
        Assert.Null(await server.Client.GetAsync(Guid.NewGuid().ToString()));
        await Assert.ThrowsAsync<TimeoutException>(() => server.Client.AwaitAsync(inbox.Id, new SearchCriteria(Subject: "never sent"), TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task The_client_lists_searches_downloads_streams_and_deletes()
    {
        await using var server = await MailSinkServer.StartAsync();
        var client = server.Client;
        var inbox = client.NewInbox();
        var payload = Enumerable.Range(0, 2048).Select(i => (byte)(i % 253)).ToArray();

        var feed = server.Services.GetRequiredService<ArrivalFeed>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var stream = client.StreamAsync(inbox.Id, stop.Token).GetAsyncEnumerator(stop.Token);
        var first = stream.MoveNextAsync().AsTask();
        await Support.Poll.UntilAsync(() => Task.FromResult(feed.SubscriberCount(inbox.Id) == 1), TimeSpan.FromSeconds(10), "the stream is subscribed");

        await SendAsync(server, Mail(inbox.Address("a"), "one", "<p>1</p>"), server.StartTlsPort, SecureSocketOptions.StartTls);
        await SendAsync(server, Mail(inbox.Address("b"), "two", "<p>2</p>", attachment: payload), server.ImplicitTlsPort, SecureSocketOptions.SslOnConnect);
        Assert.True(await first);
        Assert.Equal("one", stream.Current.Subject);
        Assert.True(await stream.MoveNextAsync());
        Assert.Equal("two", stream.Current.Subject);

        Assert.Equal(["two", "one"], (await client.ListAsync(inbox.Id)).Select(m => m.Subject));
        var two = Assert.Single(await client.SearchAsync(inbox.Id, new SearchCriteria(SentTo: inbox.Address("b"))));
        Assert.Equal(1, two.Attachments);
        var full = (await client.GetAsync(two.Id))!;
        Assert.Equal(payload, await client.GetAttachmentAsync(full.Attachments.Single().Id));
        Assert.Contains("Subject: two", System.Text.Encoding.ASCII.GetString(await client.GetRawAsync(two.Id)));
        Assert.Contains(inbox.Id, (await client.ListServersAsync()).Select(s => s.Id));

        Assert.True(await client.DeleteAsync(two.Id));
        Assert.False(await client.DeleteAsync(two.Id));
        await client.DeleteAllAsync(inbox.Id);
        Assert.Empty(await client.ListAsync(inbox.Id));
    }

    [Fact]
    public async Task Settings_pass_through_and_api_errors_carry_mailsinks_description()
    {
        var options = new MailSinkServerOptions();
        options.Settings["MailSink:Api:ApiKey"] = "test-key";
        await using var server = await MailSinkServer.StartAsync(options);
        var created = await server.Client.CreateServerAsync("Checkout");
        Assert.Equal("Checkout", (await server.Client.GetServerAsync(created.Id))!.Name);

        using var anonymous = new MailSinkClient(server.BaseUrl);
        Assert.Equal(401, (await Assert.ThrowsAsync<MailSinkApiException>(() => anonymous.ListServersAsync())).Status);
        var bad = await Assert.ThrowsAsync<MailSinkApiException>(() => server.Client.CreateServerAsync(""));
        Assert.Equal((400, "name"), (bad.Status, bad.Field));
        Assert.Contains("(name)", bad.Message);
        Assert.True(await server.Client.DeleteServerAsync(created.Id));
        Assert.True(Directory.Exists(server.DataFolder));
    }

    [Fact]
    public async Task A_service_the_test_registers_replaces_mailsinks_own()
    {
        var now = new DateTimeOffset(2031, 2, 3, 4, 5, 6, TimeSpan.Zero);
        await using var server = await MailSinkServer.StartAsync(new MailSinkServerOptions
        {
            ConfigureServices = services => services.AddSingleton<TimeProvider>(new StoppedClock(now)),
        });
        var alice = server.Client.NewInbox().Address("alice");

        await SendAsync(server, Mail(alice, "dated by the test's clock", "<p>x</p>"));

        Assert.Equal(now, (await server.Client.WaitForMessageToAsync(alice)).Received);
    }

    /// <summary>A clock that always says the same time.</summary>
    private sealed class StoppedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public void An_address_names_its_inbox()
    {
        Assert.Equal("m03agkv6", Inbox.Of("test@m03agkv6.localhost").Id);
        Assert.Equal("m03agkv6", Inbox.Of("a@x.M03AGKV6.LOCALHOST").Id);
        Assert.Equal("box", Inbox.Of("a@box.mail.test", "mail.test").Id);
        Assert.Throws<ArgumentException>(() => Inbox.Of("a@example.com"));
        Assert.Equal("alice@abc.localhost", new Inbox("abc").Address("alice"));
    }
}
