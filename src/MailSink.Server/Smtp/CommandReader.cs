using System.Buffers;
using System.IO.Pipelines;

namespace MailSink.Server.Smtp;

/// <summary>
/// What the library reads: one unit at a time from the adapter (a command line, or the end of a DATA
/// body), so the library always finds the terminator it looks for in what it is given.
/// </summary>
internal sealed class CommandReader(SessionAdapter adapter) : PipeReader
{
    private ReadOnlySequence<byte> _current = ReadOnlySequence<byte>.Empty;
    private bool _completed;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (!_current.IsEmpty)
            return new ReadResult(_current, false, false);
        if (_completed)
            return new ReadResult(ReadOnlySequence<byte>.Empty, false, true);

        var next = await adapter.NextForLibraryAsync(cancellationToken);
        if (next is null)
        {
            _completed = true;
            return new ReadResult(ReadOnlySequence<byte>.Empty, false, true);
        }

        _current = new ReadOnlySequence<byte>(next.Value);
        return new ReadResult(_current, false, false);
    }

    public override bool TryRead(out ReadResult result)
    {
        result = new ReadResult(_current, false, _completed);
        return !_current.IsEmpty;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) =>
        _current = _current.Slice(consumed);

    public override void CancelPendingRead()
    {
    }

    public override void Complete(Exception? exception = null) => _completed = true;
}
