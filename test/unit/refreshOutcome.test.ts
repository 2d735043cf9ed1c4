// What a refresh shows, without VS Code: the status bar after a refresh or a failure, the sidebar's view of a
// snapshot, and the notifications due.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { when } from '../../src/format';
import type { Snapshot, StackAlert, TodaySummary } from '../../src/snapshot';
import type { StackPhase } from '../../src/stack';
import {
  budgetNotice,
  planNotices,
  sidebarView,
  statusAfterFailure,
  statusAfterRefresh,
  type StatusContext,
} from '../../src/views/refreshOutcome';

const today: TodaySummary = {
  dayStartMs: new Date(2026, 10, 23).getTime(),
  fetchedAt: new Date(2026, 10, 23, 12).getTime(),
  costUsd: 3.42,
  byModel: [],
  tokens: { input: 0, output: 0, cacheRead: 0, cacheCreation: 0, other: 0, total: 0 },
  cacheHitRate: null,
  burnRatePerHour: 0,
  projectedDayUsd: 3.42,
  hasData: true,
};
const idle: TodaySummary = { ...today, costUsd: 0, hasData: false };
const healthy: StackPhase = {
  state: 'healthy',
  services: [],
  message: 'Telemetry stack healthy',
} as unknown as StackPhase;
const degraded = {
  state: 'degraded',
  services: ['loki'],
  message: 'Telemetry stack degraded: loki exited',
} as unknown as StackPhase;
const context: StatusContext = {
  local: true,
  stack: healthy,
  storageProblem: undefined,
  dailyBudgetUsd: 0,
  planWarningPercent: 80,
  alerts: [],
};
const alert: StackAlert = {
  name: 'HighHourlyCost',
  state: 'firing',
  severity: 'warning',
  labels: {},
  summary: 'over $10',
  description: 'Spent $12.00 in the last hour.',
  activeAtMs: 0,
};

describe('the status bar after a refresh', () => {
  it('shows the cost, with the settings and the alerts', () => {
    assert.deepEqual(statusAfterRefresh(today, true, { ...context, dailyBudgetUsd: 5, alerts: [alert] }), {
      kind: 'cost',
      today,
      dailyBudgetUsd: 5,
      planWarningPercent: 80,
      alerts: [alert],
    });
  });

  it('an idle day after earlier sessions is $0.00; a stack that never saw one asks to run claude', () => {
    assert.equal(statusAfterRefresh(idle, true, context).kind, 'cost');
    assert.deepEqual(statusAfterRefresh(idle, false, context), { kind: 'noData' });
  });

  it('what the local stack says is wrong comes first: a degraded service, then a Prometheus that stores nothing', () => {
    assert.deepEqual(statusAfterRefresh(today, true, { ...context, stack: degraded, storageProblem: 'full' }), {
      kind: 'degraded',
      service: 'loki',
      detail: 'Telemetry stack degraded: loki exited',
    });
    assert.deepEqual(statusAfterRefresh(today, true, { ...context, storageProblem: 'its volume is full' }), {
      kind: 'degraded',
      service: 'prometheus',
      detail: 'its volume is full',
    });
    // A team's backend: the local stack's state says nothing of it.
    assert.equal(
      statusAfterRefresh(today, true, { ...context, local: false, stack: degraded, storageProblem: 'x' }).kind,
      'cost',
    );
  });
});

describe('the status bar after a failed refresh', () => {
  const failure = (kind: string): Error =>
    Object.assign(new Error(`Prometheus at http://127.0.0.1:9090 said ${kind}`), { kind, backend: 'Prometheus' });

  it('a backend that answered wrongly, or not at all', () => {
    for (const kind of ['http', 'malformed', 'auth', 'rules'])
      assert.equal(statusAfterFailure(failure(kind), false, healthy).status.kind, 'badAnswer', kind);
    const unreachable = statusAfterFailure(failure('network'), false, healthy);
    assert.deepEqual(unreachable.status, {
      kind: 'unreachable',
      backend: 'Prometheus',
      message: 'Prometheus at http://127.0.0.1:9090 said network',
    });
    assert.equal(statusAfterFailure('boom', false, healthy).status.kind, 'unreachable');
  });

  it("the local stack's engine down or denied, or a service of it down, names that instead", () => {
    const down = statusAfterFailure(failure('network'), true, {
      state: 'unknown',
      problem: { code: 'engine-down', message: 'Docker is not running.' },
    } as unknown as StackPhase);
    assert.deepEqual(down.status, { kind: 'engineDown', denied: false, detail: 'Docker is not running.' });
    assert.match(down.message, /does not answer, so the telemetry stack cannot run/);
    const denied = statusAfterFailure(failure('network'), true, {
      state: 'unknown',
      problem: { code: 'permission-denied', message: 'EACCES' },
    } as unknown as StackPhase);
    assert.deepEqual(denied.status, { kind: 'engineDown', denied: true, detail: 'EACCES' });
    assert.deepEqual(statusAfterFailure(failure('network'), true, degraded).status, {
      kind: 'degraded',
      service: 'loki',
      detail: 'Telemetry stack degraded: loki exited',
    });
    // Not asked yet (the window opening): no word about the engine.
    assert.equal(statusAfterFailure(failure('network'), true, { state: 'unknown' }).status.kind, 'unreachable');
  });
});

describe("the sidebar's view of a snapshot", () => {
  const snapshot = (over: Partial<Snapshot>): Snapshot => ({
    range: '24h',
    startMs: 0,
    endMs: 1,
    stepSeconds: 3600,
    fetchedAt: 1,
    metrics: null,
    events: null,
    errors: {},
    hasData: false,
    ...over,
  });
  const metrics = {} as NonNullable<Snapshot['metrics']>;
  const storage: StackAlert = {
    ...alert,
    name: 'PrometheusStoresNothing',
    description: 'Prometheus has stored no new data since 6:54 PM.',
  };

  it('no backend answered: the error of the first that failed', () => {
    assert.deepEqual(
      sidebarView(
        snapshot({ errors: { loki: { kind: 'network', message: 'Loki down' } as never } }),
        '24h',
        undefined,
        undefined,
      ),
      { kind: 'error', message: 'Loki down' },
    );
  });

  it('nothing in the range: no data, or why nothing is stored', () => {
    assert.deepEqual(sidebarView(snapshot({ metrics }), '24h', undefined, undefined), { kind: 'noData', range: '24h' });
    assert.deepEqual(sidebarView(snapshot({ metrics }), '24h', storage, undefined), {
      kind: 'error',
      message: 'Prometheus has stored no new data since 6:54 PM.',
    });
  });

  it('data: with the alerts, a storage problem listed first', () => {
    const data = snapshot({ metrics, hasData: true });
    assert.deepEqual(sidebarView(data, '24h', undefined, undefined), { kind: 'data', snapshot: data });
    assert.deepEqual(sidebarView(data, '24h', storage, [alert]), {
      kind: 'data',
      snapshot: { ...data, alerts: [storage, alert] },
    });
  });
});

describe('notifications due', () => {
  const resets = new Date(2026, 10, 23, 15).getTime();
  const planned: TodaySummary = {
    ...today,
    plan: {
      fiveHour: { usedPercent: 84.4, resetsAtMs: resets },
      sevenDay: { usedPercent: 30, resetsAtMs: null },
    } as TodaySummary['plan'],
  };

  it('a plan window past the warning, once per threshold and reset', () => {
    const [notice, ...more] = planNotices(planned, 80, () => undefined);
    assert.deepEqual(more, []);
    assert.equal(notice.key, 'fiveHour');
    assert.equal(
      notice.message,
      `Claude Code has used 84% of your plan's 5-hour limit, past your 80% warning. It resets at ${when(resets)}.`,
    );
    assert.deepEqual(
      planNotices(planned, 80, () => notice.mark),
      [],
    );
    assert.equal(planNotices(planned, 70, () => notice.mark).length, 1, 'a new threshold notifies again');
    assert.deepEqual(
      planNotices(planned, 90, () => undefined),
      [],
    );
  });

  it('the budget, once a day', () => {
    const noon = new Date(2026, 10, 23, 12).getTime();
    const notice = budgetNotice(3.42, 3, noon, undefined);
    assert.equal(notice?.message, 'Claude Code has cost $3.42 today, past your daily budget of $3.00.');
    assert.equal(budgetNotice(3.42, 3, noon, notice?.mark), undefined);
    assert.ok(budgetNotice(3.42, 3, noon + 86_400_000, notice?.mark), 'the next day again');
    assert.equal(budgetNotice(3.42, 0, noon, undefined), undefined, 'no budget set');
    assert.equal(budgetNotice(2.99, 3, noon, undefined), undefined);
  });
});
