using System.Net;
using MailSink.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace MailSink.Tests.Storage;

/// <summary>
/// Issue 5, item 6: API calls waiting for the LiteDB database wait without a thread. Each used to block a pool
/// thread on the storage's lock; under load the pool ran dry and every request waited for a thread.
/// </summary>
public sealed class StorageTurnsTests
{
    [Fact]
    public async Task Calls_waiting_for_the_database_hold_no_thread_and_all_answer_when_it_is_free()
    {
        await using var host = await MailSinkHost.StartAsync();
        var repository = host.Services.GetRequiredService<LiteDbStore>();
        var gate = repository.Gate;

        // Something holds the database (as a long commit would) on a thread of its own.
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            using (gate.EnterScope())
            {
                held.Set();
                release.Wait();
            }
        });
        holder.Start();
        held.Wait();

        var calls = Environment.ProcessorCount + 20;
        var answers = Enumerable.Range(0, calls)
            .Select(i => host.Http.GetAsync(i % 2 == 0 ? "/api/servers" : $"/api/messages?server={MailSinkHost.NewInbox()}"))
            .ToList();
        try
        {
            // As many calls as there are cores wait on the lock; every other one waits for its turn, holding no thread.
            await Poll.UntilAsync(
                () => Task.FromResult(repository.WaitingTurns == calls - Environment.ProcessorCount),
                TimeSpan.FromSeconds(30),
                $"{calls - Environment.ProcessorCount} calls wait for a turn (now {repository.WaitingTurns})");

            // The rest of the server answers meanwhile.
            using var page = await host.Http.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.All(answers, a => Assert.False(a.IsCompleted));
        }
        finally
        {
            release.Set();
            holder.Join();
        }

        foreach (var answer in answers)
        {
            using var response = await answer.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(0, repository.WaitingTurns);
    }
}
