// Every query of the catalog parses (PromQL / LogQL grammars), names only contract metrics and rules, and follows
// the rules of docs/architecture.md (no `| json`, no increase(), only service_name in the Loki selector).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertLogQL, assertPromQL, logqlParserStages, logqlSelectorLabels, promqlMetricNames } from '../support/queryGrammar';
import { LAST_VALUE_RULES, METRICS, RULES, SESSION_RULES, catalogExamples, chartStep, dur, bucketDur, exactAlternation, quote } from '../../src/telemetry/queries';

const ALLOWED_NAMES = new Set<string>([...Object.values(METRICS), ...Object.values(RULES), ...Object.values(SESSION_RULES), ...Object.values(LAST_VALUE_RULES)]);

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
      if (/^promInstant\.(topSessions|session[A-Z])/.test(q.name)) assert.ok(names.length > 0 && names.every((n) => sessionRules.has(n)), q.name);
      else if (q.name.startsWith('promFresh.')) assert.ok(names.some((n) => n.endsWith(':last_value')) && names.some((n) => !n.includes(':')), q.name);
      else assert.ok(names.length > 0 && names.every((n) => n.includes(':increase10s')), q.name);
    }
  });

  it('durations, steps and escaping', () => {
    assert.equal(dur(3600), '3600s');
    assert.equal(dur(0.2), '1s');
    assert.equal(bucketDur(60), '59999ms');
    assert.equal(chartStep(3600), 60);
    assert.equal(chartStep(86400), 1800);
    assert.equal(chartStep(604800), 10800);
    assert.equal(chartStep(2592000), 43200);
    assert.equal(quote('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(exactAlternation(['a.b', 'c|d']), '"a\\\\.b|c\\\\|d"');
    assertPromQL(`x{session_id=~${exactAlternation(['a.b', 'c|d', 'x"y'])}}`);
  });
});
