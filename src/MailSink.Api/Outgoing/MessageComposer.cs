using System.Net;
using System.Text;
using MimeKit;

namespace MailSink.Api.Outgoing;

/// <summary>An attachment given to create or reply: decoded bytes, and a Content-ID when the HTML refers to it.</summary>
public sealed record AttachmentInput(string FileName, string ContentType, byte[] Content, string? ContentId);

/// <summary>
/// Builds the messages of create, forward and reply with MimeKit, as a mail client would: a text and an
/// HTML alternative, attachments in multipart/mixed, images the HTML names by <c>cid:</c> in
/// multipart/related, a forward quoting the original under a "Forwarded message" line with its
/// attachments, a reply threaded by <c>In-Reply-To</c> and <c>References</c> and quoting with "&gt; ".
/// </summary>
public static class MessageComposer
{
    public static MimeMessage Create(
        MailboxAddress from, InternetAddressList to, InternetAddressList cc, string? subject, string? text, string? html, IReadOnlyList<AttachmentInput> attachments)
    {
        var message = New(from, to, cc, subject ?? "");
        message.Body = Body(text, html, attachments, []);
        return message;
    }

    public static MimeMessage Forward(MimeMessage original, MailboxAddress from, InternetAddressList to, InternetAddressList cc, string? text, string? html)
    {
        var message = New(from, to, cc, Prefixed("Fwd:", original.Subject));
        var header = new StringBuilder()
            .Append("---------- Forwarded message ---------\r\n")
            .Append("From: ").Append(original.From.ToString()).Append("\r\n")
            .Append("Date: ").Append(original.Date.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append("\r\n")
            .Append("Subject: ").Append(original.Subject ?? "").Append("\r\n")
            .Append("To: ").Append(original.To.ToString()).Append("\r\n");
        if (original.Cc.Count > 0)
            header.Append("Cc: ").Append(original.Cc.ToString()).Append("\r\n");

        var textBody = Join(text, header + "\r\n" + (original.TextBody ?? ""));
        string? htmlBody = null;
        if (html is not null || original.HtmlBody is not null)
        {
            htmlBody = (html ?? Escaped(text)) + "<br><br><div class=\"forwarded\">"
                       + Escaped(header.ToString()) + "<br>" + (original.HtmlBody ?? Escaped(original.TextBody)) + "</div>";
        }

        // The original's attachments go with it, as mail clients forward them.
        message.Body = Body(textBody, htmlBody, [], original.Attachments.ToList());
        return message;
    }

    public static MimeMessage Reply(MimeMessage original, MailboxAddress from, InternetAddressList cc, string? text, string? html, IReadOnlyList<AttachmentInput> attachments)
    {
        var to = new InternetAddressList(original.ReplyTo.Count > 0 ? original.ReplyTo : original.From);
        var message = New(from, to, cc, Prefixed("Re:", original.Subject));
        if (!string.IsNullOrEmpty(original.MessageId))
        {
            message.InReplyTo = original.MessageId;
            foreach (var reference in original.References)
                message.References.Add(reference);
            message.References.Add(original.MessageId);
        }

        var said = $"On {original.Date.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}, {original.From} wrote:";
        var quoted = string.Join("\r\n", (original.TextBody ?? "").TrimEnd('\r', '\n').Split('\n').Select(line => "> " + line.TrimEnd('\r')));
        var textBody = Join(text, said + "\r\n" + quoted);
        string? htmlBody = null;
        if (html is not null || original.HtmlBody is not null)
        {
            htmlBody = (html ?? Escaped(text)) + "<br><br><div class=\"quote\">" + Escaped(said)
                       + "<blockquote>" + (original.HtmlBody ?? Escaped(original.TextBody)) + "</blockquote></div>";
        }

        message.Body = Body(textBody, htmlBody, attachments, []);
        return message;
    }

    /// <summary>The message as bytes on the wire (CRLF line ends), as it is stored and relayed.</summary>
    public static byte[] ToBytes(MimeMessage message)
    {
        using var buffer = new MemoryStream();
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        message.WriteTo(options, buffer);
        return buffer.ToArray();
    }

    private static MimeMessage New(MailboxAddress from, InternetAddressList to, InternetAddressList cc, string subject)
    {
        var message = new MimeMessage { Subject = subject, Date = DateTimeOffset.UtcNow };
        message.From.Add(from);
        message.To.AddRange(to);
        message.Cc.AddRange(cc);
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId(from.Domain is { Length: > 0 } domain ? domain : "mailsink.localhost");
        return message;
    }

    private static MimeEntity Body(string? text, string? html, IReadOnlyList<AttachmentInput> attachments, IReadOnlyList<MimeEntity> carried)
    {
        var builder = new BodyBuilder { TextBody = text ?? (html is null ? "" : null), HtmlBody = html };
        foreach (var attachment in attachments)
        {
            var type = ContentType.Parse(attachment.ContentType);
            // An image the HTML refers to by cid: sits beside it in multipart/related; without HTML it is an attachment that keeps its Content-ID.
            var part = html is not null && attachment.ContentId is not null
                ? builder.LinkedResources.Add(attachment.FileName, attachment.Content, type)
                : builder.Attachments.Add(attachment.FileName, attachment.Content, type);
            if (attachment.ContentId is not null)
                part.ContentId = attachment.ContentId.Trim('<', '>');
        }

        foreach (var entity in carried)
            builder.Attachments.Add(entity);
        return builder.ToMessageBody();
    }

    private static string Prefixed(string prefix, string? subject)
    {
        subject ??= "";
        return subject.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? subject : $"{prefix} {subject}";
    }

    private static string Join(string? top, string rest) => string.IsNullOrEmpty(top) ? rest : top.TrimEnd('\r', '\n') + "\r\n\r\n" + rest;

    private static string Escaped(string? text) => WebUtility.HtmlEncode(text ?? "").Replace("\r\n", "\n").Replace("\n", "<br>");
}
