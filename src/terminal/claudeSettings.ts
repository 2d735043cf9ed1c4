/**
 * Edits Claude Code's user settings (`~/.claude/settings.json`, JSON with comments) in place: only the keys of
 * its `env` block that carry the telemetry environment change, or its `statusLine`; other keys, comments and
 * formatting stay.
 */
import {
  applyEdits,
  getNodeValue,
  modify,
  parseTree,
  printParseErrorCode,
  type Node,
  type ParseError,
} from 'jsonc-parser';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseBridgeCommand } from '../statusLine/statusLine';

/** The settings file Claude Code reads: in `CLAUDE_CONFIG_DIR` when that is set (one folder), else `~/.claude`. */
export function claudeSettingsPath(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  return join(env['CLAUDE_CONFIG_DIR'] || join(home, '.claude'), 'settings.json');
}

export class SettingsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsFileError';
  }
}

/** jsonc-parser's formatting for what it writes: two spaces, and the file's own line ends. */
function formatting(text: string) {
  return { formattingOptions: { insertSpaces: true, tabSize: 2, eol: lineEnd(text) } };
}

function lineEnd(text: string): string {
  return /\r?\n/.exec(text)?.[0] ?? '\n';
}

/** The file's root object; undefined for an empty file. */
function settingsTree(text: string, path: string): Node | undefined {
  if (text.trim() === '') {
    return undefined;
  }
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
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
  if (root !== undefined && root.type !== 'object') {
    throw new SettingsFileError(`${path} does not hold a JSON object. Fix the file and try again; it was not changed.`);
  }
  return root;
}

function parseSettings(text: string, path: string): Record<string, unknown> {
  const root = settingsTree(text, path);
  const settings = (root ? getNodeValue(root) : {}) as Record<string, unknown>;
  const env = settings.env;
  if (env !== undefined && (typeof env !== 'object' || env === null || Array.isArray(env))) {
    throw new SettingsFileError(
      `The "env" entry of ${path} is not an object. Fix the file and try again; it was not changed.`,
    );
  }
  return settings;
}

/** The file's text with `environment` set in its `env` block. Throws SettingsFileError on a file it cannot read. */
export function withTelemetryEnvironment(text: string, environment: Record<string, string>, path: string): string {
  parseSettings(text, path);
  let result = text.trim() === '' ? '{}\n' : text;
  for (const [name, value] of Object.entries(environment)) {
    result = applyEdits(result, modify(result, ['env', name], value, formatting(result)));
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
      result = applyEdits(result, modify(result, ['env', name], undefined, formatting(result)));
    }
  }
  const remaining = (parseSettings(result, path).env ?? undefined) as Record<string, unknown> | undefined;
  if (remaining && Object.keys(remaining).length === 0) {
    result = applyEdits(result, modify(result, ['env'], undefined, formatting(result)));
  }
  return result;
}

/** The names of the telemetry variables a file's `env` block already has, with their values. */
export function telemetryEnvironmentIn(text: string, names: readonly string[], path: string): Record<string, unknown> {
  const env = (parseSettings(text, path).env ?? {}) as Record<string, unknown>;
  return Object.fromEntries(names.filter((name) => name in env).map((name) => [name, env[name]]));
}

/** The user's own `statusLine`, which the bridge stands in for. */
export interface SavedStatusLine {
  /** Its JSON text as the file has it, comments and layout included: what removing the bridge writes back. */
  text: string;
  /** Its command, when it is a command status line: the bridge runs it and prints what it prints. */
  command: string | undefined;
}

const STATUS_LINE = 'statusLine';

function end(node: Node): number {
  return node.offset + node.length;
}

/** The `statusLine` property node, with the bridge's arguments when its command runs the bridge. */
function statusLineIn(root: Node | undefined) {
  const property = root?.children?.find((child) => child.children?.[0]?.value === STATUS_LINE);
  const value = property?.children?.[1];
  if (property === undefined || value === undefined) {
    return undefined;
  }
  const current: unknown = getNodeValue(value);
  const fields =
    typeof current === 'object' && current !== null && !Array.isArray(current)
      ? (current as Record<string, unknown>)
      : {};
  const bridge = typeof fields.command === 'string' ? parseBridgeCommand(fields.command) : undefined;
  return { property, value, fields, bridge };
}

/**
 * The file's text with `statusLine` running the bridge: `bridgeCommand` gets the user's own status line (undefined
 * when there is none) and returns the command. The user's other status line keys (`padding`, `refreshInterval`,
 * ...) are kept. When the status line already runs the bridge, its command is rewritten for the same saved status
 * line (a new endpoint or editor path), never wrapped in itself. Only the value's text changes, or, when there was
 * no status line, one property is added after the last: `withoutStatusLineBridge` then gives the file back byte
 * for byte.
 */
export function withStatusLineBridge(
  text: string,
  bridgeCommand: (saved: SavedStatusLine | undefined) => string,
  path: string,
): string {
  const base = text.trim() === '' ? '{}\n' : text;
  // Not empty, so an object or an error.
  const root = settingsTree(base, path)!;
  const existing = statusLineIn(root);
  if (existing === undefined) {
    return insertProperty(base, root, STATUS_LINE, bridgeValue(bridgeCommand(undefined), {}));
  }
  const { value, fields, bridge } = existing;
  let saved: SavedStatusLine | undefined;
  if (bridge) {
    // Already the bridge: it stands in for the status line it saved, if any.
    saved =
      bridge.savedStatusLine === undefined
        ? undefined
        : { text: bridge.savedStatusLine, command: bridge.previousCommand };
  } else {
    const command = fields.type === 'command' && typeof fields.command === 'string' ? fields.command : undefined;
    saved = { text: base.slice(value.offset, end(value)), command };
  }
  return base.slice(0, value.offset) + bridgeValue(bridgeCommand(saved), fields) + base.slice(end(value));
}

/** The `statusLine` command when it runs the bridge; undefined for any other status line, or none. */
export function statusLineBridgeCommand(text: string, path: string): string | undefined {
  const existing = statusLineIn(settingsTree(text, path));
  return existing?.bridge ? (existing.fields.command as string) : undefined;
}

/**
 * The file's text with the user's own `statusLine` back (its saved text, exactly), or none when they had none.
 * Unchanged when the status line does not run the bridge.
 */
export function withoutStatusLineBridge(text: string, path: string): string {
  const root = settingsTree(text, path);
  const existing = statusLineIn(root);
  if (root === undefined || existing?.bridge === undefined) {
    return text;
  }
  const { property, value, bridge } = existing;
  if (bridge.savedStatusLine !== undefined) {
    return text.slice(0, value.offset) + bridge.savedStatusLine + text.slice(end(value));
  }
  return removeProperty(text, root, property);
}

/** `{ "type": "command", "command": …, <the other keys> }` on one line. */
function bridgeValue(command: string, fields: Record<string, unknown>): string {
  const entries = [
    ['type', 'command'],
    ['command', command],
    ...Object.entries(fields).filter(([key]) => key !== 'type' && key !== 'command'),
  ];
  return `{ ${entries.map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(', ')} }`;
}

/**
 * Adds `"key": value` after the object's last property, on a line of its own indented as that one (or on the same
 * line when the object is on one line), or alone on a line into an empty object. `removeProperty` undoes exactly this.
 */
function insertProperty(text: string, root: Node, key: string, valueText: string): string {
  const eol = lineEnd(text);
  const property = `${JSON.stringify(key)}: ${valueText}`;
  const last = root.children?.at(-1);
  if (last === undefined) {
    const at = root.offset + 1;
    return `${text.slice(0, at)}${eol}  ${property}${eol}${text.slice(at)}`;
  }
  const lineStart = text.lastIndexOf('\n', last.offset - 1) + 1;
  const separator = lineStart <= root.offset ? ', ' : `,${eol}${/^[ \t]*/.exec(text.slice(lineStart))![0]}`;
  return text.slice(0, end(last)) + separator + property + text.slice(end(last));
}

/** Removes what `insertProperty` added, exactly; a property placed otherwise (comments around it) is removed by jsonc-parser. */
function removeProperty(text: string, root: Node, property: Node): string {
  const siblings = root.children ?? [];
  const previous = siblings[siblings.indexOf(property) - 1];
  if (previous !== undefined && /^,\s*$/.test(text.slice(end(previous), property.offset))) {
    return text.slice(0, end(previous)) + text.slice(end(property));
  }
  const inside = root.offset + 1;
  if (siblings.length === 1 && /^\s*$/.test(text.slice(inside, property.offset))) {
    const eol = /^\r?\n/.exec(text.slice(end(property)))?.[0] ?? '';
    return text.slice(0, inside) + text.slice(end(property) + eol.length);
  }
  const key = property.children![0]!.value as string;
  return applyEdits(text, modify(text, [key], undefined, formatting(text)));
}
