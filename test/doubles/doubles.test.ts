// The test doubles, in-process (no Docker): the Loki double must answer in exactly the shapes the real Loki 3.4.6
// gave (../shared/fixtures/loki-3.4.6) and keep what it accepted across a restart; the Grafana double must refuse
// to start without an admin password, and keep the first one it started with, as Grafana does. (The collector is the
// real one, built from its modules: no double.)
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AnyValue, KeyValue, LogsRequest } from './common';
import { CLAUDE_CODE_FIXTURES, FIXTURES_DIR, fixtureRequests } from './fixtures';
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

describe('loki double keeps its entries', { skip: !haveFixtures && 'fixtures not found' }, () => {
  const logs = haveFixtures ? fixtureRequests().filter((r) => r.path === '/v1/logs') : [];
  const strip = (e: LokiDouble): unknown[] => e.entries.map((x) => ({ ...x, ts: x.ts.toString() }));

  test('OTLP protobuf gives the same entries as OTLP JSON', async () => {
    const viaJson = await startLokiDouble({ port: 0, host: '127.0.0.1' });
    const viaProto = await startLokiDouble({ port: 0, host: '127.0.0.1' });
    try {
      for (const r of logs) {
        assert.equal((await post(`http://127.0.0.1:${viaJson.port}/otlp/v1/logs`, r.ct, r.body)).status, 204);
        const proto = encodeLogs(JSON.parse(r.body) as LogsRequest);
        assert.equal((await post(`http://127.0.0.1:${viaProto.port}/otlp/v1/logs`, 'application/x-protobuf', proto)).status, 204);
      }
      assert.equal(viaJson.entries.length, 29); // as the real Loki counted (totalLinesProcessed)
      assert.deepEqual(strip(viaProto), strip(viaJson));
    } finally {
      await viaJson.close();
      await viaProto.close();
    }
  });

  test('across a restart on its data directory, and forgets them on reset', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cct-loki-double-'));
    try {
      const first = await startLokiDouble({ port: 0, host: '127.0.0.1', dataDir });
      for (const r of logs) await post(`http://127.0.0.1:${first.port}/otlp/v1/logs`, r.ct, r.body);
      const accepted = strip(first);
      await first.close();

      const second = await startLokiDouble({ port: 0, host: '127.0.0.1', dataDir });
      assert.deepEqual(strip(second), accepted);
      // A replay after the restart is still a duplicate.
      for (const r of logs) await post(`http://127.0.0.1:${second.port}/otlp/v1/logs`, r.ct, r.body);
      assert.equal(second.entries.length, accepted.length);
      assert.equal((await fetch(`http://127.0.0.1:${second.port}/double/reset`, { method: 'POST' })).status, 204);
      await second.close();

      const third = await startLokiDouble({ port: 0, host: '127.0.0.1', dataDir });
      assert.equal(third.entries.length, 0);
      await third.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
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

  test('keeps the admin password it first started with, checks basic auth, and changes it through the admin API', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grafana-double-'));
    const as = (password: string): RequestInit => ({ headers: { Authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` } });
    try {
      const first = await startGrafanaDouble({ port: 0, host: '127.0.0.1', adminPassword: 'first-password', dataDir });
      await first.close();
      // A later start with another GF_SECURITY_ADMIN_PASSWORD keeps the one on its volume.
      const g = await startGrafanaDouble({ port: 0, host: '127.0.0.1', adminPassword: 'second-password', dataDir });
      const base = `http://127.0.0.1:${g.port}`;
      try {
        assert.equal((await fetch(`${base}/api/user`)).status, 401);
        const rejected = await fetch(`${base}/api/user`, as('second-password'));
        assert.equal(rejected.status, 401);
        assert.deepEqual(await rejected.json(), { message: 'Invalid username or password' });
        assert.equal((await fetch(`${base}/d/claude-code-telemetry`, as('second-password'))).status, 401, 'wrong basic auth is refused on any page');
        assert.equal((await fetch(`${base}/api/health`, as('second-password'))).status, 200, 'but not on the health check');
        const user = await fetch(`${base}/api/user`, as('first-password'));
        assert.equal(user.status, 200);
        assert.deepEqual(await user.json(), { id: 1, login: 'admin', isGrafanaAdmin: true });

        const change = (id: number, password: string, auth: string): Promise<Response> =>
          fetch(`${base}/api/admin/users/${id}/password`, { method: 'PUT', ...as(auth), body: JSON.stringify({ password }) });
        assert.equal((await change(1, 'new-password', 'second-password')).status, 401);
        assert.equal((await change(1, 'abc', 'first-password')).status, 400);
        assert.equal((await change(2, 'new-password', 'first-password')).status, 404);
        const changed = await change(1, 'new-password', 'first-password');
        assert.equal(changed.status, 200);
        assert.deepEqual(await changed.json(), { message: 'User password updated' });
        assert.equal((await fetch(`${base}/api/user`, as('first-password'))).status, 401);
        assert.equal((await fetch(`${base}/api/user`, as('new-password'))).status, 200);
      } finally {
        await g.close();
      }
      // The changed password is on the volume too.
      const third = await startGrafanaDouble({ port: 0, host: '127.0.0.1', adminPassword: 'first-password', dataDir });
      try {
        assert.equal((await fetch(`http://127.0.0.1:${third.port}/api/user`, as('new-password'))).status, 200);
      } finally {
        await third.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
