// Why one file of this size: a test double answers as one server, its OTLP ingestion, its limits, its LogQL subset
// and its response shapes read together against the real Loki's answers.
// TEST DOUBLE of Grafana Loki 3.4.6 (never shipped; Loki is AGPL, so nothing of it is copied here: the behaviour below
// is written in our own code from the facts in ../shared/docs/telemetry-facts.md and the research notes, which were
// read from Loki v3.4.6's source and measured on a real Loki). Stores OTLP log records in memory (and, with a data
// directory, appends them to a file there that it reads back at start: the image keeps them on the stack's
// `loki-data` volume across Stop/Start, as the real Loki does) and answers the queries the extension and the stack's
// dashboard make, in the response shapes a real Loki 3.4.6 gave (../shared/fixtures/loki-3.4.6, mirrored in
// test/unit/doubles.test.ts), including its refusals:
//   POST /otlp/v1/logs              OTLP/HTTP JSON or protobuf -> 204. service.name (and Loki's other default
//                                   resource attributes) become index labels; every other attribute becomes
//                                   structured metadata, dots to `_`, values as strings, plus scope_name,
//                                   scope_version, observed_timestamp, severity_*, detected_level like Loki adds.
//                                   Refused as Loki does, every error a protobuf google.rpc.Status: no records 422;
//                                   an entry too old / too new (the distributor) or too far behind its stream (the
//                                   ingester) 400, the push's valid entries still stored.
//   GET  /ready                     "ready"
//   GET  /loki/api/v1/query         instant metric queries (a log query is Loki's plain-text 400)
//   GET  /loki/api/v1/query_range   log queries (streams; `X-Loki-Response-Encoding-Flags: categorize-labels`
//                                   honoured) and metric queries (matrix)
//   GET  /loki/api/v1/labels, /loki/api/v1/label/<name>/values, /loki/api/v1/status/buildinfo
//   POST /double/reset              (double only) forget every record, on disk too
// Queries go through Loki's limits as its query frontend and querier apply them: max_query_lookback (empty answer or
// clamped start, or 400 "this data is no longer available"), max_query_length, the 11,000 points per series, splitting
// by split_queries_by_interval / split_instant_metric_queries_by_interval (which decides where lookback gives a 400),
// max_query_series. The limits are Loki's defaults, or read from a Loki config file (main(): `-config.file=`,
// `-config.expand-env=true`, as the stack's compose passes them).
// LogQL understood (parsed with @grafana/lezer-logql): a stream selector, `| label op "value"` and `| label > 2000`
// filters joined by `and`/`or` in parentheses, line filters (|= != |~ !~), count_over_time, rate, bytes_over_time, bytes_rate, and with `| unwrap [duration|bytes(]L[)]`
// sum/avg/min/max/first/last/stddev/stdvar/quantile_over_time, `[R] offset D`; sum, avg, min, max, count
// [by|without (labels)] (...). Anything else is a plain-text 400 naming the double.
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import type { SyntaxNode } from '@lezer/common' with { 'resolution-mode': 'import' };
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import {
  HttpError,
  anyValueToJs,
  anyValueToString,
  closeServer,
  createServer,
  envInt,
  exitOnSignals,
  formatFloat,
  listen,
  normalizeLabel,
  readRawBody,
  sendJson,
  sendText,
  toBigInt,
  type AnyValue,
  type KeyValue,
  type LogsRequest,
} from './common';
import { ProtoError, decodeLogsRequest, encodeRpcStatus } from './otlp-proto';

export const LOKI_VERSION = '3.4.6';

type Labels = Record<string, string>;

export interface LokiEntry {
  /** nanoseconds since the epoch */
  ts: bigint;
  line: string;
  index: Labels;
  metadata: Labels;
}

// --- limits (Loki's defaults: pkg/validation/limits.go, the ingester's config) ------------------------------------

const MS = 1_000_000n;
const SEC = 1_000_000_000n;
const MIN = 60n * SEC;
const HOUR = 60n * MIN;
const DAY = 24n * HOUR;

/** The limits the double applies. Durations in nanoseconds; 0 turns a limit off where Loki's does. */
export interface LokiLimits {
  /** limits_config.reject_old_samples */
  rejectOldSamples: boolean;
  /** limits_config.reject_old_samples_max_age: older entries are refused by the distributor */
  rejectOldSamplesMaxAge: bigint;
  /** limits_config.creation_grace_period: entries further in the future are refused ("too new") */
  creationGracePeriod: bigint;
  /** limits_config.max_query_lookback (0: none) */
  maxQueryLookback: bigint;
  /** limits_config.max_query_length (0: none) */
  maxQueryLength: bigint;
  /** limits_config.max_query_series: series in a metric query's answer */
  maxQuerySeries: number;
  /** limits_config.split_queries_by_interval (0: range queries are not split) */
  splitQueriesByInterval: bigint;
  /** limits_config.split_instant_metric_queries_by_interval (0: instant queries are not split) */
  splitInstantMetricQueriesByInterval: bigint;
  /** ingester.max_chunk_age: an entry more than half of it behind its stream's newest is refused */
  maxChunkAge: bigint;
  /** ingester.chunk_idle_period: a stream idle that long is flushed and forgotten (its newest timestamp with it) */
  chunkIdlePeriod: bigint;
}

export const LOKI_DEFAULT_LIMITS: Readonly<LokiLimits> = Object.freeze({
  rejectOldSamples: true,
  rejectOldSamplesMaxAge: 7n * DAY,
  creationGracePeriod: 10n * MIN,
  maxQueryLookback: 0n,
  maxQueryLength: 721n * HOUR,
  maxQuerySeries: 500,
  splitQueriesByInterval: HOUR,
  splitInstantMetricQueriesByInterval: HOUR,
  maxChunkAge: 2n * HOUR,
  chunkIdlePeriod: 30n * MIN,
});

/** A Loki config file the double cannot use: the message is what Loki would print after "failed parsing config: ". */
export class LokiConfigError extends Error {}

/** Go's strconv.Quote, for the printable text Loki's messages quote. */
function goQuote(s: string): string {
  const named: Record<string, string> = {
    '\x07': '\\a',
    '\b': '\\b',
    '\f': '\\f',
    '\n': '\\n',
    '\r': '\\r',
    '\t': '\\t',
    '\v': '\\v',
    '"': '\\"',
    '\\': '\\\\',
  };
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (named[ch]) out += named[ch];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const MODEL_UNITS: [string, bigint][] = [
  ['y', 365n * DAY],
  ['w', 7n * DAY],
  ['d', DAY],
  ['h', HOUR],
  ['m', MIN],
  ['s', SEC],
  ['ms', MS],
];

/** Prometheus' model.ParseDuration, the syntax of Loki's limits_config durations: `30d`, `1w`, `721h`, `1d12h`, `0`
 * (integers only, units from the largest down, each once). Nanoseconds. */
export function parseModelDuration(s: string): bigint {
  if (s === '0') return 0n;
  if (s === '') throw new LokiConfigError('empty duration string');
  const invalid = (): LokiConfigError => new LokiConfigError(`not a valid duration string: ${goQuote(s)}`);
  let rest = s;
  let total = 0n;
  let last = -1;
  while (rest !== '') {
    const m = /^(\d+)(\D*)/.exec(rest);
    if (!m || m[2] === '') throw invalid();
    const pos = MODEL_UNITS.findIndex(([u]) => u === m[2]);
    if (pos < 0) throw new LokiConfigError(`unknown unit ${goQuote(m[2])} in duration ${goQuote(s)}`);
    if (pos <= last) throw invalid();
    last = pos;
    total += BigInt(m[1]) * MODEL_UNITS[pos][1];
    if (total > 2n ** 63n - 1n) throw new LokiConfigError('duration out of range');
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** Prometheus' model.Duration String(): 720h is `30d`, 28d `4w`, 721h `30d1h` (years and weeks only when exact). */
export function formatModelDuration(ns: bigint): string {
  let ms = ns / MS;
  if (ms === 0n) return '0s';
  let out = '';
  const unit = (name: string, mult: bigint, exact: boolean): void => {
    if (exact && ms % mult !== 0n) return;
    const v = ms / mult;
    if (v > 0n) {
      out += `${v}${name}`;
      ms -= v * mult;
    }
  };
  const d = DAY / MS;
  unit('y', 365n * d, true);
  unit('w', 7n * d, true);
  unit('d', d, false);
  unit('h', HOUR / MS, false);
  unit('m', MIN / MS, false);
  unit('s', SEC / MS, false);
  unit('ms', 1n, false);
  return out;
}

const GO_UNITS: Record<string, bigint> = { ns: 1n, us: 1000n, µs: 1000n, μs: 1000n, ms: MS, s: SEC, m: MIN, h: HOUR };

/** Go's time.ParseDuration (`2h`, `1h30m`, `1.5h`, `300ms`; no `d`): nanoseconds, or undefined when Go refuses it. */
export function parseGoDuration(s: string): bigint | undefined {
  let rest = s;
  let sign = 1n;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1n;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return undefined;
  let total = 0n;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?([^\d.]*)/.exec(rest)!;
    const [whole, int, frac = '', unitName] = m;
    if (int === '' && frac === '') return undefined;
    const unit = GO_UNITS[unitName];
    if (unit === undefined) return undefined;
    total += BigInt(int || '0') * unit;
    if (frac) total += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    rest = rest.slice(whole.length);
  }
  return sign * total;
}

/** Go's time.Duration String(): `2160h0m0s`, `1m30s`, `1.5ms`, `2160h0m0.000000001s`. */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  const withFraction = (v: bigint, unit: bigint): string => {
    const whole = v / unit;
    const frac = v % unit;
    if (frac === 0n) return `${whole}`;
    return `${whole}.${frac
      .toString()
      .padStart(String(unit).length - 1, '0')
      .replace(/0+$/, '')}`;
  };
  let out: string;
  if (u < 1000n) out = `${u}ns`;
  else if (u < MS) out = `${withFraction(u, 1000n)}µs`;
  else if (u < SEC) out = `${withFraction(u, MS)}ms`;
  else {
    const h = u / HOUR;
    u -= h * HOUR;
    const m = u / MIN;
    u -= m * MIN;
    const s = `${withFraction(u, SEC)}s`;
    out = h > 0n ? `${h}h${m}m${s}` : m > 0n ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

/**
 * What `-config.expand-env=true` does to the file before YAML parsing (drone/envsubst, as Loki uses it): `${VAR}`,
 * and `${VAR:-default}` / `${VAR:=default}` / `${VAR=default}` (the default when VAR is unset or empty); `$$` is a `$`,
 * `\\` a `\` and `\/` a `/`; a `$` not followed by `{` stays. Substitutions envsubst has and the double has not
 * (`${#VAR}`, `${VAR:1:2}`, `${VAR/a/b}`, ...) throw.
 */
export function expandEnv(text: string, env: Record<string, string | undefined>): string {
  let out = '';
  for (let i = 0; i < text.length;) {
    const c = text[i];
    const next = text[i + 1];
    if ((c === '$' && next === '$') || (c === '\\' && (next === '\\' || next === '/'))) {
      out += next;
      i += 2;
    } else if (c === '$' && next === '{') {
      const close = text.indexOf('}', i + 2);
      if (close < 0) throw new LokiConfigError('missing closing brace');
      const inner = text.slice(i + 2, close);
      const m = /^([\p{L}\p{N}_]+)(?:(:-|:=|=)([^$]*))?$/u.exec(inner);
      if (!m) {
        if (!/^[\p{L}\p{N}_]/u.test(inner)) throw new LokiConfigError('unable to parse variable name');
        throw new LokiConfigError(`the Loki test double does not expand \${${inner}} (Loki's drone/envsubst might)`);
      }
      const value = env[m[1]] ?? '';
      out += value === '' && m[2] ? m[3] : value;
      i = close + 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

type LimitField = { path: [string, string]; key: keyof LokiLimits; kind: 'model' | 'go' | 'bool' | 'int' };
const CONFIG_FIELDS: LimitField[] = [
  { path: ['limits_config', 'reject_old_samples'], key: 'rejectOldSamples', kind: 'bool' },
  { path: ['limits_config', 'reject_old_samples_max_age'], key: 'rejectOldSamplesMaxAge', kind: 'model' },
  { path: ['limits_config', 'creation_grace_period'], key: 'creationGracePeriod', kind: 'model' },
  { path: ['limits_config', 'max_query_lookback'], key: 'maxQueryLookback', kind: 'model' },
  { path: ['limits_config', 'max_query_length'], key: 'maxQueryLength', kind: 'model' },
  { path: ['limits_config', 'max_query_series'], key: 'maxQuerySeries', kind: 'int' },
  { path: ['limits_config', 'split_queries_by_interval'], key: 'splitQueriesByInterval', kind: 'model' },
  {
    path: ['limits_config', 'split_instant_metric_queries_by_interval'],
    key: 'splitInstantMetricQueriesByInterval',
    kind: 'model',
  },
  { path: ['ingester', 'max_chunk_age'], key: 'maxChunkAge', kind: 'go' },
  { path: ['ingester', 'chunk_idle_period'], key: 'chunkIdlePeriod', kind: 'go' },
];
const SECTION_TYPES: Record<string, string> = { limits_config: 'validation.Limits', ingester: 'ingester.Config' };
const GO_TYPES = { model: 'model.Duration', go: 'time.Duration', bool: 'bool', int: 'int' } as const;

/**
 * The double's limits from a Loki config file's text, read as Loki 3.4.6 reads them: with `expandEnvVars` (Loki's
 * `-config.expand-env=true`) `${VAR}` / `${VAR:-default}` are substituted from `env` first; limits_config durations are
 * Prometheus durations (`30d`, `1w`, `0`), ingester.max_chunk_age and chunk_idle_period Go durations (`24h`; `1d` is an
 * error there, as in Loki). What the file does not set keeps Loki's default. A value Loki would refuse throws a
 * LokiConfigError with Loki's message (yaml.v2's "unmarshal errors" for a wrong type). Other keys are not checked.
 */
export function lokiLimitsFromConfig(
  text: string,
  env: Record<string, string | undefined> = process.env,
  expandEnvVars = true,
): LokiLimits {
  const source = expandEnvVars ? expandEnv(text, env) : text;
  const lineCounter = new LineCounter();
  // YAML 1.1, as Go's yaml.v2 reads it (yes/no/on/off are booleans).
  const doc = parseDocument(source, { version: '1.1', lineCounter, uniqueKeys: false });
  if (doc.errors.length) throw new LokiConfigError(`yaml: ${doc.errors[0].message.split('\n')[0]}`);
  const limits: LokiLimits = { ...LOKI_DEFAULT_LIMITS };
  const line = (n: YamlNode): number => lineCounter.linePos(n.range?.[0] ?? 0).line;
  const tagOf = (n: YamlNode): string => {
    if (isMap(n)) return '!!map';
    if (isSeq(n)) return '!!seq';
    if (!isScalar(n)) return '!!str';
    const v = n.value;
    if (v === null) return '!!null';
    if (typeof v === 'boolean') return '!!bool';
    if (typeof v === 'number') return Number.isInteger(v) && !/[.eE]/.test(raw(n)) ? '!!int' : '!!float';
    return '!!str';
  };
  const raw = (n: YamlNode): string => {
    if (isScalar(n) && typeof n.value === 'string') return n.value;
    return source.slice(n.range?.[0] ?? 0, n.range?.[1] ?? 0);
  };
  const resolve = (n: YamlNode | undefined): YamlNode | undefined =>
    n && isAlias(n) ? (n.resolve(doc) as YamlNode | undefined) : n;
  const typeErrors: { at: number; text: string }[] = [];
  const typeError = (n: YamlNode, goType: string): void => {
    const shown = isScalar(n) ? ` \`${raw(n)}\`` : '';
    typeErrors.push({
      at: n.range?.[0] ?? 0,
      text: `line ${line(n)}: cannot unmarshal ${tagOf(n)}${shown} into ${goType}`,
    });
  };

  const found: { node: YamlNode; field: LimitField }[] = [];
  for (const [section, goType] of Object.entries(SECTION_TYPES)) {
    const node = resolve(doc.get(section, true) as YamlNode | undefined);
    if (node === undefined || (isScalar(node) && node.value === null)) continue;
    if (!isMap(node)) {
      typeError(node, goType);
      continue;
    }
    for (const field of CONFIG_FIELDS.filter((f) => f.path[0] === section)) {
      const value = resolve(node.get(field.path[1], true) as YamlNode | undefined);
      if (value !== undefined) found.push({ node: value, field });
    }
  }
  // In the file's order, as yaml.v2 decodes: a bad Prometheus duration stops it at once, type errors are collected.
  found.sort((a, b) => (a.node.range?.[0] ?? 0) - (b.node.range?.[0] ?? 0));
  for (const { node, field } of found) {
    const set = (v: LokiLimits[keyof LokiLimits]): void => {
      (limits as unknown as Record<string, unknown>)[field.key] = v;
    };
    if (!isScalar(node)) {
      typeError(node, GO_TYPES[field.kind]);
      continue;
    }
    if (node.value === null) {
      set(field.kind === 'bool' ? false : field.kind === 'int' ? 0 : 0n);
      continue;
    }
    switch (field.kind) {
      case 'model':
        set(parseModelDuration(raw(node)));
        break;
      case 'go': {
        const ns = typeof node.value === 'string' ? parseGoDuration(node.value) : undefined;
        if (ns === undefined) typeError(node, 'time.Duration');
        else set(ns);
        break;
      }
      case 'bool':
        if (typeof node.value === 'boolean') set(node.value);
        else typeError(node, 'bool');
        break;
      case 'int':
        if (tagOf(node) === '!!int') set(Number(node.value));
        else typeError(node, 'int');
        break;
    }
  }
  if (typeErrors.length) {
    typeErrors.sort((a, b) => a.at - b.at);
    throw new LokiConfigError(`yaml: unmarshal errors:\n${typeErrors.map((e) => `  ${e.text}`).join('\n')}`);
  }
  return limits;
}

/** Loki's ConfigFileLoader: the first existing file of a comma-separated `-config.file`; its errors prefixed with the
 * file, and without `-config.expand-env=true` the hint Loki adds. */
export function readLokiConfigFile(
  fileFlag: string,
  env: Record<string, string | undefined> = process.env,
  expandEnvVars = true,
): LokiLimits {
  for (const file of fileFlag.split(',').map((f) => f.trim())) {
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    let source = text;
    if (expandEnvVars) source = expandEnv(text, env); // envsubst's errors come unprefixed, as in Loki
    try {
      return lokiLimitsFromConfig(source, env, false);
    } catch (err) {
      if (!(err instanceof LokiConfigError)) throw err;
      const hint = expandEnvVars
        ? ''
        : '. Use `-config.expand-env=true` flag if you want to expand environment variables in your config file';
      throw new LokiConfigError(`${file}: ${err.message}${hint}`);
    }
  }
  throw new LokiConfigError(`${fileFlag} does not exist, set config.file for custom config path`);
}

// --- OTLP -> Loki (pkg/loghttp/push/otlp.go, defaults) ------------------------------------------------------------

const INDEX_RESOURCE_ATTRIBUTES = new Set([
  'service.name',
  'service.namespace',
  'service.instance.id',
  'deployment.environment',
  'deployment.environment.name',
  'cloud.region',
  'cloud.availability_zone',
  'k8s.cluster.name',
  'k8s.namespace.name',
  'k8s.pod.name',
  'k8s.container.name',
  'container.name',
  'k8s.replicaset.name',
  'k8s.deployment.name',
  'k8s.statefulset.name',
  'k8s.daemonset.name',
  'k8s.cronjob.name',
  'k8s.job.name',
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
        const line =
          body?.kvlistValue || body?.arrayValue ? JSON.stringify(anyValueToJs(body)) : anyValueToString(body);
        metadata.detected_level = detectLevel(sevNum, rec.severityText ?? '', metadata, line);
        const time = toBigInt(rec.timeUnixNano);
        out.push({ ts: time !== 0n ? time : observed !== 0n ? observed : nowNs, line, index: { ...index }, metadata });
      }
    }
  }
  return out;
}

// --- push validation (the distributor's and the ingester's refusals) ---------------------------------------------

const labelKey = (l: Labels): string =>
  JSON.stringify(
    Object.keys(l)
      .sort()
      .map((k) => [k, l[k]]),
  );
const sortLabels = (l: Labels): Labels =>
  Object.fromEntries(
    Object.keys(l)
      .sort()
      .map((k) => [k, l[k]]),
  );
/** Prometheus' labels.String(), as Loki names a stream in its messages: `{a="b", c="d"}`. */
const promLabels = (l: Labels): string =>
  `{${Object.keys(l)
    .sort()
    .map((k) => `${k}=${goQuote(l[k])}`)
    .join(', ')}}`;

/** Go's Time.Format(time.RFC3339) in UTC (Loki's container has no zone): whole seconds, `Z`. */
function rfc3339(ns: bigint): string {
  const s = ns >= 0n ? ns / SEC : (ns - SEC + 1n) / SEC;
  return new Date(Number(s) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
/** Go's Time.String() in UTC: `2026-12-07 10:00:00.123 +0000 UTC` (the fraction without trailing zeros). */
function goTimeString(ns: bigint): string {
  const s = ns >= 0n ? ns / SEC : (ns - SEC + 1n) / SEC;
  const frac = (ns - s * SEC).toString().padStart(9, '0').replace(/0+$/, '');
  const iso = new Date(Number(s) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`;
}

export const MISSING_STREAMS_ERROR = 'error at least one valid stream is required for ingestion';

/** Loki's util.GroupedErrors: distinct messages joined by "; ", each prefixed "N errors like: " unless there is just
 * one message once. (Loki's order comes from a Go map, so it varies; the double keeps first-seen order.) */
function groupedErrors(messages: string[]): string {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m, (counts.get(m) ?? 0) + 1);
  return [...counts].map(([m, n]) => (counts.size > 1 || n > 1 ? `${n} errors like: ${m}` : m)).join('; ');
}

/** What the ingester keeps of a stream between pushes. */
interface StreamState {
  /** the newest timestamp it accepted (none yet: undefined) */
  highestTs?: bigint;
  /** its last accepted entry: an identical one is dropped silently */
  lastLine?: { ts: bigint; line: string };
  /** the double's clock (ms) when it last stored an entry */
  lastWriteMs: number;
}

export interface PushOutcome {
  /** 204, or the HTTP status Loki answers */
  status: number;
  /** Loki's error message (sent as a google.rpc.Status) */
  message?: string;
  /** entries stored (duplicates are not) */
  stored: number;
}

// --- LogQL ---------------------------------------------------------------------------------------------------------

export class LogQLError extends Error {}

interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  re?: RegExp;
}
/** A label filter stage as Loki evaluates it: a string matcher, a number comparison, or two joined by `and`/`or`. */
type LabelPredicate =
  | { kind: 'matcher'; m: LabelMatcher }
  | { kind: 'number'; name: string; op: '>' | '>=' | '<' | '<=' | '==' | '!='; value: number }
  | { kind: 'binary'; and: boolean; left: LabelPredicate; right: LabelPredicate };
type Stage =
  { kind: 'label'; p: LabelPredicate } | { kind: 'line'; op: '|=' | '!=' | '|~' | '!~'; value: string; re?: RegExp };
interface LogQuery {
  kind: 'log';
  selector: LabelMatcher[];
  stages: Stage[];
}
interface Grouping {
  without: boolean;
  labels: string[];
}
const RANGE_OPS = [
  'count_over_time',
  'rate',
  'bytes_over_time',
  'bytes_rate',
  'sum_over_time',
  'avg_over_time',
  'max_over_time',
  'min_over_time',
  'first_over_time',
  'last_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
] as const;
type RangeOp = (typeof RANGE_OPS)[number];
/** Loki's RangeAggregationExpr.validate(): which take `by`/`without`, which need an unwrap, which refuse one. */
const GROUPABLE_RANGE_OPS = new Set<RangeOp>([
  'avg_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'max_over_time',
  'min_over_time',
  'first_over_time',
  'last_over_time',
]);
const UNWRAP_RANGE_OPS = new Set<RangeOp>([
  'avg_over_time',
  'sum_over_time',
  'max_over_time',
  'min_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'rate',
  'first_over_time',
  'last_over_time',
]);
const LINE_RANGE_OPS = new Set<RangeOp>(['bytes_over_time', 'bytes_rate', 'count_over_time', 'rate']);
const VECTOR_OPS = ['sum', 'avg', 'min', 'max', 'count'] as const;
type VectorOp = (typeof VECTOR_OPS)[number];

interface RangeQuery {
  kind: 'range';
  op: RangeOp;
  /** quantile_over_time's φ */
  param?: number;
  log: LogQuery;
  unwrap?: { label: string; conv: 'float' | 'duration' | 'bytes' };
  postUnwrap: Stage[];
  grouping?: Grouping;
  rangeNs: bigint;
  offsetNs: bigint;
}
interface VectorQuery {
  kind: 'vector';
  op: VectorOp;
  grouping?: Grouping;
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

const unsupported = (what: string): LogQLError =>
  new LogQLError(`parse error : ${what} is not supported by the Loki test double`);

/** Go-style duration ("3h", "1h30m", "500ms", Prometheus' d/w/y too) -> nanoseconds. */
export function parseDuration(s: string): bigint {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w|y)/g;
  const unit: Record<string, number> = {
    ns: 1,
    us: 1e3,
    µs: 1e3,
    ms: 1e6,
    s: 1e9,
    m: 60e9,
    h: 3600e9,
    d: 86400e9,
    w: 604800e9,
    y: 31536000e9,
  };
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
    const inRange =
      error.parent?.name === 'Range' ||
      (error.parent?.name === 'LogRangeExpr' && query.lastIndexOf('[') > query.lastIndexOf(']'));
    if (inRange)
      throw new LogQLError(`parse error at line 0, col ${query.length + 1}: missing closing ']' in duration`);
    const before = query.slice(0, error.from);
    const line = before.split('\n').length;
    const col = error.from - (before.lastIndexOf('\n') + 1) + 1;
    const token = query.slice(error.from).trim().split(/\s+/)[0] ?? '';
    throw new LogQLError(
      `parse error at line ${line}, col ${col}: syntax error: unexpected ${token === '' ? '$end' : token}`,
    );
  }
  const top = tree.topNode.getChild('Expr');
  if (!top) throw new LogQLError('parse error : syntax error: unexpected $end');

  const matcher = (n: SyntaxNode): LabelMatcher => {
    const [id, opNode, str] = children(n);
    if (!id || id.name !== 'Identifier' || !opNode || !str || str.name !== 'String')
      throw unsupported(`the matcher ${text(n)}`);
    const opText = text(opNode);
    if (opText !== '=' && opText !== '!=' && opText !== '=~' && opText !== '!~')
      throw unsupported(`the matcher operator ${opText}`);
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
        if (!filter || filter.name !== 'Filter' || !str || str.name !== 'String' || rest.length)
          throw unsupported(`the line filter ${text(lf)}`);
        const op = text(filter) as '|=' | '!=' | '|~' | '!~';
        if (!['|=', '!=', '|~', '!~'].includes(op)) throw unsupported(`the line filter ${text(lf)}`);
        const value = stringLiteral(text(str));
        return { kind: 'line', op, value, ...(op === '|~' || op === '!~' ? { re: regex(value, false) } : {}) };
      });
    }
    throw unsupported(`the pipeline stage "${text(n)}"`);
  };

  const NUMBER_OPS = { Gtr: '>', Gte: '>=', Lss: '<', Lte: '<=', Eql: '==', Eq: '==', Neq: '!=' } as const;
  const predicate = (n: SyntaxNode): LabelPredicate => {
    const parts = children(n);
    if (parts.length === 1 && parts[0].name === 'LabelFilter') return predicate(parts[0]);
    if (parts.length === 1 && parts[0].name === 'Matcher') return { kind: 'matcher', m: matcher(parts[0]) };
    if (parts.length === 1 && parts[0].name === 'NumberFilter') {
      const [id, opNode, literal] = children(parts[0]);
      const op = opNode ? NUMBER_OPS[opNode.name as keyof typeof NUMBER_OPS] : undefined;
      if (!id || id.name !== 'Identifier' || !op || !literal || literal.name !== 'LiteralExpr')
        throw unsupported(`the number filter "${text(parts[0])}"`);
      return { kind: 'number', name: text(id), op, value: Number(text(literal)) };
    }
    const [left, joint, right, ...rest] = parts;
    if (left?.name === 'LabelFilter' && (joint?.name === 'And' || joint?.name === 'Or') && right && !rest.length)
      return { kind: 'binary', and: joint.name === 'And', left: predicate(left), right: predicate(right) };
    throw unsupported(`the label filter "${text(n)}"`);
  };
  const labelFilter = (n: SyntaxNode): Stage => ({ kind: 'label', p: predicate(n) });

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
      throw new LogQLError(
        'parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
      );
    }
    return out;
  };

  const grouping = (g: SyntaxNode): Grouping => {
    const labels: string[] = [];
    g.getChild('Labels')
      ?.cursor()
      .iterate((x) => {
        if (x.name === 'Identifier') labels.push(query.slice(x.from, x.to));
      });
    return { without: !!g.getChild('Without'), labels };
  };

  const logExpr = (n: SyntaxNode): LogQuery => {
    const sel = n.getChild('Selector');
    if (!sel) throw unsupported(`the log expression ${text(n)}`);
    for (const c of children(n))
      if (c.name !== 'Selector' && c.name !== 'PipelineExpr') throw unsupported(`"${text(c)}"`);
    return { kind: 'log', selector: selector(sel), stages: stages(n.getChild('PipelineExpr')) };
  };

  const rangeAgg = (n: SyntaxNode): RangeQuery => {
    const opNode = n.getChild('RangeOp')?.firstChild;
    const op = (opNode ? text(opNode) : '') as RangeOp;
    if (!RANGE_OPS.includes(op)) throw unsupported(`the range aggregation ${op || text(n)}`);
    let paramText: string | undefined;
    let group: Grouping | undefined;
    for (const c of children(n)) {
      if (c.name === 'RangeOp' || c.name === 'LogRangeExpr') continue;
      if (c.name === 'Number') paramText = text(c);
      else if (c.name === 'Grouping') group = grouping(c);
      else throw unsupported(`"${text(c)}" in ${op}`);
    }
    const lre = n.getChild('LogRangeExpr');
    if (!lre) throw unsupported(text(n));
    const sel = lre.getChild('Selector');
    const range = lre.getChild('Range')?.getChild('Duration');
    if (!sel || !range) throw unsupported(text(lre));
    let pipeline: Stage[] = [];
    let unwrap: RangeQuery['unwrap'];
    let postUnwrap: Stage[] = [];
    let offsetNs = 0n;
    for (const c of children(lre)) {
      if (c.name === 'Selector' || c.name === 'Range') continue;
      if (c.name === 'PipelineExpr') pipeline = pipeline.concat(stages(c));
      else if (c.name === 'OffsetExpr') {
        const d = c.getChild('Duration');
        if (!d) throw unsupported(`"${text(c)}"`);
        offsetNs = parseDuration(text(d));
      } else if (c.name === 'UnwrapExpr') {
        const visit = (u: SyntaxNode): void => {
          let conv: 'float' | 'duration' | 'bytes' = 'float';
          for (const p of children(u)) {
            if (p.name === 'UnwrapExpr') visit(p);
            else if (p.name === 'ConvOp') {
              const c2 = text(p);
              if (c2 === 'duration' || c2 === 'duration_seconds') conv = 'duration';
              else if (c2 === 'bytes') conv = 'bytes';
              else throw unsupported(`the conversion ${c2}()`);
            } else if (p.name === 'Identifier') unwrap = { label: text(p), conv };
            else if (p.name === 'LabelFilter') postUnwrap.push(labelFilter(p));
            else if (p.name !== 'Pipe' && p.name !== 'Unwrap') throw unsupported(`"${text(p)}" in unwrap`);
          }
        };
        visit(c);
      } else throw unsupported(`"${text(c)}" in ${op}`);
    }
    // Loki's own checks (newRangeAggregationExpr, RangeAggregationExpr.validate), as parse errors.
    let param: number | undefined;
    if (paramText !== undefined) {
      if (op !== 'quantile_over_time')
        throw new LogQLError(`parse error : parameter ${paramText} not supported for operation ${op}`);
      param = Number(paramText);
    } else if (op === 'quantile_over_time')
      throw new LogQLError(`parse error : parameter required for operation ${op}`);
    if (group && !GROUPABLE_RANGE_OPS.has(op))
      throw new LogQLError(`parse error : grouping not allowed for ${op} aggregation`);
    if (unwrap && !UNWRAP_RANGE_OPS.has(op))
      throw new LogQLError(`parse error : invalid aggregation ${op} with unwrap`);
    if (!unwrap && !LINE_RANGE_OPS.has(op))
      throw new LogQLError(`parse error : invalid aggregation ${op} without unwrap`);
    if (!unwrap) postUnwrap = [];
    const q: RangeQuery = {
      kind: 'range',
      op,
      log: { kind: 'log', selector: selector(sel), stages: pipeline },
      postUnwrap,
      rangeNs: parseDuration(text(range)),
      offsetNs,
    };
    if (unwrap) q.unwrap = unwrap;
    if (param !== undefined) q.param = param;
    if (group) q.grouping = group;
    return q;
  };

  const metricExpr = (n: SyntaxNode): MetricQuery => {
    const [c, ...rest] = children(n);
    if (!c || rest.length) throw unsupported(`"${text(n)}"`);
    if (c.name === 'RangeAggregationExpr') return rangeAgg(c);
    if (c.name === 'VectorAggregationExpr') {
      const opNode = c.getChild('VectorOp');
      const op = (opNode ? text(opNode) : '') as VectorOp;
      if (!VECTOR_OPS.includes(op)) throw unsupported(`the aggregation ${op || text(c)}`);
      const inner = c.getChild('MetricExpr');
      if (!inner) throw unsupported(text(c));
      for (const p of children(c))
        if (!['VectorOp', 'Grouping', 'MetricExpr'].includes(p.name)) throw unsupported(`"${text(p)}" in ${op}`);
      const q: VectorQuery = { kind: 'vector', op, inner: metricExpr(inner) };
      const g = c.getChild('Grouping');
      if (g) q.grouping = grouping(g);
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

/** The (only) range aggregation of a metric query: the double's LogQL has exactly one. */
function rangeOf(q: MetricQuery): RangeQuery {
  return q.kind === 'range' ? q : rangeOf(q.inner);
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
      if (!holds(s.p, labels)) return false;
    } else {
      const hit = s.re ? s.re.test(line) : line.includes(s.value);
      if ((s.op === '|=' || s.op === '|~') !== hit) return false;
    }
  }
  return true;
}

/**
 * Loki's label filters (log/labelfilter.go): a number filter drops an entry without the label and keeps one whose
 * value is no number, marked with `__error__`; `or` stops at a left side that holds.
 */
function holds(p: LabelPredicate, labels: Labels): boolean {
  switch (p.kind) {
    case 'matcher':
      return matches(p.m, labels);
    case 'number': {
      const raw = labels[p.name];
      if (raw === undefined) return false;
      const v = goParseFloat(raw);
      if (typeof v !== 'number') {
        // The first error stays (Loki 3).
        labels['__error__'] ??= 'LabelFilterErr';
        labels['__error_details__'] ??= v;
        return true;
      }
      const x = p.value;
      return { '>': v > x, '>=': v >= x, '<': v < x, '<=': v <= x, '==': v === x, '!=': v !== x }[p.op];
    }
    case 'binary': {
      const left = holds(p.left, labels);
      if (!p.and && left) return true;
      const right = holds(p.right, labels);
      return p.and ? left && right : right;
    }
  }
}

/** Entries a log query selects with ts in [fromNs, toNs) (or [fromNs, toNs]), as (entry, labels) pairs. */
function selectLogs(
  entries: LokiEntry[],
  q: LogQuery,
  fromNs: bigint,
  toNs: bigint,
  inclusiveEnd: boolean,
): { e: LokiEntry; labels: Labels }[] {
  const out: { e: LokiEntry; labels: Labels }[] = [];
  for (const e of entries) {
    if (e.ts < fromNs || e.ts > toNs || (!inclusiveEnd && e.ts === toNs)) continue;
    if (!q.selector.every((m) => matches(m, e.index))) continue;
    const labels = { ...e.metadata, ...e.index };
    if (runStages(q.stages, labels, e.line)) out.push({ e, labels });
  }
  return out;
}

/** Go's strconv.ParseFloat syntax (no spaces; inf/nan words; hex floats), as `unwrap` converts a label. */
function goParseFloat(s: string): number | string {
  const invalid = `strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax`;
  if (/^[+-]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return NaN;
  let v: number;
  if (/^[+-]?(\d+(_\d+)*(\.(\d+(_\d+)*)?)?|\.\d+(_\d+)*)([eE][+-]?\d+)?$/.test(s) && !s.includes('_')) v = Number(s);
  else if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(s)) v = Number.parseInt(s, 16);
  else return invalid;
  if (!Number.isFinite(v)) return `strconv.ParseFloat: parsing ${goQuote(s)}: value out of range`;
  return v;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1e15,
  pb: 1e15,
  pi: 1024 ** 5,
  pib: 1024 ** 5,
  e: 1e18,
  eb: 1e18,
  ei: 1024 ** 6,
  eib: 1024 ** 6,
};

/** `unwrap L` (a float), `unwrap duration(L)` (Go durations, in seconds) and `unwrap bytes(L)` (`5 MB`, `1KiB`): the
 * value, or the error text Loki puts in __error_details__. */
function unwrapValue(raw: string, conv: 'float' | 'duration' | 'bytes'): number | string {
  if (conv === 'float') return goParseFloat(raw);
  if (conv === 'duration') {
    const ns = parseGoDuration(raw);
    return ns === undefined ? `time: invalid duration ${goQuote(raw)}` : Number(ns) / 1e9;
  }
  const m = /^([\d.,]*)(.*)$/.exec(raw)!;
  const num = goParseFloat(m[1].replace(/,/g, ''));
  if (typeof num === 'string') return num;
  const unit = BYTE_UNITS[m[2].trim().toLowerCase()];
  if (unit === undefined) return `unhandled size name: ${m[2].trim().toLowerCase()}`;
  return Math.floor(num * unit);
}

/** An incremental mean, as Loki's avg_over_time and vector avg compute it. */
function mean(values: number[]): number {
  let m = 0;
  values.forEach((v, i) => {
    const count = i + 1;
    // An infinite mean stays as it is for a finite value or an infinity of its sign (Inf - Inf would make it NaN).
    if (!Number.isFinite(m) && !Number.isNaN(m) && (Number.isFinite(v) || (!Number.isNaN(v) && m > 0 === v > 0)))
      return;
    m += v / count - m / count;
  });
  return m;
}

function stdvar(values: number[]): number {
  let aux = 0;
  let m = 0;
  values.forEach((v, i) => {
    const delta = v - m;
    m += delta / (i + 1);
    aux += delta * (v - m);
  });
  return aux / values.length;
}

/** Prometheus' quantile: linear interpolation between the closest ranks; φ outside [0, 1] gives ∓Inf. */
function quantile(phi: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(phi)) return NaN;
  if (phi < 0) return -Infinity;
  if (phi > 1) return Infinity;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = phi * (sorted.length - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(sorted.length - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower] * (1 - weight) + sorted[upper] * weight;
}

function extreme(values: number[], pick: (a: number, b: number) => boolean): number {
  let best = values[0];
  for (const v of values) if (pick(v, best) || Number.isNaN(best)) best = v;
  return best;
}

type Vector = Map<string, { metric: Labels; value: number }>;
const INJECTABLE_RANGE_OPS = new Set<RangeOp>([
  'bytes_over_time',
  'bytes_rate',
  'sum_over_time',
  'rate',
  'count_over_time',
]);

function groupLabels(metric: Labels, g: Grouping | undefined, alsoDrop?: string): Labels {
  if (g && !g.without) {
    const out: Labels = {};
    for (const l of g.labels) if (metric[l] !== undefined && metric[l] !== '') out[l] = metric[l];
    return out;
  }
  const drop = new Set([...(g?.labels ?? []), ...(alsoDrop ? [alsoDrop] : [])]);
  return Object.fromEntries(Object.entries(metric).filter(([k]) => !drop.has(k)));
}

/**
 * A metric query at tNs: range aggregations over (t - offset - range, t - offset], reading no entry older than
 * `minTs` (the querier's window clamped to max_query_lookback).
 */
function evalMetric(entries: LokiEntry[], q: MetricQuery, tNs: bigint, minTs?: bigint): Vector {
  if (q.kind === 'range') {
    const to = tNs - q.offsetNs;
    let from = to - q.rangeNs + 1n;
    if (minTs !== undefined && from < minTs) from = minTs;
    const series = new Map<string, { metric: Labels; samples: { ts: bigint; v: number }[] }>();
    for (const { e, labels } of selectLogs(entries, q.log, from, to, true)) {
      let value: number;
      let metric: Labels;
      if (q.unwrap) {
        // As Loki's label sample extractor: an entry without the label (or with it empty) is no sample; one whose
        // value does not convert gets __error__; the post-unwrap filters run; the series keeps every label but the
        // unwrapped one (or the range aggregation's own grouping).
        const raw = labels[q.unwrap.label];
        if (raw === undefined || raw === '') continue;
        metric = { ...labels };
        const v = unwrapValue(raw, q.unwrap.conv);
        value = typeof v === 'number' ? v : 0;
        if (typeof v === 'string') {
          metric.__error__ = 'SampleExtractionErr';
          metric.__error_details__ = v;
        }
        if (!runStages(q.postUnwrap, metric, e.line)) continue;
        if (metric.__error__) {
          throw new LogQLError(
            `pipeline error: '${metric.__error__}' for series: '${promLabels(metric)}'.\nUse a label filter to intentionally skip this error. (e.g | __error__!="${metric.__error__}").\nTo skip all potential errors you can match empty errors.(e.g __error__="")\nThe label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )\n`,
          );
        }
        metric = groupLabels(metric, q.grouping, q.unwrap.label);
      } else {
        metric = q.grouping ? groupLabels(labels, q.grouping) : { ...labels };
        value = q.op === 'bytes_over_time' || q.op === 'bytes_rate' ? Buffer.byteLength(e.line) : 1;
      }
      const key = labelKey(metric);
      let s = series.get(key);
      if (!s) series.set(key, (s = { metric, samples: [] }));
      s.samples.push({ ts: e.ts, v: value });
    }
    const seconds = Number(q.rangeNs) / 1e9;
    const out: Vector = new Map();
    for (const [key, { metric, samples }] of series) {
      samples.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
      const values = samples.map((s) => s.v);
      const sum = (): number => values.reduce((a, b) => a + b, 0);
      let value: number;
      switch (q.op) {
        case 'count_over_time':
          value = values.length;
          break;
        case 'rate':
          value = (q.unwrap ? sum() : values.length) / seconds;
          break;
        case 'bytes_rate':
          value = sum() / seconds;
          break;
        case 'bytes_over_time':
        case 'sum_over_time':
          value = sum();
          break;
        case 'avg_over_time':
          value = mean(values);
          break;
        case 'max_over_time':
          value = extreme(values, (a, b) => a > b);
          break;
        case 'min_over_time':
          value = extreme(values, (a, b) => a < b);
          break;
        case 'first_over_time':
          value = values[0];
          break;
        case 'last_over_time':
          value = values[values.length - 1];
          break;
        case 'stddev_over_time':
          value = Math.sqrt(stdvar(values));
          break;
        case 'stdvar_over_time':
          value = stdvar(values);
          break;
        case 'quantile_over_time':
          value = quantile(q.param!, values);
          break;
      }
      out.set(key, { metric, value });
    }
    return out;
  }
  // As Loki's AST does, a sum over count/rate/bytes/bytes_rate/sum_over_time takes its grouping into the range
  // aggregation (the samples are grouped before they are added up: the same sums, added in Loki's order).
  const injected = q.op === 'sum' && q.inner.kind === 'range' && INJECTABLE_RANGE_OPS.has(q.inner.op);
  const inner = evalMetric(
    entries,
    injected ? { ...(q.inner as RangeQuery), grouping: q.grouping ?? { without: false, labels: [] } } : q.inner,
    tNs,
    minTs,
  );
  const groups = new Map<string, { metric: Labels; values: number[] }>();
  for (const { metric, value } of inner.values()) {
    const grouped = groupLabels(metric, q.grouping ?? { without: false, labels: [] });
    const key = labelKey(grouped);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { metric: grouped, values: [] }));
    g.values.push(value);
  }
  const out: Vector = new Map();
  for (const [key, { metric, values }] of groups) {
    let value: number;
    switch (q.op) {
      case 'sum':
        value = values.reduce((a, b) => a + b, 0);
        break;
      case 'avg':
        value = mean(values);
        break;
      case 'min':
        value = extreme(values, (a, b) => a < b);
        break;
      case 'max':
        value = extreme(values, (a, b) => a > b);
        break;
      case 'count':
        value = values.length;
        break;
    }
    out.set(key, { metric, value });
  }
  return out;
}

// --- query limits (the query frontend's, then the querier's) ------------------------------------------------------

const tooOld = (limits: LokiLimits): HttpError =>
  new HttpError(
    400,
    `this data is no longer available, it is past now - max_query_lookback (${formatModelDuration(limits.maxQueryLookback)})`,
  );
const tooLong = (length: bigint, limits: LokiLimits): HttpError =>
  new HttpError(
    400,
    `the query time range exceeds the limit (query length: ${formatGoDuration(length)}, limit: ${formatModelDuration(limits.maxQueryLength)})`,
  );
export const STEP_TOO_SMALL =
  'exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter';

/** The query frontend's limits middleware on a range or instant request: undefined when the request ends before
 * now - max_query_lookback (Loki answers it empty), else its start clamped there; then max_query_length on
 * end - start in whole milliseconds (the range vector not counted). */
function frontendLimits(startNs: bigint, endNs: bigint, nowNs: bigint, limits: LokiLimits): bigint | undefined {
  let start = startNs;
  if (limits.maxQueryLookback > 0n) {
    const minStart = nowNs - limits.maxQueryLookback;
    if (endNs < minStart) return undefined;
    if (start < minStart) start = minStart;
  }
  if (limits.maxQueryLength > 0n) {
    const length = (endNs / MS - start / MS) * MS;
    if (length > limits.maxQueryLength) throw tooLong(length, limits);
  }
  return start;
}

/** The querier's check of one (sub-)request reading [from, through]: from clamped to now - max_query_lookback, then
 * max_query_length on through - from, then a through before from is "no longer available". */
function querierLimits(fromNs: bigint, throughNs: bigint, nowNs: bigint, limits: LokiLimits): void {
  let from = fromNs;
  if (limits.maxQueryLookback > 0n && from < nowNs - limits.maxQueryLookback) from = nowNs - limits.maxQueryLookback;
  if (limits.maxQueryLength > 0n && throughNs - from > limits.maxQueryLength) throw tooLong(throughNs - from, limits);
  if (throughNs < from) throw tooOld(limits);
}

const mod = (a: bigint, b: bigint): bigint => ((a % b) + b) % b;

/** util.ForInterval: [start, end) cut at epoch multiples of the interval, the first piece starting at start. */
function forInterval(interval: bigint, start: bigint, end: bigint): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  for (let s = start - mod(start, interval); s < end; s += interval) {
    const e = s + interval < end ? s + interval : end;
    out.push([out.length ? s : start, e]);
  }
  return out;
}

/**
 * How Loki's query frontend splits a metric range query when split_queries_by_interval is on: start aligned down and
 * end up to the step; cut where the interval (at least the largest range) crosses an epoch multiple, each piece ending
 * on the last step before the boundary; by the step itself when the step is at least the interval. Undefined when it
 * does not split (the request goes on unaligned).
 */
function metricRangeSplits(
  startNs: bigint,
  endNs: bigint,
  stepNs: bigint,
  rangeNs: bigint,
  limits: LokiLimits,
): [bigint, bigint][] | undefined {
  if (limits.splitQueriesByInterval <= 0n) return undefined;
  const interval = rangeNs > limits.splitQueriesByInterval ? rangeNs : limits.splitQueriesByInterval;
  const step = (stepNs / MS) * MS || MS; // Loki carries the step in milliseconds
  const start = startNs - mod(startNs, step);
  const end = mod(endNs, step) === 0n ? endNs : endNs + step - mod(endNs, step);
  const splits: [bigint, bigint][] = [];
  if (step >= interval) {
    splits.push(...forInterval(step, start, end));
  } else {
    const nextBoundary = (t: bigint): bigint => {
      const next = (t / interval + 1n) * interval;
      const target = next - mod(next - t, step);
      return target === next ? target - step : target;
    };
    for (let s = start; s < end; s = nextBoundary(s) + step) {
      let e = nextBoundary(s);
      if (e + step >= end) e = end;
      splits.push([s, e]);
    }
  }
  return splits.length ? splits : undefined;
}

/** Loki's range mapper decides which instant metric queries it splits by split_instant_metric_queries_by_interval. */
const SPLITTABLE_RANGE_OPS = new Set<RangeOp>([
  'rate',
  'bytes_rate',
  'bytes_over_time',
  'count_over_time',
  'sum_over_time',
  'max_over_time',
  'min_over_time',
]);
const splittable = (q: MetricQuery): boolean =>
  q.kind === 'range' ? SPLITTABLE_RANGE_OPS.has(q.op) : splittable(q.inner);

/** The (range, offset) pairs an instant metric query reaches the querier with: one, or, split, one per interval
 * (offset + k × interval; the last one shorter), each checked by the querier on its own. */
function instantSubqueries(q: MetricQuery, limits: LokiLimits): [bigint, bigint][] {
  const { rangeNs, offsetNs } = rangeOf(q);
  const interval = limits.splitInstantMetricQueriesByInterval;
  if (interval <= 0n || rangeNs <= interval || !splittable(q)) return [[rangeNs, offsetNs]];
  const out: [bigint, bigint][] = [];
  for (let k = 0n; k * interval < rangeNs; k++) {
    const r = rangeNs - k * interval < interval ? rangeNs - k * interval : interval;
    out.push([r, offsetNs + k * interval]);
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
  if (ns <= 0n)
    throw new HttpError(400, 'zero or negative query resolution step widths are not accepted. Try a positive integer');
  return ns;
}

const seconds = (ns: bigint): number => Number(ns / 1_000_000n) / 1000;

function cacheStats() {
  return {
    entriesFound: 0,
    entriesRequested: 0,
    entriesStored: 0,
    bytesReceived: 0,
    bytesSent: 0,
    requests: 0,
    downloadTime: 0,
    queryLengthServed: 0,
  };
}
function storeStats(lines: number, bytes: number, postFilter: number, smBytes: number, referencedSM: boolean) {
  return {
    totalChunksRef: 0,
    totalChunksDownloaded: 0,
    chunksDownloadTime: 0,
    queryReferencedStructuredMetadata: referencedSM,
    chunk: {
      headChunkBytes: bytes,
      headChunkLines: lines,
      decompressedBytes: 0,
      decompressedLines: 0,
      compressedBytes: 0,
      totalDuplicates: 0,
      postFilterLines: postFilter,
      headChunkStructuredMetadataBytes: smBytes,
      decompressedStructuredMetadataBytes: 0,
    },
    chunkRefsFetchTime: 0,
    congestionControlLatency: 0,
    pipelineWrapperFilteredLines: 0,
  };
}
/** The `stats` object Loki adds to every query answer, same keys; the double fills in what it can count. */
function stats(entries: LokiEntry[], returned: number, postFilter: number, execSeconds: number) {
  const lines = entries.length;
  const bytes = entries.reduce((n, e) => n + Buffer.byteLength(e.line), 0);
  const smBytes = entries.reduce(
    (n, e) => n + Object.entries(e.metadata).reduce((m, [k, v]) => m + k.length + v.length, 0),
    0,
  );
  return {
    summary: {
      bytesProcessedPerSecond: execSeconds > 0 ? Math.floor((bytes + smBytes) / execSeconds) : 0,
      linesProcessedPerSecond: execSeconds > 0 ? Math.floor(lines / execSeconds) : 0,
      totalBytesProcessed: bytes + smBytes,
      totalLinesProcessed: lines,
      execTime: execSeconds,
      queueTime: 0,
      subqueries: 0,
      totalEntriesReturned: returned,
      splits: 1,
      shards: 1,
      totalPostFilterLines: postFilter,
      totalStructuredMetadataBytesProcessed: smBytes,
    },
    querier: { store: storeStats(0, 0, 0, 0, false) },
    ingester: {
      totalReached: 1,
      totalChunksMatched: lines > 0 ? 1 : 0,
      totalBatches: 1,
      totalLinesSent: postFilter,
      store: storeStats(lines, bytes + smBytes, postFilter, smBytes, true),
    },
    cache: {
      chunk: cacheStats(),
      index: cacheStats(),
      result: cacheStats(),
      statsResult: cacheStats(),
      volumeResult: cacheStats(),
      seriesResult: cacheStats(),
      labelResult: cacheStats(),
      instantMetricResult: cacheStats(),
    },
    index: { totalChunks: 0, postFilterChunks: 0, shardsDuration: 0, usedBloomFilters: false },
  };
}

async function parseQueryParam(url: URL): Promise<Query> {
  const q = url.searchParams.get('query');
  if (q === null || q.trim() === '') throw new LogQLError('parse error : syntax error: unexpected $end');
  return parseLogQL(q);
}

/** An OTLP error as Loki's OTLPError writes it: a google.rpc.Status (code 0), whatever the request's content type.
 * OTLPError sets `Content-Type: application/octet-stream` (after the status line, so Go's sniffing of the body decides,
 * and for these bytes it decides the same); a 500 becomes a 503. */
function sendOtlpError(res: http.ServerResponse, status: number, message: string): void {
  const body = encodeRpcStatus(message);
  res.writeHead(status === 500 ? 503 : status, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': body.length,
  });
  res.end(body);
}

export interface LokiDoubleOptions {
  port?: number;
  host?: string;
  /** The clock (ms) for default query times, the limits and the push checks (tests pin it). */
  now?: () => number;
  /** Where to keep the entries across restarts (`entries.jsonl`); none: memory only. */
  dataDir?: string;
  /** Loki's limits to apply; unset fields keep Loki 3.4.6's defaults (LOKI_DEFAULT_LIMITS). */
  limits?: Partial<LokiLimits>;
}

export interface LokiDouble {
  port: number;
  entries: LokiEntry[];
  limits: Readonly<LokiLimits>;
  /** Stores an OTLP request's records WITHOUT Loki's push checks (a test's seed, as if Loki had accepted them); returns
   * how many were stored (duplicates are not). POST /otlp/v1/logs is the checked way in. */
  push(req: LogsRequest): number;
  /** What POST /otlp/v1/logs does with a decoded request: Loki's checks, the valid entries stored. */
  ingest(req: LogsRequest): PushOutcome;
  reset(): void;
  close(): Promise<void>;
}

export async function startLokiDouble(opts: LokiDoubleOptions = {}): Promise<LokiDouble> {
  const now = opts.now ?? Date.now;
  const nowNs = (): bigint => BigInt(now()) * 1_000_000n;
  const limits: LokiLimits = { ...LOKI_DEFAULT_LIMITS, ...opts.limits };
  let entries: LokiEntry[] = [];
  // Loki drops an entry whose stream, timestamp and line equal an existing one's, structured metadata or not
  // (the fixtures' 32 records are 29 in Loki: plugin_loaded events share a millisecond).
  let seen = new Set<string>();
  let streams = new Map<string, StreamState>();
  const store = opts.dataDir ? join(opts.dataDir, 'entries.jsonl') : undefined;
  const add = (e: LokiEntry): boolean => {
    const key = `${labelKey(e.index)}\u0000${e.ts}\u0000${e.line}`;
    if (seen.has(key)) return false;
    seen.add(key);
    entries.push(e);
    return true;
  };
  /** The ingester's stream: as in real Loki, one with nothing written for chunk_idle_period has its chunks flushed and
   * (chunk_retain_period being 0) is removed, its newest timestamp and last line with it, so an entry older than the
   * out-of-order window is accepted again. (Loki finds it on its 30 s flush sweep; the double at the next push.) */
  const streamState = (key: string, nowMs: number): StreamState => {
    let s = streams.get(key);
    if (s && BigInt(nowMs - s.lastWriteMs) * MS > limits.chunkIdlePeriod) s = undefined;
    if (!s) streams.set(key, (s = { lastWriteMs: nowMs }));
    return s;
  };
  const accepted = (s: StreamState, e: LokiEntry): void => {
    s.lastLine = { ts: e.ts, line: e.line };
    if (s.highestTs === undefined || e.ts > s.highestTs) s.highestTs = e.ts;
  };
  const persist = (added: LokiEntry[]): void => {
    // Written before the answer, so an accepted record survives a restart as it does in Loki.
    if (store && added.length)
      fs.appendFileSync(store, added.map((e) => `${JSON.stringify({ ...e, ts: String(e.ts) })}\n`).join(''));
  };
  if (store && fs.existsSync(store)) {
    const started = now();
    for (const line of fs.readFileSync(store, 'utf8').split('\n')) {
      if (!line) continue;
      const e = JSON.parse(line) as Omit<LokiEntry, 'ts'> & { ts: string };
      const entry = { ...e, ts: BigInt(e.ts) };
      // As Loki's WAL replay: the streams come back with their newest timestamp (idle from the start on).
      accepted(streamState(labelKey(entry.index), started), entry);
      add(entry);
    }
  }

  const push = (req: LogsRequest): number => {
    const nowMs = now();
    const added: LokiEntry[] = [];
    for (const e of otlpToEntries(req, BigInt(nowMs) * MS)) {
      const s = streamState(labelKey(e.index), nowMs);
      accepted(s, e);
      s.lastWriteMs = nowMs;
      if (add(e)) added.push(e);
    }
    persist(added);
    return added.length;
  };

  const ingest = (req: LogsRequest): PushOutcome => {
    const nowMs = now();
    const t = BigInt(nowMs) * MS;
    const all = otlpToEntries(req, t);
    // The distributor: no stream at all (OTLP with no record) is a 422.
    if (all.length === 0) return { status: 422, message: MISSING_STREAMS_ERROR, stored: 0 };
    const byStream = new Map<string, LokiEntry[]>();
    for (const e of all) {
      const key = labelKey(e.index);
      const list = byStream.get(key);
      if (list) list.push(e);
      else byStream.set(key, [e]);
    }
    // The distributor's per-entry validation: refused entries are reported, the others still go to the ingester.
    const refused: string[] = [];
    const forwarded = new Map<string, LokiEntry[]>();
    const oldest = t - limits.rejectOldSamplesMaxAge;
    const newest = t + limits.creationGracePeriod;
    for (const [key, list] of byStream) {
      const stream = promLabels(list[0].index);
      const valid = list.filter((e) => {
        if (limits.rejectOldSamples && e.ts < oldest) {
          refused.push(
            `entry for stream '${stream}' has timestamp too old: ${rfc3339(e.ts)}, oldest acceptable timestamp is: ${rfc3339(oldest)}`,
          );
          return false;
        }
        if (e.ts > newest) {
          refused.push(`entry for stream '${stream}' has timestamp too new: ${rfc3339(e.ts)}`);
          return false;
        }
        return true;
      });
      if (valid.length) forwarded.set(key, valid);
    }
    const validationError = refused.length ? groupedErrors(refused) : undefined;
    if (forwarded.size === 0) return { status: 400, message: validationError, stored: 0 };
    // The ingester, stream by stream: an entry older than the stream's newest minus max_chunk_age / 2 is refused
    // (the newest moves entry by entry); one identical to the stream's last line is dropped silently.
    let ingesterError: string | undefined;
    const added: LokiEntry[] = [];
    for (const [key, list] of forwarded) {
      const s = streamState(key, nowMs);
      const failed: { e: LokiEntry; reason: string }[] = [];
      let wrote = false;
      for (const e of list) {
        if (s.lastLine && s.lastLine.ts === e.ts && s.lastLine.line === e.line) continue;
        const cutoff = s.highestTs === undefined ? undefined : s.highestTs - limits.maxChunkAge / 2n;
        if (cutoff !== undefined && e.ts < cutoff) {
          failed.push({
            e,
            reason: `entry too far behind, entry timestamp is: ${rfc3339(e.ts)}, oldest acceptable timestamp is: ${rfc3339(cutoff)}`,
          });
          continue;
        }
        accepted(s, e);
        wrote = true;
        if (add(e)) added.push(e);
      }
      if (wrote) s.lastWriteMs = nowMs;
      if (failed.length) {
        // Real Loki keeps only the LAST stream's result of the ingester request, in an order that comes from a Go map:
        // an earlier stream's refusal may end in 204 there. The double reports the last refused stream, always.
        ingesterError =
          failed
            .slice(0, 10)
            .map((f) => `entry with timestamp ${goTimeString(f.e.ts)} ignored, reason: '${f.reason}',\n`)
            .join('') +
          `user 'fake', total ignored: ${failed.length} out of ${list.length} for stream: ${promLabels(list[0].index)}`;
      }
    }
    persist(added);
    // An ingester error replaces the distributor's validation error.
    const message = ingesterError ?? validationError;
    return message ? { status: 400, message, stored: added.length } : { status: 204, stored: added.length };
  };

  const reset = (): void => {
    entries = [];
    seen = new Set();
    streams = new Map();
    if (store) fs.rmSync(store, { force: true });
  };

  const server = createServer('loki-double', async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const started = process.hrtime.bigint();
    const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    const path = url.pathname;
    if (path === '/ready') return sendText(res, 200, 'ready');
    if (path === '/otlp/v1/logs' && req.method === 'POST') {
      // pkg/loghttp/push/otlp.go: only gzip is undone; the content type must be exactly one of the two.
      let body = await readRawBody(req);
      if (req.headers['content-encoding'] === 'gzip') {
        try {
          body = zlib.gunzipSync(body);
        } catch (err) {
          return sendOtlpError(res, 400, (err as Error).message);
        }
      }
      const ct = req.headers['content-type'] ?? '';
      let logs: LogsRequest;
      try {
        if (ct === 'application/json') logs = JSON.parse(body.toString('utf8')) as LogsRequest;
        else if (ct === 'application/x-protobuf') logs = decodeLogsRequest(body);
        else return sendOtlpError(res, 400, `content type: ${ct} is not supported`);
      } catch (err) {
        if (err instanceof ProtoError || err instanceof RangeError || err instanceof SyntaxError)
          return sendOtlpError(res, 400, err.message);
        throw err;
      }
      const outcome = ingest(logs);
      if (outcome.status !== 204) return sendOtlpError(res, outcome.status, outcome.message ?? '');
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
      return sendJson(res, 200, {
        version: LOKI_VERSION,
        revision: 'double',
        branch: 'double',
        buildUser: 'cct-test',
        buildDate: '',
        goVersion: '',
      });
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
    if (path !== '/loki/api/v1/query' && path !== '/loki/api/v1/query_range')
      return sendText(res, 404, '404 page not found');

    const p = url.searchParams;
    const t = nowNs();
    const success = (
      resultType: 'streams' | 'matrix' | 'vector',
      result: unknown[],
      extra: Record<string, unknown> = {},
      returned = result.length,
      postFilter = returned,
      read: LokiEntry[] = entries,
    ) =>
      sendJson(res, 200, {
        status: 'success',
        data: { resultType, ...extra, result, stats: stats(read, returned, postFilter, elapsed()) },
      });
    /** max_query_series on a metric answer. */
    const checkSeries = (n: number): void => {
      if (limits.maxQuerySeries > 0 && n > limits.maxQuerySeries)
        throw new HttpError(400, `maximum of series (${limits.maxQuerySeries}) reached for a single query`);
    };
    const lowerBound = limits.maxQueryLookback > 0n ? t - limits.maxQueryLookback : undefined;
    try {
      if (path === '/loki/api/v1/query') {
        const ts = parseTimestamp(p.get('time'), t);
        const query = await parseQueryParam(url);
        if (query.kind === 'log') {
          return sendText(
            res,
            400,
            'log queries are not supported as an instant query type, please change your query to a range query type',
          );
        }
        if (frontendLimits(ts, ts, t, limits) === undefined) return success('vector', [], {}, 0, 0, []);
        for (const [r, o] of instantSubqueries(query, limits)) querierLimits(ts - r - o, ts - o + 1n, t, limits);
        const vector = [...evalMetric(entries, query, ts, lowerBound).values()]
          .map((s) => ({
            metric: sortLabels(s.metric),
            value: [seconds(ts), formatFloat(s.value)] as [number, string],
          }))
          .sort((a, b) => labelKey(a.metric).localeCompare(labelKey(b.metric)));
        checkSeries(vector.length);
        return success('vector', vector);
      }

      // loghttp.ParseRangeQuery, in its order, before the query is parsed.
      const end = parseTimestamp(p.get('end'), t);
      const start = parseTimestamp(p.get('start'), (end > t ? t : end) - HOUR);
      if (end < start) return sendText(res, 400, 'end timestamp must not be before or equal to start time');
      const limit = p.get('limit') ? Number(p.get('limit')) : 100;
      if (!Number.isInteger(limit) || limit <= 0) return sendText(res, 400, 'limit must be a positive value');
      const direction = (p.get('direction') ?? 'backward').toLowerCase();
      if (direction !== 'backward' && direction !== 'forward')
        return sendText(res, 400, `invalid direction '${direction}'`);
      const step = parseStep(p.get('step'), start, end);
      // On the request as sent (before any clamping), log queries too; exactly 11,000 points pass.
      if ((end - start) / step > 11000n) return sendText(res, 400, STEP_TOO_SMALL);
      const query = await parseQueryParam(url);

      if (query.kind === 'log') {
        if (limit > 5000)
          return sendText(
            res,
            400,
            `max entries limit per query exceeded, limit > max_entries_limit_per_query (${limit} > 5000)`,
          );
        const from = frontendLimits(start, end, t, limits);
        if (from === undefined) return success('streams', [], {}, 0, 0, []);
        const splits =
          limits.splitQueriesByInterval > 0n
            ? forInterval(limits.splitQueriesByInterval, from, end)
            : [[from, end] as [bigint, bigint]];
        for (const [s, e] of splits) querierLimits(s, e, t, limits);
        const selected = selectLogs(entries, query, from, end, false);
        const ordered = selected
          .map((s, i) => ({ ...s, i }))
          .sort((a, b) => (a.e.ts === b.e.ts ? a.i - b.i : a.e.ts < b.e.ts ? -1 : 1));
        if (direction === 'backward') ordered.reverse();
        const kept = ordered.slice(0, limit);
        const flags = String(req.headers['x-loki-response-encoding-flags'] ?? '')
          .split(',')
          .map((s) => s.trim());
        const categorize = flags.includes('categorize-labels');
        const streamsOut = new Map<string, { stream: Labels; values: unknown[] }>();
        for (const { e, labels } of kept) {
          const streamLabels = sortLabels(categorize ? e.index : labels);
          const key = labelKey(streamLabels);
          let s = streamsOut.get(key);
          if (!s) streamsOut.set(key, (s = { stream: streamLabels, values: [] }));
          if (categorize) s.values.push([e.ts.toString(), e.line, { structuredMetadata: sortLabels(e.metadata) }]);
          else s.values.push([e.ts.toString(), e.line]);
        }
        const result = [...streamsOut.values()].sort((a, b) => labelKey(a.stream).localeCompare(labelKey(b.stream)));
        return success(
          'streams',
          result,
          categorize ? { encodingFlags: ['categorize-labels'] } : {},
          kept.length,
          selected.length,
        );
      }

      const from = frontendLimits(start, end, t, limits);
      if (from === undefined) return success('matrix', [], {}, 0, 0, []);
      const { rangeNs, offsetNs } = rangeOf(query);
      const splits = metricRangeSplits(from, end, step, rangeNs, limits);
      for (const [s, e] of splits ?? [[from, end]]) querierLimits(s - rangeNs - offsetNs, e - offsetNs + 1n, t, limits);
      // Split, the answer is on the step grid from the aligned start to the aligned end; unsplit, from the start.
      const [first, last] = splits ? [splits[0][0], splits[splits.length - 1][1]] : [from, end];
      const series = new Map<string, { metric: Labels; values: [number, string][] }>();
      for (let at = first; at <= last; at += step) {
        for (const [key, s] of evalMetric(entries, query, at, lowerBound)) {
          let out = series.get(key);
          if (!out) series.set(key, (out = { metric: sortLabels(s.metric), values: [] }));
          out.values.push([seconds(at), formatFloat(s.value)]);
        }
        checkSeries(series.size);
      }
      const matrix = [...series.values()].sort((a, b) => labelKey(a.metric).localeCompare(labelKey(b.metric)));
      return success('matrix', matrix);
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
    limits,
    push,
    ingest,
    reset,
    close: () => closeServer(server),
  };
}

/** Go's flag package, for the two flags the double reads: `-name=value`, `--name=value`, `-name value`; a bool flag
 * alone is true. Other flags are ignored (Loki would refuse the ones it does not know). */
function goFlags(argv: string[], bools: Set<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(argv[i]);
    if (!m) continue;
    if (m[2] !== undefined) out.set(m[1], m[2]);
    else if (bools.has(m[1])) out.set(m[1], 'true');
    else if (i + 1 < argv.length) out.set(m[1], argv[++i]);
  }
  return out;
}

/** Entry point of the cct-test/loki-double image: Loki's `-config.file=` and `-config.expand-env=true` (what
 * stack/compose.yaml passes) set its limits; a config Loki would refuse stops it as Loki stops (exit 1). */
export async function main(
  argv: string[] = process.argv.slice(2),
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  const flags = goFlags(argv, new Set(['config.expand-env']));
  const file = flags.get('config.file');
  let limits: LokiLimits | undefined;
  if (file) {
    try {
      limits = readLokiConfigFile(
        file,
        env,
        ['1', 't', 'true', 'TRUE', 'True'].includes(flags.get('config.expand-env') ?? ''),
      );
    } catch (err) {
      if (!(err instanceof LokiConfigError)) throw err;
      console.error(`failed parsing config: ${err.message}`);
      process.exit(1);
    }
  }
  const double = await startLokiDouble({
    port: envInt('LOKI_PORT', 3100),
    dataDir: env.DOUBLE_DATA_DIR || undefined,
    limits,
  });
  console.log(
    `loki-double ${LOKI_VERSION}: listening on :${double.port} (OTLP at /otlp/v1/logs)${file ? `, limits from ${file}` : ", Loki's default limits"}`,
  );
  exitOnSignals(() => double.close());
}
