using System.Text;
using BenchmarkDotNet.Attributes;
using MailSink.Server.Smtp;

namespace MailSink.Benchmarks;

/// <summary>
/// The DATA phase: a 100 KB body as the client sends it (dot-stuffed, CRLF, ending in ".") fed to
/// DataBodyDecoder in the 8 KB to 64 KB pieces a socket read gives, then the message array.
/// </summary>
public class DecoderBenchmarks
{
    private byte[] _wire = [];

    [Params(8 * 1024, 64 * 1024)]
    public int ReadSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var text = Encoding.ASCII.GetString(Messages.WithAttachment100K())
            .Replace("\r\n.", "\r\n..", StringComparison.Ordinal); // dot-stuffing, as on the wire
        _wire = Encoding.ASCII.GetBytes(text + "\r\n.\r\n");
    }

    [Benchmark]
    public int Decode100K()
    {
        using var decoder = new DataBodyDecoder(26_214_400);
        var input = _wire.AsSpan();
        while (true)
        {
            var piece = input[..Math.Min(ReadSize, input.Length)];
            if (decoder.Feed(piece, out var consumed))
            {
                using var body = decoder.Complete();
                return body.ToArray().Length;
            }

            input = input[consumed..];
        }
    }
}

