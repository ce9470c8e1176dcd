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
        var name = PendingHello(context);
        var remote = context.Properties.TryGetValue(SmtpServer.Net.EndpointListener.RemoteEndPointKey, out var endPoint)
            && endPoint is System.Net.IPEndPoint ip ? ip.Address.ToString() : "unknown";
        return $"{context.ServerOptions.ServerName} Hello {name ?? "there"} [{remote}], pleased to meet you";
    }

    /// <summary>The name the client gave in the EHLO/HELO being answered (the library only sees a sanitised one).</summary>
    private static string? PendingHello(ISessionContext context) =>
        context.Properties.TryGetValue(HelloNameKey, out var name) ? name as string : null;

    internal const string HelloNameKey = "MailSink.HelloName";
}

internal sealed class SinkEhloCommand(string domainOrAddress) : EhloCommand(domainOrAddress)
{
    protected override string GetGreeting(ISessionContext context) => SinkCommandFactory.Greeting(context);

    protected override IEnumerable<string> GetExtensions(ISessionContext context)
    {
        if (context.Pipe is not SessionPipe pipe)
            yield break;
        var settings = pipe.Settings;
        yield return "PIPELINING";
        yield return $"SIZE {settings.MaxMessageBytes}";
        if (!pipe.IsSecure && settings.Listener.Tls == TlsMode.StartTls)
            yield return "STARTTLS";
        if (settings.AuthAllowed(pipe.IsSecure))
            yield return "AUTH LOGIN PLAIN CRAM-MD5";
        yield return "SMTPUTF8";
        yield return "8BITMIME";
    }
}

internal sealed class SinkHeloCommand(string domainOrAddress) : HeloCommand(domainOrAddress)
{
    protected override string GetGreeting(ISessionContext context) => SinkCommandFactory.Greeting(context);
}
