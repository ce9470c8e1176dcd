using System.Text;
using MailKit;
using MailKit.Net.Smtp;

namespace MailSink.Tests.Support;

/// <summary>MailKit clients whose SMTP dialogue goes to the test output, so a failure shows the session.</summary>
public static class MailKitClients
{
    public static SmtpClient Create(ITestOutputHelper output)
    {
        var client = new SmtpClient(new ProtocolLogger(new TestOutputStream(output), leaveOpen: false))
        {
            ServerCertificateValidationCallback = (_, _, _, _) => true,
            Timeout = 10_000,
        };
        return client;
    }

    private sealed class TestOutputStream(ITestOutputHelper output) : Stream
    {
        private readonly StringBuilder _line = new();

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => 0;

        public override long Position
        {
            get => 0;
            set { }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            foreach (var c in Encoding.UTF8.GetString(buffer, offset, count))
            {
                if (c == '\n')
                {
                    try
                    {
                        output.WriteLine(_line.ToString().TrimEnd('\r'));
                    }
                    catch (InvalidOperationException)
                    {
                        // the test has finished; its output is closed
                    }

                    _line.Clear();
                }
                else
                {
                    _line.Append(c);
                }
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
