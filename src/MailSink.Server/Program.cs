using MailSink.Api;
using MailSink.Server.Smtp;
using MailSink.Storage;

namespace MailSink.Server;

public static class Program
{
    public static Task<int> Main(string[] args) => StartupGuard.RunAsync(() => Build(args));

    /// <summary>The composition root; tests build the same application with their own arguments.</summary>
    public static WebApplication Build(string[] args)
    {
        // No configuration reload: its watcher covers the whole content root, where data/ lives, and
        // reacted to every database write (11-16% of the server's CPU in bench/run.sh's profile).
        // Put first, so that a command-line value can still turn it back on.
        var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
            builder.WebHost.UseUrls("http://0.0.0.0:8025");
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        builder.Services.AddMailSinkStorage(builder.Configuration);
        builder.Services.AddMailSinkApi(builder.Configuration);
        builder.Services.AddMailSinkSmtp(builder.Configuration);

        var app = builder.Build();
        app.MapMailSinkApi();
        return app;
    }
}
