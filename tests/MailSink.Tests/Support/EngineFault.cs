using MailSink.Storage;

namespace MailSink.Tests.Support;

/// <summary>Faults inside the LiteDB engine under a store, reached through the store's internal seams.</summary>
public static class EngineFault
{
    /// <summary>Breaks the LiteDB engine under a store, as LiteDB's internal failures do: every later call on it throws.</summary>
    internal static void Inject(LiteDbStore repository) => repository.Database.Dispose();

    /// <summary>
    /// What a read from a failing disk throws on Linux (EIO), as .NET makes it from the error number: an
    /// <see cref="IOException"/> whose HResult is the errno (5).
    /// </summary>
    public static IOException InputOutputError(string path) => new($"Input/output error : '{path}'", 5);
}
