// The team stack (stack/team) on loopback: developers' real Claude Code CLIs report through the collector gateway,
// each with the token that names them, into a real three-node Cortex, whose ruler runs the stack's rules per tenant.
// What each developer spent is theirs whatever the client claims; a node down loses no write and no read.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CheckResult } from '../../src/doctor/checks';
import { runPipelineDoctor } from '../../src/doctor/pipelineDoctor';
import type { TeamHop } from '../../src/doctor/teamGatewayCheck';
import { LokiClient } from '../../src/telemetry/loki';
import { PrometheusClient } from '../../src/telemetry/prometheus';
import { TelemetryReader } from '../../src/telemetry/reader';
import { startTeamStack, TEAM_TENANT, type TeamStack } from '../support/teamStack';
import { waitFor } from '../support/wait';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

describe('the team stack: gateway, three Cortex nodes, the stack rules per tenant', { timeout: 10 * 60_000 }, () => {
  let team: TeamStack;
  let store: PrometheusClient;
  /** What each developer's CLI runs said they spent (`total_cost_usd`). */
  const spent = new Map<string, number>();

  before(async () => {
    team = await startTeamStack([ALICE, BOB]);
    store = new PrometheusClient({
      baseUrl: `${team.nodes[1]!.url}/prometheus`,
      headers: { 'X-Scope-OrgID': TEAM_TENANT },
    });
  });
  after(async () => {
    await store?.close();
    await team?.stop();
  });

  /** One `claude -p` of `developer` through the gateway; `environment` as the developer's own adds. */
  const report = async (developer: string, environment: Record<string, string> = {}): Promise<void> => {
    const usd = await team.runClaude(developer, { environment });
    spent.set(developer, (spent.get(developer) ?? 0) + usd);
  };

  /** Each developer's cost in the store, by the label the gateway stamps. */
  const costs = async (query: string): Promise<Map<string, number>> =>
    new Map((await store.instant(query, Date.now() / 1000)).map((s) => [s.labels['user_email'] ?? '', s.value ?? NaN]));
  const agrees = (got: Map<string, number>): boolean =>
    got.size === spent.size && [...spent].every(([who, usd]) => Math.abs((got.get(who) ?? NaN) - usd) < 1e-9);

  it('refuses a request without a token, or with one it does not list (401)', async () => {
    for (const authorization of [undefined, 'Bearer mallory@example.com.0123456789abcdef']) {
      const res = await fetch(`${team.gateway.url}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ resourceMetrics: [] }),
      });
      assert.equal(res.status, 401, `${authorization ?? 'no token'}: ${await res.text()}`);
    }
  });

  it("two developers' real CLI runs: each one's cost and events under their own name, whatever the client's resource says", async () => {
    await team.loadRules();
    await report(ALICE, { OTEL_RESOURCE_ATTRIBUTES: `user.email=${BOB}` });
    await report(BOB);
    const got = await waitFor(
      "each developer's cost in the store",
      async () => {
        const c = await costs('sum by (user_email) (claude_code_cost_usage_USD_total)');
        return agrees(c) ? c : undefined;
      },
      60_000,
    );
    assert.deepEqual([...got.keys()].sort(), [ALICE, BOB]);
    // Their events in Loki carry the same identity: each developer's api_request events add up to their cost.
    const loki = new LokiClient({ baseUrl: `http://127.0.0.1:${team.loki.port}` });
    try {
      for (const [who, usd] of spent) {
        const events = await waitFor(`${who}'s events in Loki`, async () => {
          const e = await loki.queryLogs(
            `{service_name="claude-code"} | event_name="api_request" | user_email="${who}"`,
            {
              startMs: Date.now() - 600_000,
              endMs: Date.now(),
              limit: 100,
            },
          );
          return e.length > 0 ? e : undefined;
        });
        const sum = events.reduce((n, e) => n + Number(e.attributes['cost_usd']), 0);
        assert.ok(Math.abs(sum - usd) < 1e-9, `${who}: events ${sum}, CLI ${usd}`);
      }
    } finally {
      await loki.close();
    }
  });

  it("a point that names another developer is stamped with the sender's token, not its claim", async () => {
    const session = `spoof-${Date.now()}`;
    const res = await fetch(`${team.gateway.url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${team.tokenOf(ALICE)}` },
      body: JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'user.email', value: { stringValue: BOB } }] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'claude_code.session.count',
                    sum: {
                      aggregationTemporality: 2,
                      isMonotonic: true,
                      dataPoints: [
                        {
                          asDouble: 1,
                          timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                          attributes: [
                            { key: 'session.id', value: { stringValue: session } },
                            { key: 'user.email', value: { stringValue: BOB } },
                          ],
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    assert.equal(res.status, 200, await res.text());
    const [sample] = await waitFor('the point in the store', async () => {
      const r = await store.instant(`claude_code_session_count_total{session_id="${session}"}`, Date.now() / 1000);
      return r.length ? r : undefined;
    });
    assert.equal(sample!.labels['user_email'], ALICE);
  });

  it("the ruler runs the stack's rules for the tenant: their figures are each developer's, as the extension reads them", async () => {
    // What the extension reads to know the rules run: the recording group, evaluated; and the alerts API answers.
    const groups = await waitFor(
      'the recording rules evaluated',
      async () => {
        const g = await store.ruleGroups();
        return g.length > 0 && g.every((x) => x.lastEvaluationMs !== null) ? g : undefined;
      },
      60_000,
    );
    assert.deepEqual(
      groups.map((g) => g.name),
      ['claude_code_increase'],
    );
    assert.deepEqual(await store.alerts(), []);
    await waitFor(
      'the recording rules counted each developer',
      async () =>
        agrees(await costs('sum by (user_email) (sum_over_time(claude_code:cost_usd:increase10s[1h]))')) || undefined,
      90_000,
    );
  });

  it("the pipeline doctor in team mode: the token, the probe written and read back as the developer, the store's rules; each fault said with its next step", async () => {
    const doctor = async (hop: Partial<TeamHop>): Promise<Map<string, CheckResult>> => {
      const result = await runPipelineDoctor({
        openEngine: () => {
          throw new Error('team mode has no local engine to check');
        },
        endpoints: {
          otlpHttp: team.gateway.url,
          otlpGrpcPort: 0,
          prometheus: `${team.queries.url}/prometheus`,
          loki: `http://127.0.0.1:${team.loki.port}`,
        },
        roundTripTimeoutMs: 10_000,
        team: {
          gateway: team.gateway.url,
          headers: { authorization: `Bearer ${team.tokenOf(ALICE)}` },
          developer: ALICE,
          store: { baseUrl: `${team.queries.url}/prometheus`, auth: { kind: 'none' }, tenant: TEAM_TENANT },
          ...hop,
        },
      });
      return new Map(result.checks.map((c) => [c.id, c]));
    };
    const said = (c: CheckResult | undefined): string => `${c?.status}: ${c?.detail} ${c?.cause ?? ''} ${c?.fix ?? ''}`;

    const fine = await doctor({});
    for (const id of ['gateway-token', 'gateway-roundtrip', 'recording-rules'])
      assert.equal(fine.get(id)?.status, 'ok', `${id}: ${said(fine.get(id))}`);
    assert.match(fine.get('gateway-token')!.detail, /names you alice@example\.com/);

    const refused = await doctor({ headers: { authorization: 'Bearer alice@example.com.0000000000000000' } });
    assert.equal(refused.get('gateway-token')?.status, 'fail');
    assert.match(said(refused.get('gateway-token')), /refused your token \(HTTP 401\).*Set Collector Headers/);
    assert.equal(refused.get('gateway-roundtrip')?.status, 'skipped');

    const noToken = await doctor({ headers: {} });
    assert.match(said(noToken.get('gateway-token')), /^fail: .*no token.*Set Collector Headers/);

    const noTenant = await doctor({
      store: { baseUrl: `${team.queries.url}/prometheus`, auth: { kind: 'none' }, tenant: '' },
    });
    assert.match(said(noTenant.get('gateway-roundtrip')), /^fail: The team's store wants a tenant.*backend\.tenantId/);

    // Another tenant than the gateway writes: the probe is not there, and that tenant has no rules.
    const elsewhere = await doctor({
      store: { baseUrl: `${team.queries.url}/prometheus`, auth: { kind: 'none' }, tenant: 'another-team' },
    });
    assert.match(
      said(elsewhere.get('gateway-roundtrip')),
      /^fail: .*not in the team's store \(tenant "another-team"\).*TEAM_TENANT/,
    );
    assert.match(said(elsewhere.get('recording-rules')), /^fail: .*none of the recording rules.*Load/);
  });

  it("the status bar's reading in team mode: the developer's own cost today, the team's beside it", async () => {
    const now = Date.now();
    const { today } = await new TelemetryReader({ prometheus: store }).refresh(now, {
      dayStartMs: now - 3_600_000,
      developer: ALICE,
    });
    const team = [...spent.values()].reduce((a, b) => a + b, 0);
    assert.ok(today, 'today was read');
    assert.ok(Math.abs(today.costUsd - team) < 1e-9, `team: ${today.costUsd}, CLIs ${team}`);
    assert.equal(today.developer?.name, ALICE);
    assert.ok(Math.abs(today.developer.costUsd - spent.get(ALICE)!) < 1e-9, JSON.stringify(today.developer));
  });

  it('one node down: writes and reads go on, and it catches up when it is back', async () => {
    await team.nodes[2]!.process.kill();
    await report(ALICE);
    await waitFor(
      'the new run counted with a node down',
      async () => agrees(await costs('sum by (user_email) (claude_code_cost_usage_USD_total)')) || undefined,
      60_000,
    );
    await team.nodes[2]!.process.restart();
    const back = new PrometheusClient({
      baseUrl: `${team.nodes[2]!.url}/prometheus`,
      headers: { 'X-Scope-OrgID': TEAM_TENANT },
    });
    try {
      const c = new Map(
        (await back.instant('sum by (user_email) (claude_code_cost_usage_USD_total)', Date.now() / 1000)).map((s) => [
          s.labels['user_email'] ?? '',
          s.value ?? NaN,
        ]),
      );
      assert.ok(agrees(c), `the restarted node answers every developer's total: ${JSON.stringify([...c])}`);
    } finally {
      await back.close();
    }
  });
});
