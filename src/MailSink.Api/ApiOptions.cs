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
}
