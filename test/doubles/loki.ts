// Why one file of this size: a test double answers as one server, its OTLP ingestion, LogQL subset and response
// shapes read together against the real Loki's answers.
// TEST DOUBLE of Grafana Loki 3.4 (never shipped). Stores OTLP log records in memory (and, with a data directory,
// appends them to a file there that it reads back at start: the image keeps them on the stack's `loki-data`
// volume across Stop/Start, as the real Loki does) and answers the queries the extension makes, in the response shapes a real Loki 3.4.6 gave (../shared/fixtures/loki-3.4.6, mirrored in
// test/doubles/doubles.test.ts):
//   POST /otlp/v1/logs              OTLP/HTTP JSON or protobuf -> 204. service.name (and Loki's other default
//                                   resource attributes) become index labels; every other attribute becomes
//                                   structured metadata, dots to `_`, values as strings, plus scope_name,
//                                   scope_version, observed_timestamp, severity_*, detected_level like Loki adds.
//   GET  /ready                     "ready"
//   GET  /loki/api/v1/query         instant metric queries (a log query is Loki's plain-text 400)
//   GET  /loki/api/v1/query_range   log queries (streams; `X-Loki-Response-Encoding-Flags: categorize-labels`
//                                   honoured) and metric queries (matrix)
//   GET  /loki/api/v1/labels, /loki/api/v1/label/<name>/values, /loki/api/v1/status/buildinfo
//   POST /double/reset              (double only) forget every record, on disk too
// LogQL understood (parsed with @grafana/lezer-logql): a stream selector, `| label op "value"` filters,
// line filters (|= != |~ !~), count_over_time(...[R]), sum_over_time(... | unwrap L | __error__="" [R]),
// sum [by|without (labels)] (...). Anything else is a plain-text 400 parse error.
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { join } from 'node:path';
import type { SyntaxNode } from '@lezer/common' with { 'resolution-mode': 'import' };
import {
  HttpError,
  anyValueToJs,
  anyValueToString,
  closeServer,
  createServer,
  decodeJson,
  envInt,
  exitOnSignals,
  formatFloat,
  listen,
  normalizeLabel,
  readBody,
  sendJson,
  sendText,
  toBigInt,
  type AnyValue,
  type KeyValue,
  type LogsRequest,
} from './common';
import { ProtoError, decodeLogsRequest } from './otlp-proto';

export const LOKI_VERSION = '3.4.6';

type Labels = Record<string, string>;

export interface LokiEntry {
  /** nanoseconds since the epoch */
  ts: bigint;
  line: string;
  index: Labels;
  metadata: Labels;
}

export interface LokiDoubleOptions {
  port?: number;
  host?: string;
  /** The clock for default query times (tests pin it). */
  now?: () => number;
  /** Where to keep the entries across restarts (`entries.jsonl`); none: memory only. */
  dataDir?: string;
}

export interface LokiDouble {
  port: number;
  entries: LokiEntry[];
  push(req: LogsRequest): number;
  reset(): void;
  close(): Promise<void>;
}

// --- OTLP -> Loki (pkg/loghttp/push/otlp.go, defaults) ------------------------------------------------------------

const INDEX_RESOURCE_ATTRIBUTES = new Set([
  'service.name', 'service.namespace', 'service.instance.id', 'deployment.environment', 'deployment.environment.name',
  'cloud.region', 'cloud.availability_zone', 'k8s.cluster.name', 'k8s.namespace.name', 'k8s.pod.name',
  'k8s.container.name', 'container.name', 'k8s.replicaset.name', 'k8s.deployment.name', 'k8s.statefulset.name',
  'k8s.daemonset.name', 'k8s.cronjob.name', 'k8s.job.name',
]);

function flattenInto(out: Labels, key: string, value: AnyValue | undefined): void {
  if (value?.kvlistValue) {
    for (const kv of value.kvlistValue.values ?? []) flattenInto(out, `${key}_${normalizeLabel(kv.key)}`, kv.value);
    return;
  }
  out[normalizeLabel(key)] = anyValueToString(value);
}

function attrsInto(out: Labels, attrs: KeyValue[] | undefined): void {
  for (const kv of attrs ?? []) flattenInto(out, kv.key, kv.value);
}

const LEVEL_KEYS = ['level', 'LEVEL', 'Level', 'severity', 'SEVERITY', 'Severity', 'lvl', 'LVL', 'Lvl'];

function detectLevel(severityNumber: number, severityText: string, metadata: Labels, line: string): string {
  if (severityNumber > 0) {
    if (severityNumber <= 4) return 'trace';
    if (severityNumber <= 8) return 'debug';
    if (severityNumber <= 12) return 'info';
    if (severityNumber <= 16) return 'warn';
    if (severityNumber <= 20) return 'error';
    return 'critical';
  }
  for (const k of LEVEL_KEYS) if (metadata[k]) return metadata[k].toLowerCase();
  if (severityText) return severityText.toLowerCase();
  if (/info/i.test(line)) return 'info';
  if (/err:|error/i.test(line)) return 'error';
  if (/warn/i.test(line)) return 'warn';
  if (/critical:/i.test(line)) return 'critical';
  if (/debug:/i.test(line)) return 'debug';
  return 'unknown';
}

export function otlpToEntries(req: LogsRequest, nowNs: bigint): LokiEntry[] {
  const out: LokiEntry[] = [];
  for (const rl of req.resourceLogs ?? []) {
    const index: Labels = {};
    const resourceMeta: Labels = {};
    for (const kv of rl.resource?.attributes ?? []) {
      if (INDEX_RESOURCE_ATTRIBUTES.has(kv.key)) index[normalizeLabel(kv.key)] = anyValueToString(kv.value);
      else flattenInto(resourceMeta, kv.key, kv.value);
    }
    if (!index.service_name) index.service_name = 'unknown_service';
    for (const sl of rl.scopeLogs ?? []) {
      const scopeMeta: Labels = {};
      if (sl.scope?.name) scopeMeta.scope_name = sl.scope.name;
      if (sl.scope?.version) scopeMeta.scope_version = sl.scope.version;
      attrsInto(scopeMeta, sl.scope?.attributes);
      for (const rec of sl.logRecords ?? []) {
        const metadata: Labels = { ...resourceMeta, ...scopeMeta };
        attrsInto(metadata, rec.attributes);
        const observed = toBigInt(rec.observedTimeUnixNano);
        if (observed !== 0n) metadata.observed_timestamp = observed.toString();
        const sevNum = Number(rec.severityNumber ?? 0) || 0;
        if (sevNum !== 0) metadata.severity_number = String(sevNum);
        if (rec.severityText) metadata.severity_text = rec.severityText;
        if (rec.traceId) metadata.trace_id = rec.traceId;
        if (rec.spanId) metadata.span_id = rec.spanId;
        if (rec.flags) metadata.flags = String(rec.flags);
        const body = rec.body;
        const line = body?.kvlistValue || body?.arrayValue ? JSON.stringify(anyValueToJs(body)) : anyValueToString(body);
        metadata.detected_level = detectLevel(sevNum, rec.severityText ?? '', metadata, line);
        const time = toBigInt(rec.timeUnixNano);
        out.push({ ts: time !== 0n ? time : observed !== 0n ? observed : nowNs, line, index: { ...index }, metadata });
      }
    }
  }
  return out;
}

// --- LogQL ---------------------------------------------------------------------------------------------------------

export class LogQLError extends Error {}

interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  re?: RegExp;
}
type Stage = { kind: 'label'; m: LabelMatcher } | { kind: 'line'; op: '|=' | '!=' | '|~' | '!~'; value: string; re?: RegExp };
interface LogQuery {
  kind: 'log';
  selector: LabelMatcher[];
  stages: Stage[];
}
interface RangeQuery {
  kind: 'range';
  op: 'count_over_time' | 'sum_over_time';
  log: LogQuery;
  unwrap?: string;
  postUnwrap: Stage[];
  rangeNs: bigint;
}
interface VectorQuery {
  kind: 'vector';
  grouping?: { without: boolean; labels: string[] };
  inner: MetricQuery;
}
type MetricQuery = RangeQuery | VectorQuery;
export type Query = LogQuery | MetricQuery;

type LezerParser = { parse(input: string): { topNode: SyntaxNode } };
let parserPromise: Promise<LezerParser> | undefined;
function lezer(): Promise<LezerParser> {
  parserPromise ??= import('@grafana/lezer-logql').then((m) => m.parser as unknown as LezerParser);
  return parserPromise;
}

const unsupported = (what: string): LogQLError => new LogQLError(`parse error : ${what} is not supported by the Loki test double`);

/** Go-style duration ("3h", "1h30m", "500ms", Prometheus' d/w/y too) -> nanoseconds. */
export function parseDuration(s: string): bigint {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)/g;
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9, d: 86400e9, w: 604800e9, y: 31536000e9 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * unit[m[2]];
    consumed += m[0].length;
  }
  if (consumed !== s.length || s.length === 0) throw new LogQLError(`not a valid duration string: "${s}"`);
  return BigInt(Math.round(total));
}

function stringLiteral(src: string): string {
  if (src.startsWith('`')) return src.slice(1, -1);
  try {
    return JSON.parse(src) as string;
  } catch {
    throw new LogQLError(`parse error : invalid string literal ${src}`);
  }
}

function regex(src: string, anchored: boolean): RegExp {
  try {
    return new RegExp(anchored ? `^(?:${src})$` : src);
  } catch (err) {
    throw new LogQLError(`parse error : invalid regexp ${JSON.stringify(src)}: ${(err as Error).message}`);
  }
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

export async function parseLogQL(query: string): Promise<Query> {
  const tree = (await lezer()).parse(query);
  const text = (n: SyntaxNode): string => query.slice(n.from, n.to);
  let error: SyntaxNode | undefined;
  tree.topNode.cursor().iterate((n) => {
    if (!error && n.type.isError) error = n.node;
  });
  if (error) {
    const inRange = error.parent?.name === 'Range' || error.parent?.name === 'LogRangeExpr' && query.lastIndexOf('[') > query.lastIndexOf(']');
    if (inRange) throw new LogQLError(`parse error at line 0, col ${query.length + 1}: missing closing ']' in duration`);
    const before = query.slice(0, error.from);
    const line = before.split('\n').length;
    const col = error.from - (before.lastIndexOf('\n') + 1) + 1;
    const token = query.slice(error.from).trim().split(/\s+/)[0] ?? '';
    throw new LogQLError(`parse error at line ${line}, col ${col}: syntax error: unexpected ${token === '' ? '$end' : token}`);
  }
  const top = tree.topNode.getChild('Expr');
  if (!top) throw new LogQLError('parse error : syntax error: unexpected $end');

  const matcher = (n: SyntaxNode): LabelMatcher => {
    const [id, opNode, str] = children(n);
    if (!id || id.name !== 'Identifier' || !opNode || !str || str.name !== 'String') throw unsupported(`the matcher ${text(n)}`);
    const opText = text(opNode);
    if (opText !== '=' && opText !== '!=' && opText !== '=~' && opText !== '!~') throw unsupported(`the matcher operator ${opText}`);
    const value = stringLiteral(text(str));
    const m: LabelMatcher = { name: text(id), op: opText, value };
    if (opText === '=~' || opText === '!~') m.re = regex(value, true);
    return m;
  };

  const stages = (pipeline: SyntaxNode | null): Stage[] => {
    if (!pipeline) return [];
    const out: Stage[] = [];
    const visit = (n: SyntaxNode): void => {
      for (const c of children(n)) {
        if (c.name === 'PipelineExpr') visit(c);
        else if (c.name === 'PipelineStage') out.push(...stage(c));
        else throw unsupported(`the pipeline part ${text(c)}`);
      }
    };
    visit(pipeline);
    return out;
  };

  const stage = (n: SyntaxNode): Stage[] => {
    const parts = children(n).filter((c) => c.name !== 'Pipe');
    if (parts.length === 1 && parts[0].name === 'LabelFilter') return [labelFilter(parts[0])];
    if (parts.length === 1 && parts[0].name === 'LineFilters') {
      return children(parts[0]).map((lf) => {
        const [filter, str, ...rest] = children(lf);
        if (!filter || filter.name !== 'Filter' || !str || str.name !== 'String' || rest.length) throw unsupported(`the line filter ${text(lf)}`);
        const op = text(filter) as '|=' | '!=' | '|~' | '!~';
        if (!['|=', '!=', '|~', '!~'].includes(op)) throw unsupported(`the line filter ${text(lf)}`);
        const value = stringLiteral(text(str));
        return { kind: 'line', op, value, ...(op === '|~' || op === '!~' ? { re: regex(value, false) } : {}) };
      });
    }
    throw unsupported(`the pipeline stage "${text(n)}"`);
  };

  const labelFilter = (n: SyntaxNode): Stage => {
    const parts = children(n);
    if (parts.length !== 1 || parts[0].name !== 'Matcher') throw unsupported(`the label filter "${text(n)}"`);
    return { kind: 'label', m: matcher(parts[0]) };
  };

  const selector = (n: SyntaxNode): LabelMatcher[] => {
    const ms = n.getChild('Matchers');
    const out: LabelMatcher[] = [];
    const visit = (m: SyntaxNode): void => {
      for (const c of children(m)) {
        if (c.name === 'Matchers') visit(c);
        else if (c.name === 'Matcher') out.push(matcher(c));
      }
    };
    if (ms) visit(ms);
    if (!out.some((m) => (m.op === '=' && m.value !== '') || (m.op === '=~' && !m.re!.test('')))) {
      throw new LogQLError('parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will');
    }
    return out;
  };

  const logExpr = (n: SyntaxNode): LogQuery => {
    const sel = n.getChild('Selector');
    if (!sel) throw unsupported(`the log expression ${text(n)}`);
    for (const c of children(n)) if (c.name !== 'Selector' && c.name !== 'PipelineExpr') throw unsupported(`"${text(c)}"`);
    return { kind: 'log', selector: selector(sel), stages: stages(n.getChild('PipelineExpr')) };
  };

  const rangeAgg = (n: SyntaxNode): RangeQuery => {
    const opNode = n.getChild('RangeOp')?.firstChild;
    const op = opNode ? text(opNode) : '';
    if (op !== 'count_over_time' && op !== 'sum_over_time') throw unsupported(`the range aggregation ${op || text(n)}`);
    const lre = n.getChild('LogRangeExpr');
    for (const c of children(n)) if (c.name !== 'RangeOp' && c.name !== 'LogRangeExpr') throw unsupported(`"${text(c)}" in ${op}`);
    if (!lre) throw unsupported(text(n));
    const sel = lre.getChild('Selector');
    const range = lre.getChild('Range')?.getChild('Duration');
    if (!sel || !range) throw unsupported(text(lre));
    let pipeline: Stage[] = [];
    let unwrap: string | undefined;
    let postUnwrap: Stage[] = [];
    for (const c of children(lre)) {
      if (c.name === 'Selector' || c.name === 'Range') continue;
      if (c.name === 'PipelineExpr') pipeline = pipeline.concat(stages(c));
      else if (c.name === 'UnwrapExpr') {
        const visit = (u: SyntaxNode): void => {
          for (const p of children(u)) {
            if (p.name === 'UnwrapExpr') visit(p);
            else if (p.name === 'Identifier') unwrap = text(p);
            else if (p.name === 'LabelFilter') postUnwrap.push(labelFilter(p));
            else if (p.name !== 'Pipe' && p.name !== 'Unwrap') throw unsupported(`"${text(p)}" in unwrap`);
          }
        };
        visit(c);
      } else throw unsupported(`"${text(c)}" in ${op}`);
    }
    if (op === 'sum_over_time' && !unwrap) throw new LogQLError('parse error : invalid aggregation sum_over_time without unwrap');
    if (op === 'count_over_time' && unwrap) throw new LogQLError('parse error : invalid aggregation count_over_time with unwrap');
    if (!unwrap) postUnwrap = [];
    const q: RangeQuery = { kind: 'range', op, log: { kind: 'log', selector: selector(sel), stages: pipeline }, postUnwrap, rangeNs: parseDuration(text(range)) };
    if (unwrap) q.unwrap = unwrap;
    return q;
  };

  const metricExpr = (n: SyntaxNode): MetricQuery => {
    const [c, ...rest] = children(n);
    if (!c || rest.length) throw unsupported(`"${text(n)}"`);
    if (c.name === 'RangeAggregationExpr') return rangeAgg(c);
    if (c.name === 'VectorAggregationExpr') {
      const op = c.getChild('VectorOp');
      if (!op || text(op) !== 'sum') throw unsupported(`the aggregation ${op ? text(op) : text(c)}`);
      const inner = c.getChild('MetricExpr');
      if (!inner) throw unsupported(text(c));
      for (const p of children(c)) if (!['VectorOp', 'Grouping', 'MetricExpr'].includes(p.name)) throw unsupported(`"${text(p)}" in sum`);
      const q: VectorQuery = { kind: 'vector', inner: metricExpr(inner) };
      const g = c.getChild('Grouping');
      if (g) {
        const labels: string[] = [];
        g.getChild('Labels')?.cursor().iterate((x) => {
          if (x.name === 'Identifier') labels.push(query.slice(x.from, x.to));
        });
        q.grouping = { without: !!g.getChild('Without'), labels };
      }
      return q;
    }
    throw unsupported(`"${text(c)}"`);
  };

  const [expr, ...more] = children(top);
  if (!expr || more.length) throw unsupported(`"${query}"`);
  if (expr.name === 'LogExpr') return logExpr(expr);
  if (expr.name === 'MetricExpr') return metricExpr(expr);
  throw unsupported(`"${text(expr)}"`);
}

// --- evaluation ------------------------------------------------------------------------------------------------

function matches(m: LabelMatcher, labels: Labels): boolean {
  const v = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return m.re!.test(v);
    case '!~':
      return !m.re!.test(v);
  }
}

function runStages(stages: Stage[], labels: Labels, line: string): boolean {
  for (const s of stages) {
    if (s.kind === 'label') {
      if (!matches(s.m, labels)) return false;
    } else {
      const hit = s.re ? s.re.test(line) : line.includes(s.value);
      if ((s.op === '|=' || s.op === '|~') !== hit) return false;
    }
  }
  return true;
}

const labelKey = (l: Labels): string => JSON.stringify(Object.keys(l).sort().map((k) => [k, l[k]]));
const sortLabels = (l: Labels): Labels => Object.fromEntries(Object.keys(l).sort().map((k) => [k, l[k]]));

/** Entries a log query selects with ts in [fromNs, toNs), as (entry, labels) pairs. */
function selectLogs(entries: LokiEntry[], q: LogQuery, fromNs: bigint, toNs: bigint, inclusiveEnd: boolean): { e: LokiEntry; labels: Labels }[] {
  const out: { e: LokiEntry; labels: Labels }[] = [];
  for (const e of entries) {
    if (e.ts < fromNs || e.ts > toNs || (!inclusiveEnd && e.ts === toNs)) continue;
    if (!q.selector.every((m) => matches(m, e.index))) continue;
    const labels = { ...e.metadata, ...e.index };
    if (runStages(q.stages, labels, e.line)) out.push({ e, labels });
  }
  return out;
}

type Vector = Map<string, { metric: Labels; value: number }>;

function evalMetric(entries: LokiEntry[], q: MetricQuery, tNs: bigint): Vector {
  if (q.kind === 'range') {
    const out: Vector = new Map();
    // Loki's range is (t - R, t]
    for (const { e, labels } of selectLogs(entries, q.log, tNs - q.rangeNs + 1n, tNs, true)) {
      let value = 1;
      const metric = { ...labels };
      if (q.unwrap) {
        const raw = metric[q.unwrap];
        delete metric[q.unwrap];
        value = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
        if (Number.isNaN(value)) {
          metric.__error__ = 'SampleExtractionErr';
          metric.__error_details__ = `strconv.ParseFloat: parsing ${JSON.stringify(raw ?? '')}: invalid syntax`;
        }
        if (!runStages(q.postUnwrap, metric, e.line)) continue;
        if (metric.__error__) {
          throw new LogQLError(`pipeline error: 'SampleExtractionErr' for series: '${JSON.stringify(sortLabels(metric))}'.\nUse a label filter to intentionally skip this error. (e.g | __error__!="SampleExtractionErr").\nTo skip all potential errors you can match empty errors.(e.g __error__="")\nThe label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )\n`);
        }
      }
      const key = labelKey(metric);
      const cur = out.get(key);
      if (cur) cur.value += value;
      else out.set(key, { metric, value });
    }
    return out;
  }
  const inner = evalMetric(entries, q.inner, tNs);
  const out: Vector = new Map();
  for (const { metric, value } of inner.values()) {
    const grouped: Labels = {};
    if (q.grouping && !q.grouping.without) {
      for (const l of q.grouping.labels) if (metric[l] !== undefined && metric[l] !== '') grouped[l] = metric[l];
    } else if (q.grouping?.without) {
      for (const [k, v] of Object.entries(metric)) if (!q.grouping.labels.includes(k)) grouped[k] = v;
    }
    const key = labelKey(grouped);
    const cur = out.get(key);
    if (cur) cur.value += value;
    else out.set(key, { metric: grouped, value });
  }
  return out;
}

// --- the HTTP API ---------------------------------------------------------------------------------------------

/** Loki's ParseTimestamp: float seconds, integer seconds (<= 10 digits) or nanoseconds, or RFC3339. */
export function parseTimestamp(value: string | null, def: bigint): bigint {
  if (value === null || value === '') return def;
  if (value.includes('.')) {
    const f = Number(value);
    if (!Number.isNaN(f)) {
      const s = Math.trunc(f);
      const ms = Math.round((f - s) * 1000);
      return BigInt(s) * 1_000_000_000n + BigInt(ms) * 1_000_000n;
    }
  }
  if (/^-?\d+$/.test(value)) {
    const n = BigInt(value);
    return value.replace('-', '').length <= 10 ? n * 1_000_000_000n : n;
  }
  const d = Date.parse(value);
  if (Number.isNaN(d)) throw new HttpError(400, `cannot parse "${value}" to a valid timestamp`);
  const frac = /\.(\d+)/.exec(value)?.[1] ?? '';
  return BigInt(Math.floor(d / 1000)) * 1_000_000_000n + BigInt((frac + '000000000').slice(0, 9));
}

function parseStep(value: string | null, startNs: bigint, endNs: bigint): bigint {
  if (value === null || value === '') {
    const seconds = Math.max(Math.floor(Number((endNs - startNs) / 1_000_000n) / 1000 / 250), 1);
    return BigInt(seconds) * 1_000_000_000n;
  }
  const f = Number(value);
  const ns = Number.isNaN(f) ? parseDuration(value) : BigInt(Math.round(f * 1e9));
  if (ns <= 0n) throw new HttpError(400, 'zero or negative query resolution step widths are not accepted. Try a positive integer');
  return ns;
}

const seconds = (ns: bigint): number => Number(ns / 1_000_000n) / 1000;

function cacheStats() {
  return { entriesFound: 0, entriesRequested: 0, entriesStored: 0, bytesReceived: 0, bytesSent: 0, requests: 0, downloadTime: 0, queryLengthServed: 0 };
}
function storeStats(lines: number, bytes: number, postFilter: number, smBytes: number, referencedSM: boolean) {
  return {
    totalChunksRef: 0, totalChunksDownloaded: 0, chunksDownloadTime: 0, queryReferencedStructuredMetadata: referencedSM,
    chunk: {
      headChunkBytes: bytes, headChunkLines: lines, decompressedBytes: 0, decompressedLines: 0, compressedBytes: 0,
      totalDuplicates: 0, postFilterLines: postFilter, headChunkStructuredMetadataBytes: smBytes, decompressedStructuredMetadataBytes: 0,
    },
    chunkRefsFetchTime: 0, congestionControlLatency: 0, pipelineWrapperFilteredLines: 0,
  };
}
/** The `stats` object Loki adds to every query answer, same keys; the double fills in what it can count. */
function stats(entries: LokiEntry[], returned: number, postFilter: number, execSeconds: number) {
  const lines = entries.length;
  const bytes = entries.reduce((n, e) => n + Buffer.byteLength(e.line), 0);
  const smBytes = entries.reduce((n, e) => n + Object.entries(e.metadata).reduce((m, [k, v]) => m + k.length + v.length, 0), 0);
  return {
    summary: {
      bytesProcessedPerSecond: execSeconds > 0 ? Math.floor((bytes + smBytes) / execSeconds) : 0,
      linesProcessedPerSecond: execSeconds > 0 ? Math.floor(lines / execSeconds) : 0,
      totalBytesProcessed: bytes + smBytes, totalLinesProcessed: lines, execTime: execSeconds, queueTime: 0, subqueries: 0,
      totalEntriesReturned: returned, splits: 1, shards: 1, totalPostFilterLines: postFilter,
      totalStructuredMetadataBytesProcessed: smBytes,
    },
    querier: { store: storeStats(0, 0, 0, 0, false) },
    ingester: { totalReached: 1, totalChunksMatched: lines > 0 ? 1 : 0, totalBatches: 1, totalLinesSent: postFilter, store: storeStats(lines, bytes + smBytes, postFilter, smBytes, true) },
    cache: {
      chunk: cacheStats(), index: cacheStats(), result: cacheStats(), statsResult: cacheStats(), volumeResult: cacheStats(),
      seriesResult: cacheStats(), labelResult: cacheStats(), instantMetricResult: cacheStats(),
    },
    index: { totalChunks: 0, postFilterChunks: 0, shardsDuration: 0, usedBloomFilters: false },
  };
}

async function parseQueryParam(url: URL): Promise<Query> {
  const q = url.searchParams.get('query');
  if (q === null || q.trim() === '') throw new LogQLError('parse error : syntax error: unexpected $end');
  return parseLogQL(q);
}

export async function startLokiDouble(opts: LokiDoubleOptions = {}): Promise<LokiDouble> {
  const now = opts.now ?? Date.now;
  const nowNs = (): bigint => BigInt(now()) * 1_000_000n;
  let entries: LokiEntry[] = [];
  // Loki drops an entry whose stream, timestamp and line equal an existing one's, structured metadata or not
  // (the fixtures' 32 records are 29 in Loki: plugin_loaded events share a millisecond).
  let seen = new Set<string>();
  const store = opts.dataDir ? join(opts.dataDir, 'entries.jsonl') : undefined;
  const add = (e: LokiEntry): boolean => {
    const key = `${labelKey(e.index)}\u0000${e.ts}\u0000${e.line}`;
    if (seen.has(key)) return false;
    seen.add(key);
    entries.push(e);
    return true;
  };
  if (store && fs.existsSync(store)) {
    for (const line of fs.readFileSync(store, 'utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as Omit<LokiEntry, 'ts'> & { ts: string };
      add({ ...e, ts: BigInt(e.ts) });
    }
  }
  const push = (req: LogsRequest): number => {
    const added = otlpToEntries(req, nowNs()).filter(add);
    // Written before the 204, so an accepted record survives a restart as it does in Loki.
    if (store && added.length) fs.appendFileSync(store, added.map((e) => `${JSON.stringify({ ...e, ts: String(e.ts) })}\n`).join(''));
    return added.length;
  };
  const reset = (): void => {
    entries = [];
    seen = new Set();
    if (store) fs.rmSync(store, { force: true });
  };

  const server = createServer('loki-double', async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const started = process.hrtime.bigint();
    const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    const path = url.pathname;
    if (path === '/ready') return sendText(res, 200, 'ready');
    if (path === '/otlp/v1/logs' && req.method === 'POST') {
      const body = await readBody(req);
      const ct = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      let logs: LogsRequest;
      if (ct === 'application/json') logs = decodeJson<LogsRequest>(body, 'OTLP logs');
      else if (ct === 'application/x-protobuf' || ct === 'application/protobuf') {
        try {
          logs = decodeLogsRequest(body);
        } catch (err) {
          if (err instanceof ProtoError || err instanceof RangeError) throw new HttpError(400, `failed to parse OTLP request: ${err.message}`);
          throw err;
        }
      } else throw new HttpError(415, `unsupported content type: ${ct}`);
      push(logs);
      res.writeHead(204);
      return res.end();
    }
    if (path === '/double/reset' && req.method === 'POST') {
      reset();
      res.writeHead(204);
      return res.end();
    }
    if (req.method !== 'GET' && req.method !== 'POST') throw new HttpError(405, 'method not allowed');
    if (path === '/loki/api/v1/status/buildinfo') {
      return sendJson(res, 200, { version: LOKI_VERSION, revision: 'double', branch: 'double', buildUser: 'cct-test', buildDate: '', goVersion: '' });
    }
    if (path === '/loki/api/v1/labels') {
      const names = new Set<string>();
      for (const e of entries) for (const k of Object.keys(e.index)) names.add(k);
      return sendJson(res, 200, { status: 'success', data: [...names].sort() });
    }
    const labelValues = /^\/loki\/api\/v1\/label\/([^/]+)\/values$/.exec(path);
    if (labelValues) {
      const name = decodeURIComponent(labelValues[1]);
      const values = new Set<string>();
      for (const e of entries) if (e.index[name] !== undefined) values.add(e.index[name]);
      return sendJson(res, 200, { status: 'success', data: [...values].sort() });
    }
    if (path !== '/loki/api/v1/query' && path !== '/loki/api/v1/query_range') return sendText(res, 404, '404 page not found');

    let query: Query;
    try {
      query = await parseQueryParam(url);
    } catch (err) {
      if (err instanceof LogQLError) return sendText(res, 400, err.message);
      throw err;
    }
    const p = url.searchParams;
    try {
      if (path === '/loki/api/v1/query') {
        if (query.kind === 'log') {
          return sendText(res, 400, 'log queries are not supported as an instant query type, please change your query to a range query type');
        }
        const t = parseTimestamp(p.get('time'), nowNs());
        const vector = [...evalMetric(entries, query, t).values()]
          .map((s) => ({ metric: sortLabels(s.metric), value: [seconds(t), formatFloat(s.value)] as [number, string] }))
          .sort((a, b) => labelKey(a.metric).localeCompare(labelKey(b.metric)));
        return sendJson(res, 200, { status: 'success', data: { resultType: 'vector', result: vector, stats: stats(entries, vector.length, vector.length, elapsed()) } });
      }

      const end = parseTimestamp(p.get('end'), nowNs());
      const start = parseTimestamp(p.get('start'), end - 3600n * 1_000_000_000n);
      if (end < start) return sendText(res, 400, 'end timestamp must not be before or equal to start time');
      if (query.kind === 'log') {
        const limit = p.get('limit') ? Number(p.get('limit')) : 100;
        if (!Number.isInteger(limit) || limit <= 0) return sendText(res, 400, 'limit must be a positive value');
        if (limit > 5000) return sendText(res, 400, `max entries limit per query exceeded, limit > max_entries_limit_per_query (${limit} > 5000)`);
        const direction = (p.get('direction') ?? 'backward').toLowerCase();
        if (direction !== 'backward' && direction !== 'forward') return sendText(res, 400, `invalid direction '${direction}'`);
        const selected = selectLogs(entries, query, start, end, false);
        const ordered = selected
          .map((s, i) => ({ ...s, i }))
          .sort((a, b) => (a.e.ts === b.e.ts ? a.i - b.i : a.e.ts < b.e.ts ? -1 : 1));
        if (direction === 'backward') ordered.reverse();
        const kept = ordered.slice(0, limit);
        const flags = String(req.headers['x-loki-response-encoding-flags'] ?? '').split(',').map((s) => s.trim());
        const categorize = flags.includes('categorize-labels');
        const streams = new Map<string, { stream: Labels; values: unknown[] }>();
        for (const { e, labels } of kept) {
          const streamLabels = sortLabels(categorize ? e.index : labels);
          const key = labelKey(streamLabels);
          let s = streams.get(key);
          if (!s) streams.set(key, (s = { stream: streamLabels, values: [] }));
          if (categorize) s.values.push([e.ts.toString(), e.line, { structuredMetadata: sortLabels(e.metadata) }]);
          else s.values.push([e.ts.toString(), e.line]);
        }
        const result = [...streams.values()].sort((a, b) => labelKey(a.stream).localeCompare(labelKey(b.stream)));
        const data: Record<string, unknown> = { resultType: 'streams' };
        if (categorize) data.encodingFlags = ['categorize-labels'];
        data.result = result;
        data.stats = stats(entries, kept.length, selected.length, elapsed());
        return sendJson(res, 200, { status: 'success', data });
      }
      const step = parseStep(p.get('step'), start, end);
      if ((end - start) / step > 11000n) {
        return sendText(res, 400, 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
      }
      const series = new Map<string, { metric: Labels; values: [number, string][] }>();
      for (let t = start; t <= end; t += step) {
        for (const [key, s] of evalMetric(entries, query, t)) {
          let out = series.get(key);
          if (!out) series.set(key, (out = { metric: sortLabels(s.metric), values: [] }));
          out.values.push([seconds(t), formatFloat(s.value)]);
        }
      }
      const matrix = [...series.values()].sort((a, b) => labelKey(a.metric).localeCompare(labelKey(b.metric)));
      return sendJson(res, 200, { status: 'success', data: { resultType: 'matrix', result: matrix, stats: stats(entries, matrix.length, matrix.length, elapsed()) } });
    } catch (err) {
      if (err instanceof LogQLError) return sendText(res, 400, err.message);
      throw err;
    }
  });

  const port = await listen(server, opts.port ?? 3100, opts.host);
  return {
    port,
    get entries() {
      return entries;
    },
    push,
    reset,
    close: () => closeServer(server),
  };
}

/** Entry point of the cct-test/loki-double image. */
export async function main(): Promise<void> {
  const double = await startLokiDouble({ port: envInt('LOKI_PORT', 3100), dataDir: process.env.DOUBLE_DATA_DIR || undefined });
  console.log(`loki-double ${LOKI_VERSION}: listening on :${double.port} (OTLP at /otlp/v1/logs)`);
  exitOnSignals(() => double.close());
}
