// Claude Code's own transcripts (`<config dir>/projects/<folder>/<session>.jsonl`), read for their usage metadata only:
// ids, times, model, token counts and the working folder. Prompts, code and tool output stay in the file: a line's
// text is parsed and dropped, never kept. Plain Node: never import `vscode`.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { errorCode } from '../errorCode';

/** One answer of the Messages API as a transcript keeps it: what it cost is priced from these. */
export interface UsageEntry {
  /** Unix ms. */
  timeMs: number;
  sessionId: string;
  /** `message.id`; with requestId, what ccusage and this import count once. */
  messageId: string;
  /** The API's request id: Claude Code's `api_request` events carry it as `request_id`. */
  requestId: string;
  model: string;
  /** The folder the session ran in (`cwd`): its last part is the project. */
  cwd: string;
  /** A subagent's request (`isSidechain`), and the subagent's type (`attributionAgent`) when the line names it. */
  sidechain: boolean;
  agent: string;
  /** Where the session ran (`entrypoint`: cli, claude-vscode, sdk-cli, ...), as telemetry's `app.entrypoint`. */
  entrypoint: string;
  input: number;
  output: number;
  cacheRead: number;
  /** Cache writes that live 5 minutes (all of them when the line does not split them). */
  cacheWrite5m: number;
  cacheWrite1h: number;
}

/** A transcript file, as far as it was read. */
export interface TranscriptFile {
  path: string;
  /** Bytes read: the complete lines up to here (a line being written is read next time). */
  bytes: number;
  mtimeMs: number;
  entries: UsageEntry[];
  /** Lines that are not JSON or not a transcript entry, with the first one's number. */
  problems: { count: number; firstLine: number; reason: string } | undefined;
}

/** Where Claude Code keeps its projects: CLAUDE_CONFIG_DIR (comma-separated), else both of its defaults. */
export function projectRoots(env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const configured = env['CLAUDE_CONFIG_DIR']
    ?.split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  const dirs = configured?.length
    ? configured
    : [join(env['XDG_CONFIG_HOME'] || join(home, '.config'), 'claude'), join(home, '.claude')];
  return dirs.map((d) => join(d, 'projects'));
}

export interface FoundFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** The transcripts under the roots; a root that is missing is skipped, one that cannot be read is reported. */
export async function findTranscripts(
  roots: readonly string[],
): Promise<{ files: FoundFile[]; unreadable: Array<{ path: string; reason: string }> }> {
  const files: FoundFile[] = [];
  const unreadable: Array<{ path: string; reason: string }> = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let names;
    try {
      names = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (depth > 0 || errorCode(e) !== 'ENOENT') unreadable.push({ path: dir, reason: describe(e) });
      return;
    }
    for (const d of names) {
      const path = join(dir, d.name);
      // Subagents' transcripts sit in a folder of their session's (`<session>/subagents/agent-*.jsonl`).
      if (d.isDirectory() && depth < 3) await walk(path, depth + 1);
      else if (d.isFile() && d.name.endsWith('.jsonl')) {
        try {
          const s = await stat(path);
          files.push({ path, size: s.size, mtimeMs: s.mtimeMs });
        } catch (e) {
          unreadable.push({ path, reason: describe(e) });
        }
      }
    }
  };
  for (const root of roots) await walk(root, 0);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, unreadable };
}

/**
 * Reads a transcript's complete lines from `from` (a byte offset where an earlier read stopped) and keeps the usage of
 * each assistant answer. A line that is cut off at the end (Claude Code is writing it) is left for the next read.
 */
export async function readTranscript(path: string, from = 0, signal?: AbortSignal): Promise<TranscriptFile> {
  const s = await stat(path);
  const entries: UsageEntry[] = [];
  let problems: TranscriptFile['problems'];
  const problem = (line: number, reason: string): void => {
    if (problems) problems.count++;
    else problems = { count: 1, firstLine: line, reason };
  };
  let offset = from;
  let lineNo = 0;
  let rest: Buffer = Buffer.alloc(0);
  const stream = createReadStream(path, { start: from, highWaterMark: 1 << 20 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    signal?.throwIfAborted();
    const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    // The next `"usage"` of the buffer: each byte is searched once, however far the next one is.
    let usageAt = buf.indexOf(USAGE_KEY);
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      lineNo++;
      if (usageAt !== -1 && usageAt < start) usageAt = buf.indexOf(USAGE_KEY, start);
      // Only assistant answers carry usage: the other lines (prompts, tool results: most of the bytes) are not parsed.
      if (usageAt !== -1 && usageAt + USAGE_KEY.length <= nl) {
        const entry = parseLine(buf.toString('utf8', start, nl), (reason) => problem(lineNo, reason));
        if (entry) entries.push(entry);
      } else if (nl > start && buf[start] !== OPEN_BRACE) {
        problem(lineNo, 'not a JSON object');
      }
      offset += nl + 1 - start;
      start = nl + 1;
    }
    rest = buf.subarray(start);
  }
  return { path, bytes: offset, mtimeMs: s.mtimeMs, entries, problems };
}

const USAGE_KEY = Buffer.from('"usage"');
const OPEN_BRACE = 0x7b;

/** The usage of a transcript line, or undefined when it is not an assistant answer with usage. */
export function parseLine(text: string, problem: (reason: string) => void): UsageEntry | undefined {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    problem('not valid JSON (cut off or corrupted)');
    return undefined;
  }
  if (!isObject(line) || line['type'] !== 'assistant') return undefined;
  const message = line['message'];
  const usage = isObject(message) ? message['usage'] : undefined;
  if (!isObject(message) || !isObject(usage)) return undefined;
  const timeMs = typeof line['timestamp'] === 'string' ? Date.parse(line['timestamp']) : NaN;
  const sessionId = line['sessionId'];
  const model = message['model'];
  if (!Number.isFinite(timeMs) || typeof sessionId !== 'string' || typeof model !== 'string') {
    problem('an answer without its time, session or model');
    return undefined;
  }
  // Claude Code's placeholder for answers it made up itself (an interrupted turn, an API error): nothing was billed.
  if (model === '<synthetic>') return undefined;
  const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
  const split = isObject(usage['cache_creation']) ? usage['cache_creation'] : undefined;
  const cacheWrite = count(usage['cache_creation_input_tokens']);
  const cacheWrite1h = split ? count(split['ephemeral_1h_input_tokens']) : 0;
  return {
    timeMs,
    sessionId,
    messageId: typeof message['id'] === 'string' ? message['id'] : '',
    requestId: typeof line['requestId'] === 'string' ? line['requestId'] : '',
    model,
    cwd: typeof line['cwd'] === 'string' ? line['cwd'] : '',
    sidechain: line['isSidechain'] === true,
    agent: typeof line['attributionAgent'] === 'string' ? line['attributionAgent'] : '',
    entrypoint: typeof line['entrypoint'] === 'string' ? line['entrypoint'] : '',
    input: count(usage['input_tokens']),
    output: count(usage['output_tokens']),
    cacheRead: count(usage['cache_read_input_tokens']),
    cacheWrite5m: Math.max(0, cacheWrite - cacheWrite1h),
    cacheWrite1h,
  };
}

/** The project a session ran in, as the extension's terminals name it (the workspace folder's name). */
export function projectOf(cwd: string): string {
  return cwd.split(/[\\/]/).filter(Boolean).pop() ?? '';
}

function describe(e: unknown): string {
  const code = errorCode(e);
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
