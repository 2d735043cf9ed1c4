// The one table of the data layer: each counter Claude Code (or the collector's count connector) sends, the recording
// rule that turns it into per-evaluation increases, and the helper that rule reads. The rules file
// (stack/prometheus/rules/recording.yml) is generated from this table (`npm run rules`) and a test keeps the two equal.
// Figures are sums over these rules (the rows of FIGURES in src/telemetry/queries.ts): a new dimension is a `by` label
// there, a new counter a row here. Plain Node: never import `vscode`.

export interface Counter {
  /** The raw per-session cumulative series, as the collector's Prometheus exporter names it. */
  metric: string;
  /** Per evaluation, the increase of each raw series since the previous evaluation, every label kept. */
  rule: string;
  /** Per raw series, the value the last evaluation saw (written only when it changes). */
  lastValue: string;
  /** What the counter counts, for the rules file's comments and docs/architecture.md. */
  about: string;
}

function counter(slug: string, metric: string, about: string): Counter {
  return { metric, rule: `claude_code:${slug}:increase10s`, lastValue: `claude_code:${slug}:last_value`, about };
}

export const COUNTERS = {
  cost: counter('cost_usd', 'claude_code_cost_usage_USD_total', 'cost in USD'),
  tokens: counter('tokens', 'claude_code_token_usage_tokens_total', 'tokens, by type'),
  sessions: counter('sessions', 'claude_code_session_count_total', 'sessions started'),
  activeSeconds: counter(
    'active_seconds',
    'claude_code_active_time_seconds_total',
    'active time in seconds, cli or user',
  ),
  linesOfCode: counter('lines_of_code', 'claude_code_lines_of_code_count_total', 'lines added or removed'),
  commits: counter('commits', 'claude_code_commit_count_total', 'commits made'),
  pullRequests: counter('pull_requests', 'claude_code_pull_request_count_total', 'pull requests opened'),
  editDecisions: counter(
    'edit_decisions',
    'claude_code_code_edit_tool_decision_total',
    'edit tool permission decisions',
  ),
  toolResults: counter('tool_results', 'claude_code_tool_results_total', 'tool calls, from tool_result events'),
  apiRequests: counter('api_requests', 'claude_code_api_requests_total', 'API requests, from api_request events'),
  apiErrors: counter('api_errors', 'claude_code_api_errors_total', 'API errors, from api_error events'),
  problems: counter(
    'problems',
    'claude_code_problems_total',
    'what went wrong (retries given up, refusals, compactions, failed or slow hooks, MCP servers), by event_name',
  ),
} as const satisfies Record<string, Counter>;

export type CounterId = keyof typeof COUNTERS;

/** The label of the series imported from Claude Code's transcripts (src/history), so they can be told apart and removed. */
export const IMPORT_LABEL = 'import';
export const IMPORT_VALUE = 'transcript';

/** The rule group's name and interval. The rules' `offset` is the interval: they change together. */
export const RULE_GROUP = 'claude_code_increase';
export const RULE_INTERVAL_MS = 10_000;
/**
 * How far back a rule looks for the value it saw last. Longer than the collector exporter's metric_expiration (25 h)
 * and deltatocumulative's max_stale (24 h): a series can stay alive unchanged only that long.
 */
export const LAST_VALUE_LOOKBACK = '2d';
/** Where the rules live in the repository, for the messages that ask a team to load them. */
export const RULES_FILE = 'stack/prometheus/rules/recording.yml';

export interface RecordingRule {
  record: string;
  expr: string;
}

/**
 * The two rules of a counter: its helper, then its increase. The increase reads the value the helper has just
 * written in this evaluation (a group's rules run in order, each seeing the ones before), never the counter itself:
 * a sample arriving between the two rules' reads (remote write, as a team's gateway sends) would otherwise be counted
 * by the increase and missed by the helper, and counted again at the next evaluation (measured in the team bench).
 */
export function counterRules(c: Counter): RecordingRule[] {
  const interval = `${RULE_INTERVAL_MS / 1000}s`;
  const seen = `last_over_time(${c.lastValue}[${LAST_VALUE_LOOKBACK}] offset ${interval})`;
  const now = `last_over_time(${c.lastValue}[${interval}])`;
  return [
    { record: c.lastValue, expr: `${c.metric} unless (${c.metric} == ${seen})` },
    { record: c.rule, expr: `((${now} - ${seen}) >= 0 or ${now}) > 0` },
  ];
}

const HEADER = `# GENERATED from src/telemetry/counters.ts by \`npm run rules\`: edit the table there, not this file.
#
# For every counter c (a per-session cumulative series from the collector), evaluated every 10s:
#
#   claude_code:<x>:last_value   = c unless (c == last_over_time(claude_code:<x>:last_value[2d] offset 10s))
#     Written only when c differs from the value recorded last (or has none), so P = last_over_time(
#     last_value[2d] offset 10s) is the value of c the previous evaluation that saw the series saw, however long ago.
#
#   claude_code:<x>:increase10s  = ((N - P) >= 0 or N) > 0        (every label of c kept, session_id included)
#     N = last_over_time(claude_code:<x>:last_value[10s]): the value the rule above wrote in this evaluation (rules
#     of a group run in order), not c read again: a sample arriving between the two reads cannot be counted twice.
#     - no reset: N - P;  a reset (N < P: collector restart): N, the value since the reset;  a new series: N.
#     - written only when not zero: the samples scale with activity, not with time; no sample means 0.
#     The contributions of consecutive evaluations telescope, so sum_over_time(rule[R]) is the exact increase of a
#     series over R (first value and resets counted), and every figure is
#       sum by (<any labels of c>) (sum_over_time(claude_code:<x>:increase10s[R]))
#     A gap (Prometheus down, laptop asleep) is counted once, when the series is seen again.
#     Limit: a counter that resets and passes its old value between two evaluations counts only the part above it.
#
# Past samples never change: the extension keeps closed hours in memory and queries only the open one. It reads the
# group's lastEvaluation from /api/v1/rules. The offset is the group interval: change both together.
`;

/** The text of stack/prometheus/rules/recording.yml. */
export function recordingRulesFile(): string {
  const lines = [
    HEADER,
    'groups:',
    `  - name: ${RULE_GROUP}`,
    `    interval: ${RULE_INTERVAL_MS / 1000}s`,
    '    rules:',
  ];
  for (const c of Object.values(COUNTERS)) {
    lines.push(`      # ${c.metric}: ${c.about}`);
    for (const r of counterRules(c)) lines.push(`      - record: ${r.record}`, `        expr: ${r.expr}`);
  }
  return `${lines.join('\n')}\n`;
}
