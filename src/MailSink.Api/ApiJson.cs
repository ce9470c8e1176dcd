using System.Text.Json;

namespace MailSink.Api;

/// <summary>The JSON options of what the API writes and reads outside minimal APIs' own binding (web defaults: camelCase).</summary>
internal static class ApiJson
{
    /// <summary>One instance for every such use, so that the serializer's metadata for a type is built once.</summary>
    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
}
