using MailSink.Storage.Mime;
using MailSink.Storage.Search;
using Npgsql;

namespace MailSink.Storage.PostgreSql;

/// <summary>
/// Search in the database. Each criterion becomes a condition on the folded columns of <c>contents</c>
/// (<see cref="TextFold"/>): addresses match whole against the folded address arrays (GIN indexes), subject
/// and body as LIKE '%needle%' against the folded text (pg_trgm GIN indexes, so a body search over a large
/// inbox is an index lookup); ALL joins them with AND, ANY with OR, as <see cref="SearchCriteria"/> does.
/// A needle PostgreSQL cannot express exactly (one holding NUL, U+FFFD or a lone surrogate) only narrows
/// the candidates, which .NET then decides with <see cref="SearchCriteria"/> itself, reading a body from its
/// raw message when the answer depends on it.
/// </summary>
internal sealed partial class PostgreSqlStore
{
    private const int CandidatePage = 200;

    /// <summary>
    /// Up to this many messages in the range searched (an inbox, or what it received after a time), the
    /// search reads them and checks each rather than asking the trigram indexes. A needle whose trigrams most
    /// subjects share ("lat 0000123" among "lat 00001xx") made the index hand back nearly the whole table to
    /// check again: 50 such waits a second with receivedAfter a second ago took every core, where the few
    /// messages of that second were the answer. Test suites mostly search small inboxes or recent mail.
    /// </summary>
    private const int ScanAtMost = 1000;

    public async Task<IReadOnlyList<StoredMessage>> SearchAsync(
        string inbox, SearchCriteria criteria, int skip, int take, DateTimeOffset? receivedAfter, CancellationToken cancellationToken)
    {
        if (criteria.IsEmpty)
            return await ListAsync(inbox, skip, take, receivedAfter, cancellationToken);
        var filter = SearchFilter.For(criteria);
        var narrow = await IsNarrowAsync(inbox, receivedAfter, cancellationToken);
        if (filter.Exact)
        {
            return await UseAsync(async connection =>
            {
                await using var command = SearchCommand(connection, inbox, receivedAfter, filter, narrow,
                    "ORDER BY m.received DESC OFFSET @skip LIMIT @take", ("skip", (long)skip), ("take", (long)take));
                return await ReadListedAsync(command, cancellationToken);
            }, cancellationToken, search: true);
        }

        return await SearchInexactAsync(inbox, criteria, filter, narrow, skip, take, receivedAfter, cancellationToken);
    }

    /// <summary>Whether the range searched holds at most <see cref="ScanAtMost"/> messages (counted on the inbox+time index alone).</summary>
    private Task<bool> IsNarrowAsync(string inbox, DateTimeOffset? receivedAfter, CancellationToken cancellationToken) =>
        UseAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM (SELECT 1 FROM messages WHERE inbox = @inbox AND received > @after LIMIT @limit) s", connection);
            command.Parameters.AddWithValue("inbox", TextFold.Storable(inbox));
            command.Parameters.AddWithValue("after", After(receivedAfter));
            command.Parameters.AddWithValue("limit", (long)ScanAtMost + 1);
            return (long)(await command.ExecuteScalarAsync(cancellationToken))! <= ScanAtMost;
        }, cancellationToken);

    /// <summary>
    /// The command that <see cref="SearchAsync"/> runs (what a test asks PostgreSQL to explain). A
    /// <paramref name="narrow"/> search takes the range's messages first and checks each; a wide one lets
    /// the planner start from the trigram and address indexes.
    /// </summary>
    internal static NpgsqlCommand SearchCommand(
        NpgsqlConnection connection, string inbox, DateTimeOffset? receivedAfter, SearchFilter filter, bool narrow, string tail, params (string Name, object Value)[] more)
    {
        var command = new NpgsqlCommand(
            narrow
                ? $"WITH m AS MATERIALIZED (SELECT * FROM messages WHERE inbox = @inbox AND received > @after) " +
                  $"SELECT {ListedJoinedColumns} FROM m JOIN contents c ON c.id = m.content_id WHERE ({filter.Condition}) {tail}"
                : $"SELECT {ListedJoinedColumns} FROM {Joined} WHERE m.inbox = @inbox AND m.received > @after AND ({filter.Condition}) {tail}",
            connection);
        command.Parameters.AddWithValue("inbox", TextFold.Storable(inbox));
        command.Parameters.AddWithValue("after", After(receivedAfter));
        foreach (var (name, value) in filter.Parameters.Concat(more))
            command.Parameters.AddWithValue(name, value);
        return command;
    }

    /// <summary>Candidates newest first, a page at a time, each decided in .NET; skip and take count what matched.</summary>
    private async Task<IReadOnlyList<StoredMessage>> SearchInexactAsync(
        string inbox, SearchCriteria criteria, SearchFilter filter, bool narrow, int skip, int take, DateTimeOffset? receivedAfter, CancellationToken cancellationToken)
    {
        var results = new List<StoredMessage>();
        var skipped = 0;
        var before = long.MaxValue;
        while (results.Count < take)
        {
            var page = await UseAsync(async connection =>
            {
                await using var command = SearchCommand(connection, inbox, receivedAfter, filter, narrow,
                    "AND m.received < @before ORDER BY m.received DESC LIMIT @page", ("before", before), ("page", (long)CandidatePage));
                return await ReadListedAsync(command, cancellationToken);
            }, cancellationToken, search: true);
            foreach (var candidate in page)
            {
                if (!await MatchesAsync(candidate, criteria, cancellationToken) || skipped++ < skip)
                    continue;
                results.Add(candidate);
                if (results.Count == take)
                    break;
            }

            if (page.Count < CandidatePage)
                break;
            before = page[^1].ReceivedTicks;
        }

        return results;
    }

    /// <summary>Whether <paramref name="message"/> matches: on its facts, and on its bodies (read from its raw message) only when they decide.</summary>
    private async Task<bool> MatchesAsync(StoredMessage message, SearchCriteria criteria, CancellationToken cancellationToken)
    {
        var facts = SearchFacts.Of(message);
        var bodyAsked = false;
        var matched = criteria.Matches(facts, () => bodyAsked = true);
        if (!bodyAsked)
            return matched;
        if (await GetRawAsync(message.Id, cancellationToken) is not { } raw)
            return false; // deleted meanwhile
        var content = MessageParser.ReadContent(raw);
        message.SetContent(content);
        return criteria.Matches(facts, () => criteria.BodyMatches(content.Text, content.Html));
    }
}

/// <summary>The SQL condition (on <c>c</c>, <c>contents</c>) for criteria, and whether it is the whole answer or only narrows it.</summary>
internal sealed class SearchFilter
{
    private readonly List<string> _conditions = [];

    private SearchFilter()
    {
    }

    public string Condition { get; private set; } = "TRUE";

    public List<(string Name, object Value)> Parameters { get; } = [];

    /// <summary>False when a needle could only narrow the candidates (see <see cref="TextFold.IsExact"/>).</summary>
    public bool Exact { get; private set; } = true;

    public static SearchFilter For(SearchCriteria criteria)
    {
        var filter = new SearchFilter();
        if (!string.IsNullOrEmpty(criteria.SentFrom))
            filter.Address("c.senders_fold", criteria.SentFrom.Trim());
        if (!string.IsNullOrEmpty(criteria.SentTo))
            filter.Address("c.recipients_fold", criteria.SentTo.Trim());
        if (!string.IsNullOrEmpty(criteria.Subject))
            filter.Text("c.subject_fold", criteria.Subject);
        if (!string.IsNullOrEmpty(criteria.Body))
            filter.Text("c.body_fold", criteria.Body);
        filter.Condition = string.Join(criteria.Match == SearchMatch.All ? " AND " : " OR ", filter._conditions.Select(c => $"({c})"));
        return filter;
    }

    private void Address(string column, string address)
    {
        if (!TextFold.IsExact(address))
        {
            Inexact([]);
            return;
        }

        _conditions.Add($"{column} @> ARRAY[{Parameter(TextFold.Fold(address))}]::text[]");
    }

    private void Text(string column, string needle)
    {
        if (!TextFold.IsExact(needle))
        {
            Inexact(TextFold.ExactPieces(needle).Select(piece => $"{column} LIKE {Parameter(TextFold.Contains(TextFold.Fold(piece)))}"));
            return;
        }

        _conditions.Add($"{column} LIKE {Parameter(TextFold.Contains(TextFold.Fold(needle)))}");
    }

    /// <summary>A criterion that only narrows: every one of <paramref name="narrowing"/> holds for a match (none: any message may match).</summary>
    private void Inexact(IEnumerable<string> narrowing)
    {
        Exact = false;
        var conditions = narrowing.ToList();
        _conditions.Add(conditions.Count == 0 ? "TRUE" : string.Join(" AND ", conditions));
    }

    private string Parameter(object value)
    {
        var name = $"p{Parameters.Count}";
        Parameters.Add((name, value));
        return "@" + name;
    }
}
