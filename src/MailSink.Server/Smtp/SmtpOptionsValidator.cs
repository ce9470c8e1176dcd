using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace MailSink.Server.Smtp;

/// <summary>Every failure names its key, so that a bad value stops the process with one clear line.</summary>
internal sealed partial class SmtpOptionsValidator(IConfiguration? configuration = null) : IValidateOptions<SmtpOptions>
{
    private const long MaxMessageLimit = 1L << 30;

    public ValidateOptionsResult Validate(string? name, SmtpOptions options)
    {
        var failures = new List<string>();
        CheckListItems(failures);
        if (options.ServerName is null || !HostName().IsMatch(options.ServerName)) // null: "ServerName": null in JSON
            failures.Add("MailSink:Smtp:ServerName must be a host name such as mailsink.localhost.");
        if (!IsIpAddress(options.BindAddress))
            failures.Add("MailSink:Smtp:BindAddress must be an IP address such as 0.0.0.0, 127.0.0.1 or ::.");
        if (options.MaxMessageBytes is < 1 or > MaxMessageLimit)
            failures.Add($"MailSink:Smtp:MaxMessageBytes must be from 1 to {MaxMessageLimit}.");
        if (options.DataMemoryBytes < 0)
            failures.Add("MailSink:Smtp:DataMemoryBytes must be 0 (every body in a temporary file) or more.");
        if (options.MaxConnections < 1)
            failures.Add("MailSink:Smtp:MaxConnections must be 1 or more.");
        if (options.MaxRecipients < 1)
            failures.Add("MailSink:Smtp:MaxRecipients must be 1 or more.");
        if (options.IdleTimeout < TimeSpan.FromSeconds(1) || options.IdleTimeout > TimeSpan.FromDays(1))
            failures.Add("MailSink:Smtp:IdleTimeout must be from 00:00:01 to 1.00:00:00.");
        if (options.BusyIdleTimeout < TimeSpan.FromSeconds(1) || options.BusyIdleTimeout > TimeSpan.FromDays(1))
            failures.Add("MailSink:Smtp:BusyIdleTimeout must be from 00:00:01 to 1.00:00:00.");
        if (options.MaxConnectionsPerAddress < 1)
            failures.Add("MailSink:Smtp:MaxConnectionsPerAddress must be 1 or more.");
        if (options.MaxErrorsPerSession < 1)
            failures.Add("MailSink:Smtp:MaxErrorsPerSession must be 1 or more.");
        if (options.MaxCommandsWithoutMessage < 1)
            failures.Add("MailSink:Smtp:MaxCommandsWithoutMessage must be 1 or more.");

        for (var i = 0; i < options.Listeners.Count; i++)
        {
            var listener = options.Listeners[i];
            if (listener.Port is < 0 or > 65535)
                failures.Add($"MailSink:Smtp:Listeners:{i}:Port must be from 0 to 65535.");
            if (!Enum.IsDefined(listener.Tls))
                failures.Add($"MailSink:Smtp:Listeners:{i}:Tls must be None, StartTls or Implicit.");
            if (!Enum.IsDefined(listener.Auth))
                failures.Add($"MailSink:Smtp:Listeners:{i}:Auth must be Optional or Required.");
        }

        var duplicate = options.Listeners.Where(l => l.Port != 0).GroupBy(l => l.Port).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            failures.Add($"MailSink:Smtp:Listeners lists port {duplicate.Key} more than once.");

        if (!Enum.IsDefined(options.Auth.Mode))
            failures.Add("MailSink:Smtp:Auth:Mode must be AcceptAny or Users.");
        if (options.Auth.Mode == SmtpAuthMode.Users && options.Auth.Users.Count == 0)
            failures.Add("MailSink:Smtp:Auth:Users must list at least one user (Name and Password) when MailSink:Smtp:Auth:Mode is Users.");
        for (var i = 0; i < options.Auth.Users.Count; i++)
        {
            if (string.IsNullOrEmpty(options.Auth.Users[i].Name) || options.Auth.Users[i].Name.Any(char.IsControl))
                failures.Add($"MailSink:Smtp:Auth:Users:{i}:Name must be a non-empty user name.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// An IP address as an operator writes one: IPv4 as four decimal numbers, IPv6 without brackets.
    /// <see cref="IPAddress.TryParse(string?, out IPAddress?)"/> alone also takes "8080" (0.0.31.144),
    /// "127.1" and "[::1]:25" (dropping the port), none of which anybody means as a bind address.
    /// </summary>
    private static bool IsIpAddress(string? text) =>
        IPAddress.TryParse(text, out var address)
        && (address.AddressFamily == AddressFamily.InterNetworkV6 ? !text.Contains('[') : address.ToString() == text);

    /// <summary>
    /// The configuration binder silently drops a list item it cannot convert (Tls=Bogus), which would
    /// leave the defaults in force; so the raw values of list items are checked here, naming the key.
    /// </summary>
    private void CheckListItems(List<string> failures)
    {
        if (configuration is null)
            return;
        foreach (var item in configuration.GetSection($"{SmtpOptions.Section}:Listeners").GetChildren())
        {
            if (item["Port"] is { } port && !int.TryParse(port, out _))
                failures.Add($"{item.Path}:Port must be a number from 0 to 65535 (it is '{port}').");
            if (item["Tls"] is { } tls && !Enum.TryParse<TlsMode>(tls, ignoreCase: true, out _))
                failures.Add($"{item.Path}:Tls must be None, StartTls or Implicit (it is '{tls}').");
            if (item["Auth"] is { } auth && !Enum.TryParse<ListenerAuth>(auth, ignoreCase: true, out _))
                failures.Add($"{item.Path}:Auth must be Optional or Required (it is '{auth}').");
        }
    }

    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")]
    private static partial Regex HostName();
}
