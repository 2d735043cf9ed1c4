// The test doubles, in-process (no Docker): the Loki double must answer in exactly the shapes the real Loki 3.4.6
// gave (../shared/fixtures/loki-3.4.6) and keep what it accepted across a restart; the Grafana double must refuse
// to start without an admin password, and keep the first one it started with, as Grafana does. (The collector is the
// real one, built from its modules: no double.)
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { repoRoot } from '../support/paths';
import { escapeRegExp } from '../support/regexp';
import type { AnyValue, KeyValue, LogsRequest } from '../doubles/common';
import { CLAUDE_CODE_FIXTURES, FIXTURES_DIR, fixtureRequests } from '../doubles/fixtures';
import { startGrafanaDouble, MissingAdminPasswordError } from '../doubles/grafana';
import {
  LOKI_DEFAULT_LIMITS,
  LokiConfigError,
  formatGoDuration,
  formatModelDuration,
  lokiLimitsFromConfig,
  parseModelDuration,
  readLokiConfigFile,
  startLokiDouble,
  type LokiDouble,
  type LokiLimits,
} from '../doubles/loki';

const LOKI = path.join(FIXTURES_DIR, 'loki-3.4.6');
const haveFixtures = fs.existsSync(CLAUDE_CODE_FIXTURES) && fs.existsSync(LOKI);

const loadJson = (name: string): { status: string; data: Record<string, unknown> } =>
  JSON.parse(fs.readFileSync(path.join(LOKI, name), 'utf8'));

/** The double's clock for the fixtures: a minute after their newest record (Loki refuses entries older than 7 days). */
function fixtureNow(): number {
  let newest = 0n;
  for (const r of fixtureRequests().filter((x) => x.path === '/v1/logs'))
    for (const rl of (JSON.parse(r.body) as LogsRequest).resourceLogs ?? [])
      for (const sl of rl.scopeLogs ?? [])
        for (const rec of sl.logRecords ?? [])
          if (BigInt(rec.timeUnixNano ?? 0) > newest) newest = BigInt(rec.timeUnixNano ?? 0);
  return Number(newest / 1_000_000n) + 60_000;
}
const FIXTURE_NOW = haveFixtures ? fixtureNow() : 0;
const fixtureClock = (): number => FIXTURE_NOW;

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
const keyValue = (kv: KeyValue): Buffer =>
  Buffer.concat([str(1, kv.key), kv.value ? len(2, anyValue(kv.value)) : Buffer.alloc(0)]);
const attrs = (no: number, a: KeyValue[] | undefined): Buffer =>
  Buffer.concat((a ?? []).map((kv) => len(no, keyValue(kv))));
const scope = (s: { name?: string; version?: string } | undefined): Buffer =>
  len(1, Buffer.concat([str(1, s?.name), str(2, s?.version)]));

export function encodeLogs(req: LogsRequest): Buffer {
  return Buffer.concat(
    (req.resourceLogs ?? []).map((rl) =>
      len(
        1,
        Buffer.concat([
          len(1, attrs(1, rl.resource?.attributes)),
          ...(rl.scopeLogs ?? []).map((sl) =>
            len(
              2,
              Buffer.concat([
                scope(sl.scope),
                ...(sl.logRecords ?? []).map((r) =>
                  len(
                    2,
                    Buffer.concat([
                      fixed64(1, r.timeUnixNano),
                      fixed64(11, r.observedTimeUnixNano),
                      r.severityNumber ? Buffer.concat([tag(2, 0), varint(BigInt(r.severityNumber))]) : Buffer.alloc(0),
                      str(3, r.severityText),
                      r.body ? len(5, anyValue(r.body)) : Buffer.alloc(0),
                      attrs(6, r.attributes),
                    ]),
                  ),
                ),
              ]),
            ),
          ),
        ]),
      ),
    ),
  );
}

async function post(url: string, ct: string, body: string | Buffer): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': ct },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
}

describe('loki double answers like Loki 3.4.6', { skip: !haveFixtures && 'fixtures not found' }, () => {
  let loki: LokiDouble;
  let base: string;
  before(async () => {
    loki = await startLokiDouble({ port: 0, host: '127.0.0.1', now: fixtureClock });
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
      assert.deepEqual(
        { ...body, data: { ...body.data, stats: undefined } },
        { ...want, data: { ...want.data, stats: undefined } },
      );
      assert.deepEqual(shape(body.data.stats), shape(want.data.stats));
    });
  instantCase(
    'tool-failures-by-tool.instant.json',
    'sum by (tool_name) (count_over_time({service_name="claude-code"} | event_name="tool_result" | success="false" [3h]))',
  );
  instantCase(
    'cost-by-model-from-events.instant.json',
    'sum by (model) (sum_over_time({service_name="claude-code"} | event_name="api_request" | unwrap cost_usd | __error__="" [3h]))',
  );

  const rangeParams = { start: '1795351000000000000', end: '1795354355000000000', direction: 'backward', limit: '50' };
  test('tool-failures.streams.categorized.json', async () => {
    const want = loadJson('tool-failures.streams.categorized.json');
    const got = await get(
      '/loki/api/v1/query_range',
      { ...rangeParams, query: '{service_name="claude-code"} | event_name="tool_result" | success="false"' },
      { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' },
    );
    assert.equal(got.status, 200, got.text);
    const body = JSON.parse(got.text);
    assert.deepEqual(Object.keys(body.data), Object.keys(want.data));
    assert.deepEqual(body.data.result, want.data.result);
    assert.deepEqual(body.data.encodingFlags, ['categorize-labels']);
  });
  test('api-errors.streams.json', async () => {
    const want = loadJson('api-errors.streams.json');
    const got = await get('/loki/api/v1/query_range', {
      ...rangeParams,
      query: '{service_name="claude-code"} | event_name="api_error"',
    });
    const body = JSON.parse(got.text);
    assert.deepEqual(Object.keys(body.data), Object.keys(want.data));
    assert.deepEqual(body.data.result, want.data.result);
  });
  test('events-by-name.matrix.json', async () => {
    const want = loadJson('events-by-name.matrix.json');
    const got = await get('/loki/api/v1/query_range', {
      query: 'sum by (event_name) (count_over_time({service_name="claude-code"} [5m]))',
      start: '1795351800',
      end: '1795352100',
      step: '300',
    });
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
    const got = await get('/loki/api/v1/query', {
      query: 'sum by (tool_name) (count_over_time({service_name="claude-code"} [3h',
    });
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
  test("every Loki query of the stack's dashboard is answered", async () => {
    const dashboard = JSON.parse(
      fs.readFileSync(path.join(repoRoot, 'stack', 'grafana', 'dashboards', 'claude-code-telemetry.json'), 'utf8'),
    );
    const targets: { expr: string; queryType?: string }[] = [];
    const walk = (o: unknown): void => {
      if (Array.isArray(o)) o.forEach(walk);
      else if (o && typeof o === 'object') {
        const t = o as { expr?: unknown; datasource?: { type?: string }; queryType?: string };
        if (typeof t.expr === 'string' && t.datasource?.type === 'loki')
          targets.push({ expr: t.expr, queryType: t.queryType });
        Object.values(o).forEach(walk);
      }
    };
    walk(dashboard);
    assert.ok(targets.length >= 5, `${targets.length} Loki targets`);
    const end = Math.floor(FIXTURE_NOW / 1000);
    for (const { expr, queryType } of targets) {
      // As Grafana sends them: its variables interpolated ("All" is .*), [$__interval] the step, [$__range] the range.
      const query = expr.replaceAll('$__interval', '1m').replaceAll('$__range', '1h').replace(/\$\w+/g, '.*');
      const got =
        queryType === 'instant'
          ? await get('/loki/api/v1/query', { query, time: String(end) })
          : await get('/loki/api/v1/query_range', {
              query,
              start: String(end - 3600),
              end: String(end),
              step: '60',
              limit: '100',
            });
      assert.equal(got.status, 200, `${query}: ${got.text}`);
    }
  });
});

describe('loki double keeps its entries', { skip: !haveFixtures && 'fixtures not found' }, () => {
  const logs = haveFixtures ? fixtureRequests().filter((r) => r.path === '/v1/logs') : [];
  const strip = (e: LokiDouble): unknown[] => e.entries.map((x) => ({ ...x, ts: x.ts.toString() }));

  test('OTLP protobuf gives the same entries as OTLP JSON', async () => {
    const viaJson = await startLokiDouble({ port: 0, host: '127.0.0.1', now: fixtureClock });
    const viaProto = await startLokiDouble({ port: 0, host: '127.0.0.1', now: fixtureClock });
    try {
      for (const r of logs) {
        assert.equal((await post(`http://127.0.0.1:${viaJson.port}/otlp/v1/logs`, r.ct, r.body)).status, 204);
        const proto = encodeLogs(JSON.parse(r.body) as LogsRequest);
        assert.equal(
          (await post(`http://127.0.0.1:${viaProto.port}/otlp/v1/logs`, 'application/x-protobuf', proto)).status,
          204,
        );
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
      const first = await startLokiDouble({ port: 0, host: '127.0.0.1', dataDir, now: fixtureClock });
      for (const r of logs) await post(`http://127.0.0.1:${first.port}/otlp/v1/logs`, r.ct, r.body);
      const accepted = strip(first);
      await first.close();

      const second = await startLokiDouble({ port: 0, host: '127.0.0.1', dataDir, now: fixtureClock });
      assert.deepEqual(strip(second), accepted);
      // A replay after the restart is still a duplicate.
      for (const r of logs) await post(`http://127.0.0.1:${second.port}/otlp/v1/logs`, r.ct, r.body);
      assert.equal(second.entries.length, accepted.length);
      assert.equal((await fetch(`http://127.0.0.1:${second.port}/double/reset`, { method: 'POST' })).status, 204);
      await second.close();

      const third = await startLokiDouble({ port: 0, host: '127.0.0.1', dataDir, now: fixtureClock });
      assert.equal(third.entries.length, 0);
      await third.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

// --- Loki's refusals, limits and aggregations (no fixtures needed) -------------------------------------------------

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0); // 2026-12-07T12:00:00Z
const SEC = 1000;
const MINUTE = 60 * SEC;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ns = (ms: number): bigint => BigInt(ms) * 1_000_000n;
const s = (ms: number): string => String(ms / 1000);

type Rec = { ms: number; attrs?: Record<string, string>; body?: string };
/** One OTLP logs request, one resource (service.name `claude-code` unless given). */
function logs(records: Rec[], resource: Record<string, string> = { 'service.name': 'claude-code' }): LogsRequest {
  const kv = (o: Record<string, string>): KeyValue[] =>
    Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }));
  return {
    resourceLogs: [
      {
        resource: { attributes: kv(resource) },
        scopeLogs: [
          {
            logRecords: records.map((r) => ({
              timeUnixNano: ns(r.ms).toString(),
              body: { stringValue: r.body ?? 'claude_code.tool_result' },
              attributes: kv(r.attrs ?? {}),
            })),
          },
        ],
      },
    ],
  };
}

/** The message of a google.rpc.Status (field 2), read by hand. */
function rpcStatus(bytes: Buffer): { code: number; message: string } {
  let at = 0;
  let code = 0;
  let message = '';
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  while (at < bytes.length) {
    const tag = varint();
    if (tag === 0x08) code = varint();
    else if (tag === 0x12) {
      const n = varint();
      message = bytes.subarray(at, at + n).toString('utf8');
      at += n;
    } else throw new Error(`unexpected tag ${tag}`);
  }
  return { code, message };
}

async function startAt(
  clock: { now: number },
  limits: Partial<LokiLimits> = {},
): Promise<{ loki: LokiDouble; url: string }> {
  const loki = await startLokiDouble({ port: 0, host: '127.0.0.1', now: () => clock.now, limits });
  return { loki, url: `http://127.0.0.1:${loki.port}` };
}

async function pushOtlp(
  url: string,
  req: LogsRequest | string,
  ct = 'application/json',
): Promise<{ status: number; ct: string; message: string; code: number }> {
  const res = await post(`${url}/otlp/v1/logs`, ct, typeof req === 'string' ? req : JSON.stringify(req));
  const body = Buffer.from(await res.arrayBuffer());
  const status = res.status === 204 ? { code: 0, message: '' } : rpcStatus(body);
  return { status: res.status, ct: res.headers.get('content-type') ?? '', ...status };
}

async function query(
  url: string,
  p: string,
  params: Record<string, string>,
): Promise<{
  status: number;
  ct: string;
  text: string;
  json: () => {
    data: {
      resultType: string;
      result: {
        metric: Record<string, string>;
        value?: [number, string];
        values?: [number, string][];
        stream?: Record<string, string>;
      }[];
    };
  };
}> {
  const res = await fetch(`${url}${p}?${new URLSearchParams(params)}`);
  const text = await res.text();
  return { status: res.status, ct: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) };
}

const STREAM = '{service_name="claude-code"}';
const D = (text: string): bigint => parseModelDuration(text);

describe('loki double refuses pushes as Loki 3.4.6', () => {
  test('an OTLP request without records is a 422, a protobuf google.rpc.Status whatever the request was', async () => {
    const clock = { now: T0 };
    const { loki, url } = await startAt(clock);
    try {
      for (const [ct, body] of [
        ['application/json', '{}'],
        ['application/json', JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [] }] }] })],
        ['application/x-protobuf', Buffer.alloc(0)],
      ] as const) {
        const res = await post(`${url}/otlp/v1/logs`, ct, body);
        assert.equal(res.status, 422);
        assert.equal(res.headers.get('content-type'), 'application/octet-stream');
        assert.deepEqual(rpcStatus(Buffer.from(await res.arrayBuffer())), {
          code: 0,
          message: 'error at least one valid stream is required for ingestion',
        });
      }
      assert.equal((await pushOtlp(url, logs([{ ms: T0 }]))).status, 204);
    } finally {
      await loki.close();
    }
  });

  test('a content type other than exactly application/json or application/x-protobuf is a 400', async () => {
    const { loki, url } = await startAt({ now: T0 });
    try {
      for (const ct of ['text/plain', 'application/json; charset=utf-8', 'application/protobuf']) {
        const got = await pushOtlp(url, logs([{ ms: T0 }]), ct);
        assert.deepEqual([got.status, got.message], [400, `content type: ${ct} is not supported`]);
      }
      assert.equal(loki.entries.length, 0);
    } finally {
      await loki.close();
    }
  });

  test('too old (strictly before now - reject_old_samples_max_age) and too new (after now + 10m): the distributor refuses them', async () => {
    const clock = { now: T0 };
    const { loki, url } = await startAt(clock);
    try {
      const old = await pushOtlp(url, logs([{ ms: T0 - 7 * DAY - SEC }]));
      assert.equal(old.status, 400);
      assert.equal(old.ct, 'application/octet-stream');
      assert.equal(
        old.message,
        `entry for stream '${STREAM}' has timestamp too old: 2026-11-30T11:59:59Z, oldest acceptable timestamp is: 2026-11-30T12:00:00Z`,
      );
      const newer = await pushOtlp(url, logs([{ ms: T0 + 10 * MINUTE + SEC }]));
      assert.deepEqual(
        [newer.status, newer.message],
        [400, `entry for stream '${STREAM}' has timestamp too new: 2026-12-07T12:10:01Z`],
      );
      assert.equal(loki.entries.length, 0);
      // The bounds themselves are accepted.
      assert.equal((await pushOtlp(url, logs([{ ms: T0 - 7 * DAY }, { ms: T0 + 10 * MINUTE }]))).status, 204);
      assert.equal(loki.entries.length, 2);
    } finally {
      await loki.close();
    }
    // Configurable: off, or another age.
    const off = await startAt({ now: T0 }, { rejectOldSamples: false });
    const month = await startAt({ now: T0 }, { rejectOldSamplesMaxAge: D('30d') });
    try {
      assert.equal((await pushOtlp(off.url, logs([{ ms: T0 - 400 * DAY }]))).status, 204);
      assert.equal((await pushOtlp(month.url, logs([{ ms: T0 - 29 * DAY }]))).status, 204);
      assert.match(
        (await pushOtlp(month.url, logs([{ ms: T0 - 31 * DAY }]))).message,
        /too old: 2026-11-06T12:00:00Z, oldest acceptable timestamp is: 2026-11-07T12:00:00Z$/,
      );
    } finally {
      await off.loki.close();
      await month.loki.close();
    }
  });

  test('a batch mixing refused and valid entries: the valid ones are stored, the answer is a 400 with the grouped errors', async () => {
    const { loki, url } = await startAt({ now: T0 });
    try {
      const got = await pushOtlp(
        url,
        logs([
          { ms: T0 - 8 * DAY, body: 'old' },
          { ms: T0 - MINUTE, body: 'ok 1' },
          { ms: T0 + HOUR, body: 'future' },
          { ms: T0, body: 'ok 2' },
        ]),
      );
      assert.equal(got.status, 400);
      assert.equal(
        got.message,
        [
          `1 errors like: entry for stream '${STREAM}' has timestamp too old: 2026-11-29T12:00:00Z, oldest acceptable timestamp is: 2026-11-30T12:00:00Z`,
          `1 errors like: entry for stream '${STREAM}' has timestamp too new: 2026-12-07T13:00:00Z`,
        ].join('; '),
      );
      assert.deepEqual(
        loki.entries.map((e) => e.line),
        ['ok 1', 'ok 2'],
      );
      // Every entry refused: still a 400 with the errors (the 422 is for a request without any), the same message twice counted.
      const all = await pushOtlp(
        url,
        logs([
          { ms: T0 - 8 * DAY, body: 'a' },
          { ms: T0 - 8 * DAY, body: 'b' },
        ]),
      );
      assert.deepEqual(
        [all.status, all.message],
        [
          400,
          `2 errors like: entry for stream '${STREAM}' has timestamp too old: 2026-11-29T12:00:00Z, oldest acceptable timestamp is: 2026-11-30T12:00:00Z`,
        ],
      );
    } finally {
      await loki.close();
    }
  });

  test('too far behind its stream (strictly before newest - max_chunk_age/2): the ingester refuses it, the newest moving entry by entry', async () => {
    const clock = { now: T0 };
    const { loki, url } = await startAt(clock);
    try {
      assert.equal((await pushOtlp(url, logs([{ ms: T0, body: 'newest' }]))).status, 204);
      const got = await pushOtlp(
        url,
        logs([
          { ms: T0 - HOUR, body: 'at the cutoff' },
          { ms: T0 - HOUR - SEC, body: 'behind' },
        ]),
      );
      assert.equal(got.status, 400);
      assert.equal(
        got.message,
        "entry with timestamp 2026-12-07 10:59:59 +0000 UTC ignored, reason: 'entry too far behind, entry timestamp is: 2026-12-07T10:59:59Z, oldest acceptable timestamp is: 2026-12-07T11:00:00Z',\n" +
          `user 'fake', total ignored: 1 out of 2 for stream: ${STREAM}`,
      );
      assert.deepEqual(
        loki.entries.map((e) => e.line),
        ['newest', 'at the cutoff'],
      );
      // Within one push: the second entry is judged against the first one's timestamp.
      clock.now = T0 + 3 * HOUR;
      const moving = await pushOtlp(
        url,
        logs([
          { ms: T0 + 2 * HOUR + 500, body: 'later' },
          { ms: T0 + 30 * MINUTE, body: 'earlier' },
        ]),
      );
      assert.equal(
        moving.message,
        "entry with timestamp 2026-12-07 12:30:00 +0000 UTC ignored, reason: 'entry too far behind, entry timestamp is: 2026-12-07T12:30:00Z, oldest acceptable timestamp is: 2026-12-07T13:00:00Z',\n" +
          `user 'fake', total ignored: 1 out of 2 for stream: ${STREAM}`,
      );
      // Another stream has a newest of its own.
      assert.equal(
        (await pushOtlp(url, logs([{ ms: T0 }], { 'service.name': 'claude-code', 'service.instance.id': 'other' })))
          .status,
        204,
      );
      // Ten lines at most, the total counts them all; an ingester error replaces the distributor's.
      const many = await pushOtlp(
        url,
        logs([
          { ms: T0 - 9 * DAY, body: 'too old' },
          ...Array.from({ length: 12 }, (_, i) => ({ ms: T0 + i * SEC, body: `behind ${i}` })),
          { ms: T0 + 3 * HOUR, body: 'fine' },
        ]),
      );
      assert.equal(many.status, 400);
      const lines = many.message.split('\n');
      assert.equal(lines.length, 11);
      // (The newest is 14:00:00.5: the cutoff prints in whole seconds, as Go's RFC3339 does.)
      assert.equal(
        lines[9],
        "entry with timestamp 2026-12-07 12:00:09 +0000 UTC ignored, reason: 'entry too far behind, entry timestamp is: 2026-12-07T12:00:09Z, oldest acceptable timestamp is: 2026-12-07T13:00:00Z',",
      );
      assert.equal(lines[10], `user 'fake', total ignored: 12 out of 13 for stream: ${STREAM}`);
      assert.ok(loki.entries.some((e) => e.line === 'fine'));
    } finally {
      await loki.close();
    }
  });

  test('the out-of-order window is forgotten once the stream has been idle longer than chunk_idle_period, as Loki flushes and drops it', async () => {
    const clock = { now: T0 };
    const { loki, url } = await startAt(clock);
    try {
      assert.equal((await pushOtlp(url, logs([{ ms: T0, body: 'newest' }]))).status, 204);
      const behind = logs([{ ms: T0 - 2 * HOUR, body: 'two hours behind' }]);
      clock.now = T0 + 30 * MINUTE; // idle exactly chunk_idle_period: still there (a refusal does not count as a write)
      assert.equal((await pushOtlp(url, behind)).status, 400);
      clock.now = T0 + 30 * MINUTE + 1;
      assert.equal((await pushOtlp(url, behind)).status, 204);
      assert.deepEqual(
        loki.entries.map((e) => e.line),
        ['newest', 'two hours behind'],
      );
    } finally {
      await loki.close();
    }
    // Both configurable: a wider window (max_chunk_age 24h: 12 h), a shorter idle period.
    const clock2 = { now: T0 };
    const wide = await startAt(clock2, { maxChunkAge: D('1d'), chunkIdlePeriod: D('1m') });
    try {
      await pushOtlp(wide.url, logs([{ ms: T0 }]));
      assert.equal((await pushOtlp(wide.url, logs([{ ms: T0 - 11 * HOUR }]))).status, 204);
      assert.equal((await pushOtlp(wide.url, logs([{ ms: T0 - 13 * HOUR }]))).status, 400);
      clock2.now += MINUTE + 1;
      assert.equal((await pushOtlp(wide.url, logs([{ ms: T0 - 13 * HOUR }]))).status, 204);
    } finally {
      await wide.loki.close();
    }
  });
});

describe('loki double limits queries as Loki 3.4.6', () => {
  const SELECTOR = '{service_name="claude-code"}';
  const seed = (loki: LokiDouble): void => {
    // Seeded without the push checks (as if Loki had taken them before the lookback moved on).
    loki.push(
      logs([
        { ms: T0 - 40 * DAY, body: '40d', attrs: { n: '40' } },
        { ms: T0 - 20 * DAY, body: '20d', attrs: { n: '20' } },
        { ms: T0 - HOUR, body: '1h', attrs: { n: '1' } },
        { ms: T0 - 10 * MINUTE, body: '10m', attrs: { n: '0.1' } },
      ]),
    );
  };
  const value = (r: Awaited<ReturnType<typeof query>>): string | undefined => r.json().data.result[0]?.value?.[1];
  const lookback30d = { maxQueryLookback: D('30d') };
  const stackLimits = (): LokiLimits =>
    lokiLimitsFromConfig(fs.readFileSync(path.join(repoRoot, 'stack', 'loki', 'config.yaml'), 'utf8'), {});

  test('max_query_lookback: a query ending before it is an empty 200 of its kind, an earlier start is clamped', async () => {
    const { loki, url } = await startAt({ now: T0 }, lookback30d);
    seed(loki);
    try {
      const old = { start: s(T0 - 60 * DAY), end: s(T0 - 35 * DAY) };
      const logsBefore = await query(url, '/loki/api/v1/query_range', { ...old, query: SELECTOR });
      assert.equal(logsBefore.status, 200, logsBefore.text);
      assert.deepEqual([logsBefore.json().data.resultType, logsBefore.json().data.result], ['streams', []]);
      const matrixBefore = await query(url, '/loki/api/v1/query_range', {
        ...old,
        step: '3600',
        query: `sum(count_over_time(${SELECTOR}[1h]))`,
      });
      assert.deepEqual(
        [matrixBefore.status, matrixBefore.json().data.resultType, matrixBefore.json().data.result],
        [200, 'matrix', []],
      );
      const instantBefore = await query(url, '/loki/api/v1/query', {
        time: s(T0 - 31 * DAY),
        query: `sum(count_over_time(${SELECTOR}[1h]))`,
      });
      assert.deepEqual(
        [instantBefore.status, instantBefore.json().data.resultType, instantBefore.json().data.result],
        [200, 'vector', []],
      );

      // 32 days of logs: clamped to 30 (the 40-day-old entry is not read), 200.
      const clamped = await query(url, '/loki/api/v1/query_range', {
        start: s(T0 - 32 * DAY),
        end: s(T0),
        query: SELECTOR,
        limit: '100',
      });
      assert.equal(clamped.status, 200, clamped.text);
      assert.deepEqual(
        clamped.json().data.result.flatMap((r) => r.values!.map((v) => v[1])),
        ['10m', '1h', '20d'],
      );
    } finally {
      await loki.close();
    }
  });

  test('an instant [90d] past a 30d lookback: 400 where Loki splits it (sum of count_over_time), clamped where it does not', async () => {
    const { loki, url } = await startAt({ now: T0 }, lookback30d);
    seed(loki);
    const stack = await startAt({ now: T0 }, stackLimits());
    seed(stack.loki);
    try {
      const count90d = `sum(count_over_time(${SELECTOR}[90d]))`;
      const split = await query(url, '/loki/api/v1/query', { time: s(T0), query: count90d });
      assert.equal(split.status, 400);
      assert.match(split.ct, /^text\/plain/);
      assert.equal(split.text, 'this data is no longer available, it is past now - max_query_lookback (30d)\n');
      // avg_over_time is not split by range: the querier clamps it to the last 30 days.
      const avg = await query(url, '/loki/api/v1/query', {
        time: s(T0),
        query: `avg_over_time(${SELECTOR} | unwrap n [90d])`,
      });
      assert.equal(avg.status, 200, avg.text);
      assert.ok(Math.abs(Number(value(avg)) - (20 + 1 + 0.1) / 3) < 1e-9, avg.text);
      // An offset reaching wholly past the lookback: the querier's through is before its clamped from.
      const offset = await query(url, '/loki/api/v1/query', {
        time: s(T0),
        query: `sum(count_over_time(${SELECTOR}[5m] offset 31d))`,
      });
      assert.deepEqual(
        [offset.status, offset.text],
        [400, 'this data is no longer available, it is past now - max_query_lookback (30d)\n'],
      );
      // The stack's own config (split_instant_metric_queries_by_interval: 0): clamped, 200.
      const unsplit = await query(stack.url, '/loki/api/v1/query', { time: s(T0), query: count90d });
      assert.equal(unsplit.status, 200, unsplit.text);
      assert.equal(value(unsplit), '3');
    } finally {
      await loki.close();
      await stack.loki.close();
    }
  });

  test("max_query_length (721h by default): the frontend's on end - start, the querier's with the range vector", async () => {
    const { loki, url } = await startAt({ now: T0 });
    seed(loki);
    try {
      const long = { start: s(T0 - 32 * DAY), end: s(T0) };
      const logs32d = await query(url, '/loki/api/v1/query_range', { ...long, query: SELECTOR });
      assert.deepEqual(
        [logs32d.status, logs32d.text],
        [400, 'the query time range exceeds the limit (query length: 768h0m0s, limit: 30d1h)\n'],
      );
      const metric32d = await query(url, '/loki/api/v1/query_range', {
        ...long,
        step: '3600',
        query: `sum(count_over_time(${SELECTOR}[1m]))`,
      });
      assert.equal(metric32d.text, 'the query time range exceeds the limit (query length: 768h0m0s, limit: 30d1h)\n');
      // Unsplit by range (avg_over_time), an instant [90d] reads 2160h at the querier.
      const avg = await query(url, '/loki/api/v1/query', {
        time: s(T0),
        query: `avg_over_time(${SELECTOR} | unwrap n [90d])`,
      });
      assert.deepEqual(
        [avg.status, avg.text],
        [400, 'the query time range exceeds the limit (query length: 2160h0m0.000000001s, limit: 30d1h)\n'],
      );
      // Split into 1h pieces, the same range passes (and, no lookback, counts everything).
      const count = await query(url, '/loki/api/v1/query', {
        time: s(T0),
        query: `sum(count_over_time(${SELECTOR}[90d]))`,
      });
      assert.deepEqual([count.status, value(count)], [200, '4']);
    } finally {
      await loki.close();
    }
    const unsplit = await startAt({ now: T0 }, { splitQueriesByInterval: 0n });
    const off = await startAt({ now: T0 }, { maxQueryLength: 0n });
    try {
      const range = await query(unsplit.url, '/loki/api/v1/query_range', {
        start: s(T0 - HOUR),
        end: s(T0),
        step: '60',
        query: `sum(count_over_time(${SELECTOR}[800h]))`,
      });
      assert.deepEqual(
        [range.status, range.text],
        [400, 'the query time range exceeds the limit (query length: 801h0m0.000000001s, limit: 30d1h)\n'],
      );
      assert.equal(
        (await query(off.url, '/loki/api/v1/query_range', { start: s(T0 - 32 * DAY), end: s(T0), query: SELECTOR }))
          .status,
        200,
      );
    } finally {
      await unsplit.loki.close();
      await off.loki.close();
    }
  });

  test('a metric range query split by the hour: a first split of a single step before the lookback is a 400; the points on the step grid', async () => {
    // now - 30d at :40, a 30-minute step: the start aligns down to :30, the last step before the hour, alone in its split.
    const at40 = Date.UTC(2026, 11, 7, 12, 40, 0);
    const at10 = Date.UTC(2026, 11, 7, 12, 10, 0);
    const params = (now: number) => ({
      start: s(now - 30 * DAY - 30 * MINUTE),
      end: s(now),
      step: '1800',
      query: `sum(count_over_time(${SELECTOR}[30m]))`,
    });
    const edge = await startAt({ now: at40 }, lookback30d);
    const fine = await startAt({ now: at10 }, lookback30d);
    const stack = await startAt({ now: at40 }, stackLimits());
    try {
      const refused = await query(edge.url, '/loki/api/v1/query_range', params(at40));
      assert.deepEqual(
        [refused.status, refused.text],
        [400, 'this data is no longer available, it is past now - max_query_lookback (30d)\n'],
      );
      fine.loki.push(logs([{ ms: at10 - 2 * MINUTE }]));
      const answered = await query(fine.url, '/loki/api/v1/query_range', params(at10));
      assert.equal(answered.status, 200, answered.text);
      // Start aligned down to the step (12:00, before now - 30d = 12:10), end up (12:30): points on the grid.
      const points = answered.json().data.result[0].values!;
      assert.ok(
        points.every(([t]) => t % 1800 === 0),
        JSON.stringify(points),
      );
      assert.deepEqual(points.at(-1), [(at10 + 20 * MINUTE) / 1000, '1']);
      // Unsplit (the stack's config), Loki clamps the start and answers.
      assert.equal((await query(stack.url, '/loki/api/v1/query_range', params(at40))).status, 200);
    } finally {
      await edge.loki.close();
      await fine.loki.close();
      await stack.loki.close();
    }
  });

  test('more than 11,000 points per series is a 400 on the request as sent, log queries too', async () => {
    const { loki, url } = await startAt({ now: T0 }, lookback30d);
    try {
      const text =
        'exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter\n';
      const month = { start: s(T0 - 30 * DAY), end: s(T0), step: '60' };
      for (const q of [`sum(count_over_time(${SELECTOR}[1m]))`, SELECTOR]) {
        const got = await query(url, '/loki/api/v1/query_range', { ...month, query: q });
        assert.deepEqual([got.status, got.text], [400, text]);
      }
      // Exactly 11,000 steps pass; 60 days at 300 s are refused though the lookback would have clamped them to 8,640.
      assert.equal(
        (
          await query(url, '/loki/api/v1/query_range', {
            start: s(T0 - 11000 * 60 * SEC),
            end: s(T0),
            step: '60',
            query: `sum(count_over_time(${SELECTOR}[1m]))`,
          })
        ).status,
        200,
      );
      const sixtyDays = await query(url, '/loki/api/v1/query_range', {
        start: s(T0 - 60 * DAY),
        end: s(T0),
        step: '300',
        query: SELECTOR,
      });
      assert.deepEqual([sixtyDays.status, sixtyDays.text], [400, text]);
    } finally {
      await loki.close();
    }
  });

  test('max_query_series (500 by default) on a metric answer', async () => {
    const { loki, url } = await startAt({ now: T0 }, { maxQuerySeries: 2 });
    seed(loki);
    try {
      const got = await query(url, '/loki/api/v1/query', { time: s(T0), query: `count_over_time(${SELECTOR}[90d])` });
      assert.deepEqual([got.status, got.text], [400, 'maximum of series (2) reached for a single query\n']);
      assert.equal(
        (await query(url, '/loki/api/v1/query', { time: s(T0), query: `sum(count_over_time(${SELECTOR}[90d]))` }))
          .status,
        200,
      );
    } finally {
      await loki.close();
    }
  });
});

describe('loki double aggregates as Loki 3.4.6', () => {
  let loki: LokiDouble;
  let url: string;
  before(async () => {
    ({ loki, url } = await startAt({ now: T0 }));
    loki.push(
      logs(
        [
          { ms: T0 - 50 * SEC, body: 'aaaa', attrs: { tool_name: 'A', session_id: 's1', duration_ms: '10' } },
          { ms: T0 - 40 * SEC, body: 'bb', attrs: { tool_name: 'A', session_id: 's1', duration_ms: '20' } },
          { ms: T0 - 30 * SEC, body: 'c', attrs: { tool_name: 'A', session_id: 's2', duration_ms: '100' } },
          { ms: T0 - 20 * SEC, body: 'dddddd', attrs: { tool_name: 'B', session_id: 's3', duration_ms: '5' } },
          { ms: T0 - 10 * SEC, body: 'e', attrs: { tool_name: 'B', session_id: 's3', duration_ms: '' } },
          { ms: T0 - 5 * SEC, body: 'f', attrs: { tool_name: 'B', session_id: 's3' } },
          { ms: T0 - 4 * SEC, body: 'g', attrs: { tool_name: 'C', session_id: 's4', duration_ms: 'fast' } },
        ],
        { 'service.name': 'svc' },
      ),
    );
    loki.push(logs([{ ms: T0 - 3 * SEC, attrs: { took: '1.5s', size: '2KiB' } }], { 'service.name': 'conv' }));
  });
  after(() => loki.close());

  const SVC = '{service_name="svc"}';
  const UNWRAP = `${SVC} | unwrap duration_ms | __error__=""`;
  const instant = async (q: string): Promise<Record<string, string>> => {
    const got = await query(url, '/loki/api/v1/query', { time: s(T0), query: q });
    assert.equal(got.status, 200, `${q}: ${got.text}`);
    return Object.fromEntries(
      got.json().data.result.map((r) => [
        Object.entries(r.metric)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
        r.value![1],
      ]),
    );
  };

  test('count_over_time, rate, bytes_over_time, bytes_rate', async () => {
    assert.deepEqual(await instant(`sum(count_over_time(${SVC}[1m]))`), { '': '7' });
    assert.deepEqual(await instant(`sum(rate(${SVC}[1m]))`), { '': String(7 / 60) });
    assert.deepEqual(await instant(`sum(bytes_over_time(${SVC}[1m]))`), { '': '16' });
    assert.deepEqual(await instant(`sum(bytes_rate(${SVC}[1m]))`), { '': String(16 / 60) });
    assert.deepEqual(await instant(`sum(count_over_time(${SVC}[30s] offset 20s))`), { '': '3' });
  });

  test('unwrap: every label but the unwrapped one, entries without it skipped, conversion failures an __error__', async () => {
    const got = await query(url, '/loki/api/v1/query', { time: s(T0), query: `avg_over_time(${UNWRAP} [1m])` });
    assert.equal(got.status, 200, got.text);
    const result = got.json().data.result;
    assert.deepEqual(
      result.map((r) => r.metric),
      [
        { detected_level: 'unknown', service_name: 'svc', session_id: 's1', tool_name: 'A' },
        { detected_level: 'unknown', service_name: 'svc', session_id: 's2', tool_name: 'A' },
        { detected_level: 'unknown', service_name: 'svc', session_id: 's3', tool_name: 'B' },
      ],
    );
    assert.deepEqual(
      result.map((r) => r.value![1]),
      ['15', '100', '5'],
    );
    const failing = await query(url, '/loki/api/v1/query', {
      time: s(T0),
      query: `avg_over_time(${SVC} | unwrap duration_ms [1m])`,
    });
    assert.equal(failing.status, 400);
    assert.match(
      failing.text,
      /^pipeline error: 'SampleExtractionErr' for series: '\{__error__="SampleExtractionErr", __error_details__="strconv.ParseFloat: parsing \\"fast\\": invalid syntax", detected_level="unknown", duration_ms="fast", service_name="svc", session_id="s4", tool_name="C"\}'/,
    );
    assert.deepEqual(await instant(`sum(avg_over_time({service_name="conv"} | unwrap duration(took) [1m]))`), {
      '': '1.5',
    });
    assert.deepEqual(await instant(`sum(sum_over_time({service_name="conv"} | unwrap bytes(size) [1m]))`), {
      '': '2048',
    });
  });

  test('the range aggregations over unwrapped values', async () => {
    const bySession = async (op: string): Promise<Record<string, string>> =>
      instant(`sum by (session_id) (${op}(${UNWRAP} [1m]))`);
    assert.deepEqual(await bySession('sum_over_time'), {
      'session_id=s1': '30',
      'session_id=s2': '100',
      'session_id=s3': '5',
    });
    assert.deepEqual(await bySession('max_over_time'), {
      'session_id=s1': '20',
      'session_id=s2': '100',
      'session_id=s3': '5',
    });
    assert.deepEqual(await bySession('min_over_time'), {
      'session_id=s1': '10',
      'session_id=s2': '100',
      'session_id=s3': '5',
    });
    assert.deepEqual(await bySession('first_over_time'), {
      'session_id=s1': '10',
      'session_id=s2': '100',
      'session_id=s3': '5',
    });
    assert.deepEqual(await bySession('last_over_time'), {
      'session_id=s1': '20',
      'session_id=s2': '100',
      'session_id=s3': '5',
    });
    assert.deepEqual(await bySession('stddev_over_time'), {
      'session_id=s1': '5',
      'session_id=s2': '0',
      'session_id=s3': '0',
    });
    assert.deepEqual(await bySession('stdvar_over_time'), {
      'session_id=s1': '25',
      'session_id=s2': '0',
      'session_id=s3': '0',
    });
    assert.deepEqual(await instant(`sum by (session_id) (quantile_over_time(0.9, ${UNWRAP} [1m]))`), {
      'session_id=s1': '19',
      'session_id=s2': '100',
      'session_id=s3': '5',
    });
    assert.deepEqual(await instant(`sum(rate(${UNWRAP} [1m]))`), { '': String(135 / 60) });
    // A grouping on the range aggregation itself groups the samples (all of tool A's, not per series).
    assert.deepEqual(await instant(`avg_over_time(${UNWRAP} [1m]) by (tool_name)`), {
      'tool_name=A': String(130 / 3),
      'tool_name=B': '5',
    });
  });

  test('vector aggregations: avg averages the series (unweighted), min, max, count, by and without', async () => {
    // The dashboard's tool-duration panel.
    assert.deepEqual(await instant(`avg by (tool_name) (avg_over_time(${UNWRAP} [1m]))`), {
      'tool_name=A': '57.5',
      'tool_name=B': '5',
    });
    assert.deepEqual(await instant(`max by (tool_name) (max_over_time(${UNWRAP} [1m]))`), {
      'tool_name=A': '100',
      'tool_name=B': '5',
    });
    assert.deepEqual(await instant(`min by (tool_name) (min_over_time(${UNWRAP} [1m]))`), {
      'tool_name=A': '10',
      'tool_name=B': '5',
    });
    assert.deepEqual(await instant(`count by (tool_name) (avg_over_time(${UNWRAP} [1m]))`), {
      'tool_name=A': '2',
      'tool_name=B': '1',
    });
    assert.deepEqual(await instant(`count(avg_over_time(${UNWRAP} [1m]))`), { '': '3' });
    assert.deepEqual(await instant(`sum without (session_id, detected_level) (sum_over_time(${UNWRAP} [1m]))`), {
      'service_name=svc,tool_name=A': '130',
      'service_name=svc,tool_name=B': '5',
    });
    // A label the series lack folds into {}.
    assert.deepEqual(await instant(`avg by (nope) (avg_over_time(${UNWRAP} [1m]))`), {
      '': String((15 + 100 + 5) / 3),
    });
    // The same in a range query, at each step.
    const range = await query(url, '/loki/api/v1/query_range', {
      start: s(T0 - MINUTE),
      end: s(T0),
      step: '30',
      query: `avg by (tool_name) (avg_over_time(${UNWRAP} [1m]))`,
    });
    assert.equal(range.status, 200, range.text);
    assert.deepEqual(
      range.json().data.result.map((r) => [r.metric, r.values!.at(-1)]),
      [
        [{ tool_name: 'A' }, [T0 / 1000, '57.5']],
        [{ tool_name: 'B' }, [T0 / 1000, '5']],
      ],
    );
  });

  test("Loki's parse errors for misused aggregations; anything else unsupported is a 400 naming the double", async () => {
    const cases: [string, string | RegExp][] = [
      [`count_over_time(${UNWRAP} [1m])`, 'parse error : invalid aggregation count_over_time with unwrap\n'],
      [`sum_over_time(${SVC} [1m])`, 'parse error : invalid aggregation sum_over_time without unwrap\n'],
      [`quantile_over_time(${UNWRAP} [1m])`, /^parse error/],
      [
        `sum_over_time(${UNWRAP} [1m]) by (tool_name)`,
        'parse error : grouping not allowed for sum_over_time aggregation\n',
      ],
      [`topk(2, count_over_time(${SVC}[1m]))`, /Loki test double/],
      [`sum(count_over_time(${SVC} | json [1m]))`, /Loki test double/],
      [`absent_over_time(${SVC}[1m])`, /Loki test double/],
    ];
    for (const [q, want] of cases) {
      const got = await query(url, '/loki/api/v1/query', { time: s(T0), query: q });
      assert.equal(got.status, 400, q);
      if (typeof want === 'string') assert.equal(got.text, want, q);
      else assert.match(got.text, want, q);
    }
  });
});

describe("loki double reads Loki's config file", () => {
  const stackConfig = fs.readFileSync(path.join(repoRoot, 'stack', 'loki', 'config.yaml'), 'utf8');

  test('stack/loki/config.yaml, with -config.expand-env=true, for CCT_RETENTION_DAYS unset, 1 and 3650', () => {
    for (const days of [undefined, '1', '3650']) {
      const limits = lokiLimitsFromConfig(stackConfig, days === undefined ? {} : { CCT_RETENTION_DAYS: days });
      const retention = BigInt(days ?? '30') * 86_400_000_000_000n;
      // What the file sets from the variable follows it (whatever the file holds today).
      if (/max_query_lookback: \$\{CCT_RETENTION_DAYS:-30\}d/.test(stackConfig))
        assert.equal(limits.maxQueryLookback, retention);
      if (/reject_old_samples_max_age: \$\{CCT_RETENTION_DAYS:-30\}d/.test(stackConfig))
        assert.equal(limits.rejectOldSamplesMaxAge, retention);
    }
  });

  test("Loki's defaults, Prometheus durations in limits_config, Go durations in the ingester", () => {
    assert.deepEqual(lokiLimitsFromConfig(''), LOKI_DEFAULT_LIMITS);
    assert.deepEqual(
      lokiLimitsFromConfig('auth_enabled: false\nlimits_config:\n  allow_structured_metadata: true\n'),
      LOKI_DEFAULT_LIMITS,
    );
    const limits = lokiLimitsFromConfig(
      [
        'limits_config:',
        '  reject_old_samples: false',
        '  reject_old_samples_max_age: 1w',
        '  max_query_lookback: ${DAYS:-30}d',
        '  max_query_length: 0',
        '  split_queries_by_interval: 1d12h',
        '  split_instant_metric_queries_by_interval: "0"',
        '  max_query_series: 100',
        'ingester:',
        '  max_chunk_age: 24h',
        '  chunk_idle_period: 1h30m',
      ].join('\n'),
      { DAYS: '' },
    );
    assert.deepEqual(limits, {
      ...LOKI_DEFAULT_LIMITS,
      rejectOldSamples: false,
      rejectOldSamplesMaxAge: D('7d'),
      maxQueryLookback: D('30d'),
      maxQueryLength: 0n,
      splitQueriesByInterval: D('36h'),
      splitInstantMetricQueriesByInterval: 0n,
      maxQuerySeries: 100,
      maxChunkAge: D('24h'),
      chunkIdlePeriod: D('90m'),
    });
    assert.equal(
      lokiLimitsFromConfig('limits_config:\n  max_query_lookback: ${DAYS}d\n', { DAYS: '90' }).maxQueryLookback,
      D('90d'),
    );
  });

  test('what Loki refuses, refused with its message', () => {
    const refuses = (yaml: string, message: string): void =>
      assert.throws(
        () => lokiLimitsFromConfig(yaml, {}),
        (err: unknown) => err instanceof LokiConfigError && err.message === message,
        yaml,
      );
    refuses('limits_config:\n  max_query_lookback: 30x\n', 'unknown unit "x" in duration "30x"');
    refuses('limits_config:\n  max_query_lookback: 1.5d\n', 'unknown unit "." in duration "1.5d"');
    refuses('limits_config:\n  max_query_length: 1h1d\n', 'not a valid duration string: "1h1d"');
    refuses('limits_config:\n  max_query_length: 30\n', 'not a valid duration string: "30"');
    refuses('limits_config:\n  max_query_length: ""\n', 'empty duration string');
    refuses(
      'ingester:\n  max_chunk_age: 1d\n',
      'yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str `1d` into time.Duration',
    );
    refuses(
      'ingester:\n  chunk_idle_period: 1800\n',
      'yaml: unmarshal errors:\n  line 2: cannot unmarshal !!int `1800` into time.Duration',
    );
    refuses(
      'limits_config:\n  reject_old_samples: maybe\n',
      'yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str `maybe` into bool',
    );
    refuses('limits_config:\n  max_query_lookback: ${DAYS\n', 'missing closing brace');
    assert.throws(() => lokiLimitsFromConfig('a: ${X/y/z}\n', {}), /does not expand/);
  });

  test('durations printed as Loki prints them', () => {
    assert.deepEqual([D('720h'), D('28d'), D('721h'), D('365d'), D('90d'), 0n].map(formatModelDuration), [
      '30d',
      '4w',
      '30d1h',
      '1y',
      '90d',
      '0s',
    ]);
    assert.deepEqual(
      [2160n * 3_600_000_000_000n + 1n, 90_000_000_000n, 1_500_000n, 3_600_000_000_000n].map(formatGoDuration),
      ['2160h0m0.000000001s', '1m30s', '1.5ms', '1h0m0s'],
    );
  });

  test("the image entry point: exit 1 with Loki's message on a config Loki refuses; the limits of one it takes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cct-loki-config-'));
    const run = (
      args: string[],
      env: Record<string, string> = {},
    ): Promise<{ code: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve) => {
        const script = `require(${JSON.stringify(require.resolve('../doubles/loki'))}).main(${JSON.stringify(args)})`;
        const child = spawn(process.execPath, ['-e', script], {
          env: { ...process.env, LOKI_PORT: '0', DOUBLE_DATA_DIR: '', ...env },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes('listening')) child.kill('SIGTERM');
        });
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      });
    try {
      const bad = path.join(dir, 'bad.yaml');
      fs.writeFileSync(bad, 'ingester:\n  max_chunk_age: 1d\n');
      const refused = await run([`-config.file=${bad}`, '-config.expand-env=true']);
      assert.equal(refused.code, 1);
      assert.equal(
        refused.stderr,
        `failed parsing config: ${bad}: yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str \`1d\` into time.Duration\n`,
      );
      const missing = await run([`-config.file=${dir}/none.yaml`]);
      assert.deepEqual(
        [missing.code, missing.stderr],
        [1, `failed parsing config: ${dir}/none.yaml does not exist, set config.file for custom config path\n`],
      );
      const stackFile = path.join(repoRoot, 'stack', 'loki', 'config.yaml');
      if (stackConfig.includes('${')) {
        // Without -config.expand-env=true the variables stay, and Loki says so.
        const literal = await run([`-config.file=${stackFile}`]);
        assert.equal(literal.code, 1);
        assert.match(
          literal.stderr,
          /Use `-config.expand-env=true` flag if you want to expand environment variables in your config file\n$/,
        );
      }
      const started = await run(['-config.file', stackFile, '-config.expand-env=true'], { CCT_RETENTION_DAYS: '90' });
      assert.match(
        started.stdout,
        new RegExp(`listening on :\\d+ \\(OTLP at /otlp/v1/logs\\), limits from ${escapeRegExp(stackFile)}`),
      );
      assert.deepEqual(
        readLokiConfigFile(stackFile, { CCT_RETENTION_DAYS: '90' }),
        lokiLimitsFromConfig(stackConfig, { CCT_RETENTION_DAYS: '90' }),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('grafana double', () => {
  test('refuses to start without an admin password', async () => {
    await assert.rejects(startGrafanaDouble({ port: 0, adminPassword: undefined }), MissingAdminPasswordError);
    await assert.rejects(startGrafanaDouble({ port: 0, adminPassword: '' }), MissingAdminPasswordError);
  });
  test('health and the dashboard link', async () => {
    // Anonymous Viewers, as the stack runs Grafana: a page is the app's shell for any uid, the API knows the dashboard.
    const g = await startGrafanaDouble({ port: 0, host: '127.0.0.1', adminPassword: 's3cret', anonymous: true });
    try {
      const health = await fetch(`http://127.0.0.1:${g.port}/api/health`);
      assert.equal(health.status, 200);
      assert.equal((await health.json()).database, 'ok');
      assert.equal((await fetch(`http://127.0.0.1:${g.port}/d/claude-code-telemetry`)).status, 200);
      assert.equal(
        (await fetch(`http://127.0.0.1:${g.port}/d/claude-code-telemetry/claude-code-telemetry?orgId=1`)).status,
        200,
      );
      assert.equal((await fetch(`http://127.0.0.1:${g.port}/d/nope`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${g.port}/api/dashboards/uid/claude-code-telemetry`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${g.port}/api/dashboards/uid/nope`)).status, 404);
    } finally {
      await g.close();
    }
  });

  test('keeps the admin password it first started with, checks basic auth, and changes it through the admin API', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grafana-double-'));
    const as = (password: string): RequestInit => ({
      headers: { Authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
    });
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
        assert.deepEqual(await rejected.json(), {
          extra: null,
          message: 'Invalid username or password',
          messageId: 'password-auth.failed',
          statusCode: 401,
          traceID: '',
        });
        const page = await fetch(`${base}/d/claude-code-telemetry`, { ...as('second-password'), redirect: 'manual' });
        assert.equal(page.status, 302, 'wrong basic auth on a page: the login page');
        assert.equal(
          (await fetch(`${base}/api/health`, as('second-password'))).status,
          200,
          'but not on the health check',
        );
        const user = await fetch(`${base}/api/user`, as('first-password'));
        assert.equal(user.status, 200);
        const me = (await user.json()) as { id: number; login: string; isGrafanaAdmin: boolean };
        assert.deepEqual([me.id, me.login, me.isGrafanaAdmin], [1, 'admin', true]);

        const change = (id: number, password: string, auth: string): Promise<Response> =>
          fetch(`${base}/api/admin/users/${id}/password`, {
            method: 'PUT',
            ...as(auth),
            body: JSON.stringify({ password }),
          });
        assert.equal((await change(1, 'new-password', 'second-password')).status, 401);
        assert.equal((await change(1, 'abc', 'first-password')).status, 500);
        assert.equal((await change(2, 'new-password', 'first-password')).status, 500);
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
