// The pipeline doctor's check of Claude Code's user settings (~/.claude/settings.json): does their `env` block
// override the telemetry environment? Plain Node: no `vscode` import.
import { readFile } from 'node:fs/promises';
import { SettingsFileError, telemetryEnvironmentIn } from '../terminal/claudeSettings';
import type { CheckResult } from './checks';
import { environmentFindings, statusOf, type EnvironmentExpectation } from './terminalEnvironmentCheck';

/** Variables that decide where (and whether) Claude Code sends telemetry. */
const DOCTOR_ENV_NAMES = [
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

/** Claude Code's user settings: does their `env` block override the telemetry environment? */
export async function checkClaudeSettings(
  path: string,
  expect: EnvironmentExpectation,
): Promise<Omit<CheckResult, 'ms'>> {
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
      cause:
        'Claude Code cannot use a settings file it cannot parse: its `env` block (and every other setting in it) is ignored.',
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
  const findings = environmentFindings({ ...base, ...settingsEnv }, expect).filter((f) =>
    f.keys.some((k) => k in settingsEnv),
  );
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
