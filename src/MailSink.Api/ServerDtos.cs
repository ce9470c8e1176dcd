namespace MailSink.Api;

/// <summary>
/// A Mailosaur "server": a MailSink inbox. <paramref name="LastReceived"/> is MailSink's own: when the newest
/// message counted in <paramref name="Messages"/> was received (null before the first), so that a client
/// adding up arrivals (the web UI) knows which of them this count already holds.
/// </summary>
public sealed record ServerDto(string Id, string Name, IReadOnlyList<string> Users, long Messages, DateTimeOffset? LastReceived);

/// <summary>The SMTP password of a server (empty when it has none).</summary>
public sealed record ServerPasswordDto(string Value);
