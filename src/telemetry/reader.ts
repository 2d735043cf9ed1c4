// The reader: one refresh's figures (the status bar's today, the sidebar's snapshot) and a session's panel, as plain
// serialisable objects. Plain Node: never import `vscode`.
//
// A refresh, in parts that go one way: the reader asks when the rules last evaluated (/api/v1/rules) and, alongside,
// the sessions whose cost changed lately; the planner (refreshPlan.ts) says what to fetch given the piece cache
// (slots.ts, PieceCache); the reader sends it (range queries for the closed slots not held, none in the steady state,
// and two instant queries for the rest) and keeps the closed pieces; figures.ts derives every figure from what was
// read. Loki's events (events.ts) are read alongside. With `persist`, the closed pieces outlive the reader: restored
// from their file on the first refresh, checked against the store alongside it (pieceFile.ts), saved when new ones
// close.
import { TelemetryError, toErrorInfo } from './http';
import { LokiClient } from './loki';
import { PrometheusClient, type InstantSample } from './prometheus';
import { COUNTERS, RULES_FILE } from './counters';
import {
  ANY_CLAUDE_METRIC_MATCH,
  FIGURE_LABEL,
  PART_LABEL,
  combined,
  figureSlots,
  figureWindow,
  lokiLogs,
  promptCostsQuery,
  sessionFigures,
  sessionsChanged,
} from './queries';
import {
  CHANGED_WINDOW_S,
  RANGE_SLOT_MS,
  answersOf,
  closedSlots,
  gridPhaseMs,
  planRefresh,
  rangeStartMs,
  type Answers,
  type RefreshWindows,
  type SlotQuery,
} from './refreshPlan';
import {
  FigureMemo,
  Readings,
  metricsSection,
  planSection,
  sessionMetrics,
  todayCost,
  todaySummary,
  type SessionFigureName,
} from './figures';
import { numOrNull, toApiError, toProblem, toToolFailure } from './events';
import { promptWords, sessionPrompts } from './prompts';
import { PieceCache, cutWindow, pieceKey, type Sample } from './slots';
import {
  encodePieces,
  readPieceFile,
  removePieceFile,
  restoredCheck,
  sameTotal,
  writePieceFile,
  type PersistedPieces,
} from './pieceFile';
import type {
  EventsSection,
  PromptCost,
  SessionDetail,
  SessionRow,
  Snapshot,
  TimeRange,
  TodaySummary,
} from '../snapshot';

export type { RefreshWindows } from './refreshPlan';

export interface ServiceOptions {
  prometheus: PrometheusClient;
  /** Optional: without Loki, `events` is null and no Loki error is reported. */
  loki?: LokiClient | null;
  /** Rows in the sessions list. Default 50. */
  sessionLimit?: number;
  /** Entries in each event list. Default 50. */
  eventLimit?: number;
  /**
   * When the recording rules last evaluated as of `nowMs` (unix ms; null before their first evaluation). Default:
   * Prometheus' own /api/v1/rules, which rejects when the rules are not loaded. Tests of a history whose rule output
   * was computed and backfilled give the evaluation times of that history.
   */
  rulesEvaluatedAt?: (nowMs: number, options: FetchOptions) => Promise<number | null>;
  /** Where the closed pieces persist across reloads (pieceFile.ts). */
  persist?: PersistOptions;
}

export interface PersistOptions {
  /** The file: one per backend. */
  path: string;
  /** What the pieces were read under (the backend, the extension's version): a file of another is not read. */
  identity: string;
  /** A file that could not be read or written: the pieces are read from the store instead. */
  onError?: (message: string, error: unknown) => void;
}

/** New closed pieces are written at most this often (most close on the hour). */
export const PERSIST_EVERY_MS = 60_000;
/** Events a session's panel reads at most (its newest): a day of heavy use is a few thousand. */
const SESSION_EVENTS_MAX = 20_000;
/** The sidebar's most expensive prompts: this many, from the range's this many most expensive sessions. */
const TOP_PROMPTS = 10;
const TOP_PROMPT_SESSIONS = 10;

export interface FetchOptions {
  signal?: AbortSignal;
}

/** A refresh's options: besides the signal, who is told of today's figures as soon as they are read. */
export interface RefreshOptions extends FetchOptions {
  /** Whether the user opted in to see prompts' words (claudeTelemetry.terminal.logUserPrompts). */
  promptText?: boolean;
  /** Today's figures, before the snapshot's events from Loki: the status bar never waits for Loki. */
  onToday?: (today: TodaySummary) => void;
}

/** What one refresh shows: today's figures when it was given `dayStartMs`, the snapshot when it was given a `range`. */
export interface Refreshed {
  today?: TodaySummary;
  snapshot?: Snapshot;
}

export class TelemetryReader {
  private readonly prom: PrometheusClient;
  private readonly loki: LokiClient | null;
  private readonly sessionLimit: number;
  private readonly eventLimit: number;
  private readonly rulesEvaluatedAt: (nowMs: number, options: FetchOptions) => Promise<number | null>;
  /** Closed pieces of every counter query, across refreshes: one reader per backend, so one cache per backend. */
  readonly cache = new PieceCache();
  private readonly memo = new FigureMemo();
  private lastEvaluationSeen: number | null = null;
  /** The range's minute parts as last read (refreshPlan.ts, MINUTE_PARTS_EVERY_MS): its limit history, its cost's labels. */
  private minuteParts:
    { range: TimeRange; atMs: number; planLimit: Answers['planLimit']; costLabels: readonly string[] } | undefined;
  private readonly persist: PersistOptions | undefined;
  /** The persisted pieces, read once, on the first refresh. */
  private restoring: Promise<PersistedPieces | undefined> | undefined;
  /** Restored pieces not yet checked against the store: what to check them by. */
  private unchecked: ReturnType<typeof restoredCheck>;
  /** Pieces kept since the file was last written, and when it was. */
  private unsaved = false;
  private savedAtMs = -Infinity;
  /** The file's writes, one after the other. */
  private saving: Promise<void> = Promise.resolve();

  constructor(options: ServiceOptions) {
    this.prom = options.prometheus;
    this.loki = options.loki ?? null;
    this.sessionLimit = options.sessionLimit ?? 50;
    this.eventLimit = options.eventLimit ?? 50;
    this.rulesEvaluatedAt = options.rulesEvaluatedAt ?? ((_now, o) => this.rulesLastEvaluation(o));
    this.persist = options.persist;
    const persist = this.persist;
    this.restoring = persist
      ? readPieceFile(persist.path, persist.identity).catch((error: unknown) => {
          persist.onError?.(`The cached figures in ${persist.path} could not be read; they are read again.`, error);
          return undefined;
        })
      : undefined;
  }

  /** Writes the pieces not yet written (the reader is done with). */
  async close(): Promise<void> {
    this.restoring = undefined;
    if (this.unsaved && this.lastEvaluationSeen !== null) this.save();
    await this.saving;
  }

  /**
   * The store's past changed (its data deleted, history imported): what the reader holds of it and its file go. Reads
   * under way may still keep a piece of the old past: the caller aborts them first. With `sinceMs` only the past after
   * it changed (history imported from then on): the pieces before it stay, and the file is written again without the
   * others at the next save.
   */
  async discardPast(sinceMs?: number): Promise<void> {
    this.restoring = undefined;
    if (sinceMs !== undefined) {
      this.cache.discardAfter(sinceMs);
      this.memo.clear();
      this.unsaved = true;
      return;
    }
    this.forget();
    this.unsaved = false;
    const path = this.persist?.path;
    await (this.saving = this.saving.then(() => (path ? removePieceFile(path) : undefined)));
  }

  /**
   * One refresh at `nowMs`, one read for every window: today's figures for the status bar (with `dayStartMs`, local
   * midnight computed by the caller) and the sidebar's snapshot of `range` (with its events from Loki, alongside).
   * Rejects with a `TelemetryError` when today's figures cannot be read (the snapshot's events are then dropped), and
   * when `signal` aborts; otherwise each source's failure lands in the snapshot's `errors` with that section null.
   */
  async refresh(nowMs: number, windows: RefreshWindows, options: RefreshOptions = {}): Promise<Refreshed> {
    const read = this.read(nowMs, windows, options);
    read.catch(() => undefined); // awaited below; not unhandled if the events fail first
    const dropEvents = new AbortController();
    const eventsSignal = options.signal ? AbortSignal.any([options.signal, dropEvents.signal]) : dropEvents.signal;
    const events =
      windows.range !== undefined && this.loki
        ? this.fetchEvents(this.loki, rangeStartMs(windows.range, nowMs), nowMs, { ...options, signal: eventsSignal })
        : null;
    events?.catch(() => undefined); // awaited with the snapshot
    let today: TodaySummary | undefined;
    if (windows.dayStartMs !== undefined) {
      try {
        today = todaySummary(await read);
      } catch (error) {
        dropEvents.abort();
        throw error;
      }
      // Not for a refresh aborted meanwhile: its figures are a replaced backend's, or no longer wanted.
      if (!options.signal?.aborted) options.onToday?.(today);
    }
    const snapshot =
      windows.range === undefined
        ? undefined
        : await this.snapshot(windows.range, nowMs, read, events, {
            ...(options.signal ? { signal: options.signal } : {}),
            promptText: options.promptText ?? false,
          });
    return { ...(today ? { today } : {}), ...(snapshot ? { snapshot } : {}) };
  }

  /** Today's figures alone (a refresh of today's window). Rejects with a `TelemetryError`. */
  async fetchToday(nowMs: number, dayStartMs: number, options: FetchOptions = {}): Promise<TodaySummary> {
    return (await this.refresh(nowMs, { dayStartMs }, options)).today!;
  }

  /** The sidebar's snapshot of `range` from what the refresh read, with the events from Loki. */
  private async snapshot(
    range: TimeRange,
    nowMs: number,
    read: Promise<Readings>,
    events: Promise<EventsSection> | null,
    options: FetchOptions & { promptText: boolean },
  ): Promise<Snapshot> {
    const startMs = rangeStartMs(range, nowMs);
    const [metrics, eventsRead] = await Promise.allSettled([
      read.then((r) => metricsSection(r, this.sessionLimit)),
      events ?? Promise.resolve(null),
    ]);
    options.signal?.throwIfAborted();
    const snapshot: Snapshot = {
      range,
      startMs,
      endMs: nowMs,
      stepSeconds: RANGE_SLOT_MS[range] / 1000,
      fetchedAt: nowMs,
      metrics: metrics.status === 'fulfilled' ? metrics.value : null,
      events: eventsRead.status === 'fulfilled' ? eventsRead.value : null,
      errors: {},
      hasData: false,
    };
    if (metrics.status === 'rejected') snapshot.errors.prometheus = toErrorInfo(metrics.reason, 'Prometheus');
    if (eventsRead.status === 'rejected') snapshot.errors.loki = toErrorInfo(eventsRead.reason, 'Loki');
    const m = snapshot.metrics;
    snapshot.hasData =
      !!m && (m.kpis.costUsd > 0 || m.kpis.tokens.total > 0 || m.kpis.sessions > 0 || m.sessions.length > 0);
    if (m) {
      const r = await read;
      if (r.windows.dayStartMs !== undefined) snapshot.today = todayCost(r);
      snapshot.plan = planSection(r);
      // Loki answered the events: it is asked the prompts of the sessions the metrics rank first.
      if (this.loki && eventsRead.status === 'fulfilled') {
        snapshot.prompts = await this.topPrompts(this.loki, m.sessions, startMs, nowMs, options).then(
          (top) => ({ top }),
          (error: unknown) => {
            options.signal?.throwIfAborted();
            return { error: toErrorInfo(error, 'Loki').message };
          },
        );
      }
    }
    return snapshot;
  }

  /**
   * The range's most expensive prompts among its most expensive sessions: their cost from a Loki metric query (a few
   * sessions, so that its series stay within what Loki answers), then their user_prompt events for when, how long and
   * (opted in) what.
   */
  private async topPrompts(
    loki: LokiClient,
    sessions: readonly SessionRow[],
    startMs: number,
    nowMs: number,
    options: FetchOptions & { promptText: boolean },
  ): Promise<PromptCost[]> {
    // An imported session has no events in Loki.
    const ids = sessions
      .filter((s) => s.costUsd > s.importedUsd)
      .slice(0, TOP_PROMPT_SESSIONS)
      .map((s) => s.sessionId);
    if (!ids.length) return [];
    const costs = await loki.instant(promptCostsQuery(ids, (nowMs - startMs) / 1000), nowMs, options);
    const top = costs
      .flatMap((s) => {
        const [sessionId, promptId] = [s.labels['session_id'], s.labels['prompt_id']];
        return sessionId && promptId && s.value !== null && s.value > 0
          ? [{ sessionId, promptId, costUsd: s.value }]
          : [];
      })
      .sort((a, b) => b.costUsd - a.costUsd)
      .slice(0, TOP_PROMPTS);
    if (!top.length) return [];
    const sent = await loki.queryLogs(
      lokiLogs.userPrompts(...top.map((p) => p.promptId)),
      { startMs, endMs: nowMs, limit: 2 * top.length, direction: 'backward' },
      options,
    );
    const byId = new Map(sent.map((e) => [e.attributes['prompt_id'], e]));
    return top.map((p) => {
      const a = byId.get(p.promptId);
      return {
        ...p,
        timeMs: a?.timeMs ?? null,
        length: numOrNull(a?.attributes['prompt_length']),
        text: options.promptText ? promptWords(a?.attributes['prompt']) : null,
      };
    });
  }

  /**
   * One session over `range`, for its panel: its totals and cost over time from its own rule series (read directly, not
   * cached: one combined instant query and one range query), and its events from Loki. Never rejects for backend
   * failures (see refresh).
   */
  async fetchSession(
    sessionId: string,
    range: TimeRange,
    nowMs: number,
    view: { promptText: boolean },
    options: FetchOptions = {},
  ): Promise<SessionDetail> {
    // The window and buckets of the sidebar's list, so that the session's figures here are the ones its row shows.
    const startMs = rangeStartMs(range, nowMs);
    const stepMs = RANGE_SLOT_MS[range];
    const [metrics, events] = await Promise.allSettled([
      this.sessionMetrics(sessionId, startMs, nowMs, stepMs, gridPhaseMs(stepMs, nowMs), options),
      this.loki
        ? this.loki
            .queryAllLogs(
              lokiLogs.sessionEvents(sessionId),
              { startMs, endMs: nowMs, max: SESSION_EVENTS_MAX },
              options,
            )
            .then(({ entries, complete }) => ({
              prompts: sessionPrompts(entries, view),
              events: entries.length,
              complete,
            }))
        : Promise.resolve(null),
    ]);
    options.signal?.throwIfAborted();
    const detail: SessionDetail = {
      sessionId,
      range,
      startMs,
      endMs: nowMs,
      stepSeconds: stepMs / 1000,
      fetchedAt: nowMs,
      metrics: metrics.status === 'fulfilled' ? metrics.value : null,
      prompts: events.status === 'fulfilled' ? events.value : null,
      errors: {},
    };
    if (metrics.status === 'rejected') detail.errors.prometheus = toErrorInfo(metrics.reason, 'Prometheus');
    if (events.status === 'rejected') detail.errors.loki = toErrorInfo(events.reason, 'Loki');
    return detail;
  }

  private async sessionMetrics(
    sessionId: string,
    startMs: number,
    nowMs: number,
    stepMs: number,
    phaseMs: number,
    options: FetchOptions,
  ): Promise<NonNullable<SessionDetail['metrics']>> {
    const figures = sessionFigures(sessionId);
    // The chart's whole buckets from a range query; a partial one (the open bucket) in the instant query.
    const { slotEnds, edges } = cutWindow(startMs, nowMs, stepMs, phaseMs);
    const terms = [
      ...Object.entries(figures).map(([figure, f]) => ({
        figure,
        part: 'total',
        expr: figureWindow(f, startMs, nowMs),
      })),
      ...edges.map(([a, b]) => ({
        figure: 'costEdge',
        part: String(b),
        expr: figureWindow(figures.costByModel, a, b),
      })),
    ];
    const t = nowMs / 1000;
    const [samples, buckets] = await Promise.all([
      this.prom.instant(combined(terms), t, options),
      slotEnds.length
        ? this.prom.range(
            figureSlots(figures.costByModel, stepMs),
            { start: slotEnds[0]! / 1000, end: slotEnds.at(-1)! / 1000, step: stepMs / 1000 },
            options,
          )
        : Promise.resolve([]),
    ]);
    const totals = (figure: SessionFigureName): Sample[] =>
      samples
        .filter((s) => s.labels[FIGURE_LABEL] === figure && s.labels[PART_LABEL] === 'total' && s.value !== null)
        .map((s) => ({ labels: s.labels, value: s.value! }));
    const costPieces: Array<[number, Sample[]]> = [
      ...buckets.flatMap((series) =>
        series.points.map(([time, value]): [number, Sample[]] => [
          Math.round(time * 1000),
          [{ labels: series.labels, value }],
        ]),
      ),
      ...samples
        .filter((s) => s.labels[FIGURE_LABEL] === 'costEdge' && s.value !== null)
        .map((s): [number, Sample[]] => [Number(s.labels[PART_LABEL]), [{ labels: s.labels, value: s.value! }]]),
    ];
    return sessionMetrics(totals, costPieces, stepMs, phaseMs);
  }

  /** Whether Prometheus holds any Claude Code metric at all (index lookup, cheap): tells "no data yet" from "idle today". */
  async hasEverReceivedData(options: FetchOptions = {}): Promise<boolean> {
    const names = await this.prom.labelValues('__name__', [ANY_CLAUDE_METRIC_MATCH], options);
    return names.length > 0;
  }

  /** Reads what every window of one refresh at `nowMs` needs (see the file's header). */
  private async read(nowMs: number, windows: RefreshWindows, options: FetchOptions): Promise<Readings> {
    const t = nowMs / 1000;
    await this.restore();
    // The sessions that changed lately, alongside: the only ones a fresh part can hold (refreshPlan.ts, CHANGED_WINDOW_S).
    const changedPending = this.prom.instant(sessionsChanged(CHANGED_WINDOW_S), t, options);
    changedPending.catch(() => undefined); // awaited below; not unhandled if the rules' call fails first
    let lastEvaluation: number | null;
    try {
      lastEvaluation = await this.rulesEvaluatedAt(nowMs, options);
    } catch (error) {
      // Prometheus away or its rules gone: it may come back without the history the cache holds.
      this.forget();
      throw error;
    }
    if (lastEvaluation === null || (this.lastEvaluationSeen !== null && lastEvaluation < this.lastEvaluationSeen))
      this.forget();
    this.lastEvaluationSeen = lastEvaluation;
    const changedSessions = (await changedPending).map((s) => s.labels['session_id'] ?? '').filter((id) => id !== '');
    const minuteParts = this.minuteParts;
    const plan = planRefresh({
      nowMs,
      windows,
      lastEvaluationMs: lastEvaluation,
      cache: this.cache,
      changedSessions,
      minuteParts,
    });

    const instant = (terms: typeof plan.narrow): Promise<InstantSample[]> =>
      terms.length ? this.prom.instant(combined(terms), t, options) : Promise.resolve([]);
    // Restored pieces are trusted once the store's total over them agrees; meanwhile they serve this refresh.
    const check = this.unchecked;
    this.unchecked = undefined;
    const agrees = check
      ? this.prom
          .instant(figureWindow({ counter: 'cost', by: [] }, check.fromMs, check.toMs), t, options)
          .then((samples) => sameTotal(samples[0]?.value ?? 0, check.costUsd))
      : true;
    const [narrow, wide, labelsRead, restoredAgree] = await Promise.all([
      instant(plan.narrow),
      instant(plan.wide),
      plan.labelsSpan === null
        ? Promise.resolve(null)
        : this.prom.labelNames([COUNTERS.cost.rule], plan.labelsSpan, options),
      agrees,
      ...plan.slots.map((query) => this.fetchSlots(query, options)),
    ]);
    if (!restoredAgree) {
      // The store's past is not the one the file holds (reset, deleted, imported into): read it all again.
      this.forget();
      return this.read(nowMs, windows, options);
    }
    const answers = answersOf([...narrow, ...wide]);
    let costLabels: readonly string[] | null = labelsRead;
    if (plan.minuteParts === 'read')
      this.minuteParts = { range: windows.range!, atMs: nowMs, planLimit: answers.planLimit, costLabels: labelsRead! };
    else if (plan.minuteParts === 'reuse') {
      answers.planLimit = minuteParts!.planLimit;
      costLabels = minuteParts!.costLabels = [...new Set([...minuteParts!.costLabels, ...(labelsRead ?? [])])];
    }
    for (const { source, a, b } of plan.keep)
      this.cache.put(a, b, source, answers.pieces.get(source)?.get(pieceKey(a, b)) ?? []);
    this.cache.prune(plan.forgetBeforeMs);
    if (plan.keep.length || plan.slots.length) this.unsaved = true;
    if (this.unsaved && this.persist && nowMs - this.savedAtMs >= PERSIST_EVERY_MS) {
      this.savedAtMs = nowMs;
      this.save();
    }
    return new Readings(plan, answers, this.cache, costLabels, this.memo);
  }

  /** Puts the persisted pieces in the cache, the first time; they are checked by the refresh that reads them. */
  private async restore(): Promise<void> {
    const restoring = this.restoring;
    if (!restoring) return;
    const restored = await restoring;
    if (this.restoring !== restoring) return; // discarded or closed meanwhile
    this.restoring = undefined;
    if (!restored) return;
    for (const { a, b, source, samples } of restored.pieces) this.cache.put(a, b, source, samples);
    this.lastEvaluationSeen = restored.lastEvaluationMs;
    this.unchecked = restoredCheck(restored.pieces);
    // Nothing to check them by (no cost piece): not trusted.
    if (!this.unchecked) this.forget();
  }

  /** Writes the cache's pieces, after the writes before. */
  private save(): void {
    const persist = this.persist;
    const lastEvaluation = this.lastEvaluationSeen;
    if (!persist || lastEvaluation === null) return;
    this.unsaved = false;
    this.saving = this.saving
      .then(async () => writePieceFile(persist.path, await encodePieces(this.cache, persist.identity, lastEvaluation)))
      .catch((error: unknown) => {
        this.unsaved = true;
        persist.onError?.(`The cached figures could not be written to ${persist.path}.`, error);
      });
  }

  /** The range queries of one grid's closed slots, kept in the cache (a slot without a point is 0). */
  private async fetchSlots(query: SlotQuery, options: FetchOptions): Promise<void> {
    const series = (
      await Promise.all(
        query.batches.map((batch) =>
          this.prom.range(
            combined(batch),
            { start: query.firstEnd / 1000, end: query.lastEnd / 1000, step: query.slotMs / 1000 },
            options,
          ),
        ),
      )
    ).flat();
    for (const { source, a, b, samples } of closedSlots(query, series)) this.cache.put(a, b, source, samples);
  }

  /** Drops what the reader holds of the past: the backend may have lost it (a restart, its data deleted). */
  private forget(): void {
    this.cache.clear();
    this.memo.clear();
    this.unchecked = undefined;
  }

  /** When the stack's rule group last evaluated, from Prometheus; rejects when no group runs the rules. */
  private async rulesLastEvaluation(options: FetchOptions): Promise<number | null> {
    const groups = await this.prom.ruleGroups(options);
    const group = groups.find((g) => g.rules.includes(COUNTERS.cost.rule));
    if (!group) throw rulesMissing(this.prom.http.urlFor('api/v1/rules'));
    return group.lastEvaluationMs;
  }

  private async fetchEvents(
    loki: LokiClient,
    startMs: number,
    endMs: number,
    options: FetchOptions,
  ): Promise<EventsSection> {
    const params = { startMs, endMs, limit: this.eventLimit, direction: 'backward' as const };
    const [failures, apiErrors, problems] = await Promise.all([
      loki.queryLogs(lokiLogs.toolFailures(), params, options),
      loki.queryLogs(lokiLogs.apiErrors(), params, options),
      loki.queryLogs(lokiLogs.problems(), params, options),
    ]);
    return {
      toolFailures: failures.map(toToolFailure),
      apiErrors: apiErrors.map(toApiError),
      problems: problems.map(toProblem),
    };
  }
}

/** The error of a Prometheus that does not run the stack's recording rules (a team store they were not loaded into). */
function rulesMissing(url: URL): TelemetryError {
  const shown = `${url.origin}${url.pathname}`;
  return new TelemetryError({
    kind: 'rules',
    backend: 'Prometheus',
    url: shown,
    message:
      `Prometheus at ${url.origin} does not run the recording rules the extension reads (no rule group has ` +
      `${COUNTERS.cost.rule}). Load ${RULES_FILE} from the extension's repository into it (rule_files, or your ` +
      'ruler), then refresh.',
  });
}
