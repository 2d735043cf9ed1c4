/**
 * The Claude Code telemetry environment a terminal gets. Pure, so its content is tested in plain Node; the
 * editor side applies it through `environmentVariableCollection`.
 */

export interface TelemetryEnvironmentOptions {
  /** OTLP/HTTP base address, e.g. http://127.0.0.1:4318. */
  endpoint: string;
  metricExportIntervalMs: number;
  logsExportIntervalMs: number;
  logUserPrompts: boolean;
  logToolDetails: boolean;
  /** Resource attributes naming where Claude Code runs: they become labels on every data point. */
  workspaceName: string | undefined;
  repository: string | undefined;
  /** The user's own OTEL_RESOURCE_ATTRIBUTES, kept in front of ours. */
  existingResourceAttributes: string | undefined;
  /** `OTEL_EXPORTER_OTLP_HEADERS` for a team collector (from secret storage), e.g. `authorization=Bearer x`. */
  headers?: string | undefined;
}

/** Every variable `telemetryEnvironment` may set: what a removal takes away, whatever the settings are now. */
export const TELEMETRY_VARIABLE_NAMES = [
  'CLAUDE_CODE_ENABLE_TELEMETRY',
  'OTEL_METRICS_EXPORTER',
  'OTEL_LOGS_EXPORTER',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_METRIC_EXPORT_INTERVAL',
  'OTEL_LOGS_EXPORT_INTERVAL',
  'OTEL_METRICS_INCLUDE_SESSION_ID',
  'OTEL_METRICS_INCLUDE_ENTRYPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
  'OTEL_LOG_USER_PROMPTS',
  'OTEL_LOG_TOOL_DETAILS',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_EXPORTER_OTLP_HEADERS',
] as const;

export function isTelemetryVariable(name: string): boolean {
  return (TELEMETRY_VARIABLE_NAMES as readonly string[]).includes(name);
}

export function telemetryEnvironment(options: TelemetryEnvironmentOptions): Record<string, string> {
  const environment: Record<string, string> = {
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: options.endpoint.replace(/\/+$/, ''),
    OTEL_METRIC_EXPORT_INTERVAL: String(options.metricExportIntervalMs),
    OTEL_LOGS_EXPORT_INTERVAL: String(options.logsExportIntervalMs),
    // One series per session: without it, parallel sessions write one counter and totals explode.
    OTEL_METRICS_INCLUDE_SESSION_ID: 'true',
    // Where each session ran (app.entrypoint on every point and event: cli in a terminal, claude-vscode in the VS Code
    // panel, sdk-cli for claude -p): off by default in Claude Code.
    OTEL_METRICS_INCLUDE_ENTRYPOINT: 'true',
    // Running totals rather than Claude Code's default deltas: each export carries the session's whole sum, so a
    // collector restart (which loses what it holds in memory and has not been scraped yet) loses nothing.
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'cumulative',
  };
  if (options.logUserPrompts) {
    environment.OTEL_LOG_USER_PROMPTS = '1';
  }
  if (options.logToolDetails) {
    environment.OTEL_LOG_TOOL_DETAILS = '1';
  }
  if (options.headers) {
    environment.OTEL_EXPORTER_OTLP_HEADERS = options.headers;
  }
  const ours = [
    options.workspaceName ? resourceAttribute('vscode.workspace.name', options.workspaceName) : undefined,
    options.repository ? resourceAttribute('vcs.repository.name', options.repository) : undefined,
  ].filter((entry): entry is string => entry !== undefined);
  const existing = options.existingResourceAttributes?.trim().replace(/,+$/, '');
  const attributes = [...(existing ? [existing] : []), ...ours].join(',');
  if (attributes) {
    environment.OTEL_RESOURCE_ATTRIBUTES = attributes;
  }
  return environment;
}

/** `key=value` with the value percent-encoded, as the OpenTelemetry specification asks of this variable. */
function resourceAttribute(key: string, value: string): string {
  return `${key}=${encodeURIComponent(value)}`;
}

/** `owner/name` of the `origin` remote in a `.git/config`, or undefined. */
export function repositoryFromGitConfig(gitConfig: string): string | undefined {
  const section = /\[remote "origin"\]([\s\S]*?)(?:\n\[|$)/.exec(gitConfig)?.[1];
  const url = section && /^\s*url\s*=\s*(.+?)\s*$/m.exec(section)?.[1];
  if (!url) {
    return undefined;
  }
  const path = /^[^@/]+@[^:]+:(.+)$/.exec(url)?.[1] ?? (URL.canParse(url) ? new URL(url).pathname : url);
  const parts = path
    .replace(/\.git$/, '')
    .split('/')
    .filter(Boolean);
  return parts.length >= 2 ? parts.slice(-2).join('/') : parts[0];
}
