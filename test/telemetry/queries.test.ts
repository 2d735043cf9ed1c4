// Every query of the catalog parses (PromQL / LogQL grammars), names only contract metrics and rules, and follows
// the rules of docs/architecture.md (no `| json`, no increase(), only service_name in the Loki selector).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RangeSeries } from '../../src/telemetry/prometheus';
import { latestLeaderboard, leaderboardDecides } from '../../src/telemetry/reader';
import { assertLogQL, assertPromQL, logqlParserStages, logqlSelectorLabels, promqlMetricNames } from '../support/queryGrammar';
import { LAST_VALUE_RULES, LEADERBOARD_RULE, LEADERBOARD_SIZE, lastEvaluation, METRICS, ROLLUP_MARKER, ROLLUP_RULES, RULES, SESSION_RULES, planChart, planWindow, plainPlan, promChartGaps, catalogExamples, chartStep, dur, exactAlternation, quote } from '../../src/telemetry/queries';

const ALLOWED_NAMES = new Set<string>([...Object.values(METRICS), ...Object.values(RULES), ...Object.values(ROLLUP_RULES), ROLLUP_MARKER, LEADERBOARD_RULE, ...Object.values(SESSION_RULES), ...Object.values(LAST_VALUE_RULES)]);

describe('query catalog', () => {
  const all = catalogExamples();

  it('has every kind of query', () => {
    assert.ok(all.some((q) => q.backend === 'prometheus' && q.kind === 'instant'));
    assert.ok(all.some((q) => q.backend === 'prometheus' && q.kind === 'range'));
    assert.ok(all.some((q) => q.backend === 'loki' && q.kind === 'logs'));
  });

  for (const q of all) {
    it(`${q.name} parses: ${q.expr.slice(0, 80)}…`, () => {
      if (q.backend === 'prometheus') {
        assertPromQL(q.expr);
        for (const n of promqlMetricNames(q.expr)) assert.ok(ALLOWED_NAMES.has(n), `${q.name} uses ${n}, not in the contract`);
        assert.doesNotMatch(q.expr, /\b(increase|rate|irate)\(/, 'increase()/rate() miss first values and extrapolate');
      } else {
        assertLogQL(q.expr);
        assert.deepEqual(logqlSelectorLabels(q.expr), ['service_name']);
        assert.ok(!logqlParserStages(q.expr).includes('json'), 'never | json');
        assert.doesNotMatch(q.expr, /\|\s*json/);
      }
    });
  }

  it('aggregates read the recording rules; per-session the per-session rules; the fresh part the raw series and the last values', () => {
    const sessionRules = new Set<string>(Object.values(SESSION_RULES));
    for (const q of all.filter((x) => x.backend === 'prometheus')) {
      const names = promqlMetricNames(q.expr);
      // Never the raw per-session series over a window: they hold a sample per scrape (5 s, for 25 h after the
      // session's last change); the rules hold one per evaluation that saw a change.
      if (/^promInstant\.(topSessions|sessions?[A-Z])/.test(q.name)) assert.ok(names.length > 0 && names.every((n) => sessionRules.has(n)), q.name);
      else if (q.name === 'leaderboardSamples') assert.deepEqual(names, [LEADERBOARD_RULE]);
      else if (q.name === 'sessionsChangedRecently') assert.deepEqual([...new Set(names)], [METRICS.cost]);
      // The fresh part: the raw series at one instant, and the helpers only without an evaluation time.
      else if (q.name.startsWith('promFresh.')) assert.ok(names.every((n) => n.endsWith(':last_value') || !n.includes(':')) && names.some((n) => !n.includes(':')), q.name);
      else if (q.name === 'rollupMarkers') assert.deepEqual(names, [ROLLUP_MARKER]);
      // Aggregates: the 10s rules and their hourly rollups.
      else assert.ok(names.length > 0 && names.every((n) => /:increase(10s|1h)$/.test(n)), q.name);
    }
  });

  it('plans a window: rollups for the whole hours with a marker, the 10s rule for the edges and a missed hour', () => {
    const H = 3_600_000;
    const phase = 3217;
    const end = 100 * H + 1_800_000;
    const markers = [95, 96, 97, 99, 100].map((h) => h * H + phase); // the hour ending at 98 h was missed
    assert.deepEqual(planWindow(end - 5 * H, end, markers), {
      // The hours ending at 95 h and 96 h (+ phase) started before the window (95.5 h): left to the 10s rule.
      // One term for both runs: the missed hour between them has no rollup sample.
      runs: [[97 * H + phase, 100 * H + phase]],
      gaps: [[end - 5 * H, 96 * H + phase], [97 * H + phase, 98 * H + phase], [100 * H + phase, end]],
    });
    // A marker whose hour overlaps the previous one (the evaluation phase moved by 2 s) is left to the 10s rule.
    assert.deepEqual(planWindow(90 * H, 93 * H, [91 * H + 5000, 92 * H + 3000]), {
      runs: [[91 * H + 5000, 91 * H + 5000]],
      gaps: [[90 * H, 90 * H + 5000], [91 * H + 5000, 93 * H]],
    });
    assert.deepEqual(planWindow(0, H, []), plainPlan(0, H));
    // Too many pieces (every other hour missed for 30 days): one plain term instead.
    const sparse = Array.from({ length: 360 }, (_, i) => (2 * i + 1) * H + phase);
    assert.deepEqual(planWindow(0, 720 * H, sparse), plainPlan(0, 720 * H));
  });

  it('plans a chart: buckets on the hour ends, gap parts in the bucket they fall in; otherwise the 10s rule', () => {
    const H = 3_600_000;
    const phase = 3217;
    const now = 200 * H + 600_000;
    const markers = Array.from({ length: 30 }, (_, i) => (171 + i) * H + phase).filter((t) => t !== 190 * H + phase);
    const chart = planChart(now, 24 * H, 3 * H, markers);
    assert.equal(chart.rollups, true);
    assert.equal(chart.endMs, 201 * H + phase);
    assert.equal(chart.startMs, chart.endMs - 7 * 3 * H);
    assert.deepEqual(chart.gaps, [
      { a: 189 * H + phase, b: 190 * H + phase, bucketMs: 192 * H + phase },
      { a: 200 * H + phase, b: now, bucketMs: 201 * H + phase },
    ]);
    assert.match(promChartGaps.costByModel(chart)!, /"bucket", "\d+"/);
    // 30 min buckets: no rollups, buckets on the clock.
    const short = planChart(now, 24 * H, 1_800_000, markers);
    assert.equal(short.rollups, false);
    assert.equal(short.endMs % 1_800_000, 0);
    assert.equal(promChartGaps.costByModel(short), null);
  });

  it('durations, steps and escaping', () => {
    assert.equal(dur(3600), '3600s');
    assert.equal(dur(0.2), '1s');
    assert.equal(chartStep(3600), 60);
    assert.equal(chartStep(86400), 1800);
    assert.equal(chartStep(604800), 10800);
    assert.equal(chartStep(2592000), 43200);
    assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(exactAlternation(['a.b', 'c|d']), '"a\\\\.b|c\\\\|d"');
    assertPromQL(`x{session_id=~${exactAlternation(['a.b', 'c|d', 'x"y'])}}`);
  });
});

describe('the rules\' last evaluation', () => {
  it('is on the phase of the rollup markers (evaluation times), at or before now; unknown without markers', () => {
    const H = 3_600_000;
    const markers = [10 * H + 3217, 11 * H + 3217];
    assert.equal(lastEvaluation(11 * H + 3217, markers), 11 * H + 3217);
    assert.equal(lastEvaluation(11 * H + 3216, markers), 11 * H - 6783);
    assert.equal(lastEvaluation(12 * H + 59_000, markers), 12 * H + 53_217);
    assert.equal(lastEvaluation(12 * H, []), null);
  });
});

describe('sessions leaderboard', () => {
  const entry = (id: string, cost: number, times = [1000, 1300]): RangeSeries => ({ labels: { session_id: id, window: '7d' }, points: times.map((t) => [t, cost]) });
  const full = Array.from({ length: LEADERBOARD_SIZE }, (_, i) => entry(`s${i}`, 200 - i));

  it('reads the latest evaluation only, and its last place when it is full', () => {
    assert.equal(latestLeaderboard([]), null);
    // s-old left the leaderboard at its latest evaluation (1300).
    const board = latestLeaderboard([...full, entry('s-old', 1000, [1000])])!;
    assert.equal(board.ids.length, LEADERBOARD_SIZE);
    assert.ok(!board.ids.includes('s-old'));
    assert.equal(board.floor, 200 - (LEADERBOARD_SIZE - 1));
    assert.equal(latestLeaderboard([entry('a', 5), entry('b', 3)])!.floor, null, 'not full: every session of its window');
  });

  it('decides the list only when its last row costs more than any session off the leaderboard can', () => {
    const board = { ids: [], floor: 101 };
    const top = (costs: number[]): Array<{ id: string; cost: number }> => costs.map((cost, i) => ({ id: `s${i}`, cost }));
    assert.equal(leaderboardDecides(board, top([300, 200, 150]), 3), true);
    assert.equal(leaderboardDecides(board, top([300, 200, 101]), 3), false, 'a session off it could tie the last row');
    assert.equal(leaderboardDecides(board, top([300, 200]), 3), false, 'too few candidates: sessions off it may fill the list');
    assert.equal(leaderboardDecides({ ids: [], floor: null }, top([3]), 50), true);
  });
});
