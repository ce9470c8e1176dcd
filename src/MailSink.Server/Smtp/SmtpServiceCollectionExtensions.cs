using MailSink.Api;
using Microsoft.Extensions.Options;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace MailSink.Server.Smtp;

public static class SmtpServiceCollectionExtensions
{
    /// <summary>
    /// SMTP: options, our listener and session adapter in front of the SmtpServer library, and the
    /// library's seams (message store, mailbox filter, EHLO). The library resolves these
    /// from the root provider per command, and disposes what it resolves: they are singletons without
    /// <see cref="IDisposable"/>.
    /// </summary>
    public static IServiceCollection AddMailSinkSmtp(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SmtpOptions>()
            .BindConfiguration(SmtpOptions.Section)
            .PostConfigure(o => o.Listeners = SmtpOptions.ListenerSlots(configuration.GetSection($"{SmtpOptions.Section}:Listeners")))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SmtpOptions>, SmtpOptionsValidator>();
        // The HTTP side answers to the name the SMTP side announces (the API knows nothing of SMTP).
        services.AddOptions<ApiOptions>().PostConfigure<IOptions<SmtpOptions>>((api, smtp) => api.AllowedHosts.Add(smtp.Value.ServerName));

        services.AddSingleton<SmtpListeners>();
        services.AddSingleton<IEndpointListenerFactory>(sp => sp.GetRequiredService<SmtpListeners>());
        services.AddSingleton<IMessageStore, SinkMessageStore>();
        services.AddSingleton<LargeIngestTurns>();
        services.AddSingleton<IMailboxFilter, SinkMailboxFilter>();
        services.AddSingleton<ISmtpCommandFactory, SinkCommandFactory>();
        services.AddSingleton<CertificateProvider>();
        services.AddSingleton<IInboxPasswords, SmtpInboxPasswords>();
        services.AddHostedService<SmtpHostedService>();
        services.AddHealthChecks().AddCheck<SmtpHealthCheck>("smtp");
        return services;
    }
}
