using Microsoft.Win32.SafeHandles;

namespace MailSink.Storage.LiteDb;

/// <summary>
/// One of LiteDB's files, given to the engine as a stream that holds writes back in memory and writes them
/// out together (<see cref="WritePending"/>): before any access they could change, when LiteDB forces the
/// file to the disk (<see cref="Flush"/>), and when the stream is disposed. Reads and writes go by position
/// (<c>pread</c>/<c>pwrite</c>), with no buffer of the framework's in between.
/// </summary>
internal abstract class HeldWritesFileStream : Stream
{
    private long _position;

    protected HeldWritesFileStream(string path)
    {
        Path = path;
        File = System.IO.File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
    }

    public string Path { get; }

    protected SafeFileHandle File { get; }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Position
    {
        get => _position;
        set => _position = value;
    }

    /// <summary>Writes what is held back to the file (to the OS, not forced to the disk).</summary>
    public abstract void WritePending();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>Writes what is held back and forces the file to the disk (LiteDB asks for it at checkpoints).</summary>
    public override void Flush()
    {
        WritePending();
        RandomAccess.FlushToDisk(File);
    }

    public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => Length + offset,
    };

    public override void SetLength(long value)
    {
        WritePending();
        ForgetReads();
        RandomAccess.SetLength(File, value);
        _position = Math.Min(_position, value); // as FileStream does
    }

    /// <summary>Drops whatever was read ahead and kept (the file is about to change under it).</summary>
    protected virtual void ForgetReads()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !File.IsClosed)
        {
            try
            {
                WritePending();
            }
            finally
            {
                File.Dispose();
            }
        }

        base.Dispose(disposing);
    }
}
