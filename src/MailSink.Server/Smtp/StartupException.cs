namespace MailSink.Server;

/// <summary>A setting or resource that keeps MailSink from starting; the message tells the operator what to do.</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
