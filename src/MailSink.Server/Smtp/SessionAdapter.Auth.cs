using System.Security.Cryptography;
using System.Text;
using MailSink.Storage;

namespace MailSink.Server.Smtp;

/// <summary>
/// AUTH PLAIN, LOGIN and CRAM-MD5, with or without an initial response. The adapter owns AUTH from start
/// to end (the library lacks CRAM-MD5 and drops the connection on <c>*</c> or bad base64): it runs the
/// exchange, checks the credentials, records the user in <see cref="SessionState"/> and answers
/// <c>235</c>. The library never sees AUTH, so the user is forgotten with the rest of the session at a
/// TLS upgrade (<see cref="AfterUpgrade"/>), and AUTH-required listeners are enforced at MAIL.
/// </summary>
internal sealed partial class SessionAdapter
{
    private const string Mechanisms = "PLAIN LOGIN CRAM-MD5";

    private sealed record Credentials(string User, string? Password, string? Challenge = null, string? Digest = null);

    private async ValueTask AuthAsync(string args, CancellationToken cancellationToken)
    {
        if (!_state.Greeted)
        {
            Reply("503 Send EHLO first");
            return;
        }

        if (_state.AuthenticatedUser is not null)
        {
            Reply("503 Already authenticated");
            return;
        }

        if (_state.InTransaction)
        {
            Reply("503 AUTH is not allowed inside a mail transaction; send RSET first");
            return;
        }

        if (!Settings.AuthAllowed(Transport.IsSecure))
        {
            Reply("538 Encryption required: send STARTTLS before AUTH");
            return;
        }

        var parts = args.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            Reply($"501 Syntax: AUTH mechanism [initial-response]; mechanisms: {Mechanisms}");
            return;
        }

        var initial = parts.Length > 1 ? parts[1] : null;
        var credentials = parts[0].ToUpperInvariant() switch
        {
            "PLAIN" => await PlainAsync(initial, cancellationToken),
            "LOGIN" => await LoginAsync(initial, cancellationToken),
            "CRAM-MD5" => await CramMd5Async(initial, cancellationToken),
            _ => Unsupported(parts[0]),
        };
        if (credentials is null)
            return; // already answered: cancelled, malformed, or the client left

        if (credentials.User.Any(char.IsControl))
        {
            Reply("501 The user name contains control characters");
            return;
        }

        if (!Verify(credentials))
        {
            Log.AuthenticationFailed(logger, Id, credentials.User);
            Reply("535 Authentication credentials invalid");
            return;
        }

        _state.AuthenticatedUser = credentials.User;
        Log.Authenticated(logger, Id, credentials.User);
        Reply("235 Authentication succeeded");
    }

    private Credentials? Unsupported(string mechanism)
    {
        Reply($"504 Unrecognized authentication mechanism {QuotedText.Printable(mechanism, 32)}; use one of: {Mechanisms}");
        return null;
    }

    private async ValueTask<Credentials?> PlainAsync(string? initial, CancellationToken cancellationToken)
    {
        var response = initial ?? await ChallengeAsync("", cancellationToken);
        if (response is null || !TryBase64(response, PlainWanted, out var bytes))
            return null;

        var fields = Encoding.UTF8.GetString(bytes).Split('\0');
        if (fields.Length != 3 || fields[1].Length == 0)
        {
            Reply("501 Malformed PLAIN response: expected base64 of authzid NUL user NUL password");
            return null;
        }

        return new Credentials(fields[1], fields[2]);
    }

    private async ValueTask<Credentials?> LoginAsync(string? initial, CancellationToken cancellationToken)
    {
        var userText = initial ?? await ChallengeAsync("VXNlcm5hbWU6", cancellationToken); // "Username:"
        if (userText is null || !TryBase64(userText, UserWanted(userText), out var user))
            return null;

        var passwordText = await ChallengeAsync("UGFzc3dvcmQ6", cancellationToken); // "Password:"
        if (passwordText is null || !TryBase64(passwordText, "type the password in base64 (x is eA==)", out var password))
            return null;

        return new Credentials(Encoding.UTF8.GetString(user), Encoding.UTF8.GetString(password));
    }

    private async ValueTask<Credentials?> CramMd5Async(string? initial, CancellationToken cancellationToken)
    {
        if (initial is not null)
        {
            Reply("501 CRAM-MD5 takes no initial response");
            return null;
        }

        var challenge = $"<{RandomNumberGenerator.GetInt32(int.MaxValue)}.{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}@{Settings.ServerName}>";
        var response = await ChallengeAsync(Convert.ToBase64String(Encoding.ASCII.GetBytes(challenge)), cancellationToken);
        if (response is null || !TryBase64(response, "type base64 of the user name, a space and the challenge's HMAC-MD5 in hex, keyed with the password", out var bytes))
            return null;

        var text = Encoding.UTF8.GetString(bytes);
        var space = text.LastIndexOf(' ');
        var digest = space < 0 ? "" : text[(space + 1)..];
        if (space <= 0 || digest.Length != 32 || !digest.All(char.IsAsciiHexDigit))
        {
            Reply("501 Malformed CRAM-MD5 response: expected base64 of 'user hex-digest'");
            return null;
        }

        return new Credentials(text[..space], null, challenge, digest.ToLowerInvariant());
    }

    /// <summary>Sends a <c>334</c> challenge and reads the answer; null when cancelled or the client left.</summary>
    private async ValueTask<string?> ChallengeAsync(string challenge, CancellationToken cancellationToken)
    {
        Reply($"334 {challenge}");
        _awaitingAuthAnswer = true;
        var line = await ReadLineAsync(watchDrain: false, cancellationToken);
        _awaitingAuthAnswer = false;
        if (line is null)
            return null;
        if (line.Error is not null)
        {
            Reply("501 Authentication aborted: the response was not readable");
            return null;
        }

        var text = line.Text!.Trim();
        if (text == "*")
        {
            Reply("501 Authentication cancelled");
            return null;
        }

        return text;
    }

    /// <summary>What AUTH PLAIN takes, with an example a person can type as it is (base64 of NUL "me" NUL "x").</summary>
    private const string PlainWanted = "AUTH PLAIN takes base64 of a NUL, the user name, a NUL and the password (user me, password x: AUTH PLAIN AG1lAHg=)";

    /// <summary>
    /// What AUTH LOGIN's first answer should have been. A person typing the user name as it is gets it back in
    /// base64 to type instead; a user name is no secret (it is logged), a password is never echoed.
    /// </summary>
    private static string UserWanted(string typed) =>
        typed.Length <= 64 && QuotedText.Printable(typed) == typed && !typed.Contains(' ', StringComparison.Ordinal)
            ? $"type the user name in base64 ({typed} is {Convert.ToBase64String(Encoding.UTF8.GetBytes(typed))})"
            : "type the user name in base64";

    /// <summary>Decodes an AUTH answer; when it is not base64, answers 501 with <paramref name="wanted"/>: what to type instead.</summary>
    private bool TryBase64(string text, string wanted, out byte[] bytes)
    {
        bytes = [];
        if (text == "=")
            return true; // RFC 4954: an empty initial response
        var buffer = new byte[(text.Length * 3 / 4) + 3];
        if (Convert.TryFromBase64String(text, buffer, out var written))
        {
            bytes = buffer[..written];
            return true;
        }

        Reply($"501 Invalid base64 data in the AUTH response: {wanted}");
        return false;
    }

    private bool Verify(Credentials credentials)
    {
        if (Settings.AuthMode == SmtpAuthMode.AcceptAny)
            return true;
        if (!Settings.Users.TryGetValue(credentials.User, out var password))
            return false;

        if (credentials.Challenge is null)
        {
            return CryptographicOperations.FixedTimeEquals(
                Encoding.UTF8.GetBytes(credentials.Password ?? ""), Encoding.UTF8.GetBytes(password));
        }

#pragma warning disable CA5351 // CRAM-MD5 (RFC 2195) is HMAC-MD5 by definition; offered because clients and the issue ask for it
        var expected = Convert.ToHexStringLower(
            HMACMD5.HashData(Encoding.UTF8.GetBytes(password), Encoding.ASCII.GetBytes(credentials.Challenge)));
#pragma warning restore CA5351
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(credentials.Digest!));
    }
}
