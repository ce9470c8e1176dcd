using System.Text.RegularExpressions;
using MailSink.Server.Smtp;
using Microsoft.Extensions.Configuration;

namespace MailSink.Tests.Unit;

/// <summary>
/// The hint in the one line a taken SMTP port stops the start with: following it as written must give back
/// what the user had, only on other ports.
/// </summary>
public sealed partial class SmtpPortHintTests
{
    [GeneratedRegex(@"--(MailSink:Smtp:Listeners:\d+:Port)=(\d+)")]
    private static partial Regex Flag();

    [Fact]
    public void With_the_default_listeners_the_hint_names_all_three_so_that_following_it_keeps_587_and_465()
    {
        var options = new SmtpOptions();

        var hint = SmtpListeners.PortHint(options, SmtpOptions.DefaultListeners[0]);

        // The flags as a user would paste them, read the way the host reads its command line.
        var flags = Flag().Matches(hint).Select(m => m.Value).ToArray();
        var configuration = new ConfigurationBuilder().AddCommandLine(flags).Build();
        var listeners = SmtpOptions.ListenerSlots(configuration.GetSection("MailSink:Smtp:Listeners"));

        Assert.Equal([2525, 2587, 2465], listeners.Select(l => l.Port));
        Assert.Equal(SmtpOptions.DefaultListeners.Select(l => l.Tls), listeners.Select(l => l.Tls));
        Assert.Contains("replaces the default ones", hint, StringComparison.Ordinal);
    }

    [Fact]
    public void With_listeners_named_the_hint_names_the_one_that_failed()
    {
        var options = new SmtpOptions { Listeners = [new ListenerOptions { Port = 2525 }, new ListenerOptions { Port = 2526 }] };

        var hint = SmtpListeners.PortHint(options, options.Listeners[1]);

        Assert.Contains("--MailSink:Smtp:Listeners:1:Port=<port>", hint, StringComparison.Ordinal);
        Assert.Contains("MailSink__Smtp__Listeners__1__Port=<port>", hint, StringComparison.Ordinal);
    }
}
