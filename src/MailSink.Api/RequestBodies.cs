using System.Text.Json;
using MailSink.Storage;

namespace MailSink.Api;

/// <summary>
/// Reads request bodies by hand: property names in any case, nulls as absent, <c>match</c> as "ALL"/"ANY"
/// or 0/1 (the forms Mailosaur's clients send), and every problem a Mailosaur-shaped 400, never a 500.
/// </summary>
internal static class RequestBodies
{
    private const int MaxBodyBytes = 64 * 1024;

    /// <summary>A message made through the API: room for attachments of MailSink's default SMTP size limit, in base64.</summary>
    public const int MaxComposeBodyBytes = 36 * 1024 * 1024;

    public static async Task<(JsonElement? Body, IResult? Error)> ReadObjectAsync(HttpRequest request, string field, bool required, int maxBodyBytes = MaxBodyBytes)
    {
        using var buffer = await ReadBytesAsync(request, maxBodyBytes);
        if (buffer is null)
            return (null, ApiErrors.BadRequest(field, $"The request body is larger than {maxBodyBytes} bytes."));

        // A file saved by a Windows editor or PowerShell 5 (curl -d @file.json) starts with a UTF-8 byte order mark.
        var json = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        if (json.Span.StartsWith("\uFEFF"u8))
            json = json[3..];
        if (json.Span.TrimStart(" \t\r\n"u8).IsEmpty)
            return required ? (null, ApiErrors.BadRequest(field, "A JSON object is required in the request body.")) : (null, null);

        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                return (null, ApiErrors.BadRequest(field, "The request body must be a JSON object."));
            if (!IsValidText(document.RootElement))
                return (null, ApiErrors.BadRequest(field, "The request body holds a string or name that is not valid Unicode (a lone surrogate or invalid UTF-8)."));
            return (document.RootElement.Clone(), null);
        }
        catch (JsonException ex)
        {
            return (null, ApiErrors.BadRequest(field, $"The request body is not valid JSON: {ex.Message}"));
        }
    }

    private const int ReadSize = 81920;

    /// <summary>
    /// The whole body, or null as soon as it passes <paramref name="maxBodyBytes"/> (nothing more is read).
    /// Kestrel's own cap (30,000,000 bytes) is lifted to that for this request, so that a message with
    /// attachments of MailSink's SMTP size limit can be made through the API.
    /// </summary>
    public static async Task<MemoryStream?> ReadBytesAsync(HttpRequest request, int maxBodyBytes)
    {
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            // A declared length over the limit is refused unread; the server then reads past the body (up to
            // twice the limit) so that the client, still sending, gets the answer instead of a broken pipe.
            if (request.ContentLength > maxBodyBytes)
            {
                limit.MaxRequestBodySize = Math.Max(limit.MaxRequestBodySize ?? 0, Math.Min(request.ContentLength.Value, 2L * maxBodyBytes));
                return null;
            }

            // Room for one read past the limit: a body of unstated length (chunked) is then found too large
            // here, and answered as such, rather than by Kestrel's own refusal (a 413 logged as a failure).
            if (limit.MaxRequestBodySize < maxBodyBytes + ReadSize + 1L)
                limit.MaxRequestBodySize = maxBodyBytes + ReadSize + 1L;
        }

        var buffer = new MemoryStream();
        var chunk = new byte[ReadSize];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > maxBodyBytes)
                    return null;
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null; // Kestrel's cap, where this request's could not be raised
        }

        return buffer;
    }

    /// <summary>A string property, looked up case-insensitively; null when absent or null.</summary>
    public static bool TryString(JsonElement body, string name, out string? value, out IResult? error)
    {
        value = null;
        error = null;
        if (!TryProperty(body, name, out var property) || property.ValueKind == JsonValueKind.Null)
            return true;
        if (property.ValueKind != JsonValueKind.String)
        {
            error = ApiErrors.BadRequest(name, $"{name} must be a string.");
            return false;
        }

        value = property.GetString(); // valid text: ReadObjectAsync has read every string once
        return true;
    }

    /// <summary>A boolean property, looked up case-insensitively; false when absent or null.</summary>
    public static bool TryBoolean(JsonElement body, string name, out bool value, out IResult? error)
    {
        value = false;
        error = null;
        if (!RequestBodies.TryProperty(body, name, out var property) || property.ValueKind == JsonValueKind.Null)
            return true;
        if (property.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            value = property.GetBoolean();
            return true;
        }

        error = ApiErrors.BadRequest(name, $"{name} must be true or false.");
        return false;
    }

    public static bool TryCriteria(JsonElement? body, out SearchCriteria criteria, out IResult? error)
    {
        criteria = new SearchCriteria(null, null, null, null);
        error = null;
        if (body is not { } json)
            return true;

        if (!TryString(json, "sentFrom", out var sentFrom, out error)
            || !TryString(json, "sentTo", out var sentTo, out error)
            || !TryString(json, "subject", out var subject, out error)
            || !TryString(json, "body", out var text, out error))
            return false;

        var match = SearchMatch.All;
        if (TryProperty(json, "match", out var m) && m.ValueKind != JsonValueKind.Null)
        {
            var parsed = m.ValueKind switch
            {
                JsonValueKind.String when "ALL".Equals(m.GetString(), StringComparison.OrdinalIgnoreCase) => SearchMatch.All,
                JsonValueKind.String when "ANY".Equals(m.GetString(), StringComparison.OrdinalIgnoreCase) => SearchMatch.Any,
                JsonValueKind.Number when m.TryGetInt32(out var n) && n is 0 => SearchMatch.All,
                JsonValueKind.Number when m.TryGetInt32(out var n) && n is 1 => SearchMatch.Any,
                _ => (SearchMatch?)null,
            };
            if (parsed is null)
            {
                error = ApiErrors.BadRequest("match", "match must be \"ALL\" or \"ANY\" (or 0 or 1).");
                return false;
            }

            match = parsed.Value;
        }

        criteria = new SearchCriteria(sentFrom, sentTo, subject, text, match);
        return true;
    }

    /// <summary>
    /// JsonDocument accepts escaped lone surrogates and invalid UTF-8 inside strings and throws only when
    /// they are read; found by fuzzing, that was a 500. Every name and string is read once here.
    /// </summary>
    private static bool IsValidText(JsonElement element, int depth = 0)
    {
        try
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        _ = property.Name;
                        if (depth > 64 || !IsValidText(property.Value, depth + 1))
                            return false;
                    }

                    return true;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        if (depth > 64 || !IsValidText(item, depth + 1))
                            return false;
                    }

                    return true;
                case JsonValueKind.String:
                    _ = element.GetString();
                    return true;
                default:
                    return true;
            }
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    internal static bool TryProperty(JsonElement body, string name, out JsonElement value)
    {
        foreach (var property in body.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                value = property.Value;
                return true;
            }
        }

        value = default;
        return false;
    }
}
