// Section 1: one full refresh (TelemetryReader.refresh of today and the range, as DashboardController.refresh runs
// it) against real Prometheus with a small and a large history, the first one (nothing cached) and the steady state
// (the closed hours cached), side by side with the seed dashboards' queries for the same panels on the same data, and
// the totals each gets against the truth from the events.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusClient } from '../src/telemetry/prometheus';
import { TelemetryReader, type PersistOptions } from '../src/telemetry/reader';
import { RANGE_SLOT_MS, rangeStartMs } from '../src/telemetry/refreshPlan';
import { COUNTERS } from '../src/telemetry/counters';
import { FIGURES, figureWindow } from '../src/telemetry/queries';
import { RANGE_SECONDS, type TimeRange } from '../src/snapshot';
import { trueCost, trueCount, trueTokens } from '../test/support/sim';
import type { History } from './history';
import { CountingPrometheusClient } from '../test/support/countingClient';
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
  {
    seed: '000',
    panel: 'cost trend by model',
    kind: 'range',
    expr: (_R, step) => `sum by (model) (increase(${COST}[${step}s]))`,
  },
  {
    seed: '000',
    panel: 'tokens over time by type',
    kind: 'range',
    expr: (_R, step) => `sum by (type) (increase(${TOKENS}[${step}s]))`,
  },
  { seed: '001', panel: 'total cost', kind: 'instant', expr: () => `sum(${COST})` },
  { seed: '001', panel: 'cost by model / distribution', kind: 'instant', expr: () => `sum by (model) (${COST})` },
  { seed: '001', panel: 'total tokens', kind: 'instant', expr: () => `sum(${TOKENS})` },
  { seed: '001', panel: 'total sessions', kind: 'instant', expr: () => `sum(${SESSIONS})` },
  { seed: '001', panel: 'active time by type', kind: 'instant', expr: () => `sum by (type) (${ACTIVE})` },
  {
    seed: '001',
    panel: 'cache hit rate',
    kind: 'instant',
    expr: () => `sum(${TOKENS}{type="cacheRead"}) / (sum(${TOKENS}{type="cacheRead"}) + sum(${TOKENS}{type="input"}))`,
  },
  { seed: '001', panel: 'session details', kind: 'instant', expr: () => `sum by (session_id) (${COST})` },
  { seed: '001', panel: 'cost by model (chart)', kind: 'range', expr: () => `sum by (model) (${COST})` },
  {
    seed: '001',
    panel: 'tokens by type (chart)',
    kind: 'range',
    expr: () => `sum by (type) (rate(${TOKENS}[1h])) * 3600`,
  },
];

export interface RefreshResult {
  history: string;
  range: TimeRange;
  /** A refresh with nothing cached (the view opened): median ms, and the requests it sent. */
  firstMs: number;
  firstRequests: string;
  /** A refresh 5 s after the previous one (the closed slots cached): median ms, and the requests it sent. */
  steadyMs: number;
  steadyRequests: string;
  /** A reload: a new reader of the steady one's piece file, from its construction to its first refresh: median ms. */
  reloadMs: number;
  reloadRequests: string;
  /** The piece file's size, bytes. */
  fileBytes: number;
  /** A reader refreshed every 5 s over two hours of the rules' evaluations: its heap (MB, after a GC) at 10 min, 1 h, 2 h. */
  soakHeapMb: [number, number, number] | null;
  /** One window query of cost over the range, uncached, grouped by model and by project: median ms. */
  byModelMs: number;
  byProjectMs: number;
  seedMs: Record<'000' | '001', number>;
  truth: { cost: number; tokens: number; sessions: number };
  ours: { cost: number; tokens: number; sessions: number };
  seed000: { cost: number; tokens: number; sessions: number };
  seed001: { cost: number; tokens: number; sessions: number };
  /** Whether the sessions list equals the direct ranking of every session of the window. */
  sessionsListExact: boolean;
}

function localMidnight(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

async function seedRefresh(
  client: PrometheusClient,
  seed: '000' | '001',
  range: TimeRange,
  t: number,
): Promise<Map<string, number>> {
  const seconds = RANGE_SECONDS[range];
  const step = RANGE_SLOT_MS[range] / 1000;
  // Over the window the extension shows (it starts on the range's grid), so that both read the same span.
  const R = `${Math.round(t - rangeStartMs(range, t * 1000) / 1000)}s`;
  const end = Math.ceil(t / step) * step;
  const start = end - Math.round(seconds / step) * step + step;
  const out = new Map<string, number>();
  await Promise.all(
    SEED_PANELS.filter((p) => p.seed === seed).map(async (p) => {
      if (p.kind === 'instant') {
        const r = await client.instant(p.expr(R, step), t);
        out.set(
          p.panel,
          r.reduce((a, s) => a + (s.value ?? 0), 0),
        );
      } else {
        await client.range(p.expr(R, step), { start, end, step });
      }
    }),
  );
  return out;
}

/** The requests of a refresh, as the tables print them: "1 range (12 ms) + 1 instant (3.1 ms) + 1 labels (0.9 ms) + 1 rules". */
function describeRequests(client: CountingPrometheusClient): string {
  const sent = client.take();
  const parts = (['range', 'instant', 'labels'] as const)
    .filter((k) => sent[k].length)
    .map((k) => `${sent[k].length} ${k} (${sent[k].map(fmtMs).join(', ')})`);
  // The rules' evaluation time is one more request in the stack (/api/v1/rules); the bench's history gives it.
  return [...parts, '1 rules'].join(' + ');
}

export async function benchRefresh(
  h: History,
  evalS: number,
  ranges: TimeRange[],
  runs: number,
  warmup: number,
): Promise<RefreshResult[]> {
  const client = new CountingPrometheusClient({ baseUrl: h.prom.url, timeoutMs: 600_000, maxResponseBytes: 256 << 20 });
  const evalMs = evalS * 1000;
  const dayStartMs = localMidnight(evalMs);
  const out: RefreshResult[] = [];
  const pieceDir = mkdtempSync(join(tmpdir(), 'bench-pieces-'));
  const persist = { path: join(pieceDir, `${h.options.label}.json.gz`), identity: 'bench' };
  const newReader = (withFile?: PersistOptions): TelemetryReader =>
    new TelemetryReader({
      prometheus: client,
      rulesEvaluatedAt: h.rulesEvaluatedAt,
      ...(withFile ? { persist: withFile } : {}),
    });
  // The rules evaluating every 10 s as time goes on (past the history's end: its windows move, its pieces close).
  const newSoakReader = (): TelemetryReader =>
    new TelemetryReader({ prometheus: client, rulesEvaluatedAt: async (nowMs) => Math.floor(nowMs / 10_000) * 10_000 });
  try {
    for (const range of ranges) {
      const seconds = RANGE_SECONDS[range];
      // As DashboardController.refresh: one refresh of today and the range.
      const refresh = async (svc: TelemetryReader, nowMs: number) => {
        const t0 = performance.now();
        const snap = (await svc.refresh(nowMs, { dayStartMs, range })).snapshot!;
        const ms = performance.now() - t0;
        if (!snap.metrics) throw new Error(`refresh failed: ${snap.errors.prometheus?.message}`);
        return {
          ms,
          cost: snap.metrics.kpis.costUsd,
          tokens: snap.metrics.kpis.tokens.total,
          sessions: snap.metrics.kpis.sessions,
          list: snap.metrics.sessions.map((row) => row.sessionId),
        };
      };
      const seed = async (s: '000' | '001'): Promise<{ ms: number; v: Map<string, number> }> => {
        const t0 = performance.now();
        const v = await seedRefresh(client, s, range, evalS);
        return { ms: performance.now() - t0, v };
      };
      const timed = async (f: () => Promise<number>): Promise<number> => {
        for (let i = 0; i < warmup; i++) await f();
        const ms: number[] = [];
        for (let i = 0; i < runs; i++) ms.push(await f());
        return median(ms);
      };
      let last = await refresh(newReader(), evalMs);
      const firstRequests = describeRequests(client);
      const firstMs = await timed(async () => (last = await refresh(newReader(), evalMs)).ms);
      // The steady state: each refresh 5 s after the one before, on one reader.
      const steady = newReader(persist);
      let now = evalMs;
      await refresh(steady, now);
      client.take();
      await refresh(steady, (now += 5000));
      const steadyRequests = describeRequests(client);
      const steadyMs = await timed(async () => (await refresh(steady, (now += 5000))).ms);
      // A reload: the steady reader's closed pieces written, and a new reader of that file refreshed 5 s later.
      await steady.close();
      client.take();
      const reloaded = async (): Promise<number> => {
        const t0 = performance.now();
        await refresh(newReader(persist), (now += 5000));
        return performance.now() - t0;
      };
      await reloaded();
      const reloadRequests = describeRequests(client);
      const reloadMs = await timed(reloaded);
      const fileBytes = statSync(persist.path).size;
      const soakHeapMb = range === '30d' ? await soak(newSoakReader(), evalMs, refresh) : null;
      const windowQuery = (by: string) =>
        timed(async () => {
          const t0 = performance.now();
          await client.instant(
            figureWindow({ ...FIGURES.costByModel, by: [by] }, evalMs - seconds * 1000, evalMs),
            evalS,
          );
          return performance.now() - t0;
        });
      const byModelMs = await windowQuery('model');
      const byProjectMs = await windowQuery('vscode_workspace_name');
      const s0 = await timed(async () => (await seed('000')).ms);
      const s1 = await timed(async () => (await seed('001')).ms);
      const v0 = (await seed('000')).v;
      const v1 = (await seed('001')).v;

      // The window the extension shows: from the range's grid (rangeStartMs), up to a slot before now - R.
      const startS = rangeStartMs(range, evalMs) / 1000;
      const tt = trueTokens(h.events, startS, evalS);
      const direct = (
        await client.instant(
          `sum by (session_id) (sum_over_time(${COUNTERS.cost.rule}[${evalMs - startS * 1000}ms]))`,
          evalS,
        )
      )
        .sort(
          (a, b) =>
            (b.value ?? 0) - (a.value ?? 0) ||
            (a.labels['session_id'] ?? '').localeCompare(b.labels['session_id'] ?? ''),
        )
        .slice(0, 50)
        .map((x) => x.labels['session_id']);
      client.take();
      out.push({
        history: h.options.label,
        range,
        firstMs,
        firstRequests,
        steadyMs,
        steadyRequests,
        reloadMs,
        reloadRequests,
        fileBytes,
        soakHeapMb,
        byModelMs,
        byProjectMs,
        seedMs: { '000': s0, '001': s1 },
        truth: {
          cost: trueCost(h.events, startS, evalS),
          tokens: tt.input + tt.output + tt.cacheRead + tt.cacheCreation,
          sessions: trueCount(h.events, 'session_start', startS, evalS),
        },
        ours: { cost: last.cost, tokens: last.tokens, sessions: last.sessions },
        seed000: {
          cost: v0.get('total cost') ?? 0,
          tokens: v0.get('tokens by type') ?? 0,
          sessions: v0.get('sessions') ?? 0,
        },
        seed001: {
          cost: v1.get('total cost') ?? 0,
          tokens: v1.get('total tokens') ?? 0,
          sessions: v1.get('total sessions') ?? 0,
        },
        sessionsListExact: JSON.stringify(direct) === JSON.stringify(last.list),
      });
      process.stderr.write(
        `  ${h.options.label} ${range}: first ${fmtMs(firstMs)}, steady ${fmtMs(steadyMs)}, seed 000 ${fmtMs(s0)}, seed 001 ${fmtMs(s1)}\n`,
      );
    }
  } finally {
    await client.close();
    rmSync(pieceDir, { recursive: true, force: true });
  }
  return out;
}

/**
 * Two hours of refreshes every 5 s on one reader, in the rules' time (not the wall's: what grows per refresh or per
 * closed piece grows the same): its heap after a GC at 10 min, 1 h and 2 h (node --expose-gc; null without it).
 */
async function soak(
  reader: TelemetryReader,
  fromMs: number,
  refresh: (r: TelemetryReader, nowMs: number) => Promise<unknown>,
): Promise<[number, number, number] | null> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return null;
  const heapMb = (): number => {
    gc();
    return process.memoryUsage().heapUsed / 2 ** 20;
  };
  const marks: number[] = [];
  for (let i = 1; i <= 1440; i++) {
    await refresh(reader, fromMs + i * 5000);
    if (i === 120 || i === 720 || i === 1440) marks.push(heapMb());
  }
  return marks as [number, number, number];
}
