using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using MailSink.Server.Smtp;
using MailSink.Tests.Support;

namespace MailSink.Tests.Api;

/// <summary>
/// The official <c>mailosaur</c> npm client (11.1.1, pinned by the committed lock file) runs
/// Node/client-flow.mjs against MailSink, unmodified but for its base URL. That client speaks only HTTPS
/// and always connects to port 443, so MailSink listens with a self-signed certificate on port 443 of a
/// random 127.77.x.y address, and Node trusts that certificate through NODE_EXTRA_CA_CERTS: TLS is
/// verified for real, and the API key is required.
/// </summary>
public sealed class MailosaurNodeClientTests(MailosaurNpmClient npm, SpamdServer spamd, TestDnsServer dns, ITestOutputHelper output)
    : IClassFixture<MailosaurNpmClient>, IClassFixture<SpamdServer>, IClassFixture<TestDnsServer>
{
    private static readonly TimeSpan ScriptDeadline = TimeSpan.FromSeconds(90);
    private const int StartAttempts = 5;

    [Fact]
    public async Task Official_node_client_creates_waits_for_reads_searches_downloads_and_deletes_with_its_own_errors()
    {
        output.WriteLine(npm.InstallLog.TrimEnd());
        var apiKey = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var tlsFolder = Path.Combine(Path.GetTempPath(), "mailsink-tests", Guid.NewGuid().ToString("N") + "-tls");
        try
        {
            var (host, address, certificate) = await StartOnPort443Async(apiKey, tlsFolder);
            await using (host)
            {
                var start = new ProcessStartInfo("node") { WorkingDirectory = npm.Folder };
                start.ArgumentList.Add("client-flow.mjs");
                start.Environment["NODE_EXTRA_CA_CERTS"] = certificate.PemPath;
                start.Environment["MAILSINK_BASE_URL"] = $"https://{address}/";
                start.Environment["MAILSINK_API_KEY"] = apiKey;
                start.Environment["MAILSINK_SMTP_HOST"] = "127.0.0.1";
                start.Environment["MAILSINK_SMTP_PORT"] = host.Listeners.PortOf(TlsMode.None).ToString(CultureInfo.InvariantCulture);
                start.Environment["MAILSINK_DOMAIN"] = "localhost";
                // The client tunnels through any proxy named here, and it would never reach a loopback address.
                foreach (var proxy in new[] { "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy" })
                    start.Environment.Remove(proxy);

                var lines = new List<string>();
                var toOutput = ChildProcess.To(output);
                var clock = Stopwatch.StartNew();
                var exitCode = await ChildProcess.RunAsync(start, line =>
                {
                    lock (lines)
                        lines.Add(line);
                    toOutput(line);
                }, ScriptDeadline);
                output.WriteLine($"node exited with {exitCode} after {clock.ElapsedMilliseconds} ms");

                Assert.Equal(0, exitCode);
                Assert.Contains(lines, l => l.EndsWith("all steps passed", StringComparison.Ordinal));
            }
        }
        finally
        {
            try
            {
                Directory.Delete(tlsFolder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// MailSink on https://127.77.x.y:443 with a certificate for that address, one plain SMTP listener
    /// on an ephemeral port of 127.0.0.1, and the API key. Another run may hold the address drawn: draw again.
    /// </summary>
    private async Task<(MailSinkHost Host, IPAddress Address, LoopbackTlsCertificate Certificate)> StartOnPort443Async(string apiKey, string tlsFolder)
    {
        for (var attempt = 1; ; attempt++)
        {
            var address = new IPAddress([127, 77, (byte)RandomNumberGenerator.GetInt32(1, 255), (byte)RandomNumberGenerator.GetInt32(1, 255)]);
            var certificate = LoopbackTlsCertificate.Create(address, Path.Combine(tlsFolder, attempt.ToString(CultureInfo.InvariantCulture)));
            try
            {
                var host = await MailSinkHost.StartAsync(
                [
                    $"--urls=https://{address}:443",
                    .. certificate.KestrelSettings,
                    $"--MailSink:Api:ApiKey={apiKey}",
                    .. spamd.HostSettings,
                    .. dns.HostSettings,
                    "--MailSink:Smtp:Listeners:0:Port=0", "--MailSink:Smtp:Listeners:0:Tls=None", "--MailSink:Smtp:Listeners:0:Auth=Optional",
                ]);
                output.WriteLine($"MailSink API on https://{address}:443, SMTP on 127.0.0.1:{host.Listeners.PortOf(TlsMode.None)}");
                return (host, address, certificate);
            }
            catch (IOException ex) when (attempt < StartAttempts)
            {
                output.WriteLine($"{address}:443 is taken ({ex.Message}); drawing another address");
            }
        }
    }
}
