// Section 1 driver: builds the two histories one after the other, measures, prints the tables.
import type { TimeRange } from '../src/snapshot';
import { buildHistory, type History, type HistoryOptions } from './history';
import { benchRefresh, type RefreshResult, SEED_PANELS } from './refresh';
import { components } from '../test/support/components';
import { fmtMs, fmtPct, fmtRatio, table } from './table';

const RANGES: TimeRange[] = ['24h', '7d', '30d'];

export async function benchRefreshSection(runs: number, warmup: number, log: (s: string) => void): Promise<string> {
  const scrapeSeconds = Number(process.env['BENCH_SCRAPE_SECONDS'] ?? 15);
  const tailSeconds = Number(process.env['BENCH_TAIL_SECONDS'] ?? 600);
  // BENCH_QUICK=1 (the test suite's run): a "large" history small enough to build in seconds.
  const quick = process.env['BENCH_QUICK'] === '1';
  const largeSessions = Number(process.env['BENCH_LARGE_SESSIONS'] ?? (quick ? 40 : 10_000));
  const largeDays = Number(process.env['BENCH_LARGE_DAYS'] ?? (quick ? 2 : 90));
  // History ends 3 h before the wall clock on an hour; queries run 5 min after it. The helper Prometheus
  // evaluates the recording rules live on the wall clock: with no raw sample in the last 5 min they write nothing.
  const endS = Math.floor(Date.now() / 3_600_000) * 3600 - 3 * 3600;
  const evalS = endS + 300;
  const common = { endS, scrapeSeconds, tailSeconds };
  const configs: HistoryOptions[] = [
    { label: 'small', seed: 11, sessions: 10, days: 1, ...common },
    { label: 'large', seed: 42, sessions: largeSessions, days: largeDays, ...common },
  ];
  const results: RefreshResult[] = [];
  const histories: Array<Omit<History, 'events' | 'prom' | 'rulesEvaluatedAt'>> = [];
  for (const cfg of configs) {
    log(`refresh: building the ${cfg.label} history (${cfg.sessions} sessions over ${cfg.days} d)`);
    const h = await buildHistory(cfg, log);
    try {
      results.push(...(await benchRefresh(h, evalS, RANGES, runs, warmup)));
    } finally {
      await h.prom.stop();
    }
    histories.push({
      options: h.options,
      sessions: h.sessions,
      series: h.series,
      rawSamples: h.rawSamples,
      ruleSeries: h.ruleSeries,
      ruleSamples: h.ruleSamples,
      lastValueSamples: h.lastValueSamples,
      generateMs: h.generateMs,
      backfillMs: h.backfillMs,
    });
  }
  const get = (history: string, range: TimeRange): RefreshResult =>
    results.find((r) => r.history === history && r.range === range)!;

  let out = '## 1. Refresh cost as history grows (issue 4)\n\n';
  out += table(
    `Data sets (real Prometheus ${components().prometheusVersion}, backfilled with promtool)`,
    [
      'history',
      'sessions',
      'days',
      'raw series',
      'raw samples',
      'rule series',
      'rule samples',
      ':last_value samples',
      'generate + promtool',
      'block load',
    ],
    histories.map((h) => [
      h.options.label,
      String(h.options.sessions),
      String(h.options.days),
      String(h.series),
      String(h.rawSamples),
      String(h.ruleSeries),
      String(h.ruleSamples),
      String(h.lastValueSamples),
      `${(h.generateMs / 1000).toFixed(0)} s`,
      `${(h.backfillMs / 1000).toFixed(0)} s`,
    ]),
    [
      `Raw series scraped every ${scrapeSeconds} s (the shipped stack: 5 s), kept 25 h after their last change (the exporter's` +
        ` metric_expiration) where that reaches into the last 25 h of history, ${tailSeconds} s otherwise;` +
        ' rule series only at the evaluations with a non-zero increase and `:last_value` helpers (one series per raw series) only' +
        ' where the value changed, as the real rules write them; blocks laid out as Prometheus compacts them with the' +
        ' retention a history of that length needs. No query of the refresh reads the raw series over a window' +
        " (only the status bar's fresh part, at two instants); the seeds' 7 d and 30 d queries do, and are therefore cheaper here than on a real stack.",
    ],
  );
  out += '\n';
  out += table(
    'One full refresh (TelemetryReader.refresh: today and the snapshot), median ms',
    [
      'range',
      'steady, small',
      'steady, large',
      'large / small (aim <= 1.2)',
      'first load, small',
      'first load, large (aim < 1 s)',
      'seed 000, large',
      'seed 000 / ours steady',
      'seed 001, large',
      'seed 001 / ours steady',
    ],
    RANGES.map((r) => {
      const s = get('small', r);
      const l = get('large', r);
      return [
        r,
        fmtMs(s.steadyMs),
        fmtMs(l.steadyMs),
        fmtRatio(l.steadyMs / s.steadyMs),
        fmtMs(s.firstMs),
        fmtMs(l.firstMs),
        fmtMs(l.seedMs['000']),
        fmtRatio(l.seedMs['000'] / l.steadyMs),
        fmtMs(l.seedMs['001']),
        fmtRatio(l.seedMs['001'] / l.steadyMs),
      ];
    }),
    [
      'Ours: one TelemetryReader.refresh of today and the range (Prometheus part; no Loki in the bench), as DashboardController.refresh runs it, ' +
        "one read: the rules' last evaluation and, alongside, the sessions whose cost changed in the last 90 s; then side by side " +
        'range queries (one per counter, four at once) for the closed slots not held and one instant query for every open piece of every ' +
        "window (the current hour of the range, today's and the last hour's) with the fresh part of those sessions. " +
        `First load: a new reader each run (${get('large', '30d').firstRequests} on the large 30 d). Steady: one reader refreshed every 5 s ` +
        `(${get('large', '30d').steadyRequests}). Seeds: every panel of the dashboard in parallel, as Grafana loads it ` +
        `(seed 000: ${SEED_PANELS.filter((p) => p.seed === '000').length} panels, seed 001: ${SEED_PANELS.filter((p) => p.seed === '001').length}).`,
    ],
  );
  out += '\n';
  out += table(
    'Any label a dimension: one uncached window query of cost over the range, median ms',
    ['range', 'by model, large', 'by project, large', 'project / model (aim <= 1)'],
    RANGES.map((r) => {
      const l = get('large', r);
      return [r, fmtMs(l.byModelMs), fmtMs(l.byProjectMs), fmtRatio(l.byProjectMs / l.byModelMs)];
    }),
    [
      '`sum by (<label>) (sum_over_time(claude_code:cost_usd:increase10s[R]))`: the project is `vscode_workspace_name`, the resource ' +
        "attribute the extension's terminals set, which Claude Code copies onto every point; no rule names it.",
    ],
  );
  out += '\n';
  out += table(
    'After a reload (issue 23): a new reader of the closed pieces the steady one wrote, median ms',
    [
      'range',
      'steady, large',
      'reload, large',
      'reload / steady (aim <= 1.5)',
      'first load, large (nothing cached)',
      'piece file, large',
      'reload, small',
    ],
    RANGES.map((r) => {
      const s = get('small', r);
      const l = get('large', r);
      return [
        r,
        fmtMs(l.steadyMs),
        fmtMs(l.reloadMs),
        fmtRatio(l.reloadMs / l.steadyMs),
        fmtMs(l.firstMs),
        `${(l.fileBytes / 1024).toFixed(0)} KiB`,
        fmtMs(s.reloadMs),
      ];
    }),
    [
      "Reload: from the new reader's construction (its file read, gunzipped and decoded) to its first refresh's figures, " +
        "with the restored pieces checked against the store alongside (one instant query of the cost over the file's " +
        `newest week) (${get('large', '30d').reloadRequests} on the large 30 d).`,
    ],
  );
  out += '\n';
  const soaked = get('large', '30d').soakHeapMb;
  if (soaked) {
    const [tenMinutes, oneHour, twoHours] = soaked;
    out += table(
      'Memory (issue 23): one reader refreshed every 5 s for two hours of the rules, the large history at 30 d',
      ['heap at 10 min', 'at 1 h', 'at 2 h', 'per hour after the first 10 min (aim < 5 MB)'],
      [
        [
          `${tenMinutes.toFixed(1)} MB`,
          `${oneHour.toFixed(1)} MB`,
          `${twoHours.toFixed(1)} MB`,
          `${(((twoHours - tenMinutes) / 110) * 60).toFixed(2)} MB`,
        ],
      ],
      [
        "The bench process' V8 heap after a full GC (node --expose-gc), in the rules' time: 1,440 refreshes, the windows " +
          "moving on and a piece closing every hour as in use; the wall's time passes faster here, so what grows with " +
          'time alone (not with refreshes or closed pieces) is not measured.',
      ],
    );
    out += '\n';
  }
  out += table(
    'Seed dashboards on the small history, median ms',
    ['range', 'ours steady', 'seed 000', 'seed 000 / ours', 'seed 001', 'seed 001 / ours'],
    RANGES.map((r) => {
      const s = get('small', r);
      return [
        r,
        fmtMs(s.steadyMs),
        fmtMs(s.seedMs['000']),
        fmtRatio(s.seedMs['000'] / s.steadyMs),
        fmtMs(s.seedMs['001']),
        fmtRatio(s.seedMs['001'] / s.steadyMs),
      ];
    }),
  );
  out += '\n';
  const rows: string[][] = [];
  for (const h of ['small', 'large']) {
    for (const r of RANGES) {
      const x = get(h, r);
      rows.push([
        h,
        r,
        'cost USD',
        x.truth.cost.toFixed(2),
        `${x.ours.cost.toFixed(2)} (${fmtPct(x.ours.cost, x.truth.cost)})`,
        `${x.seed000.cost.toFixed(2)} (${fmtPct(x.seed000.cost, x.truth.cost)})`,
        `${x.seed001.cost.toFixed(2)} (${fmtPct(x.seed001.cost, x.truth.cost)})`,
      ]);
      rows.push([
        h,
        r,
        'tokens',
        String(x.truth.tokens),
        `${x.ours.tokens} (${fmtPct(x.ours.tokens, x.truth.tokens)})`,
        `${Math.round(x.seed000.tokens)} (${fmtPct(x.seed000.tokens, x.truth.tokens)})`,
        `${Math.round(x.seed001.tokens)} (${fmtPct(x.seed001.tokens, x.truth.tokens)})`,
      ]);
      rows.push([
        h,
        r,
        'sessions',
        String(x.truth.sessions),
        `${x.ours.sessions} (${fmtPct(x.ours.sessions, x.truth.sessions)})`,
        `${Math.round(x.seed000.sessions)} (${fmtPct(x.seed000.sessions, x.truth.sessions)})`,
        `${Math.round(x.seed001.sessions)} (${fmtPct(x.seed001.sessions, x.truth.sessions)})`,
      ]);
      rows.push([
        h,
        r,
        'top 50 sessions',
        'every session ranked',
        x.sessionsListExact ? 'same list' : 'DIFFERENT LIST',
        '-',
        '-',
      ]);
    }
  }
  out += table(
    'Correctness: totals of the range against the truth (sum over the simulated events)',
    ['history', 'range', 'figure', 'truth', 'ours', 'seed 000 (increase)', 'seed 001 (sum of counters)'],
    rows,
    [
      'Seed 001 shows the totals of the series the exporter still serves (sessions of the last 25 h), whatever the range.',
    ],
  );
  out += '\n';
  return out;
}
