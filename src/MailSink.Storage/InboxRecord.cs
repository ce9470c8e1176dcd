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

    /// <summary>A new random 8-character id of lower-case letters and digits (Mailosaur's clients expect 8).</summary>
    public static string NewId()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        return string.Create(8, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
                span[i] = alphabet[System.Security.Cryptography.RandomNumberGenerator.GetInt32(alphabet.Length)];
        });
    }
}
