// Fetches everything the status bar and the sidebar show into plain serialisable objects. Plain Node: never import
// `vscode`.
//
// One refresh reads: when the rules last evaluated (/api/v1/rules) and, alongside, the sessions whose cost changed
// lately; then side by side range queries for the closed slots not held yet (none in the steady state; PieceCache)
// and one instant query for every other piece not held plus the fresh part. A counter's one query serves all its
// figures, each derived from its pieces.
import { TelemetryError, toErrorInfo } from './http';
import { LogEntry, LokiClient } from './loki';
import { PrometheusClient, type InstantSample } from './prometheus';
import { COUNTERS, RULES_FILE, RULE_INTERVAL_MS } from './counters';
import {
  ANY_CLAUDE_METRIC_MATCH, FIGURE_LABEL, FIGURE_NAMES, PART_LABEL, TODAY_FIGURES, planLimitTerms, planTerms, type FigureName, type QueryTerm,
  combined, deriveFigure, figureFresh, sessionsChanged, figureOf, figureSlots, figureWindow, isFresh, lokiLogs, sessionFigures, sourceOf, type Figure,
} from './queries';
import { PieceCache, addUp, cutWindow, windowPieces, type Sample } from './slots';
import {
  COST_DIMENSIONS, RANGE_SECONDS, SUBAGENT_TOOLS, type ApiErrorEvent, type ApiErrorStat, type SeenSpan, type SubagentSection, type TodayCost, type ToolErrorStat, type PlanLimitStat, type PlanSection, type PlanUsage, type PlanWindowUsage, type CostBreakdown, type CostDimension, type ChartSeries, type EventsSection, type MetricsSection, type ModelCost, type SessionRow,
  type SessionDetail, type SessionEvent, type Snapshot, type TimeRange, type TodaySummary, type TokenTotals, type ToolFailureEvent,
  type ToolStat,
} from '../snapshot';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Per range: the slot the cache keeps, which is also the chart's bucket and the grid the window starts on (a range
 * query costs Prometheus a step per series it selects, so slots as long as the buckets).
 */
export const RANGE_SLOT_MS: Record<TimeRange, number> = { '1h': MINUTE_MS, '24h': HOUR_MS, '7d': 6 * HOUR_MS, '30d': DAY_MS };

/** Where a grid's slots end past each multiple of the slot: days end at local midnight, shorter slots on the hour. */
export function gridPhaseMs(slotMs: number, nowMs: number): number {
  if (slotMs < DAY_MS) return 0;
  const midnight = new Date(nowMs);
  midnight.setHours(0, 0, 0, 0);
  return ((midnight.getTime() % slotMs) + slotMs) % slotMs;
}
/**
 * Where a range's window starts: on its slot grid (as Grafana's `now-30d/d` does on the day), so that a window is
 * whole closed slots plus the open one. Any other start adds a piece at the window's far end, and reading one there
 * costs as much as the series of the blocks it falls in (measured: 2.6 s on the bench's 30 d).
 */
export function rangeStartMs(range: TimeRange, nowMs: number): number {
  const slotMs = RANGE_SLOT_MS[range];
  const phase = gridPhaseMs(slotMs, nowMs);
  return Math.floor((nowMs - RANGE_SECONDS[range] * 1000 - phase) / slotMs) * slotMs + phase;
}

/**
 * How far back the sessions that changed are looked for: well past the rules' interval, so that every session with
 * something the rules have not counted yet is among them while the rules run on time.
 */
const CHANGED_WINDOW_S = 90;
/** The open slot of a coarser grid (6 h, a day) is cut in hours, so that only the last hour of it stays open. */
const FINE_SLOT_MS = HOUR_MS;
/** The status bar's windows (today, the last hour) are cut in hours. */
const TODAY_SLOT_MS = HOUR_MS;
/** How long a closed piece stays useful: the longest window, and a slot (today's window is at most 25 h). */
const CACHE_SPAN_MS = RANGE_SECONDS['30d'] * 1000 + 2 * RANGE_SLOT_MS['30d'];
/** The closed slots of a first load go to Prometheus in this many range queries at once (its cores work side by side). */
const SLOT_BATCHES = 4;

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
}

export interface FetchOptions {
  signal?: AbortSignal;
  /** `refreshBasis` at the same `nowMs` with every window the call needs: one read for the status bar and the sidebar. */
  basis?: RefreshBasis;
}

/**
 * The windows one refresh shows: today since `dayStartMs` (status bar; with `project`, that workspace's part too)
 * and/or a sidebar `range` with its cost grouped by `groupBy` (default model).
 */
export interface RefreshWindows {
  dayStartMs?: number;
  project?: string;
  /** The plan's month: its cost at API prices against `priceUsd` (local midnight of the 1st). */
  month?: { startMs: number; priceUsd: number };
  range?: TimeRange;
  groupBy?: CostDimension;
}

/** How often the plan's limit history is read again (a subquery over the range, to the minute). */
const PLAN_LIMIT_EVERY_MS = 60_000;
const PLAN_LIMIT_PARTS = ['minutes', 'last'] as const;

const PROJECT_FIGURE: FigureName = `costBy:${COST_DIMENSIONS.project.label}`;

/** What one refresh read: pass it to fetchToday and fetchSnapshot (see FetchOptions.basis). */
export interface RefreshBasis {
  readonly read: Promise<Readings>;
}

/** A window of a refresh: (fromMs, now] on a grid of slotMs, with the figures it shows. */
interface PlannedWindow {
  fromMs: number;
  slotMs: number;
  phaseMs: number;
  figures: readonly FigureName[];
  /** The window's start moves with now (the last hour): its head is read each time, never kept. */
  moving?: boolean;
}

/** The sources of a refresh's figures: one query per counter (queries.ts, sourceOf), and which one serves each figure. */
interface Sources {
  byName: ReadonlyMap<string, Figure>;
  ofFigure: ReadonlyMap<FigureName, string>;
}

function planSources(planned: readonly PlannedWindow[]): Sources {
  const figures = [...new Set(planned.flatMap((w) => w.figures))];
  const byName = new Map<string, Figure>();
  const ofFigure = new Map<FigureName, string>();
  for (const counter of new Set(figures.map((f) => figureOf(f).counter))) {
    const mine = figures.filter((f) => figureOf(f).counter === counter);
    const source = sourceOf(mine.map(figureOf));
    const name = `${counter}(${source.by.join(',')})`;
    byName.set(name, source);
    for (const f of mine) ofFigure.set(f, name);
  }
  return { byName, ofFigure };
}

/** What a refresh read, answering any planned window's figure as pieces or a total. */
export class Readings {
  constructor(
    readonly nowMs: number,
    private readonly closedUntilMs: number,
    private readonly cache: PieceCache,
    private readonly open: ReadonlyMap<string, Sample[]>,
    private readonly fresh: ReadonlyMap<string, Sample[]>,
    private readonly planned: readonly PlannedWindow[],
    private readonly sources: Sources,
    /** Figures derived from a source's samples, by the samples' list: closed pieces keep theirs across refreshes. */
    private readonly derived: WeakMap<Sample[], Map<FigureName, Sample[]>>,
    /** Sums of closed pieces, by figure, window and closed extent: kept by the reader across refreshes. */
    private readonly totals: Map<string, Sample[]>,
    /** The label names of the range's cost points (null: no range in this refresh). */
    readonly costLabels: readonly string[] | null,
    readonly windows: RefreshWindows,
  ) {}

  /** What one term of the refresh's instant query answered that is not a figure's piece (`figure|part`). */
  term(figure: string, part: string): readonly Sample[] {
    return this.open.get(`${figure}|${part}`) ?? [];
  }

  /** The figure over (fromMs, now], piece by piece: [end of the piece (unix ms), its samples]. */
  pieces(figure: FigureName, fromMs: number, slotMs: number): Array<[number, Sample[]]> {
    const window = this.planned.find((w) => w.fromMs === fromMs && w.slotMs === slotMs && w.figures.includes(figure));
    if (!window) throw new Error(`${figure} over (${fromMs}, ${this.nowMs}] was not part of this refresh`);
    const source = this.sources.ofFigure.get(figure)!;
    const out: Array<[number, Sample[]]> = [];
    for (const [a, b] of windowPieces(fromMs, this.nowMs, slotMs, window.phaseMs, FINE_SLOT_MS)) {
      const closed = b <= this.closedUntilMs ? this.cache.get(a, b, source) : undefined;
      out.push([b, this.derive(figure, closed ?? this.open.get(pieceKey(source, a, b)) ?? [])]);
    }
    // What came in since the rules' last evaluation, for a figure kept current to the last scrape.
    out.push([this.nowMs, this.derive(figure, this.fresh.get(source) ?? [])]);
    return out.sort((x, y) => x[0] - y[0]);
  }

  private derive(figure: FigureName, samples: Sample[]): Sample[] {
    let byFigure = this.derived.get(samples);
    if (!byFigure) this.derived.set(samples, (byFigure = new Map()));
    let out = byFigure.get(figure);
    if (!out) byFigure.set(figure, (out = deriveFigure(figureOf(figure), samples)));
    return out;
  }

  /**
   * The figure's total over (fromMs, now]. The sum of its closed pieces is kept across refreshes (a 30 d sessions
   * list adds up thousands of samples): a refresh adds only what is open to it.
   */
  total(figure: FigureName, fromMs: number, slotMs: number): Sample[] {
    const parts = this.parts(figure, fromMs, slotMs);
    return parts.length > 1 ? addUp(parts) : parts[0]!;
  }

  /**
   * The figure's total as parts to add up: the kept sum of its closed pieces, then each open piece with samples. For a
   * caller that adds them up itself (the sessions list, thousands of rows): no merged copy per refresh.
   */
  parts(figure: FigureName, fromMs: number, slotMs: number): Sample[][] {
    const pieces = this.pieces(figure, fromMs, slotMs);
    const closed = pieces.filter(([b]) => b <= this.closedUntilMs);
    const key = `${figure}|${fromMs}|${slotMs}|${closed.length}|${closed.at(-1)?.[0] ?? 0}`;
    let closedSum = this.totals.get(key);
    if (!closedSum) {
      closedSum = addUp(closed.map(([, s]) => s));
      this.totals.set(key, closedSum);
      // Bounded: a refresh needs a few dozen; older keys are of windows that have moved on.
      if (this.totals.size > 500) this.totals.delete(this.totals.keys().next().value!);
    }
    return [closedSum, ...pieces.filter(([b, samples]) => b > this.closedUntilMs && samples.length > 0).map(([, samples]) => samples)];
  }
}

function pieceKey(figure: string, a: number, b: number): string {
  return `${figure}|${a}-${b}`;
}

export class TelemetryReader {
  private readonly prom: PrometheusClient;
  private readonly loki: LokiClient | null;
  private readonly sessionLimit: number;
  private readonly eventLimit: number;
  private readonly rulesEvaluatedAt: (nowMs: number, options: FetchOptions) => Promise<number | null>;
  /** Closed pieces of every counter query, across refreshes: one reader per backend, so one cache per backend. */
  readonly cache = new PieceCache();
  private readonly derived = new WeakMap<Sample[], Map<FigureName, Sample[]>>();
  private readonly totals = new Map<string, Sample[]>();
  private lastEvaluationSeen: number | null = null;
  /** The plan's limit history of the range, as last read (see PLAN_LIMIT_EVERY_MS). */
  private limitHistory: { range: TimeRange; atMs: number; samples: Sample[][] } | undefined;

  constructor(options: ServiceOptions) {
    this.prom = options.prometheus;
    this.loki = options.loki ?? null;
    this.sessionLimit = options.sessionLimit ?? 50;
    this.eventLimit = options.eventLimit ?? 50;
    this.rulesEvaluatedAt = options.rulesEvaluatedAt ?? ((_now, o) => this.rulesLastEvaluation(o));
  }

  /**
   * Everything the sidebar shows for `range` ending at `nowMs`. Never rejects for backend failures: each source's
   * failure lands in `errors` with that section null. Rejects only when `signal` aborts.
   */
  async fetchSnapshot(range: TimeRange, nowMs: number, options: FetchOptions & { groupBy?: CostDimension } = {}): Promise<Snapshot> {
    const startMs = rangeStartMs(range, nowMs);
    const basis = options.basis ?? this.refreshBasis(nowMs, { range, ...(options.groupBy ? { groupBy: options.groupBy } : {}) }, options);
    const [metrics, events] = await Promise.allSettled([
      basis.read.then((r) => this.metrics(r, range, startMs)),
      this.loki ? this.fetchEvents(this.loki, startMs, nowMs, options) : Promise.resolve(null),
    ]);
    options.signal?.throwIfAborted();
    const snapshot: Snapshot = {
      range, startMs, endMs: nowMs, stepSeconds: RANGE_SLOT_MS[range] / 1000, fetchedAt: nowMs,
      metrics: metrics.status === 'fulfilled' ? metrics.value : null,
      events: events.status === 'fulfilled' ? events.value : null,
      errors: {},
      hasData: false,
    };
    if (metrics.status === 'rejected') snapshot.errors.prometheus = toErrorInfo(metrics.reason, 'Prometheus');
    if (events.status === 'rejected') snapshot.errors.loki = toErrorInfo(events.reason, 'Loki');
    const m = snapshot.metrics;
    snapshot.hasData = !!m && (m.kpis.costUsd > 0 || m.kpis.tokens.total > 0 || m.kpis.sessions > 0 || m.sessions.length > 0);
    if (m) {
      const r = await basis.read;
      if (r.windows.dayStartMs !== undefined) snapshot.today = todayCost(r, r.windows.dayStartMs);
      snapshot.plan = planSection(r);
    }
    return snapshot;
  }

  /** Today's numbers for the status bar. `dayStartMs` is local midnight, computed by the caller. Rejects with a `TelemetryError`. */
  async fetchToday(nowMs: number, dayStartMs: number, options: FetchOptions = {}): Promise<TodaySummary> {
    const r = await (options.basis ?? this.refreshBasis(nowMs, { dayStartMs }, options)).read;
    const byModel = modelCosts(r.total('costByModel', dayStartMs, TODAY_SLOT_MS));
    const today = todayCost(r, dayStartMs);
    const tokens = tokenTotals(r.total('tokensByType', dayStartMs, TODAY_SLOT_MS));
    const burnRatePerHour = sum(r.total('costByModel', nowMs - HOUR_MS, TODAY_SLOT_MS).map((s) => s.value));
    const hoursLeft = Math.max(0, (dayStartMs + 86_400_000 - nowMs) / HOUR_MS);
    const plan = planUsage(r);
    return {
      ...(plan ? { plan } : {}),
      ...today, dayStartMs, fetchedAt: nowMs, byModel, tokens,
      cacheHitRate: cacheHitRate(tokens),
      burnRatePerHour,
      projectedDayUsd: today.costUsd + burnRatePerHour * hoursLeft,
      hasData: today.costUsd > 0 || tokens.total > 0,
    };
  }

  /**
   * Reads what every window of one refresh at `nowMs` needs (see the file's header). Pass the result to fetchToday
   * and fetchSnapshot.
   */
  refreshBasis(nowMs: number, windows: RefreshWindows, options: FetchOptions = {}): RefreshBasis {
    const planned: PlannedWindow[] = [];
    if (windows.dayStartMs !== undefined) {
      planned.push({ fromMs: windows.dayStartMs, slotMs: TODAY_SLOT_MS, phaseMs: 0, figures: [...TODAY_FIGURES, ...(windows.project === undefined ? [] : [PROJECT_FIGURE])] });
      planned.push({ fromMs: nowMs - HOUR_MS, slotMs: TODAY_SLOT_MS, phaseMs: 0, figures: ['costByModel'], moving: true });
    }
    if (windows.month) {
      planned.push({ fromMs: windows.month.startMs, slotMs: DAY_MS, phaseMs: gridPhaseMs(DAY_MS, nowMs), figures: ['costByModel'] });
    }
    if (windows.range) {
      const label = COST_DIMENSIONS[windows.groupBy ?? 'model'].label;
      const slotMs = RANGE_SLOT_MS[windows.range];
      planned.push({
        fromMs: rangeStartMs(windows.range, nowMs), slotMs, phaseMs: gridPhaseMs(slotMs, nowMs),
        figures: [...FIGURE_NAMES, `costBy:${label}`, `tokensBy:${label}`],
      });
    }
    const read = this.read(nowMs, planned, windows, options);
    read.catch(() => undefined); // awaited by the fetches; not unhandled if one of them fails first
    return { read };
  }

  /**
   * One session over `range`, for its panel: its totals and cost over time from its own rule series (read directly, not
   * cached: one combined instant query and one range query), and its events from Loki. Never rejects for backend
   * failures (see fetchSnapshot).
   */
  async fetchSession(sessionId: string, range: TimeRange, nowMs: number, options: FetchOptions = {}): Promise<SessionDetail> {
    // The window and buckets of the sidebar's list, so that the session's figures here are the ones its row shows.
    const startMs = rangeStartMs(range, nowMs);
    const stepMs = RANGE_SLOT_MS[range];
    const [metrics, events] = await Promise.allSettled([
      this.sessionMetrics(sessionId, startMs, nowMs, stepMs, gridPhaseMs(stepMs, nowMs), options),
      this.loki
        ? this.loki.queryLogs(lokiLogs.sessionEvents(sessionId), { startMs, endMs: nowMs, limit: 500, direction: 'backward' }, options)
          .then((entries) => entries.map(toSessionEvent))
        : Promise.resolve(null),
    ]);
    options.signal?.throwIfAborted();
    const detail: SessionDetail = {
      sessionId, range, startMs, endMs: nowMs, stepSeconds: stepMs / 1000, fetchedAt: nowMs,
      metrics: metrics.status === 'fulfilled' ? metrics.value : null,
      events: events.status === 'fulfilled' ? events.value : null,
      errors: {},
    };
    if (metrics.status === 'rejected') detail.errors.prometheus = toErrorInfo(metrics.reason, 'Prometheus');
    if (events.status === 'rejected') detail.errors.loki = toErrorInfo(events.reason, 'Loki');
    return detail;
  }

  private async sessionMetrics(sessionId: string, startMs: number, nowMs: number, stepMs: number, phaseMs: number, options: FetchOptions): Promise<NonNullable<SessionDetail['metrics']>> {
    const figures = sessionFigures(sessionId);
    // The chart's whole buckets from a range query; a partial one (the open bucket) in the instant query.
    const { slotEnds, edges } = cutWindow(startMs, nowMs, stepMs, phaseMs);
    const terms = [
      ...Object.entries(figures).map(([figure, f]) => ({ figure, part: 'total', expr: figureWindow(f, startMs, nowMs) })),
      ...edges.map(([a, b]) => ({ figure: 'costEdge', part: String(b), expr: figureWindow(figures.costByModel, a, b) })),
    ];
    const t = nowMs / 1000;
    const [samples, buckets] = await Promise.all([
      this.prom.instant(combined(terms), t, options),
      slotEnds.length
        ? this.prom.range(figureSlots(figures.costByModel, stepMs), { start: slotEnds[0]! / 1000, end: slotEnds.at(-1)! / 1000, step: stepMs / 1000 }, options)
        : Promise.resolve([]),
    ]);
    const of = (figure: string): Sample[] => samples
      .filter((s) => s.labels[FIGURE_LABEL] === figure && s.labels[PART_LABEL] === 'total' && s.value !== null)
      .map((s) => ({ labels: s.labels, value: s.value! }));
    const pieces: Array<[number, Sample[]]> = [
      ...buckets.flatMap((series) => series.points.map(([time, value]): [number, Sample[]] => [Math.round(time * 1000), [{ labels: series.labels, value }]])),
      ...samples.filter((s) => s.labels[FIGURE_LABEL] === 'costEdge' && s.value !== null)
        .map((s): [number, Sample[]] => [Number(s.labels[PART_LABEL]), [{ labels: s.labels, value: s.value! }]]),
    ];
    const costByModel = modelCosts(of('costByModel'));
    const active = byLabel(of('activeSecondsByType'), 'type');
    return {
      costUsd: sum(costByModel.map((m) => m.usd)),
      costByModel,
      tokens: tokenTotals(of('tokensByType')),
      costSeries: chartSeries(pieces, stepMs, 'model', phaseMs),
      tools: toolStats(of('toolResultsByTool')),
      apiErrorsByStatus: of('apiErrorsByStatus')
        .map((s) => ({ statusCode: s.labels['status_code'] ?? '', model: s.labels['model'] ?? '', count: roundCount(s.value) }))
        .filter((e) => e.count > 0)
        .sort((a, b) => b.count - a.count || a.statusCode.localeCompare(b.statusCode)),
      activeCliSeconds: active['cli'] ?? 0,
      activeUserSeconds: active['user'] ?? 0,
      projects: Object.keys(byLabel(of('costByProject'), COST_DIMENSIONS.project.label)).sort(),
    };
  }

  /** Whether Prometheus holds any Claude Code metric at all (index lookup, cheap): tells "no data yet" from "idle today". */
  async hasEverReceivedData(options: FetchOptions = {}): Promise<boolean> {
    const names = await this.prom.labelValues('__name__', [ANY_CLAUDE_METRIC_MATCH], options);
    return names.length > 0;
  }

  private async read(nowMs: number, planned: readonly PlannedWindow[], windows: RefreshWindows, options: FetchOptions): Promise<Readings> {
    const t = nowMs / 1000;
    // The sessions that changed lately, alongside: the only ones a fresh part can hold (see CHANGED_WINDOW_S).
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
    if (lastEvaluation === null || (this.lastEvaluationSeen !== null && lastEvaluation < this.lastEvaluationSeen)) this.forget();
    this.lastEvaluationSeen = lastEvaluation;
    const evalMs = lastEvaluation === null ? null : Math.min(lastEvaluation, nowMs);
    // A slot is closed once an evaluation began after it ended: that evaluation's samples are stored (its time is at
    // most one interval before it began), and every later one writes after it.
    const closedUntilMs = evalMs === null ? -Infinity : evalMs - RULE_INTERVAL_MS;

    // Closed whole slots not held: range queries per grid. Every other piece not held (the open ones, and a closed
    // head of a window that does not move, which is then kept): one instant query. Each source is one counter's query.
    const sources = planSources(planned);
    const toFetch = new Map<number, { ends: Set<number>; sources: Set<string> }>();
    const terms = new Map<string, QueryTerm>();
    const toKeep: Array<[string, number, number]> = [];
    for (const w of planned) {
      const mine = new Set(w.figures.map((f) => sources.ofFigure.get(f)!));
      for (const [a, b, gridMs] of windowPieces(w.fromMs, nowMs, w.slotMs, w.phaseMs, FINE_SLOT_MS)) {
        for (const source of mine) {
          const closed = b <= closedUntilMs;
          if (closed && this.cache.get(a, b, source)) continue;
          if (closed && gridMs !== null) {
            const grid = toFetch.get(gridMs) ?? { ends: new Set(), sources: new Set() };
            grid.ends.add(b);
            grid.sources.add(source);
            toFetch.set(gridMs, grid);
            continue;
          }
          terms.set(pieceKey(source, a, b), { figure: source, part: `${a}-${b}`, expr: figureWindow(sources.byName.get(source)!, a, b) });
          if (closed && !(w.moving && a === w.fromMs)) toKeep.push([source, a, b]);
        }
      }
    }
    // The fresh part, for the sessions that changed lately (all live series before the rules' first run, and when
    // the rules last ran longer ago than the changes looked at).
    const changedIds = (await changedPending).map((s) => s.labels['session_id'] ?? '').filter((id) => id !== '');
    const changed = evalMs === null || nowMs - evalMs > (CHANGED_WINDOW_S - 30) * 1000 ? undefined : changedIds;
    // Terms that look far back (the fresh part's 2 d, the limit history's range) go in a query of their own:
    // Prometheus opens one querier over the time span of all of a query's selectors, so beside them every piece
    // would be read through each block of that span.
    const wide: QueryTerm[] = [];
    for (const [name, source] of sources.byName) {
      if (isFresh(source) && (changed === undefined || changed.length > 0)) {
        wide.push({ figure: name, part: 'fresh', expr: figureFresh(source, changed) });
      }
    }

    // The plan's usage and the context windows, for the status bar: in the same instant query.
    const rangeStartS = windows.range ? rangeStartMs(windows.range, nowMs) / 1000 : null;
    // The limit history moves by the minute at most: read again once a minute, or for another range.
    const limitHistory = this.limitHistory;
    const readLimits = rangeStartS !== null && (!limitHistory || limitHistory.range !== windows.range || nowMs - limitHistory.atMs >= PLAN_LIMIT_EVERY_MS);
    if (windows.dayStartMs !== undefined) for (const term of planTerms()) terms.set(`${term.figure}|${term.part}`, term);
    if (readLimits) wide.push(...planLimitTerms(t - rangeStartS));
    const instant = (batch: readonly QueryTerm[]): Promise<InstantSample[]> =>
      batch.length ? this.prom.instant(combined(batch), t, options) : Promise.resolve([]);
    const [narrowSamples, wideSamples, costLabels] = await Promise.all([
      instant([...terms.values()]),
      instant(wide),
      // Which dimensions the range's cost carries: the group-by offers only those.
      rangeStartS === null ? Promise.resolve(null) : this.prom.labelNames([COUNTERS.cost.rule], { start: rangeStartS, end: t }, options),
      ...[...toFetch].map(([slotMs, grid]) => this.fetchSlots(slotMs, [...grid.ends], [...grid.sources].map((n) => [n, sources.byName.get(n)!] as const), options)),
    ]);
    const open = new Map<string, Sample[]>();
    const fresh = new Map<string, Sample[]>();
    for (const s of [...narrowSamples, ...wideSamples]) {
      const { [FIGURE_LABEL]: source, [PART_LABEL]: part, ...labels } = s.labels;
      if (!source || !part || s.value === null) continue;
      const into = part === 'fresh' ? fresh : open;
      const key = part === 'fresh' ? source : `${source}|${part}`;
      let list = into.get(key);
      if (!list) into.set(key, (list = []));
      list.push({ labels, value: s.value });
    }
    if (readLimits) {
      this.limitHistory = { range: windows.range!, atMs: nowMs, samples: PLAN_LIMIT_PARTS.map((part) => open.get(`planLimit|${part}`) ?? []) };
    } else if (rangeStartS !== null && limitHistory) {
      PLAN_LIMIT_PARTS.forEach((part, i) => open.set(`planLimit|${part}`, limitHistory.samples[i]!));
    }
    // The context windows of the sessions active lately: the gauge of a session that ended stays for a day.
    const contexts = open.get('plan|contextWindow');
    if (contexts) open.set('plan|contextWindow', contexts.filter((c) => changedIds.includes(c.labels['session_id'] ?? '')));
    for (const [source, a, b] of toKeep) this.cache.put(a, b, source, open.get(pieceKey(source, a, b)) ?? []);
    this.cache.prune(nowMs - CACHE_SPAN_MS);
    return new Readings(nowMs, closedUntilMs, this.cache, open, fresh, planned, sources, this.derived, this.totals, costLabels, windows);
  }

  /** Range queries for the closed slots `ends` of `sources`, stored in the cache (a slot without a point is 0). */
  private async fetchSlots(slotMs: number, ends: number[], sources: ReadonlyArray<readonly [string, Figure]>, options: FetchOptions): Promise<void> {
    const from = Math.min(...ends);
    const to = Math.max(...ends);
    const batches = Array.from({ length: Math.min(SLOT_BATCHES, sources.length) }, (_, i) => sources.filter((_, j) => j % SLOT_BATCHES === i));
    const series = (await Promise.all(batches.map((batch) => this.prom.range(
      combined(batch.map(([name, source]) => ({ figure: name, expr: figureSlots(source, slotMs) }))),
      { start: from / 1000, end: to / 1000, step: slotMs / 1000 },
      options,
    )))).flat();
    const got = new Map<string, Sample[]>();
    for (const s of series) {
      const { [FIGURE_LABEL]: name, ...labels } = s.labels;
      for (const [time, value] of s.points) {
        const key = `${name}|${Math.round(time * 1000)}`;
        let list = got.get(key);
        if (!list) got.set(key, (list = []));
        list.push({ labels, value });
      }
    }
    for (let end = from; end <= to; end += slotMs) {
      for (const [name] of sources) this.cache.put(end - slotMs, end, name, got.get(`${name}|${end}`) ?? []);
    }
  }

  /** Drops what the reader holds of the past: the backend may have lost it (a restart, its data deleted). */
  private forget(): void {
    this.cache.clear();
    this.totals.clear();
  }

  /** When the stack's rule group last evaluated, from Prometheus; rejects when no group runs the rules. */
  private async rulesLastEvaluation(options: FetchOptions): Promise<number | null> {
    const groups = await this.prom.ruleGroups(options);
    const group = groups.find((g) => g.rules.includes(COUNTERS.cost.rule));
    if (!group) throw rulesMissing(this.prom.http.urlFor('api/v1/rules'));
    return group.lastEvaluationMs;
  }

  private metrics(r: Readings, range: TimeRange, fromMs: number): MetricsSection {
    const slotMs = RANGE_SLOT_MS[range];
    const total = (figure: FigureName): Sample[] => r.total(figure, fromMs, slotMs);
    const costByModel = modelCosts(total('costByModel'));
    const tokens = tokenTotals(total('tokensByType'));
    const tools = toolStats(total('toolResultsByTool'));
    const seen = (figure: FigureName, labels: readonly string[]) => seenRows(r.pieces(figure, fromMs, slotMs), fromMs, labels);
    const apiErrorsByStatus = seen('apiErrorsByStatus', ['status_code', 'model'])
      .map(({ labels, ...row }): ApiErrorStat & SeenSpan => ({ statusCode: labels['status_code'] ?? '', model: labels['model'] ?? '', ...row }));
    const toolErrors = seen('toolFailuresByType', ['tool_name', 'error_type'])
      .map(({ labels, ...row }): ToolErrorStat => ({ tool: labels['tool_name'] ?? '', errorType: labels['error_type'] ?? '', ...row }));
    const toolCalls = sum(tools.map((x) => x.calls));
    const toolFailures = sum(tools.map((x) => x.failures));
    const lines = byLabel(total('linesOfCodeByType'), 'type');
    const active = byLabel(total('activeSecondsByType'), 'type');
    const decisions = byLabel(total('editDecisions'), 'decision');
    const count = (figure: FigureName): number => roundCount(sum(total(figure).map((s) => s.value)));
    const chart = (figure: FigureName, label: string): ChartSeries[] =>
      chartSeries(r.pieces(figure, fromMs, slotMs), slotMs, label, gridPhaseMs(slotMs, r.nowMs));
    return {
      kpis: {
        costUsd: sum(costByModel.map((m) => m.usd)),
        tokens,
        sessions: count('sessions'),
        cacheHitRate: cacheHitRate(tokens),
        toolCalls,
        toolFailures,
        toolErrorRate: toolCalls > 0 ? toolFailures / toolCalls : null,
        apiRequests: count('apiRequestsByModel'),
        apiErrors: sum(apiErrorsByStatus.map((e) => e.count)),
        activeSeconds: (active['cli'] ?? 0) + (active['user'] ?? 0),
        activeCliSeconds: active['cli'] ?? 0,
        activeUserSeconds: active['user'] ?? 0,
        linesAdded: roundCount(lines['added'] ?? 0),
        linesRemoved: roundCount(lines['removed'] ?? 0),
        commits: count('commits'),
        pullRequests: count('pullRequests'),
        editsAccepted: roundCount(decisions['accept'] ?? 0),
        editsRejected: roundCount(decisions['reject'] ?? 0),
      },
      costByModel,
      costBy: costBreakdown(r, fromMs, slotMs),
      costSeries: chart('costByModel', 'model'),
      tokenSeries: chart('tokensByType', 'type'),
      tools,
      toolErrors,
      apiErrorsByStatus,
      subagents: subagentSection(tools, total('costBySubagent'), total('tokensBySubagent')),
      sessions: this.sessions((figure) => r.parts(figure, fromMs, slotMs).flat()),
    };
  }

  /** Every session the window's session figures hold, most expensive first (then most errors), at most sessionLimit. */
  /** `samples`: a figure's samples, a session's value possibly split over several (they are added up here). */
  private sessions(samples: (figure: FigureName) => Sample[]): SessionRow[] {
    type Row = SessionRow & { modelCosts: Map<string, number>; projectCosts: Map<string, number> };
    const rows = new Map<string, Row>();
    const row = (id: string): Row => {
      let r = rows.get(id);
      if (!r) rows.set(id, (r = { sessionId: id, costUsd: 0, tokens: 0, activeSeconds: 0, apiErrors: 0, toolFailures: 0, models: [], projects: [], modelCosts: new Map(), projectCosts: new Map() }));
      return r;
    };
    const each = (figure: FigureName, add: (r: Row, s: Sample) => void): void => {
      for (const s of samples(figure)) if (s.labels['session_id'] && s.value > 0) add(row(s.labels['session_id']), s);
    };
    const addTo = (costs: Map<string, number>, key: string | undefined, usd: number): void => {
      if (key) costs.set(key, (costs.get(key) ?? 0) + usd);
    };
    each('sessionCost', (r, s) => {
      r.costUsd += s.value;
      addTo(r.modelCosts, s.labels['model'], s.value);
      addTo(r.projectCosts, s.labels[COST_DIMENSIONS.project.label], s.value);
    });
    each('sessionStarts', (r, s) => addTo(r.projectCosts, s.labels[COST_DIMENSIONS.project.label], 0));
    each('sessionTokens', (r, s) => { r.tokens += s.value; });
    each('sessionActiveSeconds', (r, s) => { r.activeSeconds += s.value; });
    each('sessionApiErrors', (r, s) => { r.apiErrors += s.value; });
    each('sessionToolFailures', (r, s) => { r.toolFailures += s.value; });
    return [...rows.values()]
      .sort((a, b) => b.costUsd - a.costUsd || b.apiErrors - a.apiErrors || b.toolFailures - a.toolFailures || a.sessionId.localeCompare(b.sessionId))
      .slice(0, this.sessionLimit)
      .map(({ modelCosts, projectCosts, ...r }) => ({
        ...r,
        tokens: roundCount(r.tokens),
        apiErrors: roundCount(r.apiErrors),
        toolFailures: roundCount(r.toolFailures),
        models: mostFirst(modelCosts),
        projects: mostFirst(projectCosts),
      }));
  }

  private async fetchEvents(loki: LokiClient, startMs: number, endMs: number, options: FetchOptions): Promise<EventsSection> {
    const params = { startMs, endMs, limit: this.eventLimit, direction: 'backward' as const };
    const [failures, apiErrors] = await Promise.all([
      loki.queryLogs(lokiLogs.toolFailures(), params, options),
      loki.queryLogs(lokiLogs.apiErrors(), params, options),
    ]);
    return { toolFailures: failures.map(toToolFailure), apiErrors: apiErrors.map(toApiError) };
  }
}

/**
 * The plan's usage windows and the context windows from the refresh's plan terms. A window past its reset time is left
 * out: its usage is unknown until Claude Code's next status line update.
 */
function planUsage(r: Readings): PlanUsage | undefined {
  const byWindow = (part: string): Record<string, number> => byLabel(r.term('plan', part), 'window');
  const [used, resets, pace] = [byWindow('usage'), byWindow('resetsAt'), byWindow('pace')];
  const usage = (window: string): PlanWindowUsage | undefined => {
    const usedPercent = used[window];
    if (usedPercent === undefined) return undefined;
    const resetsAtMs = resets[window] === undefined ? null : resets[window]! * 1000;
    if (resetsAtMs !== null && resetsAtMs <= r.nowMs) return undefined;
    const perSecond = pace[window] ?? 0;
    const limitAtMs = usedPercent < 100 && perSecond > 0 ? r.nowMs + ((100 - usedPercent) / perSecond) * 1000 : null;
    return { usedPercent, resetsAtMs, limitAtMs: limitAtMs !== null && (resetsAtMs === null || limitAtMs < resetsAtMs) ? limitAtMs : null };
  };
  const contextWindows = r.term('plan', 'contextWindow')
    .map((s) => ({ sessionId: s.labels['session_id'] ?? '', model: s.labels['model'] ?? '', usedPercent: s.value }))
    .sort((a, b) => b.usedPercent - a.usedPercent || a.sessionId.localeCompare(b.sessionId));
  const fiveHour = usage('five_hour');
  const sevenDay = usage('seven_day');
  if (!fiveHour && !sevenDay && contextWindows.length === 0) return undefined;
  return { ...(fiveHour ? { fiveHour } : {}), ...(sevenDay ? { sevenDay } : {}), contextWindows };
}

/** The sidebar's plan section: the usage now (when today was read), the range's limit history, the month's cost. */
function planSection(r: Readings): PlanSection {
  const minutes = byLabel(r.term('planLimit', 'minutes'), 'window');
  const last = byLabel(r.term('planLimit', 'last'), 'window');
  const atLimit = Object.keys(minutes)
    .filter((window): window is PlanLimitStat['window'] => (window === 'five_hour' || window === 'seven_day') && minutes[window]! > 0)
    .map((window) => ({ window, minutes: Math.round(minutes[window]!), lastAtMs: (last[window] ?? 0) * 1000 }));
  const usage = r.windows.dayStartMs === undefined ? undefined : planUsage(r);
  const month = r.windows.month;
  return {
    ...(usage ? { usage } : {}),
    atLimit,
    ...(month ? { month: { ...month, costUsd: sum(r.total('costByModel', month.startMs, DAY_MS).map((s) => s.value)) } } : {}),
  };
}

/** Today's cost, and this window's project's when the refresh named it. */
function todayCost(r: Readings, dayStartMs: number): TodayCost {
  const costUsd = sum(r.total('costByModel', dayStartMs, TODAY_SLOT_MS).map((s) => s.value));
  const project = r.windows.project;
  if (project === undefined) return { costUsd };
  const label = COST_DIMENSIONS.project.label;
  return { costUsd, project: { name: project, costUsd: byLabel(r.total(PROJECT_FIGURE, dayStartMs, TODAY_SLOT_MS), label)[project] ?? 0 } };
}

/**
 * A figure's rows over the window with their count and the buckets they were first and last seen in: `pieces` in time
 * order, each (previous end, end], the first from `fromMs`.
 */
function seenRows(pieces: ReadonlyArray<[number, readonly Sample[]]>, fromMs: number, labels: readonly string[]): Array<SeenSpan & { labels: Record<string, string>; count: number }> {
  const rows = new Map<string, SeenSpan & { labels: Record<string, string>; count: number }>();
  let startMs = fromMs;
  for (const [endMs, samples] of pieces) {
    for (const s of samples) {
      if (s.value <= 0) continue;
      const key = labels.map((l) => s.labels[l] ?? '').join('\u0000');
      const row = rows.get(key);
      if (row) {
        row.count += s.value;
        row.lastSeenMs = endMs;
      } else {
        rows.set(key, { labels: s.labels, count: s.value, firstSeenMs: startMs, lastSeenMs: endMs });
      }
    }
    startMs = endMs;
  }
  return [...rows.values()].map((row) => ({ ...row, count: roundCount(row.count) })).filter((row) => row.count > 0).sort((a, b) => b.count - a.count);
}

/** Subagent work: the calls of the tools that start one, and the cost and tokens Claude Code marks as a subagent's. */
function subagentSection(tools: readonly ToolStat[], cost: readonly Sample[], tokens: readonly Sample[]): SubagentSection {
  const starters = tools.filter((t) => SUBAGENT_TOOLS.includes(t.tool));
  const costBy = byLabel(cost, 'agent_name', '');
  const tokensBy = byLabel(tokens, 'agent_name', '');
  return {
    calls: sum(starters.map((t) => t.calls)),
    failures: sum(starters.map((t) => t.failures)),
    costUsd: sum(Object.values(costBy)),
    tokens: roundCount(sum(Object.values(tokensBy))),
    byAgent: [...new Set([...Object.keys(costBy), ...Object.keys(tokensBy)])]
      .map((agent) => ({ agent, costUsd: costBy[agent] ?? 0, tokens: roundCount(tokensBy[agent] ?? 0) }))
      .sort((a, b) => b.costUsd - a.costUsd || b.tokens - a.tokens || a.agent.localeCompare(b.agent)),
  };
}

/** Cost and tokens by the dimension the refresh planned, and the dimensions the range's cost points carry. */
function costBreakdown(r: Readings, fromMs: number, slotMs: number): CostBreakdown {
  const dimension = r.windows.groupBy ?? 'model';
  const label = COST_DIMENSIONS[dimension].label;
  const cost = byLabel(r.total(`costBy:${label}`, fromMs, slotMs), label, '');
  const tokens = byLabel(r.total(`tokensBy:${label}`, fromMs, slotMs), label, '');
  const rows = [...new Set([...Object.keys(cost), ...Object.keys(tokens)])]
    .map((key) => ({ key, costUsd: cost[key] ?? 0, tokens: roundCount(tokens[key] ?? 0) }))
    .filter((row) => row.costUsd > 0 || row.tokens > 0)
    .sort((a, b) => b.costUsd - a.costUsd || b.tokens - a.tokens || a.key.localeCompare(b.key));
  const present = new Set(r.costLabels ?? []);
  const available = (Object.keys(COST_DIMENSIONS) as CostDimension[])
    .filter((d) => d === 'model' || d === dimension || present.has(COST_DIMENSIONS[d].label));
  return { dimension, rows, available };
}

/** The error of a Prometheus that does not run the stack's recording rules (a team store they were not loaded into). */
function rulesMissing(url: URL): TelemetryError {
  const shown = `${url.origin}${url.pathname}`;
  return new TelemetryError({
    kind: 'rules', backend: 'Prometheus', url: shown,
    message: `Prometheus at ${url.origin} does not run the recording rules the extension reads (no rule group has `
      + `${COUNTERS.cost.rule}). Load ${RULES_FILE} from the extension's repository into it (rule_files, or your `
      + 'ruler), then refresh.',
  });
}

export function toToolFailure(e: LogEntry): ToolFailureEvent {
  const a = e.attributes;
  return {
    time: e.timeMs,
    tool: a['tool_name'] ?? '',
    errorType: a['error_type'] ?? a['error'] ?? '',
    sessionId: a['session_id'] ?? '',
    durationMs: numOrNull(a['duration_ms']),
  };
}

export function toApiError(e: LogEntry): ApiErrorEvent {
  const a = e.attributes;
  return {
    time: e.timeMs,
    statusCode: a['status_code'] ?? '',
    model: a['model'] ?? '',
    message: a['error'] ?? '',
    sessionId: a['session_id'] ?? '',
    attempt: numOrNull(a['attempt']),
  };
}

/** A Loki event as one line of a session's timeline. */
export function toSessionEvent(e: LogEntry): SessionEvent {
  const a = e.attributes;
  const name = a['event_name'] ?? e.line;
  const failed = (name === 'tool_result' && a['success'] === 'false') || name === 'api_error';
  const parts: Record<string, Array<string | undefined>> = {
    api_request: [a['model'], a['cost_usd'] === undefined ? undefined : `$${a['cost_usd']}`, a['duration_ms'] === undefined ? undefined : `${a['duration_ms']} ms`],
    api_error: [a['status_code'], a['model'], a['error']],
    tool_result: [a['tool_name'], a['success'] === 'false' ? `failed${a['error_type'] ? `: ${a['error_type']}` : ''}` : 'ok', a['duration_ms'] === undefined ? undefined : `${a['duration_ms']} ms`],
    tool_decision: [a['tool_name'], a['decision'], a['source']],
    user_prompt: [a['prompt_length'] === undefined ? undefined : `${a['prompt_length']} characters`],
  };
  const detail = (parts[name] ?? [a['tool_name'], a['model'], a['status_code']]).filter((x): x is string => !!x).join(' · ');
  return { time: e.timeMs, name, detail, failed };
}

export function cacheHitRate(t: TokenTotals): number | null {
  const denom = t.input + t.cacheRead + t.cacheCreation;
  return denom > 0 ? t.cacheRead / denom : null;
}

export function tokenTotals(samples: readonly Sample[]): TokenTotals {
  const out: TokenTotals = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0, other: 0, total: 0 };
  for (const s of samples) {
    const v = roundCount(s.value);
    const type = s.labels['type'];
    if (type === 'input' || type === 'output' || type === 'cacheRead' || type === 'cacheCreation') out[type] += v;
    else out.other += v;
    out.total += v;
  }
  return out;
}

function modelCosts(samples: readonly Sample[]): ModelCost[] {
  return samples
    .map((s) => ({ model: s.labels['model'] ?? '', usd: s.value }))
    .filter((m) => m.usd > 0)
    .sort((a, b) => b.usd - a.usd || a.model.localeCompare(b.model));
}

function toolStats(samples: readonly Sample[]): ToolStat[] {
  const by = new Map<string, ToolStat>();
  for (const s of samples) {
    const tool = s.labels['tool_name'] ?? '';
    const v = roundCount(s.value);
    const stat = by.get(tool) ?? { tool, calls: 0, failures: 0 };
    stat.calls += v;
    if (s.labels['success'] === 'false') stat.failures += v;
    by.set(tool, stat);
  }
  return [...by.values()].filter((x) => x.calls > 0).sort((a, b) => b.calls - a.calls || a.tool.localeCompare(b.tool));
}

/** Chart series from a figure's pieces: each piece lands in the bucket of `stepMs` that holds its end. */
function chartSeries(pieces: ReadonlyArray<[number, readonly Sample[]]>, stepMs: number, label: string, phaseMs = 0): ChartSeries[] {
  const byKey = new Map<string, Map<number, number>>();
  for (const [end, samples] of pieces) {
    const bucket = Math.ceil((end - phaseMs) / stepMs) * stepMs + phaseMs;
    for (const s of samples) {
      if (!s.value) continue;
      const key = s.labels[label] ?? '';
      const points = byKey.get(key) ?? new Map<number, number>();
      points.set(bucket, (points.get(bucket) ?? 0) + s.value);
      byKey.set(key, points);
    }
  }
  return [...byKey]
    .map(([key, points]) => ({ key, points: [...points].sort((a, b) => a[0] - b[0]) }))
    .sort((a, b) => sum(b.points.map((p) => p[1])) - sum(a.points.map((p) => p[1])) || a.key.localeCompare(b.key));
}

/** Values added up by one label; a sample without it is left out, or counted under `missing` when given. */
function byLabel(samples: readonly Sample[], label: string, missing?: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    const k = s.labels[label] ?? missing;
    if (k === undefined) continue;
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}

/** Counts are integers at the source; float sums can be 2.9999999. */
/** The keys of `costs`, most first. */
function mostFirst(costs: ReadonlyMap<string, number>): string[] {
  return [...costs].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([key]) => key);
}

function roundCount(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - r) < 1e-6 ? r : v;
}

function numOrNull(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
