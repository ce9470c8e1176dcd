using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MailSink.Tests.Support;

namespace MailSink.Tests.Processes;

/// <summary>
/// A fresh process, whose first message is windows-1252 text: code-page charsets must decode from the start,
/// not only after some HTML mail has made AngleSharp register them (which an in-process test cannot show,
/// as other tests have long since parsed HTML).
/// </summary>
public sealed class CharsetTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_first_message_of_a_fresh_server_in_windows_1252_decodes_its_euro_sign()
    {
        using var root = new TempDirectory();
        await using var server = await MailSinkProcess.StartAsync(output, root.Path);

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync("127.0.0.1", server.SmtpPort);
            await using var stream = tcp.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            async Task<string> Reply()
            {
                string line;
                do
                    line = (await reader.ReadLineAsync())!;
                while (line.Length > 3 && line[3] == '-');
                return line;
            }

            async Task<string> Send(byte[] bytes)
            {
                await stream.WriteAsync(bytes);
                return await Reply();
            }

            Assert.StartsWith("220", await Reply());
            Assert.StartsWith("250", await Send("EHLO me\r\n"u8.ToArray()));
            Assert.StartsWith("250", await Send("MAIL FROM:<a@b.example>\r\n"u8.ToArray()));
            Assert.StartsWith("250", await Send("RCPT TO:<x@cp.localhost>\r\n"u8.ToArray()));
            Assert.StartsWith("354", await Send("DATA\r\n"u8.ToArray()));
            Assert.StartsWith("250", await Send(
                [.. "Subject: price\r\nContent-Type: text/plain; charset=windows-1252\r\n\r\n10 "u8, 0x80, .. "\r\n.\r\n"u8]));
        }

        var list = JsonDocument.Parse(await server.Http.GetStringAsync("api/messages?server=cp")).RootElement;
        var id = list.GetProperty("items")[0].GetProperty("id").GetString();
        var message = JsonDocument.Parse(await server.Http.GetStringAsync($"api/messages/{id}")).RootElement;
        Assert.Equal("10 \u20ac", message.GetProperty("text").GetProperty("body").GetString()!.TrimEnd());
        Assert.Equal("10 \u20ac", list.GetProperty("items")[0].GetProperty("summary").GetString());
    }
}
