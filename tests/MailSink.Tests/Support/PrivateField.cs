using System.Reflection;

namespace MailSink.Tests.Support;

/// <summary>
/// A private instance field, for the few tests that must break or hold something inside the storage layer
/// (an engine, a file handle, a lock). Fails with the field's name when a refactoring renamed it.
/// </summary>
public static class PrivateField
{
    public static object Get(object owner, string name) => Find(owner, name).GetValue(owner)!;

    public static void Set(object owner, string name, object value) => Find(owner, name).SetValue(owner, value);

    private static FieldInfo Find(object owner, string name) =>
        owner.GetType().GetField(name, BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException($"{owner.GetType().Name} no longer has a field {name}; update the test that uses it.");
}
