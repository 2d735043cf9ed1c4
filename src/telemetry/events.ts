// Loki's events as the rows the sidebar and a session's panel list: a failed tool call, an API error, a step of a
// prompt, from the event's structured metadata. Plain Node: never import `vscode`.
import type { LogEntry } from './loki';
import { PROBLEM_EVENTS, PROBLEM_WHEN, SLOW_HOOK_MS, meets } from './queries';
import type { ApiErrorEvent, ProblemEvent, ToolFailureEvent } from '../snapshot';

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

/**
 * An event of lokiLogs.problems as the sidebar says it: what happened, with its figures, and what it means and what to
 * do. Attribute names as Loki keeps them (dots become underscores); an attribute Claude Code left out is left out.
 */
export function toProblem(e: LogEntry): ProblemEvent {
  const a = e.attributes;
  const base = { time: e.timeMs, sessionId: a['session_id'] ?? '' };
  const cause = (...parts: Array<string | undefined>): string => {
    const known = parts.filter((x): x is string => !!x);
    return known.length ? ` (${known.join(', ')})` : '';
  };
  switch (a['event_name']) {
    case 'api_retries_exhausted':
      return {
        ...base,
        kind: 'retriesExhausted',
        summary:
          `An API request${a['model'] ? ` to ${a['model']}` : ''} failed ${a['total_attempts'] ?? 'several'} times and ` +
          `Claude Code gave up${cause(a['status_code'] ? `status ${a['status_code']}` : undefined, a['error'])}.`,
        nextStep:
          'That prompt got no answer. A 5xx or 529 is on the API side (overloaded): send the prompt again in a few ' +
          'minutes. Anything else (a proxy, the network): check the connection first.',
      };
    case 'api_refusal':
      return {
        ...base,
        kind: 'refusal',
        summary: `${a['model'] ?? 'The model'} declined to answer (stop reason "refusal").`,
        nextStep: 'The turn ended without an answer, and its tokens still count. Rephrase or split the request.',
      };
    case 'compaction': {
      const tokens = a['pre_tokens'] && a['post_tokens'] ? `: ${a['pre_tokens']} → ${a['post_tokens']} tokens` : '';
      return {
        ...base,
        kind: 'compaction',
        summary: `${a['success'] === 'false' ? 'A compaction failed' : 'The context was compacted'}${tokens}${cause(a['trigger'])}.`,
        nextStep:
          'The conversation so far was replaced by a summary, and details from before it may be lost. Many ' +
          'compactions mean long sessions: start a new session (or /clear) for each task.',
      };
    }
    case 'hook_execution_complete': {
      const hooks = [a['hook_event'], a['num_hooks'] === '1' ? 'hook' : 'hooks'].filter(Boolean).join(' ');
      if (a['num_non_blocking_error'] === '0')
        return {
          ...base,
          kind: 'hookSlow',
          summary: `The ${hooks} took ${(Number(a['total_duration_ms']) / 1000).toFixed(1)} s${cause(a['hook_name'])}.`,
          nextStep:
            `Claude Code waits for its hooks, and these took more than ${SLOW_HOOK_MS / 1000} s. Make the command ` +
            'faster, or remove it from your settings\' "hooks" (/hooks lists them).',
        };
      return {
        ...base,
        kind: 'hookFailed',
        summary:
          `${a['num_non_blocking_error'] ?? 'Some'} of ${a['num_hooks'] ?? 'the'} ${hooks} failed` +
          `${cause(a['hook_name'], a['total_duration_ms'] ? `${a['total_duration_ms']} ms` : undefined)}.`,
        nextStep:
          'A hook command exited with an error and Claude Code went on without it. Run the command from your ' +
          'settings\' "hooks" by hand to see its error (/hooks lists them).',
      };
    }
    case 'mcp_server_connection':
      return {
        ...base,
        kind: 'mcpFailed',
        summary:
          `${a['server_name'] ? `The MCP server "${a['server_name']}"` : 'An MCP server'} ` +
          `${a['status'] === 'disconnected' ? 'disconnected' : 'failed to connect'}` +
          `${cause(a['transport_type'], a['error_code'], a['error'])}.`,
        nextStep:
          "Its tools are missing from the session. Check the server's command or URL (claude mcp list, or /mcp in " +
          'the session), then start a new session.' +
          // Claude Code names the server only when tool details are logged.
          (a['server_name'] ? '' : ' Turn on claudeTelemetry.terminal.logToolDetails to see which server it is.'),
      };
    default:
      return {
        ...base,
        kind: 'internalError',
        summary: `Claude Code hit an internal error${a['error'] ? `: ${a['error']}` : ''}.`,
        nextStep: 'Update Claude Code (claude update); if it happens again, report it with /bug.',
      };
  }
}

/** Whether an event's attributes are of a problem: what lokiLogs.problems selects. */
function isProblem(a: Record<string, string>): boolean {
  const event = PROBLEM_EVENTS.find((name) => name === a['event_name']);
  const when = event && PROBLEM_WHEN[event];
  return event !== undefined && (!when || when.some((c) => meets(c, a)));
}

/**
 * The other events in a few words: what ran (skills, plugins, subagents, hooks), what changed (the permission mode, a
 * sign-in). Attribute names as CLI 2.1.328 sets them, with Loki's underscores; an attribute left out is left out.
 */
const EVENT_DETAILS: Readonly<Record<string, (a: Record<string, string>) => Array<string | undefined>>> = {
  user_prompt: (a) => [a['prompt_length'] && `${a['prompt_length']} characters`],
  assistant_response: (a) => [a['model']],
  skill_activated: (a) => [
    a['skill_name'] && `skill ${a['skill_name']}`,
    a['plugin_name'] && `of the plugin ${a['plugin_name']}`,
    a['invocation_trigger'],
  ],
  plugin_loaded: (a) => [
    a['plugin_name'] && [a['plugin_name'], a['plugin_version']].filter(Boolean).join(' '),
    a['marketplace_name'] && `from ${a['marketplace_name']}`,
    a['plugin_scope'],
  ],
  subagent_completed: (a) => [
    a['agent_type'] && `subagent ${a['agent_type']}`,
    a['final_model'] ?? a['model'],
    a['total_tokens'] && `${a['total_tokens']} tokens`,
    a['total_tool_uses'] && `${a['total_tool_uses']} tool uses`,
    a['duration_ms'] && `${(Number(a['duration_ms']) / 1000).toFixed(1)} s`,
  ],
  permission_mode_changed: (a) => [
    a['from_mode'] && a['to_mode'] ? `${a['from_mode']} → ${a['to_mode']}` : a['to_mode'],
    a['trigger'],
  ],
  hook_registered: (a) => [a['hook_event'], a['hook_type'], a['hook_source'] && `from ${a['hook_source']}`],
  hook_execution_start: (a) => [a['hook_event'], a['hook_name']],
  // A hook that failed or was slow is a problem (above); one that blocked (exit 2) did so on purpose.
  hook_execution_complete: (a) => [
    a['hook_name'] ?? a['hook_event'],
    Number(a['num_blocking']) > 0 ? `${a['num_blocking']} blocked` : undefined,
    Number(a['num_cancelled']) > 0 ? `${a['num_cancelled']} cancelled` : undefined,
    a['total_duration_ms'] && `${a['total_duration_ms']} ms`,
  ],
  at_mention: (a) => [a['mention_type'], a['success'] === 'false' ? 'not found' : undefined],
  auth: (a) => [
    a['action'],
    a['auth_method'],
    a['success'] === 'false' ? `failed${a['error_category'] ? `: ${a['error_category']}` : ''}` : undefined,
    a['status_code'] && `status ${a['status_code']}`,
  ],
  managed_settings_resolved: (a) => [a['managed_settings_trigger']],
};

/** What an event of a session says, in one line, and whether it tells of a failure. */
export function describeEvent(e: LogEntry): { name: string; detail: string; failed: boolean } {
  const a = e.attributes;
  const name = a['event_name'] ?? e.line;
  if (isProblem(a)) {
    const problem = toProblem(e);
    return { name, detail: problem.summary, failed: problem.kind !== 'compaction' && problem.kind !== 'hookSlow' };
  }
  // API requests and tool calls are a prompt's steps of their own (prompts.ts); these are the other events.
  const parts = EVENT_DETAILS[name]?.(a) ?? [a['tool_name'], a['model'], a['status_code']];
  const detail = parts.filter((x): x is string => !!x).join(' · ');
  return { name, detail, failed: a['success'] === 'false' };
}

export function numOrNull(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
