using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace MailSink.Api;

/// <summary>
/// The API key check, one for <c>/api</c> (<see cref="ApiKeyMiddleware"/>) and <c>/health</c>'s details:
/// HTTP Basic with the key as the user name (any password), or as the password; compared in constant time.
/// </summary>
internal sealed class ApiKey(IOptions<ApiOptions> options)
{
    private readonly byte[] _keyHash = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.ApiKey));

    /// <summary>Whether a key is configured at all (empty: the API is open).</summary>
    public bool IsSet { get; } = options.Value.ApiKey.Length > 0;

    /// <summary>True when no key is configured, or the request carries it.</summary>
    public bool Allows(HttpRequest request) => !IsSet || Carries(request);

    private bool Carries(HttpRequest request)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header)
            || !"Basic".Equals(header.Scheme, StringComparison.OrdinalIgnoreCase)
            || header.Parameter is null)
            return false;

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return false;
        }

        var colon = decoded.IndexOf(':');
        var user = colon < 0 ? decoded : decoded[..colon];
        var password = colon < 0 ? "" : decoded[(colon + 1)..];
        return Matches(user) | Matches(password);
    }

    private bool Matches(string candidate) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(candidate)), _keyHash);
}
