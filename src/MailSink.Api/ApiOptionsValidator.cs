using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace MailSink.Api;

/// <summary>A bad <c>MailSink:Api</c> value stops the process with one line naming its key.</summary>
internal sealed partial class ApiOptionsValidator : IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.AllowedHosts.Count; i++)
        {
            var entry = options.AllowedHosts[i];
            if (entry is null || (entry != "*" && !HostPattern().IsMatch(entry)))
            {
                failures.Add(
                    $"{ApiOptions.Section}:AllowedHosts:{i} must be a host name such as mail.example.com, a wildcard such as " +
                    $"*.example.com, or * for any host; no scheme, port or path, and an international name in its xn-- form (it is '{entry}').");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Dot-separated labels of letters, digits, hyphens and underscores, maybe after <c>*.</c>, maybe with a final dot.</summary>
    [GeneratedRegex(@"^(\*\.)?(?=.{1,253}\.?$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$")]
    private static partial Regex HostPattern();
}
