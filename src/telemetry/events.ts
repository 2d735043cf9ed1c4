// Loki's events as the rows the sidebar and a session's panel list: a failed tool call, an API error, a line of a
// session's timeline, from the event's structured metadata. Plain Node: never import `vscode`.
import type { LogEntry } from './loki';
import type { ApiErrorEvent, SessionEvent, ToolFailureEvent } from '../snapshot';

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
    api_request: [
      a['model'],
      a['cost_usd'] === undefined ? undefined : `$${a['cost_usd']}`,
      a['duration_ms'] === undefined ? undefined : `${a['duration_ms']} ms`,
    ],
    api_error: [a['status_code'], a['model'], a['error']],
    tool_result: [
      a['tool_name'],
      a['success'] === 'false' ? `failed${a['error_type'] ? `: ${a['error_type']}` : ''}` : 'ok',
      a['duration_ms'] === undefined ? undefined : `${a['duration_ms']} ms`,
    ],
    tool_decision: [a['tool_name'], a['decision'], a['source']],
    user_prompt: [a['prompt_length'] === undefined ? undefined : `${a['prompt_length']} characters`],
  };
  const detail = (parts[name] ?? [a['tool_name'], a['model'], a['status_code']])
    .filter((x): x is string => !!x)
    .join(' · ');
  return { time: e.timeMs, name, detail, failed };
}

function numOrNull(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
