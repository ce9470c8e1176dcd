using System.Net;
using System.Text.Json;
using MailSink.Api.Outgoing;
using MailSink.Storage;
using MailSink.Storage.Analysis;
using MailSink.Storage.Ingest;
using MailSink.Storage.Mime;
using MimeKit;

namespace MailSink.Api;

/// <summary>
/// <c>api/messages</c> calls that make mail: create, upload (.eml), forward, reply and release. What they
/// make goes through <see cref="MessageDelivery"/>: into MailSink's own inboxes, or to the relay when one is
/// configured and allows the recipient; never anywhere else.
/// </summary>
internal static class ComposeApi
{
    public static RouteGroupBuilder MapComposeApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/messages").WithTags("Messages");
        group.MapPost("/", Create).WithName("CreateMessage")
            .WithSummary("Builds a message; stores it in the inbox, or with send: true delivers it to its recipients.")
            .Produces<MessageDto>().Produces(StatusCodes.Status400BadRequest);
        group.MapPost("/raw", Upload).WithName("UploadMessage")
            .WithSummary("Stores a raw message (.eml, Content-Type: message/rfc822) as if it had arrived over SMTP.")
            .Produces<MessageDto>().Produces(StatusCodes.Status400BadRequest);
        group.MapPost("/{id}/forward", Forward).WithName("ForwardMessage").WithSummary("Forwards a message, its attachments included.")
            .Produces<MessageDto>().Produces(StatusCodes.Status400BadRequest).Produces(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/reply", Reply).WithName("ReplyToMessage").WithSummary("Replies to a message's sender, threaded.")
            .Produces<MessageDto>().Produces(StatusCodes.Status400BadRequest).Produces(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/release", Release).WithName("ReleaseMessage").WithSummary("Sends a stored message on, unchanged.")
            .Produces(StatusCodes.Status200OK).Produces(StatusCodes.Status400BadRequest).Produces(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<IResult> Create(MessageDelivery delivery, InboxRouter router, HttpRequest request, string? server)
    {
        if (!QueryParameters.TryServer(server, out var error))
            return error!;
        var inbox = MessagesApi.Inbox(server);
        var (body, bodyError) = await RequestBodies.ReadObjectAsync(request, "message", required: true, RequestBodies.MaxComposeBodyBytes);
        if (bodyError is not null)
            return bodyError;
        var json = body!.Value;
        if (!RequestBodies.TryString(json, "from", out var fromText, out error)
            || !TryAddresses(json, "to", out var to, out error)
            || !TryAddresses(json, "cc", out var cc, out error)
            || !RequestBodies.TryString(json, "subject", out var subject, out error)
            || !RequestBodies.TryString(json, "text", out var text, out error)
            || !RequestBodies.TryString(json, "html", out var html, out error)
            || !TryAttachments(json, out var attachments, out error)
            || !RequestBodies.TryBoolean(json, "send", out var send, out error))
            return error!;

        MailboxAddress? from = new("", router.AddressOf(inbox));
        if (fromText is not null && (!MailboxAddress.TryParse(fromText, out from) || !from.Address.Contains('@')))
            return ApiErrors.BadRequest("from", $"from must be an email address (it is '{fromText}').");

        var recipients = Addresses(to).Concat(Addresses(cc)).ToList();
        MessageDelivery.Recipients? checkedRecipients = null;
        if (send && (checkedRecipients = delivery.Check(recipients, out var refusal)) is null)
            return ApiErrors.BadRequest(to.Count == 0 ? "to" : "send", refusal!);

        var raw = MessageComposer.ToBytes(MessageComposer.Create(from, to, cc, subject, text, html, attachments));
        if (checkedRecipients is null)
            return Ok(await delivery.StoreAsync(raw, from.Address, recipients, inbox, Remote(request), request.HttpContext.RequestAborted), request);
        return await DeliverAsync(delivery, raw, from.Address, checkedRecipients, request);
    }

    private static async Task<IResult> Upload(MessageDelivery delivery, InboxRouter router, HttpRequest request, string? server)
    {
        string? inbox = null;
        if (!string.IsNullOrWhiteSpace(server))
        {
            if (QueryParameters.NotAnInbox(server) is { } notAnInbox)
                return notAnInbox;
            inbox = MessagesApi.Inbox(server);
        }

        using var buffer = await RequestBodies.ReadBytesAsync(request, RequestBodies.MaxComposeBodyBytes);
        if (buffer is null)
            return ApiErrors.BadRequest("message", $"The message is larger than {RequestBodies.MaxComposeBodyBytes} bytes.");
        if (buffer.Length == 0)
            return ApiErrors.BadRequest("message", "Send the raw message (.eml) as the request body, with Content-Type: message/rfc822.");
        var raw = buffer.ToArray();

        // The envelope a sending client would have given: its From and recipients, as the headers say.
        var (mailFrom, recipients) = HeaderEnvelope(raw);
        if (inbox is null && recipients.Count == 0)
            return ApiErrors.BadRequest("server", "The message names no recipient: give ?server= to say which inbox it goes to.");
        var cancellation = request.HttpContext.RequestAborted;
        var stored = inbox is not null
            ? await delivery.StoreAsync(raw, mailFrom, recipients, inbox, Remote(request), cancellation)
            : (await delivery.StoreRoutedAsync(raw, mailFrom, recipients, Remote(request), cancellation))[0];
        return Ok(stored, request);
    }

    private static async Task<IResult> Forward(MessageDelivery delivery, IMessageRepository messages, InboxRouter router, HttpRequest request, string id)
    {
        var (body, bodyError) = await RequestBodies.ReadObjectAsync(request, "options", required: true);
        if (bodyError is not null)
            return bodyError;
        var json = body!.Value;
        if (!TryAddresses(json, "to", out var to, out var error)
            || !TryAddresses(json, "cc", out var cc, out error)
            || !RequestBodies.TryString(json, "text", out var text, out error)
            || !RequestBodies.TryString(json, "html", out var html, out error))
            return error!;
        if (to.Count == 0)
            return ApiErrors.BadRequest("to", "to must name the address to forward the message to.");
        if (delivery.Check(Addresses(to).Concat(Addresses(cc)).ToList(), out var refusal) is not { } recipients)
            return ApiErrors.BadRequest("to", refusal!);

        if (await OriginalAsync(messages, id, request) is not var (stored, original))
            return TypedResults.NotFound();
        using (original)
        {
            var raw = MessageComposer.ToBytes(MessageComposer.Forward(original, OwnAddress(stored, original, router), to, cc, text, html));
            return await DeliverAsync(delivery, raw, OwnAddress(stored, original, router).Address, recipients, request);
        }
    }

    private static async Task<IResult> Reply(MessageDelivery delivery, IMessageRepository messages, InboxRouter router, HttpRequest request, string id)
    {
        var (body, bodyError) = await RequestBodies.ReadObjectAsync(request, "options", required: false, RequestBodies.MaxComposeBodyBytes);
        if (bodyError is not null)
            return bodyError;
        InternetAddressList cc = [];
        string? text = null, html = null;
        IReadOnlyList<AttachmentInput> attachments = [];
        if (body is { } json
            && (!TryAddresses(json, "cc", out cc, out var error)
                || !RequestBodies.TryString(json, "text", out text, out error)
                || !RequestBodies.TryString(json, "html", out html, out error)
                || !TryAttachments(json, out attachments, out error)))
            return error!;

        if (await OriginalAsync(messages, id, request) is not var (stored, original))
            return TypedResults.NotFound();
        using (original)
        {
            var reply = MessageComposer.Reply(original, OwnAddress(stored, original, router), cc, text, html, attachments);
            if (delivery.Check(Addresses(reply.To).Concat(Addresses(cc)).ToList(), out var refusal) is not { } recipients)
                return ApiErrors.BadRequest(reply.To.Count == 0 ? "from" : "to", reply.To.Count == 0 ? "The message has no sender to reply to." : refusal!);
            return await DeliverAsync(delivery, MessageComposer.ToBytes(reply), reply.From.Mailboxes.First().Address, recipients, request);
        }
    }

    private static async Task<IResult> Release(MessageDelivery delivery, IMessageRepository messages, HttpRequest request, string id)
    {
        var (body, bodyError) = await RequestBodies.ReadObjectAsync(request, "options", required: true);
        if (bodyError is not null)
            return bodyError;
        if (!TryAddresses(body!.Value, "to", out var to, out var error))
            return error!;
        if (to.Count == 0)
            return ApiErrors.BadRequest("to", "to must name the address(es) to release the message to.");
        if (delivery.Check(Addresses(to).ToList(), out var refusal) is not { } recipients)
            return ApiErrors.BadRequest("to", refusal!);

        var cancellation = request.HttpContext.RequestAborted;
        if (await messages.GetAsync(id, cancellation) is not { } stored || await messages.GetRawAsync(id, cancellation) is not { } raw)
            return TypedResults.NotFound();
        try
        {
            var outcome = await delivery.DeliverAsync(raw, stored.Envelope.MailFrom, recipients, Remote(request), cancellation);
            return TypedResults.Ok(new ReleaseResultDto(outcome.Relayed, outcome.Stored.Select(m => m.ToSummaryDto()).ToList()));
        }
        catch (RelayFailedException ex)
        {
            return ApiErrors.Problem(StatusCodes.Status502BadGateway, "relay", ex.Message);
        }
    }

    /// <summary>
    /// Delivers and answers with the new message: the copy stored in the first of MailSink's inboxes it
    /// reached, or, when it only left through the relay (MailSink keeps no copy), the message as sent, under
    /// an id no other call knows.
    /// </summary>
    private static async Task<IResult> DeliverAsync(MessageDelivery delivery, byte[] raw, string mailFrom, MessageDelivery.Recipients recipients, HttpRequest request)
    {
        MessageDelivery.Outcome outcome;
        try
        {
            outcome = await delivery.DeliverAsync(raw, mailFrom, recipients, Remote(request), request.HttpContext.RequestAborted);
        }
        catch (RelayFailedException ex)
        {
            return ApiErrors.Problem(StatusCodes.Status502BadGateway, "relay", ex.Message);
        }

        if (outcome.Stored.Count > 0)
            return Ok(outcome.Stored[0], request);
        var sent = MessageParser.Parse(raw, new SmtpEnvelope(mailFrom, recipients.Given, null, Remote(request), null, null, false));
        ContentAnalyzer.Analyze(sent);
        sent.Id = TimeOrderedId.NewVersion7().ToString();
        sent.ReceivedTicks = DateTimeOffset.UtcNow.UtcTicks;
        return Ok(sent, request);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.Ok<MessageDto> Ok(StoredMessage message, HttpRequest request) => TypedResults.Ok(message.ToDto(MessagesApi.BaseUrl(request)));

    /// <summary>The stored message and its raw form parsed again (for its parts and headers), or null when unknown.</summary>
    private static async Task<(StoredMessage Stored, MimeMessage Original)?> OriginalAsync(IMessageRepository messages, string id, HttpRequest request)
    {
        var cancellation = request.HttpContext.RequestAborted;
        if (await messages.GetAsync(id, cancellation) is not { } stored || await messages.GetRawAsync(id, cancellation) is not { } raw)
            return null;
        return (stored, MessageParser.LoadForReply(raw));
    }

    /// <summary>
    /// Who forwards or replies: the address the message reached its inbox by (the first recipient that routes
    /// there), as a person's mail client would answer from; failing that, the inbox's own address.
    /// </summary>
    private static MailboxAddress OwnAddress(StoredMessage stored, MimeMessage original, InboxRouter router)
    {
        var candidates = original.To.Mailboxes.Concat(original.Cc.Mailboxes).Select(m => m.Address).Concat(stored.Envelope.RcptTo);
        var own = candidates.FirstOrDefault(a => router.IsLocal(a) && router.Route(a) == stored.Inbox);
        return new MailboxAddress("", own ?? router.AddressOf(stored.Inbox));
    }

    private static (string MailFrom, List<string> Recipients) HeaderEnvelope(byte[] raw)
    {
        try
        {
            using var message = MimeMessage.Load(new MemoryStream(raw, writable: false));
            var from = message.Sender?.Address ?? message.From.Mailboxes.FirstOrDefault()?.Address ?? "";
            return (from, message.To.Mailboxes.Concat(message.Cc.Mailboxes).Concat(message.Bcc.Mailboxes).Select(m => m.Address).ToList());
        }
        catch (FormatException)
        {
            return ("", []); // stored raw and flagged by the parser; the inbox must then be given
        }
    }

    private static IEnumerable<string> Addresses(InternetAddressList list) => list.Mailboxes.Select(m => m.Address);

    /// <summary>
    /// The caller's address and port as SMTP stores a client's (<c>127.0.0.1:5000</c>, <c>[::1]:5000</c>), which the
    /// deliverability report parses back; an IPv4 caller on a dual-stack listener as such, not <c>::ffff:a.b.c.d</c>.
    /// </summary>
    private static string? Remote(HttpRequest request) =>
        request.HttpContext.Connection.RemoteIpAddress is { } address
            ? new IPEndPoint(ClientAddress.Plain(address), request.HttpContext.Connection.RemotePort).ToString()
            : null;

    /// <summary>An address list: a string (one address, or several separated by commas) or an array of strings.</summary>
    private static bool TryAddresses(JsonElement body, string name, out InternetAddressList list, out IResult? error)
    {
        list = [];
        error = null;
        if (!RequestBodies.TryProperty(body, name, out var value) || value.ValueKind == JsonValueKind.Null)
            return true;
        var texts = value.ValueKind switch
        {
            JsonValueKind.String => [value.GetString()!],
            JsonValueKind.Array when value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String) => value.EnumerateArray().Select(v => v.GetString()!).ToList(),
            _ => (List<string>?)null,
        };
        if (texts is null)
        {
            error = ApiErrors.BadRequest(name, $"{name} must be an email address, or several separated by commas.");
            return false;
        }

        foreach (var text in texts.Where(t => !string.IsNullOrWhiteSpace(t)))
        {
            if (!InternetAddressList.TryParse(text, out var parsed) || parsed.Mailboxes.Any(m => !m.Address.Contains('@')) || parsed.Count == 0)
            {
                error = ApiErrors.BadRequest(name, $"{name} must be an email address, or several separated by commas (it is '{text}').");
                return false;
            }

            list.AddRange(parsed.Mailboxes);
        }

        return true;
    }

    /// <summary><c>attachments: [{fileName, contentType, content (base64), contentId}]</c>, as Mailosaur's clients send them.</summary>
    private static bool TryAttachments(JsonElement body, out IReadOnlyList<AttachmentInput> attachments, out IResult? error)
    {
        var list = new List<AttachmentInput>();
        attachments = list;
        error = null;
        if (!RequestBodies.TryProperty(body, "attachments", out var value) || value.ValueKind == JsonValueKind.Null)
            return true;
        if (value.ValueKind != JsonValueKind.Array)
        {
            error = ApiErrors.BadRequest("attachments", "attachments must be an array of {fileName, contentType, content (base64), contentId}.");
            return false;
        }

        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var field = $"attachments[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                error = ApiErrors.BadRequest(field, $"{field} must be an object {{fileName, contentType, content, contentId}}.");
                return false;
            }

            if (!RequestBodies.TryString(item, "fileName", out var fileName, out error)
                || !RequestBodies.TryString(item, "contentType", out var contentType, out error)
                || !RequestBodies.TryString(item, "content", out var content, out error)
                || !RequestBodies.TryString(item, "contentId", out var contentId, out error))
                return false;
            contentType ??= "application/octet-stream";
            if (!ContentType.TryParse(contentType, out _))
            {
                error = ApiErrors.BadRequest($"{field}.contentType", $"{field}.contentType must be a media type such as image/png (it is '{contentType}').");
                return false;
            }

            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(content ?? "");
            }
            catch (FormatException)
            {
                error = ApiErrors.BadRequest($"{field}.content", $"{field}.content must be the attachment's bytes in base64.");
                return false;
            }

            list.Add(new AttachmentInput(string.IsNullOrEmpty(fileName) ? contentId ?? "attachment" : fileName, contentType, bytes, string.IsNullOrEmpty(contentId) ? null : contentId));
        }

        return true;
    }
}

/// <summary>What a release did: the addresses handed to the relay, and the copies stored in MailSink's inboxes.</summary>
public sealed record ReleaseResultDto(IReadOnlyList<string> Relayed, IReadOnlyList<MessageSummaryDto> Stored);
