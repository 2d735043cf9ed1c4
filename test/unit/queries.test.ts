// Every query of the catalog parses (PromQL / LogQL grammars), reads only the counters' rules (or, for the fresh
// part, their raw series at two instants), and follows docs/architecture.md (no `| json`, no increase(), only
// service_name in the Loki selector); windows are cut into slots without a gap or an overlap; the rules file is the
// one the counter table generates.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  assertLogQL,
  assertPromQL,
  logqlParserStages,
  logqlSelectorLabels,
  promqlMetricNames,
} from '../support/queryGrammar';
import { COUNTERS, recordingRulesFile } from '../../src/telemetry/counters';
import {
  FIGURES,
  catalogExamples,
  deriveFigure,
  dur,
  figureOf,
  quote,
  sourceName,
  sourceOf,
} from '../../src/telemetry/queries';
import { PieceCache, addUp, cutWindow } from '../../src/telemetry/slots';
import { repoRoot } from '../support/paths';
import { join } from 'node:path';

const RULE_NAMES = new Set<string>(Object.values(COUNTERS).map((c) => c.rule));
const RAW_NAMES = new Set<string>(Object.values(COUNTERS).map((c) => c.metric));
const HELPER_NAMES = new Set<string>(Object.values(COUNTERS).map((c) => c.lastValue));

describe('query catalog', () => {
  const all = catalogExamples();

  it('has every kind of query, and a window, slot and fresh query for every figure', () => {
    assert.ok(all.some((q) => q.backend === 'prometheus' && q.kind === 'instant'));
    assert.ok(all.some((q) => q.backend === 'prometheus' && q.kind === 'range'));
    assert.ok(all.some((q) => q.backend === 'loki' && q.kind === 'logs'));
    for (const name of Object.keys(FIGURES)) {
      for (const kind of ['figureWindow', 'figureSlots', 'figureFresh'])
        assert.ok(
          all.some((q) => q.name === `${kind}.${name}`),
          `${kind}.${name}`,
        );
    }
  });

  for (const q of all) {
    it(`${q.name} parses: ${q.expr.slice(0, 80)}…`, () => {
      if (q.backend === 'prometheus') {
        assertPromQL(q.expr);
        const names = promqlMetricNames(q.expr);
        assert.ok(names.length > 0, `${q.name} selects nothing`);
        // Figures read the rules; only the fresh part reads raw series (now, never over a window) and the helpers, and
        // the sessions that changed lately the raw cost over a short window.
        const allowed = q.name.startsWith('figureFresh.')
          ? new Set([...RAW_NAMES, ...HELPER_NAMES])
          : q.name === 'sessionsChanged'
            ? new Set([COUNTERS.cost.metric])
            : RULE_NAMES;
        for (const n of names) assert.ok(allowed.has(n), `${q.name} reads ${n}`);
        assert.doesNotMatch(q.expr, /\b(increase|rate|irate)\(/, 'increase()/rate() miss first values and extrapolate');
      } else {
        assertLogQL(q.expr);
        assert.deepEqual(logqlSelectorLabels(q.expr), ['service_name']);
        assert.ok(!logqlParserStages(q.expr).includes('json'), 'never | json');
      }
    });
  }

  it("a figure groups by its own labels over its counter's rule, with its matchers", () => {
    const q = all.find((x) => x.name === 'figureWindow.sessionToolFailures')!.expr;
    assert.match(
      q,
      /^sum by \(session_id\) \(sum_over_time\(claude_code:tool_results:increase10s\{success="false"\}\[1234567ms\] @ \d+\.\d{3}\)\)$/,
    );
    assert.match(
      all.find((x) => x.name === 'figureWindow.sessions')!.expr,
      /^sum \(sum_over_time\(claude_code:sessions:increase10s\[/,
    );
  });

  it('durations and escaping', () => {
    assert.equal(dur(3600), '3600s');
    assert.equal(dur(0.2), '1s');
    assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
  });
});

describe('one source query per counter', () => {
  it('groups by every label its figures group by or match on, and each figure is derived from it exactly', () => {
    const figures = [FIGURES.toolResultsByTool, FIGURES.sessionToolFailures];
    const source = sourceOf(figures);
    assert.deepEqual(source, { counter: 'toolResults', by: ['session_id', 'success', 'tool_name'] });
    const samples = [
      { labels: { session_id: 'a', success: 'false', tool_name: 'Bash' }, value: 2 },
      { labels: { session_id: 'a', success: 'true', tool_name: 'Bash' }, value: 5 },
      { labels: { session_id: 'b', success: 'false', tool_name: 'Read' }, value: 1 },
    ];
    assert.deepEqual(deriveFigure(FIGURES.sessionToolFailures, samples), [
      { labels: { session_id: 'a' }, value: 2 },
      { labels: { session_id: 'b' }, value: 1 },
    ]);
    assert.deepEqual(deriveFigure(FIGURES.toolResultsByTool, samples), [
      { labels: { tool_name: 'Bash', success: 'false' }, value: 2 },
      { labels: { tool_name: 'Bash', success: 'true' }, value: 5 },
      { labels: { tool_name: 'Read', success: 'false' }, value: 1 },
    ]);
    // A point without the label is summed apart and keeps no such label, as `sum by` does.
    assert.deepEqual(
      deriveFigure(figureOf('costBy:vscode_workspace_name'), [
        { labels: { model: 'm', vscode_workspace_name: 'web' }, value: 1 },
        { labels: { model: 'm' }, value: 2 },
        { labels: { model: 'n' }, value: 3 },
      ]),
      [
        { labels: { vscode_workspace_name: 'web' }, value: 1 },
        { labels: {}, value: 5 },
      ],
    );
    assert.throws(() => sourceOf([FIGURES.costByModel, FIGURES.tokensByType]), /one counter/);
  });
});

describe('the rules file', () => {
  it('is what src/telemetry/counters.ts generates (run `npm run rules` after changing the table)', () => {
    assert.equal(
      readFileSync(join(repoRoot, 'stack', 'prometheus', 'rules', 'recording.yml'), 'utf8'),
      recordingRulesFile(),
    );
  });

  it('has one increase rule and one helper per counter, and nothing else', () => {
    const records = [...recordingRulesFile().matchAll(/- record: (\S+)/g)].map((m) => m[1]);
    assert.deepEqual(
      records,
      Object.values(COUNTERS).flatMap((c) => [c.lastValue, c.rule]),
    );
    assert.equal(new Set(records).size, records.length);
  });
});

describe('cutting a window into slots', () => {
  const H = 3_600_000;

  it('whole slots by their end, a head and an open tail, nothing twice', () => {
    assert.deepEqual(cutWindow(10 * H + 5, 13 * H + 7, H), {
      slotEnds: [12 * H, 13 * H],
      edges: [
        [10 * H + 5, 11 * H],
        [13 * H, 13 * H + 7],
      ],
    });
    // Starting on a slot edge: no head. Ending on one: no tail.
    assert.deepEqual(cutWindow(10 * H, 12 * H, H), { slotEnds: [11 * H, 12 * H], edges: [] });
    // Inside one slot: one piece.
    assert.deepEqual(cutWindow(10 * H + 5, 10 * H + 9, H), { slotEnds: [], edges: [[10 * H + 5, 10 * H + 9]] });
    // Across one edge only.
    assert.deepEqual(cutWindow(10 * H + 5, 11 * H + 9, H), {
      slotEnds: [],
      edges: [
        [10 * H + 5, 11 * H],
        [11 * H, 11 * H + 9],
      ],
    });
    assert.deepEqual(cutWindow(5, 5, H), { slotEnds: [], edges: [] });
  });

  it('the pieces tile the window exactly, for any window', () => {
    for (let i = 0; i < 500; i++) {
      const from = Math.floor(Math.random() * 100 * H);
      const to = from + Math.floor(Math.random() * 30 * H);
      const slot = [60_000, H][i % 2]!;
      const { slotEnds, edges } = cutWindow(from, to, slot);
      const pieces = [...slotEnds.map((e) => [e - slot, e] as [number, number]), ...edges].sort((a, b) => a[0] - b[0]);
      let cursor = from;
      for (const [a, b] of pieces) {
        assert.equal(a, cursor, `(${from}, ${to}] on ${slot}`);
        assert.ok(b > a && Math.floor((b - 1) / slot) === Math.floor(a / slot), 'each piece within one slot');
        cursor = b;
      }
      assert.equal(cursor, to === from ? from : to);
    }
  });
});

describe('the piece cache', () => {
  it('holds each source of a piece, keeps known zeros, forgets old pieces', () => {
    const cache = new PieceCache();
    const cost = sourceName(FIGURES.costByModel);
    cache.put(60, 120, cost, [{ labels: { model: 'a' }, value: 1 }]);
    cache.put(120, 180, cost, []);
    assert.deepEqual(cache.get(60, 120, cost), [{ labels: { model: 'a' }, value: 1 }]);
    assert.deepEqual(cache.get(120, 180, cost), []);
    assert.equal(cache.has(120, 180, cost), true, 'a known zero is held');
    assert.equal(
      cache.get(120, 180, sourceName(FIGURES.tokensByType)),
      undefined,
      'another source of the piece is not held',
    );
    assert.equal(cache.get(0, 120, cost), undefined, 'another piece ending at the same time is not this one');
    cache.prune(150);
    assert.equal(cache.get(60, 120, cost), undefined);
    assert.equal(cache.size, 1);
  });

  it('adds samples up by label set', () => {
    const total = addUp([
      [
        { labels: { model: 'a' }, value: 1 },
        { labels: { model: 'b' }, value: 2 },
      ],
      [{ labels: { model: 'a' }, value: 0.5 }],
    ]);
    assert.deepEqual(total, [
      { labels: { model: 'a' }, value: 1.5 },
      { labels: { model: 'b' }, value: 2 },
    ]);
  });
});
