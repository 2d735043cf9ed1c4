// The query catalog and the service against REAL Prometheus (the pinned 3.x, built from its module), loaded with series in the collector's
// shape: per-session cumulative counters, parallel sessions, sessions starting and ending, two collector restarts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PrometheusClient } from '../../src/telemetry/prometheus';
import { LokiClient } from '../../src/telemetry/loki';
import { TelemetryReader, latestLeaderboard, markerTimes } from '../../src/telemetry/reader';
import {
  METRICS, RULES, lastEvaluation, leaderboardSamples, planChart, promChartGaps, promFresh, promInstant, promRange, rollupMarkers, sessionsChangedRecently,
} from '../../src/telemetry/queries';
import { PrometheusInstance, freePort, startLoadedPrometheus } from './helpers/promServer';
import { EXPORT_DELAY, RULE_OFFSET, RuleLoss, SimEvent, SimOptions, generateEvents, lossIn, simulate, trueCost, trueCostByModel, trueCount, trueTokens } from './helpers/sim';


// Time layout (unix seconds): 3 h of simulated activity ending 30 min ago; queries are evaluated 5 min after it.
// CCT_TEST_WALL_NOW (unix s, in the past) replays the time layout of an earlier run.
const wallNow = Number(process.env['CCT_TEST_WALL_NOW'] ?? Math.floor(Date.now() / 1000));
const T1 = Math.floor((wallNow - 1800) / 60) * 60;
const T0 = T1 - 3 * 3600;
const EVAL = T1 + 300;
const HOUR_START = EVAL - 3600;
const DAY_START = EVAL - 2 * 3600; // "local midnight" for the today test
const LONG_RESTART: [number, number] = [T0 + 5400, 330]; // gap > 5 m lookback: what staleness markers do
const QUICK_RESET_AT = T0 + 8000; // one session's counters reset between two scrapes

const baseOptions: SimOptions = {
  seed: 7,
  t0: T0,
  durationSeconds: T1 - T0,
  sessions: 14,
  scrapeSeconds: 15,
  quietAt: [HOUR_START, DAY_START],
  quietSeconds: 45,
  restarts: [LONG_RESTART],
  // Prometheus down at one hour end: that hour has no rollup, the queries read its 10s samples.
  missedRollups: [T0 + 3700],
  // The queries take EVAL as "now": no rule has written anything after it, as on a live stack (a rollup of an hour
  // ending just after EVAL would be read by a chart's last bucket and by the gap before it).
  evaluateUntil: EVAL,
};
// The session whose counters reset: one with plenty of activity on both sides of the reset.
const quickIdx = ((): number => {
  const { events: ev, sessions: ss } = generateEvents(baseOptions);
  const i = ss.findIndex((s) => ev.filter((e) => e.session === s && e.t < QUICK_RESET_AT).length > 25
    && ev.filter((e) => e.session === s && e.t > QUICK_RESET_AT).length > 3);
  if (i < 0) throw new Error('no session spans the quick reset; change the seed');
  return i;
})();
const simOptions: SimOptions = { ...baseOptions, quickReset: [QUICK_RESET_AT, quickIdx] };
const QUICK_RESTART: [number, number] = [QUICK_RESET_AT, 0];

function within(actual: number, expected: number, rel: number, what: string): void {
  const tol = Math.max(Math.abs(expected) * rel, 1e-9);
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} (±${(rel * 100).toFixed(2)} %)`);
}

describe('telemetry against real Prometheus', () => {
  let prom: PrometheusInstance;
  let client: PrometheusClient;
  let events: SimEvent[];
  let sessions: string[];
  let ruleLosses: RuleLoss[];

  before(async () => {
    const sim = simulate(simOptions);
    events = sim.events;
    sessions = sim.sessions;
    ruleLosses = sim.ruleLosses;
    prom = await startLoadedPrometheus({ openMetrics: sim.openMetrics });
    client = new PrometheusClient({ baseUrl: prom.url, timeoutMs: 20_000 });
  });

  after(async () => {
    await client?.close();
    await prom?.stop();
  });

  it('sanity: the simulation has parallel sessions, restarts and failures', () => {
    assert.ok(sessions.length >= 10);
    const starts = events.filter((e) => e.kind === 'session_start').map((e) => e.t);
    assert.equal(starts.length, sessions.length);
    assert.ok(trueCount(events, 'tool_result', T0, T1, (e) => e.kind === 'tool_result' && !e.success) > 5);
    assert.ok(trueCount(events, 'api_error', T0, T1) > 0);
  });

  it('cost over the whole history equals the sum of cost_usd events (first values and both restarts counted)', async () => {
    const svc = new TelemetryReader({ prometheus: client });
    const snap = await svc.fetchSnapshot('24h', EVAL * 1000);
    assert.equal(snap.errors.prometheus, undefined, JSON.stringify(snap.errors));
    const m = snap.metrics!;
    const truth = trueCost(events, EVAL - 86400, EVAL);
    assert.equal(lossIn(ruleLosses, 'claude_code:cost_usd', 0, Infinity), 0, 'this data set must not hit the rules\' undetectable-reset case for cost');
    within(m.kpis.costUsd, truth, 1e-6, '24h cost');
    const byModel = trueCostByModel(events, EVAL - 86400, EVAL);
    for (const { model, usd } of m.costByModel) within(usd, byModel[model] ?? 0, 1e-6, `24h cost of ${model}`);
    assert.equal(m.costByModel.length, Object.keys(byModel).length);
    // The chart's buckets add up to the same total (no bucket edge counted twice).
    const chartTotal = m.costSeries.reduce((s, x) => s + x.points.reduce((a, p) => a + p[1], 0), 0);
    within(chartTotal, truth, 1e-6, 'sum of the cost chart');
    // The naive query undercounts (documents why the catalog does not use it).
    const naive = await client.instant(`sum(increase(${METRICS.cost}[1d]))`, EVAL);
    assert.ok((naive[0]?.value ?? 0) < truth * 0.99 || (naive[0]?.value ?? 0) > truth * 1.01,
      `sum(increase()) happened to be right (${naive[0]?.value} vs ${truth}); the data set should expose it`);
  });

  it('7 days: the rollups answer the whole hours, the 10s rule the rest and the missed hour; the chart adds up', async () => {
    const markers = await client.samples(`claude_code:rollup:hour_end[${EVAL - T0 + 3600}s]`, EVAL);
    const hourEnds = markers.flatMap((x) => x.points.map(([t]) => t));
    assert.ok(hourEnds.length >= 2, `rollup markers: ${hourEnds.join(', ')}`);
    assert.ok(hourEnds.every((t, i) => i === 0 || t - hourEnds[i - 1]! >= 3600), 'one marker per hour');
    assert.ok(hourEnds.some((t, i) => i > 0 && t - hourEnds[i - 1]! === 7200), 'the missed hour end has no marker');
    const svc = new TelemetryReader({ prometheus: client });
    const m = (await svc.fetchSnapshot('7d', EVAL * 1000)).metrics!;
    const truth = trueCost(events, EVAL - 7 * 86400, EVAL);
    within(m.kpis.costUsd, truth, 1e-6, '7d cost');
    const chartTotal = m.costSeries.reduce((s, x) => s + x.points.reduce((a, p) => a + p[1], 0), 0);
    within(chartTotal, truth, 1e-6, 'sum of the 7d cost chart');
    const tok = trueTokens(events, EVAL - 7 * 86400, EVAL);
    const tokSeriesTotal = m.tokenSeries.reduce((s, x) => s + x.points.reduce((a, p) => a + p[1], 0), 0);
    assert.equal(Math.round(tokSeriesTotal), m.kpis.tokens.total);
    within(m.kpis.tokens.total, tok.input + tok.output + tok.cacheRead + tok.cacheCreation, 0.01, '7d tokens');
  });

  it('a chart from the rollups: 2 h buckets on the hour ends, the missed hour and the edges from the 10s rule', async () => {
    // The history is 3 h long: a 7 d chart would be mostly empty time, which the planner reads from the 10s rule.
    // Here the planner is asked for a span the rollups cover, as on a stack that has run for the whole range.
    const markers = markerTimes(await client.samples(`claude_code:rollup:hour_end[${EVAL - T0 + 3600}s]`, EVAL));
    // 6 h in 2 h buckets: the window reaches back past T0 however the buckets align to the clock, so that it holds
    // the missed hour and the edges whatever the time of the run.
    const chart = planChart(EVAL * 1000, 6 * 3_600_000, 2 * 3_600_000, markers);
    assert.ok(chart.rollups && chart.gaps.length >= 2, JSON.stringify(chart));
    const phase = markers[0]! % 3_600_000;
    assert.equal(chart.endMs % 3_600_000, phase, 'buckets end on the hour ends');
    const buckets = await client.range(promRange.costByModel(chart), { start: chart.startMs / 1000, end: chart.endMs / 1000, step: chart.stepMs / 1000 });
    const gaps = await client.instant(promChartGaps.costByModel(chart)!, EVAL);
    assert.ok(gaps.length > 0 && gaps.every((g) => Number(g.labels['bucket']) % 3_600_000 === phase), 'gap parts land in buckets');
    const total = buckets.reduce((a, x) => a + x.points.reduce((b, [, v]) => b + v, 0), 0) + gaps.reduce((a, g) => a + (g.value ?? 0), 0);
    // Equal to the 10s rule read over the same span (the truth by event time differs at an edge that is not quiet).
    const spanEndMs = Math.min(chart.endMs, EVAL * 1000);
    const plain = await client.instant(`sum(sum_over_time(${RULES.cost}[${spanEndMs - (chart.startMs - chart.stepMs) - 1}ms]))`, spanEndMs / 1000);
    within(total, plain[0]?.value ?? 0, 1e-9, 'rollups + gaps over the chart span');
  });

  it('tokens, cache hit rate, sessions, tool calls/failures and API errors match the events', async () => {
    const svc = new TelemetryReader({ prometheus: client });
    const m = (await svc.fetchSnapshot('24h', EVAL * 1000)).metrics!;
    const from = EVAL - 86400;
    const tok = trueTokens(events, from, EVAL);
    // Counts: the truth less what the rules cannot see (a series back after a reset at or above its old value; see
    // RuleLoss): a limit of the stack's rules, reported, not of these queries.
    const lost = (prefix: string): number => lossIn(ruleLosses, prefix, from, EVAL);
    const tokRule = 'claude_code:tokens:increase10s{';
    const lostTok = (type: string): number => ruleLosses.filter((l) => l.key.startsWith(tokRule) && l.key.includes(`type="${type}"`) && l.t > from && l.t <= EVAL).reduce((a, l) => a + l.amount, 0);
    assert.equal(m.kpis.tokens.input, tok.input - lostTok('input'));
    assert.equal(m.kpis.tokens.output, tok.output - lostTok('output'));
    assert.equal(m.kpis.tokens.cacheRead, tok.cacheRead - lostTok('cacheRead'));
    assert.equal(m.kpis.tokens.cacheCreation, tok.cacheCreation - lostTok('cacheCreation'));
    within(m.kpis.tokens.total, tok.input + tok.output + tok.cacheRead + tok.cacheCreation, 0.01, 'tokens within 1 %');
    within(m.kpis.cacheHitRate!, tok.cacheRead / (tok.input + tok.cacheRead + tok.cacheCreation), 0.01, 'cache hit rate');
    assert.equal(m.kpis.sessions, sessions.length);
    assert.equal(m.kpis.toolCalls, trueCount(events, 'tool_result', from, EVAL) - lost('claude_code:tool_results:'));
    assert.equal(m.kpis.toolFailures, trueCount(events, 'tool_result', from, EVAL, (e) => e.kind === 'tool_result' && !e.success)
      - lost('claude_code:tool_results:increase10s{') + ruleLosses.filter((l) => l.key.includes('success="true"') && l.t > from && l.t <= EVAL).reduce((a, l) => a + l.amount, 0));
    for (const t of m.tools) {
      const lostTool = ruleLosses.filter((l) => l.key.startsWith(`claude_code:tool_results:increase10s{tool_name="${t.tool}"`) && l.t > from && l.t <= EVAL).reduce((a, l) => a + l.amount, 0);
      assert.equal(t.calls, trueCount(events, 'tool_result', from, EVAL, (e) => e.kind === 'tool_result' && e.tool === t.tool) - lostTool, t.tool);
    }
    assert.equal(m.kpis.apiRequests, trueCount(events, 'api_request', from, EVAL) - lost('claude_code:api_requests:'));
    assert.equal(m.kpis.apiErrors, trueCount(events, 'api_error', from, EVAL) - lost('claude_code:api_errors:'));
    assert.equal(m.kpis.commits, trueCount(events, 'commit', from, EVAL) - lost('claude_code:commits:'));
    const tokSeriesTotal = m.tokenSeries.reduce((s, x) => s + x.points.reduce((a, p) => a + p[1], 0), 0);
    assert.equal(Math.round(tokSeriesTotal), m.kpis.tokens.total);
  });

  it('a window starting mid-history: within 1 % of the events of that window (sessions started before it)', async () => {
    const svc = new TelemetryReader({ prometheus: client });
    const m = (await svc.fetchSnapshot('1h', EVAL * 1000)).metrics!;
    const truth = trueCost(events, HOUR_START, EVAL);
    assert.ok(truth > 0.5, `the 1h window should hold real spend (${truth})`);
    within(m.kpis.costUsd, truth, 0.01, '1h cost');
    assert.equal(m.kpis.sessions, trueCount(events, 'session_start', HOUR_START, EVAL));
  });

  it('today (since the caller-given midnight), burn rate and projection', async () => {
    const svc = new TelemetryReader({ prometheus: client });
    const today = await svc.fetchToday(EVAL * 1000, DAY_START * 1000);
    within(today.costUsd, trueCost(events, DAY_START, EVAL), 0.01, 'today cost');
    within(today.burnRatePerHour, trueCost(events, HOUR_START, EVAL), 0.01, 'burn rate');
    const hoursLeft = (DAY_START + 86400 - EVAL) / 3600;
    within(today.projectedDayUsd, today.costUsd + today.burnRatePerHour * hoursLeft, 1e-9, 'projection');
    assert.ok(today.byModel.length > 0 && today.byModel.every((m, i, all) => i === 0 || all[i - 1]!.usd >= m.usd), 'cost by model, most first');
    assert.equal(today.hasData, true);
    const tok = trueTokens(events, DAY_START, EVAL);
    within(today.tokens.input, tok.input, 0.01, 'today input tokens');
  });

  it('between two rule evaluations: today adds what the last scrape brought, as the next evaluation will count it', async () => {
    // A scrape that brought cost, at s, with the next evaluation at least 2 s later: at t = s + 1 the rules have not
    // counted it yet, the fresh part must.
    const scrapes = Array.from({ length: Math.floor(1100 / simOptions.scrapeSeconds) }, (_, k) => T0 + 4200 + k * simOptions.scrapeSeconds);
    const nextEval = (x: number): number => T0 + RULE_OFFSET + Math.ceil((x - T0 - RULE_OFFSET) / 10) * 10;
    const broughtAt = (s: number): number => events
      .filter((e) => e.kind === 'api_request' && e.t + EXPORT_DELAY > s - simOptions.scrapeSeconds && e.t + EXPORT_DELAY <= s)
      .reduce((a, e) => a + (e.kind === 'api_request' ? e.costUsd : 0), 0);
    const s = scrapes.find((x) => (x - T0) % simOptions.scrapeSeconds === 0 && broughtAt(x) > 0 && nextEval(x) - x >= 2);
    assert.ok(s !== undefined, 'a scrape with cost between two evaluations');
    const t = s + 1;
    const tNext = nextEval(s);
    const markers = markerTimes(await client.samples(rollupMarkers(3 * 3600), t));
    const lastEvalMs = lastEvaluation(t * 1000, markers);
    assert.equal(lastEvalMs, Math.round((tNext - 10) * 1000), 'the evaluation time from the markers\' phase');
    const total = (rows: Array<{ value: number | null }>): number => rows.reduce((a, r) => a + (r.value ?? 0), 0);
    // The sessions whose cost that scrape changed are the ones read; at the evaluation time and from the rules'
    // helpers they gained the same: the value of that one scrape.
    const changed = (await client.instant(sessionsChangedRecently(), t)).map((x) => x.labels['session_id']!);
    const brought = new Set(events.filter((e) => e.kind === 'api_request' && e.t + EXPORT_DELAY > s - simOptions.scrapeSeconds && e.t + EXPORT_DELAY <= s).map((e) => e.session));
    assert.ok([...brought].every((id) => changed.includes(id)), 'the sessions the scrape brought cost for changed recently');
    within(total(await client.instant(promFresh.costByModel(changed, lastEvalMs), t)), broughtAt(s), 1e-9, 'fresh part at the evaluation time');
    within(total(await client.instant(promFresh.costByModel(changed, null), t)), broughtAt(s), 1e-9, 'fresh part from the helpers');
    const svc = new TelemetryReader({ prometheus: client });
    const dayStartMs = DAY_START * 1000;
    const now = await svc.fetchToday(t * 1000, dayStartMs);
    const atNextEvaluation = await svc.fetchToday(tNext * 1000, dayStartMs);
    within(now.costUsd, atNextEvaluation.costUsd, 1e-9, 'today between evaluations vs at the next one');
    within(now.costUsd, trueCost(events, DAY_START, s - EXPORT_DELAY) - lossIn(ruleLosses, 'claude_code:cost_usd:', DAY_START, t), 1e-6, 'today against the events scraped by then');
  });

  it('per-session list: most expensive first, bounded by topk, totals per session right', async () => {
    const limit = 5;
    const svc = new TelemetryReader({ prometheus: client, sessionLimit: limit });
    // Ranked from the 24 h leaderboard (every session of the window is on it) and the sessions active since.
    const board = latestLeaderboard(await client.samples(leaderboardSamples('24h'), EVAL));
    assert.ok(board && board.floor === null && board.ids.length === sessions.length, 'a recent leaderboard with every session');
    const m = (await svc.fetchSnapshot('24h', EVAL * 1000)).metrics!;
    assert.equal(m.sessions.length, limit);
    for (let i = 1; i < m.sessions.length; i++) assert.ok(m.sessions[i - 1]!.costUsd >= m.sessions[i]!.costUsd);
    const ranked = sessions.map((s) => ({ s, c: trueCost(events, 0, EVAL, s) })).sort((a, b) => b.c - a.c);
    // Exact per session, across both restarts too (the per-session rules count resets like the aggregates).
    for (const row of m.sessions) {
      within(row.costUsd, trueCost(events, 0, EVAL, row.sessionId), 1e-6, `session ${row.sessionId}`);
      const tok = trueTokens(events, 0, EVAL, row.sessionId);
      assert.equal(row.tokens, tok.input + tok.output + tok.cacheRead + tok.cacheCreation);
      assert.ok(row.models.length >= 1);
    }
    const spanning = m.sessions.filter((row) => [LONG_RESTART, QUICK_RESTART].some(([r]) =>
      events.some((e) => e.session === row.sessionId && e.t < r) && events.some((e) => e.session === row.sessionId && e.t > r)));
    assert.ok(spanning.length > 0, 'a listed session spans a restart');
    // The top of the list is the truly most expensive session.
    assert.equal(m.sessions[0]!.sessionId, ranked[0]!.s);
  });

  it('per-session totals in a window: sessions that started before it count only the window part', async () => {
    const q = promInstant.topSessionsByCost(3600, 100);
    const rows = await client.instant(q, EVAL);
    let checked = 0;
    for (const r of rows) {
      const id = r.labels['session_id']!;
      const hadBefore = events.some((e) => e.session === id && e.kind === 'api_request' && e.t <= HOUR_START);
      const truth = trueCost(events, HOUR_START, EVAL, id);
      within(r.value ?? 0, truth, 1e-6, `1h cost of session ${id}`);
      if (hadBefore && truth > 0) checked++;
    }
    assert.ok(rows.length > 0);
    assert.ok(checked > 0, 'some session started before the window and spent inside it');
  });

  it('the stack\'s recording rules load (Prometheus is evaluating them)', async () => {
    const res = await fetch(`${prom.url}/api/v1/rules?type=record`);
    const body = await res.json() as { data: { groups: Array<{ file: string; rules: Array<{ name: string; health: string }> }> } };
    const names = body.data.groups.flatMap((g) => g.rules.map((r) => r.name));
    for (const n of Object.values(RULES)) assert.ok(names.includes(n), `rule ${n} missing from ${prom.rulesFile}`);
  });

  it('hasEverReceivedData sees the claude_code metrics', async () => {
    const svc = new TelemetryReader({ prometheus: client });
    assert.equal(await svc.hasEverReceivedData(), true);
  });

  it('Loki down, Prometheus up: metrics with a per-source error', async () => {
    const port = await freePort();
    const loki = new LokiClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
    try {
      const svc = new TelemetryReader({ prometheus: client, loki });
      const snap = await svc.fetchSnapshot('24h', EVAL * 1000);
      assert.ok(snap.metrics);
      assert.equal(snap.events, null);
      assert.equal(snap.errors.loki?.kind, 'unreachable');
      assert.equal(snap.errors.prometheus, undefined);
      assert.equal(snap.hasData, true);
      assert.match(snap.errors.loki!.message, /Loki at http:\/\/127\.0\.0\.1:\d+\/loki\/api\/v1\/query_range is unreachable/);
    } finally {
      await loki.close();
    }
  });

  it('an empty window: zeros, empty lists, hasData false', async () => {
    const svc = new TelemetryReader({ prometheus: client });
    const snap = await svc.fetchSnapshot('1h', (T0 - 7200) * 1000);
    assert.equal(snap.hasData, false);
    assert.equal(snap.metrics!.kpis.costUsd, 0);
    assert.equal(snap.metrics!.kpis.cacheHitRate, null);
    assert.deepEqual(snap.metrics!.sessions, []);
  });
});
