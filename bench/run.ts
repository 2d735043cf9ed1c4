// `npm run bench`: the benchmarks of issues 4, 6 and 14, each figure measured side by side in one run and printed as
// a Markdown table (docs/benchmarks.md holds a run's output). No assertion on wall time: this is not a test.
// Sections: BENCH_ONLY=refresh,activation,webview,freshness,statusLine (default all). BENCH_RUNS (default 7) timed
// runs after BENCH_WARMUP (default 2) warm-ups (statusLine: 200 interleaved runs after 10, for its p99). BENCH_QUICK=1: one run, no warm-up, a small "large" history: every section
// runs in a minute (test/browser/bench.test.ts does that in the test command, so the bench cannot rot unseen).
import { cpus, totalmem } from 'node:os';
import { benchActivation } from './activation';
import { benchFreshness } from './freshness';
import { benchHistoryImport } from './historyImport';
import { benchRefreshSection } from './refreshSection';
import { benchStatusLine } from './statusLine';
import { benchTeam } from './team';
import { benchWebview } from './webview';

async function main(): Promise<void> {
  const only = (process.env['BENCH_ONLY'] ?? 'activation,freshness,webview,refresh,statusLine,historyImport,team')
    .split(',')
    .map((s) => s.trim());
  const quick = process.env['BENCH_QUICK'] === '1';
  const runs = Number(process.env['BENCH_RUNS'] ?? (quick ? 1 : 7));
  const warmup = Number(process.env['BENCH_WARMUP'] ?? (quick ? 0 : 2));
  const say = (s: string): void => {
    process.stdout.write(`${s}\n`);
  };
  say(`# Claude Code Telemetry benchmarks`);
  say('');
  say(
    `Machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; Node ${process.version}; ` +
      `${new Date().toISOString()}. Timings: median of ${runs} runs after ${warmup} warm-up runs.`,
  );
  say('');
  if (only.includes('activation')) say(await benchActivation(runs));
  if (only.includes('freshness')) say(await benchFreshness());
  if (only.includes('webview')) say(await benchWebview(runs, warmup));
  if (only.includes('refresh')) say(await benchRefreshSection(runs, warmup, (s) => process.stderr.write(`${s}\n`)));
  if (only.includes('statusLine')) say(await benchStatusLine(quick ? 10 : 200, quick ? 1 : 10));
  if (only.includes('historyImport')) say(await benchHistoryImport(quick));
  if (only.includes('team')) {
    const developers = Number(process.env['BENCH_TEAM_DEVELOPERS'] ?? (quick ? 10 : 200));
    const team = await benchTeam(
      {
        developers,
        seconds: Number(process.env['BENCH_TEAM_SECONDS'] ?? (quick ? 60 : 600)),
        outageSeconds: quick ? 10 : 60,
        sessionSeconds: quick ? [20, 40] : [180, 480],
        // Two sessions a developer a day.
        historyDays: Number(process.env['BENCH_TEAM_DAYS'] ?? (quick ? 2 : 30)),
        historySessions: Number(process.env['BENCH_TEAM_SESSIONS'] ?? developers * 2 * (quick ? 2 : 30)),
        runs,
        warmup,
      },
      (s) => process.stderr.write(`${s}\n`),
    );
    say(team.markdown);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
