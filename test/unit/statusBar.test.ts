import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { when } from '../../src/format';
import type { TodaySummary } from '../../src/snapshot';
import { statusBarLook } from '../../src/views/statusBarModel';

const commands = { start: 'x.start', dashboard: 'x.dashboard', grafana: 'x.grafana', logs: 'x.logs' };

const today: TodaySummary = {
  dayStartMs: new Date(2026, 10, 23).getTime(),
  fetchedAt: new Date(2026, 10, 23, 12, 0, 0).getTime(),
  costUsd: 3.4217,
  byModel: [
    { model: 'claude-sonnet-4-5', usd: 3.0017 },
    { model: 'claude-haiku-4-5', usd: 0.42 },
  ],
  tokens: { input: 1200, output: 34000, cacheRead: 2_500_000, cacheCreation: 0, other: 0, total: 2_535_200 },
  cacheHitRate: 0.93,
  burnRatePerHour: 0.51,
  projectedDayUsd: 7.9,
  hasData: true,
};

describe('status bar', () => {
  it('shows today’s cost with a tooltip of tokens, cost by model, cache, burn rate and projection', () => {
    const look = statusBarLook(
      { kind: 'cost', today, dailyBudgetUsd: 0, planWarningPercent: 80, alerts: [] },
      commands,
    );
    assert.equal(look.text, '$(pulse) $3.42');
    assert.equal(look.background, 'none');
    assert.equal(look.command, 'x.dashboard');
    for (const part of [
      '| input | 1.2k |',
      '| output | 34.0k |',
      '| cacheRead | 2.5M |',
      'Cache hit rate: 93%',
      'Burn rate: $0.51/h',
      'projected today: $7.90',
      '| claude\\-sonnet\\-4\\-5 | $3.00 |',
      '| claude\\-haiku\\-4\\-5 | $0.42 |',
      '(command:x.grafana)',
    ]) {
      assert.ok(look.tooltip.includes(part), `tooltip lacks ${part}:\n${look.tooltip}`);
    }
  });

  it("in a team's store: the developer's own cost, the team's in the tooltip; the budget is the developer's", () => {
    const team = { ...today, costUsd: 41.5, developer: { name: 'alice@example.com', costUsd: 3.4217 } };
    const look = statusBarLook(
      { kind: 'cost', today: team, dailyBudgetUsd: 5, planWarningPercent: 80, alerts: [] },
      commands,
    );
    assert.equal(look.text, '$(pulse) $3.42');
    assert.equal(look.background, 'none', "the team's $41.50 is not this developer's budget");
    assert.ok(look.tooltip.includes('Today, you (alice@example\\.com): **$3.42** of $5.00 budget'), look.tooltip);
    assert.ok(look.tooltip.includes('The team: **$41.50**'), look.tooltip);
    assert.ok(look.tooltip.includes('| Model | Team today |'), look.tooltip);
  });

  it('turns to the warning colour at the daily budget', () => {
    assert.equal(
      statusBarLook({ kind: 'cost', today, dailyBudgetUsd: 5, planWarningPercent: 80, alerts: [] }, commands)
        .background,
      'none',
    );
    const over = statusBarLook(
      { kind: 'cost', today, dailyBudgetUsd: 3, planWarningPercent: 80, alerts: [] },
      commands,
    );
    assert.equal(over.background, 'warning');
    assert.match(over.tooltip, /of \$3\.00 budget/);
  });

  it("shows the plan's 5-hour usage beside the cost; the tooltip gives both windows, their resets, the pace and the context window", () => {
    const resets = new Date(2026, 10, 23, 15, 0).getTime();
    const plan = {
      fiveHour: { usedPercent: 42.4, resetsAtMs: resets, limitAtMs: new Date(2026, 10, 23, 14, 20).getTime() },
      sevenDay: { usedPercent: 17, resetsAtMs: new Date(2026, 10, 27, 9, 0).getTime(), limitAtMs: null },
      contextWindows: [
        { sessionId: '631fe02f-77fd-4613-8db1-70ec003c74d0', model: 'claude-opus-4-5', usedPercent: 37 },
      ],
    };
    const look = statusBarLook(
      { kind: 'cost', today: { ...today, plan }, dailyBudgetUsd: 0, planWarningPercent: 80, alerts: [] },
      commands,
    );
    assert.equal(look.text, '$(pulse) $3.42 · 5h 42%');
    assert.equal(look.background, 'none');
    // As the sidebar's Plan section reads them (the same lines), once Markdown is rendered.
    const tooltip = look.tooltip.replace(/\\(.)/g, '$1');
    const at = (d: number, h: number, m: number): string => when(new Date(2026, 10, d, h, m).getTime());
    for (const part of [
      `Plan 5-hour usage: **42%**, resets ${at(23, 15, 0)} · limit at this pace ${at(23, 14, 20)}`,
      `Plan 7-day usage: **17%**, resets ${at(27, 9, 0)}`,
      'Context window: **37%**, session 631fe02f · claude-opus-4-5',
    ])
      assert.ok(tooltip.includes(part), `tooltip lacks ${part}:\n${look.tooltip}`);
    assert.ok(look.tooltip.includes('claude\\-opus\\-4\\-5'), 'the model is telemetry text: escaped');
    // Below 10 %, one decimal, as everywhere.
    assert.equal(
      statusBarLook(
        {
          kind: 'cost',
          today: { ...today, plan: { ...plan, fiveHour: { ...plan.fiveHour, usedPercent: 4.4 } } },
          dailyBudgetUsd: 0,
          planWarningPercent: 80,
          alerts: [],
        },
        commands,
      ).text,
      '$(pulse) $3.42 · 5h 4.4%',
    );
    // Past the warning threshold in either window: the warning colour.
    const high = { ...plan, sevenDay: { ...plan.sevenDay, usedPercent: 85 } };
    assert.equal(
      statusBarLook(
        { kind: 'cost', today: { ...today, plan: high }, dailyBudgetUsd: 0, planWarningPercent: 80, alerts: [] },
        commands,
      ).background,
      'warning',
    );
    // No plan usage (an API-key user, or no bridge): the cost alone.
    assert.equal(
      statusBarLook({ kind: 'cost', today, dailyBudgetUsd: 0, planWarningPercent: 80, alerts: [] }, commands).text,
      '$(pulse) $3.42',
    );
  });

  it('a firing alert: the bell, the warning colour, and each alert in the tooltip as text', () => {
    const alert = {
      name: 'HighHourlyCost',
      state: 'firing' as const,
      severity: 'warning',
      labels: {},
      summary: 'Claude Code cost over the last hour exceeds $10.00',
      description: 'Spent $12.00 in the last hour.',
      activeAtMs: null,
    };
    const look = statusBarLook(
      {
        kind: 'cost',
        today,
        dailyBudgetUsd: 0,
        planWarningPercent: 80,
        alerts: [alert, { ...alert, summary: '[x](command:evil)' }],
      },
      commands,
    );
    assert.equal(look.text, '$(bell) $3.42');
    assert.equal(look.background, 'warning');
    assert.ok(look.tooltip.includes('**Alerts firing** (2):'), look.tooltip);
    assert.ok(look.tooltip.includes('$(bell) Claude Code cost over the last hour exceeds $10\\.00'), look.tooltip);
    assert.ok(look.tooltip.includes('\\[x\\]\\(command:evil\\)'), "an alert's text is never a link");
  });

  it('offers to start the stack when it is stopped', () => {
    const look = statusBarLook({ kind: 'stopped' }, commands);
    assert.equal(look.command, 'x.start');
    assert.match(look.tooltip, /\[Start Telemetry Stack\]\(command:x\.start\)/);
  });

  it('tells apart the engine down, a service down, no answer, a wrong answer and no data, naming the part', () => {
    const unreachable = statusBarLook(
      { kind: 'unreachable', backend: 'Prometheus', message: 'Prometheus at http://127.0.0.1:9090 is unreachable' },
      commands,
    );
    assert.equal(unreachable.text, '$(debug-disconnect) Prometheus unreachable');
    assert.equal(unreachable.background, 'error');
    const wrong = statusBarLook(
      { kind: 'badAnswer', backend: 'Prometheus', message: 'it answered an HTML page (HTTP 200)' },
      commands,
    );
    assert.equal(wrong.text, '$(warning) Prometheus: bad answer');
    assert.match(wrong.tooltip, /Prometheus answered, but not as it should: it answered an HTML page/);
    const engine = statusBarLook({ kind: 'engineDown', denied: false, detail: undefined }, commands);
    assert.equal(engine.text, '$(debug-disconnect) Container engine down');
    assert.match(engine.tooltip, /does not answer, so the telemetry stack cannot run\. Start the engine/);
    assert.doesNotMatch(engine.tooltip, /Prometheus/);
    // An engine that runs but refuses this user is not "down": what it said, not "start the engine".
    const denied = statusBarLook(
      {
        kind: 'engineDown',
        denied: true,
        detail:
          'Permission denied on the Docker socket unix:///var/run/docker.sock (EACCES). On Linux, add your user to the `docker` group',
      },
      commands,
    );
    assert.equal(denied.text, '$(lock) Container engine: permission denied');
    // As it reads once Markdown is rendered (the telemetry text is escaped).
    assert.match(
      denied.tooltip.replace(/\\(.)/g, '$1'),
      /Permission denied on the Docker socket unix:\/\/\/var\/run\/docker\.sock \(EACCES\)\. On Linux, add your user to the `docker` group/,
    );
    assert.doesNotMatch(denied.tooltip, /does not answer|Start the engine/);
    const degraded = statusBarLook({ kind: 'degraded', service: 'loki', detail: 'unhealthy' }, commands);
    assert.match(degraded.text, /loki/);
    const noData = statusBarLook({ kind: 'noData' }, commands);
    assert.equal(noData.text, '$(pulse) $0.00');
    assert.match(noData.tooltip, /run `claude`/);
  });

  it('escapes telemetry text that Markdown would read as a link or HTML', () => {
    const look = statusBarLook(
      {
        kind: 'cost',
        today: { ...today, byModel: [{ model: '[x](command:evil) <img src=x>', usd: 1 }] },
        dailyBudgetUsd: 0,
        planWarningPercent: 80,
        alerts: [],
      },
      commands,
    );
    assert.ok(!look.tooltip.includes('[x](command:evil)'));
    assert.ok(!look.tooltip.includes('<img'));
  });
});
