using System.Net;
using MailSink.Storage;

namespace MailSink.Server.Smtp;

/// <summary>
/// Counts open SMTP sessions, in all and per client address (the connection caps), says when the server
/// is busy, and carries the drain signal: at shutdown, sessions waiting between transactions are closed
/// with <c>421</c>, sessions inside one are let finish.
/// </summary>
internal sealed class SessionTracker(int maxConnections, int maxPerAddress) : IDisposable
{
    public void Dispose()
    {
        _drain.Dispose();
        Volatile.Read(ref _becameBusy).Dispose();
    }

    private readonly CancellationTokenSource _drain = new();
    private readonly object _gate = new();
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private TaskCompletionSource? _idle;
    private CancellationTokenSource _becameBusy = new();
    private int _active;

    public int Active => Volatile.Read(ref _active);

    /// <summary>At least four in five of the connection slots are taken: idle sessions get a shorter timeout.</summary>
    public bool Busy => Active * 5L >= maxConnections * 4L;

    public CancellationToken Draining => _drain.Token;

    /// <summary>Cancelled when the server next becomes <see cref="Busy"/> (sessions waiting then shorten their wait).</summary>
    public CancellationToken BecameBusy
    {
        get
        {
            lock (_gate)
                return _becameBusy.Token;
        }
    }

    /// <summary>Why a new session from <paramref name="address"/> is refused, or null when it is taken (and counted).</summary>
    public string? TryAcquire(IPAddress address)
    {
        address = ClientAddress.Network(address);
        CancellationTokenSource? nowBusy = null;
        lock (_gate)
        {
            if (_active >= maxConnections)
                return "Too many connections, try again later";
            _perAddress.TryGetValue(address, out var fromAddress);
            if (fromAddress >= maxPerAddress)
                return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                    ? $"Too many connections from your network (at most {maxPerAddress} from one IPv6 /64), try again later"
                    : $"Too many connections from your address (at most {maxPerAddress}), try again later";
            _perAddress[address] = fromAddress + 1;
            var wasBusy = Busy;
            _active++;
            if (!wasBusy && Busy)
                (nowBusy, _becameBusy) = (_becameBusy, new CancellationTokenSource());
        }

        // Outside the lock: each waiting session's callback reschedules its own timer.
        nowBusy?.Cancel(); // not disposed: a session may still register on its token, and then runs at once
        return null;
    }

    public void Release(IPAddress address)
    {
        address = ClientAddress.Network(address);
        lock (_gate)
        {
            if (_perAddress.TryGetValue(address, out var fromAddress))
            {
                if (fromAddress <= 1)
                    _perAddress.Remove(address);
                else
                    _perAddress[address] = fromAddress - 1;
            }

            _active--;
            if (_active == 0)
                _idle?.TrySetResult();
        }
    }

    public void BeginDrain() => _drain.Cancel();

    /// <summary>Completes when no session is open.</summary>
    public Task WhenIdleAsync()
    {
        lock (_gate)
        {
            if (_active == 0)
                return Task.CompletedTask;
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }
}
