// Fetches everything the status bar and the sidebar show, in parallel, into plain serialisable objects.
// Plain Node: never import `vscode`.
// Its size: every figure of both views is fetched here, side by side; the data-layer issue (one rule per counter)
// replaces most of it.
import { toErrorInfo } from './http';
import { LogEntry, LokiClient } from './loki';
import { InstantSample, PrometheusClient, RangeSeries } from './prometheus';
import {
  ANY_CLAUDE_METRIC_MATCH, LEADERBOARD_SIZE, LEADERBOARD_WINDOWS, SESSION_FIGURES, chartStep, lastEvaluation,
  leaderboardSamples, lokiLogs, planChart, planWindow, promChartGaps, promFresh, promInstant, promRange, rollupMarkers,
  sessionsChangedRecently,
} from './queries';
import {
  RANGE_SECONDS, type ApiErrorEvent, type ChartSeries, type EventsSection, type MetricsSection, type ModelCost, type SessionRow,
  type Snapshot, type TimeRange, type TodaySummary, type TokenTotals, type ToolFailureEvent, type ToolStat,
} from '../snapshot';

export interface ServiceOptions {
  prometheus: PrometheusClient;
  /** Optional: without Loki, `events` is null and no Loki error is reported. */
  loki?: LokiClient | null;
  /** Rows in the sessions list. Default 50. */
  sessionLimit?: number;
  /** Entries in each event list. Default 50. */
  eventLimit?: number;
}

export interface FetchOptions {
  signal?: AbortSignal;
  /**
   * `refreshBasis` at the same `nowMs`, when the caller runs fetchToday and fetchSnapshot for one refresh: what both
   * need is then read once, not by each.
   */
  basis?: RefreshBasis;
}

/** What cost and tokens gained since the rules last evaluated (promFresh), by model and by type. */
export interface FreshParts {
  costByModel: InstantSample[];
  tokensByType: InstantSample[];
}

/** What the status bar and the sidebar both read at the start of a refresh. */
export interface RefreshBasis {
  /** The rollup markers' times (unix ms) over the longest window asked for, plus an hour. */
  markers: Promise<number[]>;
  fresh: Promise<FreshParts>;
}

/** The windows one refresh shows: today since `dayStartMs` (status bar) and/or a sidebar `range`. */
export interface RefreshWindows {
  dayStartMs?: number;
  range?: TimeRange;
}

export class TelemetryReader {
  private readonly prom: PrometheusClient;
  private readonly loki: LokiClient | null;
  private readonly sessionLimit: number;
  private readonly eventLimit: number;

  constructor(options: ServiceOptions) {
    this.prom = options.prometheus;
    this.loki = options.loki ?? null;
    this.sessionLimit = options.sessionLimit ?? 50;
    this.eventLimit = options.eventLimit ?? 50;
  }

  /**
   * Everything the sidebar shows for `range` ending at `nowMs`. Never rejects for backend failures: each source's
   * failure lands in `errors` with that section null. Rejects only when `signal` aborts.
   */
  async fetchSnapshot(range: TimeRange, nowMs: number, options: FetchOptions = {}): Promise<Snapshot> {
    const seconds = RANGE_SECONDS[range];
    const startMs = nowMs - seconds * 1000;
    const step = chartStep(seconds);
    const [metrics, events] = await Promise.allSettled([
      this.fetchMetrics(seconds, nowMs, step, options.basis ?? this.refreshBasis(nowMs, { range }, options), options),
      this.loki ? this.fetchEvents(this.loki, startMs, nowMs, options) : Promise.resolve(null),
    ]);
    options.signal?.throwIfAborted();
    const snapshot: Snapshot = {
      range, startMs, endMs: nowMs, stepSeconds: step, fetchedAt: nowMs,
      metrics: metrics.status === 'fulfilled' ? metrics.value : null,
      events: events.status === 'fulfilled' ? events.value : null,
      errors: {},
      hasData: false,
    };
    if (metrics.status === 'rejected') snapshot.errors.prometheus = toErrorInfo(metrics.reason, 'Prometheus');
    if (events.status === 'rejected') snapshot.errors.loki = toErrorInfo(events.reason, 'Loki');
    const m = snapshot.metrics;
    snapshot.hasData = !!m && (m.kpis.costUsd > 0 || m.kpis.tokens.total > 0 || m.kpis.sessions > 0 || m.sessions.length > 0);
    return snapshot;
  }

  /** Today's numbers for the status bar. `dayStartMs` is local midnight, computed by the caller. Rejects with a `TelemetryError`. */
  async fetchToday(nowMs: number, dayStartMs: number, options: FetchOptions = {}): Promise<TodaySummary> {
    const seconds = Math.max(1, Math.ceil((nowMs - dayStartMs) / 1000));
    const t = nowMs / 1000;
    const q = (expr: string): Promise<InstantSample[]> => this.prom.instant(expr, t, options);
    const basis = options.basis ?? this.refreshBasis(nowMs, { dayStartMs }, options);
    const markers = await basis.markers;
    const plan = planWindow(nowMs - seconds * 1000, nowMs, markers);
    // Rule windows are current to the rules' last evaluation; the fresh part adds what came in since.
    const [byModelWindow, tokensWindow, lastHourWindow, { costByModel: costFresh, tokensByType: tokensFresh }] = await Promise.all([
      q(promInstant.costByModel(plan)),
      q(promInstant.tokensByType(plan)),
      q(promInstant.costByModel(planWindow(nowMs - 3_600_000, nowMs, markers))),
      basis.fresh,
    ]);
    const byModelRaw = addByLabel(byModelWindow, costFresh, 'model');
    const tokensRaw = addByLabel(tokensWindow, tokensFresh, 'type');
    const lastHourRaw = addByLabel(lastHourWindow, costFresh, 'model');
    const byModel = modelCosts(byModelRaw);
    const costUsd = sum(byModel.map((m) => m.usd));
    const tokens = tokenTotals(tokensRaw);
    const burnRatePerHour = sum(lastHourRaw.map((s) => s.value ?? 0));
    const hoursLeft = Math.max(0, (dayStartMs + 86_400_000 - nowMs) / 3_600_000);
    return {
      dayStartMs, fetchedAt: nowMs, costUsd, byModel,
      tokens,
      cacheHitRate: cacheHitRate(tokens),
      burnRatePerHour,
      projectedDayUsd: costUsd + burnRatePerHour * hoursLeft,
      hasData: costUsd > 0 || tokens.total > 0,
    };
  }

  /**
   * Starts what every window of one refresh at `nowMs` reads (see FetchOptions.basis): the rollup markers and the
   * sessions that changed in the last minute, then the fresh part of those sessions at the evaluation time the markers
   * give. Pass the result to fetchToday and fetchSnapshot.
   */
  refreshBasis(nowMs: number, windows: RefreshWindows, options: FetchOptions = {}): RefreshBasis {
    const todaySeconds = windows.dayStartMs === undefined ? 0 : Math.ceil((nowMs - windows.dayStartMs) / 1000);
    const rangeSeconds = windows.range ? RANGE_SECONDS[windows.range] + chartStep(RANGE_SECONDS[windows.range]) : 0;
    const t = nowMs / 1000;
    const markers = this.prom.samples(rollupMarkers(Math.max(1, todaySeconds, rangeSeconds) + 3600), t, options).then(markerTimes);
    const changed = this.prom.instant(sessionsChangedRecently(), t, options);
    const fresh = Promise.all([markers, changed]).then(async ([m, sessions]): Promise<FreshParts> => {
      const ids = sessions.map((s) => s.labels['session_id'] ?? '').filter((id) => id !== '');
      if (ids.length === 0) return { costByModel: [], tokensByType: [] };
      const lastEvalMs = lastEvaluation(nowMs, m);
      const [costByModel, tokensByType] = await Promise.all([
        this.prom.instant(promFresh.costByModel(ids, lastEvalMs), t, options),
        this.prom.instant(promFresh.tokensByType(ids, lastEvalMs), t, options),
      ]);
      return { costByModel, tokensByType };
    });
    // Awaited by the fetches; not unhandled if one of them fails first.
    fresh.catch(() => undefined);
    return { markers, fresh };
  }

  /** Whether Prometheus holds any Claude Code metric at all (index lookup, cheap): tells "no data yet" from "idle today". */
  async hasEverReceivedData(options: FetchOptions = {}): Promise<boolean> {
    const names = await this.prom.labelValues('__name__', [ANY_CLAUDE_METRIC_MATCH], options);
    return names.length > 0;
  }

  private async fetchMetrics(seconds: number, nowMs: number, step: number, basis: RefreshBasis, options: FetchOptions): Promise<MetricsSection> {
    const t = nowMs / 1000;
    const q = (expr: string): Promise<InstantSample[]> => this.prom.instant(expr, t, options);
    const gaps = (expr: string | null): Promise<InstantSample[]> => (expr ? q(expr) : Promise.resolve([]));
    // The sessions list does not need the rollups: it starts while their markers are fetched.
    const sessionsPending = this.fetchSessions(seconds, t, options);
    sessionsPending.catch(() => undefined); // awaited below; not unhandled if the markers fail first
    const markers = await basis.markers;
    const plan = planWindow(nowMs - seconds * 1000, nowMs, markers);
    // Buckets on fixed edges (the step's multiples, or the rollups' hour ends) so that refreshes reuse them.
    const chart = planChart(nowMs, seconds * 1000, step * 1000, markers);
    const r = (expr: string): Promise<RangeSeries[]> =>
      this.prom.range(expr, { start: chart.startMs / 1000, end: chart.endMs / 1000, step: chart.stepMs / 1000 }, options);

    const [costWindow, tokensWindow, { costByModel: costFresh, tokensByType: tokensFresh }, sessionsRaw, toolsRaw, apiReqRaw,
      apiErrRaw, activeRaw, locRaw, commitsRaw, prsRaw, costSeriesRaw, tokenSeriesRaw, costGaps, tokenGaps, sessions] = await Promise.all([
      q(promInstant.costByModel(plan)),
      q(promInstant.tokensByType(plan)),
      // Cost and tokens current to the last scrape, as in the status bar, so both show the same figure.
      basis.fresh,
      q(promInstant.sessions(plan)),
      q(promInstant.toolResultsByTool(plan)),
      q(promInstant.apiRequestsByModel(plan)),
      q(promInstant.apiErrorsByStatus(plan)),
      q(promInstant.activeSecondsByType(plan)),
      q(promInstant.linesOfCodeByType(plan)),
      q(promInstant.commits(plan)),
      q(promInstant.pullRequests(plan)),
      r(promRange.costByModel(chart)),
      r(promRange.tokensByType(chart)),
      gaps(promChartGaps.costByModel(chart)),
      gaps(promChartGaps.tokensByType(chart)),
      sessionsPending,
    ]);

    const costByModel = modelCosts(addByLabel(costWindow, costFresh, 'model'));
    const tokens = tokenTotals(addByLabel(tokensWindow, tokensFresh, 'type'));
    const tools = toolStats(toolsRaw);
    const apiErrorsByStatus = apiErrRaw
      .map((s) => ({ statusCode: s.labels['status_code'] ?? '', model: s.labels['model'] ?? '', count: roundCount(s.value) }))
      .filter((e) => e.count > 0)
      .sort((a, b) => b.count - a.count || a.statusCode.localeCompare(b.statusCode));
    const toolCalls = sum(tools.map((x) => x.calls));
    const toolFailures = sum(tools.map((x) => x.failures));
    const loc = byLabel(locRaw, 'type');
    return {
      kpis: {
        costUsd: sum(costByModel.map((m) => m.usd)),
        tokens,
        sessions: roundCount(sessionsRaw[0]?.value ?? 0),
        cacheHitRate: cacheHitRate(tokens),
        toolCalls,
        toolFailures,
        toolErrorRate: toolCalls > 0 ? toolFailures / toolCalls : null,
        apiRequests: roundCount(sum(apiReqRaw.map((s) => s.value ?? 0))),
        apiErrors: sum(apiErrorsByStatus.map((e) => e.count)),
        activeSeconds: sum(activeRaw.map((s) => s.value ?? 0)),
        linesAdded: roundCount(loc['added'] ?? 0),
        linesRemoved: roundCount(loc['removed'] ?? 0),
        commits: roundCount(commitsRaw[0]?.value ?? 0),
        pullRequests: roundCount(prsRaw[0]?.value ?? 0),
      },
      costByModel,
      costSeries: chartSeries(costSeriesRaw, costGaps, 'model'),
      tokenSeries: chartSeries(tokenSeriesRaw, tokenGaps, 'type'),
      tools,
      apiErrorsByStatus,
      sessions,
    };
  }

  /** The top sessions by cost (rankSessions), then all their other numbers in one query restricted to those ids. */
  private async fetchSessions(seconds: number, t: number, options: FetchOptions): Promise<SessionRow[]> {
    const q = (expr: string): Promise<InstantSample[]> => this.prom.instant(expr, t, options);
    const top = await this.rankSessions(seconds, t, options);
    if (top.length === 0) return [];
    const ids = top.map((s) => s.id);
    const details = await q(promInstant.sessionDetails(seconds, ids));
    const figure = (name: string): InstantSample[] => details.filter((s) => s.labels['figure'] === name);
    const byModel = figure(SESSION_FIGURES.costByModel);
    const tokens = figure(SESSION_FIGURES.tokens);
    const active = figure(SESSION_FIGURES.activeSeconds);
    const apiErrors = figure(SESSION_FIGURES.apiErrors);
    const toolFailures = figure(SESSION_FIGURES.toolFailures);
    const tokensBy = byLabel(tokens, 'session_id');
    const activeBy = byLabel(active, 'session_id');
    const apiErrBy = byLabel(apiErrors, 'session_id');
    const failBy = byLabel(toolFailures, 'session_id');
    const modelsBy = new Map<string, ModelCost[]>();
    for (const s of byModel) {
      const id = s.labels['session_id'];
      const model = s.labels['model'];
      if (!id || !model || !(s.value && s.value > 0)) continue;
      const list = modelsBy.get(id) ?? [];
      list.push({ model, usd: s.value });
      modelsBy.set(id, list);
    }
    return top.map(({ id, cost }) => ({
      sessionId: id,
      costUsd: cost,
      tokens: roundCount(tokensBy[id] ?? 0),
      activeSeconds: activeBy[id] ?? 0,
      apiErrors: roundCount(apiErrBy[id] ?? 0),
      toolFailures: roundCount(failBy[id] ?? 0),
      models: (modelsBy.get(id) ?? []).sort((a, b) => b.usd - a.usd).map((m) => m.model),
    }));
  }

  /**
   * The most expensive sessions of the window, most expensive first. Where the stack keeps a leaderboard of the
   * window, only its sessions and those active since are ranked (independent of how many sessions the window holds),
   * if that decides the list; otherwise every session of the window is.
   */
  private async rankSessions(seconds: number, t: number, options: FetchOptions): Promise<RankedSession[]> {
    const rank = async (ids?: readonly string[]): Promise<RankedSession[]> =>
      rankedSessions(await this.prom.instant(promInstant.topSessionsByCost(seconds, this.sessionLimit, ids), t, options), this.sessionLimit);
    const window = LEADERBOARD_WINDOWS[seconds];
    if (window) {
      const [boardSeries, active] = await Promise.all([
        this.prom.samples(leaderboardSamples(window), t, options),
        this.prom.instant(promInstant.sessionsActive(), t, options),
      ]);
      const board = latestLeaderboard(boardSeries);
      if (board) {
        const activeIds = active.map((s) => s.labels['session_id'] ?? '').filter((id) => id !== '');
        const top = await rank([...new Set([...board.ids, ...activeIds])]);
        if (leaderboardDecides(board, top, this.sessionLimit)) return top;
      }
    }
    return rank();
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

export function cacheHitRate(t: TokenTotals): number | null {
  const denom = t.input + t.cacheRead + t.cacheCreation;
  return denom > 0 ? t.cacheRead / denom : null;
}

export function tokenTotals(samples: InstantSample[]): TokenTotals {
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

function modelCosts(samples: InstantSample[]): ModelCost[] {
  return samples
    .map((s) => ({ model: s.labels['model'] ?? '', usd: s.value ?? 0 }))
    .filter((m) => m.usd > 0)
    .sort((a, b) => b.usd - a.usd || a.model.localeCompare(b.model));
}

function toolStats(samples: InstantSample[]): ToolStat[] {
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

export interface RankedSession {
  id: string;
  cost: number;
}

function rankedSessions(samples: InstantSample[], limit: number): RankedSession[] {
  return samples
    .filter((s) => s.labels['session_id'])
    .map((s) => ({ id: s.labels['session_id']!, cost: s.value ?? 0 }))
    .sort((a, b) => b.cost - a.cost || a.id.localeCompare(b.id))
    .slice(0, limit);
}

/** The latest evaluation of a leaderboard: its sessions, and its last place's cost when it is full (null: not full). */
export interface Leaderboard {
  ids: string[];
  floor: number | null;
}

/** The latest evaluation in `leaderboardSamples()`; null when there is none (no rules, or none recent). */
export function latestLeaderboard(series: RangeSeries[]): Leaderboard | null {
  const latest = Math.max(...series.flatMap((s) => s.points.map(([time]) => time)));
  if (!Number.isFinite(latest)) return null;
  const entries = series.flatMap((s) => {
    const point = s.points.find(([time]) => time === latest);
    const id = s.labels['session_id'];
    return point && id ? [{ id, cost: point[1] }] : [];
  });
  return { ids: entries.map((e) => e.id), floor: entries.length >= LEADERBOARD_SIZE ? Math.min(...entries.map((e) => e.cost)) : null };
}

/**
 * Whether the top `limit` of the leaderboard's candidates is the top of the window: a session that is not a
 * candidate spent nothing since the leaderboard's evaluation, so it costs at most the leaderboard's last place now.
 * A leaderboard that is not full holds every session of its window.
 */
export function leaderboardDecides(board: Leaderboard, top: readonly RankedSession[], limit: number): boolean {
  return board.floor === null || (top.length >= limit && top[limit - 1]!.cost > board.floor);
}

/** The times (unix ms) of the samples of `rollupMarkers()`. */
export function markerTimes(series: RangeSeries[]): number[] {
  return series.flatMap((s) => s.points.map(([time]) => Math.round(time * 1000)));
}

/** Chart series from the buckets' range query plus the planned gaps (samples labelled with their bucket end, ms). */
function chartSeries(series: RangeSeries[], gaps: InstantSample[], label: string): ChartSeries[] {
  const byKey = new Map<string, Map<number, number>>();
  const add = (key: string, ms: number, v: number): void => {
    const points = byKey.get(key) ?? new Map<number, number>();
    points.set(ms, (points.get(ms) ?? 0) + v);
    byKey.set(key, points);
  };
  for (const s of series) for (const [t, v] of s.points) add(s.labels[label] ?? '', Math.round(t * 1000), v);
  for (const g of gaps) {
    const ms = Number(g.labels['bucket']);
    if (Number.isFinite(ms) && g.value) add(g.labels[label] ?? '', ms, g.value);
  }
  return [...byKey]
    .map(([key, points]) => ({ key, points: [...points].sort((a, b) => a[0] - b[0]) }))
    .sort((a, b) => sum(b.points.map((p) => p[1])) - sum(a.points.map((p) => p[1])) || a.key.localeCompare(b.key));
}

/** Two results grouped by one label, added per label value (a value missing on one side counts as 0). */
function addByLabel(a: InstantSample[], b: InstantSample[], label: string): InstantSample[] {
  const totals = byLabel([...a, ...b], label);
  const time = a[0]?.time ?? b[0]?.time ?? 0;
  return Object.entries(totals).map(([value, total]) => ({ labels: { [label]: value }, time, value: total }));
}

function byLabel(samples: InstantSample[], label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    const k = s.labels[label];
    if (k === undefined) continue;
    out[k] = (out[k] ?? 0) + (s.value ?? 0);
  }
  return out;
}

/** Counts are integers at the source; float sums can be 2.9999999. */
function roundCount(v: number | null): number {
  if (v === null) return 0;
  const r = Math.round(v);
  return Math.abs(v - r) < 1e-6 ? r : v;
}

function numOrNull(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
