// Typed client for the Prometheus HTTP query API. Plain Node: never import `vscode`.
import { EndpointConfig, JsonHttpClient, RequestJsonOptions, TelemetryError } from './http';
import type { StackAlert } from '../snapshot';

export type Labels = Record<string, string>;

/** One instant sample. `value` is null for NaN and ±Inf. */
export interface InstantSample {
  labels: Labels;
  /** Unix seconds. */
  time: number;
  value: number | null;
}

export interface RangeSeries {
  labels: Labels;
  /** [unix seconds, value] pairs in time order; NaN/±Inf points are dropped. */
  points: Array<[number, number]>;
}

export interface RangeParams {
  /** Unix seconds. */
  start: number;
  /** Unix seconds. */
  end: number;
  /** Seconds. */
  step: number;
}

/** A recording-rule group Prometheus evaluates (`/api/v1/rules`). */
export interface RuleGroup {
  name: string;
  file: string;
  rules: string[];
  /** When its last evaluation began (unix ms); null before the first. */
  lastEvaluationMs: number | null;
}

export class PrometheusClient {
  readonly http: JsonHttpClient;

  constructor(config: Omit<EndpointConfig, 'name'> & { name?: string }) {
    this.http = new JsonHttpClient({ name: 'Prometheus', ...config });
  }

  /** `GET /api/v1/query`. A scalar result is returned as one sample with no labels. */
  async instant(query: string, time: number, options?: RequestJsonOptions): Promise<InstantSample[]> {
    const body = await this.http.getJson('api/v1/query', { query, time: fmtTime(time) }, options);
    const data = expectSuccess(body, this, 'api/v1/query');
    return parseInstantData(data, (why) => this.malformed('api/v1/query', why));
  }

  /** `GET /api/v1/query_range`. */
  async range(query: string, range: RangeParams, options?: RequestJsonOptions): Promise<RangeSeries[]> {
    const body = await this.http.getJson(
      'api/v1/query_range',
      {
        query,
        start: fmtTime(range.start),
        end: fmtTime(range.end),
        step: String(range.step),
      },
      options,
    );
    const data = expectSuccess(body, this, 'api/v1/query_range');
    return parseMatrixData(data, (why) => this.malformed('api/v1/query_range', why));
  }

  /** `GET /api/v1/label/<name>/values`, optionally restricted by series selectors. Index-only: cheap. */
  async labelValues(
    label: string,
    match: string[] = [],
    options?: RequestJsonOptions & { start?: number; end?: number },
  ): Promise<string[]> {
    const path = `api/v1/label/${encodeURIComponent(label)}/values`;
    const body = await this.http.getJson(
      path,
      {
        'match[]': match.length ? match : undefined,
        start: options?.start !== undefined ? fmtTime(options.start) : undefined,
        end: options?.end !== undefined ? fmtTime(options.end) : undefined,
      },
      options,
    );
    const data = expectSuccess(body, this, path);
    if (!Array.isArray(data) || !data.every((v) => typeof v === 'string')) {
      throw this.malformed(path, 'label values are not a list of strings');
    }
    return data as string[];
  }

  /** `GET /api/v1/labels`: the label names of the series `match` selects in [start, end] (unix s). Index-only: cheap. */
  async labelNames(
    match: string[],
    range: { start: number; end: number },
    options?: RequestJsonOptions,
  ): Promise<string[]> {
    const path = 'api/v1/labels';
    const body = await this.http.getJson(
      path,
      { 'match[]': match, start: fmtTime(range.start), end: fmtTime(range.end) },
      options,
    );
    const data = expectSuccess(body, this, path);
    if (!Array.isArray(data) || !data.every((v) => typeof v === 'string'))
      throw this.malformed(path, 'label names are not a list of strings');
    return data as string[];
  }

  /** `GET /api/v1/rules?type=record`: the recording-rule groups and when each last ran. */
  async ruleGroups(options?: RequestJsonOptions): Promise<RuleGroup[]> {
    const path = 'api/v1/rules';
    const data = expectSuccess(await this.http.getJson(path, { type: 'record' }, options), this, path);
    const groups = isObject(data) ? data['groups'] : undefined;
    if (!Array.isArray(groups)) throw this.malformed(path, '"data.groups" is not a list');
    return groups.map((g, i) => {
      if (!isObject(g) || typeof g['name'] !== 'string' || !Array.isArray(g['rules']))
        throw this.malformed(path, `group ${i} has no name or rules`);
      return {
        name: g['name'],
        file: typeof g['file'] === 'string' ? g['file'] : '',
        rules: g['rules'].flatMap((r) => (isObject(r) && typeof r['name'] === 'string' ? [r['name']] : [])),
        lastEvaluationMs: parseRfc3339(g['lastEvaluation']),
      };
    });
  }

  /** The alerts its rules hold now (pending and firing), from /api/v1/alerts. */
  async alerts(options?: RequestJsonOptions): Promise<StackAlert[]> {
    const path = 'api/v1/alerts';
    const data = expectSuccess(await this.http.getJson(path, {}, options), this, path);
    const alerts = isObject(data) ? data['alerts'] : undefined;
    if (!Array.isArray(alerts)) throw this.malformed(path, '"data.alerts" is not a list');
    const strings = (v: unknown): Record<string, string> =>
      isObject(v)
        ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'))
        : {};
    return alerts.flatMap((a): StackAlert[] => {
      if (!isObject(a) || (a['state'] !== 'firing' && a['state'] !== 'pending')) return [];
      const labels = strings(a['labels']);
      const annotations = strings(a['annotations']);
      return [
        {
          name: labels['alertname'] ?? '',
          state: a['state'],
          severity: labels['severity'] ?? '',
          labels,
          summary: annotations['summary'] ?? '',
          description: annotations['description'] ?? '',
          activeAtMs: parseRfc3339(a['activeAt']),
        },
      ];
    });
  }

  /** The time of the newest sample it holds (unix ms), from /api/v1/status/tsdb; null while it holds none. */
  async newestSampleMs(options?: RequestJsonOptions): Promise<number | null> {
    const path = 'api/v1/status/tsdb';
    const data = expectSuccess(await this.http.getJson(path, {}, options), this, path);
    const head = isObject(data) ? data['headStats'] : undefined;
    const { minTime, maxTime } = isObject(head) ? head : {};
    if (typeof maxTime !== 'number' || typeof minTime !== 'number')
      throw this.malformed(path, '"data.headStats" has no minTime and maxTime');
    // An empty head says minTime MaxInt64, maxTime MinInt64.
    return maxTime < minTime ? null : maxTime;
  }

  /**
   * How long it keeps samples (`--storage.tsdb.retention.time`, from /api/v1/status/flags), in ms; null when it does
   * not say (a compatible store without the endpoint, or retention by size only).
   */
  async retentionMs(options?: RequestJsonOptions): Promise<number | null> {
    const path = 'api/v1/status/flags';
    const data = expectSuccess(await this.http.getJson(path, {}, options), this, path);
    const flag = isObject(data) ? data['storage.tsdb.retention.time'] : undefined;
    return typeof flag === 'string' ? parseDurationMs(flag) : null;
  }

  /** Writes OTLP metrics (JSON, gzipped) through its OTLP receiver (`--web.enable-otlp-receiver`). */
  async writeOtlp(gzippedJson: Uint8Array, options?: RequestJsonOptions): Promise<void> {
    await this.http.postJson(
      'api/v1/otlp/v1/metrics',
      gzippedJson,
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      options,
    );
  }

  /**
   * Deletes the series `match` selects and frees their space (the admin API, `--web.enable-admin-api`): what the
   * stack's own Prometheus allows on 127.0.0.1 so that imported history can be removed.
   */
  async deleteSeries(match: string, options?: RequestJsonOptions): Promise<void> {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const body = (params: Record<string, string>): Uint8Array => Buffer.from(new URLSearchParams(params).toString());
    await this.http.postJson('api/v1/admin/tsdb/delete_series', body({ 'match[]': match }), form, options);
    await this.http.postJson('api/v1/admin/tsdb/clean_tombstones', body({}), form, options);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  malformed(path: string, why: string): TelemetryError {
    return this.http.malformed(
      path,
      why,
      'Check that the URL points at Prometheus (or a compatible API such as Mimir or Thanos).',
    );
  }
}

/** An RFC 3339 time with up to nanoseconds (Go's format) as unix ms; null for Go's zero time or anything else. */
function parseRfc3339(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const ms = Date.parse(v.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

const DURATION_UNIT_MS: Record<string, number> = {
  y: 365 * 86_400_000,
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

/** A Prometheus duration (`30d`, `1y`, `1d12h`, `720h`) in ms; null for anything else, or 0 (no limit). */
export function parseDurationMs(text: string): number | null {
  const parts = [...text.matchAll(/(\d+)(ms|[ywdhms])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return null;
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNIT_MS[p[2]!]!, 0);
  return ms > 0 ? ms : null;
}

function fmtTime(t: number): string {
  // Millisecond precision is what Prometheus keeps.
  return (Math.round(t * 1000) / 1000).toString();
}

function expectSuccess(body: unknown, client: PrometheusClient, path: string): unknown {
  if (!isObject(body)) throw client.malformed(path, 'the body is not a JSON object');
  if (body['status'] !== 'success') {
    const err = typeof body['error'] === 'string' ? body['error'] : `status "${String(body['status'])}"`;
    throw client.malformed(path, err);
  }
  if (!('data' in body)) throw client.malformed(path, 'no "data" field');
  return body['data'];
}

export function parseSampleValue(v: unknown): number | null {
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Parses a query's `vector` (or `scalar`) result; Loki's metric queries answer in the same shape. */
export function parseInstantData(data: unknown, malformed: (why: string) => TelemetryError): InstantSample[] {
  if (!isObject(data)) throw malformed('"data" is not an object');
  const type = data['resultType'];
  const result = data['result'];
  if (type === 'scalar') {
    const pair = parsePair(result);
    if (!pair) throw malformed('scalar result is not a [time, value] pair');
    return [{ labels: {}, time: pair[0], value: pair[1] }];
  }
  if (type !== 'vector') throw malformed(`expected resultType "vector", got ${JSON.stringify(type)}`);
  if (!Array.isArray(result)) throw malformed('"result" is not a list');
  return result.map((item, i) => {
    if (!isObject(item)) throw malformed(`result[${i}] is not an object`);
    const labels = parseLabels(item['metric']);
    const pair = parsePair(item['value']);
    if (!labels || !pair) throw malformed(`result[${i}] has no valid metric/value`);
    return { labels, time: pair[0], value: pair[1] };
  });
}

/** Parses a range query's `matrix` result; Loki's metric queries answer in the same shape. */
export function parseMatrixData(data: unknown, malformed: (why: string) => TelemetryError): RangeSeries[] {
  if (!isObject(data)) throw malformed('"data" is not an object');
  if (data['resultType'] !== 'matrix')
    throw malformed(`expected resultType "matrix", got ${JSON.stringify(data['resultType'])}`);
  const result = data['result'];
  if (!Array.isArray(result)) throw malformed('"result" is not a list');
  return result.map((item, i) => {
    if (!isObject(item)) throw malformed(`result[${i}] is not an object`);
    const labels = parseLabels(item['metric']);
    const values = item['values'];
    if (!labels || !Array.isArray(values)) throw malformed(`result[${i}] has no valid metric/values`);
    const points: Array<[number, number]> = [];
    for (const v of values) {
      const pair = parsePair(v);
      if (!pair) throw malformed(`result[${i}] has a value that is not a [time, value] pair`);
      if (pair[1] !== null) points.push([pair[0], pair[1]]);
    }
    return { labels, points };
  });
}

function parsePair(v: unknown): [number, number | null] | undefined {
  if (!Array.isArray(v) || v.length !== 2) return undefined;
  const t = typeof v[0] === 'number' ? v[0] : Number(v[0]);
  if (!Number.isFinite(t) || typeof v[1] !== 'string') return undefined;
  return [t, parseSampleValue(v[1])];
}

export function parseLabels(v: unknown): Labels | undefined {
  if (!isObject(v)) return undefined;
  const out: Labels = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') return undefined;
    out[k] = val;
  }
  return out;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
