// The pipeline doctor's environment checks: does Claude Code started in the active terminal get an environment that
// sends its metrics and events to the stack? Pure and plain Node: no `vscode` import.
import type { CheckResult, CheckStatus, TerminalInput } from './checks';

export interface EnvironmentExpectation {
  otlpHttpPort: number;
  otlpGrpcPort: number;
}

interface EnvFinding {
  severity: 'fail' | 'warn';
  text: string;
  /** The variables this finding is about. */
  keys: string[];
}

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
export function environmentFindings(
  env: Readonly<Record<string, string | undefined>>,
  expect: EnvironmentExpectation,
): EnvFinding[] {
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
    findings.push({
      severity: 'fail',
      keys: ['OTEL_SDK_DISABLED'],
      text: 'OTEL_SDK_DISABLED=true turns every OpenTelemetry exporter off.',
    });
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
    const endpointKey =
      env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`] !== undefined
        ? `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`
        : 'OTEL_EXPORTER_OTLP_ENDPOINT';
    const protocolKey =
      env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] !== undefined
        ? `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`
        : 'OTEL_EXPORTER_OTLP_PROTOCOL';
    const protocol = (env[protocolKey] ?? 'http/protobuf').trim().toLowerCase();
    const what = signal === 'METRICS' ? 'Metrics' : 'Events';
    const push = (f: EnvFinding): void => {
      const k = `${f.severity}|${f.text.replace(/^(Metrics|Events)/, '')}`;
      if (seen.has(k)) return;
      seen.add(k);
      findings.push(f);
    };
    if (!PROTOCOLS.has(protocol)) {
      push({
        severity: 'fail',
        keys: [protocolKey],
        text: `${protocolKey}=${JSON.stringify(env[protocolKey])} is not one of http/json, http/protobuf, grpc.`,
      });
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

export function statusOf(findings: readonly EnvFinding[]): CheckStatus {
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
      "The terminal's environment does not match the stack: it was opened before the stack's ports or the telemetry " +
      'settings changed, or a shell profile or terminal profile sets ' +
      `${[...new Set(findings.flatMap((f) => f.keys))].join(', ')}.`,
    fix:
      'Relaunch the terminal (or open a new one) so it gets the current environment; if the problem stays, remove ' +
      'those variables from your shell profile (~/.bashrc, ~/.zshrc, …) or the terminal profile.',
  };
}
