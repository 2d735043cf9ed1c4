// The query catalog: every PromQL and LogQL the extension runs, named and parameterised by time range.
// Names of metrics, recording rules and Loki labels follow docs/architecture.md. Plain Node: never import `vscode`.
// Its size: the one catalog of every query, with the window and chart planners the rollups need; the data-layer
// issue (one rule per counter, sums over it) replaces the planners.
//
// Rules of this file:
// - Aggregates (cost, tokens, sessions, tool calls, API requests/errors) come from the recording rules, read as
//   `sum_over_time(rule[R])`: each rule sample is the per-session increase over 10 s with a series' first value and
//   counter resets counted, summed over sessions, so a window sum is an exact total. The rules write only non-zero
//   increases, so a window reads one sample per evaluation that saw a change, and no series means 0.
// - Per-session numbers come from the per-session rules (`claude_code_session:<x>:increase10s`, the same increases
//   with session_id kept), read the same way: exact across resets and gaps, at most one evaluation (10 s) behind the
//   raw series. Never `increase()`: it drops a series' first value and extrapolates.
// - Loki: `service_name` is the only stream selector; everything else is structured metadata filtered after the
//   selector. Never `| json`.

/** Recording rules (stack/prometheus/rules/recording.yml). */
export const RULES = {
  cost: 'claude_code:cost_usd:increase10s',
  tokens: 'claude_code:tokens:increase10s',
  sessions: 'claude_code:sessions:increase10s',
  activeSeconds: 'claude_code:active_seconds:increase10s',
  linesOfCode: 'claude_code:lines_of_code:increase10s',
  commits: 'claude_code:commits:increase10s',
  pullRequests: 'claude_code:pull_requests:increase10s',
  toolResults: 'claude_code:tool_results:increase10s',
  apiRequests: 'claude_code:api_requests:increase10s',
  apiErrors: 'claude_code:api_errors:increase10s',
} as const;

/** Hourly rollups of RULES (stack/prometheus/rules/recording.yml): at each hour end, the 10s increases of the hour. */
export const ROLLUP_RULES: { readonly [K in keyof typeof RULES]: string } = {
  cost: 'claude_code:cost_usd:increase1h',
  tokens: 'claude_code:tokens:increase1h',
  sessions: 'claude_code:sessions:increase1h',
  activeSeconds: 'claude_code:active_seconds:increase1h',
  linesOfCode: 'claude_code:lines_of_code:increase1h',
  commits: 'claude_code:commits:increase1h',
  pullRequests: 'claude_code:pull_requests:increase1h',
  toolResults: 'claude_code:tool_results:increase1h',
  apiRequests: 'claude_code:api_requests:increase1h',
  apiErrors: 'claude_code:api_errors:increase1h',
};
/** A sample at each hour end whose evaluation ran: the rollups there hold the hour (end − 1 h, end]. */
export const ROLLUP_MARKER = 'claude_code:rollup:hour_end';
export const ROLLUP_SLOT_MS = 3_600_000;

/** Per-session recording rules: the same increases with `session_id` kept, for the sessions list. */
export const SESSION_RULES = {
  cost: 'claude_code_session:cost_usd:increase10s',
  tokens: 'claude_code_session:tokens:increase10s',
  activeSeconds: 'claude_code_session:active_seconds:increase10s',
  toolResults: 'claude_code_session:tool_results:increase10s',
  apiErrors: 'claude_code_session:api_errors:increase10s',
} as const;

/**
 * Per-session leaderboards (stack/prometheus/rules/recording.yml): every 5 min, the LEADERBOARD_SIZE most expensive
 * sessions of each window in LEADERBOARD_WINDOWS (window seconds -> the `window` label).
 */
export const LEADERBOARD_RULE = 'claude_code_session:cost_usd:leaderboard';
export const LEADERBOARD_SIZE = 100;
export const LEADERBOARD_WINDOWS: Readonly<Record<number, string>> = { 86_400: '24h', 604_800: '7d', 2_592_000: '30d' };
/** How far back the latest leaderboard is looked for: two of its evaluations (5 min apart) and a minute. */
export const LEADERBOARD_LOOKBACK_SECONDS = 660;

/**
 * The rules' helpers: per raw series, the value the last evaluation saw (written when it changes). What a counter
 * gained since that evaluation is the fresh part a window total from the rules does not hold yet.
 */
export const LAST_VALUE_RULES = {
  cost: 'claude_code:cost_usd:last_value',
  tokens: 'claude_code:tokens:last_value',
} as const;
/** The rules' look-back for the last value seen (stack/prometheus/rules/recording.yml). */
const LAST_VALUE_LOOKBACK = '2d';

/** Raw per-session counters, as the collector's Prometheus exporter names them. */
export const METRICS = {
  cost: 'claude_code_cost_usage_USD_total',
  tokens: 'claude_code_token_usage_tokens_total',
  sessions: 'claude_code_session_count_total',
  activeTime: 'claude_code_active_time_seconds_total',
  linesOfCode: 'claude_code_lines_of_code_count_total',
  commits: 'claude_code_commit_count_total',
  pullRequests: 'claude_code_pull_request_count_total',
  toolResults: 'claude_code_tool_results_total',
  apiRequests: 'claude_code_api_requests_total',
  apiErrors: 'claude_code_api_errors_total',
} as const;

/** The Loki stream selector for everything Claude Code logs. */
export const LOKI_SELECTOR = '{service_name="claude-code"}';

/** Which store a catalog query goes to. */
export type QueryStore = 'prometheus' | 'loki';
/** instant: `/api/v1/query` at the window end; range: `/api/v1/query_range` with a step; logs: Loki `query_range`. */
export type QueryKind = 'instant' | 'range' | 'logs';

/** A fully built query, ready to send. */
export interface CatalogQuery {
  name: string;
  backend: QueryStore;
  kind: QueryKind;
  expr: string;
}

/** Duration literal for a window of `seconds` (whole seconds, at least 1). */
export function dur(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  return `${s}s`;
}

/** Escapes a string for a double-quoted PromQL/LogQL string literal. */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** A regex alternation matching exactly these values (RE2 metacharacters escaped), as a quoted literal. */
export function exactAlternation(values: readonly string[]): string {
  const escaped = values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return quote(escaped.length ? escaped.join('|') : '$^');
}

/**
 * How to read a window (start, end] (unix ms): the rollups for the runs of whole hours whose end marker is in the
 * window (`runs`: first and last marker time of each run; every rollup sample between them is counted), the 10s rule
 * for the rest (`gaps`, (a, b] each: the window's edges and any hour whose end evaluation did not run).
 */
export interface WindowPlan {
  runs: Array<[number, number]>;
  gaps: Array<[number, number]>;
}

/** Beyond this many terms a query reads the 10s rule over the whole window instead (one term, slower, same total). */
const MAX_PLAN_TERMS = 48;

/** The plan that reads only the 10s rule: for a short window, or with no markers at hand. */
export function plainPlan(startMs: number, endMs: number): WindowPlan {
  return { runs: [], gaps: endMs > startMs ? [[startMs, endMs]] : [] };
}

/** Plans (startMs, endMs] from the rollup markers' times (unix ms; any order, any span). */
export function planWindow(startMs: number, endMs: number, markers: readonly number[]): WindowPlan {
  const runs: Array<[number, number]> = [];
  const gaps: Array<[number, number]> = [];
  let cursor = startMs;
  let overlaps = false;
  for (const t of [...markers].sort((a, b) => a - b)) {
    const slotStart = t - ROLLUP_SLOT_MS;
    if (t > endMs) break;
    // Only whole hours inside the window; a marker whose hour overlaps one already counted (the group's evaluation
    // phase moved) is left to the 10s rule.
    if (slotStart < cursor) {
      overlaps ||= slotStart >= startMs;
      continue;
    }
    if (slotStart > cursor) gaps.push([cursor, slotStart]);
    const run = runs[runs.length - 1];
    if (run && run[1] === slotStart) run[1] = t;
    else runs.push([t, t]);
    cursor = t;
  }
  if (endMs > cursor) gaps.push([cursor, endMs]);
  // Between runs lie only missed hour ends, which have no rollup sample: one term reads every run at once, unless a
  // skipped overlapping marker's rollup lies between them.
  const merged = !overlaps && runs.length > 1 ? [[runs[0]![0], runs[runs.length - 1]![1]] as [number, number]] : runs;
  return merged.length + gaps.length > MAX_PLAN_TERMS ? plainPlan(startMs, endMs) : { runs: merged, gaps };
}

/** `@` modifier for a unix ms time. */
function at(ms: number): string {
  return `@ ${(ms / 1000).toFixed(3)}`;
}

/** The terms of a plan for one rule, each tagged with a distinct `part` label so that `or` keeps them all. */
function planTerms(rule: keyof typeof RULES, plan: WindowPlan, extraLabel?: (endMs: number) => [string, string]): string[] {
  const tag = (expr: string, part: string, endMs: number): string => {
    const tagged = `label_replace(${expr}, "part", "${part}", "", "")`;
    if (!extraLabel) return tagged;
    const [name, value] = extraLabel(endMs);
    return `label_replace(${tagged}, "${name}", ${quote(value)}, "", "")`;
  };
  return [
    // [from, to]: both ends are markers of the run (Prometheus 3 ranges are left-open: 1 ms more reaches `from`).
    ...plan.runs.map(([from, to], i) => tag(`sum_over_time(${ROLLUP_RULES[rule]}[${to - from + 1}ms] ${at(to)})`, `h${i}`, to)),
    // (a, b]: exactly a left-open range.
    ...plan.gaps.filter(([a, b]) => b > a).map(([a, b], i) => tag(`sum_over_time(${RULES[rule]}[${b - a}ms] ${at(b)})`, `g${i}`, b)),
  ];
}

/** Sum of a recording rule over a planned window, grouped by `by` (empty: one total). Every term is pinned with `@`. */
function ruleWindow(rule: keyof typeof RULES, plan: WindowPlan, by: readonly string[]): string {
  const grouping = by.length ? `sum by (${by.join(', ')})` : 'sum';
  const terms = planTerms(rule, plan);
  return terms.length ? `${grouping} (${terms.join(' or ')})` : `${grouping} (${RULES[rule]} @ 0)`;
}

/** One figure of the merged per-session query: `sum by (by)` of the window totals, tagged `figure="<name>"`. */
function sessionFigure(figure: string, rule: string, matchers: readonly string[], by: readonly string[], seconds: number): string {
  return `label_replace(sum by (${by.join(', ')}) (sum_over_time(${selector(rule, matchers)}[${dur(seconds)}])), "figure", ${quote(figure)}, "", "")`;
}

/** The figures of `promInstant.sessionDetails`, by their `figure` label. */
export const SESSION_FIGURES = {
  costByModel: 'cost_by_model',
  tokens: 'tokens',
  activeSeconds: 'active_seconds',
  apiErrors: 'api_errors',
  toolFailures: 'tool_failures',
} as const;

/** Selector of a raw metric, optionally restricted to some sessions and extra matchers. */
export function selector(metric: string, matchers: readonly string[] = []): string {
  return matchers.length ? `${metric}{${matchers.join(', ')}}` : metric;
}

// ---------------------------------------------------------------------------------------------------------------
// Prometheus: aggregates over a window of `seconds` ending at the evaluation time (instant queries).

export const promInstant = {
  /** Cost in USD by model. The total, the top model and "today" come from this one. */
  costByModel: (plan: WindowPlan): string => ruleWindow('cost', plan, ['model']),
  /** Tokens by type (input | output | cacheRead | cacheCreation). Cache hit rate is computed from this. */
  tokensByType: (plan: WindowPlan): string => ruleWindow('tokens', plan, ['type']),
  /** Sessions started in the window. */
  sessions: (plan: WindowPlan): string => ruleWindow('sessions', plan, []),
  /** Active time in seconds by type (cli | user). */
  activeSecondsByType: (plan: WindowPlan): string => ruleWindow('activeSeconds', plan, ['type']),
  /** Lines of code by type (added | removed). */
  linesOfCodeByType: (plan: WindowPlan): string => ruleWindow('linesOfCode', plan, ['type']),
  commits: (plan: WindowPlan): string => ruleWindow('commits', plan, []),
  pullRequests: (plan: WindowPlan): string => ruleWindow('pullRequests', plan, []),
  /** Tool calls by tool and success ("true" | "false"). */
  toolResultsByTool: (plan: WindowPlan): string => ruleWindow('toolResults', plan, ['tool_name', 'success']),
  /** API requests by model. */
  apiRequestsByModel: (plan: WindowPlan): string => ruleWindow('apiRequests', plan, ['model']),
  /** API errors by status code and model. */
  apiErrorsByStatus: (plan: WindowPlan): string => ruleWindow('apiErrors', plan, ['status_code', 'model']),
  /**
   * The most expensive `limit` sessions of the window, by session_id (exact, from the per-session cost rule); only
   * among `sessionIds` when given (the leaderboard's candidates).
   */
  topSessionsByCost: (seconds: number, limit: number, sessionIds?: readonly string[]): string => {
    const matchers = sessionIds ? [`session_id=~${exactAlternation(sessionIds)}`] : [];
    return `topk(${Math.max(1, Math.floor(limit))}, sum by (session_id) (sum_over_time(${selector(SESSION_RULES.cost, matchers)}[${dur(seconds)}])))`;
  },
  /**
   * Sessions that spent anything since the latest leaderboard could have been evaluated, and a minute before it (its
   * rule may have run while the per-session rule's evaluation was in flight): the candidates besides its own.
   */
  sessionsActive: (): string => `group by (session_id) (count_over_time(${SESSION_RULES.cost}[${dur(LEADERBOARD_LOOKBACK_SECONDS + 60)}]))`,
  /**
   * Everything else the sessions list shows, for the given sessions, in one query: each figure of SESSION_FIGURES
   * tagged with a `figure` label (cost by session and model; tokens, active seconds (cli + user), API errors and
   * failed tool calls by session), joined with `or` (the `figure` label keeps them apart).
   */
  sessionDetails: (seconds: number, sessionIds: readonly string[]): string => {
    const ids = `session_id=~${exactAlternation(sessionIds)}`;
    return [
      sessionFigure(SESSION_FIGURES.costByModel, SESSION_RULES.cost, [ids], ['session_id', 'model'], seconds),
      sessionFigure(SESSION_FIGURES.tokens, SESSION_RULES.tokens, [ids], ['session_id'], seconds),
      sessionFigure(SESSION_FIGURES.activeSeconds, SESSION_RULES.activeSeconds, [ids], ['session_id'], seconds),
      sessionFigure(SESSION_FIGURES.apiErrors, SESSION_RULES.apiErrors, [ids], ['session_id'], seconds),
      sessionFigure(SESSION_FIGURES.toolFailures, SESSION_RULES.toolResults, ['success="false"', ids], ['session_id'], seconds),
    ].join(' or ');
  },
} as const;

/** The interval of the rule group that writes RULES (stack/prometheus/rules/recording.yml). */
export const RULE_INTERVAL_MS = 10_000;

/**
 * The time of the rules' latest evaluation at or before `nowMs`: the rollup markers are evaluation times, and the
 * group evaluates on a fixed phase. null without markers (the stack's rules ran no hour end in the markers' span).
 */
export function lastEvaluation(nowMs: number, markers: readonly number[]): number | null {
  if (markers.length === 0) return null;
  const phase = ((Math.max(...markers) % RULE_INTERVAL_MS) + RULE_INTERVAL_MS) % RULE_INTERVAL_MS;
  return Math.floor((nowMs - phase) / RULE_INTERVAL_MS) * RULE_INTERVAL_MS + phase;
}

/**
 * Sessions whose cost changed in the last minute, or whose cost series appeared in it: the only ones that can have
 * cost or tokens the rules have not counted yet (they evaluate every 10 s). Reads the live cost series only.
 */
export function sessionsChangedRecently(): string {
  return `group by (session_id) (changes(${METRICS.cost}[1m]) > 0 or (${METRICS.cost} unless ${METRICS.cost} offset 1m))`;
}

/**
 * What a counter of `sessionIds` gained since the recording rules last evaluated (up to 10 s ago), by `by`: the
 * rule's own expression at the query time instead of at its evaluation. Added to a rule window total it gives a total
 * that is current to the last scrape, so the status bar need not wait for the next rule evaluation.
 * - With the evaluation time `lastEvalMs`, the value the rule saw is the raw series at that time (`@`). Guarded: when
 *   no series was live then (Prometheus not scraping, the machine asleep), every series would look new, so the part is
 *   left to the next evaluation. Only ever low, never double, for up to one evaluation: a scrape ingested after the
 *   evaluation began counts there.
 * - Without it (no markers yet), the rules' `:last_value` helpers over their 2 d look-back.
 */
function sinceLastEvaluation(metric: string, lastValueRule: string, by: readonly string[], sessionIds: readonly string[], lastEvalMs: number | null): string {
  const grouping = by.length ? ` by (${by.join(', ')})` : '';
  const ids = [`session_id=~${exactAlternation(sessionIds)}`];
  const now = selector(metric, ids);
  if (lastEvalMs === null) {
    return `sum${grouping} ((${now} - last_over_time(${selector(lastValueRule, ids)}[${LAST_VALUE_LOOKBACK}])) >= 0 or ${now})`;
  }
  return `sum${grouping} ((${now} - ${now} ${at(lastEvalMs)}) >= 0 or ${now}) and on () count(${METRICS.cost} ${at(lastEvalMs)})`;
}

export const promFresh = {
  costByModel: (sessionIds: readonly string[], lastEvalMs: number | null): string =>
    sinceLastEvaluation(METRICS.cost, LAST_VALUE_RULES.cost, ['model'], sessionIds, lastEvalMs),
  tokensByType: (sessionIds: readonly string[], lastEvalMs: number | null): string =>
    sinceLastEvaluation(METRICS.tokens, LAST_VALUE_RULES.tokens, ['type'], sessionIds, lastEvalMs),
} as const;

// Prometheus: charts. Each point is the total of the bucket of `stepMs` ending at that point.

/**
 * How to chart the `rangeMs` before `nowMs`: points at `startMs`, `startMs + stepMs`, ... `endMs`. With `rollups`, the
 * bucket edges sit on the hour ends (steps of whole hours), a range query reads the rollups of each bucket and one
 * instant query adds the `gaps` ((a, b] in the bucket ending at `bucketMs`) from the 10s rule.
 */
export interface ChartPlan {
  startMs: number;
  endMs: number;
  stepMs: number;
  rollups: boolean;
  gaps: Array<{ a: number; b: number; bucketMs: number }>;
}

export function planChart(nowMs: number, rangeMs: number, stepMs: number, markers: readonly number[]): ChartPlan {
  const buckets = Math.round(rangeMs / stepMs);
  const aligned = (phase: number): { startMs: number; endMs: number } => {
    const endMs = Math.ceil((nowMs - phase) / stepMs) * stepMs + phase;
    return { endMs, startMs: endMs - (buckets - 1) * stepMs };
  };
  const phase = markers.length ? ((markers[0]! % ROLLUP_SLOT_MS) + ROLLUP_SLOT_MS) % ROLLUP_SLOT_MS : 0;
  // Rollups only when whole hours make a bucket and every marker is on one phase (rollups never overlap).
  const usable = stepMs % ROLLUP_SLOT_MS === 0 && markers.length > 0 && markers.every((t) => (t - phase) % ROLLUP_SLOT_MS === 0);
  if (!usable) return { ...aligned(0), stepMs, rollups: false, gaps: [] };
  const { startMs, endMs } = aligned(phase);
  const plan = planWindow(startMs - stepMs, Math.min(endMs, nowMs), markers);
  if (plan.runs.length === 0 && plan.gaps.length === 1) return { startMs, endMs, stepMs, rollups: false, gaps: [] };
  const gaps: ChartPlan['gaps'] = [];
  for (const [a, b] of plan.gaps) {
    // Split at the bucket edges: each piece belongs to the bucket that ends at or after it.
    for (let lo = a; lo < b;) {
      const bucketMs = startMs + Math.ceil((lo + 1 - startMs) / stepMs) * stepMs;
      const hi = Math.min(b, bucketMs);
      gaps.push({ a: lo, b: hi, bucketMs });
      lo = hi;
    }
  }
  return gaps.length > MAX_PLAN_TERMS ? { ...aligned(0), stepMs, rollups: false, gaps: [] } : { startMs, endMs, stepMs, rollups: true, gaps };
}

/** The range query of a chart: each bucket's total from the rollups (planned) or the 10s rule. */
function chartBuckets(rule: keyof typeof RULES, plan: ChartPlan, by: readonly string[]): string {
  // (t - step, t]: consecutive buckets share no sample.
  return `sum by (${by.join(', ')}) (sum_over_time(${plan.rollups ? ROLLUP_RULES[rule] : RULES[rule]}[${plan.stepMs}ms]))`;
}

/** The instant query adding the planned gaps to their buckets (`bucket` label: the bucket end, unix ms); null if none. */
function chartGaps(rule: keyof typeof RULES, plan: ChartPlan, by: readonly string[]): string | null {
  if (!plan.rollups || plan.gaps.length === 0) return null;
  const bucketOf = new Map(plan.gaps.map((g) => [g.b, g.bucketMs]));
  const terms = planTerms(rule, { runs: [], gaps: plan.gaps.map((g) => [g.a, g.b]) }, (endMs) => ['bucket', String(bucketOf.get(endMs))]);
  return terms.length ? `sum by (${[...by, 'bucket'].join(', ')}) (${terms.join(' or ')})` : null;
}

export const promRange = {
  costByModel: (plan: ChartPlan): string => chartBuckets('cost', plan, ['model']),
  tokensByType: (plan: ChartPlan): string => chartBuckets('tokens', plan, ['type']),
} as const;

export const promChartGaps = {
  costByModel: (plan: ChartPlan): string | null => chartGaps('cost', plan, ['model']),
  tokensByType: (plan: ChartPlan): string | null => chartGaps('tokens', plan, ['type']),
} as const;

/** The rollup markers (raw samples) of the `seconds` before the query time: read them with `samples()`. */
export function rollupMarkers(seconds: number): string {
  return `${ROLLUP_MARKER}[${dur(seconds)}]`;
}

/** The recent evaluations of the leaderboard of `window` (a LEADERBOARD_WINDOWS label): read them with `samples()`. */
export function leaderboardSamples(window: string): string {
  return `${LEADERBOARD_RULE}{window=${quote(window)}}[${dur(LEADERBOARD_LOOKBACK_SECONDS)}]`;
}

/**
 * Series selector for the cheap "has Claude Code ever sent metrics" check (label values of `__name__`). The
 * pipeline doctor's probe (claude_code_doctor_*) is not Claude Code data.
 */
export const ANY_CLAUDE_METRIC_MATCH = '{__name__=~"claude_code_.+",__name__!~"claude_code_doctor_.+"}';

// ---------------------------------------------------------------------------------------------------------------
// Loki: event detail. Log queries go to `query_range` with `direction=backward`, a limit, categorised labels.

export const lokiLogs = {
  /** Failed tool calls: tool_name, error_type, session_id in structured metadata. */
  toolFailures: (): string => `${LOKI_SELECTOR} | event_name="tool_result" | success="false"`,
  /** API errors: status_code, model, error (message), session_id in structured metadata. */
  apiErrors: (): string => `${LOKI_SELECTOR} | event_name="api_error"`,
} as const;

// Loki metric queries: reconciliation and diagnostics (not part of the regular refresh).
export const lokiMetric = {
  /** Exact cost by model from api_request events; the reference the Prometheus totals must agree with. */
  costByModelFromEvents: (seconds: number): string =>
    `sum by (model) (sum_over_time(${LOKI_SELECTOR} | event_name="api_request" | unwrap cost_usd | __error__="" [${dur(seconds)}]))`,
  /** Failed tool calls by tool from events. */
  toolFailuresByTool: (seconds: number): string =>
    `sum by (tool_name) (count_over_time(${LOKI_SELECTOR} | event_name="tool_result" | success="false" [${dur(seconds)}]))`,
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Chart steps.

const NICE_STEPS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

/** A chart step giving at most ~`maxPoints` buckets: 1h → 60 s, 24h → 30 min, 7d → 3 h, 30d → 12 h. */
export function chartStep(rangeSeconds: number, maxPoints = 60): number {
  const min = rangeSeconds / maxPoints;
  return NICE_STEPS.find((s) => s >= min) ?? NICE_STEPS[NICE_STEPS.length - 1]!;
}

/**
 * Every query with representative parameters, for the grammar tests and for documentation. A query the extension
 * runs that is not here is a bug.
 */
export function catalogExamples(): CatalogQuery[] {
  const out: CatalogQuery[] = [];
  const ids = ['631fe02f-77fd-4613-8db1-70ec003c74d0', 'db2d98db-9ac8-44e4-a0a7-7a609ad65899'];
  const nowMs = 1_795_410_300_000;
  // Markers every hour but one missed, on a 3.217 s phase: plans with runs, gaps and per-bucket gaps.
  const markers = Array.from({ length: 800 }, (_, i) => nowMs - 3_200_000 - i * ROLLUP_SLOT_MS).filter((_, i) => i !== 5);
  for (const seconds of [3600, 37_512, 604_800, 2_592_000]) {
    const plan = planWindow(nowMs - seconds * 1000, nowMs, markers);
    const sessionQueries: Record<string, string[]> = {
      topSessionsByCost: [promInstant.topSessionsByCost(seconds, 50), promInstant.topSessionsByCost(seconds, 50, ids)],
      sessionsActive: [promInstant.sessionsActive()],
      sessionDetails: [promInstant.sessionDetails(seconds, ids)],
    };
    for (const [name, fn] of Object.entries(promInstant)) {
      for (const expr of sessionQueries[name] ?? [(fn as (p: WindowPlan) => string)(plan)]) {
        out.push({ name: `promInstant.${name}`, backend: 'prometheus', kind: 'instant', expr });
      }
    }
    const window = LEADERBOARD_WINDOWS[seconds];
    if (window) out.push({ name: 'leaderboardSamples', backend: 'prometheus', kind: 'instant', expr: leaderboardSamples(window) });
    const chart = planChart(nowMs, seconds * 1000, chartStep(seconds) * 1000, markers);
    for (const [name, fn] of Object.entries(promRange)) {
      out.push({ name: `promRange.${name}`, backend: 'prometheus', kind: 'range', expr: fn(chart) });
    }
    for (const [name, fn] of Object.entries(promChartGaps)) {
      const expr = fn(chart);
      if (expr) out.push({ name: `promChartGaps.${name}`, backend: 'prometheus', kind: 'instant', expr });
    }
    out.push({ name: 'rollupMarkers', backend: 'prometheus', kind: 'instant', expr: rollupMarkers(seconds + 3600) });
    for (const [name, fn] of Object.entries(lokiMetric)) {
      out.push({ name: `lokiMetric.${name}`, backend: 'loki', kind: 'instant', expr: fn(seconds) });
    }
  }
  for (const [name, fn] of Object.entries(lokiLogs)) {
    out.push({ name: `lokiLogs.${name}`, backend: 'loki', kind: 'logs', expr: fn() });
  }
  out.push({ name: 'sessionsChangedRecently', backend: 'prometheus', kind: 'instant', expr: sessionsChangedRecently() });
  for (const [name, fn] of Object.entries(promFresh)) {
    out.push({ name: `promFresh.${name}`, backend: 'prometheus', kind: 'instant', expr: fn(ids, lastEvaluation(nowMs, markers)) });
    out.push({ name: `promFresh.${name}`, backend: 'prometheus', kind: 'instant', expr: fn(ids, null) });
  }
  return out;
}
