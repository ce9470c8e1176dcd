using System.Diagnostics;
using System.Net;
using System.Text;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MailSink.Tests.Storage;

/// <summary>
/// A full disk stops new mail early and nothing else. With the store on a small filesystem made for the
/// test (tmpfs, which needs root), mail is stored, then another file fills the disk to its last byte:
/// before, reads and deletes answered 500, /health reported a disposed lock, and the database could not
/// be opened again (opening writes), so no space could be freed through the API. Now MAIL gets 452 while
/// free space is under MailSink:Storage:MinFreeBytes, reads and deletes work (the reserve file kept beside
/// the database is given up for them), /health says degraded, and mail is taken again once there is room.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task On_a_full_disk_mail_is_refused_with_452_reads_and_deletes_work_and_it_recovers_by_itself()
    {
        using var mount = TmpfsMount.TryCreate(64, output, out var why);
        Skip.If(mount is null, why);
        await using var host = await MailSinkHost.StartAsync(
            $"--MailSink:Storage:Path={Path.Combine(mount!.Path, "mailsink.db")}", $"--MailSink:Storage:MinFreeBytes={8 * 1024 * 1024}");
        var store = host.Services.GetRequiredService<LiteDbStore>();
        Assert.True(File.Exists(store.Space.ReservePath), "the reserve file was not made at start");

        var inbox = MailSinkHost.NewInbox();
        var random = new Random(11);
        var bodies = new List<string>();
        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            bodies.Add(Convert.ToBase64String(random.GetItems<byte>(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(), 60_000)));
            ids.Add(SmtpSend.StoredId(await SmtpSend.MessageAsync(host.SmtpPort, SmtpSend.Simple($"a@{inbox}.localhost", $"m{i}", bodies[i]))));
        }

        var raw = await host.RawAsync(ids[0]);
        var filler = Path.Combine(mount.Path, "filler");
        FillDisk(filler);
        output.WriteLine($"disk filled: {new DriveInfo(mount.Path).AvailableFreeSpace} bytes free");

        // New mail: refused before it is sent (the free space is read again at most once a second), and
        // the session goes on.
        await Poll.UntilAsync(
            async () => (await MailReplyAsync(host.SmtpPort, output)).StartsWith("452 Insufficient system storage", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "MAIL is refused with 452 on the full disk");

        // A fault inside LiteDB now: the database must open again on the full disk (opening writes).
        EngineFault.Inject(store);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await host.Http.GetAsync($"/api/messages/{ids[1]}")).StatusCode); // it met the fault
        Assert.Equal(1, store.Reopens);

        // Reads work.
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("/api/servers")).StatusCode);
        Assert.Equal(raw, await host.RawAsync(ids[0]));
        Assert.Equal("m3", (await host.GetJsonAsync($"/api/messages/{ids[3]}")).GetProperty("subject").GetString());
        Assert.Equal(10, (await host.ListAsync(inbox)).Length);
        var health = await host.Http.GetStringAsync("/health");
        Assert.Contains("\"degraded\"", health, StringComparison.Ordinal);
        Assert.Contains("MinFreeBytes", health, StringComparison.Ordinal);

        // Deletes work: this is how space is freed through the API.
        Assert.Equal(HttpStatusCode.NoContent, (await host.Http.DeleteAsync($"/api/messages/{ids[0]}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync($"/api/messages/{ids[0]}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await host.Http.DeleteAsync($"/api/messages?server={inbox}")).StatusCode);
        Assert.Empty(await host.ListAsync(inbox));

        // Room again: mail is taken, by itself, and the reserve is made again.
        File.Delete(filler);
        await Poll.UntilAsync(
            async () => (await SendAsync(host.SmtpPort, inbox)).StartsWith("250 ", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "mail is taken again once the disk has room");
        Assert.Equal("after", (await host.ListAsync(inbox))[0].GetProperty("subject").GetString());
        Assert.True(File.Exists(store.Space.ReservePath), "the reserve file was not made again");
        Assert.Contains("\"healthy\"", await host.Http.GetStringAsync("/health"), StringComparison.Ordinal);
    }

    /// <summary>The reply to MAIL in a new session, which must go on whatever it was.</summary>
    private static async Task<string> MailReplyAsync(int port, ITestOutputHelper output)
    {
        await using var client = await RawSmtpClient.ConnectAsync(port, output);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        var reply = await client.CommandAsync("MAIL FROM:<a@b.example>");
        Assert.Equal("250 OK", await client.CommandAsync("NOOP"));
        return reply;
    }

    private static async Task<string> SendAsync(int port, string inbox)
    {
        await using var client = await RawSmtpClient.ConnectAsync(port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        var mail = await client.CommandAsync("MAIL FROM:<a@b.example>");
        if (!mail.StartsWith("250", StringComparison.Ordinal))
            return mail;
        await client.CommandAsync($"RCPT TO:<x@{inbox}.localhost>");
        await client.CommandAsync("DATA");
        return await client.CommandAsync("Subject: after\r\n\r\nroom again\r\n.");
    }

    /// <summary>Writes a file until the disk says it is full, as another program filling the disk would.</summary>
    private static void FillDisk(string path)
    {
        var block = new byte[256 * 1024];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0);
        try
        {
            while (true)
                file.Write(block);
        }
        catch (IOException)
        {
            // full
        }

        // Whatever is left, smaller than a block.
        block = new byte[4096];
        try
        {
            while (true)
                file.Write(block);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A small tmpfs mounted for a test and unmounted after it; needs root (CAP_SYS_ADMIN).</summary>
public sealed class TmpfsMount : IDisposable
{
    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    public static TmpfsMount? TryCreate(int megabytes, ITestOutputHelper output, out string why)
    {
        why = "";
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            why = "a full disk is made with a tmpfs mount, which needs Linux and root (CI runs as root)";
            return null;
        }

        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mailsink-tmpfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        var (code, text) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
        output.WriteLine($"mount tmpfs {megabytes} MB at {path}: {code} {text}");
        if (code != 0)
        {
            Directory.Delete(path);
            why = $"mounting a tmpfs failed ({text.Trim()}): the container lacks CAP_SYS_ADMIN";
            return null;
        }

        return new TmpfsMount(path);
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static (int Code, string Output) Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var text = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, text);
    }
}
