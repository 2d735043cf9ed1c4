// Runs an import of Claude Code's transcripts into the store: reads what changed since the last run, asks the store what
// telemetry already holds, plans (./importPlan) and writes through Prometheus' OTLP receiver, whose out-of-order window
// takes old samples. One importer per backend, for the window's lifetime: it keeps what it read, so a later run reads
// only what the transcripts gained. Plain Node: never import `vscode`.
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { COUNTERS } from '../telemetry/counters';
import { TelemetryError } from '../telemetry/http';
import type { LokiClient } from '../telemetry/loki';
import type { PrometheusClient } from '../telemetry/prometheus';
import { lokiSelector } from '../telemetry/queries';
import { IMPORT_LABEL, IMPORT_VALUE, planImport, type ImportPlan, type PlannedSeries } from './importPlan';
import type { Pricing } from './pricing';
import { findTranscripts, readTranscript, type TranscriptFile, type UsageEntry } from './transcripts';

const gzip = promisify(gzipCb);

/**
 * Answers younger than this wait for the next run: a wired session's telemetry reaches the store within seconds (the
 * terminals' export intervals, a 5-second scrape), and an answer counted from its transcript first would count twice.
 */
export const SETTLE_MS = 60_000;
/** Loki answers nothing older than its max_query_lookback (stack/loki/config.yaml: 30 d); a margin for clocks. */
const LOKI_LOOKBACK_MS = 30 * 86_400_000 - 3_600_000;
/** Data points per write: a few MB of JSON, well under Prometheus' limits. */
const POINTS_PER_WRITE = 20_000;
/** Writes sent at once. */
const WRITES_IN_FLIGHT = 2;

export interface ImportProgress {
  phase: 'reading' | 'checking' | 'writing';
  done: number;
  total: number;
}

/** A transcript the import could not read in full: named in the report, the rest imported. */
export interface FileProblem {
  path: string;
  message: string;
}

export interface ImportReport {
  files: number;
  bytesRead: number;
  plan: ImportPlan['counts'];
  samplesWritten: number;
  /** The oldest sample written (unix ms), null when none was: the store's past changed from there on. */
  writtenFromMs: number | null;
  unpriced: Array<{ model: string; answers: number }>;
  problems: FileProblem[];
  /** How far back the store keeps history (ms), and the oldest answer imported (unix ms) or null. */
  reachMs: number;
  oldestMs: number | null;
  /** Loki could not say which requests telemetry reported in these sessions: telemetry was taken to hold them. */
  sessionsTakenAsReported: number;
}

export interface ImporterOptions {
  prometheus: PrometheusClient;
  /** Absent when events are not kept: telemetry is then taken to hold every request of its sessions. */
  loki: LokiClient | undefined;
  roots: readonly string[];
  pricing: Pricing;
  /** The store's reach when Prometheus does not say (the stack's retention setting). */
  fallbackReachMs: number;
  /** What earlier runs wrote (series key → newest sample), and where to keep it. */
  written: ReadonlyMap<string, number>;
  saveWritten: (written: ReadonlyMap<string, number>) => Promise<void>;
}

export class HistoryImporter {
  private readonly files = new Map<string, TranscriptFile>();
  /**
   * Per session telemetry reported, the request ids of its events, and how many answers its transcript had when they
   * were read: a run every two minutes asks Loki again only for the sessions that have grown since.
   */
  private readonly reportedRequests = new Map<string, { answers: number; ids: Set<string> }>();
  private written: ReadonlyMap<string, number>;

  constructor(private readonly options: ImporterOptions) {
    this.written = options.written;
  }

  /** Its clients' connections closed: a new importer replaces it. */
  async close(): Promise<void> {
    await Promise.all([this.options.prometheus.close(), this.options.loki?.close()]);
  }

  /** The store lost what was imported (data deleted, imported history removed): the next run writes it all again. */
  forgetWritten(): void {
    this.written = new Map();
    this.reportedRequests.clear();
  }

  async run(nowMs: number, onProgress: (p: ImportProgress) => void, signal?: AbortSignal): Promise<ImportReport> {
    const { prometheus } = this.options;
    const problems: FileProblem[] = [];
    const { files: found, unreadable } = await findTranscripts(this.options.roots);
    for (const u of unreadable) problems.push({ path: u.path, message: `could not be read (${u.reason})` });
    const total = found.reduce((n, f) => n + f.size, 0);
    let done = 0;
    let bytesRead = 0;
    const present = new Set<string>();
    for (const f of found) {
      signal?.throwIfAborted();
      present.add(f.path);
      const cached = this.files.get(f.path);
      // Transcripts only grow: one that shrank was rewritten, and is read again from its start.
      const from = cached && f.size >= cached.bytes ? cached.bytes : 0;
      if (!cached || f.size !== cached.bytes || f.mtimeMs !== cached.mtimeMs) {
        try {
          const read = await readTranscript(f.path, from, signal);
          bytesRead += read.bytes - from;
          const entries = from > 0 && cached ? cached.entries.concat(read.entries) : read.entries;
          this.files.set(f.path, { ...read, entries });
          if (read.problems)
            problems.push({
              path: f.path,
              message:
                `${read.problems.count} line(s) skipped, the first at line ${read.problems.firstLine}: ` +
                read.problems.reason,
            });
        } catch (e) {
          if (signal?.aborted) throw e;
          problems.push({ path: f.path, message: `could not be read (${e instanceof Error ? e.message : String(e)})` });
        }
      }
      done += f.size;
      onProgress({ phase: 'reading', done, total });
    }
    for (const path of this.files.keys()) if (!present.has(path)) this.files.delete(path);

    onProgress({ phase: 'checking', done: 0, total: 1 });
    const reachMs = (await prometheus.retentionMs({ signal }).catch(() => null)) ?? this.options.fallbackReachMs;
    const entries = [...this.entries()];
    const coverage = await this.coverage(entries, nowMs, reachMs, signal);
    const plan = planImport(entries, coverage, {
      nowMs,
      reachMs,
      settleMs: SETTLE_MS,
      written: this.written,
      price: (e) => this.options.pricing.price(e),
    });

    const samplesWritten = await this.write(plan, onProgress, signal);
    this.written = plan.written;
    await this.options.saveWritten(plan.written);
    return {
      files: found.length,
      bytesRead,
      plan: plan.counts,
      samplesWritten,
      writtenFromMs: plan.fromMs,
      unpriced: [...plan.unpriced].map(([model, answers]) => ({ model, answers })),
      problems,
      reachMs,
      oldestMs: plan.oldestMs,
      sessionsTakenAsReported: coverage.sessions.size - coverage.requests.size,
    };
  }

  /** Every answer read, by file path then line: of two copies the first is kept, as ccusage keeps it. */
  private *entries(): Iterable<UsageEntry> {
    const files = [...this.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const f of files) yield* f.entries;
  }

  /**
   * The sessions telemetry reported (label values: the index only), and of those the transcripts also hold, the
   * requests their `api_request` events name.
   */
  private async coverage(
    entries: Iterable<UsageEntry>,
    nowMs: number,
    reachMs: number,
    signal: AbortSignal | undefined,
  ) {
    const { prometheus, loki } = this.options;
    const range = { start: (nowMs - reachMs) / 1000, end: nowMs / 1000, signal };
    const notImported = `${IMPORT_LABEL}!="${IMPORT_VALUE}"`;
    const reported = new Set<string>();
    for (const c of [COUNTERS.cost, COUNTERS.sessions]) {
      for (const id of await prometheus.labelValues('session_id', [`${c.metric}{${notImported}}`], range))
        reported.add(id);
    }
    const spans = new Map<string, { from: number; to: number; answers: number }>();
    for (const e of entries) {
      if (!reported.has(e.sessionId)) continue;
      const span = spans.get(e.sessionId);
      if (span) {
        span.from = Math.min(span.from, e.timeMs);
        span.to = Math.max(span.to, e.timeMs);
        span.answers++;
      } else spans.set(e.sessionId, { from: e.timeMs, to: e.timeMs, answers: 1 });
    }
    const requests = new Map<string, Set<string>>();
    if (loki) {
      for (const [sessionId, span] of spans) {
        signal?.throwIfAborted();
        if (span.from < nowMs - LOKI_LOOKBACK_MS) continue;
        const known = this.reportedRequests.get(sessionId);
        if (known && known.answers === span.answers) {
          requests.set(sessionId, known.ids);
          continue;
        }
        const ids = await requestIds(
          loki,
          sessionId,
          span.from - 60_000,
          Math.min(nowMs, span.to + 600_000),
          signal,
        ).catch(() => undefined);
        if (!ids) continue;
        requests.set(sessionId, ids);
        // Kept for the next runs while the session's transcript does not grow: once its answers are all settled, the
        // events of every one of them have had time to reach Loki.
        if (span.to <= nowMs - SETTLE_MS) this.reportedRequests.set(sessionId, { answers: span.answers, ids });
      }
    }
    return { sessions: reported, requests };
  }

  private async write(
    plan: ImportPlan,
    onProgress: (p: ImportProgress) => void,
    signal: AbortSignal | undefined,
  ): Promise<number> {
    const total = plan.samples;
    let done = 0;
    onProgress({ phase: 'writing', done, total });
    const send = async (batch: PlannedSeries[]): Promise<void> => {
      await this.options.prometheus
        .writeOtlp(await gzip(otlpBody(batch)), { signal, timeoutMs: 60_000 })
        .catch((e: unknown) => {
          // The store keeps what an earlier import wrote, and refuses another value at the same time.
          if (e instanceof TelemetryError && /duplicate sample/.test(e.bodyExcerpt ?? ''))
            throw new Error(
              'Prometheus holds imported history that differs from what this import computes (an earlier version ' +
                'priced it otherwise, or telemetry has since reported some of it). Run "Claude Telemetry: Remove ' +
                'Imported History…", then import again.',
              { cause: e },
            );
          throw e;
        });
      done += batch.reduce((n, s) => n + s.samples.length, 0);
      onProgress({ phase: 'writing', done, total });
    };
    // Writes in flight at once: Prometheus appends one request on one core, so a second one keeps it busy while the
    // next body is made.
    const inFlight = new Set<Promise<void>>();
    try {
      for (const batch of batches(plan.series(), POINTS_PER_WRITE)) {
        signal?.throwIfAborted();
        const sending = send(batch).finally(() => inFlight.delete(sending));
        inFlight.add(sending);
        if (inFlight.size >= WRITES_IN_FLIGHT) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    } catch (e) {
      // The other write ends (or fails) before the import reports: nothing is left running behind it.
      await Promise.allSettled(inFlight);
      throw e;
    }
    return total;
  }
}

/** The request ids of a session's `api_request` events (its own Loki stream). */
async function requestIds(
  loki: LokiClient,
  sessionId: string,
  startMs: number,
  endMs: number,
  signal: AbortSignal | undefined,
): Promise<Set<string>> {
  const query = `${lokiSelector(`service_instance_id=${JSON.stringify(sessionId)}`)} | event_name="api_request"`;
  const { entries } = await loki.queryAllLogs(query, { startMs, endMs, max: Infinity }, { signal });
  return new Set(entries.flatMap((e) => (e.attributes['request_id'] ? [e.attributes['request_id']] : [])));
}

/** Series split into writes of about `points` data points (a series' samples may span writes). */
function* batches(series: Iterable<PlannedSeries>, points: number): Generator<PlannedSeries[]> {
  let batch: PlannedSeries[] = [];
  let size = 0;
  for (const s of series) {
    for (let i = 0; i < s.samples.length;) {
      const take = s.samples.slice(i, i + points - size);
      batch.push({ ...s, samples: take });
      size += take.length;
      i += take.length;
      if (size >= points) {
        yield batch;
        batch = [];
        size = 0;
      }
    }
  }
  if (batch.length) yield batch;
}

/**
 * Series as an OTLP metrics request (JSON): gauges (the values are written as they are), with Claude Code's service
 * name (Prometheus makes it `job`, as the collector's series have). The stack's Prometheus takes names and labels as
 * they are (`otlp.translation_strategy: NoTranslation`), so the rules' names keep their colons. Made as text: a year
 * of history is millions of data points, and an object for each would be most of the import's memory.
 */
export function otlpBody(series: readonly PlannedSeries[]): string {
  const byName = new Map<string, PlannedSeries[]>();
  for (const s of series) {
    const list = byName.get(s.name);
    if (list) list.push(s);
    else byName.set(s.name, [s]);
  }
  const metrics: string[] = [];
  for (const [name, list] of byName) {
    const points: string[] = [];
    for (const s of list) {
      const attributes = JSON.stringify(
        Object.entries(s.labels).map(([key, v]) => ({ key, value: { stringValue: v } })),
      );
      for (const p of s.samples)
        points.push(`{"attributes":${attributes},"timeUnixNano":"${p.timeMs}000000","asDouble":${p.value}}`);
    }
    metrics.push(`{"name":${JSON.stringify(name)},"gauge":{"dataPoints":[${points.join(',')}]}}`);
  }
  return (
    '{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"claude-code"}}]},' +
    `"scopeMetrics":[{"scope":{"name":"claude-code-telemetry/history-import"},"metrics":[${metrics.join(',')}]}]}]}`
  );
}

/**
 * Removes every imported series from the store (the command that asks first is the caller), and says how many it
 * could not remove yet: Prometheus does not delete samples it still holds in its out-of-order memory
 * (prometheus/prometheus#11790), those more than about an hour older than the newest sample, until it writes them to
 * disk (its next compaction: within about three hours).
 */
export async function removeImported(prometheus: PrometheusClient, nowMs: number): Promise<{ remaining: number }> {
  const selector = `{${IMPORT_LABEL}="${IMPORT_VALUE}"}`;
  await prometheus.deleteSeries(selector, { timeoutMs: 120_000 });
  const reachMs = (await prometheus.retentionMs().catch(() => null)) ?? 3650 * 86_400_000;
  const [left] = await prometheus.instant(
    `count(last_over_time(${selector}[${Math.ceil(reachMs / 1000)}s]))`,
    nowMs / 1000,
  );
  return { remaining: left?.value ?? 0 };
}

/** What an import did, in a sentence. */
export function importSummary(r: ImportReport): string {
  const days = Math.round(r.reachMs / 86_400_000);
  const since = r.oldestMs === null ? '' : `, back to ${new Date(r.oldestMs).toISOString().slice(0, 10)}`;
  const n = (count: number, one: string, many = `${one}s`): string =>
    `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
  const parts = [
    `${n(r.plan.imported, 'answer')} in ${n(r.plan.sessions, 'session')}${since}`,
    `${r.plan.reported.toLocaleString('en-US')} already reported by telemetry`,
    `${n(r.plan.duplicates, 'repeated line')} counted once`,
  ];
  if (r.plan.beyondReach)
    parts.push(`${r.plan.beyondReach.toLocaleString('en-US')} older than the stack keeps (${days} days)`);
  if (r.unpriced.length)
    parts.push(`no price for ${r.unpriced.map((u) => `${u.model} (${u.answers})`).join(', ')}: tokens shown, cost not`);
  return `${parts.join('; ')}.`;
}
