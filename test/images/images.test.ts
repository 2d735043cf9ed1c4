// The local test images, end to end on the Docker Engine: the collector, Loki and Grafana doubles and the real
// (Debian) Prometheus on a user-defined network, fed the real Claude Code telemetry captured in the fixtures.
// Needs a Docker Engine (scripts/ci/start-dockerd.sh) and, on the host, Debian's prometheus and busybox-static.
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
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
import { waitFor } from '../support/wait';

const LOKI_FIXTURES = path.join(FIXTURES_DIR, 'loki-3.4.6');
const TOOL_FAILURES_QUERY = 'sum by (tool_name) (count_over_time({service_name="claude-code"} | event_name="tool_result" | success="false" [3h]))';

const wget = (url: string): string[] => ['CMD', 'wget', '-q', '-O', '/dev/null', url];

describe('test images (Docker)', async () => {
  const res = new TestResources();
  let images: TestImages;
  const id = crypto.randomBytes(4).toString('hex');
  const network = `cct-test-images-${id}`;

  before(async () => {
    await requireDocker();
    const built = await buildTestImagesOnce();
    for (const b of Object.values(built)) {
      console.log(`${b.ref} (${b.alias}): ${b.built ? 'built' : 'up to date'} in ${b.seconds.toFixed(1)}s, ${(b.sizeBytes / 1e6).toFixed(1)} MB`);
    }
    images = { collector: built.collector.ref, prometheus: built.prometheus.ref, loki: built.loki.ref, grafana: built.grafana.ref };
    await res.network(network);
  });
  after(() => res.cleanup());

  test('the collector double feeds the real Prometheus and the Loki double', { timeout: 180_000 }, async () => {
    const loki = await res.run({
      image: images.loki, name: `cct-test-loki-${id}`, network, aliases: ['loki'], publish: [3100],
      healthcheck: { test: wget('http://127.0.0.1:3100/ready') },
    });
    const collector = await res.run({
      image: images.collector, name: `cct-test-collector-${id}`, network, aliases: ['otel-collector'], publish: [4318],
      // the real collector's arguments: ignored by the double, but the compose service passes them
      cmd: ['--config=/etc/otelcol-contrib/config.yaml'],
      healthcheck: { test: wget('http://127.0.0.1:13133/') },
    });
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
      image: images.prometheus, name: `cct-test-prometheus-${id}`, network, aliases: ['prometheus'], publish: [9090],
      // the stack's arguments (stack/compose.yaml), retention aside
      cmd: [
        '--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus',
        '--web.console.libraries=/usr/share/prometheus/console_libraries', '--web.console.templates=/usr/share/prometheus/consoles',
      ],
      files: { '/etc/prometheus': [{ name: 'prometheus.yml', data: promConfig }] },
      healthcheck: { test: wget('http://127.0.0.1:9090/-/ready') },
    });
    await Promise.all([waitHealthy(loki), waitHealthy(collector), waitHealthy(prometheus)]);

    const otlp = `http://127.0.0.1:${await hostPort(collector, 4318)}`;
    const reqs = fixtureRequests();
    for (const r of reqs) {
      const answer = await fetch(`${otlp}${r.path}`, { method: 'POST', headers: { 'Content-Type': r.ct }, body: r.body });
      assert.equal(answer.status, 200, `${r.file} ${r.path}: ${await answer.text()}`);
    }

    // Prometheus, scraping the double, ends up with the fixtures' total cost.
    const expected = fixtureApiRequestCost(reqs);
    assert.ok(expected > 0);
    const prom = `http://127.0.0.1:${await hostPort(prometheus, 9090)}`;
    const total = await waitFor('claude_code_cost_usage_USD_total in Prometheus', async () => {
      const r = await fetch(`${prom}/api/v1/query?${new URLSearchParams({ query: 'sum(claude_code_cost_usage_USD_total)' })}`);
      const body = (await r.json()) as { data: { result: { value: [number, string] }[] } };
      const v = body.data.result[0]?.value[1];
      return v !== undefined && Math.abs(Number(v) - expected) < 1e-9 ? Number(v) : undefined;
    });
    assert.ok(Math.abs(total - expected) < 1e-9);
    const failures = await waitFor('claude_code_tool_results_total', async () => {
      const r = await fetch(`${prom}/api/v1/query?${new URLSearchParams({ query: 'sum by (tool_name) (claude_code_tool_results_total{success="false"})' })}`);
      const body = (await r.json()) as { data: { result: { metric: { tool_name: string } }[] } };
      return body.data.result.length === 3 ? body.data.result.map((s) => s.metric.tool_name).sort() : undefined;
    });
    assert.deepEqual(failures, ['Bash', 'Grep', 'Read']);

    // The Loki double, fed by the collector double over the network, answers the tool-failure query like Loki.
    const want = JSON.parse(fs.readFileSync(path.join(LOKI_FIXTURES, 'tool-failures-by-tool.instant.json'), 'utf8'));
    const wantResult = want.data.result as { metric: { tool_name: string }; value: [number, string] }[];
    const lokiUrl = `http://127.0.0.1:${await hostPort(loki, 3100)}`;
    const got = await waitFor('tool failures in the Loki double', async () => {
      const r = await fetch(`${lokiUrl}/loki/api/v1/query?${new URLSearchParams({ query: TOOL_FAILURES_QUERY, time: String(wantResult[0].value[0]) })}`);
      const body = (await r.json()) as { data: { result: typeof wantResult } };
      return body.data.result.length === wantResult.length ? body.data.result : undefined;
    });
    assert.deepEqual(got, wantResult);
  });

  test('the grafana double refuses to start without GF_SECURITY_ADMIN_PASSWORD', { timeout: 60_000 }, async () => {
    const bad = await res.run({ image: images.grafana, name: `cct-test-grafana-nopw-${id}`, network });
    const exit = (await bad.wait()) as { StatusCode: number };
    assert.equal(exit.StatusCode, 1);
    assert.match(await containerLogs(bad), /GF_SECURITY_ADMIN_PASSWORD/);

    const good = await res.run({
      image: images.grafana, name: `cct-test-grafana-${id}`, network, aliases: ['grafana'], publish: [3000],
      env: { GF_SECURITY_ADMIN_USER: 'admin', GF_SECURITY_ADMIN_PASSWORD: crypto.randomBytes(12).toString('hex') },
      healthcheck: { test: wget('http://127.0.0.1:3000/api/health') },
    });
    await waitHealthy(good);
    const base = `http://127.0.0.1:${await hostPort(good, 3000)}`;
    assert.equal((await fetch(`${base}/d/claude-code-telemetry`)).status, 200);
    assert.equal((await fetch(`${base}/d/no-such-dashboard`)).status, 404);
  });
});
