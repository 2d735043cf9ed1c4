import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TodaySummary } from '../../src/snapshot';
import { statusBarLook } from '../../src/views/statusBarModel';

const commands = { start: 'x.start', dashboard: 'x.dashboard', grafana: 'x.grafana', logs: 'x.logs' };

const today: TodaySummary = {
  dayStartMs: new Date(2026, 10, 23).getTime(),
  fetchedAt: new Date(2026, 10, 23, 12, 0, 0).getTime(),
  costUsd: 3.4217,
  byModel: [{ model: 'claude-sonnet-4-5', usd: 3.0017 }, { model: 'claude-haiku-4-5', usd: 0.42 }],
  tokens: { input: 1200, output: 34000, cacheRead: 2_500_000, cacheCreation: 0, other: 0, total: 2_535_200 },
  cacheHitRate: 0.93,
  burnRatePerHour: 0.51,
  projectedDayUsd: 7.9,
  hasData: true,
};

describe('status bar', () => {
  it('shows today’s cost with a tooltip of tokens, cost by model, cache, burn rate and projection', () => {
    const look = statusBarLook({ kind: 'cost', today, dailyBudgetUsd: 0 }, commands);
    assert.equal(look.text, '$(pulse) $3.42');
    assert.equal(look.background, 'none');
    assert.equal(look.command, 'x.dashboard');
    for (const part of ['| cacheRead | 2.5M |', 'Cache hit rate: 93%', 'Burn rate: $0.51/h', 'projected today: $7.90', '| claude\\-sonnet\\-4\\-5 | $3.00 |', '| claude\\-haiku\\-4\\-5 | $0.42 |', '(command:x.grafana)']) {
      assert.ok(look.tooltip.includes(part), `tooltip lacks ${part}:\n${look.tooltip}`);
    }
  });

  it('turns to the warning colour at the daily budget', () => {
    assert.equal(statusBarLook({ kind: 'cost', today, dailyBudgetUsd: 5 }, commands).background, 'none');
    const over = statusBarLook({ kind: 'cost', today, dailyBudgetUsd: 3 }, commands);
    assert.equal(over.background, 'warning');
    assert.match(over.tooltip, /of \$3\.00 budget/);
  });

  it('offers to start the stack when it is stopped', () => {
    const look = statusBarLook({ kind: 'stopped' }, commands);
    assert.equal(look.command, 'x.start');
    assert.match(look.tooltip, /\[Start Telemetry Stack\]\(command:x\.start\)/);
  });

  it('tells apart unreachable, degraded and no data', () => {
    const unreachable = statusBarLook({ kind: 'unreachable', message: 'Prometheus at http://127.0.0.1:9090 is unreachable' }, commands);
    assert.equal(unreachable.background, 'error');
    const degraded = statusBarLook({ kind: 'degraded', service: 'loki', detail: 'unhealthy' }, commands);
    assert.match(degraded.text, /loki/);
    const noData = statusBarLook({ kind: 'noData' }, commands);
    assert.match(noData.tooltip, /run `claude`/);
  });

  it('escapes telemetry text that Markdown would read as a link or HTML', () => {
    const look = statusBarLook({ kind: 'cost', today: { ...today, byModel: [{ model: '[x](command:evil) <img src=x>', usd: 1 }] }, dailyBudgetUsd: 0 }, commands);
    assert.ok(!look.tooltip.includes('[x](command:evil)'));
    assert.ok(!look.tooltip.includes('<img'));
  });
});
