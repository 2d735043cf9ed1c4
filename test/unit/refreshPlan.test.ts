// The refresh planner without Prometheus: what a refresh asks for given the windows, now, the rules' last evaluation,
// the piece cache, the sessions that changed lately and the limit history; and how the answers are sorted back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FIGURES,
  FIGURE_LABEL,
  PART_LABEL,
  figureFresh,
  sourceName,
  type SourceName,
} from '../../src/telemetry/queries';
import {
  HOUR_MS,
  MINUTE_PARTS_EVERY_MS,
  RANGE_SLOT_MS,
  answersOf,
  closedSlots,
  gridPhaseMs,
  planRefresh,
  rangeStartMs,
  type PlanInput,
  type RefreshPlan,
  type RefreshWindows,
  type Term,
} from '../../src/telemetry/refreshPlan';
import { PieceCache, pieceKey } from '../../src/telemetry/slots';
import { RANGE_SECONDS } from '../../src/snapshot';

const NOW = Date.parse('2026-12-01T18:44:30Z');
const DAY = Date.parse('2026-12-01T00:00:00Z');
const COST = sourceName({
  counter: 'cost',
  by: ['agent_name', 'app_entrypoint', 'import', 'model', 'query_source', 'session_id', 'vscode_workspace_name'],
});
const WINDOWS: RefreshWindows = { dayStartMs: DAY, range: '24h' };

function plan(input: Partial<PlanInput> & { nowMs?: number }): RefreshPlan {
  const nowMs = input.nowMs ?? NOW;
  return planRefresh({
    nowMs,
    windows: WINDOWS,
    lastEvaluationMs: nowMs - 3_000,
    cache: new PieceCache(),
    changedSessions: ['s1'],
    ...input,
  });
}

/** The cache after a refresh ran `p`: its closed slots (zeros here) and the pieces it kept. */
function afterRunning(p: RefreshPlan, cache = new PieceCache()): PieceCache {
  for (const q of p.slots) for (const { source, a, b, samples } of closedSlots(q, [])) cache.put(a, b, source, samples);
  for (const { source, a, b } of p.keep) cache.put(a, b, source, []);
  return cache;
}

const pieceTerms = (terms: readonly Term[]) =>
  terms.filter((t) => t.figure !== 'plan' && t.figure !== 'planLimit' && t.part !== 'fresh');

describe('refresh plan', () => {
  it('a first load asks for the closed slots by range query, one grid at a time, and for the open pieces in the narrow instant query', () => {
    const p = plan({});
    assert.equal(p.closedUntilMs, NOW - 3_000 - 10_000);
    assert.deepEqual(
      p.planned.map((w) => [w.role, new Date(w.fromMs).toISOString()]),
      [
        ['today', '2026-12-01T00:00:00.000Z'],
        ['lastHour', '2026-12-01T17:44:30.000Z'],
        ['range', '2026-11-30T18:00:00.000Z'],
      ],
    );
    // Every closed hour of the range (and of today, inside it): one hour grid, from the first whole slot to the last closed.
    assert.equal(p.slots.length, 1);
    const [slots] = p.slots;
    assert.equal(slots!.slotMs, HOUR_MS);
    assert.equal(new Date(slots!.firstEnd).toISOString(), '2026-11-30T19:00:00.000Z');
    assert.equal(new Date(slots!.lastEnd).toISOString(), '2026-12-01T18:00:00.000Z');
    // One source per counter, in at most four range queries side by side.
    const sources = slots!.batches.flat().map((t) => t.figure);
    assert.equal(new Set(sources).size, sources.length);
    assert.deepEqual(new Set(sources), new Set(p.sources.byName.keys()));
    assert.equal(slots!.batches.length, 4);
    // The narrow query: the open hour of every source, the last hour's closed head (cost only) and the plan's gauges.
    const open = pieceTerms(p.narrow);
    assert.equal(
      open.filter((t) => t.part === pieceKey(Date.parse('2026-12-01T18:00:00Z'), NOW)).length,
      p.sources.byName.size,
    );
    assert.deepEqual(
      open.filter((t) => t.part !== pieceKey(Date.parse('2026-12-01T18:00:00Z'), NOW)).map((t) => [t.figure, t.part]),
      [[COST, pieceKey(NOW - HOUR_MS, Date.parse('2026-12-01T18:00:00Z'))]],
    );
    assert.deepEqual(
      p.narrow.filter((t) => t.figure === 'plan').map((t) => t.part),
      ['usage', 'resetsAt', 'pace', 'contextWindow'],
    );
    // The wide query: the fresh part of cost and tokens for the sessions that changed, and the limit history.
    assert.deepEqual(
      p.wide.filter((t) => t.part === 'fresh').map((t) => t.figure.split('(')[0]),
      ['cost', 'tokens'],
    );
    assert.equal(p.wide.find((t) => t.figure === COST)!.expr, figureFresh(p.sources.byName.get(COST)!, ['s1']));
    assert.deepEqual(
      p.wide.filter((t) => t.figure === 'planLimit').map((t) => t.part),
      ['minutes', 'last'],
    );
    assert.equal(p.minuteParts, 'read');
    assert.deepEqual(p.labelsSpan, { start: rangeStartMs('24h', NOW) / 1000, end: NOW / 1000 });
    assert.deepEqual(p.keep, [], "nothing closed is read by the instant query but the last hour's head");
  });

  it('the steady state asks for no range query: the open pieces, the moving head and the gauges only', () => {
    const first = plan({});
    const cache = afterRunning(first);
    const later = plan({ nowMs: NOW + 5_000, cache, minuteParts: { range: '24h', atMs: NOW } });
    assert.deepEqual(later.slots, []);
    const hour = Date.parse('2026-12-01T18:00:00Z');
    assert.deepEqual(
      new Set(pieceTerms(later.narrow).map((t) => t.part)),
      new Set([pieceKey(hour, NOW + 5_000), pieceKey(NOW + 5_000 - HOUR_MS, hour)]),
    );
    assert.equal(later.minuteParts, 'reuse', 'the limit history read 5 s ago is used again');
    assert.equal(
      later.wide.some((t) => t.figure === 'planLimit'),
      false,
    );
  });

  it("a moving window's head is read each time, never kept; a closed head of a window that does not move is kept", () => {
    // Today from 00:30 (a day that did not start on the hour): its head (00:30, 01:00] is closed, read once, kept.
    const p = plan({ windows: { dayStartMs: DAY + 30 * 60_000 } });
    const head = pieceKey(DAY + 30 * 60_000, DAY + HOUR_MS);
    assert.ok(p.narrow.some((t) => t.part === head));
    assert.ok(p.keep.some((k) => pieceKey(k.a, k.b) === head));
    assert.equal(
      p.keep.some((k) => k.a === NOW - HOUR_MS),
      false,
      "the last hour's head",
    );
    // Read again on the next refresh, though the cache holds everything else.
    const next = plan({ nowMs: NOW + 5_000, windows: { dayStartMs: DAY + 30 * 60_000 }, cache: afterRunning(p) });
    assert.deepEqual(
      pieceTerms(next.narrow)
        .filter((t) => t.part !== pieceKey(Date.parse('2026-12-01T18:00:00Z'), NOW + 5_000))
        .map((t) => t.part),
      [pieceKey(NOW + 5_000 - HOUR_MS, Date.parse('2026-12-01T18:00:00Z'))],
    );
    assert.deepEqual(next.slots, []);
  });

  it("the minute parts (the limit history, the labels of the range's cost) are read once a minute, or when the range changes; not without a range", () => {
    assert.equal(plan({ minuteParts: undefined }).minuteParts, 'read');
    const reused = plan({ minuteParts: { range: '24h', atMs: NOW - MINUTE_PARTS_EVERY_MS + 1 } });
    assert.equal(reused.minuteParts, 'reuse');
    assert.deepEqual(
      reused.labelsSpan,
      { start: (NOW - MINUTE_PARTS_EVERY_MS + 1) / 1000, end: NOW / 1000 },
      'the labels are looked up since the last whole read only',
    );
    assert.equal(plan({ minuteParts: { range: '24h', atMs: NOW - MINUTE_PARTS_EVERY_MS } }).minuteParts, 'read');
    assert.equal(plan({ minuteParts: { range: '7d', atMs: NOW } }).minuteParts, 'read');
    const todayOnly = plan({ windows: { dayStartMs: DAY }, minuteParts: { range: '24h', atMs: NOW } });
    assert.equal(todayOnly.minuteParts, 'none');
    assert.equal(todayOnly.labelsSpan, null);
    assert.equal(
      todayOnly.wide.some((t) => t.figure === 'planLimit'),
      false,
    );
    // And the plan's gauges only with today's window.
    assert.equal(
      plan({ windows: { range: '24h' } }).narrow.some((t) => t.figure === 'plan'),
      false,
    );
  });

  it("the fresh part: of the sessions that changed; none when none did; of every live series before the rules' first run or when they are late", () => {
    const freshOf = (p: RefreshPlan): string[] => p.wide.filter((t) => t.part === 'fresh').map((t) => t.expr);
    assert.deepEqual(freshOf(plan({ changedSessions: [] })), []);
    const late = plan({ lastEvaluationMs: NOW - 61_000, changedSessions: [] });
    assert.equal(freshOf(late)[0], figureFresh(late.sources.byName.get(COST)!));
    const first = plan({ lastEvaluationMs: null });
    assert.equal(freshOf(first)[0], figureFresh(first.sources.byName.get(COST)!));
    // Nothing is closed before the first evaluation: no range query, nothing kept, every piece in the instant query.
    assert.equal(first.closedUntilMs, -Infinity);
    assert.deepEqual(first.slots, []);
    assert.deepEqual(first.keep, []);
    assert.ok(pieceTerms(first.narrow).length > 24 * first.sources.byName.size);
    // A rules' clock ahead of now reads as now.
    assert.equal(plan({ lastEvaluationMs: NOW + 60_000 }).closedUntilMs, NOW - 10_000);
  });

  it("a coarse grid's open slot is cut in hours: its closed hours by a range query of their own, so only the current hour stays open", () => {
    const nowMs = NOW + 4 * HOUR_MS; // 22:44:30, in the 6 h slot that began at 18:00
    const p = plan({ nowMs, windows: { range: '7d' } });
    assert.deepEqual(
      p.slots.map((q) => q.slotMs).sort((a, b) => a - b),
      [HOUR_MS, RANGE_SLOT_MS['7d']],
    );
    const hours = p.slots.find((q) => q.slotMs === HOUR_MS)!;
    assert.deepEqual(
      [hours.firstEnd, hours.lastEnd],
      [Date.parse('2026-12-01T19:00:00Z'), Date.parse('2026-12-01T22:00:00Z')],
    );
    assert.equal(p.slots.find((q) => q.slotMs === RANGE_SLOT_MS['7d'])!.lastEnd, Date.parse('2026-12-01T18:00:00Z'));
    assert.deepEqual(
      new Set(pieceTerms(p.narrow).map((t) => t.part)),
      new Set([pieceKey(Date.parse('2026-12-01T22:00:00Z'), nowMs)]),
      'one open piece: the current hour',
    );
  });

  it("windows start on their grid, a slot at most before the range: the day's at local midnight", () => {
    for (const range of ['1h', '24h', '7d', '30d'] as const) {
      const slot = RANGE_SLOT_MS[range];
      const start = rangeStartMs(range, NOW);
      assert.equal(Math.abs(start - gridPhaseMs(slot, NOW)) % slot, 0, range);
      assert.ok(start <= NOW - RANGE_SECONDS[range] * 1000 && start > NOW - RANGE_SECONDS[range] * 1000 - slot, range);
    }
    const midnight = new Date(NOW);
    midnight.setHours(0, 0, 0, 0);
    assert.equal(Math.abs(rangeStartMs('30d', NOW) - midnight.getTime()) % 86_400_000, 0);
  });

  it('answers are sorted back by their tags: pieces by source and piece, the fresh part, the gauges; a NaN is left out', () => {
    const tag = (figure: string, part: string, labels: Record<string, string>, value: number | null) => ({
      labels: { [FIGURE_LABEL]: figure, [PART_LABEL]: part, ...labels },
      time: NOW / 1000,
      value,
    });
    const a = answersOf([
      tag(COST, pieceKey(1, 2), { model: 'm' }, 1.5),
      tag(COST, pieceKey(1, 2), { model: 'n' }, 2),
      tag(COST, 'fresh', { model: 'm' }, 0.25),
      tag('plan', 'usage', { window: 'five_hour' }, 42),
      tag('planLimit', 'minutes', { window: 'five_hour' }, 35),
      tag(COST, pieceKey(2, 3), { model: 'm' }, null),
      { labels: { model: 'untagged' }, time: 0, value: 1 },
    ]);
    assert.deepEqual(a.pieces.get(COST)?.get(pieceKey(1, 2)), [
      { labels: { model: 'm' }, value: 1.5 },
      { labels: { model: 'n' }, value: 2 },
    ]);
    assert.equal(a.pieces.get(COST)?.get(pieceKey(2, 3)), undefined);
    assert.deepEqual(a.fresh.get(COST), [{ labels: { model: 'm' }, value: 0.25 }]);
    assert.deepEqual(a.plan, { usage: [{ labels: { window: 'five_hour' }, value: 42 }] });
    assert.deepEqual(a.planLimit, { minutes: [{ labels: { window: 'five_hour' }, value: 35 }] });
  });

  it("a range query's answer fills every slot of its span for each source, a slot without a point a known zero", () => {
    const tokens: SourceName = sourceName(FIGURES.tokensByType);
    const q = {
      slotMs: 60,
      firstEnd: 120,
      lastEnd: 240,
      batches: [[{ figure: COST, expr: '' }], [{ figure: tokens, expr: '' }]],
    };
    const slots = closedSlots(q, [
      {
        labels: { [FIGURE_LABEL]: COST, model: 'm' },
        points: [
          [0.12, 1],
          [0.24, 3],
        ],
      },
    ]);
    assert.equal(slots.length, 3 * 2);
    assert.deepEqual(
      slots.filter((s) => s.source === COST).map((s) => [s.a, s.b, s.samples]),
      [
        [60, 120, [{ labels: { model: 'm' }, value: 1 }]],
        [120, 180, []],
        [180, 240, [{ labels: { model: 'm' }, value: 3 }]],
      ],
    );
    assert.ok(slots.filter((s) => s.source === tokens).every((s) => s.samples.length === 0));
  });
});
