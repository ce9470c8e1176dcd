using System.Reflection;
using LiteDB;
using MailSink.Storage;

namespace MailSink.Tests.Support;

/// <summary>Breaks the LiteDB engine under a repository, as LiteDB's internal failures do: every later call on it throws.</summary>
public static class EngineFault
{
    public static void Inject(MessageRepository repository)
    {
        var field = typeof(MessageRepository).GetField("_db", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("MessageRepository no longer keeps its LiteDatabase in _db; update this helper.");
        ((LiteDatabase)field.GetValue(repository)!).Dispose();
    }
}
