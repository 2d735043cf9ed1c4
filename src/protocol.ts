/** The messages between the extension host and the dashboard webview: both sides import this one union. */
import {
  TIME_RANGES,
  isCostDimension,
  type CostDimension,
  type SessionDetail,
  type Snapshot,
  type TimeRange,
} from './snapshot';

export type ViewState =
  | { kind: 'stopped' }
  | { kind: 'starting'; waitingFor: string | undefined }
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'noData'; range: TimeRange }
  | { kind: 'data'; snapshot: Snapshot };

/** Each runs the command `claudeTelemetry.<action>`. */
export const HOST_ACTIONS = ['startStack', 'openGrafana', 'refresh', 'showLogs', 'writeStatusLineBridge'] as const;
export type HostAction = (typeof HOST_ACTIONS)[number];

/** The sidebar gets `state`; a session's panel gets `session` (its detail, or why there is none). */
export type HostToWebview =
  | { type: 'state'; state: ViewState; range: TimeRange }
  | { type: 'session'; sessionId: string; detail: SessionDetail | null; error?: string; openPrompt?: string };

/** What a session id may look like on its way from a page to a command (Claude Code's are UUIDs). */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9._-]{1,100}$/.test(value);
}

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'selectRange'; range: TimeRange }
  | { type: 'selectGroupBy'; dimension: CostDimension }
  | { type: 'openSession'; sessionId: string; promptId?: string }
  | { type: 'run'; action: HostAction };

export function isTimeRange(value: unknown): value is TimeRange {
  return typeof value === 'string' && (TIME_RANGES as readonly string[]).includes(value);
}

/** The host trusts nothing from the webview: this checks a message's shape before it is acted on. */
export function parseWebviewMessage(message: unknown): WebviewToHost | undefined {
  if (typeof message !== 'object' || message === null) {
    return undefined;
  }
  const candidate = message as Record<string, unknown>;
  switch (candidate.type) {
    case 'ready':
      return { type: 'ready' };
    case 'selectRange':
      return isTimeRange(candidate.range) ? { type: 'selectRange', range: candidate.range } : undefined;
    case 'selectGroupBy':
      return isCostDimension(candidate.dimension)
        ? { type: 'selectGroupBy', dimension: candidate.dimension }
        : undefined;
    case 'openSession':
      if (!isSessionId(candidate.sessionId)) return undefined;
      // Prompt ids are UUIDs too.
      if (candidate.promptId === undefined) return { type: 'openSession', sessionId: candidate.sessionId };
      return isSessionId(candidate.promptId)
        ? { type: 'openSession', sessionId: candidate.sessionId, promptId: candidate.promptId }
        : undefined;
    case 'run':
      return (HOST_ACTIONS as readonly unknown[]).includes(candidate.action)
        ? { type: 'run', action: candidate.action as HostAction }
        : undefined;
    default:
      return undefined;
  }
}
