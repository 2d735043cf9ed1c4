// The local images on the Docker Engine: the real collector (stack/collector/config.yaml) and the real Prometheus,
// built from their Go modules, with the Loki double on a user-defined network, fed the real Claude Code telemetry
// captured in the fixtures and events crafted to meet the count connector's trap. Needs a Docker Engine
// (scripts/ci/start-dockerd.sh), Go (scripts/components.sh) and busybox-static.
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import type { KeyValue, LogRecord, LogsRequest } from '../doubles/common';
import { FIXTURES_DIR, fixtureApiRequestCost, fixtureRequests } from '../doubles/fixtures';
import {
  TestResources,
  buildTestImagesOnce,
  containerLogs,
  requireDocker,
  hostPort,
  waitHealthy,
  type TestImages,
} from '../support/docker';
import { repoRoot } from '../support/paths';
import { waitFor } from '../support/wait';

const LOKI_FIXTURES = path.join(FIXTURES_DIR, 'loki-3.4.6');
const TOOL_FAILURES_QUERY =
  'sum by (tool_name) (count_over_time({service_name="claude-code"} | event_name="tool_result" | success="false" [3h]))';
const STACK_COLLECTOR_CONFIG = fs.readFileSync(path.join(repoRoot, 'stack', 'collector', 'config.yaml'), 'utf8');

const wget = (url: string): string[] => ['CMD', 'wget', '-q', '-O', '/dev/null', url];

/** Prometheus text exposition: the sum of `name`'s samples whose labels contain every `label="value"` of `having`. */
function exposedSum(text: string, name: string, having: string[] = []): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && having.every((h) => line.includes(h)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

/** One OTLP logs request of Claude Code events (tool_result unless `event` says otherwise), at the given ms times. */
function events(session: string, records: { ms: number; event?: string; tool?: string }[]): LogsRequest {
  const logRecords: LogRecord[] = records.map(({ ms, event = 'tool_result', tool = 'Bash' }) => ({
    timeUnixNano: `${ms}000000`,
    body: { stringValue: `claude_code.${event}` },
    attributes: [
      str('event.name', event),
      str('session.id', session),
      ...(event === 'tool_result' ? [str('tool_name', tool), str('success', 'true')] : []),
    ],
  }));
  return {
    resourceLogs: [
      {
        resource: { attributes: [str('service.name', 'claude-code')] },
        scopeLogs: [{ scope: { name: 'com.anthropic.claude_code' }, logRecords }],
      },
    ],
  };
}

describe('local images (Docker)', async () => {
  const res = new TestResources();
  let images: TestImages;
  const id = crypto.randomBytes(4).toString('hex');
  const network = `cct-test-images-${id}`;
  let loki: Docker.Container;
  let lokiUrl: string;

  /** The real collector with `config`, as the stack runs it (root, for the file-storage queue), once it accepts OTLP. */
  async function startCollector(
    name: string,
    config: string,
    aliases: string[] = [],
    on = network,
  ): Promise<{ otlp: string; exporter: string; container: Docker.Container }> {
    const container = await res.run({
      image: images.collector,
      name: `cct-test-${name}-${id}`,
      network: on,
      aliases,
      user: '0:0',
      publish: [4318, 8889, 8888],
      cmd: ['--config=/etc/otelcol-contrib/config.yaml'],
      files: { '/etc/otelcol-contrib': [{ name: 'config.yaml', data: config }] },
    });
    const otlp = `http://127.0.0.1:${await hostPort(container, 4318)}`;
    const exporter = `http://127.0.0.1:${await hostPort(container, 8889)}/metrics`;
    await waitFor(`${name} accepting OTLP`, async () => {
      const answer = await fetch(`${otlp}/v1/logs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      return answer.ok ? true : undefined;
    }).catch(async (err: Error) => assert.fail(`${err.message}\n${await containerLogs(container)}`));
    return { otlp, exporter, container };
  }

  async function post(otlp: string, signal: 'logs' | 'metrics', body: string): Promise<void> {
    const answer = await fetch(`${otlp}/v1/${signal}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    assert.equal(answer.status, 200, await answer.text());
  }

  async function lokiInstant(
    query: string,
    time?: number,
  ): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const params = new URLSearchParams({ query, ...(time ? { time: String(time) } : {}) });
    const body = (await (await fetch(`${lokiUrl}/loki/api/v1/query?${params}`)).json()) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    return body.data.result;
  }

  before(async () => {
    await requireDocker();
    const built = await buildTestImagesOnce();
    for (const b of Object.values(built)) {
      console.log(
        `${b.ref} (${b.alias}): ${b.built ? 'built' : 'up to date'} in ${b.seconds.toFixed(1)}s, ${(b.sizeBytes / 1e6).toFixed(1)} MB`,
      );
    }
    images = {
      collector: built.collector.ref,
      prometheus: built.prometheus.ref,
      loki: built.loki.ref,
      grafana: built.grafana.ref,
    };
    await res.network(network);
    // As the stack runs Loki (its config and arguments), keeping the longest retention the settings allow: the
    // fixtures keep the times the real CLI sent them at, which Loki refuses once older than the retention.
    loki = await res.run({
      image: images.loki,
      name: `cct-test-loki-${id}`,
      network,
      aliases: ['loki'],
      publish: [3100],
      // (the image has no /etc/loki for the file to go into: /tmp is there)
      cmd: ['-config.file=/tmp/config.yaml', '-config.expand-env=true'],
      env: { CCT_RETENTION_DAYS: '3650' },
      files: {
        '/tmp': [
          { name: 'config.yaml', data: fs.readFileSync(path.join(repoRoot, 'stack', 'loki', 'config.yaml'), 'utf8') },
        ],
      },
      healthcheck: { test: wget('http://127.0.0.1:3100/ready') },
    });
    await waitHealthy(loki);
    lokiUrl = `http://127.0.0.1:${await hostPort(loki, 3100)}`;
  });
  after(() => res.cleanup());

  test('the real collector feeds the real Prometheus and the Loki double', { timeout: 180_000 }, async () => {
    await fetch(`${lokiUrl}/double/reset`, { method: 'POST' });
    const collector = await startCollector('collector', STACK_COLLECTOR_CONFIG, ['otel-collector']);
    const promConfig = [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: claude-code',
      '    honor_labels: true',
      '    static_configs:',
      '      - targets: ["otel-collector:8889"]',
      '  - job_name: otel-collector',
      '    static_configs:',
      '      - targets: ["otel-collector:8888"]',
      '',
    ].join('\n');
    const prometheus = await res.run({
      image: images.prometheus,
      name: `cct-test-prometheus-${id}`,
      network,
      aliases: ['prometheus'],
      publish: [9090],
      // the stack's arguments (stack/compose.yaml), retention aside
      cmd: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
      files: { '/etc/prometheus': [{ name: 'prometheus.yml', data: promConfig }] },
      healthcheck: { test: wget('http://127.0.0.1:9090/-/ready') },
    });
    await waitHealthy(prometheus);

    const reqs = fixtureRequests();
    for (const r of reqs) await post(collector.otlp, r.path === '/v1/logs' ? 'logs' : 'metrics', r.body);

    const prom = `http://127.0.0.1:${await hostPort(prometheus, 9090)}`;
    const query = async (q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
      const r = await fetch(`${prom}/api/v1/query?${new URLSearchParams({ query: q })}`);
      return ((await r.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } })
        .data.result;
    };
    // Prometheus, scraping the real exporter, ends up with the fixtures' total cost.
    const expected = fixtureApiRequestCost(reqs);
    assert.ok(expected > 0);
    const total = await waitFor('claude_code_cost_usage_USD_total in Prometheus', async () => {
      const v = (await query('sum(claude_code_cost_usage_USD_total)'))[0]?.value[1];
      return v !== undefined && Math.abs(Number(v) - expected) < 1e-9 ? Number(v) : undefined;
    });
    assert.ok(Math.abs(total - expected) < 1e-9);
    // A replayed export (an SDK retry) is dropped by delta_to_cumulative as out of order: the cost stays.
    for (const r of reqs.filter((x) => x.path === '/v1/metrics')) await post(collector.otlp, 'metrics', r.body);
    await new Promise((r) => setTimeout(r, 2_500)); // the batch processor and two scrapes
    assert.ok(
      Math.abs(Number((await query('sum(claude_code_cost_usage_USD_total)'))[0]?.value[1]) - expected) < 1e-9,
      'a replay is not counted twice',
    );

    // The real exporter's series: scope labels, no target_info for Claude Code (it sends no service.instance.id).
    const cost = await query('claude_code_cost_usage_USD_total');
    assert.ok(
      cost.every(
        (s) =>
          s.metric['otel_scope_name'] === 'com.anthropic.claude_code' &&
          s.metric['otel_scope_version'] === '2.1.328' &&
          s.metric['job'] === 'claude-code',
      ),
      JSON.stringify(cost[0]),
    );
    assert.deepEqual(await query('target_info{job="claude-code"}'), []);

    // As many tool failures in Prometheus (the count connector) as events in Loki, tool by tool, and as the real Loki
    // 3.4.6 answered for the same telemetry.
    const fromPrometheus = await waitFor('claude_code_tool_results_total', async () => {
      const r = await query('sum by (tool_name) (claude_code_tool_results_total{success="false"})');
      return r.length === 3 ? Object.fromEntries(r.map((s) => [s.metric['tool_name'], Number(s.value[1])])) : undefined;
    });
    const want = JSON.parse(fs.readFileSync(path.join(LOKI_FIXTURES, 'tool-failures-by-tool.instant.json'), 'utf8'));
    const wantResult = want.data.result as { metric: { tool_name: string }; value: [number, string] }[];
    const fromLoki = await waitFor('tool failures in the Loki double', async () => {
      const r = await lokiInstant(TOOL_FAILURES_QUERY, wantResult[0].value[0]);
      return r.length === wantResult.length ? r : undefined;
    });
    assert.deepEqual(fromLoki, wantResult);
    assert.deepEqual(
      fromPrometheus,
      Object.fromEntries(fromLoki.map((s) => [s.metric['tool_name'], Number(s.value[1])])),
    );
    const apiErrors = await query('sum(claude_code_api_errors_total{status_code="400"})');
    assert.equal(Number(apiErrors[0]?.value[1]), 1);

    // The collector's own metrics under their real names, scraped from :8888.
    const own = await waitFor('otelcol_receiver_accepted_log_records', async () => {
      const r = await query('sum(otelcol_receiver_accepted_log_records{job="otel-collector"})');
      return r.length ? Number(r[0].value[1]) : undefined;
    });
    assert.ok(own >= 32, `accepted ${own} log records`);

    // What went wrong: the real CLI's runs that went wrong (test/support/fixtures/claude-code-2.1.328-events), counted
    // by event name for the alert rules, as the sidebar's Loki query lists them (test/unit/problems.test.ts).
    const eventsDir = path.join(repoRoot, 'test', 'support', 'fixtures', 'claude-code-2.1.328-events');
    for (const file of fs
      .readdirSync(eventsDir)
      .filter((f) => f.endsWith('.logs.json'))
      .sort())
      for (const body of JSON.parse(fs.readFileSync(path.join(eventsDir, file), 'utf8')) as unknown[])
        await post(collector.otlp, 'logs', JSON.stringify(body));
    const problems = await waitFor('claude_code_problems_total by event name', async () => {
      const r = await query('sum by (event_name) (claude_code_problems_total)');
      const counts = Object.fromEntries(r.map((s) => [s.metric['event_name'], Number(s.value[1])]));
      return Object.values(counts).reduce((a, v) => a + v, 0) >= 11 ? counts : undefined;
    });
    assert.deepEqual(problems, {
      api_retries_exhausted: 2,
      api_refusal: 1,
      compaction: 1,
      // 3 failed, 1 slow (3 s, no error): not the quick one without error.
      hook_execution_complete: 4,
      mcp_server_connection: 3,
    });
  });

  test(
    'events whose batches end in one millisecond: every one Loki holds is counted',
    { timeout: 120_000 },
    async () => {
      // Batch 2 holds a Bash result older than batch 1's newest event, and ends in the same millisecond as batch 1:
      // the count connector stamps both counts with that millisecond, and delta_to_cumulative drops the second as out
      // of order, unless the counts come from the stack's logs/count pipeline (stamped with the collector's clock).
      const t = Date.now() - 60_000;
      const batches = [
        events('s-1', [{ ms: t }, { ms: t + 10, event: 'user_prompt' }]),
        events('s-1', [{ ms: t + 5 }, { ms: t + 10, event: 'assistant_response' }]),
        events('s-1', [{ ms: t + 7 }, { ms: t + 8 }]),
      ];
      const results = batches
        .flatMap((b) => b.resourceLogs![0].scopeLogs![0].logRecords!)
        .filter((r) => r.body?.stringValue === 'claude_code.tool_result').length;
      // The same collector with the count connector fed straight from the logs pipeline, as its documentation shows.
      const upstreamLayout = STACK_COLLECTOR_CONFIG.replace(/\n {4}logs\/count:\n(?: {6}.*\n)+/, '\n').replace(
        'exporters: [otlp_http/loki]',
        'exporters: [otlp_http/loki, count]',
      );
      assert.notEqual(upstreamLayout, STACK_COLLECTOR_CONFIG);
      const stack = await startCollector('collector-stack', STACK_COLLECTOR_CONFIG);
      const upstream = await startCollector('collector-upstream', upstreamLayout);
      for (const collector of [stack, upstream]) {
        await fetch(`${lokiUrl}/double/reset`, { method: 'POST' });
        // Apart by more than the batch processor's 200 ms, so that each request is a batch of its own.
        for (const b of batches) {
          await post(collector.otlp, 'logs', JSON.stringify(b));
          await new Promise((r) => setTimeout(r, 400));
        }
        const inLoki = await waitFor('the results in Loki', async () => {
          const r = await lokiInstant(
            'sum(count_over_time({service_name="claude-code"} | event_name="tool_result" | session_id="s-1" [1h]))',
          );
          return Number(r[0]?.value[1]) === results ? results : undefined;
        });
        const counted = await waitFor('the counts exported', async () => {
          const text = await (await fetch(collector.exporter)).text();
          const n = exposedSum(text, 'claude_code_tool_results_total', ['session_id="s-1"']);
          return n > 0 ? n : undefined;
        });
        // Wait out one more export of the exporter; nothing more may arrive.
        await new Promise((r) => setTimeout(r, 500));
        const settled = exposedSum(await (await fetch(collector.exporter)).text(), 'claude_code_tool_results_total', [
          'session_id="s-1"',
        ]);
        assert.equal(settled, counted);
        if (collector === stack) assert.equal(counted, inLoki, 'the stack counts every tool result Loki holds');
        else
          assert.ok(
            counted < inLoki,
            `the upstream layout loses the later batches' counts (${counted} of ${inLoki}): if this fails, the stack's logs/count pipeline may be needed no more`,
          );
      }
    },
  );

  test(
    "two sessions' events of one millisecond: Loki keeps both, and Prometheus counts both",
    { timeout: 60_000 },
    async () => {
      await fetch(`${lokiUrl}/double/reset`, { method: 'POST' });
      const collector = await startCollector('collector-sessions', STACK_COLLECTOR_CONFIG);
      const t = Date.now() - 30_000;
      // Two Claude Code processes, one session each, report the same event in the same millisecond.
      for (const session of ['s-left', 's-right'])
        await post(collector.otlp, 'logs', JSON.stringify(events(session, [{ ms: t }])));
      const inLoki = await waitFor('both events in Loki', async () => {
        const r = await lokiInstant(
          'sum by (session_id) (count_over_time({service_name="claude-code"} | event_name="tool_result" [1h]))',
        );
        return r.length === 2
          ? Object.fromEntries(r.map((s) => [s.metric['session_id'], Number(s.value[1])]))
          : undefined;
      });
      assert.deepEqual(inLoki, { 's-left': 1, 's-right': 1 });
      const text = await waitFor('both counted', async () => {
        const body = await (await fetch(collector.exporter)).text();
        return exposedSum(body, 'claude_code_tool_results_total', ['session_id="s-']) === 2 ? body : undefined;
      });
      assert.equal(exposedSum(text, 'claude_code_tool_results_total', ['session_id="s-left"']), 1);
      assert.equal(exposedSum(text, 'claude_code_tool_results_total', ['session_id="s-right"']), 1);
    },
  );

  test("a collector restart mid-session: the stack's rules count every dollar once", { timeout: 180_000 }, async () => {
    // The real collector and Prometheus with the stack's own prometheus.yml and rules; a session's cost sent as
    // Claude Code sends it (DELTA points), then the collector restarted (its running totals are lost: Prometheus
    // sees the series start again lower), then more cost.
    // A network of its own: the first test's collector answers to otel-collector on the shared one.
    const own = `${network}-restart`;
    await res.network(own);
    const collector = await startCollector('collector-restart', STACK_COLLECTOR_CONFIG, ['otel-collector'], own);
    const rules = path.join(repoRoot, 'stack', 'prometheus', 'rules');
    const prometheus = await res.run({
      image: images.prometheus,
      name: `cct-test-prometheus-restart-${id}`,
      network: own,
      publish: [9090],
      cmd: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
      files: {
        '/etc/prometheus': [
          {
            name: 'prometheus.yml',
            data: fs.readFileSync(path.join(repoRoot, 'stack', 'prometheus', 'prometheus.yml')),
          },
          ...fs
            .readdirSync(rules)
            .map((name) => ({ name: `rules/${name}`, data: fs.readFileSync(path.join(rules, name)) })),
        ],
      },
      healthcheck: { test: wget('http://127.0.0.1:9090/-/ready') },
    });
    await waitHealthy(prometheus);
    const prom = `http://127.0.0.1:${await hostPort(prometheus, 9090)}`;
    const scalar = async (q: string): Promise<number | undefined> => {
      const r = await fetch(`${prom}/api/v1/query?${new URLSearchParams({ query: q })}`);
      const v = ((await r.json()) as { data: { result: { value: [number, string] }[] } }).data.result[0]?.value[1];
      return v === undefined ? undefined : Number(v);
    };
    let last = Date.now() * 1e6;
    const cost = (usd: number): string => {
      // One delta point: from the previous export to now, as the OpenTelemetry JS SDK writes them.
      const now = Date.now() * 1e6;
      const point = {
        startTimeUnixNano: String(last),
        timeUnixNano: String(now),
        asDouble: usd,
        attributes: [str('session.id', 's-restart'), str('model', 'claude-opus-5-5')],
      };
      last = now;
      return JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [str('service.name', 'claude-code')] },
            scopeMetrics: [
              {
                scope: { name: 'com.anthropic.claude_code', version: '2.1.328' },
                metrics: [
                  {
                    name: 'claude_code.cost.usage',
                    unit: 'USD',
                    sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [point] },
                  },
                ],
              },
            ],
          },
        ],
      });
    };
    const counted = 'sum(sum_over_time(claude_code:cost_usd:increase10s{model="claude-opus-5-5"}[1h]))';
    const until = (what: string, usd: number): Promise<number> =>
      waitFor(
        what,
        async () => {
          const v = await scalar(counted);
          return v !== undefined && Math.abs(v - usd) < 1e-9 ? v : undefined;
        },
        90_000,
      );
    for (let i = 0; i < 5; i++) {
      await post(collector.otlp, 'metrics', cost(0.1));
      await new Promise((r) => setTimeout(r, 200));
    }
    await until('$0.50 counted by the rules', 0.5);
    await collector.container.restart({ t: 5 });
    const otlp = `http://127.0.0.1:${await hostPort(collector.container, 4318)}`;
    await waitFor('the restarted collector accepting OTLP', async () =>
      (
        await fetch(`${otlp}/v1/metrics`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
        })
      ).ok
        ? true
        : undefined,
    );
    for (let i = 0; i < 2; i++) {
      await post(otlp, 'metrics', cost(0.1));
      await new Promise((r) => setTimeout(r, 200));
    }
    // The exporter now shows $0.20 for the session (a reset for Prometheus): the rules add it to the $0.50.
    await waitFor(
      'the restarted series in Prometheus',
      async () => {
        const v = await scalar('sum(claude_code_cost_usage_USD_total{session_id="s-restart"})');
        return v !== undefined && Math.abs(v - 0.2) < 1e-9 ? v : undefined;
      },
      60_000,
    );
    assert.ok(Math.abs((await until('$0.70 counted across the restart', 0.7)) - 0.7) < 1e-9);
    // Twenty seconds later (two evaluations), still $0.70: nothing counted twice.
    await new Promise((r) => setTimeout(r, 20_000));
    assert.ok(Math.abs((await scalar(counted))! - 0.7) < 1e-9);
  });

  test('the grafana double refuses to start without GF_SECURITY_ADMIN_PASSWORD', { timeout: 60_000 }, async () => {
    const bad = await res.run({ image: images.grafana, name: `cct-test-grafana-nopw-${id}`, network });
    const exit = (await bad.wait()) as { StatusCode: number };
    assert.equal(exit.StatusCode, 1);
    assert.match(await containerLogs(bad), /GF_SECURITY_ADMIN_PASSWORD/);

    const good = await res.run({
      image: images.grafana,
      name: `cct-test-grafana-${id}`,
      network,
      aliases: ['grafana'],
      publish: [3000],
      env: {
        GF_SECURITY_ADMIN_USER: 'admin',
        GF_SECURITY_ADMIN_PASSWORD: crypto.randomBytes(12).toString('hex'),
        GF_AUTH_ANONYMOUS_ENABLED: 'true',
      },
      healthcheck: { test: wget('http://127.0.0.1:3000/api/health') },
    });
    await waitHealthy(good);
    const base = `http://127.0.0.1:${await hostPort(good, 3000)}`;
    // As Grafana: a dashboard page is the app's shell for any uid; the API says whether the dashboard exists (none is
    // provisioned here: the stack's binds are not mounted).
    assert.equal((await fetch(`${base}/d/no-such-dashboard`)).status, 200);
    assert.equal((await fetch(`${base}/api/dashboards/uid/no-such-dashboard`)).status, 404);
    assert.equal((await fetch(`${base}/api/health`)).status, 200);
  });
});
