using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// MailSink's in-process hot paths. Run from the repository root:
//   dotnet run -c Release --project bench/MailSink.Benchmarks -- --filter '*'
// One launch, 3 warm-up and 10 measured iterations per benchmark, so the whole set runs in a few
// minutes on 2 cores; the results go to docs/performance.md. Reports are written to bench/results/
// (git-ignored): bin/Release/net10.0 is three levels below this project's folder.
var results = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "results", "BenchmarkDotNet"));
var config = DefaultConfig.Instance
    .WithArtifactsPath(results)
    .AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10))
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.JoinSummary);
BenchmarkSwitcher.FromAssembly(typeof(MailSink.Benchmarks.Messages).Assembly).Run(args, config);
