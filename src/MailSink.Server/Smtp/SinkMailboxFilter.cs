using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Storage;

namespace MailSink.Server.Smtp;

/// <summary>A sink takes every address; the session adapter has already refused malformed ones with 501.</summary>
internal sealed class SinkMailboxFilter : IMailboxFilter
{
    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken) =>
        Task.FromResult(true);

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken) =>
        Task.FromResult(true);
}
