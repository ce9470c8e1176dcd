using System.Security.Cryptography.X509Certificates;
using MailSink.Server.Smtp;
using MailSink.Tests.Support;

namespace MailSink.Tests.Smtp;

/// <summary>Where the TLS certificate comes from: a PFX, a PEM pair, or a self-signed one made once and reused.</summary>
public sealed class CertificateTests
{
    private static async Task<X509Certificate2> PresentedCertificateAsync(int port)
    {
        await using var client = await RawSmtpClient.ConnectAsync(port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO me");
        Assert.StartsWith("220", await client.CommandAsync("STARTTLS"));
        return await client.StartTlsAsync();
    }

    [Fact]
    public async Task A_self_signed_certificate_is_made_in_certs_on_first_start_and_reused_after()
    {
        using var root = new TempDirectory();
        string thumbprint;
        await using (var first = await MailSinkHost.StartAsync($"--contentRoot={root.Path}"))
        {
            var path = Path.Combine(root.Path, "certs", "mailsink.pfx");
            Assert.True(File.Exists(path));
            var presented = await PresentedCertificateAsync(first.SmtpPort);
            Assert.Contains("CN=mailsink.localhost", presented.Subject);
            var names = presented.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
            Assert.Contains("localhost", names.EnumerateDnsNames());
            thumbprint = presented.Thumbprint;
        }

        await using var second = await MailSinkHost.StartAsync($"--contentRoot={root.Path}");
        Assert.Equal(thumbprint, (await PresentedCertificateAsync(second.SmtpPort)).Thumbprint);
    }

    /// <summary>
    /// The self-signed certificate follows the server name: started again under another name, MailSink makes a
    /// new one (a client checking names would refuse the old), and keeps that one after. A certificate someone
    /// put in certs/ is theirs: used as it is, whatever its name.
    /// </summary>
    [Fact]
    public async Task The_self_signed_certificate_is_made_again_for_a_new_server_name_and_one_put_in_certs_is_kept()
    {
        using var root = new TempDirectory();
        string first;
        await using (var host = await MailSinkHost.StartAsync($"--contentRoot={root.Path}"))
            first = (await PresentedCertificateAsync(host.SmtpPort)).Thumbprint;

        string renamed;
        await using (var host = await MailSinkHost.StartAsync($"--contentRoot={root.Path}", "--MailSink:Smtp:ServerName=mail.test"))
        {
            var presented = await PresentedCertificateAsync(host.SmtpPort);
            Assert.NotEqual(first, presented.Thumbprint);
            Assert.True(presented.MatchesHostname("mail.test"));
            renamed = presented.Thumbprint;
            var kept = Assert.Single(Directory.GetFiles(Path.Combine(root.Path, "certs"), "mailsink.pfx.*.old")); // the old one, in case it was trusted
            Assert.Equal(first, X509CertificateLoader.LoadPkcs12FromFile(kept, null).Thumbprint);
        }

        await using (var host = await MailSinkHost.StartAsync($"--contentRoot={root.Path}", "--MailSink:Smtp:ServerName=mail.test"))
            Assert.Equal(renamed, (await PresentedCertificateAsync(host.SmtpPort)).Thumbprint);

        // Someone's own certificate, for another name, in certs/: kept.
        using (var key = System.Security.Cryptography.ECDsa.Create())
        {
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=theirs.example", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
            using var theirs = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            Assert.False(CertificateProvider.IsSelfMade(theirs));
            await File.WriteAllBytesAsync(Path.Combine(root.Path, "certs", "mailsink.pfx"), theirs.Export(X509ContentType.Pfx));
            await using var host = await MailSinkHost.StartAsync($"--contentRoot={root.Path}", "--MailSink:Smtp:ServerName=mail.test");
            Assert.Equal(theirs.Thumbprint, (await PresentedCertificateAsync(host.SmtpPort)).Thumbprint);
        }
    }

    /// <summary>When MailSink makes its certificate again: its own, expiring or for another name; never someone else's, however named.</summary>
    [Fact]
    public void Only_a_certificate_mailsink_made_is_made_again_when_expiring_or_for_another_name()
    {
        var now = DateTime.Now;
        using var made = CertificateProvider.CreateSelfSigned("mail.test");
        Assert.False(CertificateProvider.MustRemake(made, "mail.test", now));
        Assert.False(CertificateProvider.MustRemake(made, "localhost", now));
        Assert.True(CertificateProvider.MustRemake(made, "other.test", now));
        Assert.True(CertificateProvider.MustRemake(made, "mail.test", made.NotAfter.AddHours(-12)));

        // A server name that is an address is in the certificate as an address, so it matches the next start.
        using var byAddress = CertificateProvider.CreateSelfSigned("10.0.0.5");
        Assert.False(CertificateProvider.MustRemake(byAddress, "10.0.0.5", now));

        // Someone else's self-signed certificate, with a multi-valued name: kept, not a crash.
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new CertificateRequest("CN=mail.test+O=Acme", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var theirs = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-10), DateTimeOffset.UtcNow.AddDays(-1));
        Assert.False(CertificateProvider.MustRemake(theirs, "other.test", now));
    }

    [Fact]
    public async Task A_pem_certificate_and_key_or_a_pfx_with_a_password_are_used_when_configured()
    {
        using var files = new TempDirectory();
        using var certificate = CertificateProvider.CreateSelfSigned("pem.example");
        var certPath = Path.Combine(files.Path, "server.crt");
        var keyPath = Path.Combine(files.Path, "server.key");
        await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        await using (var host = await MailSinkHost.StartAsync($"--MailSink:Smtp:Certificate:Path={certPath}", $"--MailSink:Smtp:Certificate:KeyPath={keyPath}"))
            Assert.Equal(certificate.Thumbprint, (await PresentedCertificateAsync(host.SmtpPort)).Thumbprint);

        var pfxPath = Path.Combine(files.Path, "server.pfx");
        await File.WriteAllBytesAsync(pfxPath, certificate.Export(X509ContentType.Pfx, "pfx-password"));
        await using (var host = await MailSinkHost.StartAsync($"--MailSink:Smtp:Certificate:Path={pfxPath}", "--MailSink:Smtp:Certificate:Password=pfx-password"))
            Assert.Equal(certificate.Thumbprint, (await PresentedCertificateAsync(host.SmtpPort)).Thumbprint);
    }

    [Fact]
    public async Task A_pfx_with_the_wrong_password_stops_the_start_naming_the_setting()
    {
        using var files = new TempDirectory();
        using var certificate = CertificateProvider.CreateSelfSigned("pfx.example");
        var pfxPath = Path.Combine(files.Path, "server.pfx");
        await File.WriteAllBytesAsync(pfxPath, certificate.Export(X509ContentType.Pfx, "right"));
        var error = await Assert.ThrowsAsync<MailSink.Server.StartupException>(() =>
            MailSinkHost.StartAsync($"--MailSink:Smtp:Certificate:Path={pfxPath}", "--MailSink:Smtp:Certificate:Password=wrong"));
        Assert.Contains("MailSink:Smtp:Certificate", error.Message);
    }
}
