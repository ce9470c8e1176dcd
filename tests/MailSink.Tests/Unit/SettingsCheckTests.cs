using System.Text.RegularExpressions;
using MailSink.Server;
using MailSink.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailSink.Tests.Unit;

/// <summary>
/// Which <c>MailSink:…</c> keys are settings: every one that the repository's appsettings.json, <c>mailsink
/// --help</c> and the README name is known, and a slip of the keyboard is told apart, with the name meant.
/// </summary>
public sealed partial class SettingsCheckTests
{
    [Fact]
    public void Every_key_of_appsettings_json_is_a_setting()
    {
        var keys = new ConfigurationBuilder().AddJsonFile(Path.Combine(Repository.Root, "appsettings.json")).Build()
            .AsEnumerable().Where(p => p.Value is not null && p.Key.StartsWith("MailSink:", StringComparison.Ordinal)).Select(p => p.Key).ToList();
        Assert.True(keys.Count > 20, $"only {keys.Count} keys read");
        Assert.All(keys, key => Assert.Null(SettingsCheck.Unknown(key)));
    }

    [Fact]
    public void Every_key_that_the_help_and_the_readme_show_is_a_setting()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));
        var keys = ShownKey().Matches(Program.Help + readme).Select(m => m.Value.TrimEnd(':'))
            .Select(k => k.Replace("<n>", "0", StringComparison.Ordinal))
            .Distinct().ToList();
        Assert.True(keys.Count > 40, $"only {keys.Count} keys found");
        Assert.All(keys, key => Assert.Null(SettingsCheck.Unknown(key)));
    }

    [Theory]
    [InlineData("MailSink:Smtp:MaxMesageBytes", "MailSink:Smtp:MaxMessageBytes")]
    [InlineData("mailsink:smpt:maxmessagebytes", "MailSink:Smtp:maxmessagebytes")]
    [InlineData("MailSink:Smtp:Listeners:1:Prot", "MailSink:Smtp:Listeners:1:Port")]
    [InlineData("MailSink:Analysis:SpamAsassin:Host", "MailSink:Analysis:SpamAssassin:Host")]
    [InlineData("MailSink:Storage:PostgreSql:ConectionString", "MailSink:Storage:PostgreSql:ConnectionString")]
    [InlineData("MailSink:Storage:MaxAges", "MailSink:Storage:MaxAge")]
    public void A_misspelled_key_is_unknown_and_the_setting_meant_is_named(string key, string meant)
    {
        var message = SettingsCheck.Unknown(key);
        Assert.NotNull(message);
        Assert.StartsWith($"{key} is not a MailSink setting and is ignored (did you mean {meant}?)", message);
    }

    [Theory]
    [InlineData("MailSink:Smtp:Zzzzzzzzzzzz")]
    [InlineData("MailSink:Smtp:MaxMessageBytes:Extra")] // nothing is below a number
    [InlineData("MailSink:Nothing")]
    public void Keys_that_are_no_setting_are_unknown(string key)
    {
        var message = SettingsCheck.Unknown(key);
        Assert.NotNull(message);
        Assert.DoesNotContain("did you mean", message);
    }

    [Theory]
    [InlineData("mailsink:smtp:maxmessagebytes")]
    [InlineData("MailSink:Smtp:Listeners:2:Tls")]
    [InlineData("MailSink:Smtp:Auth:Users:3:Password")]
    [InlineData("MailSink:Routing:RootDomains:1")]
    [InlineData("MailSink:Routing:RootDomains:extra")] // the binder takes a list's items by any name
    [InlineData("Logging:LogLevel:Default")] // not MailSink's to judge
    public void Settings_in_any_case_and_list_items_are_known(string key) => Assert.Null(SettingsCheck.Unknown(key));

    /// <summary>A value given to a list or to a group of settings is ignored by the binder: the usual slip with environment variables.</summary>
    [Theory]
    [InlineData("MailSink:Analysis:DnsServers", "10.0.0.2", "is a list and takes no value of its own, so its value is ignored: give its items as MailSink:Analysis:DnsServers:0, MailSink:Analysis:DnsServers:1")]
    [InlineData("MailSink:Routing:RootDomains", "example.test", "is a list and takes no value of its own")]
    [InlineData("MailSink:Storage:PostgreSql", "Host=db", "is a group of settings and takes no value of its own, so its value is ignored: give its settings as MailSink:Storage:PostgreSql:<name>")]
    [InlineData("MailSink:Smtp", "x", "is a group of settings")]
    public void A_value_given_to_a_list_or_a_group_is_named_as_ignored(string key, string value, string expected)
    {
        Assert.Contains($"{key} {expected}", SettingsCheck.Unknown(key, value));
        Assert.Null(SettingsCheck.Unknown(key, "")); // empty: nothing given
        Assert.Null(SettingsCheck.Unknown(key)); // the key alone, as the README names it
    }

    [Fact]
    public void A_property_the_binder_cannot_set_is_no_setting() =>
        Assert.NotNull(SettingsCheck.Unknown("MailSink:Relay:Configured", "true"));

    /// <summary>The application as built (not started: no socket) warns, at start, once for each key that is no setting.</summary>
    [Fact]
    public async Task The_application_warns_at_start_of_each_setting_it_does_not_know()
    {
        using var root = new TempDirectory();
        var capture = new CapturingLoggerProvider();
        await using var app = Program.Build(
            [$"--contentRoot={root.Path}", "--MailSink:Smtp:MaxMesageBytes=10", "--MailSink:Smtp:MaxMessageBytes=10", "--MailSink:Bogus=1"],
            services => services.AddSingleton<ILoggerProvider>(capture));

        await app.Services.GetServices<IHostedService>().OfType<SettingsCheck>().Single().StartAsync(CancellationToken.None);

        var warnings = capture.Entries.Where(e => e.StartsWith("Warning MailSink.Server.SettingsCheck[1040]", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("MailSink:Smtp:MaxMesageBytes is not a MailSink setting and is ignored (did you mean MailSink:Smtp:MaxMessageBytes?)", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("MailSink:Bogus is not a MailSink setting", StringComparison.Ordinal));
    }

    /// <summary>A whole key as the help and the README write it: <c>MailSink:Section:Key</c>, with list indexes as digits or &lt;n&gt;.</summary>
    [GeneratedRegex(@"MailSink(?::(?:[A-Za-z][A-Za-z0-9]*|[0-9]+|<n>))+")]
    private static partial Regex ShownKey();
}
