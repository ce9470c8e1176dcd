using System.Text.Json;
using MailSink.Tests.Support;
using Microsoft.Playwright;
using MimeKit;
using static Microsoft.Playwright.Assertions;

namespace MailSink.Tests.Ui;

/// <summary>The web UI in Chromium: the page itself, live arrivals, the inbox and message lists, deleting.</summary>
[Collection(nameof(BrowserCollection))]
public sealed class WebUiTests(ChromiumFixture chromium, SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    [Fact]
    public async Task The_page_comes_from_the_assembly_with_a_strict_policy_and_no_inline_script()
    {
        using var page = await Host.Http.GetAsync("/");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy);
        Assert.Contains("script-src 'self';", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<meta name=\"mailsink-root-domain\" content=\"localhost\">", html);
        Assert.DoesNotMatch(@"<script(?![^>]*\bsrc=)", html);
        Assert.DoesNotMatch(@"\son[a-z]+\s*=", html);

        using var script = await Host.Http.GetAsync("/ui/app.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", script.Headers.GetValues("X-Content-Type-Options").Single());
        using var revalidate = new HttpRequestMessage(HttpMethod.Get, "/ui/app.js");
        revalidate.Headers.IfNoneMatch.Add(script.Headers.ETag!);
        Assert.Equal(System.Net.HttpStatusCode.NotModified, (await Host.Http.SendAsync(revalidate)).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await Host.Http.GetAsync("/ui/nothing.js")).StatusCode);
    }

    [Fact]
    public async Task A_message_without_a_to_header_is_listed_with_its_envelope_recipient()
    {
        // The README's telnet session: no To header, only RCPT TO.
        var inbox = MailSinkHost.NewInbox();
        await using (var client = await RawSmtpClient.ConnectAsync(Host.SmtpPort, output))
        {
            await client.ReadReplyAsync();
            await client.CommandAsync("ehlo me");
            await client.CommandAsync("mail from: your@email.com");
            await client.CommandAsync($"rcpt to: test@{inbox}.localhost");
            await client.CommandAsync("data");
            Assert.StartsWith("250", await client.CommandAsync("Subject: This is a test\r\n\r\nThis is a test email.\r\n."));
        }

        await using var ui = await UiPage.OpenAsync(chromium, Host, output);
        await ui.InboxLink(inbox).ClickAsync();
        await Expect(ui.Row("This is a test").Locator(".meta")).ToContainTextAsync($"to test@{inbox}.localhost");
        ui.AssertNoScriptErrors();
    }

    [Fact]
    public async Task New_mail_shows_up_at_once_without_a_reload_newest_first()
    {
        var inbox = MailSinkHost.NewInbox();
        await using var ui = await UiPage.OpenAsync(chromium, Host, output);
        await Expect(ui.Page.Locator("#welcome")).ToBeVisibleAsync();
        await ui.Page.EvaluateAsync("() => { window.sameDocument = true; }");

        // The arrival time is taken in the page, the moment the row is in the list.
        var first = await SendAndTimeAsync(ui, SmtpSend.Simple($"Pat <pat@{inbox}.localhost>", "First arrival", "hello", from: "Robin <robin@example.com>"), "First arrival");
        await Expect(ui.InboxLink(inbox).Locator(".count")).ToHaveTextAsync("1");
        await ui.InboxLink(inbox).ClickAsync();
        var row = ui.Row("First arrival");
        await Expect(row.Locator(".from")).ToHaveTextAsync("Robin");
        await Expect(row.Locator(".meta")).ToContainTextAsync($"to pat@{inbox}.localhost");
        await Expect(row.Locator(".attachment-mark")).ToHaveCountAsync(0);

        var withFile = UiMail.Html($"pat@{inbox}.localhost", "Second arrival", "<p>see attached</p>",
            build: body => body.Attachments.Add("notes.txt", "n"u8.ToArray(), new ContentType("text", "plain")));
        var second = await SendAndTimeAsync(ui, withFile, "Second arrival");

        await Expect(ui.Rows).ToHaveCountAsync(2);
        await Expect(ui.Rows.Nth(0)).ToContainTextAsync("Second arrival");
        await Expect(ui.Rows.Nth(1)).ToContainTextAsync("First arrival");
        await Expect(ui.Row("Second arrival").Locator(".attachment-mark")).ToHaveTextAsync("1");
        await Expect(ui.InboxLink(inbox).Locator(".count")).ToHaveTextAsync("2");
        Assert.True(await ui.Page.EvaluateAsync<bool>("() => window.sameDocument === true"), "the page was reloaded");
        output.WriteLine($"on screen {first:F0} ms and {second:F0} ms after the 250");
        Assert.All(new[] { first, second }, lag => Assert.True(lag < 1000, $"a message showed {lag:F0} ms after its 250"));
        ui.AssertNoScriptErrors();
    }

    [Fact]
    public async Task An_arrival_that_the_inbox_list_already_counts_is_not_counted_again()
    {
        // The stream can bring an arrival after an inbox list that was read once the message was stored
        // (a busy server answers the list first). Here the page's stream is held until that list is on
        // screen, then brings that message's arrival, followed by one for an inbox the server does not
        // have; list requests from then on are held, so only the stream changes what is on screen.
        var inbox = MailSinkHost.NewInbox();
        var ghost = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"pat@{inbox}.localhost", "Stored before the page opened", "x"));
        var summary = (await Host.ListAsync(inbox)).Single();
        var ghostSummary = JsonSerializer.Serialize(new
        {
            id = Guid.NewGuid().ToString(),
            server = ghost,
            subject = "Only on the stream",
            received = summary.GetProperty("received").GetDateTimeOffset().AddSeconds(1),
        });
        var stream = new TaskCompletionSource();
        var holdLists = false;
        var heldLists = new List<IRoute>();
        await using var ui = await UiPage.OpenAsync(chromium, Host, output, waitUntilLive: false, prepare: async context =>
        {
            await context.RouteAsync("**/api/events", async route =>
            {
                if (stream.Task.IsCompleted)
                {
                    await route.ContinueAsync();
                    return;
                }

                await stream.Task;
                await route.FulfillAsync(new()
                {
                    Status = 200,
                    ContentType = "text/event-stream",
                    Body = $": connected\n\nevent: message\ndata: {summary.GetRawText()}\n\nevent: message\ndata: {ghostSummary}\n\n",
                });
            });
            await context.RouteAsync("**/api/servers", async route =>
            {
                lock (heldLists)
                {
                    if (holdLists)
                    {
                        heldLists.Add(route);
                        return;
                    }
                }

                await route.ContinueAsync();
            });
        });
        await Expect(ui.InboxLink(inbox).Locator(".count")).ToHaveTextAsync("1"); // from the list

        lock (heldLists)
            holdLists = true;
        stream.SetResult();

        await Expect(ui.InboxLink(ghost).Locator(".count")).ToHaveTextAsync("1"); // the stream was read to its end
        await Expect(ui.InboxLink(inbox).Locator(".count")).ToHaveTextAsync("1");
        ui.AssertNoScriptErrors();
    }

    [Fact]
    public async Task An_inbox_list_read_before_an_arrival_does_not_hide_that_arrival()
    {
        // The page loads the inbox list when it opens and when the live stream connects. Here the server's
        // answers are read at once but handed to the page only after a message to a new inbox has shown
        // up through the stream, so they are older than what is on screen.
        var inbox = MailSinkHost.NewInbox();
        var held = new List<(IRoute Route, IAPIResponse Response)>();
        var release = false;
        await using var ui = await UiPage.OpenAsync(chromium, Host, output, prepare: context =>
            context.RouteAsync("**/api/servers", async route =>
            {
                lock (held)
                {
                    if (release)
                    {
                        _ = route.ContinueAsync();
                        return;
                    }
                }
                var response = await route.FetchAsync();
                lock (held)
                    held.Add((route, response));
            }));
        await Poll.UntilAsync(() => { lock (held) return Task.FromResult(held.Count > 0); }, TimeSpan.FromSeconds(10), "the page's inbox-list request was answered by the server");

        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"pat@{inbox}.localhost", "Arrived during the load", "x"));
        await Expect(ui.InboxLink(inbox).Locator(".count")).ToHaveTextAsync("1");

        List<(IRoute Route, IAPIResponse Response)> stale;
        lock (held)
        {
            release = true;
            stale = [.. held];
        }
        var delivered = stale.Select(h => ui.Page.WaitForRequestFinishedAsync(new() { Predicate = r => r == h.Route.Request })).ToList();
        foreach (var (route, response) in stale)
            await route.FulfillAsync(new() { Response = response });
        await Task.WhenAll(delivered);

        // A later arrival re-renders the inbox list from the page's state, after the stale answers were handed over.
        var later = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"pat@{later}.localhost", "Later", "x"));
        await Expect(ui.InboxLink(later).Locator(".count")).ToHaveTextAsync("1");
        await Expect(ui.InboxLink(inbox).Locator(".count")).ToHaveTextAsync("1");
        ui.AssertNoScriptErrors();
    }

    /// <summary>Sends and returns how long after the 250 the subject was in the message list or, before an inbox is open, the inbox list.</summary>
    private async Task<double> SendAndTimeAsync(UiPage ui, MimeMessage message, string subject)
    {
        var inbox = message.To.Mailboxes.First().Domain.Split('.')[0];
        await ui.Page.EvaluateAsync(
            """
            ([subject, inbox]) => {
              const seen = () => [...document.querySelectorAll('#message-list .subject')].some(e => e.textContent.includes(subject))
                || (!location.hash.includes(inbox) && document.querySelector(`#inbox-list a[data-inbox="${inbox}"]`));
              window.arrival = new Promise(resolve => {
                const observer = new MutationObserver(() => { if (seen()) { observer.disconnect(); resolve(Date.now()); } });
                observer.observe(document.body, { childList: true, subtree: true, characterData: true });
              });
            }
            """,
            new[] { subject, inbox });
        await SmtpSend.MessageAsync(Host.SmtpPort, message);
        var acknowledged = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var shown = await ui.Page.EvaluateAsync<double>("() => window.arrival").WaitAsync(TimeSpan.FromSeconds(10));
        return shown - acknowledged;
    }

    [Fact]
    public async Task The_list_filters_as_you_type_by_subject_sender_and_recipient()
    {
        var inbox = MailSinkHost.NewInbox();
        await UiMail.SendManyAsync(Host.SmtpPort,
        [
            SmtpSend.Simple($"accounts@{inbox}.localhost", "Invoice 2041", "x", from: "Billing <billing@corp.example>"),
            SmtpSend.Simple($"mulder@{inbox}.localhost", "Welcome", "x", from: "Dana Scully <dana@fbi.example>"),
            SmtpSend.Simple($"all@{inbox}.localhost", "Weekly digest", "x", from: "news@digest.example"),
        ]);
        await using var ui = await UiPage.OpenAsync(chromium, Host, output, $"/#/inbox/{inbox}");
        await Expect(ui.Rows).ToHaveCountAsync(3);
        var filter = ui.Page.Locator("#filter");

        await filter.PressSequentiallyAsync("invoice");
        await Expect(ui.Rows).ToHaveTextAsync(new[] { new System.Text.RegularExpressions.Regex("Invoice 2041") });

        await filter.FillAsync("scully");
        await Expect(ui.Rows).ToHaveCountAsync(1);
        await Expect(ui.Rows.First).ToContainTextAsync("Welcome");

        await filter.FillAsync("mulder@");
        await Expect(ui.Rows).ToHaveCountAsync(1);
        await Expect(ui.Rows.First).ToContainTextAsync("Welcome");

        await filter.FillAsync("no such thing");
        await Expect(ui.Rows).ToHaveCountAsync(0);
        await Expect(ui.Page.Locator("#no-messages")).ToContainTextAsync("Nothing matches");

        await filter.FillAsync("");
        await Expect(ui.Rows).ToHaveCountAsync(3);
        ui.AssertNoScriptErrors();
    }

    [Fact]
    public async Task Long_inboxes_are_paged_and_the_filter_finds_mail_beyond_the_loaded_page()
    {
        var inbox = MailSinkHost.NewInbox();
        await UiMail.SendManyAsync(Host.SmtpPort, Enumerable.Range(1, 55).Select(i => SmtpSend.Simple($"x@{inbox}.localhost", $"Numbered {i:D2}", "x")));
        await using var ui = await UiPage.OpenAsync(chromium, Host, output, $"/#/inbox/{inbox}");

        await Expect(ui.Rows).ToHaveCountAsync(50);
        await Expect(ui.Rows.First).ToContainTextAsync("Numbered 55");
        await Expect(ui.Page.Locator("#newer")).ToBeDisabledAsync();

        await ui.Page.Locator("#older").ClickAsync();
        await Expect(ui.Rows).ToHaveCountAsync(5);
        await Expect(ui.Rows.First).ToContainTextAsync("Numbered 05");
        await Expect(ui.Page.Locator("#page-info")).ToHaveTextAsync("51–55");
        await Expect(ui.Page.Locator("#older")).ToBeDisabledAsync();

        await ui.Page.Locator("#newer").ClickAsync();
        await Expect(ui.Rows.First).ToContainTextAsync("Numbered 55");

        // "Numbered 03" is not on the loaded page: the server's search finds it.
        await ui.Page.Locator("#filter").FillAsync("Numbered 03");
        await Expect(ui.Rows).ToHaveCountAsync(1);
        await Expect(ui.Rows.First).ToContainTextAsync("Numbered 03");
        ui.AssertNoScriptErrors();
    }

    [Fact]
    public async Task Deleting_a_message_and_emptying_an_inbox()
    {
        var inbox = MailSinkHost.NewInbox();
        var ids = new List<string>();
        foreach (var subject in new[] { "Keep one", "Delete me", "Keep two" })
            ids.Add(SmtpSend.StoredId(await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"x@{inbox}.localhost", subject, "x"))));
        await using var ui = await UiPage.OpenAsync(chromium, Host, output, $"/#/inbox/{inbox}");
        await Expect(ui.Rows).ToHaveCountAsync(3);

        await ui.OpenMessageAsync("Delete me");
        await ui.Page.Locator("#delete-message").ClickAsync();

        await Expect(ui.Rows).ToHaveCountAsync(2);
        await Expect(ui.Row("Delete me")).ToHaveCountAsync(0);
        await Expect(ui.InboxLink(inbox).Locator(".count")).ToHaveTextAsync("2");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await Host.Http.GetAsync($"/api/messages/{ids[1]}")).StatusCode);
        Assert.Equal(2, (await Host.ListAsync(inbox)).Length);

        string? question = null;
        ui.Page.Dialog += async (_, dialog) =>
        {
            question = dialog.Message;
            await dialog.AcceptAsync();
        };
        await ui.Page.Locator("#empty-inbox").ClickAsync();

        await Expect(ui.Rows).ToHaveCountAsync(0);
        await Expect(ui.InboxLink(inbox).Locator(".count")).ToHaveTextAsync("0");
        Assert.Contains($"Delete all 2 message(s) in inbox {inbox}", question);
        Assert.Empty(await Host.ListAsync(inbox));
        var server = await Host.GetJsonAsync($"/api/servers/{inbox}");
        Assert.Equal(0, server.GetProperty("messages").GetInt32());
        ui.AssertNoScriptErrors();
    }

    [Fact]
    public async Task Copy_address_puts_a_ready_made_address_for_the_inbox_on_the_clipboard()
    {
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"x@{inbox}.localhost", "Hello", "x"));
        await using var ui = await UiPage.OpenAsync(chromium, Host, output, $"/#/inbox/{inbox}",
            options: new BrowserNewContextOptions { Permissions = ["clipboard-read", "clipboard-write"] });

        await Expect(ui.Page.Locator("#inbox-address")).ToHaveTextAsync($"anything@{inbox}.localhost");
        await ui.Page.Locator("#copy-address").ClickAsync();

        await Expect(ui.Page.Locator("#toast")).ToContainTextAsync("Copied");
        Assert.Equal($"anything@{inbox}.localhost", await ui.Page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));

        // And mail to it lands in this inbox.
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"anything@{inbox}.localhost", "To the copied address", "x"));
        await Expect(ui.Row("To the copied address")).ToBeVisibleAsync();
        ui.AssertNoScriptErrors();
    }
}
