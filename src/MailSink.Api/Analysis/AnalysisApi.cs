using MailSink.Api.Analysis.Deliverability;
using MailSink.Storage;

namespace MailSink.Api.Analysis;

/// <summary><c>api/analysis</c>: what Mailosaur's analysis calls answer, from real tools MailSink talks to.</summary>
internal static class AnalysisApi
{
    public static RouteGroupBuilder MapAnalysisApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/analysis").WithTags("Analysis");
        group.MapGet("/spam/{id}", Spam).WithName("AnalyzeSpam")
            .WithSummary("The message scored by SpamAssassin's spamd: {score, spamFilterResults:{spamAssassin:[{rule, score, description}]}}.")
            .Produces<SpamAnalysisDto>().Produces(StatusCodes.Status400BadRequest).Produces(StatusCodes.Status404NotFound);
        group.MapGet("/deliverability/{id}", Deliverability).WithName("AnalyzeDeliverability")
            .WithSummary("SPF, DKIM and DMARC from DNS, block lists, content checks, DNS records and SpamAssassin's score, made once and kept.")
            .Produces<DeliverabilityReportDto>().Produces(StatusCodes.Status404NotFound);
        group.MapGet("/html/{id}", Html).WithName("CheckHtml")
            .WithSummary("MailSink's own: the HTML and CSS features the message uses, and the mail clients that lack them (caniemail's data).")
            .Produces<HtmlCompatibilityDto>().Produces(StatusCodes.Status404NotFound);
        group.MapPost("/links/{id}", Links).WithName("CheckLinks")
            .WithSummary("MailSink's own: checks each link of the message (HEAD, then GET; redirects followed) and gives each one's outcome.")
            .Produces<LinkCheckDto>().Produces(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<IResult> Deliverability(DeliverabilityReports reports, HttpContext context, string id) =>
        await reports.GetAsync(id, context.RequestAborted) is { } report ? TypedResults.Ok(report) : TypedResults.NotFound();

    private static async Task<IResult> Html(IMessageRepository messages, HttpContext context, string id) =>
        await messages.GetAsync(id, context.RequestAborted) is { } message ? TypedResults.Ok(HtmlCompatibility.Check(message.Html)) : TypedResults.NotFound();

    private static async Task<IResult> Links(LinkChecker checker, IMessageRepository messages, HttpContext context, string id) =>
        await messages.GetAsync(id, context.RequestAborted) is { } message
            ? TypedResults.Ok(await checker.CheckAsync(message, context.RequestAborted))
            : TypedResults.NotFound();

    private static async Task<IResult> Spam(SpamAssassinClient spamd, IMessageRepository messages, HttpContext context, string id)
    {
        if (!spamd.Configured)
        {
            return ApiErrors.BadRequest("analysis",
                $"Spam analysis is not available: it needs SpamAssassin's spamd (Debian: apt-get install spamd; then start it), and {SpamAssassinOptions.Section}:Host (and :Port, 783 by default) set to where it listens.");
        }

        if (await messages.GetRawAsync(id, context.RequestAborted) is not { } raw)
            return TypedResults.NotFound();
        if (raw.Length > spamd.Options.MaxBytes)
            return ApiErrors.BadRequest("analysis", $"The message is {raw.Length} bytes, more than spam analysis takes ({SpamAssassinOptions.Section}:MaxBytes = {spamd.Options.MaxBytes}).");
        try
        {
            var report = await spamd.AnalyzeAsync(raw, context.RequestAborted);
            return TypedResults.Ok(new SpamAnalysisDto(
                new SpamFilterResultsDto([.. report.Rules.Select(r => new SpamAssassinRuleDto(r.Score, r.Rule, r.Description))]),
                report.Score));
        }
        catch (SpamAssassinException ex)
        {
            return ApiErrors.BadRequest("analysis", $"Spam analysis is not available: {ex.Message} Check that spamd runs and that {SpamAssassinOptions.Section}:Host and :Port name it.");
        }
    }
}

public sealed record SpamAssassinRuleDto(double Score, string Rule, string Description);

public sealed record SpamFilterResultsDto(IReadOnlyList<SpamAssassinRuleDto> SpamAssassin);

public sealed record SpamAnalysisDto(SpamFilterResultsDto SpamFilterResults, double Score);
