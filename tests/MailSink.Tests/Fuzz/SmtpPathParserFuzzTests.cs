using System.Text;
using System.Text.RegularExpressions;
using MailSink.Server.Smtp;
using MailSink.Storage;

namespace MailSink.Tests.Fuzz;

/// <summary>
/// Issue 5, item 4: what follows <c>MAIL FROM:</c> and <c>RCPT TO:</c> comes from the client. The parser
/// never throws, its errors are one printable line (they are echoed in replies), and every valid address,
/// written any of the ways people write it, parses back to itself with its parameters.
/// </summary>
public sealed partial class SmtpPathParserFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Dictionary =
    [
        "<", ">", "<>", "@", "\"", "\\", ",", ":", " ", "\t", "=", "SIZE=", "BODY=8BITMIME", "SMTPUTF8", "NOTIFY=NEVER",
        "ORCPT=rfc822;a@b", "@relay.example:", "@a,@b:", "[127.0.0.1]", "[IPv6:::1]", "postmaster", "Postmaster",
        "user@inbox.localhost", "\"quoted local\"@x.example", "Name <", "jos\u00e9@b\u00fccher.de", "xn--bcher-kva.de",
    ];

    [Fact]
    public Task Random_and_mutated_paths_never_throw_and_errors_are_one_printable_line() =>
        FuzzRun.RunAsync("smtp-path", output, input =>
        {
            var random = input.Random;
            var text = input.Literal?.TrimEnd('\n') ?? random.Next(4) switch
            {
                0 => Mutator.RandomChars(random, random.Next(0, 80)),
                1 => Mutator.Mutate(random, input.PickCorpus().TrimEnd('\n'), Dictionary, input.PickCorpus()),
                _ => Mutator.Mutate(random, WrittenPath(random, [.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => ValidAddress(random))], random.Next(2) == 0), Dictionary),
            };

            var seen = new List<string>();
            foreach (var list in new[] { false, true })
            {
                var ok = list
                    ? SmtpPathParser.TryParseRcptTo(text, out var result, out var error)
                    : SmtpPathParser.TryParseMailFrom(text, out result, out error);
                if (ok)
                {
                    Assert.NotNull(result);
                    Assert.Equal("", error);
                    Assert.NotEmpty(result.Addresses);
                    if (!list)
                        Assert.Single(result.Addresses);
                    foreach (var address in result.Addresses)
                    {
                        var valid = SmtpPathParser.IsValidAddress(address, allowPostmaster: list, out var addressError);
                        AssertOneLine(addressError, text);
                        seen.Add($"{(list ? "rcpt" : "mail")} ok, address {(valid ? "valid" : "invalid: " + Template(addressError))}");
                    }

                    Assert.All(result.Parameters.Keys, k => Assert.Matches("^[A-Za-z0-9-]+$", k));
                    seen.Add($"{(list ? "rcpt" : "mail")} ok, {Math.Min(result.Addresses.Count, 3)} addresses, {Math.Min(result.Parameters.Count, 3)} parameters");
                }
                else
                {
                    Assert.Null(result);
                    Assert.NotEqual("", error);
                    AssertOneLine(error, text);
                    seen.Add($"{(list ? "rcpt" : "mail")} error: {Template(error)}");
                }
            }

            var printable = QuotedText.Printable(text, 32);
            Assert.True(printable.Length <= 33, $"Printable gave {printable.Length} characters");
            Assert.DoesNotContain(printable, char.IsControl);
            if (IsValidUtf16(text))
                Assert.True(IsValidUtf16(printable), $"Printable cut a surrogate pair of {FuzzRun.Show(text)}");
            return Task.FromResult<IEnumerable<string>>(seen);
        });

    [Fact]
    public Task Every_valid_address_parses_back_to_itself_however_it_is_written() =>
        FuzzRun.RunAsync("smtp-path-roundtrip", output, input =>
        {
            var random = input.Random;
            var addresses = Enumerable.Range(0, random.Next(1, 5)).Select(_ => ValidAddress(random)).ToList();
            var parameters = RandomParameters(random);
            var seen = new List<string>();

            foreach (var address in addresses)
            {
                Assert.True(SmtpPathParser.IsValidAddress(address, allowPostmaster: false, out var error), $"{FuzzRun.Show(address)}: {error}");
                var angle = random.Next(3) != 0 || address.Contains(' ', StringComparison.Ordinal);
                var written = WrittenPath(random, [address], angle) + string.Concat(parameters.Select(p => $" {p.Key}{(p.Value is null ? "" : "=" + p.Value)}"));
                Assert.True(SmtpPathParser.TryParseMailFrom(written, out var result, out error), $"MAIL FROM:{FuzzRun.Show(written)} failed: {error}");
                Assert.Equal([address], result!.Addresses);
                Assert.Equal(parameters.Count, result.Parameters.Count);
                foreach (var (key, value) in parameters)
                    Assert.Equal(value, result.Parameters[key]);
                seen.Add($"{(angle ? "angle" : "bare")} form, {(address.Any(c => c > 127) ? "utf-8" : "ascii")}, {(address.StartsWith('"') ? "quoted" : "atom")} local part");
            }

            var listed = WrittenPath(random, addresses, angle: true);
            Assert.True(SmtpPathParser.TryParseRcptTo(listed, out var list, out var listError), $"RCPT TO:{FuzzRun.Show(listed)} failed: {listError}");
            Assert.Equal(addresses, list!.Addresses);
            seen.Add($"list of {addresses.Count}");
            return Task.FromResult<IEnumerable<string>>(seen);
        });

    private static void AssertOneLine(string error, string input) =>
        Assert.False(error.Any(char.IsControl), $"error '{FuzzRun.Show(error)}' for {FuzzRun.Show(input)} has a control character");

    private static bool IsValidUtf16(string text)
    {
        try
        {
            _ = new UTF8Encoding(false, true).GetBytes(text);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>An error with the quoted input and numbers taken out: the kind of error.</summary>
    private static string Template(string error)
    {
        var first = error.IndexOf('\'');
        var last = error.LastIndexOf('\'');
        var shown = first >= 0 && last > first ? error[..first] + "'…'" + error[(last + 1)..] : error;
        return Digits().Replace(shown, "#");
    }

    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    /// <summary>The addresses as someone might write them after the colon: angle brackets, display names, spaces.</summary>
    private static string WrittenPath(Random random, IReadOnlyList<string> addresses, bool angle)
    {
        var parts = addresses.Select(a =>
        {
            if (!angle)
                return a;
            var name = random.Next(4) switch
            {
                0 => "Alice Example ",
                1 => "\"Example, Alice\" ",
                2 => "\"J\u00f6rg <x>\" ",
                _ => "",
            };
            var route = random.Next(8) == 0 ? "@relay.example:" : "";
            return $"{name}<{route}{a}>";
        });
        return (random.Next(3) == 0 ? " \t" : "") + string.Join(random.Pick([",", ", ", " , "]), parts);
    }

    private static Dictionary<string, string?> RandomParameters(Random random)
    {
        var parameters = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = random.Next(4); i > 0; i--)
        {
            var key = random.Pick(["SIZE", "BODY", "SMTPUTF8", "ENVID", "RET", "AUTH", "X-ANY", "x-lower"]);
            parameters[key] = random.Next(4) == 0 ? null : random.Next(3) == 0 ? "" : Mutator.RandomAscii(random, random.Next(1, 12)).Replace(" ", "", StringComparison.Ordinal);
        }

        return parameters;
    }

    /// <summary>A valid address: dot-atom or quoted local part, UTF-8 allowed, a domain of DNS labels or an address literal.</summary>
    internal static string ValidAddress(Random random)
    {
        const string atom = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~";
        string local;
        if (random.Next(6) == 0)
        {
            var inner = random.Pick(["a b", "x@y", "with \\\" quote", "a<b>c", "comma, here", "\u00fcber"]);
            local = $"\"{inner}\"";
        }
        else
        {
            var words = Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(5) == 0
                ? random.Pick(["jos\u00e9", "\u7528\u6237", "\u0434\u0438\u043c\u0430", "\ud83d\ude00"])
                : string.Concat(Enumerable.Range(0, random.Next(1, 12)).Select(_ => atom[random.Next(atom.Length)])));
            local = string.Join('.', words);
        }

        string domain;
        if (random.Next(10) == 0)
        {
            domain = random.Pick(["[127.0.0.1]", "[IPv6:::1]", "[192.0.2.7]"]);
        }
        else
        {
            var labels = Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(5) == 0
                ? random.Pick(["b\u00fccher", "\u4f8b\u5b50", "xn--bcher-kva", "m03agkv6"])
                : string.Concat(Enumerable.Range(0, random.Next(1, 10)).Select(_ => "abcdefghijklmnopqrstuvwxyz0123456789"[random.Next(36)])));
            domain = string.Join('.', labels.Append(random.Pick(["localhost", "example", "example.com"])));
        }

        return $"{local}@{domain}";
    }
}
