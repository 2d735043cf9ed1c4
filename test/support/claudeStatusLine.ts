// Claude Code's status line JSON (the fields CLI 2.1.328 was seen to send; `current_usage` as the API's usage), for
// the status line bridge's tests and benchmark.

/** What Claude Code pipes to a status line command of a subscriber, after an API answer. */
export const FULL = {
  session_id: '5f0c9a1e-1d2b-4c3d-9e8f-0123456789ab',
  transcript_path: '/home/me/.claude/projects/app/5f0c9a1e.jsonl',
  model: { id: 'claude-opus-4-5-20251101', display_name: 'Opus 4.5' },
  workspace: { current_dir: '/home/me/app', project_dir: '/home/me/app' },
  version: '2.1.328',
  cost: { total_cost_usd: 1.2345, total_lines_added: 12, total_lines_removed: 3 },
  context_window: {
    total_input_tokens: 74000,
    total_output_tokens: 2100,
    context_window_size: 200000,
    current_usage: {
      input_tokens: 10,
      output_tokens: 2100,
      cache_creation_input_tokens: 500,
      cache_read_input_tokens: 73490,
    },
    used_percentage: 37.4,
    remaining_percentage: 62.6,
  },
  rate_limits: {
    five_hour: { used_percentage: 42, resets_at: 1796400000 },
    seven_day: { used_percentage: 17.2, resets_at: 1796900000 },
  },
  effort: { level: 'high' },
};
/** Before the first API answer: no rate limits yet, no context usage. */
export const FIRST = {
  ...FULL,
  rate_limits: undefined,
  cost: { total_cost_usd: 0 },
  context_window: { ...FULL.context_window, used_percentage: null, remaining_percentage: null },
};
/** An API-key user: never any rate limits. */
export const API_KEY = { ...FULL, rate_limits: undefined };
