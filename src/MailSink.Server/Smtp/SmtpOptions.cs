namespace MailSink.Server.Smtp;

/// <summary>The <c>MailSink:Smtp</c> section. Key names are a contract with operators: keep them stable.</summary>
public sealed class SmtpOptions
{
    public const string Section = "MailSink:Smtp";

    /// <summary>Named in the banner, the EHLO reply and the self-signed certificate (checked by <see cref="SmtpOptionsValidator"/>).</summary>
    public string ServerName { get; set; } = "mailsink.localhost";

    /// <summary>
    /// The address the SMTP listeners bind. <c>::</c>, the default, is every address, IPv6 and IPv4 alike (one
    /// dual-stack socket), so that <c>localhost</c> works where it means <c>::1</c> first (macOS, Debian,
    /// containers); on a machine without IPv6 it is every IPv4 address. <c>0.0.0.0</c> is IPv4 only.
    /// </summary>
    public string BindAddress { get; set; } = "::";

    /// <summary>
    /// Empty means the defaults (25 and 587 with STARTTLS, 465 with implicit TLS, AUTH optional). Listeners
    /// named in configuration replace them, each slot starting from the default of its index (see
    /// <see cref="ListenerSlots"/>).
    /// </summary>
    public List<ListenerOptions> Listeners { get; set; } = [];

    public long MaxMessageBytes { get; set; } = 25L * 1024 * 1024;

    /// <summary>
    /// Bytes of message bodies held in memory while DATA is received, across all sessions; beyond this, and
    /// for any body over 1 MiB, they wait in temporary files in <see cref="SpoolPath"/>.
    /// </summary>
    public long DataMemoryBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The folder for those temporary files (relative to the content root); empty: the system's temporary folder.</summary>
    public string SpoolPath { get; set; } = "";

    public int MaxConnections { get; set; } = 1000;

    /// <summary>RCPT commands past this many in one transaction get <c>452</c> (RFC 5321 asks for at least 100).</summary>
    public int MaxRecipients { get; set; } = 1000;

    /// <summary>
    /// Sessions from one IP address past this many get <c>421</c>, so that one client cannot take every
    /// slot. A CI fleet behind one NAT address counts as one client: leave it room.
    /// </summary>
    public int MaxConnectionsPerAddress { get; set; } = 500;

    /// <summary>A session that sends nothing for this long is closed with <c>421</c>.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The idle timeout while the server is busy (at least four in five of <see cref="MaxConnections"/>
    /// open), so that idle sessions make way for clients with mail (Postfix's stress mode does the same).
    /// </summary>
    public TimeSpan BusyIdleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>After this many error replies (5xx) in one session it is closed with <c>421</c>.</summary>
    public int MaxErrorsPerSession { get; set; } = 25;

    /// <summary>
    /// After this many commands without a message stored (anything but RCPT, DATA, BDAT and QUIT: EHLO, MAIL,
    /// RSET, NOOP, VRFY, HELP, AUTH...; a BDAT chunk under 1 KiB that is not the last; and a RCPT refused
    /// with <c>452</c> past <see cref="MaxRecipients"/>, once there have been ten times that many) the session
    /// is closed with <c>421</c>: a NOOP now and then no longer holds a slot for ever. Each stored message
    /// starts the count again.
    /// </summary>
    public int MaxCommandsWithoutMessage { get; set; } = 100;

    public SmtpAuthOptions Auth { get; set; } = new();

    public CertificateOptions Certificate { get; set; } = new();

    internal static readonly ListenerOptions[] DefaultListeners =
    [
        new() { Port = 25, Tls = TlsMode.StartTls, Auth = ListenerAuth.Optional },
        new() { Port = 587, Tls = TlsMode.StartTls, Auth = ListenerAuth.Optional },
        new() { Port = 465, Tls = TlsMode.Implicit, Auth = ListenerAuth.Optional },
    ];

    internal IReadOnlyList<ListenerOptions> EffectiveListeners => Listeners.Count == 0 ? DefaultListeners : Listeners;

    /// <summary>
    /// The listeners configuration names, in index order, each starting from the default of its slot
    /// (0: 25 STARTTLS, 1: 587 STARTTLS, 2: 465 implicit TLS; later ones port 0, STARTTLS), so that
    /// <c>--MailSink:Smtp:Listeners:2:Port=2465</c> is implicit TLS whether or not a settings file lists
    /// the listeners: the defaults live here, not in appsettings.json, and a published build, the tool
    /// and <c>dotnet run</c> behave the same. A value that does not convert keeps the slot's default (the
    /// validator names it). None named: the defaults.
    /// </summary>
    internal static List<ListenerOptions> ListenerSlots(IConfigurationSection section)
    {
        var slots = new List<(int Index, ListenerOptions Listener)>();
        foreach (var item in section.GetChildren())
        {
            if (!int.TryParse(item.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
                continue;
            var slot = index < DefaultListeners.Length ? DefaultListeners[index] : new ListenerOptions();
            var listener = new ListenerOptions { Port = slot.Port, Tls = slot.Tls, Auth = slot.Auth };
            if (item["Port"] is { } port && int.TryParse(port, System.Globalization.CultureInfo.InvariantCulture, out var number))
                listener.Port = number;
            if (item["Tls"] is { } tls && Enum.TryParse<TlsMode>(tls, ignoreCase: true, out var mode))
                listener.Tls = mode;
            if (item["Auth"] is { } auth && Enum.TryParse<ListenerAuth>(auth, ignoreCase: true, out var required))
                listener.Auth = required;
            slots.Add((index, listener));
        }

        return [.. slots.OrderBy(s => s.Index).Select(s => s.Listener)];
    }
}

public sealed class ListenerOptions
{
    /// <summary>0 binds an ephemeral port (tests); the bound port is logged and in <see cref="SmtpListeners"/>.</summary>
    public int Port { get; set; }

    public TlsMode Tls { get; set; } = TlsMode.StartTls;

    public ListenerAuth Auth { get; set; } = ListenerAuth.Optional;

    public override string ToString() => $"{Port}/{Tls}/AUTH {Auth}";
}

public enum TlsMode
{
    /// <summary>Plain text only; STARTTLS is not offered.</summary>
    None,

    /// <summary>Plain text with STARTTLS offered.</summary>
    StartTls,

    /// <summary>TLS from the first byte (SMTPS, port 465).</summary>
    Implicit,
}

public enum ListenerAuth
{
    Optional,

    /// <summary>MAIL before a successful AUTH gets <c>530</c>.</summary>
    Required,
}

/// <summary>The <c>MailSink:Smtp:Auth</c> section.</summary>
public sealed class SmtpAuthOptions
{
    public SmtpAuthMode Mode { get; set; } = SmtpAuthMode.AcceptAny;

    public List<SmtpUser> Users { get; set; } = [];

    /// <summary>Offer and accept AUTH before TLS (a sink on loopback usually wants this).</summary>
    public bool AllowInsecure { get; set; } = true;
}

public enum SmtpAuthMode
{
    /// <summary>Any user name and password are accepted (the session still records the user name).</summary>
    AcceptAny,

    /// <summary>Only the configured users, with their passwords.</summary>
    Users,
}

public sealed class SmtpUser
{
    public string Name { get; set; } = "";

    public string Password { get; set; } = "";
}

/// <summary>The <c>MailSink:Smtp:Certificate</c> section: a PFX, or a PEM certificate and key.</summary>
public sealed class CertificateOptions
{
    /// <summary>A .pfx/.p12 file, or a PEM certificate (with <see cref="KeyPath"/>). Empty: certs/ or a new self-signed one.</summary>
    public string? Path { get; set; }

    /// <summary>The PFX password.</summary>
    public string? Password { get; set; }

    /// <summary>The PEM private key, when <see cref="Path"/> is a PEM certificate without its key.</summary>
    public string? KeyPath { get; set; }
}
