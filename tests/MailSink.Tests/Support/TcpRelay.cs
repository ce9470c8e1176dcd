using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailSink.Tests.Support;

/// <summary>
/// A TCP relay on loopback between clients and one server port, which a test can make lose answers: once a
/// client sends a marker, the server's replies are held back (on that connection or on every one), and
/// <see cref="CutAll"/> then closes every connection. What a client sent reaches the server all the same, so
/// the server acts on it and its answer never comes back: a network fault after the server's commit.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly List<Pair> _pairs = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _accepting;
    private byte[]? _marker;
    private bool _holdEveryConnection;
    private volatile bool _holdingAll;

    private TcpRelay(int target)
    {
        _target = target;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>A relay to 127.0.0.1:<paramref name="targetPort"/>, listening on a free loopback port.</summary>
    public static TcpRelay Start(int targetPort) => new(targetPort);

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Completes when a client has sent the marker and replies are being held.</summary>
    public Task Holding => _holding.Task;

    /// <summary>
    /// From the moment a client sends <paramref name="marker"/> (before those bytes go on to the server), the
    /// server's replies are held back: on that connection only, or on every connection when
    /// <paramref name="everyConnection"/>.
    /// </summary>
    public void HoldRepliesOnceClientSends(string marker, bool everyConnection)
    {
        lock (_pairs)
        {
            _holdEveryConnection = everyConnection;
            _marker = Encoding.UTF8.GetBytes(marker);
        }
    }

    /// <summary>Closes every connection made so far (their held replies are lost) and holds nothing from now on.</summary>
    public void CutAll()
    {
        Pair[] pairs;
        lock (_pairs)
        {
            _marker = null;
            _holdingAll = false;
            pairs = [.. _pairs];
            _pairs.Clear();
        }

        foreach (var pair in pairs)
            pair.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        CutAll();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopped
        }

        CutAll(); // one accepted as it stopped
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var pair = new Pair(await _listener.AcceptSocketAsync(_stop.Token), new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
            lock (_pairs)
                _pairs.Add(pair); // before connecting: a cut (or the relay's end) meanwhile closes it too
            try
            {
                await pair.Server.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                pair.Close();
                continue;
            }

            _ = Task.Run(() => PumpRequestsAsync(pair));
            _ = Task.Run(() => PumpRepliesAsync(pair));
        }
    }

    /// <summary>Client to server, watching for the marker across reads.</summary>
    private async Task PumpRequestsAsync(Pair pair)
    {
        var buffer = new byte[64 * 1024];
        var seen = new List<byte>();
        try
        {
            while (true)
            {
                var read = await pair.Client.ReceiveAsync(buffer.AsMemory(), SocketFlags.None);
                if (read == 0)
                    break;
                WatchForMarker(pair, seen, buffer.AsSpan(0, read));
                await pair.Server.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // cut
        }

        pair.Close();
    }

    private void WatchForMarker(Pair pair, List<byte> seen, ReadOnlySpan<byte> read)
    {
        lock (_pairs)
        {
            if (_marker is not { } marker)
                return;
            seen.AddRange(read);
            if (seen.ToArray().AsSpan().IndexOf(marker) < 0)
            {
                seen.RemoveRange(0, Math.Max(0, seen.Count - marker.Length + 1));
                return;
            }

            pair.Holding = true;
            if (_holdEveryConnection)
                _holdingAll = true;
            _marker = null;
        }

        _holding.TrySetResult();
    }

    /// <summary>Server to client, unless replies are held: then what the server says is read and dropped.</summary>
    private async Task PumpRepliesAsync(Pair pair)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await pair.Server.ReceiveAsync(buffer.AsMemory(), SocketFlags.None);
                if (read == 0)
                    break;
                if (pair.Holding || _holdingAll)
                {
                    pair.Holding = true; // a connection held stays held until it is cut
                    continue;
                }

                await pair.Client.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // cut
        }

        pair.Close();
    }

    private sealed class Pair(Socket client, Socket server)
    {
        public Socket Client { get; } = client;

        public Socket Server { get; } = server;

        private volatile bool _holding;

        public bool Holding
        {
            get => _holding;
            set => _holding = value;
        }

        public void Close()
        {
            Client.Dispose();
            Server.Dispose();
        }
    }
}
