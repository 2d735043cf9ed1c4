// The pipeline doctor against the real Docker Engine and the real stack/compose.yaml, on the local images: the real
// collector and Prometheus (built from their modules) with the stack's configs, and the documented doubles of Loki
// and Grafana (test/support/images.md). One stack for the suite (unique project name, free ports), removed with its volumes after.
// Every hop OK first; then one broken hop per check, asserting what the user is shown. The destructive case
// (a stopped container) runs last.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderDoctorReport } from '../../src/doctor/doctorReport';
import type { CheckResult, DoctorEndpoints, DoctorResult } from '../../src/doctor/checks';
import { runPipelineDoctor, type DoctorOptions } from '../../src/doctor/pipelineDoctor';
import {
  PROBE_PROMETHEUS_NAME,
  classifyProbeMetricName,
  probeMetricRequest,
  waitForProbeMetric,
} from '../../src/doctor/probeRoundTrip';
import { openStack } from '../../src/stack/index';
import type { StackEngine } from '../../src/stack/engine';
import { PrometheusClient } from '../../src/telemetry/prometheus';
import { telemetryEnvironment } from '../../src/terminal/environment';
import { ensureTestImages, removeProject, requireDocker, testImageEnv } from '../support/docker';
import { repoRoot } from '../support/paths';
import { freePort } from '../support/ports';
import { docker, uniqueProject } from '../support/stackEngine';
import { waitFor } from '../support/wait';
import { COUNTERS } from '../../src/telemetry/counters';

const project = uniqueProject('doctor');
let engine: StackEngine;
let ports: Record<'otlpHttp' | 'otlpGrpc' | 'prometheus' | 'loki', number>;
let endpoints: DoctorEndpoints;
let home: string;
let savedHome: string | undefined;

function check(result: DoctorResult, id: string): CheckResult {
  const c = result.checks.find((x) => x.id === id);
  assert.ok(c, `no check ${id} in ${result.checks.map((x) => x.id).join(', ')}`);
  return c;
}

function terminalEnv(port: number): Record<string, string> {
  return {
    PATH: '/usr/bin:/bin',
    ...telemetryEnvironment({
      endpoint: `http://127.0.0.1:${port}`,
      metricExportIntervalMs: 2000,
      logsExportIntervalMs: 1000,
      logUserPrompts: false,
      logToolDetails: false,
      workspaceName: 'doctor-test',
      repository: undefined,
      existingResourceAttributes: undefined,
    }),
  };
}

function options(extra: Partial<DoctorOptions> = {}): DoctorOptions {
  return {
    openEngine: () => engine,
    endpoints,
    terminal: { name: 'bash', env: terminalEnv(ports.otlpHttp) },
    roundTripTimeoutMs: 30_000,
    pollMs: 250,
    ...extra,
  };
}

async function targetHealth(job: string): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/targets?state=active`);
  const body = (await res.json()) as { data: { activeTargets: Array<{ scrapePool: string; health: string }> } };
  return body.data.activeTargets.find((t) => t.scrapePool === job)?.health;
}

/** Whether the stack's rule group has evaluated at least once, from Prometheus' rules API. */
async function rulesLastEvaluated(): Promise<boolean> {
  const prom = new PrometheusClient({ baseUrl: `http://127.0.0.1:${ports.prometheus}` });
  try {
    return (await prom.ruleGroups()).some((g) => g.name === 'claude_code_increase' && g.lastEvaluationMs !== null);
  } finally {
    await prom.close();
  }
}

/** A server standing in for Loki 2.x behind the Loki port: /ready answers, /otlp/v1/logs is a 404. */
async function lokiWithoutOtlp(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/ready') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ready\n');
      return;
    }
    req.resume();
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Claude Code's tool_result events of one session (its OTLP shape), at the given times, failed: each counts once in
 * Prometheus (the count connector) and is one entry in Loki. */
function toolResults(session: string, times: number[]): unknown {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
        scopeLogs: [
          {
            scope: { name: 'com.anthropic.claude_code.events' },
            logRecords: times.map((ms, i) => ({
              timeUnixNano: String(BigInt(ms) * 1_000_000n),
              observedTimeUnixNano: String(BigInt(ms) * 1_000_000n),
              body: { stringValue: 'claude_code.tool_result' },
              attributes: [
                { key: 'event.name', value: { stringValue: 'tool_result' } },
                { key: 'session.id', value: { stringValue: session } },
                { key: 'event.sequence', value: { intValue: String(i) } },
                { key: 'tool_name', value: { stringValue: 'Bash' } },
                { key: 'success', value: { stringValue: 'false' } },
                { key: 'error_type', value: { stringValue: 'ShellError' } },
              ],
            })),
          },
        ],
      },
    ],
  };
}

async function sendEvents(body: unknown): Promise<void> {
  const res = await fetch(`${endpoints.otlpHttp}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
}

/** A session's events as Loki holds them, and as Prometheus counts them. */
async function sessionEvents(session: string): Promise<{ loki: number; prometheus: number }> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const params = new URLSearchParams({
    query: `{service_name="claude-code"} | session_id="${session}"`,
    start: String(now - 3n * 86_400_000_000_000n),
    end: String(now + 60_000_000_000n),
    limit: '5000',
  });
  const loki = (await (await fetch(`${endpoints.loki}/loki/api/v1/query_range?${params}`)).json()) as {
    data: { result: { values: unknown[] }[] };
  };
  const query = encodeURIComponent(`sum(claude_code_tool_results_total{session_id="${session}"})`);
  const prom = (await (await fetch(`${endpoints.prometheus}/api/v1/query?query=${query}`)).json()) as {
    data: { result: { value: [number, string] }[] };
  };
  return {
    loki: loki.data.result.reduce((n, r) => n + r.values.length, 0),
    prometheus: Number(prom.data.result[0]?.value[1] ?? 0),
  };
}

describe('pipeline doctor against the real stack', { timeout: 600_000 }, () => {
  before(async () => {
    await requireDocker();
    const images = await ensureTestImages();
    savedHome = process.env.HOME;
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'cct-doctor-home-'));
    process.env.HOME = home; // ~/.claude/settings.json of the "user" is under here
    ports = {
      otlpHttp: await freePort(),
      otlpGrpc: await freePort(),
      prometheus: await freePort(),
      loki: await freePort(),
    };
    const variables = {
      ...testImageEnv(images),
      CCT_OTLP_HTTP_PORT: String(ports.otlpHttp),
      CCT_OTLP_GRPC_PORT: String(ports.otlpGrpc),
      CCT_COLLECTOR_METRICS_PORT: String(await freePort()),
      CCT_PROMETHEUS_PORT: String(ports.prometheus),
      CCT_LOKI_PORT: String(ports.loki),
      CCT_GRAFANA_PORT: String(await freePort()),
      CCT_RETENTION_DAYS: '1',
      GRAFANA_ADMIN_PASSWORD: 'doctor-test-password',
    };
    engine = openStack({
      dockerHost: undefined,
      composeFile: path.join(repoRoot, 'stack', 'compose.yaml'),
      variables,
      projectName: project,
      healthTimeoutMs: 120_000,
    }).engine;
    endpoints = {
      otlpHttp: `http://127.0.0.1:${ports.otlpHttp}`,
      otlpGrpcPort: ports.otlpGrpc,
      prometheus: `http://127.0.0.1:${ports.prometheus}`,
      loki: `http://127.0.0.1:${ports.loki}`,
    };
    await engine.start();
    // Prometheus scrapes every 5 s: the first scrape of the collector (its exporter and its own metrics) must have
    // happened for "all OK".
    await waitFor(
      'the claude-code target to be up',
      async () => (await targetHealth('claude-code')) === 'up' || undefined,
    );
    await waitFor(
      'the otel-collector target to be up',
      async () => (await targetHealth('otel-collector')) === 'up' || undefined,
    );
    // The rule group runs every 10 s: its first evaluation must have happened too (before it the check warns).
    await waitFor("the recording rules' first evaluation", async () => (await rulesLastEvaluated()) || undefined);
  });

  after(async () => {
    await removeProject(project, docker);
    process.env.HOME = savedHome;
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it('every hop OK, with the milliseconds of the round trip, and the report shows them', async () => {
    fs.mkdirSync(path.join(home, '.claude'), { recursive: true });
    fs.writeFileSync(
      path.join(home, '.claude', 'settings.json'),
      `{\n  // written by hand\n  "model": "sonnet",\n  "env": { "CLAUDE_CODE_ENABLE_TELEMETRY": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:${ports.otlpHttp}" }\n}\n`,
    );
    const seen: string[] = [];
    const result = await runPipelineDoctor(options({ onCheck: (c) => seen.push(c.id) }));
    const bad = result.checks.filter((c) => c.status !== 'ok');
    assert.deepEqual(bad, [], 'every check OK');
    assert.deepEqual(
      seen,
      result.checks.map((c) => c.id),
      'onCheck reports each result in order',
    );
    assert.deepEqual(
      seen.filter((id) => !id.startsWith('container:')),
      [
        'docker',
        'collector-otlp',
        'prometheus-ready',
        'prometheus-scrape',
        'collector-telemetry',
        'recording-rules',
        'loki-ready',
        'loki-otlp',
        'roundtrip-metric',
        'roundtrip-event',
        'terminal-env',
        'claude-settings',
      ],
    );
    assert.deepEqual(seen.filter((id) => id.startsWith('container:')).sort(), [
      'container:grafana',
      'container:loki',
      'container:otel-collector',
      'container:prometheus',
    ]);
    assert.equal(result.checks.filter((c) => c.id.startsWith('container:')).length, 4);
    const metric = check(result, 'roundtrip-metric');
    assert.equal(metric.hops?.length, 2);
    assert.equal(metric.hops?.[1]?.name, `in Prometheus as ${PROBE_PROMETHEUS_NAME}`);
    assert.ok(metric.hops!.every((h) => h.ms >= 0) && metric.hops![1]!.ms >= metric.hops![0]!.ms);
    assert.ok(metric.hops![1]!.ms < 30_000);
    const event = check(result, 'roundtrip-event');
    assert.equal(event.hops?.[1]?.name, 'in Loki');
    assert.match(check(result, 'prometheus-scrape').detail, /Target http:\/\/otel-collector:8889\/metrics is up/);
    // The real collector's own metrics, under their real names, scraped from :8888.
    assert.match(
      check(result, 'collector-telemetry').detail,
      /^It accepted \d+ metric points and \d+ events since it started; none failed/,
    );
    assert.match(
      check(result, 'recording-rules').detail,
      // Two per counter of the table: its helper and its increase.
      new RegExp(
        `^${2 * Object.keys(COUNTERS).length} recording rules in "claude_code_increase", last evaluated \\d+ s ago\\.$`,
      ),
    );
    assert.match(result.summary, /^All 16 checks passed$/);
    console.log(
      `  round trip: metric ${metric.hops!.map((h) => `${h.name} ${h.ms} ms`).join(', ')}; event ${event.hops!.map((h) => `${h.name} ${h.ms} ms`).join(', ')}`,
    );

    // The probe is marked with the run id, under its own job / stream: never the user's "claude-code".
    const prom = await fetch(
      `${endpoints.prometheus}/api/v1/query?query=${encodeURIComponent(`${PROBE_PROMETHEUS_NAME}{doctor_run="${result.runId}"}`)}`,
    );
    const series = ((await prom.json()) as { data: { result: Array<{ metric: Record<string, string> }> } }).data.result;
    assert.equal(series.length, 1);
    assert.equal(series[0]!.metric.job, 'claude-code-doctor');

    const md = renderDoctorReport(result);
    assert.match(md, /✅ \*\*All 16 checks passed\.\*\*/);
    assert.match(
      md,
      /\| ✅ \| Round trip: probe metric → collector → Prometheus \| OK \| [\d.]+ m?s \|.*collector accepted \(OTLP\/HTTP\): \d+ ms → in Prometheus as claude_code_doctor_probe_total: [\d.]+ m?s/,
    );
    assert.doesNotMatch(md, /## What to do/);
  });

  it('Docker unreachable (DOCKER_HOST at a dead socket): fail with cause and fix; containers skipped', async () => {
    const dead = path.join(os.tmpdir(), `cct-doctor-dead-${process.pid}.sock`);
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${dead}`;
    try {
      const result = await runPipelineDoctor(
        options({
          openEngine: () =>
            openStack({
              dockerHost: undefined,
              composeFile: path.join(repoRoot, 'stack', 'compose.yaml'),
              variables: { GRAFANA_ADMIN_PASSWORD: 'x' },
              projectName: project,
            }).engine,
          roundTripTimeoutMs: 10_000,
        }),
      );
      const d = check(result, 'docker');
      assert.equal(d.status, 'fail');
      assert.match(
        d.detail,
        new RegExp(`The container engine at unix://${dead.replace(/[.]/g, '\\.')} \\(DOCKER_HOST\\) is not running`),
      );
      assert.match(d.cause ?? '', /Docker is not running, or it listens somewhere else/);
      assert.match(d.fix ?? '', /Start Docker .*`claudeTelemetry\.docker\.host`/);
      assert.equal(check(result, 'container:*').status, 'skipped');
      // The stack itself still answers: the HTTP hops are checked regardless.
      assert.equal(check(result, 'collector-otlp').status, 'ok');
      assert.match(result.summary, /^1 problem: Docker engine reachable$/);
      const md = renderDoctorReport(result);
      assert.match(
        md,
        /### ❌ Docker engine reachable\n\n\*\*Seen:\*\* The container engine at unix:.*\n\n\*\*Likely cause:\*\* Docker is not running/,
      );
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  it('collector port wrong (nothing listens there): fail naming the port and the setting; round trip skipped', async () => {
    const closed = await freePort();
    const result = await runPipelineDoctor(
      options({ endpoints: { ...endpoints, otlpHttp: `http://127.0.0.1:${closed}` } }),
    );
    const c = check(result, 'collector-otlp');
    assert.equal(c.status, 'fail');
    assert.match(c.detail, /connection refused/);
    assert.match(
      c.cause ?? '',
      new RegExp(
        `Nothing listens on 127\\.0\\.0\\.1:${closed}: the stack is stopped, or it publishes the collector on another port`,
      ),
    );
    assert.match(c.fix ?? '', /Restart Telemetry Stack.*claudeTelemetry\.stack\.ports\.otlpHttp/);
    assert.equal(check(result, 'roundtrip-metric').status, 'skipped');
    assert.equal(check(result, 'roundtrip-event').status, 'skipped');
    // The terminal still points at the stack's real port: against the expected (wrong) one, it is named.
    const t = check(result, 'terminal-env');
    assert.equal(t.status, 'fail');
    assert.match(
      t.detail,
      new RegExp(`go to http://127\\.0\\.0\\.1:${ports.otlpHttp} .* on 127\\.0\\.0\\.1:${closed}`),
    );
  });

  it('Prometheus not scraping (the job is missing): fail naming the jobs it has and the fix', async () => {
    const result = await runPipelineDoctor(options({ scrapeJob: 'claude-code-missing', roundTripTimeoutMs: 10_000 }));
    const s = check(result, 'prometheus-scrape');
    assert.equal(s.status, 'fail');
    assert.match(
      s.detail,
      /Prometheus has no scrape job "claude-code-missing"; its jobs: claude-code, otel-collector, prometheus\./,
    );
    assert.match(s.cause ?? '', /Prometheus is not scraping the collector/);
    assert.match(s.fix ?? '', /Restore stack\/prometheus\/prometheus\.yml/);
  });

  it('Loki not accepting OTLP (404 on /otlp/v1/logs): fail with the pitfall named; event round trip skipped', async () => {
    const fake = await lokiWithoutOtlp();
    try {
      const result = await runPipelineDoctor(options({ endpoints: { ...endpoints, loki: fake.url } }));
      assert.equal(check(result, 'loki-ready').status, 'ok');
      const l = check(result, 'loki-otlp');
      assert.equal(l.status, 'fail');
      assert.match(l.detail, /POST http:\/\/127\.0\.0\.1:\d+\/otlp\/v1\/logs → HTTP 404 404 page not found/);
      assert.match(l.cause ?? '', /Loki does not accept OTLP: it has no \/otlp\/v1\/logs endpoint/);
      assert.match(l.fix ?? '', /Loki 3\.x .*allow_structured_metadata: true/);
      assert.equal(check(result, 'roundtrip-event').status, 'skipped');
      assert.equal(check(result, 'roundtrip-metric').status, 'ok');
    } finally {
      await fake.close();
    }
  });

  it('events accepted but never in Loki: the event round trip fails after the bounded wait, naming the hop', async () => {
    // Loki's port answers and accepts OTLP, but is not where the collector delivers (a second Loki, say).
    const server = http.createServer((req, res) => {
      req.resume();
      if (req.url === '/ready') return void res.end('ready');
      if (req.url?.startsWith('/otlp/v1/logs')) return void res.writeHead(204).end();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [] } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const t0 = Date.now();
      const result = await runPipelineDoctor(
        options({ endpoints: { ...endpoints, loki: url }, roundTripTimeoutMs: 3000 }),
      );
      assert.ok(Date.now() - t0 < 20_000);
      const e = check(result, 'roundtrip-event');
      assert.equal(e.status, 'fail');
      assert.match(e.detail, /accepted in \d+ ms but did not appear in Loki within 3 s/);
      assert.match(e.cause ?? '', /did not forward it to Loki/);
      assert.match(e.fix ?? '', /Show Stack Logs…" → otel-collector/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('the double prefix: a real Prometheus holding claude_code_claude_code_doctor_probe_total is diagnosed', async () => {
    // What a collector with `namespace: claude_code` produces: the probe's name prefixed once more. The stack's
    // collector has no namespace, so the prefixed name is sent through it and scraped by the real Prometheus.
    const runId = `prefix-${process.pid}-${Date.now()}`;
    const res = await fetch(`${endpoints.otlpHttp}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(probeMetricRequest(runId, Date.now(), 'claude_code.claude_code.doctor.probe')),
    });
    assert.equal(res.status, 200);
    const prom = new PrometheusClient({ baseUrl: endpoints.prometheus });
    try {
      const found = await waitForProbeMetric(prom, runId, { timeoutMs: 30_000, pollMs: 250 });
      assert.equal(found.name, 'claude_code_claude_code_doctor_probe_total');
      const verdict = classifyProbeMetricName(found.name!);
      assert.equal(verdict.status, 'fail');
      assert.match(
        verdict.cause ?? '',
        /Double metric prefix: the probe arrived as `claude_code_claude_code_doctor_probe_total`/,
      );
      assert.match(verdict.cause ?? '', /no dashboard query matches/);
      assert.match(
        verdict.fix ?? '',
        /Remove `namespace: claude_code`.*stack\/collector\/config\.yaml.*Restart Telemetry Stack/,
      );
    } finally {
      await prom.close();
    }
  });

  it('terminal without the environment and conflicting Claude settings, in the full run', async () => {
    fs.writeFileSync(
      path.join(home, '.claude', 'settings.json'),
      '{\n  "env": {\n    "CLAUDE_CODE_ENABLE_TELEMETRY": "0", // off for now\n    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"\n  }\n}\n',
    );
    const result = await runPipelineDoctor(
      options({ terminal: { name: 'old shell', env: { PATH: '/usr/bin' } }, roundTripTimeoutMs: 10_000 }),
    );
    const t = check(result, 'terminal-env');
    assert.equal(t.status, 'fail');
    assert.match(t.detail, /"old shell" has no CLAUDE_CODE_ENABLE_TELEMETRY/);
    assert.match(t.fix ?? '', /Open a new terminal, or relaunch this one/);
    const s = check(result, 'claude-settings');
    assert.equal(s.status, 'fail');
    assert.match(s.detail, /CLAUDE_CODE_ENABLE_TELEMETRY="0" turns Claude Code's telemetry off/);
    assert.match(
      s.detail,
      new RegExp(`go to http://127\\.0\\.0\\.1:4318 .*takes OTLP/HTTP on 127\\.0\\.0\\.1:${ports.otlpHttp}`),
    );
    assert.equal(check(result, 'roundtrip-metric').status, 'ok');
    assert.match(result.summary, /^2 problems: Active terminal has the telemetry environment; Claude Code settings/);
  });

  it("Loki answering as it does when it refuses: red, with Loki's words, not its protobuf bytes", async () => {
    // Loki answers every OTLP error as a protobuf google.rpc.Status (code 0 omitted), whatever the request's type.
    const words =
      'Ingestion rate limit exceeded for user fake (limit: 4194304 bytes/sec) while attempting to ingest 1 lines';
    const server = http.createServer((req, res) => {
      req.resume();
      if (req.url === '/ready') return void res.end('ready');
      res.writeHead(429, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.concat([Buffer.from([0x12, words.length]), Buffer.from(words)]));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const result = await runPipelineDoctor(
        options({ endpoints: { ...endpoints, loki: url }, roundTripTimeoutMs: 3000 }),
      );
      const l = check(result, 'loki-otlp');
      assert.equal(l.status, 'fail');
      assert.match(l.detail, new RegExp(`→ HTTP 429 ${words.slice(0, 40)}`));
      assert.match(l.cause ?? '', /Loki refused a valid OTLP logs request \(one event of now\) with HTTP 429/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("Loki down while a session goes on for two hours: the collector's queue reaches Loki in order, and the counts equal the lists", async () => {
    // A session's events before and after a laptop sleep, queued while Loki is away: sent one batch at a time, the
    // older first, Loki (1 h out-of-order window per stream) takes them all.
    const session = `replay-${process.pid}-${Date.now()}`;
    const loki = (await engine.status()).find((s) => s.service === 'loki');
    assert.ok(loki?.containerId);
    await docker.getContainer(loki.containerId).stop({ t: 2 });
    const now = Date.now();
    const before = Array.from({ length: 20 }, (_, i) => now - 2 * 3600_000 + i * 1000);
    const after = Array.from({ length: 20 }, (_, i) => now + i);
    for (let i = 0; i < before.length; i += 5) await sendEvents(toolResults(session, before.slice(i, i + 5)));
    for (let i = 0; i < after.length; i += 5) await sendEvents(toolResults(session, after.slice(i, i + 5)));
    await docker.getContainer(loki.containerId).start();
    const held = await waitFor(
      'Loki to hold the whole session',
      async () => {
        const seen = await sessionEvents(session);
        return seen.loki === 40 && seen.prometheus === 40 ? seen : undefined;
      },
      120_000,
    );
    assert.deepEqual(held, { loki: 40, prometheus: 40 });
    const result = await runPipelineDoctor(options({ roundTripTimeoutMs: 30_000 }));
    assert.match(check(result, 'collector-telemetry').detail, /none failed to reach Loki/);
  });

  it('an event older than the stack keeps: Loki refuses it, Prometheus counts it, and the alert and the doctor say why', async () => {
    // The suite's stack keeps 1 day (CCT_RETENTION_DAYS): an event of 2 days ago is refused, and the whole batch
    // with it is dropped by the collector although Loki kept its valid entry.
    const session = `too-old-${process.pid}-${Date.now()}`;
    await sendEvents(toolResults(session, [Date.now() - 2 * 86_400_000, Date.now()]));
    const counted = await waitFor(
      'Prometheus to count both events',
      async () => {
        const seen = await sessionEvents(session);
        return seen.prometheus === 2 ? seen : undefined;
      },
      60_000,
    );
    assert.equal(counted.loki, 1, 'Loki keeps the valid event of the batch');
    const prom = new PrometheusClient({ baseUrl: endpoints.prometheus });
    try {
      const alert = await waitFor(
        'EventsRefusedByLoki to fire',
        async () => (await prom.alerts()).find((a) => a.name === 'EventsRefusedByLoki' && a.state === 'firing'),
        90_000,
      );
      assert.match(alert.summary, /^Loki refused 2 of Claude Code's events in the last 15 minutes$/);
      assert.match(alert.description, /counts include them; Loki's event lists .* do not/);
    } finally {
      await prom.close();
    }
    const result = await runPipelineDoctor(options({ roundTripTimeoutMs: 30_000 }));
    const c = check(result, 'collector-telemetry');
    assert.equal(c.status, 'warn');
    assert.match(
      c.detail,
      /2 events failed to reach Loki in the last 15m.*The collector's log says: ".*timestamp too old/,
    );
    assert.match(c.cause ?? '', /older than it accepts/);
    assert.match(c.fix ?? '', /retentionDays/);
  });

  it('a container stopped (the collector): its container, OTLP, the scrape target down; round trip skipped', async () => {
    const collector = (await engine.status()).find((s) => s.service === 'otel-collector');
    assert.ok(collector?.containerId);
    await docker.getContainer(collector.containerId).stop({ t: 2 });
    await waitFor(
      'Prometheus to see the collector target down',
      async () => (await targetHealth('claude-code')) === 'down' || undefined,
    );
    const result = await runPipelineDoctor(options());
    const c = check(result, 'container:otel-collector');
    assert.equal(c.status, 'fail');
    assert.match(c.detail, /^stopped \(/);
    assert.match(c.fix ?? '', /Start Telemetry Stack/);
    for (const other of ['container:prometheus', 'container:loki', 'container:grafana'])
      assert.equal(check(result, other).status, 'ok');
    const o = check(result, 'collector-otlp');
    assert.equal(o.status, 'fail');
    assert.match(
      o.cause ?? '',
      new RegExp(`Nothing receives OTLP on 127\\.0\\.0\\.1:${ports.otlpHttp}: the otel-collector container is stopped`),
    );
    const s = check(result, 'prometheus-scrape');
    assert.equal(s.status, 'fail');
    assert.match(s.detail, /Target http:\/\/otel-collector:8889\/metrics is down: /);
    assert.match(s.cause ?? '', /Prometheus is not scraping the collector: the otel-collector container is stopped/);
    assert.equal(check(result, 'roundtrip-metric').status, 'skipped');
    assert.equal(check(result, 'roundtrip-event').status, 'skipped');
    const md = renderDoctorReport(result);
    assert.match(md, /## What to do/);
    assert.match(md, /### ❌ Container otel-collector/);
    assert.match(md, /### ❌ Prometheus scraping the collector \(job "claude-code"\)/);
  });
});
