using SmtpServer;
using SmtpServer.Protocol;

namespace MailSink.Server.Smtp;

/// <summary>EHLO and HELO replies worded and listed by MailSink; every other command is the library's.</summary>
internal sealed class SinkCommandFactory : SmtpCommandFactory
{
    public override SmtpCommand CreateEhlo(string domainOrAddress) => new SinkEhloCommand(domainOrAddress);

    public override SmtpCommand CreateHelo(string domainOrAddress) => new SinkHeloCommand(domainOrAddress);

    internal static string Greeting(ISessionContext context)
    {
        var session = SinkSession.Of(context);
        var remote = session.Transport.RemoteEndPoint is System.Net.IPEndPoint ip ? ip.Address.ToString() : "unknown";
        return $"{session.Settings.ServerName} Hello {session.State.HelloBeingAnswered ?? "there"} [{remote}], pleased to meet you";
    }
}

internal sealed class SinkEhloCommand(string domainOrAddress) : EhloCommand(domainOrAddress)
{
    protected override string GetGreeting(ISessionContext context) => SinkCommandFactory.Greeting(context);

    protected override IEnumerable<string> GetExtensions(ISessionContext context)
    {
        var session = SinkSession.Of(context);
        var settings = session.Settings;
        var secure = session.Transport.IsSecure;
        yield return "PIPELINING";
        yield return $"SIZE {settings.MaxMessageBytes}";
        if (!secure && settings.Listener.Tls == TlsMode.StartTls)
            yield return "STARTTLS";
        if (settings.AuthAllowed(secure))
            yield return "AUTH LOGIN PLAIN CRAM-MD5";
        yield return "SMTPUTF8";
        yield return "8BITMIME";
        yield return "CHUNKING";
        yield return "BINARYMIME";
    }
}

internal sealed class SinkHeloCommand(string domainOrAddress) : HeloCommand(domainOrAddress)
{
    protected override string GetGreeting(ISessionContext context) => SinkCommandFactory.Greeting(context);
}
