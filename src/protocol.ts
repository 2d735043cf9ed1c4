/** The messages between the extension host and the dashboard webview: both sides import this one union. */

export const TIME_RANGES = ['1h', '24h', '7d', '30d'] as const;
export type TimeRange = (typeof TIME_RANGES)[number];

export const RANGE_SECONDS: Record<TimeRange, number> = { '1h': 3600, '24h': 86400, '7d': 604800, '30d': 2592000 };

export interface Kpis {
  costUsd: number;
  tokens: number;
  sessions: number;
  /** cacheRead / (input + cacheRead + cacheCreation); null with no input tokens. */
  cacheHitRate: number | null;
  /** failed / all tool calls; null with no tool calls. */
  toolErrorRate: number | null;
  apiErrors: number;
}

export interface DashboardData {
  range: TimeRange;
  /** Epoch milliseconds. */
  updatedAt: number;
  kpis: Kpis;
  /** Stacked cost per bucket, one series per model; timestamps in epoch milliseconds. */
  costOverTime: { timestamps: number[]; series: { model: string; values: number[] }[] };
  tokensByType: { type: string; tokens: number }[];
  tools: { tool: string; calls: number; failures: number }[];
  recentToolFailures: { time: number; tool: string; errorType: string; sessionId: string }[];
  recentApiErrors: { time: number; statusCode: string; model: string; message: string }[];
  /** Most expensive first. */
  sessions: { sessionId: string; costUsd: number; tokens: number; durationSeconds: number | null; errors: number }[];
  /** A source that failed while the others answered, in words for the user. */
  warnings: string[];
}

export type ViewState =
  | { kind: 'stopped' }
  | { kind: 'starting'; waitingFor: string | undefined }
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'noData'; range: TimeRange }
  | { kind: 'data'; data: DashboardData };

export type HostAction = 'startStack' | 'openGrafana' | 'refresh' | 'showLogs';

export type HostToWebview = { type: 'state'; state: ViewState; range: TimeRange };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'selectRange'; range: TimeRange }
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
    case 'run':
      return candidate.action === 'startStack' ||
        candidate.action === 'openGrafana' ||
        candidate.action === 'refresh' ||
        candidate.action === 'showLogs'
        ? { type: 'run', action: candidate.action }
        : undefined;
    default:
      return undefined;
  }
}
