namespace MailSink.Storage;

/// <summary>An inbox (a Mailosaur "server"): made by its first message or through the API.</summary>
public sealed class InboxRecord
{
    public string Id { get; set; } = "";

    public string Name { get; set; } = "";

    /// <summary>Kept with every write, so that listing inboxes never counts messages.</summary>
    public long Messages { get; set; }

    public long CreatedTicks { get; set; }

    public long LastReceivedTicks { get; set; }
}
