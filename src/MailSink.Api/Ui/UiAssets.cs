using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using MailSink.Storage;
using Microsoft.Extensions.Options;

namespace MailSink.Api;

/// <summary>
/// The web UI's static files, embedded in this assembly under <c>ui/</c> (see the project file) and read
/// once at start: no files on disk, no build step, no CDN. The page names the root domain that inbox
/// addresses are built from, so the UI can offer a ready-made address for each inbox.
/// </summary>
internal sealed class UiAssets
{
    private const string ResourcePrefix = "ui/";
    private const string RootDomainPlaceholder = "%ROOT_DOMAIN%";

    private readonly FrozenDictionary<string, Asset> _assets;

    public UiAssets(IOptions<RoutingOptions> routing)
    {
        // The first configured root domain; an empty list means the documented default.
        var rootDomain = routing.Value.RootDomains.FirstOrDefault() ?? "localhost";
        var assembly = typeof(UiAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var name = resource.Replace('\\', '/');
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
                continue;
            name = name[ResourcePrefix.Length..];
            var content = Read(assembly, resource);
            if (name == "index.html")
                content = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(content).Replace(RootDomainPlaceholder, HtmlEncoder.Default.Encode(rootDomain), StringComparison.Ordinal));
            assets[name] = new Asset(content, ContentTypeOf(name), $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..32]}\"");
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
        Index = _assets.GetValueOrDefault("index.html") ?? throw new InvalidOperationException("The web UI's index.html is not embedded in MailSink.Api.");
    }

    public Asset Index { get; }

    /// <summary>A file by its path under <c>wwwroot/</c> (<c>app.js</c>), or null.</summary>
    public Asset? Find(string path) => _assets.GetValueOrDefault(path);

    private static byte[] Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };

    /// <summary>One embedded file: its bytes, content type and a strong ETag (a hash of the bytes).</summary>
    public sealed record Asset(byte[] Content, string ContentType, string ETag);
}
