// The test doubles, in-process (no Docker): the Loki double must answer in exactly the shapes the real Loki 3.4.6
// gave (/work/shared/fixtures/loki-3.4.6), the collector double must name and accumulate like the real collector.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCollectorDouble, type CollectorDouble } from './collector';
import type { AnyValue, KeyValue, LogsRequest, MetricsRequest } from './common';
import { CLAUDE_CODE_FIXTURES, FIXTURES_DIR, fixtureApiRequestCost, fixtureRequests } from './fixtures';
import { startGrafanaDouble, MissingAdminPasswordError } from './grafana';
import { startLokiDouble, type LokiDouble } from './loki';

const LOKI = path.join(FIXTURES_DIR, 'loki-3.4.6');
const haveFixtures = fs.existsSync(CLAUDE_CODE_FIXTURES) && fs.existsSync(LOKI);

const loadJson = (name: string): { status: string; data: Record<string, unknown> } => JSON.parse(fs.readFileSync(path.join(LOKI, name), 'utf8'));

/** Same nested keys (recursively, in order), values ignored: for the `stats` object. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}

// --- a protobuf encoder for the OTLP JSON objects (test-only: checks the double's decoder) --------------------
function varint(n: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const tag = (no: number, wt: number): Buffer => varint(BigInt((no << 3) | wt));
const len = (no: number, b: Buffer): Buffer => Buffer.concat([tag(no, 2), varint(BigInt(b.length)), b]);
const str = (no: number, s: string | undefined): Buffer => (s ? len(no, Buffer.from(s)) : Buffer.alloc(0));
const fixed64 = (no: number, v: string | number | undefined): Buffer => {
  if (v === undefined) return Buffer.alloc(0);
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return Buffer.concat([tag(no, 1), b]);
};
const dbl = (no: number, v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return Buffer.concat([tag(no, 1), b]);
};
function anyValue(v: AnyValue): Buffer {
  if (v.stringValue !== undefined) return len(1, Buffer.from(v.stringValue));
  if (v.boolValue !== undefined) return Buffer.concat([tag(2, 0), varint(v.boolValue ? 1n : 0n)]);
  if (v.intValue !== undefined) return Buffer.concat([tag(3, 0), varint(BigInt(v.intValue))]);
  if (v.doubleValue !== undefined) return dbl(4, Number(v.doubleValue));
  if (v.arrayValue) return len(5, Buffer.concat((v.arrayValue.values ?? []).map((x) => len(1, anyValue(x)))));
  if (v.kvlistValue) return len(6, Buffer.concat((v.kvlistValue.values ?? []).map((x) => len(1, keyValue(x)))));
  return Buffer.alloc(0);
}
const keyValue = (kv: KeyValue): Buffer => Buffer.concat([str(1, kv.key), kv.value ? len(2, anyValue(kv.value)) : Buffer.alloc(0)]);
const attrs = (no: number, a: KeyValue[] | undefined): Buffer => Buffer.concat((a ?? []).map((kv) => len(no, keyValue(kv))));
const scope = (s: { name?: string; version?: string } | undefined): Buffer => len(1, Buffer.concat([str(1, s?.name), str(2, s?.version)]));

export function encodeMetrics(req: MetricsRequest): Buffer {
  return Buffer.concat(
    (req.resourceMetrics ?? []).map((rm) =>
      len(1, Buffer.concat([
        len(1, attrs(1, rm.resource?.attributes)),
        ...(rm.scopeMetrics ?? []).map((sm) =>
          len(2, Buffer.concat([
            scope(sm.scope),
            ...(sm.metrics ?? []).map((m) => {
              const dps = Buffer.concat((m.sum?.dataPoints ?? m.gauge?.dataPoints ?? []).map((dp) =>
                len(1, Buffer.concat([attrs(7, dp.attributes), fixed64(2, dp.startTimeUnixNano), fixed64(3, dp.timeUnixNano), dp.asDouble !== undefined ? dbl(4, Number(dp.asDouble)) : fixed64(6, dp.asInt ?? 0)]))));
              const data = m.sum
                ? len(7, Buffer.concat([dps, tag(2, 0), varint(BigInt(m.sum.aggregationTemporality ?? 0)), tag(3, 0), varint(m.sum.isMonotonic ? 1n : 0n)]))
                : len(5, dps);
              return len(2, Buffer.concat([str(1, m.name), str(2, m.description), str(3, m.unit), data]));
            }),
          ])),
        ),
      ])),
    ),
  );
}

export function encodeLogs(req: LogsRequest): Buffer {
  return Buffer.concat(
    (req.resourceLogs ?? []).map((rl) =>
      len(1, Buffer.concat([
        len(1, attrs(1, rl.resource?.attributes)),
        ...(rl.scopeLogs ?? []).map((sl) =>
          len(2, Buffer.concat([
            scope(sl.scope),
            ...(sl.logRecords ?? []).map((r) =>
              len(2, Buffer.concat([
                fixed64(1, r.timeUnixNano), fixed64(11, r.observedTimeUnixNano),
                r.severityNumber ? Buffer.concat([tag(2, 0), varint(BigInt(r.severityNumber))]) : Buffer.alloc(0),
                str(3, r.severityText), r.body ? len(5, anyValue(r.body)) : Buffer.alloc(0), attrs(6, r.attributes),
              ]))),
          ])),
        ),
      ])),
    ),
  );
}

async function post(url: string, ct: string, body: string | Buffer): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'Content-Type': ct }, body: typeof body === 'string' ? body : new Uint8Array(body) });
}

describe('loki double answers like Loki 3.4.6', { skip: !haveFixtures && 'fixtures not found' }, () => {
  let loki: LokiDouble;
  let base: string;
  before(async () => {
    loki = await startLokiDouble({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${loki.port}`;
    for (const r of fixtureRequests().filter((x) => x.path === '/v1/logs')) {
      const res = await post(`${base}/otlp/v1/logs`, r.ct, r.body);
      assert.equal(res.status, 204);
    }
  });
  after(() => loki.close());

  const get = async (p: string, params: Record<string, string>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${p}?${new URLSearchParams(params)}`, { headers });
    return { status: res.status, ct: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  const instantCase = (file: string, query: string) =>
    test(file, async () => {
      const want = loadJson(file);
      const [t] = (want.data.result as { value: [number, string] }[])[0].value;
      const got = await get('/loki/api/v1/query', { query, time: String(t) });
      assert.equal(got.status, 200, got.text);
      const body = JSON.parse(got.text);
      assert.deepEqual({ ...body, data: { ...body.data, stats: undefined } }, { ...want, data: { ...want.data, stats: undefined } });
      assert.deepEqual(shape(body.data.stats), shape(want.data.stats));
    });
  instantCase('tool-failures-by-tool.instant.json', 'sum by (tool_name) (count_over_time({service_name="claude-code"} | event_name="tool_result" | success="false" [3h]))');
  instantCase('cost-by-model-from-events.instant.json', 'sum by (model) (sum_over_time({service_name="claude-code"} | event_name="api_request" | unwrap cost_usd | __error__="" [3h]))');

  const rangeParams = { start: '1795351000000000000', end: '1795354355000000000', direction: 'backward', limit: '50' };
  test('tool-failures.streams.categorized.json', async () => {
    const want = loadJson('tool-failures.streams.categorized.json');
    const got = await get('/loki/api/v1/query_range', { ...rangeParams, query: '{service_name="claude-code"} | event_name="tool_result" | success="false"' }, { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' });
    assert.equal(got.status, 200, got.text);
    const body = JSON.parse(got.text);
    assert.deepEqual(Object.keys(body.data), Object.keys(want.data));
    assert.deepEqual(body.data.result, want.data.result);
    assert.deepEqual(body.data.encodingFlags, ['categorize-labels']);
  });
  test('api-errors.streams.json', async () => {
    const want = loadJson('api-errors.streams.json');
    const got = await get('/loki/api/v1/query_range', { ...rangeParams, query: '{service_name="claude-code"} | event_name="api_error"' });
    const body = JSON.parse(got.text);
    assert.deepEqual(Object.keys(body.data), Object.keys(want.data));
    assert.deepEqual(body.data.result, want.data.result);
  });
  test('events-by-name.matrix.json', async () => {
    const want = loadJson('events-by-name.matrix.json');
    const got = await get('/loki/api/v1/query_range', { query: 'sum by (event_name) (count_over_time({service_name="claude-code"} [5m]))', start: '1795351800', end: '1795352100', step: '300' });
    const body = JSON.parse(got.text);
    assert.deepEqual(body.data.result, want.data.result);
  });
  test('a log query on /query is a plain-text 400', async () => {
    const want = fs.readFileSync(path.join(LOKI, 'error-log-query-on-instant-endpoint.txt'), 'utf8').split('\n')[0];
    const got = await get('/loki/api/v1/query', { query: '{service_name="claude-code"} | event_name="api_error"' });
    assert.equal(got.status, 400);
    assert.match(got.ct, /^text\/plain/);
    assert.equal(got.text, `${want}\n`);
  });
  test('a syntax error is a plain-text 400 parse error', async () => {
    const got = await get('/loki/api/v1/query', { query: 'sum by (tool_name) (count_over_time({service_name="claude-code"} [3h' });
    assert.equal(got.status, 400);
    assert.match(got.text, /^parse error at line 0, col \d+: missing closing '\]' in duration\n$/);
    const other = await get('/loki/api/v1/query', { query: 'sum by (x (' });
    assert.equal(other.status, 400);
    assert.match(other.text, /^parse error/);
    const unsupported = await get('/loki/api/v1/query_range', { query: '{service_name="claude-code"} | json' });
    assert.equal(unsupported.status, 400);
    assert.match(unsupported.text, /^parse error/);
  });
  test('/ready', async () => {
    const res = await fetch(`${base}/ready`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ready\n');
  });
});

describe('collector double', { skip: !haveFixtures && 'fixtures not found' }, () => {
  let collector: CollectorDouble;
  let loki: LokiDouble;
  const reqs = haveFixtures ? fixtureRequests() : [];
  before(async () => {
    loki = await startLokiDouble({ port: 0, host: '127.0.0.1' });
    collector = await startCollectorDouble({ otlpHttpPort: 0, otlpGrpcPort: 0, prometheusPort: 0, telemetryPort: 0, healthPort: 0, host: '127.0.0.1', lokiUrl: `http://127.0.0.1:${loki.port}/otlp/v1/logs` });
    for (const r of reqs) assert.equal((await post(`http://127.0.0.1:${collector.ports.otlpHttp}${r.path}`, r.ct, r.body)).status, 200);
    await collector.flushLogs();
  });
  after(async () => {
    await collector.close();
    await loki.close();
  });

  const sample = (text: string, name: string): { labels: string; value: number }[] =>
    text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).map((l) => {
      const i = l.lastIndexOf(' ');
      return { labels: l.slice(name.length, i), value: Number(l.slice(i + 1)) };
    });

  test('names, labels and cumulative totals', () => {
    const text = collector.exposition();
    const cost = sample(text, 'claude_code_cost_usage_USD_total');
    assert.ok(cost.length >= 2, text);
    assert.ok(Math.abs(cost.reduce((n, s) => n + s.value, 0) - fixtureApiRequestCost(reqs)) < 1e-9);
    for (const s of cost) assert.match(s.labels, /session_id="[0-9a-f-]+"/);
    assert.match(text, /# TYPE claude_code_cost_usage_USD_total counter/);
    assert.ok(sample(text, 'claude_code_token_usage_tokens_total').some((s) => s.labels.includes('type="cacheRead"')));
    assert.ok(sample(text, 'claude_code_active_time_seconds_total').length > 0);
    assert.ok(sample(text, 'claude_code_session_count_total').length === 3);
    const failures = sample(text, 'claude_code_tool_results_total').filter((s) => s.labels.includes('success="false"'));
    assert.deepEqual(failures.map((s) => /tool_name="(\w+)"/.exec(s.labels)![1]).sort(), ['Bash', 'Grep', 'Read']);
    assert.ok(failures.every((s) => /error_type="\w+"/.test(s.labels) && /job="claude-code"/.test(s.labels)));
    const errors = sample(text, 'claude_code_api_errors_total');
    assert.ok(errors.some((s) => s.labels.includes('status_code="400"')), text);
    assert.ok(sample(text, 'claude_code_api_requests_total').length > 0);
  });

  test('a delta sent twice adds up (deltatocumulative)', async () => {
    const metrics = reqs.find((r) => r.path === '/v1/metrics')!;
    const before = collector.exposition();
    await post(`http://127.0.0.1:${collector.ports.otlpHttp}/v1/metrics`, metrics.ct, metrics.body);
    const sessionCounts = (t: string) => sample(t, 'claude_code_session_count_total').reduce((n, s) => n + s.value, 0);
    assert.equal(sessionCounts(collector.exposition()), sessionCounts(before) + 1);
  });

  test('logs reach Loki', () => {
    assert.equal(loki.entries.length, 29); // as the real Loki counted (totalLinesProcessed)
  });

  test('protobuf decodes to the same as JSON', async () => {
    const loki2 = await startLokiDouble({ port: 0, host: '127.0.0.1' });
    const c2 = await startCollectorDouble({ otlpHttpPort: 0, otlpGrpcPort: 0, prometheusPort: 0, telemetryPort: 0, healthPort: 0, host: '127.0.0.1', lokiUrl: `http://127.0.0.1:${loki2.port}/otlp/v1/logs` });
    try {
      for (const r of reqs) {
        const obj = JSON.parse(r.body);
        const body = r.path === '/v1/metrics' ? encodeMetrics(obj) : encodeLogs(obj);
        const res = await post(`http://127.0.0.1:${c2.ports.otlpHttp}${r.path}`, 'application/x-protobuf', body);
        assert.equal(res.status, 200, await res.text());
      }
      await c2.flushLogs();
      const fresh = await startCollectorDouble({ otlpHttpPort: 0, otlpGrpcPort: 0, prometheusPort: 0, telemetryPort: 0, healthPort: 0, host: '127.0.0.1', lokiUrl: null });
      for (const r of reqs) await post(`http://127.0.0.1:${fresh.ports.otlpHttp}${r.path}`, r.ct, r.body);
      assert.equal(c2.exposition(), fresh.exposition());
      await fresh.close();
      const strip = (e: LokiDouble) => e.entries.map((x) => ({ ...x, ts: x.ts.toString() }));
      assert.deepEqual(strip(loki2), strip(loki));
    } finally {
      await c2.close();
      await loki2.close();
    }
  });
});

describe('grafana double', () => {
  test('refuses to start without an admin password', async () => {
    await assert.rejects(startGrafanaDouble({ port: 0, adminPassword: undefined }), MissingAdminPasswordError);
    await assert.rejects(startGrafanaDouble({ port: 0, adminPassword: '' }), MissingAdminPasswordError);
  });
  test('health and the dashboard link', async () => {
    const g = await startGrafanaDouble({ port: 0, host: '127.0.0.1', adminPassword: 's3cret' });
    try {
      const health = await fetch(`http://127.0.0.1:${g.port}/api/health`);
      assert.equal(health.status, 200);
      assert.equal((await health.json()).database, 'ok');
      assert.equal((await fetch(`http://127.0.0.1:${g.port}/d/claude-code-telemetry`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${g.port}/d/claude-code-telemetry/claude-code-telemetry?orgId=1`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${g.port}/d/nope`)).status, 404);
    } finally {
      await g.close();
    }
  });
});
