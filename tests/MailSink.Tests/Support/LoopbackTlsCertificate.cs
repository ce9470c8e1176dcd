using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MailSink.Tests.Support;

/// <summary>
/// A throw-away self-signed server certificate for one loopback IP address (its SAN), written to a
/// folder as a PFX for Kestrel and as a PEM that a client can trust (e.g. Node's NODE_EXTRA_CA_CERTS).
/// </summary>
public sealed class LoopbackTlsCertificate
{
    private LoopbackTlsCertificate(string pfxPath, string pfxPassword, string pemPath)
    {
        PfxPath = pfxPath;
        PfxPassword = pfxPassword;
        PemPath = pemPath;
    }

    public string PfxPath { get; }

    public string PfxPassword { get; }

    public string PemPath { get; }

    /// <summary>Kestrel's default certificate, as command-line settings.</summary>
    public string[] KestrelSettings =>
        [$"--Kestrel:Certificates:Default:Path={PfxPath}", $"--Kestrel:Certificates:Default:Password={PfxPassword}"];

    public static LoopbackTlsCertificate Create(IPAddress address, string directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=MailSink test {address}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(address);
        request.CertificateExtensions.Add(names.Build());
        // Self-signed and trusted directly, so it is its own issuer: a CA for itself.
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));

        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        Directory.CreateDirectory(directory);
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var pfx = Path.Combine(directory, "server.pfx");
        var pem = Path.Combine(directory, "server.pem");
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pkcs12, password));
        File.WriteAllText(pem, certificate.ExportCertificatePem());
        return new LoopbackTlsCertificate(pfx, password, pem);
    }
}
