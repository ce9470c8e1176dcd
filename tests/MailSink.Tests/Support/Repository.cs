namespace MailSink.Tests.Support;

/// <summary>The repository the tests were built from (the folder holding MailSink.sln).</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "MailSink.sln")))
                return folder.FullName;
        }

        throw new InvalidOperationException($"No MailSink.sln above {AppContext.BaseDirectory}.");
    }
}
