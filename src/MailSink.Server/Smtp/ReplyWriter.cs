using System.Buffers;
using System.IO.Pipelines;

namespace MailSink.Server.Smtp;

/// <summary>What the library writes: collected until its flush, then handed to the adapter as one reply.</summary>
internal sealed class ReplyWriter(SessionAdapter adapter) : PipeWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public override void Advance(int bytes) => _buffer.Advance(bytes);

    public override Memory<byte> GetMemory(int sizeHint = 0) => _buffer.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => _buffer.GetSpan(sizeHint);

    public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_buffer.WrittenCount > 0)
        {
            await adapter.OnLibraryOutputAsync(_buffer.WrittenMemory, cancellationToken);
            _buffer.Clear();
        }

        return new FlushResult(false, false);
    }

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null)
    {
    }
}
