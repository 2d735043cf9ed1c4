// The data the host fetches and the webview and status bar show: plain serialisable types, shared by both sides.
// A neutral module: it imports nothing of the host (vscode, telemetry clients) or of the webview.

export const TIME_RANGES = ['1h', '24h', '7d', '30d'] as const;
export type TimeRange = (typeof TIME_RANGES)[number];

export const RANGE_SECONDS: Record<TimeRange, number> = { '1h': 3600, '24h': 86400, '7d': 604800, '30d': 2592000 };

/** How a telemetry request failed. Every failure the clients raise is a `TelemetryError` with one of these. */
export type TelemetryErrorKind = 'unreachable' | 'timeout' | 'http' | 'malformed' | 'auth' | 'rules';

/** The serialisable part of a `TelemetryError`, safe to post to the webview. */
export interface TelemetryErrorInfo {
  kind: TelemetryErrorKind;
  /** Which backend: "Prometheus" or "Loki" (or whatever `EndpointConfig.name` says). */
  backend: string;
  /** User-facing: what happened and what to do next. */
  message: string;
  /** The URL requested, without credentials or query string. */
  url: string;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** Up to `EXCERPT_CHARS` characters of the response body (plain text), when useful. */
  bodyExcerpt?: string;
}

/**
 * What cost and tokens can be grouped by: each a label Claude Code puts on its cost and token points (the resource
 * attributes the extension's terminals set among them), named as the collector's exporter writes it.
 */
/**
 * Where a session ran, by Claude Code's entrypoint (CLI 2.1.328: the values it sets itself or its hosts set; it takes
 * both `claude-desktop` entrypoints for the desktop app, the second with a third-party model provider).
 */
export const ENTRYPOINT_NAMES: Readonly<Record<string, string>> = {
  cli: 'terminal',
  'claude-vscode': 'VS Code panel',
  'claude-desktop': 'desktop app',
  'claude-desktop-3p': 'desktop app',
  'sdk-cli': 'claude -p or SDK',
  'sdk-ts': 'TypeScript SDK',
  'sdk-py': 'Python SDK',
  'github-action': 'GitHub Action',
};

export const COST_DIMENSIONS = {
  model: { title: 'Model', label: 'model' },
  project: { title: 'Project', label: 'vscode_workspace_name' },
  repository: { title: 'Repository', label: 'vcs_repository_name' },
  source: { title: 'Source', label: 'query_source' },
  agent: { title: 'Subagent', label: 'agent_name' },
  skill: { title: 'Skill', label: 'skill_name' },
  plugin: { title: 'Plugin', label: 'plugin_name' },
  mcpServer: { title: 'MCP server', label: 'mcp_server_name' },
  effort: { title: 'Effort', label: 'effort' },
  // Claude Code's CLAUDE_CODE_ENTRYPOINT, as the terminal environment has it reported (OTEL_METRICS_INCLUDE_ENTRYPOINT).
  entrypoint: { title: 'Where it ran', label: 'app_entrypoint', names: ENTRYPOINT_NAMES },
  // Claude Code's user.email: a team's gateway stamps it from the developer's token (stack/team/gateway.yaml).
  developer: { title: 'Developer', label: 'user_email' },
} as const satisfies Record<string, { title: string; label: string; names?: Readonly<Record<string, string>> }>;
export type CostDimension = keyof typeof COST_DIMENSIONS;

/** A value of a dimension as the views show it: its name where the dimension names its values. */
export function dimensionValueName(dimension: CostDimension, value: string): string {
  const spec = COST_DIMENSIONS[dimension];
  return ('names' in spec ? spec.names[value] : undefined) ?? value;
}

export function isCostDimension(value: unknown): value is CostDimension {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(COST_DIMENSIONS, value);
}

/** One value of a dimension; `key` is '' for points that do not carry the label. */
export interface DimensionRow {
  key: string;
  costUsd: number;
  tokens: number;
}

/** In a team's store, the range's cost is also ranked by these, each in the sidebar's Team section. */
export const TEAM_RANKINGS = ['developer', 'project', 'model'] as const satisfies readonly CostDimension[];

/** A team's store (the token names this developer): the range's cost by developer, project and model, "you" marked. */
export interface TeamRanking {
  /** This developer, as the gateway names them (`user_email`). */
  you: string;
  /** One ranking a dimension of TEAM_RANKINGS, most expensive first. */
  rankings: Array<{ dimension: CostDimension; rows: DimensionRow[] }>;
}

export interface CostBreakdown {
  dimension: CostDimension;
  /** Most expensive first. */
  rows: DimensionRow[];
  /** The dimensions the range's cost points carry (model always). */
  available: CostDimension[];
}

export interface TokenTotals {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  /** Types other than the four known ones, if Claude Code adds any. */
  other: number;
  total: number;
}

export interface ModelCost {
  model: string;
  usd: number;
}

/** One chart series: `points` are [unix ms, value], each the total of the bucket ending at that time. */
export interface ChartSeries {
  /** The model or token type. */
  key: string;
  points: Array<[number, number]>;
}

export interface ToolStat {
  tool: string;
  calls: number;
  failures: number;
}

export interface ApiErrorStat {
  statusCode: string;
  model: string;
  count: number;
}

/**
 * When a kind of error happened in the range, to the chart's bucket: the start of the first bucket that holds one and
 * the end of the last (the counters are read per bucket; Loki's events give the exact times of the recent ones).
 */
export interface SeenSpan {
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface ToolErrorStat extends SeenSpan {
  tool: string;
  /** Claude Code's `error_type` of the failed tool result ('none' when it gave none). */
  errorType: string;
  count: number;
}

/** The tools whose calls start a subagent (Claude Code renamed Task to Agent). */
export const SUBAGENT_TOOLS: readonly string[] = ['Agent', 'Task'];

export interface SubagentSection {
  /** Calls of the SUBAGENT_TOOLS, each a subagent started, and how many failed. */
  calls: number;
  failures: number;
  /** Cost Claude Code marks `query_source="subagent"`. */
  costUsd: number;
  tokens: number;
  /** Subagent cost by `agent_name`, most expensive first; '' is cost of subagents it did not name. */
  byAgent: Array<{ agent: string; costUsd: number; tokens: number }>;
}

export interface SessionRow {
  sessionId: string;
  costUsd: number;
  tokens: number;
  /** Active time (Claude Code's `active_time`, cli + user) in the window, seconds. */
  activeSeconds: number;
  apiErrors: number;
  toolFailures: number;
  /** Models used in the window, most expensive first. */
  models: string[];
  /** The workspaces (vscode_workspace_name) its cost came from, most expensive first. */
  projects: string[];
  /** Where it ran: Claude Code's entrypoints (app_entrypoint, ENTRYPOINT_NAMES) it reported, most expensive first. */
  entrypoints: string[];
  /** Cost imported from Claude Code's transcript (priced from its tokens), for what telemetry did not report. */
  importedUsd: number;
  /** The session's start or some of its cost came from its transcript. */
  imported: boolean;
}

export interface ToolFailureEvent {
  /** Unix ms. */
  time: number;
  tool: string;
  errorType: string;
  sessionId: string;
  durationMs: number | null;
}

export interface ApiErrorEvent {
  /** Unix ms. */
  time: number;
  statusCode: string;
  model: string;
  /** The `error` attribute (free text from the API client). */
  message: string;
  sessionId: string;
  attempt: number | null;
}

export interface RangeKpis {
  costUsd: number;
  tokens: TokenTotals;
  sessions: number;
  /** cacheRead / (input + cacheRead + cacheCreation); null when there were no input tokens. */
  cacheHitRate: number | null;
  toolCalls: number;
  toolFailures: number;
  /** failures / calls; null with no calls. */
  toolErrorRate: number | null;
  apiRequests: number;
  apiErrors: number;
  /** Active time, cli (Claude working) + user (you interacting), seconds. */
  activeSeconds: number;
  activeCliSeconds: number;
  activeUserSeconds: number;
  linesAdded: number;
  linesRemoved: number;
  commits: number;
  pullRequests: number;
  /** Edit tool permission decisions (claude_code.code_edit_tool.decision). */
  editsAccepted: number;
  editsRejected: number;
}

/** The Prometheus part of a snapshot. */
export interface MetricsSection {
  kpis: RangeKpis;
  costByModel: ModelCost[];
  /** Cost and tokens by the dimension the user picked. */
  costBy: CostBreakdown;
  /** Chart: cost over time stacked by model. */
  costSeries: ChartSeries[];
  /** Chart: tokens over time by type. */
  tokenSeries: ChartSeries[];
  /** Tool calls and failures by tool, most calls first. */
  tools: ToolStat[];
  /** Failed tool calls by tool and error type, most first. */
  toolErrors: ToolErrorStat[];
  /** Most first. */
  apiErrorsByStatus: Array<ApiErrorStat & SeenSpan>;
  subagents: SubagentSection;
  /** Most expensive first, at most `sessionLimit`. */
  sessions: SessionRow[];
  /** In a team's store: the team's cost ranked, this developer among them. */
  team?: TeamRanking;
}

/** What a problem event of Claude Code's is (events.ts, toProblem). */
export type ProblemKind =
  'retriesExhausted' | 'refusal' | 'compaction' | 'hookFailed' | 'hookSlow' | 'mcpFailed' | 'internalError';

/** An event of Claude Code's that tells the user something went wrong (or, for a compaction, that context was lost). */
export interface ProblemEvent {
  /** Unix ms. */
  time: number;
  kind: ProblemKind;
  /** What happened, with the event's figures and names. */
  summary: string;
  /** What it means for the user, and what to do. */
  nextStep: string;
  sessionId: string;
}

/** The Loki part of a snapshot. */
export interface EventsSection {
  /** Newest first. */
  toolFailures: ToolFailureEvent[];
  /** Newest first. */
  apiErrors: ApiErrorEvent[];
  /** Newest first. */
  problems: ProblemEvent[];
}

export interface Snapshot {
  range: TimeRange;
  /** Window, unix ms. */
  startMs: number;
  endMs: number;
  /** Chart bucket, seconds. */
  stepSeconds: number;
  /** When the snapshot was taken (unix ms): the `now` passed in. */
  fetchedAt: number;
  /** null when Prometheus failed (see `errors.prometheus`). */
  metrics: MetricsSection | null;
  /** null when Loki failed or is not configured (see `errors.loki`). */
  events: EventsSection | null;
  errors: { prometheus?: TelemetryErrorInfo; loki?: TelemetryErrorInfo };
  /** True when the window holds any Claude Code metric data. */
  hasData: boolean;
  /** Today's cost (since local midnight) and this window's project's, when the refresh read today too. */
  today?: TodayCost;
  /** The stack's alerts firing now; absent when they could not be read. */
  alerts?: StackAlert[];
  /** The plan's usage now, its limit history over the range and this month's cost at API prices. */
  plan?: PlanSection;
  /** The range's most expensive prompts, among its most expensive sessions (Loki); what Loki said if it failed. */
  prompts?: { top: PromptCost[] } | { error: string };
}

/** One step of a prompt's waterfall: an API request (or a failed attempt), a tool call, or another event of it. */
export interface PromptStep {
  kind: 'api' | 'tool' | 'event';
  /** `event.sequence` of the event that ended it (a tool call's result): the order Claude Code did them in. */
  sequence: number;
  /** Unix ms: when it began (when it ended, less the duration Claude Code reported) and when it ended. */
  startMs: number;
  endMs: number;
  /** The model, the tool, or the event's name. */
  label: string;
  /** What the event says: tokens and cost; a tool's decision, its source and result; a problem in words. */
  detail: string;
  costUsd: number;
  tokens: number;
  failed: boolean;
}

/** One prompt of a session: every event its `prompt.id` names. */
export interface PromptRow {
  /** null: the session's events outside any prompt (its startup: settings, plugins, hooks, MCP servers). */
  promptId: string | null;
  startMs: number;
  endMs: number;
  /** The prompt's first words: only when the user opted in to prompt logging and Claude Code sent them. */
  text: string | null;
  /** Characters of the prompt, as Claude Code reported them. */
  length: number | null;
  /** The sum of its `api_request` events' cost. */
  costUsd: number;
  /** Input, output and cache tokens of its `api_request` events. */
  tokens: number;
  apiCalls: number;
  toolCalls: number;
  /** Failed tool calls, API errors and the problems Claude Code reported (refusals, exhausted retries, ...). */
  failures: number;
  /** In `event.sequence` order. */
  steps: PromptStep[];
}

/** A session's prompts, as Loki holds its events over the range. */
export interface SessionPrompts {
  /** In the order they began. */
  prompts: PromptRow[];
  /** Events read (every one is a step of a prompt). */
  events: number;
  /** False when the session had more events than a panel reads: these are its newest. */
  complete: boolean;
}

/** One of the range's most expensive prompts. */
export interface PromptCost {
  sessionId: string;
  promptId: string;
  /** The sum of its api_request events' cost. */
  costUsd: number;
  /** From its user_prompt event, when Loki holds it: when it was sent, its length, its first words (opt-in only). */
  timeMs: number | null;
  length: number | null;
  text: string | null;
}

/** One session in full, over a range: what its panel shows. */
export interface SessionDetail {
  sessionId: string;
  range: TimeRange;
  startMs: number;
  endMs: number;
  stepSeconds: number;
  fetchedAt: number;
  /** null when Prometheus failed (see `errors.prometheus`). */
  metrics: {
    costUsd: number;
    costByModel: ModelCost[];
    tokens: TokenTotals;
    costSeries: ChartSeries[];
    tools: ToolStat[];
    apiErrorsByStatus: ApiErrorStat[];
    activeCliSeconds: number;
    activeUserSeconds: number;
    /** The workspaces (vscode_workspace_name) its cost came from. */
    projects: string[];
  } | null;
  /** null when Loki failed or is not configured. */
  prompts: SessionPrompts | null;
  errors: { prometheus?: TelemetryErrorInfo; loki?: TelemetryErrorInfo };
}

/** One of the plan's usage windows, as Claude Code last gave it to its status line. */
export interface PlanWindowUsage {
  usedPercent: number;
  /** When the window resets (unix ms); null when Claude Code did not say. */
  resetsAtMs: number | null;
  /** When it reaches 100 % at the last half hour's pace, if before it resets (unix ms); null otherwise. */
  limitAtMs: number | null;
}

/** Plan usage from the status line bridge: absent until Claude Code answered a plan subscriber's request. */
export interface PlanUsage {
  fiveHour?: PlanWindowUsage;
  sevenDay?: PlanWindowUsage;
  /** The context window used by each session active lately, most used first. */
  contextWindows: Array<{ sessionId: string; model: string; usedPercent: number }>;
}

/** An alert of the stack's Prometheus rules (stack/prometheus/rules/alerts.yml), pending or firing. */
export interface StackAlert {
  name: string;
  state: 'pending' | 'firing';
  severity: string;
  labels: Record<string, string>;
  summary: string;
  description: string;
  /** When it became active (unix ms); null when Prometheus did not say. */
  activeAtMs: number | null;
}

/** A plan window's time at its limit in the range. */
export interface PlanLimitStat {
  window: 'five_hour' | 'seven_day';
  /** Minutes at 100 %, to the minute. */
  minutes: number;
  /** The last minute at 100 % (unix ms). */
  lastAtMs: number;
}

export interface PlanSection {
  usage?: PlanUsage;
  atLimit: PlanLimitStat[];
  /** This month's cost at API prices, when the plan's price is set (`claudeTelemetry.plan.monthlyPriceUsd`). */
  month?: { startMs: number; costUsd: number; priceUsd: number };
}

export interface TodayCost {
  costUsd: number;
  /** This window's workspace, when the caller named it: its cost today. */
  project?: { name: string; costUsd: number };
  /** This developer, in a team's store (the identity the gateway stamps): their cost today, beside the team's. */
  developer?: { name: string; costUsd: number };
}

/** What the status bar needs: today since local midnight. */
export interface TodaySummary extends TodayCost {
  /** Unix ms of the day start the caller passed (local midnight). */
  dayStartMs: number;
  fetchedAt: number;
  byModel: ModelCost[];
  tokens: TokenTotals;
  cacheHitRate: number | null;
  /** Cost of the last 60 minutes, USD per hour. */
  burnRatePerHour: number;
  /** Today's cost plus the burn rate over the hours left until `dayStartMs + 24 h`. */
  projectedDayUsd: number;
  /** True when Claude Code spent or used tokens today. */
  hasData: boolean;
  /** Absent when the bridge never reported (it is not installed, or the user pays by API key). */
  plan?: PlanUsage;
}
