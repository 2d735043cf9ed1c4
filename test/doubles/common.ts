// Shared bits of the test doubles: HTTP helpers, OTLP value conversion, Go-compatible number formatting.
// The doubles are bundled with esbuild into the cct-test/* images (see test/support/images.ts) and can also be
// started in-process by tests (each module exports a start function; none of them starts anything on import).
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';

export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a request body, undoing `Content-Encoding: gzip | deflate` (the collector's exporters gzip by default). */
export async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const raw = await readRawBody(req);
  const encoding = String(req.headers['content-encoding'] ?? '')
    .toLowerCase()
    .trim();
  try {
    if (encoding === 'gzip') return zlib.gunzipSync(raw);
    if (encoding === 'deflate') return zlib.inflateSync(raw);
  } catch (err) {
    throw new HttpError(400, `cannot decode ${encoding} body: ${(err as Error).message}`);
  }
  if (encoding !== '' && encoding !== 'identity') throw new HttpError(415, `unsupported content-encoding ${encoding}`);
  return raw;
}

/** A request body as sent, `Content-Encoding` left to the caller (the Loki double undoes gzip only, as Loki's OTLP
 * endpoint does). */
export async function readRawBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A plain-text answer, the way Go's http.Error writes one (text/plain, nosniff, trailing newline). */
export function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(text.endsWith('\n') ? text : `${text}\n`);
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, pretty = false): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body));
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => unknown;

/** An HTTP server whose handler errors become plain-text answers instead of crashes. */
export function createServer(name: string, handler: Handler): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://double.invalid');
    Promise.resolve()
      .then(() => handler(req, res, url))
      .catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        if (status === 500) console.error(`[${name}] ${req.method} ${url.pathname}:`, err);
        if (!res.headersSent) sendText(res, status, (err as Error).message);
        else res.destroy();
      });
  });
}

/** Listens on every address (dual-stack when the host has IPv6, so `localhost` works either way). */
export async function listen(
  server: http.Server | import('node:http2').Http2Server,
  port: number,
  host?: string,
): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: http.Server | import('node:http2').Http2Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    if ('closeAllConnections' in server) (server as http.Server).closeAllConnections();
  });
}

export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Stops the servers on SIGTERM/SIGINT so `docker stop` is quick (node as PID 1 ignores signals by default). */
export function exitOnSignals(close: () => Promise<void>): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      const timer = setTimeout(() => process.exit(0), 2000);
      timer.unref();
      close().finally(() => process.exit(0));
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// OTLP (the JSON mapping; the protobuf decoder in otlp-proto.ts produces the same shapes)

export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string;
}
export interface KeyValue {
  key: string;
  value?: AnyValue;
}
export interface Resource {
  attributes?: KeyValue[];
}
export interface Scope {
  name?: string;
  version?: string;
  attributes?: KeyValue[];
}
export interface NumberDataPoint {
  attributes?: KeyValue[];
  startTimeUnixNano?: string | number;
  timeUnixNano?: string | number;
  asDouble?: number | string;
  asInt?: string | number;
}
export interface Metric {
  name: string;
  description?: string;
  unit?: string;
  sum?: { dataPoints?: NumberDataPoint[]; aggregationTemporality?: number | string; isMonotonic?: boolean };
  gauge?: { dataPoints?: NumberDataPoint[] };
  histogram?: unknown;
  exponentialHistogram?: unknown;
  summary?: unknown;
}
export interface MetricsRequest {
  resourceMetrics?: { resource?: Resource; scopeMetrics?: { scope?: Scope; metrics?: Metric[] }[] }[];
}
export interface LogRecord {
  timeUnixNano?: string | number;
  observedTimeUnixNano?: string | number;
  severityNumber?: number | string;
  severityText?: string;
  body?: AnyValue;
  attributes?: KeyValue[];
  flags?: number;
  traceId?: string;
  spanId?: string;
  eventName?: string;
}
export interface LogsRequest {
  resourceLogs?: { resource?: Resource; scopeLogs?: { scope?: Scope; logRecords?: LogRecord[] }[] }[];
}

/** pcommon.Value.AsString(): what the collector and Loki turn an attribute value into. */
export function anyValueToString(v: AnyValue | undefined): string {
  if (!v) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue ? 'true' : 'false';
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return formatFloat(Number(v.doubleValue));
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue !== undefined || v.kvlistValue !== undefined) return JSON.stringify(anyValueToJs(v));
  return '';
}

export function anyValueToJs(v: AnyValue | undefined): unknown {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(anyValueToJs);
  if (v.kvlistValue !== undefined) {
    const o: Record<string, unknown> = {};
    for (const kv of v.kvlistValue.values ?? []) o[kv.key] = anyValueToJs(kv.value);
    return o;
  }
  return null;
}

export function attributesToMap(attrs: KeyValue[] | undefined): Map<string, AnyValue | undefined> {
  const m = new Map<string, AnyValue | undefined>();
  for (const kv of attrs ?? []) m.set(kv.key, kv.value);
  return m;
}

/** OTLP/JSON carries 64-bit integers as strings (or numbers); nanosecond timestamps need bigint. */
export function toBigInt(v: string | number | undefined): bigint {
  if (v === undefined || v === '') return 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  return BigInt(v);
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an exponent. */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, intDigit, frac = '', expStr] = m;
  const exp = Number(expStr);
  const digits = intDigit + frac;
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length - 1 <= exp) return `${sign}${digits}${'0'.repeat(exp - (digits.length - 1))}`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** Prometheus' label-name normalization as used by the collector and Loki: dots (and anything else) to `_`. */
export function normalizeLabel(key: string): string {
  if (key === '') return key;
  let s = key.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(s)) s = `key_${s}`;
  else if (s.startsWith('_') && !s.startsWith('__')) s = `key${s}`;
  return s;
}

export function decodeJson<T>(body: Buffer, what: string): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (err) {
    throw new HttpError(400, `cannot parse ${what} JSON: ${(err as Error).message}`);
  }
}
