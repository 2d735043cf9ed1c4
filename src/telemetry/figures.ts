// Every figure the status bar, the sidebar and a session's panel show, derived from what a refresh read. Pure: no I/O;
// `Readings` answers a figure's pieces and totals over a window of the refresh (refreshPlan.ts planned them, the
// reader read them), and each section is a function of it. Plain Node: never import `vscode`.
//
// Why one file of this size: following a figure from its pieces to what the user sees stays in it (Readings, then the
// section that shows the figure), and the helpers at its end (sums by label, the rounding of counts) serve every
// section. A figure is its row of FIGURES in queries.ts and its lines here.
import { deriveFigure, figureOf, type FigureName, type PlanLimitPart, type PlanPart } from './queries';
import {
  FINE_SLOT_MS,
  HOUR_MS,
  TODAY_PARTS,
  todayPartFigure,
  type Answers,
  type PlannedWindow,
  type RefreshPlan,
  type RefreshWindows,
  type WindowRole,
} from './refreshPlan';
import { addUp, pieceKey, windowPieces, type PieceCache, type Sample } from './slots';
import { IMPORT_LABEL, IMPORT_VALUE } from './counters';
import {
  COST_DIMENSIONS,
  SUBAGENT_TOOLS,
  TEAM_RANKINGS,
  type ApiErrorStat,
  type ChartSeries,
  type CostBreakdown,
  type CostDimension,
  type DimensionRow,
  type MetricsSection,
  type ModelCost,
  type PlanLimitStat,
  type PlanSection,
  type PlanUsage,
  type PlanWindowUsage,
  type SeenSpan,
  type SessionDetail,
  type SessionRow,
  type SubagentSection,
  type TeamRanking,
  type TodayCost,
  type TodaySummary,
  type TokenTotals,
  type ToolErrorStat,
  type ToolStat,
} from '../snapshot';

/** The key of a kept sum of a figure's closed pieces over a window: the figure and the window's role and grid. */
type ClosedSumKey = `${FigureName}|${WindowRole}|${number}`;
/** What a kept sum is of: where the window starts, and how far it is closed. */
type ClosedExtent = `${number}|${number}|${number}`;

/** What the reader keeps across refreshes so that a refresh derives only what is new to it. */
export class FigureMemo {
  /** Figures derived from a source's samples, by the samples' list: closed pieces keep theirs across refreshes. */
  readonly derived = new WeakMap<Sample[], Map<FigureName, Sample[]>>();
  /**
   * Sums of closed pieces, by figure and window, each of its latest closed extent only: a window that moved on never
   * comes back to an older extent, so memory stays flat however long the reader runs.
   */
  readonly closedSums = new Map<ClosedSumKey, { extent: ClosedExtent; sum: Sample[] }>();

  /** The backend may have lost its past: no sum of it holds. */
  clear(): void {
    this.closedSums.clear();
  }
}

/** What a refresh read, answering any planned window's figure as pieces or a total. */
export class Readings {
  readonly nowMs: number;
  readonly windows: RefreshWindows;

  constructor(
    private readonly plan: RefreshPlan,
    private readonly answers: Answers,
    /** The closed pieces: those the plan kept, and those held before. */
    private readonly cache: Pick<PieceCache, 'get'>,
    /** The label names of the range's cost points (null: no range in this refresh). */
    readonly costLabels: readonly string[] | null,
    private readonly memo: FigureMemo = new FigureMemo(),
  ) {
    this.nowMs = plan.nowMs;
    this.windows = plan.windows;
  }

  /** The refresh's window of `role`. */
  window(role: WindowRole): PlannedWindow {
    const window = this.plan.planned.find((w) => w.role === role);
    if (!window) throw new Error(`no ${role} window in this refresh`);
    return window;
  }

  /** A plan term of the refresh's instant query (the plan's gauges, by window or session). */
  planTerm(part: PlanPart): readonly Sample[] {
    return this.answers.plan[part] ?? [];
  }

  /** A term of the plan's limit history over the range. */
  limitTerm(part: PlanLimitPart): readonly Sample[] {
    return this.answers.planLimit[part] ?? [];
  }

  /** The sessions that changed lately. */
  get activeSessions(): readonly string[] {
    return this.plan.activeSessions;
  }

  /** The figure over the window of `role`, piece by piece: [end of the piece (unix ms), its samples]. */
  pieces(figure: FigureName, role: WindowRole): Array<[number, Sample[]]> {
    const window = this.window(role);
    if (!window.figures.includes(figure))
      throw new Error(`${figure} over the ${role} window was not part of this refresh`);
    const source = this.plan.sources.ofFigure.get(figure)!;
    const open = this.answers.pieces.get(source);
    const out: Array<[number, Sample[]]> = [];
    for (const [a, b] of windowPieces(window.fromMs, this.nowMs, window.slotMs, window.phaseMs, FINE_SLOT_MS)) {
      const closed = b <= this.plan.closedUntilMs ? this.cache.get(a, b, source) : undefined;
      out.push([b, this.derive(figure, closed ?? open?.get(pieceKey(a, b)) ?? [])]);
    }
    // What came in since the rules' last evaluation, for a figure kept current to the last scrape.
    out.push([this.nowMs, this.derive(figure, this.answers.fresh.get(source) ?? [])]);
    return out.sort((x, y) => x[0] - y[0]);
  }

  private derive(figure: FigureName, samples: Sample[]): Sample[] {
    let byFigure = this.memo.derived.get(samples);
    if (!byFigure) this.memo.derived.set(samples, (byFigure = new Map()));
    let out = byFigure.get(figure);
    if (!out) byFigure.set(figure, (out = deriveFigure(figureOf(figure), samples)));
    return out;
  }

  /**
   * The figure's total over the window. The sum of its closed pieces is kept across refreshes (a 30 d sessions list
   * adds up thousands of samples): a refresh adds only what is open to it.
   */
  total(figure: FigureName, role: WindowRole): Sample[] {
    const parts = this.parts(figure, role);
    return parts.length > 1 ? addUp(parts) : parts[0]!;
  }

  /**
   * The figure's total as parts to add up: the kept sum of its closed pieces, then each open piece with samples. For a
   * caller that adds them up itself (the sessions list, thousands of rows): no merged copy per refresh.
   */
  parts(figure: FigureName, role: WindowRole): Sample[][] {
    const pieces = this.pieces(figure, role);
    const closedUntilMs = this.plan.closedUntilMs;
    const closed = pieces.filter(([b]) => b <= closedUntilMs);
    const window = this.window(role);
    const key: ClosedSumKey = `${figure}|${role}|${window.slotMs}`;
    const extent: ClosedExtent = `${window.fromMs}|${closed.length}|${closed.at(-1)?.[0] ?? 0}`;
    let kept = this.memo.closedSums.get(key);
    if (kept?.extent !== extent) {
      kept = { extent, sum: addUp(closed.map(([, s]) => s)) };
      this.memo.closedSums.set(key, kept);
    }
    return [
      kept.sum,
      ...pieces.filter(([b, samples]) => b > closedUntilMs && samples.length > 0).map(([, samples]) => samples),
    ];
  }
}

/** The status bar's numbers: today's cost, by model, tokens, the last hour's cost as a burn rate, the plan's usage. */
export function todaySummary(r: Readings): TodaySummary {
  const dayStartMs = r.window('today').fromMs;
  const nowMs = r.nowMs;
  const byModel = modelCosts(r.total('costByModel', 'today'));
  const today = todayCost(r);
  const tokens = tokenTotals(r.total('tokensByType', 'today'));
  const burnRatePerHour = sum(r.total('costByModel', 'lastHour').map((s) => s.value));
  const hoursLeft = Math.max(0, (dayStartMs + 86_400_000 - nowMs) / HOUR_MS);
  const plan = planUsage(r);
  return {
    ...(plan ? { plan } : {}),
    ...today,
    dayStartMs,
    fetchedAt: nowMs,
    byModel,
    tokens,
    cacheHitRate: cacheHitRate(tokens),
    burnRatePerHour,
    projectedDayUsd: today.costUsd + burnRatePerHour * hoursLeft,
    hasData: today.costUsd > 0 || tokens.total > 0,
  };
}

/** Today's cost, and the parts the refresh named (this window's project, this developer). */
export function todayCost(r: Readings): TodayCost {
  const costUsd = sum(r.total('costByModel', 'today').map((s) => s.value));
  const parts = TODAY_PARTS.flatMap((part) => {
    const name = r.windows[part];
    if (name === undefined) return [];
    const byValue = byLabel(r.total(todayPartFigure(part), 'today'), COST_DIMENSIONS[part].label);
    return [[part, { name, costUsd: byValue[name] ?? 0 }]];
  });
  return { costUsd, ...Object.fromEntries(parts) };
}

/**
 * The plan's usage windows and the context windows from the refresh's plan terms. A window past its reset time is left
 * out: its usage is unknown until Claude Code's next status line update. The context windows are those of the sessions
 * active lately: the gauge of a session that ended stays for a day.
 */
export function planUsage(r: Readings): PlanUsage | undefined {
  const byWindow = (part: PlanPart): Record<string, number> => byLabel(r.planTerm(part), 'window');
  const [used, resets, pace] = [byWindow('usage'), byWindow('resetsAt'), byWindow('pace')];
  const usage = (window: string): PlanWindowUsage | undefined => {
    const usedPercent = used[window];
    if (usedPercent === undefined) return undefined;
    const resetsAtMs = resets[window] === undefined ? null : resets[window]! * 1000;
    if (resetsAtMs !== null && resetsAtMs <= r.nowMs) return undefined;
    const perSecond = pace[window] ?? 0;
    const limitAtMs = usedPercent < 100 && perSecond > 0 ? r.nowMs + ((100 - usedPercent) / perSecond) * 1000 : null;
    return {
      usedPercent,
      resetsAtMs,
      limitAtMs: limitAtMs !== null && (resetsAtMs === null || limitAtMs < resetsAtMs) ? limitAtMs : null,
    };
  };
  const active = r.activeSessions;
  const contextWindows = r
    .planTerm('contextWindow')
    .filter((s) => active.includes(s.labels['session_id'] ?? ''))
    .map((s) => ({ sessionId: s.labels['session_id'] ?? '', model: s.labels['model'] ?? '', usedPercent: s.value }))
    .sort((a, b) => b.usedPercent - a.usedPercent || a.sessionId.localeCompare(b.sessionId));
  const fiveHour = usage('five_hour');
  const sevenDay = usage('seven_day');
  if (!fiveHour && !sevenDay && contextWindows.length === 0) return undefined;
  return { ...(fiveHour ? { fiveHour } : {}), ...(sevenDay ? { sevenDay } : {}), contextWindows };
}

/** The sidebar's plan section: the usage now (when today was read), the range's limit history, the month's cost. */
export function planSection(r: Readings): PlanSection {
  const minutes = byLabel(r.limitTerm('minutes'), 'window');
  const last = byLabel(r.limitTerm('last'), 'window');
  const atLimit = Object.keys(minutes)
    .filter(
      (window): window is PlanLimitStat['window'] =>
        (window === 'five_hour' || window === 'seven_day') && minutes[window]! > 0,
    )
    .map((window) => ({ window, minutes: Math.round(minutes[window]!), lastAtMs: (last[window] ?? 0) * 1000 }));
  const usage = r.windows.dayStartMs === undefined ? undefined : planUsage(r);
  const month = r.windows.month;
  return {
    ...(usage ? { usage } : {}),
    atLimit,
    ...(month ? { month: { ...month, costUsd: sum(r.total('costByModel', 'month').map((s) => s.value)) } } : {}),
  };
}

/** The sidebar's figures over its range: the KPIs, the breakdowns, the charts, the errors, the sessions. */
export function metricsSection(r: Readings, sessionLimit: number): MetricsSection {
  const window = r.window('range');
  const total = (figure: FigureName): Sample[] => r.total(figure, 'range');
  const costByModel = modelCosts(total('costByModel'));
  const tokens = tokenTotals(total('tokensByType'));
  const tools = toolStats(total('toolResultsByTool'));
  const seen = (figure: FigureName, labels: readonly string[]) =>
    seenRows(r.pieces(figure, 'range'), window.fromMs, labels);
  const apiErrorsByStatus = seen('apiErrorsByStatus', ['status_code', 'model']).map(
    ({ labels, ...row }): ApiErrorStat & SeenSpan => ({
      statusCode: labels['status_code'] ?? '',
      model: labels['model'] ?? '',
      ...row,
    }),
  );
  const toolErrors = seen('toolFailuresByType', ['tool_name', 'error_type']).map(
    ({ labels, ...row }): ToolErrorStat => ({
      tool: labels['tool_name'] ?? '',
      errorType: labels['error_type'] ?? '',
      ...row,
    }),
  );
  const toolCalls = sum(tools.map((x) => x.calls));
  const toolFailures = sum(tools.map((x) => x.failures));
  const lines = byLabel(total('linesOfCodeByType'), 'type');
  const active = byLabel(total('activeSecondsByType'), 'type');
  const decisions = byLabel(total('editDecisions'), 'decision');
  const count = (figure: FigureName): number => roundCount(sum(total(figure).map((s) => s.value)));
  const chart = (figure: FigureName, label: string): ChartSeries[] =>
    chartSeries(r.pieces(figure, 'range'), window.slotMs, label, window.phaseMs);
  const team = teamRanking(r);
  return {
    ...(team ? { team } : {}),
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
    costBy: costBreakdown(r),
    costSeries: chart('costByModel', 'model'),
    tokenSeries: chart('tokensByType', 'type'),
    tools,
    toolErrors,
    apiErrorsByStatus,
    subagents: subagentSection(tools, total('costBySubagent'), total('tokensBySubagent')),
    sessions: sessionRows((figure) => r.parts(figure, 'range').flat(), sessionLimit),
  };
}

/**
 * Every session the window's session figures hold, most expensive first (then most errors), at most `limit`.
 * `samples`: a figure's samples, a session's value possibly split over several (they are added up here).
 */
export function sessionRows(samples: (figure: FigureName) => readonly Sample[], limit: number): SessionRow[] {
  type Row = SessionRow & {
    modelCosts: Map<string, number>;
    projectCosts: Map<string, number>;
    entrypointCosts: Map<string, number>;
  };
  const rows = new Map<string, Row>();
  const row = (id: string): Row => {
    let r = rows.get(id);
    if (!r)
      rows.set(
        id,
        (r = {
          sessionId: id,
          costUsd: 0,
          tokens: 0,
          activeSeconds: 0,
          apiErrors: 0,
          toolFailures: 0,
          models: [],
          projects: [],
          entrypoints: [],
          importedUsd: 0,
          imported: false,
          modelCosts: new Map(),
          projectCosts: new Map(),
          entrypointCosts: new Map(),
        }),
      );
    return r;
  };
  const each = (figure: FigureName, add: (r: Row, s: Sample) => void): void => {
    for (const s of samples(figure)) if (s.labels['session_id'] && s.value > 0) add(row(s.labels['session_id']), s);
  };
  const addTo = (costs: Map<string, number>, key: string | undefined, usd: number): void => {
    if (key) costs.set(key, (costs.get(key) ?? 0) + usd);
  };
  const imported = (s: Sample): boolean => s.labels[IMPORT_LABEL] === IMPORT_VALUE;
  each('sessionCost', (r, s) => {
    r.costUsd += s.value;
    if (imported(s)) {
      r.imported = true;
      r.importedUsd += s.value;
    }
    addTo(r.modelCosts, s.labels['model'], s.value);
    addTo(r.projectCosts, s.labels[COST_DIMENSIONS.project.label], s.value);
    addTo(r.entrypointCosts, s.labels[COST_DIMENSIONS.entrypoint.label], s.value);
  });
  each('sessionStarts', (r, s) => {
    if (imported(s)) r.imported = true;
    addTo(r.projectCosts, s.labels[COST_DIMENSIONS.project.label], 0);
    addTo(r.entrypointCosts, s.labels[COST_DIMENSIONS.entrypoint.label], 0);
  });
  each('sessionTokens', (r, s) => {
    r.tokens += s.value;
  });
  each('sessionActiveSeconds', (r, s) => {
    r.activeSeconds += s.value;
  });
  each('sessionApiErrors', (r, s) => {
    r.apiErrors += s.value;
  });
  each('sessionToolFailures', (r, s) => {
    r.toolFailures += s.value;
  });
  return [...rows.values()]
    .sort(
      (a, b) =>
        b.costUsd - a.costUsd ||
        b.apiErrors - a.apiErrors ||
        b.toolFailures - a.toolFailures ||
        a.sessionId.localeCompare(b.sessionId),
    )
    .slice(0, limit)
    .map(({ modelCosts, projectCosts, entrypointCosts, ...r }) => ({
      ...r,
      tokens: roundCount(r.tokens),
      apiErrors: roundCount(r.apiErrors),
      toolFailures: roundCount(r.toolFailures),
      models: mostFirst(modelCosts),
      projects: mostFirst(projectCosts),
      entrypoints: mostFirst(entrypointCosts),
    }));
}

/** The figures of one session's panel, by name (queries.ts, sessionFigures). */
export type SessionFigureName =
  'costByModel' | 'costByProject' | 'tokensByType' | 'toolResultsByTool' | 'apiErrorsByStatus' | 'activeSecondsByType';

/**
 * One session's figures over its panel's window: `totals` of each figure over the window, and its cost piece by piece
 * ([end (unix ms), samples]) for the chart of `stepMs` buckets on the grid of `phaseMs`.
 */
export function sessionMetrics(
  totals: (figure: SessionFigureName) => readonly Sample[],
  costPieces: ReadonlyArray<[number, readonly Sample[]]>,
  stepMs: number,
  phaseMs: number,
): NonNullable<SessionDetail['metrics']> {
  const costByModel = modelCosts(totals('costByModel'));
  const active = byLabel(totals('activeSecondsByType'), 'type');
  return {
    costUsd: sum(costByModel.map((m) => m.usd)),
    costByModel,
    tokens: tokenTotals(totals('tokensByType')),
    costSeries: chartSeries(costPieces, stepMs, 'model', phaseMs),
    tools: toolStats(totals('toolResultsByTool')),
    apiErrorsByStatus: totals('apiErrorsByStatus')
      .map((s) => ({
        statusCode: s.labels['status_code'] ?? '',
        model: s.labels['model'] ?? '',
        count: roundCount(s.value),
      }))
      .filter((e) => e.count > 0)
      .sort((a, b) => b.count - a.count || a.statusCode.localeCompare(b.statusCode)),
    activeCliSeconds: active['cli'] ?? 0,
    activeUserSeconds: active['user'] ?? 0,
    projects: Object.keys(byLabel(totals('costByProject'), COST_DIMENSIONS.project.label)).sort(),
  };
}

/**
 * A figure's rows over the window with their count and the buckets they were first and last seen in: `pieces` in time
 * order, each (previous end, end], the first from `fromMs`.
 */
export function seenRows(
  pieces: ReadonlyArray<[number, readonly Sample[]]>,
  fromMs: number,
  labels: readonly string[],
): Array<SeenSpan & { labels: Record<string, string>; count: number }> {
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
  return [...rows.values()]
    .map((row) => ({ ...row, count: roundCount(row.count) }))
    .filter((row) => row.count > 0)
    .sort((a, b) => b.count - a.count);
}

/** Subagent work: the calls of the tools that start one, and the cost and tokens Claude Code marks as a subagent's. */
export function subagentSection(
  tools: readonly ToolStat[],
  cost: readonly Sample[],
  tokens: readonly Sample[],
): SubagentSection {
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

/** Cost and tokens over the range by one dimension (a figure pair the refresh planned), most expensive first. */
function dimensionRows(r: Readings, dimension: CostDimension): DimensionRow[] {
  const label = COST_DIMENSIONS[dimension].label;
  const cost = byLabel(r.total(`costBy:${label}`, 'range'), label, '');
  const tokens = byLabel(r.total(`tokensBy:${label}`, 'range'), label, '');
  return [...new Set([...Object.keys(cost), ...Object.keys(tokens)])]
    .map((key) => ({ key, costUsd: cost[key] ?? 0, tokens: roundCount(tokens[key] ?? 0) }))
    .filter((row) => row.costUsd > 0 || row.tokens > 0)
    .sort((a, b) => b.costUsd - a.costUsd || b.tokens - a.tokens || a.key.localeCompare(b.key));
}

/** In a team's store (the refresh has a developer): the range's cost by developer, project and model. */
function teamRanking(r: Readings): TeamRanking | undefined {
  const you = r.windows.developer;
  if (you === undefined) return undefined;
  return { you, rankings: TEAM_RANKINGS.map((dimension) => ({ dimension, rows: dimensionRows(r, dimension) })) };
}

/** Cost and tokens over the range by the dimension the refresh planned, and the dimensions the range's cost points carry. */
export function costBreakdown(r: Readings): CostBreakdown {
  const dimension = r.windows.groupBy ?? 'model';
  const rows = dimensionRows(r, dimension);
  const present = new Set(r.costLabels ?? []);
  const available = (Object.keys(COST_DIMENSIONS) as CostDimension[]).filter(
    (d) => d === 'model' || d === dimension || present.has(COST_DIMENSIONS[d].label),
  );
  return { dimension, rows, available };
}

/** Of the tokens read as input (fresh, from the cache, written to it), the share read from the cache. */
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

/** Cost by model, most first, without the models that spent nothing. */
export function modelCosts(samples: readonly Sample[]): ModelCost[] {
  return samples
    .map((s) => ({ model: s.labels['model'] ?? '', usd: s.value }))
    .filter((m) => m.usd > 0)
    .sort((a, b) => b.usd - a.usd || a.model.localeCompare(b.model));
}

/** Calls and failures by tool, most calls first. */
export function toolStats(samples: readonly Sample[]): ToolStat[] {
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
export function chartSeries(
  pieces: ReadonlyArray<[number, readonly Sample[]]>,
  stepMs: number,
  label: string,
  phaseMs = 0,
): ChartSeries[] {
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

/** The keys of `costs`, most first. */
function mostFirst(costs: ReadonlyMap<string, number>): string[] {
  return [...costs].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([key]) => key);
}

/** Counts are integers at the source; float sums can be 2.9999999. */
function roundCount(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - r) < 1e-6 ? r : v;
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
