namespace MailSink.Api;

/// <summary>A Mailosaur "server": a MailSink inbox.</summary>
public sealed record ServerDto(string Id, string Name, IReadOnlyList<string> Users, long Messages);

/// <summary>The SMTP password of a server (empty when it has none).</summary>
public sealed record ServerPasswordDto(string Value);
