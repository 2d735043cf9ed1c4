// The figures without Prometheus: Readings built from hand-made samples, the rules' increases each at a time, cut into
// the refresh's pieces as Prometheus would sum them (closed ones in the piece cache, open ones as answered), and every
// section derived from them checked against the sums worked out by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CounterId } from '../../src/telemetry/counters';
import {
  Readings,
  cacheHitRate,
  chartSeries,
  metricsSection,
  planSection,
  sessionMetrics,
  todaySummary,
  tokenTotals,
} from '../../src/telemetry/figures';
import type { Figure } from '../../src/telemetry/queries';
import {
  FINE_SLOT_MS,
  HOUR_MS,
  gridPhaseMs,
  planRefresh,
  type Answers,
  type RefreshWindows,
} from '../../src/telemetry/refreshPlan';
import { PieceCache, pieceKey, windowPieces, type Sample } from '../../src/telemetry/slots';

const NOW = Date.parse('2026-12-01T18:44:30Z');
const DAY = Date.parse('2026-12-01T00:00:00Z');
const at = (iso: string): number => Date.parse(`2026-${iso}Z`);

/** One increase a rule wrote: its counter, its time, every label of the raw series. */
interface Point {
  counter: CounterId;
  t: number;
  labels: Record<string, string>;
  value: number;
}

const web = {
  session_id: 's1',
  model: 'opus',
  vscode_workspace_name: 'web',
  app_entrypoint: 'cli',
  user_email: 'alice',
};
const api = {
  session_id: 's2',
  model: 'sonnet',
  vscode_workspace_name: 'api',
  app_entrypoint: 'claude-vscode',
  user_email: 'bob',
};
const tokens = (t: number, labels: Record<string, string>, byType: Record<string, number>): Point[] =>
  Object.entries(byType).map(([type, value]) => ({ counter: 'tokens', t, labels: { ...labels, type }, value }));

const POINTS: Point[] = [
  { counter: 'cost', t: at('11-30T20:15:00'), labels: api, value: 2.5 },
  { counter: 'cost', t: at('12-01T02:10:00'), labels: web, value: 0.1 },
  {
    counter: 'cost',
    t: at('12-01T09:00:00'),
    labels: { ...web, query_source: 'subagent', agent_name: 'code-reviewer' },
    value: 0.3,
  },
  { counter: 'cost', t: at('12-01T10:20:00'), labels: web, value: 0.2 },
  { counter: 'cost', t: at('12-01T17:50:00'), labels: api, value: 0.75 },
  { counter: 'cost', t: at('12-01T18:30:00'), labels: web, value: 0.05 },
  ...tokens(at('12-01T02:10:00'), web, { input: 1000, output: 200, cacheRead: 3000, cacheCreation: 500 }),
  ...tokens(at('12-01T10:20:00'), web, { input: 1000, output: 200, cacheRead: 3000, cacheCreation: 500 }),
  ...tokens(at('12-01T18:30:00'), web, { input: 1000, output: 200, cacheRead: 3000, cacheCreation: 500 }),
  ...tokens(at('12-01T17:50:00'), api, { input: 400 }),
  ...tokens(
    at('12-01T09:00:00'),
    { session_id: 's1', query_source: 'subagent', agent_name: 'code-reviewer' },
    { thinking: 7 },
  ),
  {
    counter: 'sessions',
    t: at('11-30T20:00:00'),
    labels: { session_id: 's2', vscode_workspace_name: 'api' },
    value: 1,
  },
  {
    counter: 'sessions',
    t: at('12-01T02:00:00'),
    labels: { session_id: 's1', vscode_workspace_name: 'web' },
    value: 1,
  },
  {
    counter: 'sessions',
    t: at('12-01T12:00:00'),
    labels: { session_id: 's3', vscode_workspace_name: 'api', app_entrypoint: 'sdk-cli' },
    value: 1,
  },
  {
    counter: 'apiErrors',
    t: at('12-01T12:05:00'),
    labels: { session_id: 's3', status_code: '429', model: 'opus' },
    value: 1,
  },
  {
    counter: 'toolResults',
    t: at('12-01T10:00:00'),
    labels: { session_id: 's1', tool_name: 'Bash', success: 'true' },
    value: 5,
  },
  {
    counter: 'toolResults',
    t: at('12-01T10:00:00'),
    labels: { session_id: 's1', tool_name: 'Bash', success: 'false', error_type: 'ShellError' },
    value: 2,
  },
  {
    counter: 'toolResults',
    t: at('12-01T15:00:00'),
    labels: { session_id: 's1', tool_name: 'Bash', success: 'false', error_type: 'ShellError' },
    value: 1,
  },
  {
    counter: 'toolResults',
    t: at('12-01T11:00:00'),
    labels: { session_id: 's1', tool_name: 'Agent', success: 'true' },
    value: 3,
  },
  {
    counter: 'toolResults',
    t: at('12-01T11:30:00'),
    labels: { session_id: 's4', tool_name: 'Agent', success: 'false', error_type: 'Timeout' },
    value: 1,
  },
  { counter: 'activeSeconds', t: at('12-01T10:00:00'), labels: { session_id: 's1', type: 'cli' }, value: 120.5 },
  { counter: 'activeSeconds', t: at('12-01T10:00:00'), labels: { session_id: 's1', type: 'user' }, value: 30 },
  { counter: 'linesOfCode', t: at('12-01T10:00:00'), labels: { session_id: 's1', type: 'added' }, value: 40 },
  { counter: 'editDecisions', t: at('12-01T10:00:00'), labels: { session_id: 's1', decision: 'accept' }, value: 3 },
];
/** Scraped since the rules' last evaluation: the fresh part. */
const FRESH: Point[] = [{ counter: 'cost', t: NOW, labels: web, value: 0.01 }];

/** The points of `counter` summed by `source.by`, as `sum by (...)` over the rule does. */
function sumBy(points: readonly Point[], source: Figure): Sample[] {
  const by = new Map<string, Sample>();
  for (const p of points) {
    if (p.counter !== source.counter) continue;
    const labels = Object.fromEntries(source.by.filter((l) => p.labels[l] !== undefined).map((l) => [l, p.labels[l]!]));
    const key = JSON.stringify(labels);
    const had = by.get(key);
    if (had) had.value += p.value;
    else by.set(key, { labels, value: p.value });
  }
  return [...by.values()];
}

interface Extra {
  nowMs?: number;
  plan?: Answers['plan'];
  planLimit?: Answers['planLimit'];
  active?: string[];
  costLabels?: string[];
}

/** What a refresh at `nowMs` would have read of POINTS: closed pieces in the cache, open ones as answered. */
function readingsOf(windows: RefreshWindows, extra: Extra = {}): Readings {
  const nowMs = extra.nowMs ?? NOW;
  const cache = new PieceCache();
  const plan = planRefresh({
    nowMs,
    windows,
    lastEvaluationMs: nowMs - 3_000,
    cache,
    changedSessions: extra.active ?? [],
  });
  const answers: Answers = {
    pieces: new Map(),
    fresh: new Map(),
    plan: extra.plan ?? {},
    planLimit: extra.planLimit ?? {},
  };
  for (const w of plan.planned) {
    for (const [a, b] of windowPieces(w.fromMs, nowMs, w.slotMs, w.phaseMs, FINE_SLOT_MS)) {
      for (const figure of w.figures) {
        const name = plan.sources.ofFigure.get(figure)!;
        const samples = sumBy(
          POINTS.filter((p) => p.t > a && p.t <= b),
          plan.sources.byName.get(name)!,
        );
        if (b <= plan.closedUntilMs) cache.put(a, b, name, samples);
        else answers.pieces.set(name, (answers.pieces.get(name) ?? new Map()).set(pieceKey(a, b), samples));
      }
    }
  }
  for (const [name, source] of plan.sources.byName) answers.fresh.set(name, sumBy(FRESH, source));
  return new Readings(plan, answers, cache, extra.costLabels ?? null);
}

function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);
}

describe('figures from hand-made readings', () => {
  it("today: the cost to the cent, by model, the tokens, the burn rate of the last hour and the projection, this project's part", () => {
    const today = todaySummary(readingsOf({ dayStartMs: DAY, project: 'web' }));
    // 0.1 + 0.3 + 0.2 + 0.75 + 0.05, and 0.01 scraped since the rules' last evaluation; yesterday's 2.5 is not today's.
    near(today.costUsd, 1.41, 'today');
    assert.equal(today.costUsd.toFixed(2), '1.41');
    near(today.project!.costUsd, 0.66, 'web today');
    assert.equal(today.project!.name, 'web');
    assert.deepEqual(
      today.byModel.map((m) => m.model),
      ['sonnet', 'opus'],
    );
    near(today.byModel[0]!.usd, 0.75, 'sonnet');
    near(today.byModel[1]!.usd, 0.66, 'opus');
    assert.deepEqual(today.tokens, {
      input: 3400,
      output: 600,
      cacheRead: 9000,
      cacheCreation: 1500,
      other: 7,
      total: 14507,
    });
    near(today.cacheHitRate!, 9000 / 13900, 'cache hit rate');
    // Since 17:44:30: 0.75 at 17:50, 0.05 at 18:30, 0.01 fresh.
    near(today.burnRatePerHour, 0.81, 'burn rate');
    near(today.projectedDayUsd, 1.41 + 0.81 * ((DAY + 86_400_000 - NOW) / HOUR_MS), 'projection');
    assert.equal(today.dayStartMs, DAY);
    assert.equal(today.hasData, true);
    assert.equal(today.plan, undefined, 'no plan gauge');
  });

  it('a range: KPIs, cost by model, tokens, tools and their errors, subagents, productivity', () => {
    const m = metricsSection(readingsOf({ range: '24h' }), 50);
    near(m.kpis.costUsd, 3.91, '24h cost');
    assert.deepEqual(
      m.costByModel.map((c) => c.model),
      ['sonnet', 'opus'],
    );
    near(m.costByModel[0]!.usd, 3.25, 'sonnet');
    assert.equal(m.kpis.tokens.total, 14507);
    near(m.kpis.cacheHitRate!, 9000 / 13900, 'cache hit rate');
    assert.equal(m.kpis.sessions, 3);
    assert.deepEqual(m.tools, [
      { tool: 'Bash', calls: 8, failures: 3 },
      { tool: 'Agent', calls: 4, failures: 1 },
    ]);
    assert.equal(m.kpis.toolCalls, 12);
    assert.equal(m.kpis.toolFailures, 4);
    near(m.kpis.toolErrorRate!, 4 / 12, 'tool error rate');
    assert.equal(m.kpis.apiErrors, 1);
    near(m.kpis.activeSeconds, 150.5, 'active time');
    assert.equal(m.kpis.activeCliSeconds, 120.5);
    assert.equal(m.kpis.linesAdded, 40);
    assert.equal(m.kpis.editsAccepted, 3);
    // The buckets a failure was first and last seen in: the hours that hold 10:00 and 15:00.
    assert.deepEqual(
      m.toolErrors.map(({ tool, errorType, count, firstSeenMs, lastSeenMs }) => [
        tool,
        errorType,
        count,
        firstSeenMs,
        lastSeenMs,
      ]),
      [
        ['Bash', 'ShellError', 3, at('12-01T09:00:00'), at('12-01T15:00:00')],
        ['Agent', 'Timeout', 1, at('12-01T11:00:00'), at('12-01T12:00:00')],
      ],
    );
    assert.deepEqual(
      m.apiErrorsByStatus.map((e) => [e.statusCode, e.model, e.count]),
      [['429', 'opus', 1]],
    );
    assert.equal(m.subagents.calls, 4);
    assert.equal(m.subagents.failures, 1);
    near(m.subagents.costUsd, 0.3, 'subagent cost');
    assert.equal(m.subagents.tokens, 7);
    assert.deepEqual(m.subagents.byAgent, [{ agent: 'code-reviewer', costUsd: 0.3, tokens: 7 }]);
  });

  it('the sessions: most expensive first, then most errors; their models, projects and where they ran; bounded', () => {
    const rows = metricsSection(readingsOf({ range: '24h' }), 50).sessions;
    assert.deepEqual(
      rows.map((r) => r.sessionId),
      ['s2', 's1', 's3', 's4'],
    );
    near(rows[0]!.costUsd, 3.25, 's2');
    near(rows[1]!.costUsd, 0.66, 's1');
    assert.equal(rows[1]!.tokens, 14107);
    assert.deepEqual(rows[1]!.models, ['opus']);
    assert.deepEqual(rows[1]!.projects, ['web']);
    assert.deepEqual(
      rows.map((r) => r.entrypoints),
      [['claude-vscode'], ['cli'], ['sdk-cli'], []],
    );
    near(rows[1]!.activeSeconds, 150.5, 's1 active');
    assert.equal(rows[1]!.toolFailures, 2 + 1);
    // s3 spent nothing but met an API error; its project is the one it started in. s4 failed a tool call only.
    assert.deepEqual(
      { ...rows[2]!, costUsd: 0 },
      {
        sessionId: 's3',
        costUsd: 0,
        tokens: 0,
        activeSeconds: 0,
        apiErrors: 1,
        toolFailures: 0,
        models: [],
        projects: ['api'],
        entrypoints: ['sdk-cli'],
        importedUsd: 0,
        imported: false,
      },
    );
    assert.equal(rows[3]!.toolFailures, 1);
    assert.deepEqual(
      metricsSection(readingsOf({ range: '24h' }), 2).sessions.map((r) => r.sessionId),
      ['s2', 's1'],
    );
  });

  it('the charts: each piece in the bucket that holds its end, the open hour and the fresh part in the next; they add up to the totals', () => {
    const m = metricsSection(readingsOf({ range: '24h' }), 50);
    assert.deepEqual(
      m.costSeries.map((s) => s.key),
      ['sonnet', 'opus'],
    );
    assert.deepEqual(m.costSeries[0]!.points, [
      [at('11-30T21:00:00'), 2.5],
      [at('12-01T18:00:00'), 0.75],
    ]);
    const opus = m.costSeries[1]!.points;
    assert.deepEqual(
      opus.map(([t]) => t),
      [at('12-01T03:00:00'), at('12-01T09:00:00'), at('12-01T11:00:00'), at('12-01T19:00:00')],
    );
    near(opus.at(-1)![1], 0.06, 'the open hour and the fresh part');
    near(
      m.costSeries.flatMap((s) => s.points).reduce((a, [, v]) => a + v, 0),
      m.kpis.costUsd,
      'the chart adds up',
    );
    assert.equal(
      m.tokenSeries.flatMap((s) => s.points).reduce((a, [, v]) => a + v, 0),
      m.kpis.tokens.total,
    );
    // 30 days: a bucket a local day, ending at local midnight.
    const month = metricsSection(readingsOf({ range: '30d' }), 50);
    const phase = gridPhaseMs(86_400_000, NOW);
    assert.ok(month.costSeries.every((s) => s.points.every(([t]) => Math.abs(t - phase) % 86_400_000 === 0)));
    near(
      month.costSeries.flatMap((s) => s.points).reduce((a, [, v]) => a + v, 0),
      3.91,
      '30 d chart',
    );
    near(month.kpis.costUsd, 3.91, '30 d cost');
    // A piece ending on a bucket's end stays in that bucket.
    assert.deepEqual(chartSeries([[at('12-01T09:00:00'), [{ labels: { model: 'm' }, value: 1 }]]], HOUR_MS, 'model'), [
      { key: 'm', points: [[at('12-01T09:00:00'), 1]] },
    ]);
  });

  it("cost by a dimension: its rows, points without the label under '', and the dimensions the cost points carry", () => {
    const costBy = metricsSection(
      readingsOf(
        { range: '24h', groupBy: 'project' },
        { costLabels: ['model', 'vscode_workspace_name', 'query_source'] },
      ),
      50,
    ).costBy;
    assert.equal(costBy.dimension, 'project');
    assert.deepEqual(
      costBy.rows.map((r) => [r.key, r.tokens]),
      [
        ['api', 400],
        ['web', 14100],
        ['', 7],
      ],
    );
    near(costBy.rows[0]!.costUsd, 3.25, 'api');
    near(costBy.rows[1]!.costUsd, 0.66, 'web');
    assert.deepEqual(costBy.available, ['model', 'project', 'source']);
  });

  it("in a team's store: the range's cost ranked by developer, project and model, whoever picks what", () => {
    assert.equal(metricsSection(readingsOf({ range: '24h' }), 50).team, undefined, 'not in a store of one');
    const team = metricsSection(readingsOf({ range: '24h', groupBy: 'source', developer: 'alice' }), 50).team;
    assert.equal(team?.you, 'alice');
    const rows = (dimension: string) =>
      team!.rankings
        .find((r) => r.dimension === dimension)!
        .rows.map((r) => [r.key, Math.round(r.costUsd * 100) / 100]);
    assert.deepEqual(rows('developer'), [
      ['bob', 3.25],
      ['alice', 0.66],
      ['', 0],
    ]);
    assert.deepEqual(rows('project'), [
      ['api', 3.25],
      ['web', 0.66],
      ['', 0],
    ]);
    assert.deepEqual(
      rows('model').map(([model]) => model),
      ['sonnet', 'opus', ''],
    );
  });

  it('the plan: a window with its reset and the time it reaches the limit at this pace; past its reset, left out; the context windows of active sessions', () => {
    const s = NOW / 1000;
    const plan: Answers['plan'] = {
      usage: [
        { labels: { window: 'five_hour' }, value: 42 },
        { labels: { window: 'seven_day' }, value: 80 },
      ],
      resetsAt: [
        { labels: { window: 'five_hour' }, value: s + 3600 },
        { labels: { window: 'seven_day' }, value: s - 10 },
      ],
      pace: [{ labels: { window: 'five_hour' }, value: 0.02 }],
      contextWindow: [
        { labels: { session_id: 's1', model: 'opus' }, value: 55 },
        { labels: { session_id: 's9', model: 'opus' }, value: 90 },
      ],
    };
    const planLimit: Answers['planLimit'] = {
      minutes: [
        { labels: { window: 'five_hour' }, value: 35.4 },
        { labels: { window: 'seven_day' }, value: 0 },
      ],
      last: [{ labels: { window: 'five_hour' }, value: s - 600 }],
    };
    const r = readingsOf(
      { dayStartMs: DAY, range: '24h', month: { startMs: DAY, priceUsd: 100 } },
      { plan, planLimit, active: ['s1'] },
    );
    const usage = {
      fiveHour: { usedPercent: 42, resetsAtMs: NOW + 3_600_000, limitAtMs: NOW + 2_900_000 },
      contextWindows: [{ sessionId: 's1', model: 'opus', usedPercent: 55 }],
    };
    assert.deepEqual(todaySummary(r).plan, usage);
    const section = planSection(r);
    assert.deepEqual(section.usage, usage);
    assert.deepEqual(section.atLimit, [{ window: 'five_hour', minutes: 35, lastAtMs: NOW - 600_000 }]);
    assert.equal(section.month!.priceUsd, 100);
    near(section.month!.costUsd, 1.41, 'the month so far');
    // At a slower pace the limit comes after the reset: none.
    const slow = readingsOf(
      { dayStartMs: DAY },
      { plan: { ...plan, pace: [{ labels: { window: 'five_hour' }, value: 0.01 }] }, active: ['s1'] },
    );
    assert.equal(todaySummary(slow).plan!.fiveHour!.limitAtMs, null);
  });

  it('a figure over a window the refresh did not plan is an error, not a zero', () => {
    assert.throws(() => readingsOf({ dayStartMs: DAY }).total('sessions', 'range'), /no range window/);
    assert.throws(
      () => readingsOf({ dayStartMs: DAY }).total('sessions', 'today'),
      /sessions over the today window was not part of this refresh/,
    );
  });

  it("token totals, the cache hit rate, a session's panel", () => {
    const t = tokenTotals([
      { labels: { type: 'input' }, value: 2.9999999 },
      { labels: { type: 'cacheRead' }, value: 6 },
      { labels: {}, value: 1 },
    ]);
    assert.deepEqual(t, { input: 3, output: 0, cacheRead: 6, cacheCreation: 0, other: 1, total: 10 });
    near(cacheHitRate(t)!, 6 / 9, 'hit rate');
    assert.equal(cacheHitRate(tokenTotals([])), null);
    const totals = {
      costByModel: [
        { labels: { model: 'opus' }, value: 1.25 },
        { labels: { model: 'haiku' }, value: 0.25 },
      ],
      costByProject: [{ labels: { vscode_workspace_name: 'web' }, value: 1.5 }],
      tokensByType: [{ labels: { type: 'output' }, value: 10 }],
      toolResultsByTool: [{ labels: { tool_name: 'Read', success: 'false' }, value: 1 }],
      apiErrorsByStatus: [{ labels: { status_code: '500', model: 'opus' }, value: 2 }],
      activeSecondsByType: [{ labels: { type: 'cli' }, value: 9 }],
    };
    const m = sessionMetrics(
      (f) => totals[f],
      [[at('12-01T10:30:00'), [{ labels: { model: 'opus' }, value: 1.25 }]]],
      HOUR_MS,
      0,
    );
    near(m.costUsd, 1.5, 'session cost');
    assert.deepEqual(m.costSeries, [{ key: 'opus', points: [[at('12-01T11:00:00'), 1.25]] }]);
    assert.deepEqual(m.apiErrorsByStatus, [{ statusCode: '500', model: 'opus', count: 2 }]);
    assert.deepEqual(m.tools, [{ tool: 'Read', calls: 1, failures: 1 }]);
    assert.deepEqual(m.projects, ['web']);
    assert.equal(m.activeCliSeconds, 9);
  });
});
