// Typed client for the Loki HTTP query API. Plain Node: never import `vscode`.
import { EndpointConfig, JsonHttpClient, RequestJsonOptions, TelemetryError } from './http';
import {
  InstantSample,
  Labels,
  RangeSeries,
  isObject,
  parseInstantData,
  parseLabels,
  parseMatrixData,
} from './prometheus';

/** One log entry with its labels separated the way Loki 3 categorises them. */
export interface LogEntry {
  /** Nanoseconds since the epoch, as Loki sent it (exact). */
  timeNs: string;
  /** Milliseconds since the epoch (rounded down). */
  timeMs: number;
  line: string;
  /** Index (stream) labels. Without `categorize-labels`, structured metadata is folded in here too. */
  stream: Labels;
  /** Structured metadata (only when the response is categorised). */
  structuredMetadata: Labels;
  /** Labels extracted by parsers in the query (only when categorised). */
  parsed: Labels;
  /** stream + structuredMetadata + parsed, later ones winning. Use this to read attributes. */
  attributes: Labels;
}

export interface LogQueryParams {
  /** Milliseconds since the epoch. */
  startMs: number;
  /** Milliseconds since the epoch. */
  endMs: number;
  /** Maximum entries. Default 100. */
  limit?: number;
  /** Default `backward` (newest first). */
  direction?: 'backward' | 'forward';
  /** Nanoseconds, exclusive: overrides `endMs` (a page's boundary, to the nanosecond). */
  endNs?: string;
}

/** Entries Loki answers at most in one log query: its default `max_entries_limit_per_query`. */
export const LOKI_PAGE = 5000;

export const CATEGORIZE_LABELS_HEADER = 'X-Loki-Response-Encoding-Flags';

export class LokiClient {
  readonly http: JsonHttpClient;

  constructor(config: Omit<EndpointConfig, 'name'> & { name?: string }) {
    this.http = new JsonHttpClient({ name: 'Loki', ...config });
  }

  /**
   * `GET /loki/api/v1/query_range` of a log query, asking for categorised labels. Entries come back in the requested
   * direction across all streams (newest first by default).
   */
  async queryLogs(query: string, params: LogQueryParams, options?: RequestJsonOptions): Promise<LogEntry[]> {
    const path = 'loki/api/v1/query_range';
    const direction = params.direction ?? 'backward';
    const body = await this.http.getJson(
      path,
      {
        query,
        start: msToNs(params.startMs),
        end: params.endNs ?? msToNs(params.endMs),
        limit: params.limit ?? 100,
        direction,
      },
      { ...options, headers: { ...options?.headers, [CATEGORIZE_LABELS_HEADER]: 'categorize-labels' } },
    );
    const data = expectSuccess(body, (why) => this.malformed(path, why));
    const entries = parseStreams(data, (why) => this.malformed(path, why));
    entries.sort((a, b) => compareNs(a.timeNs, b.timeNs) * (direction === 'backward' ? -1 : 1));
    return entries;
  }

  /**
   * Every entry of a log query over the range, newest first, read page by page (a page holds at most LOKI_PAGE), up
   * to `max` entries; `complete` is false when `max` cut them (or a page of one nanosecond hid the rest of it).
   */
  async queryAllLogs(
    query: string,
    params: { startMs: number; endMs: number; max: number },
    options?: RequestJsonOptions,
  ): Promise<{ entries: LogEntry[]; complete: boolean }> {
    const entries: LogEntry[] = [];
    // A page ends inside a nanosecond's entries: the next one ends just after it, and what was taken is skipped.
    let boundary = new Set<string>();
    let endNs = msToNs(params.endMs);
    let skipped = false;
    for (;;) {
      const page = await this.queryLogs(
        query,
        { startMs: params.startMs, endMs: params.endMs, endNs, limit: LOKI_PAGE, direction: 'backward' },
        options,
      );
      const fresh = page.filter((e) => !boundary.has(entryKey(e)));
      const room = params.max - entries.length;
      entries.push(...fresh.slice(0, room));
      if (fresh.length > room) return { entries, complete: false };
      if (page.length < LOKI_PAGE) return { entries, complete: !skipped };
      const oldest = page[page.length - 1]!.timeNs;
      // A whole page of one nanosecond: the rest of it cannot be paged to, so the next page starts before it.
      const sameInstant = page[0]!.timeNs === oldest;
      skipped ||= sameInstant;
      endNs = sameInstant ? oldest : (BigInt(oldest) + 1n).toString();
      boundary = new Set(page.filter((e) => e.timeNs === oldest).map(entryKey));
    }
  }

  /** `GET /loki/api/v1/query` of a metric query (vector). Times in ms. */
  async instant(query: string, timeMs: number, options?: RequestJsonOptions): Promise<InstantSample[]> {
    const path = 'loki/api/v1/query';
    const body = await this.http.getJson(path, { query, time: msToNs(timeMs) }, options);
    const malformed = (why: string): TelemetryError => this.malformed(path, why);
    return parseInstantData(expectSuccess(body, malformed), malformed);
  }

  /** `GET /loki/api/v1/query_range` of a metric query (matrix). Times in ms, step in seconds. */
  async rangeMetric(
    query: string,
    startMs: number,
    endMs: number,
    stepSeconds: number,
    options?: RequestJsonOptions,
  ): Promise<RangeSeries[]> {
    const path = 'loki/api/v1/query_range';
    const body = await this.http.getJson(
      path,
      { query, start: msToNs(startMs), end: msToNs(endMs), step: stepSeconds },
      options,
    );
    const malformed = (why: string): TelemetryError => this.malformed(path, why);
    return parseMatrixData(expectSuccess(body, malformed), malformed);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  malformed(path: string, why: string): TelemetryError {
    return this.http.malformed(path, why, 'Check that the URL points at Loki 3 or later.');
  }
}

function expectSuccess(body: unknown, malformed: (why: string) => TelemetryError): unknown {
  if (!isObject(body)) throw malformed('the body is not a JSON object');
  if (body['status'] !== 'success') throw malformed(`status "${String(body['status'])}"`);
  if (!('data' in body)) throw malformed('no "data" field');
  return body['data'];
}

/** Parses a `streams` result, categorised (`[ts, line, {structuredMetadata, parsed}]`) or not (`[ts, line]`). */
export function parseStreams(data: unknown, malformed: (why: string) => TelemetryError): LogEntry[] {
  if (!isObject(data)) throw malformed('"data" is not an object');
  if (data['resultType'] !== 'streams')
    throw malformed(`expected resultType "streams", got ${JSON.stringify(data['resultType'])}`);
  const result = data['result'];
  if (!Array.isArray(result)) throw malformed('"result" is not a list');
  const out: LogEntry[] = [];
  result.forEach((s, i) => {
    if (!isObject(s)) throw malformed(`result[${i}] is not an object`);
    const stream = parseLabels(s['stream']);
    const values = s['values'];
    if (!stream || !Array.isArray(values)) throw malformed(`result[${i}] has no valid stream/values`);
    values.forEach((v, j) => {
      if (
        !Array.isArray(v) ||
        v.length < 2 ||
        typeof v[0] !== 'string' ||
        !/^\d+$/.test(v[0]) ||
        typeof v[1] !== 'string'
      ) {
        throw malformed(`result[${i}].values[${j}] is not a [timestamp, line] entry`);
      }
      let structuredMetadata: Labels = {};
      let parsed: Labels = {};
      if (v.length >= 3 && v[2] !== null && v[2] !== undefined) {
        const cat = v[2];
        if (!isObject(cat)) throw malformed(`result[${i}].values[${j}][2] is not an object`);
        const sm = cat['structuredMetadata'] === undefined ? {} : parseLabels(cat['structuredMetadata']);
        const pa = cat['parsed'] === undefined ? {} : parseLabels(cat['parsed']);
        if (!sm || !pa) throw malformed(`result[${i}].values[${j}] has non-string label values`);
        structuredMetadata = sm;
        parsed = pa;
      }
      out.push({
        timeNs: v[0],
        timeMs: nsToMs(v[0]),
        line: v[1],
        stream,
        structuredMetadata,
        parsed,
        attributes: { ...stream, ...structuredMetadata, ...parsed },
      });
    });
  });
  return out;
}

export function msToNs(ms: number): string {
  return (BigInt(Math.floor(ms)) * 1_000_000n).toString();
}

/** What tells two entries apart: Loki itself keeps one of two with the same stream, time and line. */
function entryKey(e: LogEntry): string {
  return `${e.timeNs}\u0000${e.line}\u0000${JSON.stringify(e.stream)}\u0000${JSON.stringify(e.structuredMetadata)}`;
}

function nsToMs(ns: string): number {
  return Number(BigInt(ns) / 1_000_000n);
}

function compareNs(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
