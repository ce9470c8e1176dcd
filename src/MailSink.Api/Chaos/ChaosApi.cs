using System.Text.Json;
using MailSink.Storage;

namespace MailSink.Api.Chaos;

/// <summary>
/// <c>api/chaos</c>: fault injection for tests of an application's retries. A test adds its own rule
/// (scoped to its inbox, so parallel tests do not meet), sends, asserts, and removes it.
/// </summary>
internal static class ChaosApi
{

    public static RouteGroupBuilder MapChaosApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/chaos").WithTags("Chaos");
        group.MapGet("/", (ChaosRules rules) => TypedResults.Ok(new ChaosRulesDto(rules.All())))
            .WithName("GetChaosRules").WithSummary("The fault rules in force, with how often each has acted.");
        group.MapPut("/", Replace).WithName("SetChaosRules").WithSummary("Replaces every fault rule: {rules:[…]}.")
            .Accepts<ChaosRulesDto>("application/json").Produces<ChaosRulesDto>().Produces(StatusCodes.Status400BadRequest);
        group.MapDelete("/", (ChaosRules rules) =>
        {
            rules.Clear();
            return TypedResults.NoContent();
        }).WithName("ClearChaosRules").WithSummary("Removes every fault rule: normal service.");
        group.MapPost("/rules", Add).WithName("AddChaosRule").WithSummary("Adds one fault rule; answers it with its id.")
            .Accepts<ChaosRule>("application/json").Produces<ChaosRule>().Produces(StatusCodes.Status400BadRequest);
        group.MapDelete("/rules/{id}", (ChaosRules rules, string id) => rules.Remove(id) ? Results.NoContent() : Results.NotFound())
            .WithName("RemoveChaosRule");
        return group;
    }

    private static async Task<IResult> Add(ChaosRules rules, HttpRequest request)
    {
        var (body, error) = await RequestBodies.ReadObjectAsync(request, "rule", required: true);
        if (error is not null)
            return error;
        if (!TryRule(body!.Value, "rule", out var rule, out error))
            return error!;
        return TypedResults.Ok(rules.Add(rule!));
    }

    private static async Task<IResult> Replace(ChaosRules rules, HttpRequest request)
    {
        var (body, error) = await RequestBodies.ReadObjectAsync(request, "rules", required: true);
        if (error is not null)
            return error;
        if (!RequestBodies.TryProperty(body!.Value, "rules", out var list) || list.ValueKind != JsonValueKind.Array)
            return ApiErrors.BadRequest("rules", "Send {\"rules\":[…]}, each rule {stage, action, code, text, inbox, address, count, probability, expires, delayMilliseconds}.");
        var parsed = new List<ChaosRule>();
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (!TryRule(item, $"rules[{index++}]", out var rule, out error))
                return error!;
            parsed.Add(rule!);
        }

        return TypedResults.Ok(new ChaosRulesDto(rules.Replace(parsed)));
    }

    /// <summary>A rule's fields as JSON names them (<c>applied</c> and <c>id</c> too, so that a rule read back can be sent again).</summary>
    private static readonly string[] RuleFields = [.. typeof(ChaosRule).GetProperties().Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name))];

    private static bool TryRule(JsonElement json, string field, out ChaosRule? rule, out IResult? error)
    {
        rule = null;
        error = null;

        // A misspelt field would otherwise be dropped, and a rule meant for one inbox ("inbx") would fail
        // every session of every test.
        if (json.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in json.EnumerateObject())
            {
                if (RuleFields.Contains(property.Name, StringComparer.OrdinalIgnoreCase))
                    continue;
                error = ApiErrors.BadRequest(field, $"{field} has no field \"{QuotedText.Printable(property.Name, 40)}\": a rule's fields are {string.Join(", ", RuleFields.Where(f => f is not ("id" or "applied")))}.");
                return false;
            }
        }

        try
        {
            rule = json.Deserialize<ChaosRule>(ApiJson.Web);
        }
        catch (JsonException ex)
        {
            error = ApiErrors.BadRequest(field, $"{field} is not a rule ({ex.Message}): stage is connect, helo, mail, rcpt or data; action reply, delay or disconnect.");
            return false;
        }

        if (rule is null)
        {
            error = ApiErrors.BadRequest(field, $"{field} must be a rule object.");
            return false;
        }

        if (ChaosRules.Problem(rule) is { } problem)
        {
            error = ApiErrors.BadRequest(field, $"{field}: {problem}");
            return false;
        }

        return true;
    }
}

public sealed record ChaosRulesDto(IReadOnlyList<ChaosRule> Rules);
