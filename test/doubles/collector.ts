// TEST DOUBLE of the stack's OpenTelemetry Collector (never shipped). It does what stack/ configures the real
// collector to do, no more:
//   - receives OTLP on 4318 (HTTP: /v1/metrics, /v1/logs; application/json and application/x-protobuf, gzip ok)
//     and 4317 (gRPC, h2c);
//   - deltatocumulative: DELTA monotonic sums are added up per series, whatever their start times;
//   - prometheus exporter on :8889/metrics: names normalized like the collector's (dots to `_`, unit and `_total`
//     suffixes: claude_code.cost.usage [USD] -> claude_code_cost_usage_USD_total), attribute keys dots to `_`,
//     resource service.name -> `job`, no timestamps, series expire after METRIC_EXPIRATION_SECONDS (25h);
//   - count connector: claude_code_tool_results_total{tool_name,success,error_type,session_id},
//     claude_code_api_requests_total{model,session_id}, claude_code_api_errors_total{model,status_code,session_id}
//     from the log events, with stack/collector/config.yaml's defaults for absent attributes (error_type="none");
//   - otlphttp exporter: logs forwarded to Loki at LOKI_URL (default http://loki:3100/otlp/v1/logs; "" disables);
//   - health_check on :13133, own telemetry on :8888/metrics.
import * as http2 from 'node:http2';
import {
  HttpError,
  anyValueToString,
  attributesToMap,
  closeServer,
  createServer,
  decodeJson,
  envInt,
  exitOnSignals,
  listen,
  normalizeLabel,
  readBody,
  sendJson,
  type KeyValue,
  type LogsRequest,
  type Metric,
  type MetricsRequest,
  type Resource,
} from './common';
import { ProtoError, decodeLogsRequest, decodeMetricsRequest } from './otlp-proto';

export interface CollectorDoubleOptions {
  /** 0 picks a free port (in-process tests). Defaults are the real collector's ports. */
  otlpHttpPort?: number;
  otlpGrpcPort?: number;
  prometheusPort?: number;
  telemetryPort?: number;
  healthPort?: number;
  /** Where logs go (OTLP/HTTP JSON); null or "" to drop them. */
  lokiUrl?: string | null;
  metricExpirationMs?: number;
  host?: string;
}

export interface CollectorDouble {
  ports: { otlpHttp: number; otlpGrpc: number; prometheus: number; telemetry: number; health: number };
  /** The Prometheus exposition text, as served on /metrics. */
  exposition(): string;
  /** Resolves when every log batch received so far was forwarded (or given up on). */
  flushLogs(): Promise<void>;
  close(): Promise<void>;
}

// --- Prometheus naming, as the collector's prometheus exporter (translator/prometheus, add_metric_suffixes) ---

const UNIT_MAP: Record<string, string> = {
  d: 'days', h: 'hours', min: 'minutes', s: 'seconds', ms: 'milliseconds', us: 'microseconds', ns: 'nanoseconds',
  By: 'bytes', KiBy: 'kibibytes', MiBy: 'mebibytes', GiBy: 'gibibytes', TiBy: 'tibibytes', KBy: 'kilobytes',
  MBy: 'megabytes', GBy: 'gigabytes', TBy: 'terabytes', m: 'meters', V: 'volts', A: 'amperes', J: 'joules',
  W: 'watts', g: 'grams', Cel: 'celsius', Hz: 'hertz', '1': '', '%': 'percent',
};
const PER_UNIT_MAP: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

export function prometheusName(name: string, unit: string | undefined, kind: 'counter' | 'gauge'): string {
  let tokens = name.split(/[^a-zA-Z0-9]+/).filter(Boolean);
  const [main, per] = (unit ?? '').split('/', 2).map((s) => s.trim());
  if (main && !/[{}]/.test(main)) {
    const p = (UNIT_MAP[main] ?? main).replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_+|_+$/g, '');
    if (p && !tokens.includes(p)) tokens.push(p);
  }
  if (per && !/[{}]/.test(per)) {
    const p = (PER_UNIT_MAP[per] ?? per).replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_+|_+$/g, '');
    if (p && !tokens.includes(p)) tokens.push('per', p);
  }
  if (kind === 'counter') tokens = [...tokens.filter((t) => t !== 'total'), 'total'];
  if (unit === '1' && kind === 'gauge') tokens = [...tokens.filter((t) => t !== 'ratio'), 'ratio'];
  let out = tokens.join('_');
  if (/^[0-9]/.test(out)) out = `_${out}`;
  return out;
}

/** The labels the prometheus exporter derives from the resource: job (service.namespace/service.name), instance. */
function resourceLabels(res: Resource | undefined): Record<string, string> {
  const attrs = attributesToMap(res?.attributes);
  const out: Record<string, string> = {};
  const name = attrs.get('service.name');
  if (name) {
    const ns = attrs.get('service.namespace');
    out.job = ns ? `${anyValueToString(ns)}/${anyValueToString(name)}` : anyValueToString(name);
  }
  const instance = attrs.get('service.instance.id');
  if (instance) out.instance = anyValueToString(instance);
  return out;
}

function attributeLabels(attrs: KeyValue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of attrs ?? []) {
    const v = anyValueToString(kv.value);
    if (v === '') continue; // Prometheus drops empty labels anyway
    out[normalizeLabel(kv.key)] = v;
  }
  return out;
}

// --- the count connector of stack/collector: counts of log events -------------------------------------------

interface CountRule {
  metric: string;
  description: string;
  eventName: string;
  /** attribute key -> default value (stack/collector/config.yaml: every counted attribute has one) */
  attributes: Record<string, string>;
}
/** As stack/collector/config.yaml's count connector (keep in step with it). */
export const COUNT_RULES: readonly CountRule[] = [
  {
    metric: 'claude_code.tool_results',
    description: 'Claude Code tool_result events.',
    eventName: 'tool_result',
    attributes: { tool_name: 'unknown', success: 'unknown', error_type: 'none', 'session.id': 'unknown' },
  },
  {
    metric: 'claude_code.api_requests',
    description: 'Claude Code api_request events.',
    eventName: 'api_request',
    attributes: { model: 'unknown', 'session.id': 'unknown' },
  },
  {
    metric: 'claude_code.api_errors',
    description: 'Claude Code api_error events.',
    eventName: 'api_error',
    attributes: { model: 'unknown', status_code: 'none', 'session.id': 'unknown' },
  },
];

// --- state -----------------------------------------------------------------------------------------------------

interface Series {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  labels: Record<string, string>;
  value: number;
  updatedAt: number;
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}\u0000${Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join('\u0000')}`;
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatSample(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

class MetricStore {
  private readonly series = new Map<string, Series>();
  constructor(private readonly expirationMs: number) {}

  add(name: string, help: string, type: 'counter' | 'gauge', labels: Record<string, string>, value: number, delta: boolean): void {
    const key = seriesKey(name, labels);
    const now = Date.now();
    const existing = this.series.get(key);
    if (existing && !this.expired(existing, now)) {
      existing.value = delta ? existing.value + value : value;
      existing.updatedAt = now;
      if (help) existing.help = help;
    } else {
      this.series.set(key, { name, help, type, labels, value, updatedAt: now });
    }
  }

  private expired(s: Series, now: number): boolean {
    return this.expirationMs > 0 && now - s.updatedAt > this.expirationMs;
  }

  exposition(): string {
    const now = Date.now();
    const byName = new Map<string, Series[]>();
    for (const [key, s] of this.series) {
      if (this.expired(s, now)) {
        this.series.delete(key);
        continue;
      }
      const list = byName.get(s.name) ?? [];
      list.push(s);
      byName.set(s.name, list);
    }
    const lines: string[] = [];
    for (const name of [...byName.keys()].sort()) {
      const list = byName.get(name)!;
      lines.push(`# HELP ${name} ${(list[0].help || '').replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      lines.push(`# TYPE ${name} ${list[0].type}`);
      const rendered = list.map((s) => {
        const keys = Object.keys(s.labels).sort();
        const lbl = keys.length ? `{${keys.map((k) => `${k}="${escapeLabelValue(s.labels[k])}"`).join(',')}}` : '';
        return `${name}${lbl} ${formatSample(s.value)}`;
      });
      lines.push(...rendered.sort());
    }
    return lines.length ? `${lines.join('\n')}\n` : '';
  }
}

class SelfTelemetry {
  readonly counters = new Map<string, number>();
  readonly started = Date.now();
  inc(name: string, labels: string, by = 1): void {
    const key = `${name}${labels}`;
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }
  exposition(): string {
    const lines = [`otelcol_process_uptime_seconds_total{service_name="otelcol-double"} ${(Date.now() - this.started) / 1000}`];
    for (const key of [...this.counters.keys()].sort()) lines.push(`${key} ${this.counters.get(key)}`);
    return `${lines.join('\n')}\n`;
  }
}

// --- processing ------------------------------------------------------------------------------------------------

function ingestMetrics(store: MetricStore, req: MetricsRequest): number {
  let points = 0;
  for (const rm of req.resourceMetrics ?? []) {
    const resLabels = resourceLabels(rm.resource);
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) points += ingestMetric(store, m, resLabels);
    }
    emitTargetInfo(store, rm.resource, resLabels);
  }
  return points;
}

function ingestMetric(store: MetricStore, m: Metric, resLabels: Record<string, string>): number {
  const dataPoints = m.sum?.dataPoints ?? m.gauge?.dataPoints;
  if (!dataPoints) return 0; // histograms etc.: Claude Code sends none; not modelled
  const monotonic = m.sum?.isMonotonic === true;
  const kind = monotonic ? 'counter' : 'gauge';
  const temporality = Number(m.sum?.aggregationTemporality ?? 0); // 1 = DELTA, 2 = CUMULATIVE
  const name = prometheusName(m.name, m.unit, kind);
  for (const dp of dataPoints) {
    const value = dp.asDouble !== undefined ? Number(dp.asDouble) : Number(dp.asInt ?? 0);
    const labels = { ...attributeLabels(dp.attributes), ...resLabels };
    store.add(name, m.description ?? '', kind, labels, value, m.sum !== undefined && temporality === 1);
  }
  return dataPoints.length;
}

function emitTargetInfo(store: MetricStore, res: Resource | undefined, resLabels: Record<string, string>): void {
  const skip = ['service.name', 'service.namespace', 'service.instance.id'];
  const rest = (res?.attributes ?? []).filter((kv) => !skip.includes(kv.key));
  if (rest.length === 0) return;
  store.add('target_info', 'Target metadata', 'gauge', { ...attributeLabels(rest), ...resLabels }, 1, false);
}

function countLogs(store: MetricStore, req: LogsRequest): number {
  let records = 0;
  for (const rl of req.resourceLogs ?? []) {
    const resLabels = resourceLabels(rl.resource);
    for (const sl of rl.scopeLogs ?? []) {
      for (const rec of sl.logRecords ?? []) {
        records++;
        const attrs = attributesToMap(rec.attributes);
        const eventName = anyValueToString(attrs.get('event.name')) || rec.eventName || '';
        for (const rule of COUNT_RULES) {
          if (eventName !== rule.eventName) continue;
          const labels: Record<string, string> = {};
          for (const [key, def] of Object.entries(rule.attributes)) {
            const v = attrs.get(key);
            labels[normalizeLabel(key)] = v === undefined ? def : anyValueToString(v);
          }
          Object.assign(labels, resLabels);
          store.add(prometheusName(rule.metric, '', 'counter'), rule.description, 'counter', labels, 1, true);
        }
      }
    }
  }
  return records;
}

function decode<T>(body: Buffer, contentType: string, json: (b: Buffer) => T, proto: (b: Buffer) => T): T {
  const ct = contentType.split(';')[0].trim().toLowerCase();
  if (ct === 'application/json') return json(body);
  if (ct === 'application/x-protobuf' || ct === 'application/protobuf') {
    try {
      return proto(body);
    } catch (err) {
      if (err instanceof ProtoError || err instanceof RangeError) throw new HttpError(400, `cannot decode protobuf: ${err.message}`);
      throw err;
    }
  }
  throw new HttpError(415, `unsupported content type ${JSON.stringify(contentType)}`);
}

class LogForwarder {
  private chain: Promise<void> = Promise.resolve();
  constructor(
    private readonly url: string | null,
    private readonly telemetry: SelfTelemetry,
  ) {}

  forward(req: LogsRequest, records: number): void {
    if (!this.url || records === 0) return;
    const url = this.url;
    const body = JSON.stringify(req);
    this.chain = this.chain.then(async () => {
      let lastError = '';
      for (let attempt = 0; attempt < 8; attempt++) {
        try {
          const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
          const text = await res.text();
          if (res.ok) {
            this.telemetry.inc('otelcol_exporter_sent_log_records_total', '{exporter="otlphttp/loki"}', records);
            return;
          }
          lastError = `HTTP ${res.status}: ${text.trim()}`;
          if (res.status >= 400 && res.status < 500 && res.status !== 429) break; // permanent, like the real exporter
        } catch (err) {
          lastError = (err as Error).message;
        }
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 3000)));
      }
      this.telemetry.inc('otelcol_exporter_send_failed_log_records_total', '{exporter="otlphttp/loki"}', records);
      console.error(`[collector-double] dropping ${records} log records, Loki at ${url} failed: ${lastError}`);
    });
  }

  flush(): Promise<void> {
    return this.chain;
  }
}

// --- servers ---------------------------------------------------------------------------------------------------

export async function startCollectorDouble(opts: CollectorDoubleOptions = {}): Promise<CollectorDouble> {
  const telemetry = new SelfTelemetry();
  const store = new MetricStore(opts.metricExpirationMs ?? 25 * 3600_000);
  const lokiUrl = opts.lokiUrl === undefined ? 'http://loki:3100/otlp/v1/logs' : opts.lokiUrl || null;
  const forwarder = new LogForwarder(lokiUrl, telemetry);

  const handleMetrics = (body: Buffer, ct: string): void => {
    const req = decode(body, ct, (b) => decodeJson<MetricsRequest>(b, 'OTLP metrics'), decodeMetricsRequest);
    const points = ingestMetrics(store, req);
    telemetry.inc('otelcol_receiver_accepted_metric_points_total', '{receiver="otlp"}', points);
  };
  const handleLogs = (body: Buffer, ct: string): void => {
    const req = decode(body, ct, (b) => decodeJson<LogsRequest>(b, 'OTLP logs'), decodeLogsRequest);
    const records = countLogs(store, req);
    telemetry.inc('otelcol_receiver_accepted_log_records_total', '{receiver="otlp"}', records);
    forwarder.forward(req, records);
  };

  const otlpHttp = createServer('collector-double', async (req, res, url) => {
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} not allowed, POST OTLP to /v1/metrics, /v1/logs or /v1/traces`);
    const ct = String(req.headers['content-type'] ?? '');
    const body = await readBody(req);
    if (url.pathname === '/v1/metrics') handleMetrics(body, ct);
    else if (url.pathname === '/v1/logs') handleLogs(body, ct);
    else if (url.pathname !== '/v1/traces') throw new HttpError(404, '404 page not found');
    // An empty Export*ServiceResponse in the request's encoding, status 200, as the otlp receiver answers.
    if (ct.startsWith('application/json')) sendJson(res, 200, { partialSuccess: {} });
    else {
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
      res.end();
    }
  });

  // gRPC over h2c: unary Export calls, length-prefixed protobuf messages, status in trailers.
  const grpc = http2.createServer();
  grpc.on('stream', (stream, headers) => {
    const path = String(headers[':path'] ?? '');
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      let status = 0;
      let message = '';
      try {
        const data = Buffer.concat(chunks);
        if (data.length < 5) throw new HttpError(400, 'empty gRPC message');
        if (data[0] !== 0) throw new HttpError(400, 'compressed gRPC messages are not supported by the double');
        const payload = data.subarray(5, 5 + data.readUInt32BE(1));
        if (path === '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export') handleMetrics(payload, 'application/x-protobuf');
        else if (path === '/opentelemetry.proto.collector.logs.v1.LogsService/Export') handleLogs(payload, 'application/x-protobuf');
        else if (path !== '/opentelemetry.proto.collector.trace.v1.TraceService/Export') {
          status = 12; // UNIMPLEMENTED
          message = `unknown service method ${path}`;
        }
      } catch (err) {
        status = 3; // INVALID_ARGUMENT
        message = (err as Error).message;
      }
      if (stream.destroyed) return;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers(status === 0 ? { 'grpc-status': '0' } : { 'grpc-status': String(status), 'grpc-message': encodeURIComponent(message) }));
      stream.end(status === 0 ? Buffer.from([0, 0, 0, 0, 0]) : undefined);
    });
  });

  const prometheus = createServer('collector-double', (_req, res, url) => {
    if (url.pathname !== '/metrics') throw new HttpError(404, '404 page not found');
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(store.exposition());
  });
  const selfMetrics = createServer('collector-double', (_req, res, url) => {
    if (url.pathname !== '/metrics') throw new HttpError(404, '404 page not found');
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(telemetry.exposition());
  });
  const startedAt = new Date();
  const health = createServer('collector-double', (_req, res) => {
    sendJson(res, 200, { status: 'Server available', upSince: startedAt.toISOString(), uptime: `${(Date.now() - startedAt.getTime()) / 1000}s` });
  });

  const servers = [otlpHttp, grpc, prometheus, selfMetrics, health] as const;
  const ports = {
    otlpHttp: await listen(otlpHttp, opts.otlpHttpPort ?? 4318, opts.host),
    otlpGrpc: await listen(grpc, opts.otlpGrpcPort ?? 4317, opts.host),
    prometheus: await listen(prometheus, opts.prometheusPort ?? 8889, opts.host),
    telemetry: await listen(selfMetrics, opts.telemetryPort ?? 8888, opts.host),
    health: await listen(health, opts.healthPort ?? 13133, opts.host),
  };
  return {
    ports,
    exposition: () => store.exposition(),
    flushLogs: () => forwarder.flush(),
    close: async () => {
      await Promise.all(servers.map((s) => closeServer(s)));
    },
  };
}

/** Entry point of the cct-test/collector-double image. */
export async function main(): Promise<void> {
  const lokiUrl = process.env.LOKI_URL ?? 'http://loki:3100/otlp/v1/logs';
  const double = await startCollectorDouble({
    lokiUrl,
    metricExpirationMs: envInt('METRIC_EXPIRATION_SECONDS', 25 * 3600) * 1000, // the stack's metric_expiration
  });
  console.log(`collector-double: OTLP gRPC :${double.ports.otlpGrpc}, OTLP HTTP :${double.ports.otlpHttp}, ` +
    `Prometheus :${double.ports.prometheus}/metrics, own metrics :${double.ports.telemetry}/metrics, ` +
    `health :${double.ports.health}, logs -> ${lokiUrl || '(dropped)'}`);
  exitOnSignals(() => double.close());
}
