// "Verify Telemetry Pipeline": checks each hop from Claude Code to the dashboards and says which one is broken,
// with the likely cause and the fix. Plain Node: no `vscode` import here (the editor side is doctorCommand.ts).
//
//   Docker engine -> containers -> collector (OTLP/HTTP) -> Prometheus (scrape) / Loki (OTLP)
//   round trip: a marked probe metric and probe event, sent to the collector, looked up in Prometheus and Loki
//   the active terminal's environment, and ~/.claude/settings.json's `env` block
//
// The probe never mixes into the user's data: its resource is service.name "claude-code-doctor" (Prometheus job and
// Loki stream `service_name="claude-code-doctor"`, where the dashboards read "claude-code"), its metric name is not
// one the recording rules or panels sum, and nothing is deleted.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
// Types only: the stack module is in the lazily loaded bundle (dist/services.js); its errors are recognised by `code`.
import type { ServiceStatus } from '../stack/engine';
import { TelemetryError, errorCode } from '../telemetry/http';
import { LokiClient } from '../telemetry/loki';
import { PrometheusClient, isObject } from '../telemetry/prometheus';
import { SettingsFileError, telemetryEnvironmentIn } from '../terminal/claudeSettings';

// --- results -----------------------------------------------------------------------------------------------------

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export type CheckId =
  | 'docker'
  | `container:${string}`
  | 'collector-otlp'
  | 'prometheus-ready'
  | 'prometheus-scrape'
  | 'loki-ready'
  | 'loki-otlp'
  | 'roundtrip-metric'
  | 'roundtrip-event'
  | 'terminal-env'
  | 'claude-settings';

export interface Hop {
  name: string;
  /** Milliseconds from the probe's send to this hop. */
  ms: number;
}

export interface CheckResult {
  id: CheckId;
  name: string;
  status: CheckStatus;
  /** How long the check took. */
  ms: number;
  /** What was seen. */
  detail: string;
  /** The likely cause (on warn and fail). */
  cause?: string;
  /** What to do about it (on warn and fail). */
  fix?: string;
  /** Round trip: the milliseconds at each hop. */
  hops?: Hop[];
}

export interface DoctorResult {
  runId: string;
  startedAt: string;
  ms: number;
  endpoints: DoctorEndpoints;
  checks: CheckResult[];
  counts: Record<CheckStatus, number>;
  /** One line: "All 12 checks passed", "2 problems: ...". */
  summary: string;
  /** Extra remarks shown above the table (e.g. a team backend is configured). */
  notes: string[];
}

// --- inputs ------------------------------------------------------------------------------------------------------

/** What the doctor needs of the stack engine (`StackEngine` satisfies it). */
export interface DoctorEngine {
  ping(): Promise<void>;
  status(): Promise<ServiceStatus[]>;
  lastLogLines?(service: string, tail?: number): Promise<string[]>;
}

export interface DoctorEndpoints {
  /** OTLP/HTTP base address of the collector, e.g. http://127.0.0.1:4318. */
  otlpHttp: string;
  /** The host port of the collector's OTLP/gRPC receiver (the environment checks accept it with protocol grpc). */
  otlpGrpcPort: number;
  /** Prometheus base URL, e.g. http://127.0.0.1:9090. */
  prometheus: string;
  /** Loki base URL, e.g. http://127.0.0.1:3100. */
  loki: string;
}

export interface TerminalInput {
  /** The terminal's name, for the report. */
  name: string;
  /** Its process environment as the editor knows it. */
  env: Readonly<Record<string, string | undefined>>;
}

export interface DoctorOptions {
  /** Locates the engine (may throw the stack's NoEngineFoundError). */
  openEngine: () => DoctorEngine | Promise<DoctorEngine>;
  endpoints: DoctorEndpoints;
  /** The active terminal; undefined: none is open (the check is skipped). */
  terminal?: TerminalInput | undefined;
  /** `claudeTelemetry.terminal.enabled`: whether the extension gives terminals the environment. Default true. */
  terminalEnvironmentEnabled?: boolean;
  /**
   * "Claude Code only" mode: the directory of the `claude` shim that terminals get first on PATH instead of OTEL_*
   * variables. Undefined: the all-terminals mode.
   */
  claudeShimDirectory?: string | undefined;
  /** Default ~/.claude/settings.json (read when the check runs). */
  claudeSettingsPath?: string;
  /** The Prometheus job that scrapes the collector's exporter (stack/prometheus/prometheus.yml). */
  scrapeJob?: string;
  /** The compose service of the collector (for its state and log lines). */
  collectorService?: string;
  /** How long to wait for the probe in Prometheus and in Loki. Default 30 s. */
  roundTripTimeoutMs?: number;
  /** Poll interval of the round trip. Default 500 ms. */
  pollMs?: number;
  /** Timeout of one HTTP request or engine call. Default 5 s. */
  requestTimeoutMs?: number;
  /** A fixed run id (tests); default a random one. */
  runId?: string;
  signal?: AbortSignal;
  /** Called before each check starts (for a progress message). */
  onCheckStart?: (name: string) => void;
  /** Called with each result as it is known. */
  onCheck?: (result: CheckResult) => void;
  /** Remarks to show above the table. */
  notes?: string[];
}

// --- the probe ---------------------------------------------------------------------------------------------------

/** service.name of the probe: its own Prometheus job and Loki stream, never "claude-code". */
export const PROBE_SERVICE_NAME = 'claude-code-doctor';
/** The probe metric as sent (a DELTA monotonic sum, like Claude Code's). */
export const PROBE_METRIC_NAME = 'claude_code.doctor.probe';
/** The name the stack's collector gives it in Prometheus. */
export const PROBE_PROMETHEUS_NAME = 'claude_code_doctor_probe_total';
/** event.name of the probe event. */
export const PROBE_EVENT_NAME = 'doctor_probe';
/** The attribute carrying the run id, and the label it becomes. */
export const PROBE_RUN_ATTRIBUTE = 'doctor.run';
export const PROBE_RUN_LABEL = 'doctor_run';
export const STACK_SCRAPE_JOB = 'claude-code';
export const COLLECTOR_SERVICE = 'otel-collector';

export function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomBytes(4).toString('hex')}`;
}

function unixNano(ms: number): string {
  return (BigInt(Math.floor(ms)) * 1_000_000n).toString();
}

/** The OTLP resource and instrumentation scope of the probes. */
const PROBE_RESOURCE = { attributes: [{ key: 'service.name', value: { stringValue: PROBE_SERVICE_NAME } }] };
const PROBE_SCOPE = { name: 'claude-code-telemetry.doctor' };

/** OTLP/HTTP JSON ExportMetricsServiceRequest with one DELTA monotonic sum point of 1. */
export function probeMetricRequest(runId: string, nowMs: number, metricName = PROBE_METRIC_NAME): unknown {
  return {
    resourceMetrics: [
      {
        resource: PROBE_RESOURCE,
        scopeMetrics: [
          {
            scope: PROBE_SCOPE,
            metrics: [
              {
                name: metricName,
                description: 'Pipeline check probe of the Claude Code Telemetry extension (not Claude Code data).',
                sum: {
                  aggregationTemporality: 1, // DELTA, as Claude Code sends
                  isMonotonic: true,
                  dataPoints: [
                    {
                      attributes: [{ key: PROBE_RUN_ATTRIBUTE, value: { stringValue: runId } }],
                      startTimeUnixNano: unixNano(nowMs - 1000),
                      timeUnixNano: unixNano(nowMs),
                      asInt: '1',
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

/** OTLP/HTTP JSON ExportLogsServiceRequest with one event record, shaped like Claude Code's events. */
export function probeEventRequest(runId: string, nowMs: number): unknown {
  return {
    resourceLogs: [
      {
        resource: PROBE_RESOURCE,
        scopeLogs: [
          {
            scope: PROBE_SCOPE,
            logRecords: [
              {
                timeUnixNano: unixNano(nowMs),
                observedTimeUnixNano: unixNano(nowMs),
                severityNumber: 9,
                severityText: 'INFO',
                body: { stringValue: `claude_code.${PROBE_EVENT_NAME}` },
                attributes: [
                  { key: 'event.name', value: { stringValue: PROBE_EVENT_NAME } },
                  { key: PROBE_RUN_ATTRIBUTE, value: { stringValue: runId } },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

export interface ProbeNameVerdict {
  status: 'ok' | 'fail';
  cause?: string;
  fix?: string;
}

const RESTORE_COLLECTOR =
  'Remove it from the `prometheus` exporter in stack/collector/config.yaml (reinstalling the extension restores the ' +
  'original file), then run "Claude Telemetry: Restart Telemetry Stack".';

/**
 * What the probe's name in Prometheus says about the collector's exporter. `claude_code.doctor.probe` must arrive as
 * `claude_code_doctor_probe_total`, exactly as `claude_code.cost.usage` must arrive as
 * `claude_code_cost_usage_USD_total` for the dashboards to see it.
 */
export function classifyProbeMetricName(name: string): ProbeNameVerdict {
  if (name === PROBE_PROMETHEUS_NAME) return { status: 'ok' };
  if (name.endsWith(`_${PROBE_PROMETHEUS_NAME}`)) {
    const prefix = name.slice(0, -PROBE_PROMETHEUS_NAME.length - 1);
    if (prefix === 'claude_code') {
      return {
        status: 'fail',
        cause:
          `Double metric prefix: the probe arrived as \`${name}\`. The collector's Prometheus exporter sets ` +
          '`namespace: claude_code`, but Claude Code already prefixes its metrics with `claude_code`, so every metric ' +
          'is named `claude_code_claude_code_…` (e.g. `claude_code_claude_code_cost_usage_USD_total`) and no dashboard ' +
          'query matches: the panels stay empty while the events (Loki) still show.',
        fix: `Remove \`namespace: claude_code\`. ${RESTORE_COLLECTOR}`,
      };
    }
    return {
      status: 'fail',
      cause:
        `The probe arrived as \`${name}\`: the collector's Prometheus exporter adds the namespace \`${prefix}\`, so ` +
        `Claude Code's metrics are named \`${prefix}_claude_code_…\` and no dashboard query matches them.`,
      fix: `Remove \`namespace: ${prefix}\`. ${RESTORE_COLLECTOR}`,
    };
  }
  if (name === 'claude_code_doctor_probe') {
    return {
      status: 'fail',
      cause:
        `The probe arrived as \`${name}\`, without the \`_total\` suffix: the collector's exporter does not add type ` +
        'and unit suffixes (`add_metric_suffixes: false`, or another translation strategy), while the dashboards ' +
        'query `claude_code_cost_usage_USD_total` and the like.',
      fix: `Restore the exporter's default naming. ${RESTORE_COLLECTOR}`,
    };
  }
  if (/[.]/.test(name)) {
    return {
      status: 'fail',
      cause:
        `The probe arrived as \`${name}\` (UTF-8, dots kept): the exporter or Prometheus 3 keeps OpenTelemetry names ` +
        'unescaped, while the dashboards query underscore names with suffixes (`claude_code_cost_usage_USD_total`).',
      fix:
        'Keep the stack\'s pinned Prometheus 2.x and collector configuration (stack/compose.yaml, ' +
        `stack/collector/config.yaml). ${RESTORE_COLLECTOR}`,
    };
  }
  return {
    status: 'fail',
    cause:
      `The probe arrived as \`${name}\`, not \`${PROBE_PROMETHEUS_NAME}\`: the collector renames metrics, so the ` +
      'dashboards\' queries do not match Claude Code\'s metrics.',
    fix: `Undo the naming change in the collector's \`prometheus\` exporter. ${RESTORE_COLLECTOR}`,
  };
}

// --- environment checks (pure) -----------------------------------------------------------------------------------

export interface EnvironmentExpectation {
  otlpHttpPort: number;
  otlpGrpcPort: number;
}

export interface EnvFinding {
  severity: 'fail' | 'warn';
  text: string;
  /** The variables this finding is about. */
  keys: string[];
}

/** Variables that decide where (and whether) Claude Code sends telemetry. */
export const DOCTOR_ENV_NAMES = [
  'CLAUDE_CODE_ENABLE_TELEMETRY',
  'OTEL_SDK_DISABLED',
  'OTEL_METRICS_EXPORTER',
  'OTEL_LOGS_EXPORTER',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
  'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
  'OTEL_METRICS_INCLUDE_SESSION_ID',
] as const;

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0']);
const PROTOCOLS = new Set(['http/json', 'http/protobuf', 'grpc']);

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}

function exporterHasOtlp(v: string | undefined): boolean {
  return v !== undefined && v.split(',').some((x) => x.trim().toLowerCase() === 'otlp');
}

/**
 * Every reason an environment would not get Claude Code's metrics and events to the stack. `env` is the effective
 * environment Claude Code starts with.
 */
export function environmentFindings(env: Readonly<Record<string, string | undefined>>, expect: EnvironmentExpectation): EnvFinding[] {
  const findings: EnvFinding[] = [];
  const enable = env.CLAUDE_CODE_ENABLE_TELEMETRY;
  if (!truthy(enable)) {
    findings.push({
      severity: 'fail',
      keys: ['CLAUDE_CODE_ENABLE_TELEMETRY'],
      text:
        enable === undefined
          ? 'CLAUDE_CODE_ENABLE_TELEMETRY is not set: Claude Code sends no telemetry.'
          : `CLAUDE_CODE_ENABLE_TELEMETRY=${JSON.stringify(enable)} turns Claude Code's telemetry off.`,
    });
  }
  if (truthy(env.OTEL_SDK_DISABLED)) {
    findings.push({ severity: 'fail', keys: ['OTEL_SDK_DISABLED'], text: 'OTEL_SDK_DISABLED=true turns every OpenTelemetry exporter off.' });
  }
  for (const [key, what] of [
    ['OTEL_METRICS_EXPORTER', 'metrics (cost, tokens)'],
    ['OTEL_LOGS_EXPORTER', 'events (tool results, API requests and errors)'],
  ] as const) {
    if (!exporterHasOtlp(env[key])) {
      findings.push({
        severity: 'fail',
        keys: [key],
        text:
          env[key] === undefined
            ? `${key} is not set: no ${what} are exported.`
            : `${key}=${JSON.stringify(env[key])} does not include otlp: no ${what} reach the collector.`,
      });
    }
  }
  const seen = new Set<string>();
  for (const signal of ['METRICS', 'LOGS'] as const) {
    const endpointKey = env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`] !== undefined ? `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT` : 'OTEL_EXPORTER_OTLP_ENDPOINT';
    const protocolKey = env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] !== undefined ? `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL` : 'OTEL_EXPORTER_OTLP_PROTOCOL';
    const protocol = (env[protocolKey] ?? 'http/protobuf').trim().toLowerCase();
    const what = signal === 'METRICS' ? 'Metrics' : 'Events';
    const push = (f: EnvFinding): void => {
      const k = `${f.severity}|${f.text.replace(/^(Metrics|Events)/, '')}`;
      if (seen.has(k)) return;
      seen.add(k);
      findings.push(f);
    };
    if (!PROTOCOLS.has(protocol)) {
      push({ severity: 'fail', keys: [protocolKey], text: `${protocolKey}=${JSON.stringify(env[protocolKey])} is not one of http/json, http/protobuf, grpc.` });
      continue;
    }
    const grpc = protocol === 'grpc';
    const raw = env[endpointKey] ?? (grpc ? 'http://localhost:4317' : 'http://localhost:4318');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      push({ severity: 'fail', keys: [endpointKey], text: `${endpointKey}=${JSON.stringify(raw)} is not a URL.` });
      continue;
    }
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const wanted = grpc ? expect.otlpGrpcPort : expect.otlpHttpPort;
    const keys = env[protocolKey] !== undefined ? [endpointKey, protocolKey] : [endpointKey];
    const where = `${url.protocol}//${url.host}`;
    const shown = env[endpointKey] === undefined ? `the default ${where}` : where;
    if (!LOCAL_HOSTS.has(url.hostname)) {
      push({
        severity: 'warn',
        keys,
        text: `${what} go to ${shown} (${endpointKey}), not to this machine's stack (127.0.0.1:${wanted}): the local dashboard will not show them.`,
      });
    } else if (port !== wanted) {
      const other = grpc ? expect.otlpHttpPort : expect.otlpGrpcPort;
      push({
        severity: 'fail',
        keys,
        text:
          port === other
            ? `${what} are sent with protocol ${protocol} to ${shown}, which is the collector's ${grpc ? 'OTLP/HTTP' : 'OTLP/gRPC'} port: ` +
              `use 127.0.0.1:${wanted} for ${protocol} (or the other protocol).`
            : `${what} go to ${shown} (${endpointKey}${env[protocolKey] !== undefined ? `, ${protocol}` : ''}), but the stack's collector takes ` +
              `${grpc ? 'OTLP/gRPC' : 'OTLP/HTTP'} on 127.0.0.1:${wanted}.`,
      });
    }
  }
  const sid = env.OTEL_METRICS_INCLUDE_SESSION_ID;
  if (sid !== undefined && /^(0|false|no|off)$/i.test(sid.trim())) {
    findings.push({
      severity: 'fail',
      keys: ['OTEL_METRICS_INCLUDE_SESSION_ID'],
      text:
        `OTEL_METRICS_INCLUDE_SESSION_ID=${sid}: parallel sessions then write one shared counter, which interleaves and ` +
        'makes cost and token totals explode. It must be true (the default).',
    });
  }
  return findings;
}

function statusOf(findings: readonly EnvFinding[]): CheckStatus {
  return findings.some((f) => f.severity === 'fail') ? 'fail' : findings.length ? 'warn' : 'ok';
}

/** The active terminal: does Claude Code started there report to the stack? */
export function checkTerminalEnvironment(
  terminal: TerminalInput | undefined,
  expect: EnvironmentExpectation,
  opts: { enabled?: boolean; claudeShimDirectory?: string | undefined } = {},
): Omit<CheckResult, 'ms'> {
  const name = 'Active terminal has the telemetry environment';
  const enabled = opts.enabled ?? true;
  if (!terminal) {
    return {
      id: 'terminal-env',
      name,
      status: 'skipped',
      detail: 'No terminal is open.',
      fix: 'Open a new terminal (Terminal → New Terminal) and start `claude` there; it gets the telemetry environment.',
    };
  }
  const env = terminal.env;
  const hasAny = env.CLAUDE_CODE_ENABLE_TELEMETRY !== undefined || env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined;
  if (opts.claudeShimDirectory && !hasAny) {
    const pathEntries = (env.PATH ?? env.Path ?? '').split(/[:;]/);
    if (pathEntries.includes(opts.claudeShimDirectory)) {
      return {
        id: 'terminal-env',
        name,
        status: 'ok',
        detail:
          `"${terminal.name}": "Claude Code only" mode: \`claude\` runs the extension's shim (${opts.claudeShimDirectory}), ` +
          'which sets the telemetry environment for Claude Code alone.',
      };
    }
    return {
      id: 'terminal-env',
      name,
      status: 'fail',
      detail: `"${terminal.name}" has neither the telemetry environment nor the \`claude\` shim directory on PATH.`,
      cause: 'The terminal was opened before the extension set its environment (or before the mode changed).',
      fix: 'Open a new terminal, or relaunch this one (VS Code marks terminals whose environment is out of date with a warning on their tab).',
    };
  }
  if (!hasAny) {
    return {
      id: 'terminal-env',
      name,
      status: 'fail',
      detail: `"${terminal.name}" has no CLAUDE_CODE_ENABLE_TELEMETRY and no OTEL_EXPORTER_OTLP_ENDPOINT: Claude Code started there sends nothing.`,
      cause: enabled
        ? 'The terminal was opened before the extension set the telemetry environment (or it was started by another extension with its own environment).'
        : 'The `claudeTelemetry.terminal.enabled` setting is off: terminals do not get the telemetry environment.',
      fix: enabled
        ? 'Open a new terminal, or relaunch this one (VS Code marks terminals whose environment is out of date with a warning on their tab). ' +
          'Claude Code started elsewhere (another terminal app, the Claude Code panel) needs "Claude Telemetry: Write Telemetry Settings to Claude Code…".'
        : 'Turn on `claudeTelemetry.terminal.enabled` and open a new terminal, or run "Claude Telemetry: Write Telemetry Settings to Claude Code…".',
    };
  }
  const findings = environmentFindings(env, expect);
  const status = statusOf(findings);
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '(default)';
  const protocol = env.OTEL_EXPORTER_OTLP_PROTOCOL ?? '(default http/protobuf)';
  if (status === 'ok') {
    return {
      id: 'terminal-env',
      name,
      status,
      detail: `"${terminal.name}": telemetry on, OTLP ${protocol} to ${endpoint}, one series per session.`,
    };
  }
  return {
    id: 'terminal-env',
    name,
    status,
    detail: `"${terminal.name}": ${findings.map((f) => f.text).join(' ')}`,
    cause:
      'The terminal\'s environment does not match the stack: it was opened before the stack\'s ports or the telemetry ' +
      'settings changed, or a shell profile or terminal profile sets ' +
      `${[...new Set(findings.flatMap((f) => f.keys))].join(', ')}.`,
    fix:
      'Relaunch the terminal (or open a new one) so it gets the current environment; if the problem stays, remove ' +
      'those variables from your shell profile (~/.bashrc, ~/.zshrc, …) or the terminal profile.',
  };
}

/** Claude Code's user settings: does their `env` block override the telemetry environment? */
export async function checkClaudeSettings(path: string, expect: EnvironmentExpectation): Promise<Omit<CheckResult, 'ms'>> {
  const name = 'Claude Code settings (~/.claude/settings.json)';
  const write = '"Claude Telemetry: Write Telemetry Settings to Claude Code…"';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return {
        id: 'claude-settings',
        name,
        status: 'ok',
        detail:
          `${path} does not exist: nothing overrides the terminal environment. Claude Code started outside VS Code's ` +
          `terminals (or from its own VS Code panel) does not report; ${write} covers it.`,
      };
    }
    return {
      id: 'claude-settings',
      name,
      status: 'warn',
      detail: `${path} could not be read: ${(error as Error).message}.`,
      cause: 'Claude Code cannot read it either, so its `env` block does not apply.',
      fix: `Check the file's permissions.`,
    };
  }
  let found: Record<string, unknown>;
  try {
    found = telemetryEnvironmentIn(text, DOCTOR_ENV_NAMES, path);
  } catch (error) {
    if (!(error instanceof SettingsFileError)) throw error;
    return {
      id: 'claude-settings',
      name,
      status: 'warn',
      detail: error.message,
      cause: 'Claude Code cannot use a settings file it cannot parse: its `env` block (and every other setting in it) is ignored.',
      fix: `Fix the JSON in ${path}, then run ${write}.`,
    };
  }
  const settingsEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(found)) settingsEnv[k] = typeof v === 'string' ? v : JSON.stringify(v);
  const keys = Object.keys(settingsEnv);
  if (keys.length === 0) {
    return {
      id: 'claude-settings',
      name,
      status: 'ok',
      detail:
        `${path} sets no telemetry variables: nothing overrides the terminal environment. Claude Code started outside ` +
        `VS Code's terminals (or from its own VS Code panel) does not report; ${write} covers it.`,
    };
  }
  // The `env` block is applied over the environment Claude Code starts with: judge it over what the extension sets.
  const base: Record<string, string> = {
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${expect.otlpHttpPort}`,
    OTEL_METRICS_INCLUDE_SESSION_ID: 'true',
  };
  const findings = environmentFindings({ ...base, ...settingsEnv }, expect).filter((f) => f.keys.some((k) => k in settingsEnv));
  const status = statusOf(findings);
  const shown = keys.map((k) => `${k}=${settingsEnv[k]}`).join(', ');
  if (status === 'ok') {
    return {
      id: 'claude-settings',
      name,
      status,
      detail: `${path} sets ${shown}: consistent with the stack.`,
    };
  }
  return {
    id: 'claude-settings',
    name,
    status,
    detail: `${path}: ${findings.map((f) => f.text).join(' ')}`,
    cause:
      `Claude Code applies the \`env\` block of ${path} over the environment it starts with, so these values win over ` +
      `every terminal's: ${[...new Set(findings.flatMap((f) => f.keys))].map((k) => `${k}=${settingsEnv[k] ?? '(unset)'}`).join(', ')}.`,
    fix: `Run ${write} to set the values the stack needs (a backup is kept), or edit the \`env\` block of ${path}.`,
  };
}

// --- HTTP helpers ------------------------------------------------------------------------------------------------

interface HttpAnswer {
  status: number;
  text: string;
}

/** A check's outcome without its id and name. */
type Verdict = Omit<CheckResult, 'id' | 'name' | 'ms'>;

type CauseFix = Required<Pick<CheckResult, 'cause' | 'fix'>>;

/** What differs between the checks that POST an empty OTLP/HTTP JSON request. */
interface OtlpCheck {
  id: 'collector-otlp' | 'loki-otlp';
  name: string;
  url: string;
  body: unknown;
  /** Why an answer of 404 or 405 (no such endpoint) fails, and the fix. */
  notFound: CauseFix;
  /** Why another answer that is not 2xx fails, and the fix. */
  rejected: (res: HttpAnswer) => CauseFix;
  /** Why no answer came, and the fix. */
  unreachable: (error: NetError) => CauseFix;
}

/** A round trip's probe the collector accepted. */
interface SentProbe {
  /** When it was sent (epoch ms). */
  sent: number;
  /** Milliseconds until the collector accepted it. */
  accepted: number;
  hops: Hop[];
}

class NetError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function http(method: 'GET' | 'POST', url: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<HttpAnswer> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const res = await request(url, {
      method,
      signal: combined,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    return { status: res.statusCode, text };
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) throw new NetError('TIMEOUT', `no answer within ${timeoutMs} ms`);
    const code = errorCode(e) ?? 'ERROR';
    throw new NetError(code, `${code === 'ECONNREFUSED' ? 'connection refused' : code}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function hostPort(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function short(text: string, max = 200): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NetError('TIMEOUT', `${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// --- the doctor --------------------------------------------------------------------------------------------------

const START = '"Claude Telemetry: Start Telemetry Stack"';
const RESTART = '"Claude Telemetry: Restart Telemetry Stack"';
const LOGS = '"Claude Telemetry: Show Stack Logs…"';

interface StackErrorLike {
  code: string;
  message: string;
  setting?: string;
}

function stackErrorOf(e: unknown): StackErrorLike | undefined {
  const x = e as { code?: unknown; message?: unknown; name?: unknown } | null;
  if (x && typeof x.code === 'string' && typeof x.message === 'string' && x.name === 'StackError') return x as StackErrorLike;
  return undefined;
}

/** Runs every check in order and returns the results. Never throws for a broken hop; only cancellation throws. */
export async function runPipelineDoctor(opts: DoctorOptions): Promise<DoctorResult> {
  const t0 = Date.now();
  const runId = opts.runId ?? newRunId();
  const timeoutMs = opts.requestTimeoutMs ?? 5000;
  const roundTripMs = opts.roundTripTimeoutMs ?? 30_000;
  const pollMs = opts.pollMs ?? 500;
  const job = opts.scrapeJob ?? STACK_SCRAPE_JOB;
  const collectorService = opts.collectorService ?? COLLECTOR_SERVICE;
  const signal = opts.signal;
  const ep = opts.endpoints;
  const otlpBase = ep.otlpHttp.replace(/\/+$/, '');
  const checks: CheckResult[] = [];
  const expect: EnvironmentExpectation = {
    otlpHttpPort: Number(new URL(otlpBase).port || 80),
    otlpGrpcPort: ep.otlpGrpcPort,
  };

  const record = (r: CheckResult): CheckResult => {
    checks.push(r);
    opts.onCheck?.(r);
    return r;
  };
  const timed = async (name: string, fn: () => Promise<Omit<CheckResult, 'ms'>>): Promise<CheckResult> => {
    signal?.throwIfAborted();
    opts.onCheckStart?.(name);
    const s = Date.now();
    const r = await fn();
    return record({ ...r, ms: Date.now() - s });
  };

  const prom = new PrometheusClient({ baseUrl: ep.prometheus, timeoutMs });
  const loki = new LokiClient({ baseUrl: ep.loki, timeoutMs });
  try {
    // 1. Docker engine.
    let engine: DoctorEngine | undefined;
    await timed('Docker engine reachable', async () => {
      const name = 'Docker engine reachable';
      try {
        const e = await opts.openEngine();
        await withTimeout(e.ping(), timeoutMs, 'Docker ping');
        engine = e;
        return { id: 'docker', name, status: 'ok', detail: 'The container engine answers.' };
      } catch (error) {
        const se = stackErrorOf(error);
        const msg = error instanceof Error ? error.message : String(error);
        const code = se?.code ?? (error instanceof NetError ? 'timeout' : 'engine-error');
        const cause =
          code === 'no-engine'
            ? 'No container engine was found (no Docker socket, DOCKER_HOST or Docker context).'
            : code === 'permission-denied'
              ? 'VS Code may not use the Docker socket (your user is not in the `docker` group, or the new group does not apply to VS Code yet).'
              : code === 'engine-not-running'
                ? 'Docker is not running, or it listens somewhere else than where the extension looks (the `claudeTelemetry.docker.host` setting, DOCKER_HOST).'
                : code === 'timeout'
                  ? 'The container engine does not answer (it may be starting, or hung).'
                  : 'The container engine answered with an error.';
        const fix =
          code === 'permission-denied'
            ? 'Run `sudo usermod -aG docker $USER`, log out and back in (or reboot), then run this check again.'
            : 'Start Docker (Docker Desktop, the Docker Engine service, Podman\'s Docker socket or Colima), or point the ' +
              '`claudeTelemetry.docker.host` setting at your engine (e.g. unix:///path/to/docker.sock); then run this check again.';
        return { id: 'docker', name, status: 'fail', detail: msg, cause, fix };
      }
    });

    // 2. Each container.
    let statuses: ServiceStatus[] | undefined;
    if (engine) {
      signal?.throwIfAborted();
      const s = Date.now();
      try {
        statuses = await withTimeout(engine.status(), timeoutMs, 'Docker container list');
      } catch (error) {
        record({
          id: 'container:*',
          name: 'Containers',
          status: 'fail',
          ms: Date.now() - s,
          detail: error instanceof Error ? error.message : String(error),
          cause: 'The engine could not list the stack\'s containers.',
          fix: 'Check that Docker is healthy (`docker ps`), then run this check again.',
        });
      }
      const ms = Date.now() - s;
      const allMissing = !!statuses && statuses.every((x) => x.state === 'missing');
      for (const st of statuses ?? []) {
        record({ ...containerCheck(st, allMissing), ms });
      }
    } else {
      record({
        id: 'container:*',
        name: 'Containers healthy',
        status: 'skipped',
        ms: 0,
        detail: 'Skipped: the container engine is not reachable (see above).',
      });
    }
    const stateOf = (service: string): ServiceStatus | undefined => statuses?.find((x) => x.service === service);
    const downText = (service: string): string | undefined => {
      const st = stateOf(service);
      if (!st) return engine ? undefined : 'the container engine is not reachable';
      if (st.state === 'missing') return `the ${service} container does not exist (the stack is not started)`;
      if (st.state === 'exited') return `the ${service} container is ${st.restarting ? 'restarting (it keeps exiting)' : 'stopped'}`;
      return undefined;
    };

    // 3. The collector accepts OTLP/HTTP.
    const collector = await timed('Collector accepting OTLP', async () =>
      otlpCheck({
        id: 'collector-otlp',
        name: 'Collector accepting OTLP/HTTP',
        url: `${otlpBase}/v1/metrics`,
        body: { resourceMetrics: [] },
        notFound: {
          cause: `Something that is not the stack's OpenTelemetry collector answers on ${hostPort(otlpBase)} (no /v1/metrics).`,
          fix:
            `Stop the program that holds port ${expect.otlpHttpPort}, or move the stack's OTLP/HTTP port ` +
            `(\`claudeTelemetry.stack.ports.otlpHttp\`), then run ${RESTART} and open a new terminal.`,
        },
        rejected: (res) => ({
          cause: `The collector rejected a valid (empty) OTLP/HTTP JSON request with HTTP ${res.status}.`,
          fix: `Look at the collector's log (${LOGS} → ${collectorService}); ${RESTART}.`,
        }),
        unreachable: (ne) => {
          const down = downText(collectorService);
          return {
            cause: down
              ? `Nothing receives OTLP on ${hostPort(otlpBase)}: ${down}.`
              : ne.code === 'ECONNREFUSED'
                ? `Nothing listens on ${hostPort(otlpBase)}: the stack is stopped, or it publishes the collector on another port ` +
                  '(the `claudeTelemetry.stack.ports.otlpHttp` setting changed after the stack started).'
                : `The collector at ${hostPort(otlpBase)} is not reachable (${ne.code}).`,
            fix: down
              ? down.includes('engine')
                ? `Start Docker, then run ${START}.`
                : `Run ${START}.`
              : `Run ${RESTART} so the stack publishes the port in \`claudeTelemetry.stack.ports.otlpHttp\`; then open a new terminal.`,
          };
        },
      }),
    );

    // 4. Prometheus ready, and scraping the collector.
    const promReady = await timed('Prometheus ready', async () => readyCheck('prometheus-ready', 'Prometheus ready', `${ep.prometheus.replace(/\/+$/, '')}/-/ready`, 'prometheus'));
    const scrape = await timed('Prometheus scraping the collector', async () => {
      const name = `Prometheus scraping the collector (job "${job}")`;
      if (promReady.status === 'fail') {
        return { id: 'prometheus-scrape', name, status: 'skipped', detail: 'Skipped: Prometheus is not reachable (see above).' };
      }
      return scrapeCheck(name);
    });

    // 5. Loki ready, and accepting OTLP.
    const lokiReady = await timed('Loki ready', async () => readyCheck('loki-ready', 'Loki ready', `${ep.loki.replace(/\/+$/, '')}/ready`, 'loki'));
    const lokiOtlp = await timed('Loki accepting OTLP', async () => {
      const id = 'loki-otlp';
      const name = 'Loki accepting OTLP logs';
      if (lokiReady.status === 'fail') {
        return { id, name, status: 'skipped', detail: 'Skipped: Loki is not reachable (see above).' };
      }
      return otlpCheck({
        id,
        name,
        url: `${ep.loki.replace(/\/+$/, '')}/otlp/v1/logs`,
        body: { resourceLogs: [] },
        notFound: {
          cause:
            'Loki does not accept OTLP: it has no /otlp/v1/logs endpoint (Loki older than 3.0, or a gateway that does not ' +
            'route /otlp). The collector sends events there, so they are refused: the events panels (tools, API errors) stay empty.',
          fix:
            'Use Loki 3.x with OTLP ingestion (the stack pins grafana/loki:3.4.6: clear `claudeTelemetry.stack.images.loki`), ' +
            `with \`limits_config.allow_structured_metadata: true\` (stack/loki/config.yaml); then ${RESTART}.`,
        },
        rejected: (res) => ({
          cause: /structured.metadata/i.test(res.text)
            ? 'Loki refuses OTLP logs because structured metadata is disabled (`allow_structured_metadata: false`).'
            : `Loki refused a valid (empty) OTLP logs request with HTTP ${res.status}.`,
          fix: `Restore stack/loki/config.yaml (\`limits_config.allow_structured_metadata: true\`, OTLP ingestion on); then ${RESTART}.`,
        }),
        unreachable: () => ({
          cause: 'Loki stopped answering between the checks.',
          fix: `Run ${RESTART}; if it keeps failing, look at Loki's log (${LOGS} → loki).`,
        }),
      });
    });

    // 6. The round trip: probe metric -> Prometheus, probe event -> Loki, concurrently.
    const collectorOk = collector.status === 'ok';
    opts.onCheckStart?.('Round trip: probe metric and event');
    const [metric, event] = await Promise.all([
      (async (): Promise<Omit<CheckResult, 'ms'>> => {
        const name = `Round trip: probe metric → collector → Prometheus`;
        if (!collectorOk) return { id: 'roundtrip-metric', name, status: 'skipped', detail: 'Skipped: the collector does not accept OTLP (see above).' };
        if (promReady.status === 'fail') return { id: 'roundtrip-metric', name, status: 'skipped', detail: 'Skipped: Prometheus is not reachable (see above).' };
        return roundTrip('roundtrip-metric', name, followProbeMetric);
      })(),
      (async (): Promise<Omit<CheckResult, 'ms'>> => {
        const name = `Round trip: probe event → collector → Loki`;
        if (!collectorOk) return { id: 'roundtrip-event', name, status: 'skipped', detail: 'Skipped: the collector does not accept OTLP (see above).' };
        if (lokiReady.status === 'fail') return { id: 'roundtrip-event', name, status: 'skipped', detail: 'Skipped: Loki is not reachable (see above).' };
        if (lokiOtlp.status === 'fail') return { id: 'roundtrip-event', name, status: 'skipped', detail: 'Skipped: Loki does not accept OTLP logs (see above), so the event cannot arrive.' };
        return roundTrip('roundtrip-event', name, followProbeEvent);
      })(),
    ]);
    const rtMs = Math.max(metric.hops?.at(-1)?.ms ?? 0, event.hops?.at(-1)?.ms ?? 0);
    record({ ...metric, ms: metric.hops?.at(-1)?.ms ?? (metric.status === 'skipped' ? 0 : rtMs) });
    record({ ...event, ms: event.hops?.at(-1)?.ms ?? (event.status === 'skipped' ? 0 : rtMs) });

    // 7. The environment Claude Code starts with.
    await timed('Active terminal environment', async () =>
      checkTerminalEnvironment(opts.terminal, expect, { enabled: opts.terminalEnvironmentEnabled ?? true, claudeShimDirectory: opts.claudeShimDirectory }),
    );
    await timed('Claude Code settings', async () =>
      checkClaudeSettings(opts.claudeSettingsPath ?? join(homedir(), '.claude', 'settings.json'), expect),
    );

    return finish();

    // --- check bodies (closures over the state above) ---

    /** Sends one request for a check: `judge` reads the answer; `unreachable` says why none came (cancellation throws). */
    async function httpCheck(
      id: CheckId,
      name: string,
      method: 'GET' | 'POST',
      url: string,
      body: unknown,
      judge: (res: HttpAnswer) => Verdict,
      unreachable: (error: NetError) => CauseFix,
    ): Promise<Omit<CheckResult, 'ms'>> {
      let res: HttpAnswer;
      try {
        res = await http(method, url, body, timeoutMs, signal);
      } catch (error) {
        if (signal?.aborted) throw error;
        const ne = error as NetError;
        return { id, name, status: 'fail', detail: `${method} ${url}: ${ne.message}.`, ...unreachable(ne) };
      }
      return { id, name, ...judge(res) };
    }

    /** POSTs an empty OTLP/HTTP JSON request: any 2xx is ok; 404 or 405 means something else answers on that port. */
    function otlpCheck(c: OtlpCheck): Promise<Omit<CheckResult, 'ms'>> {
      return httpCheck(
        c.id,
        c.name,
        'POST',
        c.url,
        c.body,
        (res) => {
          if (res.status >= 200 && res.status < 300) {
            return { status: 'ok', detail: `POST ${c.url} (empty OTLP/HTTP JSON request) → HTTP ${res.status}.` };
          }
          const why = res.status === 404 || res.status === 405 ? c.notFound : c.rejected(res);
          return { status: 'fail', detail: `POST ${c.url} → HTTP ${res.status} ${short(res.text)}.`, ...why };
        },
        c.unreachable,
      );
    }

    function readyCheck(id: 'prometheus-ready' | 'loki-ready', name: string, url: string, service: string): Promise<Omit<CheckResult, 'ms'>> {
      const label = service === 'loki' ? 'Loki' : 'Prometheus';
      const setting = service === 'loki' ? 'claudeTelemetry.stack.ports.loki' : 'claudeTelemetry.stack.ports.prometheus';
      return httpCheck(
        id,
        name,
        'GET',
        url,
        undefined,
        (res) => {
          if (res.status === 200) return { status: 'ok', detail: `GET ${url} → 200 ${short(res.text, 60)}` };
          if (res.status === 503) {
            return {
              status: 'warn',
              detail: `GET ${url} → 503 ${short(res.text)}`,
              cause:
                service === 'loki'
                  ? 'Loki is still starting: /ready answers 503 for about 15 s after its ingester joins the ring.'
                  : 'Prometheus is still starting (replaying its write-ahead log after a restart).',
              fix: 'Wait a few seconds and run this check again.',
            };
          }
          return {
            status: 'fail',
            detail: `GET ${url} → HTTP ${res.status} ${short(res.text)}`,
            cause: `Something that is not ${label} answers on ${hostPort(url)}.`,
            fix: `Free the port or move the stack's ${label} port (\`${setting}\`), then run ${RESTART}.`,
          };
        },
        () => {
          const down = downText(service);
          return {
            cause: down
              ? `${label} is not running: ${down}.`
              : `Nothing answers on ${hostPort(url)}: the stack is stopped, or ${label} is published on another port (\`${setting}\` changed after the stack started).`,
            fix: down?.includes('engine') ? `Start Docker, then run ${START}.` : `Run ${down ? START : RESTART}.`,
          };
        },
      );
    }

    async function scrapeCheck(name: string): Promise<Omit<CheckResult, 'ms'>> {
      const id = 'prometheus-scrape';
      let targets: Array<Record<string, unknown>>;
      try {
        const body = await prom.http.getJson('api/v1/targets', { state: 'active' }, signal ? { signal } : {});
        const data = isObject(body) && isObject(body['data']) ? body['data'] : undefined;
        const list = data?.['activeTargets'];
        if (!Array.isArray(list)) throw prom.malformed('api/v1/targets', 'no activeTargets list');
        targets = list.filter(isObject);
      } catch (error) {
        if (signal?.aborted) throw error;
        // Not every Prometheus-compatible server has the targets API (Mimir, Thanos): ask `up` instead.
        return upCheck(name, error);
      }
      const pools = [...new Set(targets.map((t) => String(t['scrapePool'] ?? (isObject(t['labels']) ? t['labels']['job'] : ''))))].sort();
      const mine = targets.filter((t) => t['scrapePool'] === job || (isObject(t['labels']) && t['labels']['job'] === job));
      if (mine.length === 0) {
        return {
          id,
          name,
          status: 'fail',
          detail: `Prometheus has no scrape job "${job}"; its jobs: ${pools.join(', ') || '(none)'}.`,
          cause:
            'Prometheus is not scraping the collector: its configuration has no job reading the collector\'s Prometheus ' +
            'exporter (otel-collector:8889), so no Claude Code metric ever reaches it.',
          fix:
            `Restore stack/prometheus/prometheus.yml (reinstalling the extension restores it) with the "${job}" job ` +
            `scraping otel-collector:8889 (honor_labels: true); then run ${RESTART}.`,
        };
      }
      const up = mine.filter((t) => t['health'] === 'up');
      const down = mine.filter((t) => t['health'] === 'down');
      const url = String(mine[0]?.['scrapeUrl'] ?? '');
      if (up.length === mine.length) {
        const last = Date.parse(String(mine[0]?.['lastScrape'] ?? ''));
        const ago = Number.isFinite(last) ? `, last scraped ${Math.max(0, Math.round((Date.now() - last) / 1000))} s ago` : '';
        return { id, name, status: 'ok', detail: `Target ${url} is up${ago}.` };
      }
      if (down.length) {
        const err = String(down[0]?.['lastError'] ?? '');
        const collectorDown = downText(collectorService);
        return {
          id,
          name,
          status: 'fail',
          detail: `Target ${url} is down${err ? `: ${short(err, 300)}` : ''}.`,
          cause: collectorDown
            ? `Prometheus is not scraping the collector: ${collectorDown}.`
            : 'Prometheus is not scraping the collector: it cannot read the collector\'s exporter (the collector is not ' +
              'running, was recreated on another network, or its `prometheus` exporter is not on :8889).',
          fix: collectorDown
            ? `Run ${START}.`
            : `Run ${RESTART}; if the target stays down, look at the collector's log (${LOGS} → ${collectorService}).`,
        };
      }
      return {
        id,
        name,
        status: 'warn',
        detail: `Target ${url} has not been scraped yet (health "${String(mine[0]?.['health'] ?? 'unknown')}").`,
        cause: 'Prometheus has just started: it scrapes every 5 s.',
        fix: 'Run this check again in a few seconds.',
      };
    }

    async function upCheck(name: string, targetsError: unknown): Promise<Omit<CheckResult, 'ms'>> {
      const id = 'prometheus-scrape';
      try {
        const samples = await prom.instant(`up{job="${job}"}`, Date.now() / 1000, signal ? { signal } : {});
        if (samples.length === 0) {
          return {
            id,
            name,
            status: 'fail',
            detail: `No \`up{job="${job}"}\` series (and the targets API failed: ${(targetsError as Error).message}).`,
            cause: 'Prometheus is not scraping the collector: no job of that name exists.',
            fix: `Restore stack/prometheus/prometheus.yml with the "${job}" job scraping otel-collector:8889; then run ${RESTART}.`,
          };
        }
        if (samples.every((s) => s.value === 1)) return { id, name, status: 'ok', detail: `up{job="${job}"} = 1.` };
        return {
          id,
          name,
          status: 'fail',
          detail: `up{job="${job}"} = 0.`,
          cause: 'Prometheus is not scraping the collector: the target is down.',
          fix: `Run ${RESTART}; if it stays down, look at the collector's log (${LOGS} → ${collectorService}).`,
        };
      } catch (error) {
        if (signal?.aborted) throw error;
        return {
          id,
          name,
          status: 'fail',
          detail: error instanceof TelemetryError ? error.message : String(error),
          cause: 'Prometheus answers /-/ready but not its query API.',
          fix: `Run ${RESTART}.`,
        };
      }
    }

    /** Sends a round trip's probe to the collector and, once the collector accepts it, follows it with `follow`. */
    async function roundTrip(
      id: 'roundtrip-metric' | 'roundtrip-event',
      name: string,
      follow: (probe: SentProbe) => Promise<Verdict>,
    ): Promise<Omit<CheckResult, 'ms'>> {
      const metric = id === 'roundtrip-metric';
      const sent = Date.now();
      let res: HttpAnswer;
      try {
        const body = metric ? probeMetricRequest(runId, sent) : probeEventRequest(runId, sent);
        res = await http('POST', `${otlpBase}/v1/${metric ? 'metrics' : 'logs'}`, body, timeoutMs, signal);
      } catch (error) {
        if (signal?.aborted) throw error;
        const what = metric ? 'the probe' : 'the probe event';
        return { id, name, status: 'fail', detail: `Sending ${what} failed: ${(error as Error).message}.`, cause: 'The collector stopped answering between the checks.', fix: `Run ${RESTART}.` };
      }
      const accepted = Date.now() - sent;
      const hops: Hop[] = [{ name: 'collector accepted (OTLP/HTTP)', ms: accepted }];
      if (res.status < 200 || res.status > 299) {
        return {
          id,
          name,
          status: 'fail',
          hops,
          detail: `The collector refused the probe ${metric ? 'metric' : 'event'}: HTTP ${res.status} ${short(res.text)}.`,
          cause: `The collector rejects OTLP ${metric ? 'metrics' : 'logs'} it should accept.`,
          fix: `Look at the collector's log (${LOGS} → ${collectorService}); ${RESTART}.`,
        };
      }
      return { id, name, ...(await follow({ sent, accepted, hops })) };
    }

    /** After the collector accepted the probe metric: waits for it in Prometheus and judges the name it has there. */
    async function followProbeMetric({ sent, accepted, hops }: SentProbe): Promise<Verdict> {
      const found = await waitForProbeMetric(prom, runId, { timeoutMs: roundTripMs, pollMs, signal, since: sent });
      if (found.name) {
        hops.push({ name: `in Prometheus as ${found.name}`, ms: found.ms });
        const verdict = classifyProbeMetricName(found.name);
        if (verdict.status === 'ok') {
          return {
            status: 'ok',
            hops,
            detail: `Probe \`${PROBE_PROMETHEUS_NAME}{${PROBE_RUN_LABEL}="${runId}"}\`: accepted in ${accepted} ms, in Prometheus after ${found.ms} ms.`,
          };
        }
        return { status: 'fail', hops, detail: `The probe reached Prometheus after ${found.ms} ms as \`${found.name}\`.`, cause: verdict.cause, fix: verdict.fix };
      }
      const lines = await collectorErrorLines(/metric|prometheus|export/i);
      return {
        status: 'fail',
        hops,
        detail:
          `The probe was accepted in ${accepted} ms but \`${PROBE_PROMETHEUS_NAME}{${PROBE_RUN_LABEL}="${runId}"}\` did not ` +
          `appear in Prometheus within ${Math.round(roundTripMs / 1000)} s.` + quoteLines(lines),
        cause:
          scrape.status !== 'ok'
            ? 'Prometheus is not scraping the collector (see the scrape check above).'
            : 'The collector accepted the metric but does not serve it on its Prometheus exporter (:8889): its metrics ' +
              'pipeline or exporter is broken (a changed stack/collector/config.yaml, or a collector without the ' +
              '`deltatocumulative` processor dropping delta sums).',
        fix:
          scrape.status !== 'ok'
            ? 'Fix the scrape first (above), then run this check again.'
            : `Look at the collector's log (${LOGS} → ${collectorService}); restore stack/collector/config.yaml (reinstall the extension) and run ${RESTART}.`,
      };
    }

    /** After the collector accepted the probe event: waits for it in Loki. */
    async function followProbeEvent({ sent, accepted, hops }: SentProbe): Promise<Verdict> {
      const query = `{service_name="${PROBE_SERVICE_NAME}"} | ${PROBE_RUN_LABEL}="${runId}"`;
      const deadline = sent + roundTripMs;
      let lastError: unknown;
      for (;;) {
        signal?.throwIfAborted();
        try {
          const entries = await loki.queryLogs(query, { startMs: sent - 300_000, endMs: Date.now() + 60_000, limit: 5 }, signal ? { signal } : {});
          if (entries.length > 0) {
            const ms = Date.now() - sent;
            hops.push({ name: 'in Loki', ms });
            return {
              status: 'ok',
              hops,
              detail: `Probe event \`{service_name="${PROBE_SERVICE_NAME}"} | ${PROBE_RUN_LABEL}="${runId}"\`: accepted in ${accepted} ms, in Loki after ${ms} ms.`,
            };
          }
          lastError = undefined;
        } catch (error) {
          if (signal?.aborted) throw error;
          lastError = error;
        }
        if (Date.now() + pollMs > deadline) break;
        await sleep(pollMs, signal);
      }
      const lines = await collectorErrorLines(/loki|logs|otlphttp/i);
      const refused = lines.find((l) => /\b404\b/.test(l));
      return {
        status: 'fail',
        hops,
        detail:
          `The probe event was accepted in ${accepted} ms but did not appear in Loki within ${Math.round(roundTripMs / 1000)} s` +
          (lastError ? ` (last query error: ${(lastError as Error).message})` : '') + '.' + quoteLines(lines),
        cause: refused
          ? 'Loki does not accept OTLP: the collector\'s exporter gets 404 from Loki\'s /otlp/v1/logs.'
          : lines.length
            ? 'The collector cannot deliver events to Loki (its `otlphttp/loki` exporter fails: see the log lines).'
            : 'The collector accepted the event but did not forward it to Loki (its logs pipeline or `otlphttp/loki` exporter ' +
              'is broken), or Loki stores it under another stream label than `service_name`.',
        fix: refused
          ? `Use Loki 3.x with OTLP ingestion and \`allow_structured_metadata: true\` (stack/loki/config.yaml); then ${RESTART}.`
          : `Look at the collector's log (${LOGS} → ${collectorService}); restore stack/collector/config.yaml (reinstall the extension) and run ${RESTART}.`,
      };
    }

    async function collectorErrorLines(topic: RegExp): Promise<string[]> {
      if (!engine?.lastLogLines) return [];
      try {
        const lines = await withTimeout(engine.lastLogLines(collectorService, 200), timeoutMs, 'collector log');
        return lines.filter((l) => topic.test(l) && /error|fail|drop|refused|denied|\b4\d\d\b|\b5\d\d\b/i.test(l)).slice(-5);
      } catch {
        return [];
      }
    }

    function finish(): DoctorResult {
      const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skipped: 0 };
      for (const c of checks) counts[c.status]++;
      const failed = checks.filter((c) => c.status === 'fail');
      const summary = failed.length
        ? `${failed.length} problem${failed.length === 1 ? '' : 's'}: ${failed.map((c) => c.name).join('; ')}`
        : counts.warn
          ? `The pipeline works, with ${counts.warn} warning${counts.warn === 1 ? '' : 's'}`
          : `All ${counts.ok} checks passed`;
      return {
        runId,
        startedAt: new Date(t0).toISOString(),
        ms: Date.now() - t0,
        endpoints: ep,
        checks,
        counts,
        summary,
        notes: opts.notes ?? [],
      };
    }
  } finally {
    await Promise.allSettled([prom.close(), loki.close()]);
  }
}

function containerCheck(st: ServiceStatus, allMissing: boolean): Omit<CheckResult, 'ms'> {
  const id = `container:${st.service}` as const;
  const name = `Container ${st.service}`;
  const c = st.container ? ` (${st.container})` : '';
  switch (st.state) {
    case 'healthy':
    case 'running':
      return st.outdated
        ? {
            id, name, status: 'warn', detail: `${st.state}${c}, but created from older settings.`,
            cause: 'The stack\'s settings (ports, images, retention) changed after it started.',
            fix: `Run ${RESTART} to apply them.`,
          }
        : { id, name, status: 'ok', detail: st.state === 'healthy' ? `healthy${c}.` : `running${c} (no health check).` };
    case 'starting':
      return { id, name, status: 'warn', detail: `starting${c}: its health check has not passed yet.`, cause: 'The stack has just started.', fix: 'Run this check again in a few seconds.' };
    case 'unhealthy':
      return {
        id, name, status: 'fail', detail: `unhealthy${c}: its health check fails.`,
        cause: `${st.service} runs but does not answer its health check.`,
        fix: `Look at its log (${LOGS} → ${st.service}); ${RESTART}.`,
      };
    case 'exited':
      return {
        id, name, status: 'fail',
        detail: st.restarting
          ? `restarting${c}: it keeps exiting (last exit code ${st.exitCode ?? '?'}).`
          : `stopped${c}${st.exitCode !== undefined ? ` (exit code ${st.exitCode})` : ''}.`,
        cause: st.restarting ? `${st.service} crashes on start.` : `${st.service} was stopped${st.exitCode ? ' or crashed' : ''}.`,
        fix: st.restarting ? `Look at its log (${LOGS} → ${st.service}); ${RESTART}.` : `Run ${START}.`,
      };
    case 'missing':
      return {
        id, name, status: 'fail', detail: 'no container.',
        cause: allMissing ? 'The telemetry stack is not started (or was deleted).' : `${st.service}'s container was removed.`,
        fix: `Run ${START}.`,
      };
  }
}

/** Polls Prometheus for the probe of `runId` under any name (to recognise a renamed one). */
export async function waitForProbeMetric(
  prom: PrometheusClient,
  runId: string,
  opts: { timeoutMs: number; pollMs: number; signal?: AbortSignal | undefined; since?: number },
): Promise<{ name?: string; ms: number; lastError?: unknown }> {
  const since = opts.since ?? Date.now();
  const deadline = since + opts.timeoutMs;
  // `.` matches `_` too: finds Prometheus 3's UTF-8 name `claude_code.doctor.probe` as well.
  const query = `{__name__=~".*doctor.probe.*", ${PROBE_RUN_LABEL}="${runId}"}`;
  let lastError: unknown;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const samples = await prom.instant(query, Date.now() / 1000, opts.signal ? { signal: opts.signal } : {});
      const names = samples.map((s) => s.labels['__name__']).filter((n): n is string => !!n);
      if (names.length) {
        const exact = names.find((n) => n === PROBE_PROMETHEUS_NAME);
        return { name: exact ?? names[0], ms: Date.now() - since };
      }
      lastError = undefined;
    } catch (error) {
      if (opts.signal?.aborted) throw error;
      lastError = error;
    }
    if (Date.now() + opts.pollMs > deadline) return { ms: Date.now() - since, lastError };
    await sleep(opts.pollMs, opts.signal);
  }
}

function quoteLines(lines: readonly string[]): string {
  return lines.length ? ` The collector's log says: ${lines.map((l) => `"${short(l, 240)}"`).join('; ')}.` : '';
}
