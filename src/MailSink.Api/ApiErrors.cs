namespace MailSink.Api;

/// <summary>
/// Mailosaur's error body: <c>{type, messages, errors:[{field, detail:[{description}]}]}</c>. The official
/// clients build their error message from <c>errors[].field</c> and <c>errors[].detail[0].description</c>.
/// </summary>
public static class ApiErrors
{
    public static IResult BadRequest(string field, string description) => Problem(StatusCodes.Status400BadRequest, field, description);

    public static IResult Problem(int status, string field, string description) =>
        Results.Json(Body("ValidationError", field, description), statusCode: status);

    /// <summary>The body alone, for what writes a response itself (status code pages, the exception handler).</summary>
    internal static object Body(string type, string field, string description) => new
    {
        type,
        messages = new Dictionary<string, string> { [field] = description },
        errors = new[] { new { field, detail = new[] { new { description } } } },
    };
}
