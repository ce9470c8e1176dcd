using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MailSink.Tests.Api;

/// <summary>Previews rendered by Debian's headless Chromium: a PNG of the profile's size, dark darker, remote images only when allowed.</summary>
public sealed class PreviewTests : IAsyncLifetime
{
    private static readonly byte[] Pixel = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");
    private readonly ConcurrentQueue<string> _imageRequests = new();
    private LoopbackWebServer _images = null!;
    private string _imageUrl = "";

    public async Task InitializeAsync()
    {
        _images = await LoopbackWebServer.StartAsync(web => web.MapGet("/logo.png", (HttpContext context) =>
        {
            _imageRequests.Enqueue(context.Request.Path);
            return Results.Bytes(Pixel, "image/png");
        }));
        _imageUrl = _images.BaseUrl + "/logo.png";
    }

    public async Task DisposeAsync() => await _images.DisposeAsync();

    private static async Task<byte[]> PreviewAsync(MailSinkHost host, string messageId, string client)
    {
        using var started = await host.Http.PostAsync($"/api/messages/{messageId}/screenshots",
            new StringContent($$"""{"emailClients":["{{client}}"]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        var preview = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().Single();
        Assert.Equal(client, preview.GetProperty("emailClient").GetString());
        var id = preview.GetProperty("id").GetString();
        byte[]? png = null;
        await Poll.UntilAsync(async () =>
        {
            using var response = await host.Http.GetAsync($"/api/files/screenshots/{id}");
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                Assert.Equal("250,500,1000", response.Headers.GetValues("x-ms-delay").Single());
                return false;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
            png = await response.Content.ReadAsByteArrayAsync();
            return true;
        }, TimeSpan.FromSeconds(90), $"the {client} preview is rendered");
        return png!;
    }

    [Fact]
    public async Task Each_profile_renders_a_png_of_its_size_dark_darker_and_images_only_when_on()
    {
        await using var host = await MailSinkHost.StartAsync();
        var clients = (await host.GetJsonAsync("/api/screenshots/clients")).GetProperty("items").EnumerateArray().ToList();
        Assert.Contains(clients, c => c.GetProperty("name").GetString() == "mailsink-mobile-dark" && c.GetProperty("label").GetString()!.Contains("Chromium"));

        var inbox = MailSinkHost.NewInbox();
        var mail = new MimeKit.MimeMessage { Subject = "Preview me" };
        mail.From.Add(MimeKit.MailboxAddress.Parse("a@example.com"));
        mail.To.Add(MimeKit.MailboxAddress.Parse($"x@{inbox}.localhost"));
        mail.Body = new MimeKit.TextPart("html") { Text = $"<html><body><h1>Welcome</h1><p>Some text on a white page.</p><img src=\"{_imageUrl}\" width=\"40\" height=\"40\"></body></html>" };
        await SmtpSend.MessageAsync(host.SmtpPort, mail);
        var id = (await host.ListAsync(inbox)).Single().GetProperty("id").GetString()!;

        var noImages = Png.Read(await PreviewAsync(host, id, "mailsink-desktop-no-images"));
        Assert.Equal((1280, 1024), (noImages.Width, noImages.Height));
        Assert.Empty(_imageRequests);

        var light = Png.Read(await PreviewAsync(host, id, "mailsink-desktop-light"));
        Assert.Equal((1280, 1024), (light.Width, light.Height));
        Assert.NotEmpty(_imageRequests);

        var dark = Png.Read(await PreviewAsync(host, id, "mailsink-mobile-dark"));
        Assert.Equal((390, 844), (dark.Width, dark.Height));
        Assert.True(light.MeanBrightness > 200, $"light page: mean brightness {light.MeanBrightness:0}");
        Assert.True(dark.MeanBrightness < light.MeanBrightness - 100, $"dark {dark.MeanBrightness:0} against light {light.MeanBrightness:0}");

        // No script runs, as in a mail client: this one would paint the page black.
        var scripted = new MimeKit.MimeMessage { Subject = "Scripted" };
        scripted.From.Add(MimeKit.MailboxAddress.Parse("a@example.com"));
        scripted.To.Add(MimeKit.MailboxAddress.Parse($"y@{inbox}.localhost"));
        scripted.Body = new MimeKit.TextPart("html") { Text = "<html><body><p>Hi</p><script>document.documentElement.style.background='black';document.body.style.background='black'</script></body></html>" };
        await SmtpSend.MessageAsync(host.SmtpPort, scripted);
        var scriptedId = (await host.ListAsync(inbox)).Single(m => m.GetProperty("subject").GetString() == "Scripted").GetProperty("id").GetString()!;
        Assert.True(Png.Read(await PreviewAsync(host, scriptedId, "mailsink-mobile-light")).MeanBrightness > 200, "the script ran");
    }

    [Fact]
    public async Task Unknown_profiles_messages_and_previews_are_refused_clearly()
    {
        await using var host = await MailSinkHost.StartAsync();
        await SmtpSend.MessageAsync(host.SmtpPort, SmtpSend.Simple("a@prev.localhost", "x", "plain text"));
        var id = (await host.ListAsync("prev")).Single().GetProperty("id").GetString();
        using var unknown = await host.Http.PostAsync($"/api/messages/{id}/screenshots", new StringContent("""{"emailClients":["outlook-2016"]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        var description = (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors")[0].GetProperty("detail")[0].GetProperty("description").GetString();
        Assert.Contains("'outlook-2016' is not one of MailSink's rendering profiles: mailsink-desktop-light", description);
        using var missing = await host.Http.PostAsync($"/api/messages/{Guid.NewGuid()}/screenshots", new StringContent("""{"emailClients":["mailsink-desktop-light"]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync($"/api/files/screenshots/{Guid.NewGuid()}")).StatusCode);

        await using var without = await MailSinkHost.StartAsync("--MailSink:Analysis:Previews:Chromium=/nonexistent/chromium");
        await SmtpSend.MessageAsync(without.SmtpPort, SmtpSend.Simple("a@prev.localhost", "x", "plain text"));
        var other = (await without.ListAsync("prev")).Single().GetProperty("id").GetString();
        using var noBrowser = await without.Http.PostAsync($"/api/messages/{other}/screenshots", new StringContent("""{"emailClients":["mailsink-desktop-light"]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, noBrowser.StatusCode);
        Assert.Contains("they need Chromium (Debian: apt-get install chromium)", await noBrowser.Content.ReadAsStringAsync());
    }
}
