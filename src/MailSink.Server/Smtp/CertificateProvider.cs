using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailSink.Server.Smtp;

/// <summary>
/// The TLS certificate: the configured PFX or PEM pair; else <c>certs/mailsink.pfx</c>; else a new
/// self-signed one for the server name, localhost, 127.0.0.1 and ::1, saved there and reused after. One
/// MailSink made itself is made again when the server name has changed since (a client that checks the
/// name would refuse it) or it has expired; one someone put there is used as it is, with a warning when it
/// is not for the server name.
/// </summary>
internal sealed class CertificateProvider(IOptions<SmtpOptions> options, IHostEnvironment environment, ILogger<CertificateProvider> logger)
{
    internal const string DefaultFileName = "mailsink.pfx";

    public X509Certificate2 Load()
    {
        var settings = options.Value.Certificate;
        if (!string.IsNullOrWhiteSpace(settings.Path))
            return LoadConfigured(settings);

        var directory = Path.Combine(environment.ContentRootPath, "certs");
        var path = Path.Combine(directory, DefaultFileName);
        var serverName = options.Value.ServerName;
        if (File.Exists(path))
        {
            var existing = LoadPfx(path, settings.Password, "the certificate in certs/");
            if (!MustRemake(existing, serverName, DateTime.Now))
            {
                if (!existing.MatchesHostname(serverName))
                    Log.CertificateNotForServerName(logger, path, existing.Subject, serverName);
                Log.CertificateLoaded(logger, path, existing.Subject, existing.NotAfter);
                return existing;
            }

            // Kept beside it, not lost: a client or a CI trust store may have trusted that one.
            var kept = $"{path}.{DateTime.UtcNow:yyyyMMddHHmmss}.old";
            try
            {
                File.Move(path, kept, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                kept = $"(not kept: {ex.Message})";
            }

            Log.CertificateReplaced(logger, path, existing.Subject, existing.NotAfter, serverName, kept);
            existing.Dispose();
        }

        var created = CreateSelfSigned(serverName);
        try
        {
            Directory.CreateDirectory(directory);
            File.WriteAllBytes(path, created.Export(X509ContentType.Pfx));
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Log.CertificateCreated(logger, path, created.Subject);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.CertificateNotSaved(logger, path, ex.Message);
        }

        return created;
    }

    private static X509Certificate2 LoadConfigured(CertificateOptions settings)
    {
        var path = settings.Path!;
        if (!File.Exists(path))
            throw new StartupException($"MailSink:Smtp:Certificate:Path points at {path}, which does not exist.");

        if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
            return LoadPfx(path, settings.Password, "MailSink:Smtp:Certificate:Path");

        try
        {
            using var pem = string.IsNullOrWhiteSpace(settings.KeyPath)
                ? X509Certificate2.CreateFromPemFile(path)
                : X509Certificate2.CreateFromPemFile(path, settings.KeyPath);
            if (!pem.HasPrivateKey)
                throw new StartupException($"MailSink:Smtp:Certificate:Path {path} has no private key: set MailSink:Smtp:Certificate:KeyPath.");
            // Re-import so the key is usable by SslStream on every platform.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pfx), null);
        }
        catch (CryptographicException ex)
        {
            throw new StartupException($"MailSink:Smtp:Certificate:Path {path} (with KeyPath) is not a readable PEM certificate and key: {ex.Message}");
        }
    }

    private static X509Certificate2 LoadPfx(string path, string? password, string key)
    {
        try
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }
        catch (CryptographicException ex)
        {
            throw new StartupException($"{key}: {path} is not a readable PFX ({ex.Message}); check MailSink:Smtp:Certificate:Password.");
        }
    }

    private const string SelfMadeOrganization = "MailSink self-signed";

    /// <summary>Whether MailSink made <paramref name="certificate"/> (<see cref="CreateSelfSigned"/>), so that it may make it again.</summary>
    internal static bool IsSelfMade(X509Certificate2 certificate) =>
        certificate.Subject == certificate.Issuer
        && certificate.SubjectName.EnumerateRelativeDistinguishedNames()
            .Any(n => !n.HasMultipleElements && n.GetSingleElementType().Value == "2.5.4.10" && n.GetSingleElementValue() == SelfMadeOrganization);

    /// <summary>A certificate MailSink made that is not for <paramref name="serverName"/>, or expires within a day of <paramref name="now"/>.</summary>
    internal static bool MustRemake(X509Certificate2 certificate, string serverName, DateTime now) =>
        IsSelfMade(certificate) && (!certificate.MatchesHostname(serverName) || certificate.NotAfter <= now.AddDays(1));

    internal static X509Certificate2 CreateSelfSigned(string serverName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={serverName}, O={SelfMadeOrganization}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        if (IPAddress.TryParse(serverName, out var address))
            names.AddIpAddress(address); // a name that is an address is matched as one
        else
            names.AddDnsName(serverName);
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
