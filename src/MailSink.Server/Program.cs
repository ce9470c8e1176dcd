using MailSink.Api;
using MailSink.Server.Smtp;
using MailSink.Storage;

namespace MailSink.Server;

public static class Program
{
    public static Task<int> Main(string[] args)
    {
        if (args.Any(a => a is "--help" or "-h" or "-?" or "help"))
        {
            Console.Out.Write(Help);
            return Task.FromResult(0);
        }

        if (args.Any(a => a is "--version"))
        {
            Console.Out.WriteLine(typeof(Program).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0] ?? "dev");
            return Task.FromResult(0);
        }

        RunSocketCompletionsInline();
        StartupJitProfile.Start();
        return StartupGuard.RunAsync(() => Build(args));
    }

    /// <summary>The composition root; tests build the same application with their own arguments.</summary>
    /// <param name="args">The command line, as <c>mailsink</c> takes it.</param>
    /// <param name="configureServices">
    /// Changes to the services, made after MailSink's own registrations: a service registered here replaces
    /// MailSink's (the last registration wins). For tests, which put a fault or a clock in; the executable passes none.
    /// </param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        // No configuration reload: its watcher covers the whole content root, where data/ lives, and
        // reacted to every database write (11-16% of the server's CPU in bench/run.sh's profile).
        // Put first, so that a command-line value can still turn it back on.
        var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = Defaults });
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
            builder.WebHost.UseUrls(DefaultUrls);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        // Before the store opens: a taken HTTP port stops the start first (Kestrel binds last).
        builder.Services.AddHostedService<HttpPortCheck>();
        builder.Services.AddHostedService<SettingsCheck>();
        builder.Services.AddMailSinkStorage(builder.Configuration);
        builder.Services.AddMailSinkApi(builder.Configuration);
        builder.Services.AddMailSinkSmtp(builder.Configuration);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapMailSinkApi();
        return app;
    }

    /// <summary>What <c>mailsink --help</c> prints: the main settings, each given as <c>--Key=value</c>.</summary>
    internal const string Help = """
        MailSink: a catch-all SMTP sink with a Mailosaur-shaped HTTP API and a web UI.
        Mail to anything@<inbox>.localhost lands in inbox <inbox>; nothing is relayed unless configured.

        Usage: mailsink [--Key=value ...]
          Runs in the current folder: the store goes to data/, the certificate to certs/ (made on first start).
          Every setting can also come from appsettings.json in that folder or from MailSink__Section__Key
          environment variables.

        Main settings (defaults in brackets):
          --urls=http://*:8025                        HTTP: the API, the web UI, /health, /metrics (* is IPv6 and IPv4)
          --MailSink:Smtp:BindAddress=::              address the SMTP listeners bind (:: is IPv6 and IPv4, 0.0.0.0 IPv4 only)
          --MailSink:Smtp:Listeners:0:Port=25         STARTTLS [25]; Listeners:1 STARTTLS [587]; Listeners:2 implicit TLS [465]
          --MailSink:Smtp:Listeners:0:Tls=None        None, StartTls or Implicit; naming listeners replaces the defaults
          --MailSink:Smtp:Listeners:0:Auth=Required   Optional [Optional] or Required
          --MailSink:Smtp:Auth:Mode=Users             AcceptAny [AcceptAny] or Users (MailSink:Smtp:Auth:Users:0:Name/Password)
          --MailSink:Smtp:MaxMessageBytes=26214400    larger messages get 552
          --MailSink:Routing:RootDomains:0=localhost  domains whose first sub-label names the inbox
          --MailSink:Storage:Path=data/mailsink.db    the LiteDB file
          --MailSink:Storage:Engine=PostgreSql        with --MailSink:Storage:PostgreSql:ConnectionString=... (several nodes)
          --MailSink:Storage:MaxAge=7.00:00:00        retention; also MaxMessagesPerInbox, MaxTotalBytes
          --MailSink:Api:ApiKey=secret                require HTTP Basic (the key as user name) on /api
          --MailSink:Relay:Host=smtp.example.com      relay for API-sent mail, with MailSink:Relay:AllowedRecipients:0=*@example.com
          --MailSink:Webhooks:Endpoints:0:Url=...     POST every stored message there
          --MailSink:Chaos:Rules:0:Stage=Rcpt         fault injection (also /api/chaos)
          --MailSink:Analysis:SpamAssassin:Host=127.0.0.1   spamd for spam analysis (Debian: apt-get install spamd)
          --MailSink:Analysis:DnsServers:0=10.0.0.2   DNS for SPF, DKIM and DMARC (default: the system's resolvers)
          --MailSink:Metrics:AllowAnonymous=true      serve /metrics without the API key

          --help      this text
          --version   the version

        Every setting: the Configuration table of MailSink's README (shipped in the tool's package and
        shown on its NuGet page). A MailSink:... key that is no setting is named in a warning at start.

        """;

    /// <summary>
    /// HTTP on every address, IPv6 and IPv4 alike: Kestrel's <c>*</c> is one dual-stack socket on <c>::</c>, or
    /// every IPv4 address where the machine has no IPv6 (so <c>http://localhost:8025</c> works where
    /// <c>localhost</c> is <c>::1</c> first, as for SMTP's <c>BindAddress</c>).
    /// </summary>
    internal const string DefaultUrls = "http://*:8025";

    /// <summary>
    /// Settings whose defaults are not an options class's own (the log's format and levels), as the
    /// lowest-priority source: appsettings.json may show them, but a published build or the tool, run where
    /// there is no such file, behaves the same.
    /// </summary>
    internal static readonly Dictionary<string, string?> Defaults = new()
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
        ["Logging:LogLevel:Npgsql"] = "Warning", // at Information it logs every command: each commit, and the listener's pass every second
        ["Logging:Console:FormatterName"] = "simple",
        ["Logging:Console:FormatterOptions:SingleLine"] = "True",
        ["Logging:Console:FormatterOptions:TimestampFormat"] = "HH:mm:ss ",
        ["Logging:Console:FormatterOptions:UseUtcTimestamp"] = "True",
    };

    /// <summary>
    /// Lets a socket's completion run on the socket event thread that saw it rather than hop to the thread
    /// pool for every SMTP reply: less CPU per message (docs/performance.md, "Socket completions inline").
    /// The runtime reads the variable when the first socket is made, so this runs before anything else;
    /// a value the operator set wins (0 turns it off).
    /// </summary>
    private static void RunSocketCompletionsInline()
    {
        const string name = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        if (Environment.GetEnvironmentVariable(name) is null)
            Environment.SetEnvironmentVariable(name, "1");
    }
}
