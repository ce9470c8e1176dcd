using LiteDB;
using MailSink.Storage;

namespace MailSink.Tests.Support;

/// <summary>Breaks the LiteDB engine under a repository, as LiteDB's internal failures do: every later call on it throws.</summary>
public static class EngineFault
{
    internal static void Inject(LiteDbStore repository)
    {
        ((LiteDatabase)PrivateField.Get(repository, "_db")).Dispose();
    }
}
