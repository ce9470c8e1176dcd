namespace MailSink.Api;

/// <summary>The <c>MailSink:Api</c> section.</summary>
public sealed class ApiOptions
{
    public const string Section = "MailSink:Api";

    /// <summary>
    /// When set, every <c>/api</c> call needs HTTP Basic with this key as the user name (any password),
    /// as Mailosaur's clients send it; the key as the password (Mailosaur's curl examples) works too.
    /// Empty: the API is open.
    /// </summary>
    public string ApiKey { get; set; } = "";

    /// <summary>
    /// Host names (<c>mail.example.com</c>, or <c>*.example.com</c> for any name under it) that HTTP requests
    /// may carry in their Host header, besides those always accepted (see <see cref="HostCheckMiddleware"/>);
    /// <c>*</c> turns the check off. The composition adds the SMTP server name.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];
}
