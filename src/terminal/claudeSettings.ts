/**
 * Edits Claude Code's user settings (`~/.claude/settings.json`, JSON with comments) in place: only the keys of
 * its `env` block that carry the telemetry environment change; other keys, comments and formatting stay.
 */
import { applyEdits, modify, parse, printParseErrorCode, type ParseError } from 'jsonc-parser';

export class SettingsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsFileError';
  }
}

const FORMAT = { formattingOptions: { insertSpaces: true, tabSize: 2, eol: '\n' } };

function parseSettings(text: string, path: string): Record<string, unknown> {
  if (text.trim() === '') {
    return {};
  }
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const first = errors[0];
    const before = text.slice(0, first.offset);
    const line = before.split('\n').length;
    const column = first.offset - before.lastIndexOf('\n');
    throw new SettingsFileError(
      `${path} is not valid JSON (${printParseErrorCode(first.error)} at line ${line}, column ${column}). ` +
        'Fix the file and try again; it was not changed.',
    );
  }
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new SettingsFileError(`${path} does not hold a JSON object. Fix the file and try again; it was not changed.`);
  }
  const env = (value as Record<string, unknown> | undefined)?.env;
  if (env !== undefined && (typeof env !== 'object' || env === null || Array.isArray(env))) {
    throw new SettingsFileError(`The "env" entry of ${path} is not an object. Fix the file and try again; it was not changed.`);
  }
  return (value as Record<string, unknown> | undefined) ?? {};
}

/** The file's text with `environment` set in its `env` block. Throws SettingsFileError on a file it cannot read. */
export function withTelemetryEnvironment(text: string, environment: Record<string, string>, path: string): string {
  parseSettings(text, path);
  let result = text.trim() === '' ? '{}\n' : text;
  for (const [name, value] of Object.entries(environment)) {
    result = applyEdits(result, modify(result, ['env', name], value, FORMAT));
  }
  return result;
}

/** The file's text without the given `env` keys, and without an `env` block the removal left empty. */
export function withoutTelemetryEnvironment(text: string, names: readonly string[], path: string): string {
  const settings = parseSettings(text, path);
  const env = (settings.env ?? {}) as Record<string, unknown>;
  let result = text;
  for (const name of names) {
    if (name in env) {
      result = applyEdits(result, modify(result, ['env', name], undefined, FORMAT));
    }
  }
  const remaining = (parseSettings(result, path).env ?? undefined) as Record<string, unknown> | undefined;
  if (remaining && Object.keys(remaining).length === 0) {
    result = applyEdits(result, modify(result, ['env'], undefined, FORMAT));
  }
  return result;
}

/** The names of the telemetry variables a file's `env` block already has, with their values. */
export function telemetryEnvironmentIn(text: string, names: readonly string[], path: string): Record<string, unknown> {
  const env = (parseSettings(text, path).env ?? {}) as Record<string, unknown>;
  return Object.fromEntries(names.filter((name) => name in env).map((name) => [name, env[name]]));
}
