// The query catalog: every PromQL and LogQL the extension runs. Plain Node: never import `vscode`.
//
// Every Prometheus figure is a row of FIGURES: a counter of src/telemetry/counters.ts, the labels to group by and
// optional matchers, read as `sum by (<by>) (sum_over_time(<rule>[window]))` over the counter's one recording rule.
// The rule keeps every label of the raw series, so any label the data carries is a dimension: a new one is a row
// here, never a new rule. Never `increase()`: it drops a series' first value and extrapolates.
// Loki: `service_name` is the only stream selector; everything else is structured metadata filtered after it.
import { COUNTERS, IMPORT_LABEL, LAST_VALUE_LOOKBACK, type CounterId } from './counters';

export interface Figure {
  counter: CounterId;
  by: readonly string[];
  matchers?: readonly string[];
}

/** Every figure the status bar and the sidebar show. */
export const FIGURES = {
  costByModel: { counter: 'cost', by: ['model'] },
  tokensByType: { counter: 'tokens', by: ['type'] },
  sessions: { counter: 'sessions', by: [] },
  activeSecondsByType: { counter: 'activeSeconds', by: ['type'] },
  linesOfCodeByType: { counter: 'linesOfCode', by: ['type'] },
  commits: { counter: 'commits', by: [] },
  pullRequests: { counter: 'pullRequests', by: [] },
  editDecisions: { counter: 'editDecisions', by: ['decision'] },
  toolResultsByTool: { counter: 'toolResults', by: ['tool_name', 'success'] },
  toolFailuresByType: { counter: 'toolResults', by: ['tool_name', 'error_type'], matchers: ['success="false"'] },
  apiRequestsByModel: { counter: 'apiRequests', by: ['model'] },
  apiErrorsByStatus: { counter: 'apiErrors', by: ['status_code', 'model'] },
  costBySubagent: { counter: 'cost', by: ['agent_name'], matchers: ['query_source="subagent"'] },
  tokensBySubagent: { counter: 'tokens', by: ['agent_name'], matchers: ['query_source="subagent"'] },
  sessionCost: {
    counter: 'cost',
    by: ['session_id', 'model', 'vscode_workspace_name', 'app_entrypoint', IMPORT_LABEL],
  },
  // A session's start: its project when it spent nothing (the count connector's error counters carry no project).
  sessionStarts: { counter: 'sessions', by: ['session_id', 'vscode_workspace_name', 'app_entrypoint', IMPORT_LABEL] },
  sessionTokens: { counter: 'tokens', by: ['session_id'] },
  sessionActiveSeconds: { counter: 'activeSeconds', by: ['session_id'] },
  sessionApiErrors: { counter: 'apiErrors', by: ['session_id'] },
  sessionToolFailures: { counter: 'toolResults', by: ['session_id'], matchers: ['success="false"'] },
} as const satisfies Record<string, Figure>;

/** A figure of the table, or cost or tokens by one label (a dimension the user picks: COST_DIMENSIONS). */
export type FigureName = keyof typeof FIGURES | `costBy:${string}` | `tokensBy:${string}`;
export const FIGURE_NAMES = Object.keys(FIGURES) as Array<keyof typeof FIGURES>;
/** What the status bar shows: today's cost and tokens, the last hour's cost. */
export const TODAY_FIGURES: readonly FigureName[] = ['costByModel', 'tokensByType'];

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The figure of a name: a row of FIGURES, or `costBy:<label>` / `tokensBy:<label>`. */
export function figureOf(name: FigureName): Figure {
  if (Object.prototype.hasOwnProperty.call(FIGURES, name)) return FIGURES[name as keyof typeof FIGURES];
  const [kind, label = ''] = name.split(':');
  if (!LABEL_NAME.test(label) || (kind !== 'costBy' && kind !== 'tokensBy')) throw new Error(`no figure ${name}`);
  return { counter: kind === 'costBy' ? 'cost' : 'tokens', by: [label] };
}

/** The figures of one session's panel: its own series of the counters, by what the panel shows. */
export function sessionFigures(sessionId: string) {
  const matchers = [`session_id=${quote(sessionId)}`];
  return {
    costByModel: { counter: 'cost', by: ['model'], matchers },
    costByProject: { counter: 'cost', by: ['vscode_workspace_name'], matchers },
    tokensByType: { counter: 'tokens', by: ['type'], matchers },
    toolResultsByTool: { counter: 'toolResults', by: ['tool_name', 'success'], matchers },
    apiErrorsByStatus: { counter: 'apiErrors', by: ['status_code', 'model'], matchers },
    activeSecondsByType: { counter: 'activeSeconds', by: ['type'], matchers },
  } as const satisfies Record<string, Figure>;
}

/** Cost and token figures are kept current to the last scrape (the rules lag it by up to one evaluation). */
export function isFresh(f: Figure): boolean {
  return f.counter === 'cost' || f.counter === 'tokens';
}

/** A figure's matchers as label/value pairs: the table's are equalities, so a refresh can apply them itself. */
export function equalities(f: Figure): Array<[string, string]> {
  return (f.matchers ?? []).map((m) => {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)="([^"\\]*)"$/.exec(m);
    if (!match) throw new Error(`${m} is not an equality matcher`);
    return [match[1]!, match[2]!];
  });
}

/**
 * The one query of a counter that serves several figures: grouped by every label they group by or match on. Sums
 * are linear, so each figure is that query's samples filtered by its matchers and added up by its labels: a counter's
 * rule is read once per piece, however many figures and dimensions show it.
 */
export function sourceOf(figures: readonly Figure[]): Figure {
  const counter = figures[0]!.counter;
  if (figures.some((f) => f.counter !== counter)) throw new Error('the figures of one source read one counter');
  const labels = new Set<string>();
  for (const f of figures) {
    for (const l of f.by) labels.add(l);
    for (const [l] of equalities(f)) labels.add(l);
  }
  return { counter, by: [...labels].sort() };
}

/** The name a source goes by in a refresh (its query's tag, its key in the piece cache): its counter and labels. */
export type SourceName = `${CounterId}(${string})`;

export function sourceName(source: Figure): SourceName {
  return `${source.counter}(${source.by.join(',')})`;
}

/** A figure's samples from its source's: filtered by its matchers, added up by its labels. */
export function deriveFigure(
  f: Figure,
  source: ReadonlyArray<{ labels: Record<string, string>; value: number }>,
): Array<{ labels: Record<string, string>; value: number }> {
  const match = equalities(f);
  const by = new Map<string, { labels: Record<string, string>; value: number }>();
  for (const s of source) {
    if (!match.every(([l, v]) => s.labels[l] === v)) continue;
    const key = f.by.map((l) => s.labels[l] ?? '\u0001').join('\u0000');
    const had = by.get(key);
    if (had) {
      had.value += s.value;
    } else {
      const labels: Record<string, string> = {};
      for (const l of f.by) if (s.labels[l] !== undefined) labels[l] = s.labels[l]!;
      by.set(key, { labels, value: s.value });
    }
  }
  return [...by.values()];
}

/** The label that tells the figures of one combined query apart, and the one that tells the windows apart. */
export const FIGURE_LABEL = 'cct_figure';
export const PART_LABEL = 'cct_part';

/** Escapes a string for a double-quoted PromQL/LogQL string literal. */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Duration literal for a window of `seconds` (whole seconds, at least 1). */
export function dur(seconds: number): string {
  return `${Math.max(1, Math.round(seconds))}s`;
}

function selector(metric: string, matchers: readonly string[] = []): string {
  return matchers.length ? `${metric}{${matchers.join(', ')}}` : metric;
}

function grouping(by: readonly string[]): string {
  return by.length ? `sum by (${by.join(', ')})` : 'sum';
}

function tag(expr: string, label: string, value: string): string {
  return `label_replace(${expr}, ${quote(label)}, ${quote(value)}, "", "")`;
}

/** `@` modifier for a unix ms time. */
function at(ms: number): string {
  return `@ ${(ms / 1000).toFixed(3)}`;
}

/** A figure's total over (fromMs, toMs]: Prometheus 3 ranges are left-open, so the range is exactly the window. */
export function figureWindow(f: Figure, fromMs: number, toMs: number): string {
  const rule = selector(COUNTERS[f.counter].rule, f.matchers);
  return `${grouping(f.by)} (sum_over_time(${rule}[${Math.max(1, toMs - fromMs)}ms] ${at(toMs)}))`;
}

/** A figure's total per slot of `slotMs` ending at each step of a range query (the slots tile time). */
export function figureSlots(f: Figure, slotMs: number): string {
  return `${grouping(f.by)} (sum_over_time(${selector(COUNTERS[f.counter].rule, f.matchers)}[${slotMs}ms]))`;
}

/**
 * What a figure's counter gained since the rules last saw it, by its labels: the rule's own expression now, against
 * the helper's latest value (what the last evaluation saw, however long ago). It is what the next evaluation will
 * write, so added to a window total from the rule it gives a total current to the last scrape: a new session's
 * first cost shows before the rules have run. Between the helper's and the rule's writes of one evaluation it reads
 * low for a moment, never double.
 */
export function figureFresh(f: Figure, sessionIds?: readonly string[]): string {
  const c = COUNTERS[f.counter];
  // Only the sessions that changed lately can have anything the rules did not see: reading the helpers of those
  // alone is what keeps this cheap (every helper series of two days: ~100 ms on the bench's large history).
  const matchers = [...(f.matchers ?? []), ...(sessionIds ? [`session_id=~${exactAlternation(sessionIds)}`] : [])];
  const now = selector(c.metric, matchers);
  return `${grouping(f.by)} ((${now} - last_over_time(${selector(c.lastValue, matchers)}[${LAST_VALUE_LOOKBACK}])) >= 0 or ${now})`;
}

/**
 * Sessions whose cost changed in the last `seconds`, or whose cost series appeared then (raw series over a short
 * window: cheap). Asked for the time since the rules' last evaluation, they are every session a fresh part can hold.
 */
export function sessionsChanged(seconds: number): string {
  const c = COUNTERS.cost.metric;
  return `group by (session_id) (changes(${c}[${dur(seconds)}]) > 0 or (${c} unless ${c} offset ${dur(seconds)}))`;
}

/**
 * The status line bridge's gauges (src/statusLine): Claude Code's plan usage per window and the context window per
 * session, as the collector's exporter names them. It serves a gauge until metric_expiration (25 h) after its last
 * update, so a plain selector reads the latest value; whether it is still current is the reset time's to say.
 */
export const PLAN_GAUGES = {
  usage: 'claude_code_plan_usage_percent',
  resetsAt: 'claude_code_plan_resets_at_seconds',
  contextWindow: 'claude_code_context_window_usage_percent',
} as const;

/** Minutes of plan usage history the pace (percent per second, linear regression) is taken over. */
export const PLAN_PACE_WINDOW_S = 1800;

/** The tags of the plan's terms in a combined query: the figure, and each term's part. */
export const PLAN_FIGURE = 'plan';
export const PLAN_PARTS = ['usage', 'resetsAt', 'pace', 'contextWindow'] as const;
export type PlanPart = (typeof PLAN_PARTS)[number];
export const PLAN_LIMIT_FIGURE = 'planLimit';
export const PLAN_LIMIT_PARTS = ['minutes', 'last'] as const;
export type PlanLimitPart = (typeof PLAN_LIMIT_PARTS)[number];

export interface PlanTerm extends QueryTerm {
  figure: typeof PLAN_FIGURE;
  part: PlanPart;
}

export interface PlanLimitTerm extends QueryTerm {
  figure: typeof PLAN_LIMIT_FIGURE;
  part: PlanLimitPart;
}

/**
 * The plan terms of the refresh's instant query: usage, reset time and pace by window; the context window by session
 * (figures.ts shows those of the sessions that changed lately: the reader has their list from its own query).
 */
export function planTerms(): PlanTerm[] {
  const g = PLAN_GAUGES;
  const exprs: Record<PlanPart, string> = {
    // Plain selectors (the default 5 m lookback): the exporter serves each gauge at every scrape until it expires,
    // and a long range here would widen the span of the whole instant query the terms go in.
    usage: `max by (window) (${g.usage})`,
    resetsAt: `max by (window) (${g.resetsAt})`,
    pace: `max by (window) (deriv(${g.usage}[${dur(PLAN_PACE_WINDOW_S)}]))`,
    contextWindow: `max by (session_id, model) (${g.contextWindow})`,
  };
  return PLAN_PARTS.map((part) => ({ figure: PLAN_FIGURE, part, expr: exprs[part] }));
}

/** Resolution of the plan's limit history: a minute at the limit is seen to this step. */
export const PLAN_LIMIT_STEP_S = 60;

/** The plan's limit history over the last `seconds`, by window: the minutes at 100 % and the last time (unix s). */
export function planLimitTerms(seconds: number): PlanLimitTerm[] {
  const atLimit = `(max by (window) (${PLAN_GAUGES.usage}) >= 100)`;
  const span = `[${dur(seconds)}:${dur(PLAN_LIMIT_STEP_S)}]`;
  const exprs: Record<PlanLimitPart, string> = {
    minutes: `count_over_time(${atLimit}${span}) * ${PLAN_LIMIT_STEP_S / 60}`,
    last: `max_over_time(timestamp(${atLimit})${span})`,
  };
  return PLAN_LIMIT_PARTS.map((part) => ({ figure: PLAN_LIMIT_FIGURE, part, expr: exprs[part] }));
}

/** A regex alternation matching exactly these values (RE2 metacharacters escaped), as a quoted literal. */
export function exactAlternation(values: readonly string[]): string {
  const escaped = values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return quote(escaped.length ? escaped.join('|') : '$^');
}

/** One term of a combined query: an expression tagged with the figure (and its part) it reads. */
export interface QueryTerm {
  figure: string;
  part: string;
  expr: string;
}

/** One query of many figures' terms, each tagged with its figure (and part, if any) so that `or` keeps them apart. */
export function combined(terms: ReadonlyArray<{ figure: string; part?: string; expr: string }>): string {
  return terms
    .map((t) => {
      const byFigure = tag(t.expr, FIGURE_LABEL, t.figure);
      return t.part === undefined ? byFigure : tag(byFigure, PART_LABEL, t.part);
    })
    .join(' or ');
}

/**
 * Series selector for the cheap "has Claude Code ever sent metrics" check (label values of `__name__`). The
 * pipeline doctor's probe (claude_code_doctor_*) is not Claude Code data.
 */
export const ANY_CLAUDE_METRIC_MATCH = '{__name__=~"claude_code_.+",__name__!~"claude_code_doctor_.+"}';

// ---------------------------------------------------------------------------------------------------------------
// Loki: event detail. Log queries go to `query_range` with `direction=backward`, a limit, categorised labels.

/** The `service.name` of Claude Code's events: the CLI (terminal, VS Code panel, SDK) and the desktop app. */
const CLAUDE_CODE_SERVICES = ['claude-code', 'claude-code-desktop'] as const;
/** Loki's selector of those services' streams; `more`: further stream matchers (a session's stream). */
export const lokiSelector = (more = ''): string =>
  `{service_name=~"${CLAUDE_CODE_SERVICES.join('|')}"${more ? `, ${more}` : ''}}`;
/** The Loki stream selector for everything Claude Code logs. */
export const LOKI_SELECTOR = lokiSelector();

export const lokiLogs = {
  /** The prompts (their user_prompt events) of these prompt ids. */
  userPrompts: (...promptIds: string[]): string =>
    `${LOKI_SELECTOR} | event_name="user_prompt" | prompt_id=~${exactAlternation(promptIds)}`,
  /** Every event of one session, for its prompts. */
  sessionEvents: (sessionId: string): string => `${LOKI_SELECTOR} | session_id=${quote(sessionId)}`,
  /** Failed tool calls: tool_name, error_type, session_id in structured metadata. */
  toolFailures: (): string => `${LOKI_SELECTOR} | event_name="tool_result" | success="false"`,
  /** API errors: status_code, model, error (message), session_id in structured metadata. */
  apiErrors: (): string => `${LOKI_SELECTOR} | event_name="api_error"`,
  /**
   * What went wrong (events.ts, toProblem): the events of PROBLEM_EVENTS, those of PROBLEM_WHEN only when one of its
   * conditions holds. Each event's filter passes the others: its first condition is an inequality on an attribute
   * they lack (Loki reads a missing one as empty), and `or` stops there.
   */
  problems: (): string =>
    `${LOKI_SELECTOR} | event_name=~"${PROBLEM_EVENTS.join('|')}"` +
    Object.values(PROBLEM_WHEN)
      .map((conditions) => {
        const each = conditions.map((c) =>
          'not' in c ? `${c.label}!=${quote(c.not)}` : `${c.label} > ${String(c.above)}`,
        );
        return ` | ${each.length > 1 ? `(${each.join(' or ')})` : each[0]!}`;
      })
      .join(''),
} as const;

/**
 * The cost of each prompt of these sessions over the last `seconds`: its api_request events' cost_usd. Restricted to
 * a few sessions, so that the answer stays within the series a Loki answers at once (max_query_series, 500 by
 * default) whatever the range.
 */
export function promptCostsQuery(sessionIds: readonly string[], seconds: number): string {
  return (
    `sum by (session_id, prompt_id) (sum_over_time(${LOKI_SELECTOR} | event_name="api_request" | ` +
    `session_id=~${exactAlternation(sessionIds)} | unwrap cost_usd [${dur(seconds)}]))`
  );
}

/**
 * Claude Code's events that say something went wrong, as CLI 2.1.328 names them (measured: docs/architecture.md,
 * "Claude Code's events"). A hook run ends in `hook_execution_complete` with its counts; an MCP server's connection
 * in `mcp_server_connection` with its status (connected, disconnected, failed).
 */
export const PROBLEM_EVENTS = [
  'api_retries_exhausted',
  'api_refusal',
  'compaction',
  'hook_execution_complete',
  'mcp_server_connection',
  'internal_error',
] as const;

/** Hooks that ran longer than this (ms) without error are a problem too: the prompt or tool call waits for them. */
export const SLOW_HOOK_MS = 2000;

/** A condition on an event's attribute: it differs from a value, or is a number above one. */
export type ProblemCondition = { label: string; not: string } | { label: string; above: number };

/**
 * When one of PROBLEM_EVENTS is a problem, where not always: an MCP server that did not connect; hooks of which one
 * failed, or that ran longer than SLOW_HOOK_MS. The collector's count of them (stack/collector/config.yaml,
 * claude_code.problems) has the same conditions: a unit test keeps them equal.
 */
export const PROBLEM_WHEN: Readonly<Partial<Record<(typeof PROBLEM_EVENTS)[number], readonly ProblemCondition[]>>> = {
  mcp_server_connection: [{ label: 'status', not: 'connected' }],
  hook_execution_complete: [
    { label: 'num_non_blocking_error', not: '0' },
    { label: 'total_duration_ms', above: SLOW_HOOK_MS },
  ],
};

/** Whether an event's attributes meet a condition, as Loki's filter reads them (but a duration that is no number,
 * which Loki would keep marked with `__error__`, and Claude Code never sends). */
export function meets(c: ProblemCondition, attributes: Readonly<Record<string, string>>): boolean {
  if ('not' in c) return (attributes[c.label] ?? '') !== c.not;
  const value = Number(attributes[c.label]);
  return attributes[c.label] !== undefined && value > c.above;
}

/** Which store a catalog query goes to. */
export type QueryStore = 'prometheus' | 'loki';
/** instant: `/api/v1/query` (Prometheus' or Loki's); range: `/api/v1/query_range` with a step; logs: Loki `query_range`. */
export type QueryKind = 'instant' | 'range' | 'logs';

export interface CatalogQuery {
  name: string;
  backend: QueryStore;
  kind: QueryKind;
  expr: string;
}

/**
 * Every query with representative parameters, for the grammar tests and for documentation. A query the extension
 * runs that is not here is a bug.
 */
export function catalogExamples(): CatalogQuery[] {
  const nowMs = 1_795_410_300_123;
  const out: CatalogQuery[] = [];
  for (const [name, f] of Object.entries(FIGURES)) {
    out.push({
      name: `figureWindow.${name}`,
      backend: 'prometheus',
      kind: 'instant',
      expr: figureWindow(f, nowMs - 1_234_567, nowMs),
    });
    out.push({ name: `figureSlots.${name}`, backend: 'prometheus', kind: 'range', expr: figureSlots(f, 3_600_000) });
    out.push({
      name: `figureFresh.${name}`,
      backend: 'prometheus',
      kind: 'instant',
      expr: figureFresh(f, ['631fe02f-77fd-4613-8db1-70ec003c74d0', 'a.b|c']),
    });
  }
  out.push({ name: 'sessionsChanged', backend: 'prometheus', kind: 'instant', expr: sessionsChanged(75) });
  out.push({
    name: 'figureWindow.costBy',
    backend: 'prometheus',
    kind: 'instant',
    expr: figureWindow(figureOf('costBy:vscode_workspace_name'), nowMs - 60_000, nowMs),
  });
  const terms = FIGURE_NAMES.map((figure) => ({
    figure,
    part: String(nowMs),
    expr: figureWindow(FIGURES[figure], nowMs - 60_000, nowMs),
  }));
  out.push({ name: 'combined', backend: 'prometheus', kind: 'instant', expr: combined(terms) });
  out.push({
    name: 'combined.slots',
    backend: 'prometheus',
    kind: 'range',
    expr: combined(FIGURE_NAMES.map((figure) => ({ figure, expr: figureSlots(FIGURES[figure], 60_000) }))),
  });
  for (const [name, fn] of Object.entries(lokiLogs))
    out.push({
      name: `lokiLogs.${name}`,
      backend: 'loki',
      kind: 'logs',
      expr: fn('631fe02f-77fd-4613-8db1-70ec003c74d0'),
    });
  out.push({
    name: 'promptCosts',
    backend: 'loki',
    kind: 'instant',
    expr: promptCostsQuery(['631fe02f-77fd-4613-8db1-70ec003c74d0', 'db2d98db-9ac8-44e4-a0a7-7a609ad65899'], 86_400),
  });
  const session = sessionFigures('631fe02f-77fd-4613-8db1-70ec003c74d0');
  for (const [name, f] of Object.entries(session)) {
    out.push({
      name: `session.${name}`,
      backend: 'prometheus',
      kind: 'instant',
      expr: figureWindow(f, nowMs - 86_400_000, nowMs),
    });
  }
  out.push({
    name: 'session.costSlots',
    backend: 'prometheus',
    kind: 'range',
    expr: figureSlots(session.costByModel, 3_600_000),
  });
  return out;
}
