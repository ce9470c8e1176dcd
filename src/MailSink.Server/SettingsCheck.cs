using System.Collections;
using System.Reflection;
using MailSink.Api;
using MailSink.Server.Smtp;
using MailSink.Storage;

namespace MailSink.Server;

/// <summary>
/// Warns at start about every <c>MailSink:…</c> setting that no options class reads: a key misspelled on the
/// command line, in appsettings.json or in a <c>MailSink__…</c> environment variable is otherwise ignored
/// without a word. The known keys are the options classes' own properties (each class that has a
/// <c>Section</c>), found by reflection, so a new setting is known as soon as it exists. A warning, not a
/// stop: a setting from a newer MailSink left in the environment should not keep an older one from starting.
/// </summary>
internal sealed class SettingsCheck(IConfiguration configuration, ILogger<SettingsCheck> logger) : IHostedService
{
    private const string Root = "MailSink";

    /// <summary>Every options class, by the path of its section under <c>MailSink</c>.</summary>
    private static readonly (string[] Section, Type Type)[] Sections =
    [
        .. new[] { typeof(StorageOptions).Assembly, typeof(ApiOptions).Assembly, typeof(SmtpOptions).Assembly }
            .SelectMany(a => a.GetTypes())
            .Select(t => (Type: t, Field: t.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
            .Where(t => t.Field is { IsLiteral: true } && t.Field.GetRawConstantValue() is string s && s.StartsWith(Root + ":", StringComparison.Ordinal))
            .Select(t => (((string)t.Field!.GetRawConstantValue()!).Split(':')[1..], t.Type)),
    ];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var message in UnknownSettings(configuration))
            Log.UnknownSetting(logger, message);
        return Task.CompletedTask;
    }

    /// <summary>A sentence for each <c>MailSink:…</c> key given a value that no setting takes (StartupGuard adds them to a failed start's line).</summary>
    internal static List<string> UnknownSettings(IConfiguration configuration) =>
        [.. configuration.GetSection(Root).AsEnumerable().Where(p => p.Value is not null).Select(p => Unknown(p.Key, p.Value)).OfType<string>()];

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Null for a setting some options class reads; else a sentence naming it, with the nearest known name when
    /// there is one. With a <paramref name="value"/>, also a sentence when the key is a list or a group of
    /// settings, which take no value of their own (the binder ignores one: <c>MailSink__Analysis__DnsServers=…</c>
    /// for <c>…__DnsServers__0=…</c>).
    /// </summary>
    internal static string? Unknown(string key, string? value = null)
    {
        var path = key.Split(':');
        if (path.Length < 2 || !path[0].Equals(Root, StringComparison.OrdinalIgnoreCase))
            return null;
        path = path[1..];

        (int Depth, Type? Type) nearest = (-1, null);
        foreach (var (section, type) in Sections)
        {
            var matched = 0;
            while (matched < section.Length && matched < path.Length && section[matched].Equals(path[matched], StringComparison.OrdinalIgnoreCase))
                matched++;
            if (matched < section.Length)
                continue;
            var (known, at, owner, end) = Match(type, path, matched);
            if (known)
                return string.IsNullOrEmpty(value) || end is null || IsScalar(end) ? null : NoValueOfItsOwn(key, end);
            if (at > nearest.Depth)
                nearest = (at, owner);
        }

        // Where it went wrong: a property of the class there, or a section, may be what was meant.
        var depth = Math.Max(nearest.Depth, 0);
        var candidates = (nearest.Type is null ? [] : Properties(nearest.Type).Select(p => p.Name))
            .Concat(Sections.Where(s => s.Section.Length > depth && s.Section.AsSpan(0, depth).SequenceEqual(path.AsSpan(0, depth), StringComparer.OrdinalIgnoreCase))
                .Select(s => s.Section[depth]));
        var suggestion = Nearest(path[depth], candidates) is { } guess
            ? $" (did you mean {string.Join(':', [Root, .. path[..depth], guess, .. path[(depth + 1)..]])}?)"
            : "";
        return $"{key} is not a MailSink setting and is ignored{suggestion}. `mailsink --help` and the README's Configuration table list the settings.";
    }

    private static string NoValueOfItsOwn(string key, Type type) =>
        Element(type) is not null && !IsDictionary(type)
            ? $"{key} is a list and takes no value of its own, so its value is ignored: give its items as {key}:0, {key}:1 and so on."
            : $"{key} is a group of settings and takes no value of its own, so its value is ignored: give its settings as {key}:<name>.";

    /// <summary>
    /// Whether <paramref name="path"/> from <paramref name="at"/> names a property (or an element of one) of
    /// <paramref name="type"/>, and the type it ends on; if not, where it went wrong.
    /// </summary>
    private static (bool Known, int At, Type? Owner, Type? End) Match(Type type, string[] path, int at)
    {
        while (true)
        {
            if (at == path.Length)
                return (true, at, null, type);
            var property = Properties(type).FirstOrDefault(p => p.Name.Equals(path[at], StringComparison.OrdinalIgnoreCase));
            if (property is null)
                return (false, at, type, null);
            at++;
            var value = property.PropertyType;
            while (true)
            {
                value = Nullable.GetUnderlyingType(value) ?? value;
                if (at == path.Length)
                    return (true, at, null, value);
                if (IsScalar(value))
                    return (false, at, null, null);
                if (Element(value) is { } element)
                {
                    // A list's item or a dictionary's key (the binder takes any name for either), then the element.
                    at++;
                    value = element;
                    continue;
                }

                break;
            }

            type = value;
        }
    }

    /// <summary>What the binder sets: a value with a public setter, or a list or group it fills in place.</summary>
    private static IEnumerable<PropertyInfo> Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && (p.SetMethod is { IsPublic: true } || (p.GetMethod is not null && !IsScalar(Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType))));

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid) || type == typeof(Uri);

    private static bool IsDictionary(Type type) =>
        type.IsGenericType && type.GetGenericArguments().Length == 2 && typeof(IDictionary).IsAssignableFrom(type)
        || type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));

    /// <summary>A collection's element type (a dictionary's value type); null for anything else.</summary>
    private static Type? Element(Type type)
    {
        if (type.IsArray)
            return type.GetElementType();
        var dictionary = type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        if (dictionary is not null)
            return dictionary.GetGenericArguments()[1];
        var enumerable = type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    /// <summary>The candidate nearest to <paramref name="typed"/> by edit distance, when near enough to be a slip.</summary>
    private static string? Nearest(string typed, IEnumerable<string> candidates) =>
        candidates.Select(c => (Name: c, Distance: Distance(typed.ToUpperInvariant(), c.ToUpperInvariant())))
            .Where(c => c.Distance <= Math.Max(2, typed.Length / 4))
            .OrderBy(c => c.Distance)
            .Select(c => c.Name)
            .FirstOrDefault();

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }

        return row[b.Length];
    }
}
