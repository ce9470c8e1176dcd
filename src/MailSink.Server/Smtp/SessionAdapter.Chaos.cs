using MailSink.Api.Chaos;

namespace MailSink.Server.Smtp;

/// <summary>Fault injection: what the rules of <see cref="ChaosRules"/> do to a session, stage by stage.</summary>
internal sealed partial class SessionAdapter
{
    private int _chaosDelay;
    private bool _chaosDrop;

    /// <summary>
    /// Asks the rules at <paramref name="stage"/>. A Reply rule answers here and takes the command; a
    /// Disconnect rule takes it and the connection ends without a reply; a Delay rule is waited out
    /// (by <see cref="AfterChaosAsync"/>) before the command goes on as usual. True when the command is taken.
    /// </summary>
    private bool Chaos(ChaosStage stage, IReadOnlyList<string> addresses)
    {
        if (Settings.Chaos.Apply(stage, addresses, Id) is not { } rule)
            return false;
        switch (rule.Action)
        {
            case ChaosAction.Reply:
                Reply(ChaosRules.ReplyLine(rule));
                return true;
            case ChaosAction.Disconnect:
                _chaosDrop = true;
                return true;
            default:
                _chaosDelay = rule.DelayMilliseconds;
                return false;
        }
    }

    /// <summary>Carries out what <see cref="Chaos"/> decided once the command is handled: a drop, or a wait before its reply.</summary>
    private async ValueTask AfterChaosAsync(CancellationToken cancellationToken)
    {
        if (_chaosDrop)
        {
            _chaosDrop = false;
            Drop();
            return;
        }

        if (_chaosDelay > 0)
        {
            var delay = _chaosDelay;
            _chaosDelay = 0;
            await Task.Delay(delay, cancellationToken);
        }
    }

    /// <summary>The greeting's rules: a reply instead of the banner (then the connection closes), a drop, or a wait.</summary>
    private async ValueTask<bool> ChaosAtConnectAsync(CancellationToken cancellationToken)
    {
        if (Settings.Chaos.Apply(ChaosStage.Connect, [], Id) is not { } rule)
            return false;
        switch (rule.Action)
        {
            case ChaosAction.Reply:
                await CloseWithAsync(ChaosRules.ReplyLine(rule));
                return true;
            case ChaosAction.Disconnect:
                Drop();
                return true;
            default:
                await Task.Delay(rule.DelayMilliseconds, cancellationToken);
                return false;
        }
    }

    /// <summary>Ends the session without another word: what was not yet written is not sent.</summary>
    private void Drop()
    {
        _closing = true;
        Transport.Abort();
    }
}
