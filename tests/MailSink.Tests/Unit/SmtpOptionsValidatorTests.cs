using System.Text;
using MailSink.Server.Smtp;
using Microsoft.Extensions.Configuration;

namespace MailSink.Tests.Unit;

/// <summary>Every bad <c>MailSink:Smtp</c> value fails with a line that names its configuration key.</summary>
public sealed class SmtpOptionsValidatorTests
{
    private static IReadOnlyList<string> Failures(SmtpOptions options) =>
        new SmtpOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];

    private static IReadOnlyList<string> Failures(Action<SmtpOptions> change)
    {
        var options = new SmtpOptions();
        change(options);
        return Failures(options);
    }

    /// <summary>The options as the host binds them from an appsettings-style JSON document.</summary>
    private static SmtpOptions Bind(string json)
    {
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        var options = new SmtpOptions();
        configuration.GetSection(SmtpOptions.Section).Bind(options);
        return options;
    }

    [Fact]
    public void The_defaults_are_valid()
    {
        var result = new SmtpOptionsValidator().Validate(null, new SmtpOptions());

        Assert.True(result.Succeeded);
        Assert.Null(result.Failures);
    }

    [Fact]
    public void A_full_valid_configuration_is_valid()
    {
        var options = new SmtpOptions
        {
            ServerName = "mail.test-1.example",
            BindAddress = "::",
            MaxMessageBytes = 1L << 30,
            MaxConnections = 1,
            MaxRecipients = 1,
            IdleTimeout = TimeSpan.FromDays(1),
            Listeners =
            [
                new() { Port = 0 },
                new() { Port = 0 },
                new() { Port = 2525, Tls = TlsMode.None, Auth = ListenerAuth.Required },
                new() { Port = 65535, Tls = TlsMode.Implicit },
            ],
            Auth = new() { Mode = SmtpAuthMode.Users, Users = [new() { Name = "alice", Password = "secret" }] },
        };

        Assert.Empty(Failures(options));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("under_score.example")]
    [InlineData("-leading.example")]
    [InlineData("trailing-.example")]
    [InlineData("double..dot")]
    [InlineData("trailing.dot.")]
    [InlineData("b\u00fccher.example")]
    public void A_server_name_that_is_not_a_host_name_fails(string serverName)
    {
        Assert.Equal(["MailSink:Smtp:ServerName must be a host name such as mailsink.localhost."], Failures(o => o.ServerName = serverName));
    }

    [Fact]
    public void A_server_name_longer_than_253_characters_fails()
    {
        var name = string.Join('.', Enumerable.Repeat(new string('a', 63), 4)); // 255 characters

        Assert.Single(Failures(o => o.ServerName = name), f => f.StartsWith("MailSink:Smtp:ServerName ", StringComparison.Ordinal));
        Assert.Empty(Failures(o => o.ServerName = name[..253].TrimEnd('.')));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("")]
    [InlineData("0.0.0.0:25")]
    [InlineData("1.2.3.4/24")]
    [InlineData("256.0.0.1")]
    public void A_bind_address_that_is_not_an_ip_address_fails(string bindAddress)
    {
        Assert.Equal(["MailSink:Smtp:BindAddress must be an IP address such as 0.0.0.0, 127.0.0.1 or ::."], Failures(o => o.BindAddress = bindAddress));
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("127.0.0.1")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("fe80::1%1")]
    public void Ip_addresses_are_valid_bind_addresses(string bindAddress)
    {
        Assert.Empty(Failures(o => o.BindAddress = bindAddress));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData((1L << 30) + 1)]
    public void Max_message_bytes_out_of_range_fails(long value)
    {
        Assert.Equal([$"MailSink:Smtp:MaxMessageBytes must be from 1 to {1L << 30}."], Failures(o => o.MaxMessageBytes = value));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Max_connections_below_one_fails(int value)
    {
        Assert.Equal(["MailSink:Smtp:MaxConnections must be 1 or more."], Failures(o => o.MaxConnections = value));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Max_recipients_below_one_fails(int value)
    {
        Assert.Equal(["MailSink:Smtp:MaxRecipients must be 1 or more."], Failures(o => o.MaxRecipients = value));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(999)]
    [InlineData(-1000)]
    [InlineData(86_400_001)]
    public void An_idle_timeout_outside_one_second_to_one_day_fails(int milliseconds)
    {
        Assert.Equal(
            ["MailSink:Smtp:IdleTimeout must be from 00:00:01 to 1.00:00:00."],
            Failures(o => o.IdleTimeout = TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    [InlineData(int.MaxValue)]
    public void A_listener_port_out_of_range_fails_naming_its_index(int port)
    {
        var failures = Failures(o => o.Listeners = [new() { Port = 25 }, new() { Port = port }]);

        Assert.Equal(["MailSink:Smtp:Listeners:1:Port must be from 0 to 65535."], failures);
    }

    [Fact]
    public void Undefined_listener_tls_and_auth_values_fail_naming_their_index()
    {
        var failures = Failures(o => o.Listeners = [new() { Port = 25, Tls = (TlsMode)7, Auth = (ListenerAuth)9 }]);

        Assert.Equal(
            ["MailSink:Smtp:Listeners:0:Tls must be None, StartTls or Implicit.", "MailSink:Smtp:Listeners:0:Auth must be Optional or Required."],
            failures);
    }

    [Fact]
    public void A_port_listed_twice_fails()
    {
        var failures = Failures(o => o.Listeners = [new() { Port = 2525 }, new() { Port = 587 }, new() { Port = 2525, Tls = TlsMode.Implicit }]);

        Assert.Equal(["MailSink:Smtp:Listeners lists port 2525 more than once."], failures);
    }

    [Fact]
    public void Port_zero_may_be_listed_more_than_once()
    {
        Assert.Empty(Failures(o => o.Listeners = [new() { Port = 0 }, new() { Port = 0, Tls = TlsMode.Implicit }]));
    }

    [Fact]
    public void Users_mode_without_users_fails_naming_the_users_key()
    {
        var failures = Failures(o => o.Auth = new() { Mode = SmtpAuthMode.Users });

        Assert.Equal(["MailSink:Smtp:Auth:Users must list at least one user (Name and Password) when MailSink:Smtp:Auth:Mode is Users."], failures);
    }

    [Fact]
    public void Accept_any_mode_needs_no_users()
    {
        Assert.Empty(Failures(o => o.Auth = new() { Mode = SmtpAuthMode.AcceptAny }));
    }

    [Fact]
    public void An_undefined_auth_mode_fails()
    {
        Assert.Equal(["MailSink:Smtp:Auth:Mode must be AcceptAny or Users."], Failures(o => o.Auth.Mode = (SmtpAuthMode)3));
    }

    [Theory]
    [InlineData("")]
    [InlineData("bad\nname")]
    [InlineData("tab\tname")]
    public void A_user_without_a_usable_name_fails_naming_its_index(string name)
    {
        var failures = Failures(o => o.Auth = new()
        {
            Mode = SmtpAuthMode.Users,
            Users = [new() { Name = "alice", Password = "a" }, new() { Name = name, Password = "b" }],
        });

        Assert.Equal(["MailSink:Smtp:Auth:Users:1:Name must be a non-empty user name."], failures);
    }

    [Fact]
    public void Every_bad_value_is_reported_at_once()
    {
        var failures = Failures(o =>
        {
            o.ServerName = "";
            o.BindAddress = "nowhere";
            o.MaxMessageBytes = 0;
            o.MaxConnections = 0;
            o.MaxRecipients = 0;
            o.IdleTimeout = TimeSpan.Zero;
            o.Listeners = [new() { Port = -1 }];
            o.Auth = new() { Mode = SmtpAuthMode.Users };
        });

        Assert.Equal(
            [
                "MailSink:Smtp:ServerName",
                "MailSink:Smtp:BindAddress",
                "MailSink:Smtp:MaxMessageBytes",
                "MailSink:Smtp:MaxConnections",
                "MailSink:Smtp:MaxRecipients",
                "MailSink:Smtp:IdleTimeout",
                "MailSink:Smtp:Listeners:0:Port",
                "MailSink:Smtp:Auth:Users",
            ],
            failures.Select(f => f[..f.IndexOf(' ', StringComparison.Ordinal)]));
    }

    [Fact]
    public void Bound_configuration_with_a_bad_port_names_the_configuration_key()
    {
        var options = Bind("""{ "MailSink": { "Smtp": { "Listeners": [ { "Port": 25 }, { "Port": 70000 } ] } } }""");

        Assert.Equal(["MailSink:Smtp:Listeners:1:Port must be from 0 to 65535."], Failures(options));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("8080")]
    [InlineData("127.1")]
    [InlineData("0x7f000001")]
    [InlineData("010.0.0.1")]
    [InlineData("[::1]")]
    [InlineData("[::1]:25")]
    public void A_bind_address_in_a_shorthand_or_with_a_port_fails(string bindAddress)
    {
        // IPAddress.TryParse takes these ("8080" is 0.0.31.144, "[::1]:25" drops the port); nobody means them.
        Assert.Equal(["MailSink:Smtp:BindAddress must be an IP address such as 0.0.0.0, 127.0.0.1 or ::."], Failures(o => o.BindAddress = bindAddress));
    }

    [Fact]
    public void A_null_server_name_from_configuration_fails_instead_of_throwing()
    {
        var options = Bind("""{ "MailSink": { "Smtp": { "ServerName": null } } }""");
        Assert.Null(options.ServerName);

        Assert.Equal(["MailSink:Smtp:ServerName must be a host name such as mailsink.localhost."], Failures(options));
    }
}
