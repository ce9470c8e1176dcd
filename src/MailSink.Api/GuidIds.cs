namespace MailSink.Api;

/// <summary>
/// An id in a path that is a GUID (a message, an attachment, a device, a screenshot) is read in lower case, as
/// MailSink writes every one: a GUID is the same whatever its case, and one copied through a tool that writes
/// it in capitals (.NET's "X" formats, SQL Server, a spreadsheet) found nothing. Inbox ids are not GUIDs and are
/// left to <see cref="MessagesApi.Inbox"/>.
/// </summary>
internal static class GuidIds
{
    /// <summary>For endpoints with a string parameter named <c>id</c>: that argument in lower case when it is a GUID.</summary>
    public static EndpointFilterDelegate Filter(EndpointFilterFactoryContext context, EndpointFilterDelegate next)
    {
        var ids = context.MethodInfo.GetParameters()
            .Where(p => p.ParameterType == typeof(string) && p.Name == "id")
            .Select(p => p.Position)
            .ToArray();
        if (ids.Length == 0)
            return next;
        return invocation =>
        {
            foreach (var position in ids)
            {
                if (invocation.Arguments[position] is string { Length: 36 } id
                    && id.AsSpan().ContainsAnyInRange('A', 'F')
                    && Guid.TryParseExact(id, "D", out var guid))
                {
                    invocation.Arguments[position] = guid.ToString("D");
                }
            }

            return next(invocation);
        };
    }
}
