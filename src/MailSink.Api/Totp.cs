using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MailSink.Api;

/// <summary>
/// Time-based one-time passwords as RFC 6238 defines them and authenticator apps compute them: HMAC-SHA-1
/// over the count of 30-second steps since the Unix epoch, dynamically truncated (RFC 4226 §5.3), 6 digits;
/// the shared secret in base32 (RFC 4648).
/// </summary>
public static class Totp
{
    public const int StepSeconds = 30;

    /// <summary>The code for <paramref name="secret"/> at <paramref name="unixSeconds"/>, and when it stops being current.</summary>
    public static (string Code, DateTimeOffset Expires) Compute(byte[] secret, long unixSeconds, int digits = 6)
    {
        var step = unixSeconds / StepSeconds;
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        Span<byte> hash = stackalloc byte[HMACSHA1.HashSizeInBytes];
#pragma warning disable CA5350 // RFC 6238's TOTP is HMAC-SHA-1: what authenticator apps compute
        HMACSHA1.HashData(secret, counter, hash);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0F;
        var binary = (BinaryPrimitives.ReadInt32BigEndian(hash[offset..]) & 0x7FFFFFFF) % (int)Math.Pow(10, digits);
        return (binary.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(digits, '0'),
            DateTimeOffset.FromUnixTimeSeconds((step + 1) * StepSeconds));
    }

    /// <summary>
    /// Decodes a base32 secret: any case, spaces, hyphens and '=' padding ignored (apps show secrets in
    /// groups). False when a character is not in the alphabet or nothing is left.
    /// </summary>
    public static bool TryDecodeBase32(string text, out byte[] bytes)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var output = new List<byte>(text.Length * 5 / 8);
        int buffer = 0, bits = 0;
        foreach (var c in text)
        {
            if (c is ' ' or '-' or '=')
                continue;
            var value = alphabet.IndexOf(char.ToUpperInvariant(c));
            if (value < 0)
            {
                bytes = [];
                return false;
            }

            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                output.Add((byte)(buffer >> bits));
                buffer &= (1 << bits) - 1;
            }
        }

        bytes = [.. output];
        return bytes.Length > 0;
    }

    /// <summary>The secret as it is kept: upper case, without spaces, hyphens or padding.</summary>
    public static string Normalize(string text) => new string(text.Where(c => c is not (' ' or '-' or '=')).ToArray()).ToUpperInvariant();
}
