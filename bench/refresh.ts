// Section 1: one full refresh (TelemetryReader.fetchToday + fetchSnapshot, as DashboardController.refresh runs
// them) against real Prometheus with a small and a large history, side by side with the seed dashboards' queries
// for the same panels on the same data, and the totals each gets against the truth from the events.
import { PrometheusClient } from '../src/telemetry/prometheus';
import { TelemetryReader, latestLeaderboard, markerTimes } from '../src/telemetry/reader';
import {
  LEADERBOARD_WINDOWS, type WindowPlan, chartStep, lastEvaluation, leaderboardSamples, planChart, planWindow,
  promChartGaps, promFresh, promInstant, promRange, rollupMarkers, sessionsChangedRecently,
} from '../src/telemetry/queries';
import { RANGE_SECONDS, type TimeRange } from '../src/snapshot';
import { trueCost, trueCount, trueTokens } from '../test/telemetry/helpers/sim';
import type { History } from './history';
import { fmtMs, median } from './table';

/** One panel query of a seed dashboard. `R` is the dashboard range as a PromQL duration. */
export interface SeedPanel {
  seed: '000' | '001';
  panel: string;
  kind: 'instant' | 'range';
  expr: (R: string, stepS: number) => string;
}

const COST = 'claude_code_cost_usage_USD_total';
const TOKENS = 'claude_code_token_usage_tokens_total';
const SESSIONS = 'claude_code_session_count_total';
const ACTIVE = 'claude_code_active_time_seconds_total';

/**
 * Seed 000 (a Grafana dashboard over `$__range`, 30 s refresh): the README names the panels (cost by model, token
 * usage by type, active sessions, cost trends); the PromQL is the `increase()`-over-the-range form its panels use
 * (telemetry-facts.md: its session count sees only live series). Its tool panels read Loki (`| json`): not
 * measured here, there is no real Loki in the bench.
 * Seed 001 (5 s refresh): the README's panels and its example PromQL, `sum(counter)` and
 * `rate(tokens[1h]) * 3600`; it has no tool panels.
 * Range panels use the same step as the extension's charts.
 */
export const SEED_PANELS: SeedPanel[] = [
  { seed: '000', panel: 'total cost', kind: 'instant', expr: (R) => `sum(increase(${COST}[${R}]))` },
  { seed: '000', panel: 'cost by model', kind: 'instant', expr: (R) => `sum by (model) (increase(${COST}[${R}]))` },
  { seed: '000', panel: 'tokens by type', kind: 'instant', expr: (R) => `sum by (type) (increase(${TOKENS}[${R}]))` },
  { seed: '000', panel: 'sessions', kind: 'instant', expr: () => `sum(${SESSIONS})` },
  { seed: '000', panel: 'cost trend by model', kind: 'range', expr: (_R, step) => `sum by (model) (increase(${COST}[${step}s]))` },
  { seed: '000', panel: 'tokens over time by type', kind: 'range', expr: (_R, step) => `sum by (type) (increase(${TOKENS}[${step}s]))` },
  { seed: '001', panel: 'total cost', kind: 'instant', expr: () => `sum(${COST})` },
  { seed: '001', panel: 'cost by model / distribution', kind: 'instant', expr: () => `sum by (model) (${COST})` },
  { seed: '001', panel: 'total tokens', kind: 'instant', expr: () => `sum(${TOKENS})` },
  { seed: '001', panel: 'total sessions', kind: 'instant', expr: () => `sum(${SESSIONS})` },
  { seed: '001', panel: 'active time by type', kind: 'instant', expr: () => `sum by (type) (${ACTIVE})` },
  {
    seed: '001', panel: 'cache hit rate', kind: 'instant',
    expr: () => `sum(${TOKENS}{type="cacheRead"}) / (sum(${TOKENS}{type="cacheRead"}) + sum(${TOKENS}{type="input"}))`,
  },
  { seed: '001', panel: 'session details', kind: 'instant', expr: () => `sum by (session_id) (${COST})` },
  { seed: '001', panel: 'cost by model (chart)', kind: 'range', expr: () => `sum by (model) (${COST})` },
  { seed: '001', panel: 'tokens by type (chart)', kind: 'range', expr: () => `sum by (type) (rate(${TOKENS}[1h])) * 3600` },
];

export interface RefreshResult {
  history: string;
  range: TimeRange;
  oursMs: number;
  seedMs: Record<'000' | '001', number>;
  truth: { cost: number; tokens: number; sessions: number };
  ours: { cost: number; tokens: number; sessions: number };
  seed000: { cost: number; tokens: number; sessions: number };
  seed001: { cost: number; tokens: number; sessions: number };
  /** Each catalog query of the refresh, run alone (median of 3), ms. */
  perQuery: Array<[string, number]>;
  /** Whether the sessions list equals the direct ranking of every session of the window. */
  sessionsListExact: boolean;
}

function localMidnight(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

async function seedRefresh(client: PrometheusClient, seed: '000' | '001', seconds: number, t: number): Promise<Map<string, number>> {
  const step = chartStep(seconds);
  const R = `${seconds}s`;
  const end = Math.ceil(t / step) * step;
  const start = end - Math.round(seconds / step) * step + step;
  const out = new Map<string, number>();
  await Promise.all(SEED_PANELS.filter((p) => p.seed === seed).map(async (p) => {
    if (p.kind === 'instant') {
      const r = await client.instant(p.expr(R, step), t);
      out.set(p.panel, r.reduce((a, s) => a + (s.value ?? 0), 0));
    } else {
      await client.range(p.expr(R, step), { start, end, step });
    }
  }));
  return out;
}

export async function benchRefresh(h: History, evalS: number, ranges: TimeRange[], runs: number, warmup: number): Promise<RefreshResult[]> {
  const client = new PrometheusClient({ baseUrl: h.prom.url, timeoutMs: 600_000, maxResponseBytes: 256 << 20 });
  const svc = new TelemetryReader({ prometheus: client });
  const evalMs = evalS * 1000;
  const out: RefreshResult[] = [];
  try {
    for (const range of ranges) {
      const seconds = RANGE_SECONDS[range];
      const ours = async (): Promise<{ ms: number; cost: number; tokens: number; sessions: number; list: string[] }> => {
        const t0 = performance.now();
        // As DashboardController.refresh: the markers and the fresh part once, for both, which run side by side.
        const dayStartMs = localMidnight(evalMs);
        const basis = svc.refreshBasis(evalMs, { dayStartMs, range });
        const [, snap] = await Promise.all([svc.fetchToday(evalMs, dayStartMs, { basis }), svc.fetchSnapshot(range, evalMs, { basis })]);
        const ms = performance.now() - t0;
        if (!snap.metrics) throw new Error(`refresh failed: ${snap.errors.prometheus?.message}`);
        return {
          ms, cost: snap.metrics.kpis.costUsd, tokens: snap.metrics.kpis.tokens.total, sessions: snap.metrics.kpis.sessions,
          list: snap.metrics.sessions.map((row) => row.sessionId),
        };
      };
      const seed = async (s: '000' | '001'): Promise<{ ms: number; v: Map<string, number> }> => {
        const t0 = performance.now();
        const v = await seedRefresh(client, s, seconds, evalS);
        return { ms: performance.now() - t0, v };
      };
      for (let i = 0; i < warmup; i++) { await ours(); await seed('000'); await seed('001'); }
      const oursMs: number[] = [];
      const s0: number[] = [];
      const s1: number[] = [];
      let last = await ours();
      let v0 = (await seed('000')).v;
      let v1 = (await seed('001')).v;
      oursMs.push(last.ms);
      for (let i = 1; i < runs; i++) {
        last = await ours(); oursMs.push(last.ms);
        const a = await seed('000'); s0.push(a.ms); v0 = a.v;
        const b = await seed('001'); s1.push(b.ms); v1 = b.v;
      }
      // the first seed runs of the loop above were not timed: time them now so each side has `runs` samples
      s0.push((await seed('000')).ms);
      s1.push((await seed('001')).ms);

      const startS = evalS - seconds;
      const tt = trueTokens(h.events, startS, evalS);
      const perQuery = await timeEachQuery(client, seconds, evalS);
      const direct = (await client.instant(promInstant.topSessionsByCost(seconds, 50), evalS))
        .sort((a, b) => (b.value ?? 0) - (a.value ?? 0) || (a.labels['session_id'] ?? '').localeCompare(b.labels['session_id'] ?? ''))
        .map((x) => x.labels['session_id']);
      out.push({
        history: h.options.label, range,
        oursMs: median(oursMs), seedMs: { '000': median(s0), '001': median(s1) },
        truth: { cost: trueCost(h.events, startS, evalS), tokens: tt.input + tt.output + tt.cacheRead + tt.cacheCreation, sessions: trueCount(h.events, 'session_start', startS, evalS) },
        ours: { cost: last.cost, tokens: last.tokens, sessions: last.sessions },
        seed000: { cost: v0.get('total cost') ?? 0, tokens: v0.get('tokens by type') ?? 0, sessions: v0.get('sessions') ?? 0 },
        seed001: { cost: v1.get('total cost') ?? 0, tokens: v1.get('total tokens') ?? 0, sessions: v1.get('total sessions') ?? 0 },
        perQuery,
        sessionsListExact: JSON.stringify(direct) === JSON.stringify(last.list),
      });
      process.stderr.write(`  ${h.options.label} ${range}: ours ${fmtMs(median(oursMs))}, seed 000 ${fmtMs(median(s0))}, seed 001 ${fmtMs(median(s1))}\n`);
    }
  } finally {
    await client.close();
  }
  return out;
}

/** Each Prometheus query of one refresh (for `seconds`), alone, median of 3: where the time goes. */
async function timeEachQuery(client: PrometheusClient, seconds: number, t: number): Promise<Array<[string, number]>> {
  const step = chartStep(seconds);
  const nowMs = t * 1000;
  const markersExpr = rollupMarkers(seconds + step + 3600);
  const markers = markerTimes(await client.samples(markersExpr, t));
  const plan = planWindow(nowMs - seconds * 1000, nowMs, markers);
  const chart = planChart(nowMs, seconds * 1000, step * 1000, markers);
  const top = await client.instant(promInstant.topSessionsByCost(seconds, 50), t);
  const ids = top.map((s) => s.labels['session_id'] ?? '').filter(Boolean);
  const window = LEADERBOARD_WINDOWS[seconds];
  const board = window ? latestLeaderboard(await client.samples(leaderboardSamples(window), t)) : null;
  const qs: Array<[string, () => Promise<unknown>]> = [['rollupMarkers', () => client.samples(markersExpr, t)]];
  if (window) qs.push(['leaderboardSamples', () => client.samples(leaderboardSamples(window), t)]);
  if (board) qs.push(['promInstant.topSessionsByCost (leaderboard)', () => client.instant(promInstant.topSessionsByCost(seconds, 50, board.ids), t)]);
  for (const [name, fn] of Object.entries(promInstant)) {
    let expr: string;
    if (name === 'topSessionsByCost') expr = promInstant.topSessionsByCost(seconds, 50);
    else if (name === 'sessionsActive') expr = promInstant.sessionsActive();
    else if (name === 'sessionDetails') {
      if (!ids.length) continue;
      expr = (fn as (s: number, i: readonly string[]) => string)(seconds, ids);
    } else expr = (fn as (p: WindowPlan) => string)(plan);
    qs.push([`promInstant.${name}`, () => client.instant(expr, t)]);
  }
  qs.push(['sessionsChangedRecently', () => client.instant(sessionsChangedRecently(), t)]);
  // No session is active when the refresh runs (5 min after the history's end): the fresh part reads nothing then. Its
  // cost while sessions are active, measured at the history's end.
  const endS = t - 300;
  const changed = (await client.instant(sessionsChangedRecently(), endS)).map((s) => s.labels['session_id'] ?? '').filter(Boolean);
  const endMarkers = markerTimes(await client.samples(rollupMarkers(7200), endS));
  for (const [name, fn] of Object.entries(promFresh)) {
    qs.push([`promFresh.${name} (at the history's end)`, () => client.instant(fn(changed, lastEvaluation(endS * 1000, endMarkers)), endS)]);
  }
  process.stderr.write(`    ${seconds} s: ${changed.length} sessions changed in the last minute of the history\n`);
  const range = { start: chart.startMs / 1000, end: chart.endMs / 1000, step: chart.stepMs / 1000 };
  for (const [name, fn] of Object.entries(promRange)) qs.push([`promRange.${name}`, () => client.range(fn(chart), range)]);
  for (const [name, fn] of Object.entries(promChartGaps)) {
    const expr = fn(chart);
    if (expr) qs.push([`promChartGaps.${name}`, () => client.instant(expr, t)]);
  }
  const out: Array<[string, number]> = [];
  for (const [name, f] of qs) {
    const ms: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await f();
      ms.push(performance.now() - t0);
    }
    out.push([name, median(ms)]);
  }
  return out;
}
