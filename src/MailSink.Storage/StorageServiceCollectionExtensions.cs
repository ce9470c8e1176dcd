using MailSink.Storage.Ingest;
using MailSink.Storage.LiteDb;
using MailSink.Storage.PostgreSql;
using MailSink.Storage.Retention;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace MailSink.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>The domain and its store: routing, parsing, the arrival feed, retention, and the storage engine behind the seam.</summary>
    public static IServiceCollection AddMailSinkStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.MaxAge >= TimeSpan.Zero, "MailSink:Storage:MaxAge must be 00:00:00 (keep forever) or a positive time span such as 7.00:00:00.")
            .Validate(o => o.RetentionInterval >= TimeSpan.FromMilliseconds(100), "MailSink:Storage:RetentionInterval must be at least 00:00:00.1.")
            .Validate(o => o.Engine != StorageEngine.PostgreSql || !string.IsNullOrWhiteSpace(o.PostgreSql.ConnectionString),
                $"{PostgreSqlOptions.ConnectionStringKey} must be set when MailSink:Storage:Engine is PostgreSql, e.g. Host=localhost;Database=mailsink;Username=mailsink;Password=secret.")
            .Validate(o => o.Engine != StorageEngine.PostgreSql || string.IsNullOrWhiteSpace(o.PostgreSql.ConnectionString) || IsConnectionString(o.PostgreSql.ConnectionString),
                $"{PostgreSqlOptions.ConnectionStringKey} is not a valid Npgsql connection string (keys such as Host, Port, Database, Username, Password).")
            .ValidateOnStart();
        services.AddOptions<RoutingOptions>()
            .BindConfiguration(RoutingOptions.Section)
            .Validate(o => InboxRouter.IsValidInboxId(o.CatchAllInbox),
                "MailSink:Routing:CatchAllInbox must be one DNS label (letters, digits, '-' or '_'), at most 63 characters.")
            .Validate(o => o.RootDomains.All(d => !string.IsNullOrWhiteSpace(d) && !d.Contains('@') && !d.Contains(' ')),
                "MailSink:Routing:RootDomains must be domain names such as \"localhost\".")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<MailSinkMetrics>();
        services.AddSingleton<InboxRouter>();
        services.AddSingleton<ArrivalFeed>();
        services.AddSingleton<MessageIngest>();
        services.AddSingleton<MessageWaiter>();
        // The engine first: its hosted service must start before anything else and stop after it.
        if (EngineOf(configuration) == StorageEngine.PostgreSql)
            AddPostgreSql(services);
        else
            AddLiteDb(services);
        services.AddSingleton<RetentionHostedService>();
        services.AddHostedService(sp => sp.GetRequiredService<RetentionHostedService>());
        return services;
    }

    /// <summary>
    /// The engine named by <c>MailSink:Storage:Engine</c>. A value that is no engine registers LiteDB here,
    /// and binding the options then stops the start with one line naming the key.
    /// </summary>
    private static StorageEngine EngineOf(IConfiguration configuration) =>
        Enum.TryParse<StorageEngine>(configuration[$"{StorageOptions.Section}:{nameof(StorageOptions.Engine)}"], ignoreCase: true, out var engine)
            ? engine
            : StorageEngine.LiteDb;

    private static bool IsConnectionString(string value)
    {
        try
        {
            _ = new NpgsqlConnectionStringBuilder(value);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// The shared engine: one PostgreSQL database for any number of MailSink processes. Its hosted service
    /// brings the schema up to date and starts the writer and the arrival listener before SMTP binds a port.
    /// </summary>
    private static void AddPostgreSql(IServiceCollection services)
    {
        services.AddSingleton<PostgreSqlStore>();
        services.AddSingleton<IMessageRepository>(sp => sp.GetRequiredService<PostgreSqlStore>());
        services.AddSingleton<IInboxRepository>(sp => sp.GetRequiredService<PostgreSqlStore>());
        services.AddSingleton<IDeviceRepository>(sp => sp.GetRequiredService<PostgreSqlStore>());
        services.AddSingleton<IUsageReader>(sp => sp.GetRequiredService<PostgreSqlStore>());
        services.AddSingleton<IAnalysisStore>(sp => sp.GetRequiredService<PostgreSqlStore>());
        services.AddSingleton<IRetentionStore>(sp => sp.GetRequiredService<PostgreSqlStore>());
        services.AddSingleton<PostgreSqlWriter>();
        services.AddSingleton<IMessageWriter>(sp => sp.GetRequiredService<PostgreSqlWriter>());
        services.AddSingleton<PostgreSqlListener>();
        services.AddSingleton<IStorageSpace, ServerManagedSpace>();
        services.AddHostedService<PostgreSqlHostedService>();
        services.AddHealthChecks().AddCheck<PostgreSqlHealthCheck>("storage");
    }

    /// <summary>
    /// The embedded engine: one LiteDB file, one process. Its hosted service is the first registered, so it
    /// takes and opens the file before SMTP binds a port, and stops after SMTP has drained.
    /// </summary>
    private static void AddLiteDb(IServiceCollection services)
    {
        services.AddSingleton<LiteDbStore>();
        services.AddSingleton<IMessageRepository>(sp => sp.GetRequiredService<LiteDbStore>());
        services.AddSingleton<IInboxRepository>(sp => sp.GetRequiredService<LiteDbStore>());
        services.AddSingleton<IDeviceRepository>(sp => sp.GetRequiredService<LiteDbStore>());
        services.AddSingleton<IUsageReader>(sp => sp.GetRequiredService<LiteDbStore>());
        services.AddSingleton<IAnalysisStore>(sp => sp.GetRequiredService<LiteDbStore>());
        services.AddSingleton<IRetentionStore>(sp => sp.GetRequiredService<LiteDbStore>());
        services.AddSingleton<IStorageSpace>(sp => sp.GetRequiredService<LiteDbStore>());
        services.AddSingleton<LiteDbWriter>();
        services.AddSingleton<IMessageWriter>(sp => sp.GetRequiredService<LiteDbWriter>());
        services.AddHostedService<LiteDbHostedService>();
        services.AddHostedService<IdleReleaseHostedService>();
        services.AddHealthChecks().AddCheck<LiteDbHealthCheck>("storage");
    }
}
