/**
 * The pure part of the status line bridge (bridge.ts, bundled as dist/statusLine.js): what it reads of Claude Code's
 * status line JSON, the OTLP/HTTP JSON request it sends, the line it prints when the user has no status line of
 * their own, its arguments, and the `statusLine.command` that runs it. No `vscode`, no I/O.
 */
import { usd } from '../format';
import { shellQuote, shellWords } from '../shell';

/** The bundle, below the extension's folder. */
export const BRIDGE_SCRIPT = 'dist/statusLine.js';
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4318';
/** The status line waits this long for the collector at most: a collector down or slow costs no more. */
export const DEFAULT_EXPORT_TIMEOUT_MS = 300;
/** The user's own status line command gets this long before the bridge prints its own line instead. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
/** Claude Code's JSON is a few KiB; more than this is not it, and is not read further. */
export const INPUT_LIMIT_BYTES = 1 << 20;

export type PlanWindow = 'five_hour' | 'seven_day';
const PLAN_WINDOWS: readonly PlanWindow[] = ['five_hour', 'seven_day'];

/** The fields of Claude Code's status line JSON the bridge uses; each undefined when absent or not of its type. */
export interface StatusLineInput {
  version: string | undefined;
  sessionId: string | undefined;
  modelId: string | undefined;
  modelName: string | undefined;
  costUsd: number | undefined;
  /** Null until the session's first API answer. */
  contextUsedPercent: number | undefined;
  /** Absent for API-key users and until the first API answer. */
  plan: Record<PlanWindow, { usedPercent: number | undefined; resetsAt: number | undefined }>;
}

type JsonObject = Record<string, unknown>;

function object(value: unknown): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Undefined when the input is not a JSON object. */
export function parseStatusLineInput(raw: string): StatusLineInput | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return undefined;
  }
  const input = value as JsonObject;
  const model = object(input.model);
  const limits = object(input.rate_limits);
  const window = (name: PlanWindow) => {
    const limit = object(limits[name]);
    return { usedPercent: finite(limit.used_percentage), resetsAt: finite(limit.resets_at) };
  };
  return {
    version: text(input.version),
    sessionId: text(input.session_id),
    modelId: text(model.id),
    modelName: text(model.display_name),
    costUsd: finite(object(input.cost).total_cost_usd),
    contextUsedPercent: finite(object(input.context_window).used_percentage),
    plan: { five_hour: window('five_hour'), seven_day: window('seven_day') },
  };
}

interface OtlpAttribute {
  key: string;
  value: { stringValue: string };
}

interface OtlpGauge {
  name: string;
  unit: string;
  description: string;
  gauge: { dataPoints: { attributes: OtlpAttribute[]; timeUnixNano: string; asDouble: number }[] };
}

/** An OTLP/HTTP JSON `ExportMetricsServiceRequest` (opentelemetry-proto's JSON mapping). */
export interface OtlpMetricsRequest {
  resourceMetrics: {
    resource: { attributes: OtlpAttribute[] };
    scopeMetrics: { scope: { name: string }; metrics: OtlpGauge[] }[];
  }[];
}

function attributes(entries: Record<string, string | undefined>): OtlpAttribute[] {
  return Object.entries(entries).flatMap(([key, value]) =>
    value === undefined ? [] : [{ key, value: { stringValue: value } }],
  );
}

/**
 * The gauges the input carries, stamped `nowMs`; undefined when it carries none. The collector's Prometheus exporter
 * names them `claude_code_plan_usage_percent{window}`, `claude_code_plan_resets_at_seconds{window}` and
 * `claude_code_context_window_usage_percent{session_id,model}`.
 */
export function metricsRequest(input: StatusLineInput, nowMs: number): OtlpMetricsRequest | undefined {
  const timeUnixNano = (BigInt(Math.round(nowMs)) * 1_000_000n).toString();
  const gauge = (
    name: string,
    unit: string,
    description: string,
    points: { labels: Record<string, string | undefined>; value: number | undefined }[],
  ): OtlpGauge[] => {
    const dataPoints = points.flatMap(({ labels, value }) =>
      value === undefined ? [] : [{ attributes: attributes(labels), timeUnixNano, asDouble: value }],
    );
    return dataPoints.length === 0 ? [] : [{ name, unit, description, gauge: { dataPoints } }];
  };
  const metrics = [
    ...gauge(
      'claude_code.plan.usage',
      '%',
      "Share of the Claude plan's rate limit window used.",
      PLAN_WINDOWS.map((window) => ({ labels: { window }, value: input.plan[window].usedPercent })),
    ),
    ...gauge(
      'claude_code.plan.resets_at',
      's',
      "When the Claude plan's rate limit window resets, in seconds since the epoch.",
      PLAN_WINDOWS.map((window) => ({ labels: { window }, value: input.plan[window].resetsAt })),
    ),
    ...gauge('claude_code.context_window.usage', '%', "Share of the session's context window used.", [
      { labels: { 'session.id': input.sessionId, model: input.modelId }, value: input.contextUsedPercent },
    ]),
  ];
  if (metrics.length === 0) {
    return undefined;
  }
  return {
    resourceMetrics: [
      {
        resource: { attributes: attributes({ 'service.name': 'claude-code', 'service.version': input.version }) },
        scopeMetrics: [{ scope: { name: 'claude-code-telemetry/status-line' }, metrics }],
      },
    ],
  };
}

/** The line printed when the user has no status line command, or theirs printed nothing: `Opus 4.5 · $1.23 · ctx 37% · 5h 42% · 7d 17%`. */
export function defaultLine(input: StatusLineInput | undefined): string {
  const percent = (label: string, value: number | undefined) =>
    value === undefined ? undefined : `${label} ${Math.round(value)}%`;
  const parts = [
    input?.modelName ?? input?.modelId,
    input?.costUsd === undefined ? undefined : usd(input.costUsd),
    percent('ctx', input?.contextUsedPercent),
    percent('5h', input?.plan.five_hour.usedPercent),
    percent('7d', input?.plan.seven_day.usedPercent),
  ].filter((part): part is string => part !== undefined);
  return `${parts.length > 0 ? parts.join(' · ') : 'Claude Code'}\n`;
}

/** What the bridge is told on its command line (see bridge.ts for the format). */
export interface BridgeArguments {
  /** OTLP/HTTP base address of the collector. */
  endpoint: string;
  /** The user's own status line command, run on the same input; its output is what Claude Code shows. */
  previousCommand?: string | undefined;
  /** The user's own `statusLine` value, as its JSON text in settings.json: what removing the bridge puts back. */
  savedStatusLine?: string | undefined;
  exportTimeoutMs?: number | undefined;
  commandTimeoutMs?: number | undefined;
}

/** base64url of the value as a JSON string: no character needs quoting, and any string (a lone surrogate too) comes back as it was. */
export function encodeArgument(value: string): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeArgument(encoded: string): string | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

export function formatBridgeArguments(args: BridgeArguments): string[] {
  return [
    `--endpoint=${args.endpoint}`,
    ...(args.previousCommand === undefined ? [] : [`--previous=${encodeArgument(args.previousCommand)}`]),
    ...(args.savedStatusLine === undefined ? [] : [`--saved=${encodeArgument(args.savedStatusLine)}`]),
    ...(args.exportTimeoutMs === undefined ? [] : [`--export-timeout-ms=${args.exportTimeoutMs}`]),
    ...(args.commandTimeoutMs === undefined ? [] : [`--command-timeout-ms=${args.commandTimeoutMs}`]),
  ];
}

/** Tolerant: an unknown argument is skipped, a bad value is taken as absent (the defaults apply). */
export function parseBridgeArguments(argv: readonly string[]): BridgeArguments {
  const args: BridgeArguments = { endpoint: DEFAULT_ENDPOINT };
  const milliseconds = (value: string) => (/^\d{1,6}$/.test(value) && Number(value) > 0 ? Number(value) : undefined);
  for (const argument of argv) {
    const [, name, value] = /^--([a-z-]+)=(.*)$/s.exec(argument) ?? [];
    if (name === undefined || value === undefined) continue;
    if (name === 'endpoint' && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)) args.endpoint = value;
    else if (name === 'previous') args.previousCommand = decodeArgument(value);
    else if (name === 'saved') args.savedStatusLine = decodeArgument(value);
    else if (name === 'export-timeout-ms') args.exportTimeoutMs = milliseconds(value);
    else if (name === 'command-timeout-ms') args.commandTimeoutMs = milliseconds(value);
  }
  return args;
}

/** How the bridge is started: the editor's own executable run as Node (as VS Code's git askpass is), and the bundle. */
export interface BridgeRuntime {
  /** `process.execPath` of the extension host: Electron in VS Code, Node in code-server and remote servers. */
  executable: string;
  /** Absolute path of dist/statusLine.js. */
  script: string;
  platform: NodeJS.Platform;
}

const RUN_AS_NODE = 'ELECTRON_RUN_AS_NODE=1';

/**
 * The `statusLine.command` that runs the bridge: `ELECTRON_RUN_AS_NODE=1 '<executable>' '<script>' '--endpoint=…' …`,
 * for sh. Claude Code runs it with `/bin/sh -c`, and on Windows with Git Bash, so Windows gets the same line with
 * forward slashes in its paths (`'C:/Program Files/…/Code.exe'`), which Git Bash and Node both take.
 */
export function bridgeCommand(runtime: BridgeRuntime, args: BridgeArguments): string {
  const path = (value: string) => (runtime.platform === 'win32' ? value.replaceAll('\\', '/') : value);
  return [
    RUN_AS_NODE,
    shellQuote(path(runtime.executable)),
    shellQuote(path(runtime.script)),
    ...formatBridgeArguments(args).map(shellQuote),
  ].join(' ');
}

/** The words of a `statusLine.command` that runs the bridge; undefined for any other command. */
function bridgeWords(command: string): [typeof RUN_AS_NODE, string, string, ...string[]] | undefined {
  const words = shellWords(command);
  if (words === undefined || words[0] !== RUN_AS_NODE || words.length < 3 || !words[2]!.endsWith(`/${BRIDGE_SCRIPT}`)) {
    return undefined;
  }
  return words as [typeof RUN_AS_NODE, string, string, ...string[]];
}

/** The arguments of a `statusLine.command` that runs the bridge; undefined for any other command. */
export function parseBridgeCommand(command: string): BridgeArguments | undefined {
  const words = bridgeWords(command);
  return words && parseBridgeArguments(words.slice(3));
}

/** The executable and the script a `statusLine.command` that runs the bridge starts (as written, forward slashes on
 * Windows); undefined for any other command. */
export function bridgeFiles(command: string): { executable: string; script: string } | undefined {
  const words = bridgeWords(command);
  return words && { executable: words[1], script: words[2] };
}
