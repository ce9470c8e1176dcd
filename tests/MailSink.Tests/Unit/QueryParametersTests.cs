using System.Globalization;
using System.Web;
using MailSink.Api;

namespace MailSink.Tests.Unit;

/// <summary>Query parameters as the API reads them (the 400s themselves: <c>Api.MessagesApiTests</c>).</summary>
public sealed class QueryParametersTests
{
    [Theory]
    [InlineData("2026-01-31", "2026-01-31T00:00:00.0000000+00:00")]
    [InlineData("2026-01-31T12:00:00Z", "2026-01-31T12:00:00.0000000+00:00")]
    [InlineData("2026-01-31T13:00:00.5%2B01:00", "2026-01-31T12:00:00.5000000+00:00")]
    [InlineData("2026-01-31T13:00:00.5+01:00", "2026-01-31T12:00:00.5000000+00:00")] // the '+' unencoded
    [InlineData("2026-01-31T13:00:00+0100", "2026-01-31T12:00:00.0000000+00:00")]
    [InlineData("2026-01-31 12:00:00", "2026-01-31T12:00:00.0000000+00:00")] // no offset: UTC
    [InlineData("2026-01-31 13:00:00+01:00", "2026-01-31T12:00:00.0000000+00:00")] // Python's str(datetime), its '+' unencoded
    public void Received_after_takes_iso_8601_as_mailosaurs_clients_send_it(string query, string expected)
    {
        var value = HttpUtility.ParseQueryString("receivedAfter=" + query)["receivedAfter"];

        Assert.True(QueryParameters.TryDate(value, "receivedAfter", out var date, out _), value);
        Assert.Equal(expected, date!.Value.ToString("O", CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("06/12/2026")] // read the American way it would be 12 June
    [InlineData("Dec 6 2026")]
    [InlineData("13:00")]
    [InlineData("20261206")]
    public void Received_after_refuses_what_is_not_iso_8601(string value)
    {
        Assert.False(QueryParameters.TryDate(value, "receivedAfter", out var date, out var error));
        Assert.Null(date);
        Assert.NotNull(error);
    }
}
