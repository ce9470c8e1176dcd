using LiteDB;

namespace MailSink.Storage.LiteDb;

/// <summary>
/// What fault tests reach inside the store through: read-only, and checked by the compiler, so that a
/// renamed field breaks the build instead of a test at run time. Nothing in the store uses them.
/// </summary>
internal sealed partial class LiteDbStore
{
    /// <summary>The LiteDB database now open (a reopen replaces it); for fault tests, which break or inspect it.</summary>
    internal LiteDatabase Database => _db;

    /// <summary>The lock every use of the database runs under; for fault tests that hold the database busy.</summary>
    internal Lock Gate => _gate;

    /// <summary>LiteDB's log stream now open (a reopen replaces it); for fault tests that make its reads fail.</summary>
    internal LogFileStream LogStream => _log;

    /// <summary>The in-memory search index; for tests that look at what it keeps.</summary>
    internal SearchIndex SearchIndex => _index;

    /// <summary>The turn body searches take one at a time; for fault tests that hold it, as a long scan would.</summary>
    internal SemaphoreSlim BodySearchTurns => _bodySearches;
}
