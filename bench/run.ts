// `npm run bench`: the benchmarks of issues 4 and 6, each figure measured side by side in one run and printed as a
// Markdown table (docs/benchmarks.md holds a run's output). No assertion on wall time: this is not a test.
// Sections: BENCH_ONLY=refresh,activation,webview,freshness (default all). BENCH_RUNS (default 7) timed runs after
// BENCH_WARMUP (default 2) warm-ups.
import { cpus, totalmem } from 'node:os';
import { benchActivation } from './activation';
import { benchFreshness } from './freshness';
import { benchRefreshSection } from './refreshSection';
import { benchWebview } from './webview';

async function main(): Promise<void> {
  const only = (process.env['BENCH_ONLY'] ?? 'activation,freshness,webview,refresh').split(',').map((s) => s.trim());
  const runs = Number(process.env['BENCH_RUNS'] ?? 7);
  const warmup = Number(process.env['BENCH_WARMUP'] ?? 2);
  const say = (s: string): void => { process.stdout.write(`${s}\n`); };
  say(`# Claude Code Telemetry benchmarks`);
  say('');
  say(`Machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; Node ${process.version}; `
    + `${new Date().toISOString()}. Timings: median of ${runs} runs after ${warmup} warm-up runs.`);
  say('');
  if (only.includes('activation')) say(await benchActivation(runs));
  if (only.includes('freshness')) say(await benchFreshness());
  if (only.includes('webview')) say(await benchWebview(runs, warmup));
  if (only.includes('refresh')) say(await benchRefreshSection(runs, warmup, (s) => process.stderr.write(`${s}\n`)));
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
