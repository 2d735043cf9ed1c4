// The real CLI's transcripts (test/support/fixtures/claude-code-2.1.328-transcripts), copied into a Claude Code
// config folder with their times moved so that the newest answer is at `endMs`: tests read them as recent history.
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { repoRoot } from './paths';

export const TRANSCRIPTS = join(repoRoot, 'test', 'support', 'fixtures', 'claude-code-2.1.328-transcripts');

/** A session id of the fixtures: its first 8 hex digits, then the rest. */
const SESSION_ID = /\b[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/g;

export interface ApiRequestEvent {
  timeUnixNano: string;
  attributes: Record<string, string | number | boolean>;
}

export async function apiRequestEvents(): Promise<ApiRequestEvent[]> {
  return JSON.parse(await readFile(join(TRANSCRIPTS, 'api-request-events.json'), 'utf8')) as ApiRequestEvent[];
}

/**
 * Copies the fixtures' `projects/` into `configDir` (a CLAUDE_CONFIG_DIR), shifted in time; returns the shift (ms).
 * With `sessionPrefix` (8 hex digits) the copies are other sessions: each session id starts with it instead.
 */
export async function copyShiftedTranscripts(
  configDir: string,
  endMs: number,
  sessionPrefix?: string,
): Promise<number> {
  const projects = join(configDir, 'projects');
  const target = sessionPrefix ? join(configDir, `projects-${sessionPrefix}`) : projects;
  await cp(join(TRANSCRIPTS, 'projects'), target, { recursive: true });
  if (sessionPrefix) {
    // Their answers are others too: message and request ids are what repeated lines are told by.
    const renamed = (text: string): string =>
      text
        .replace(SESSION_ID, (_all, rest: string) => `${sessionPrefix}${rest}`)
        .replace(/"(msg|req)_([0-9a-f]+)"/g, (_all, kind: string, id: string) => `"${kind}_${sessionPrefix}${id}"`);
    for (const f of await readdir(target, { recursive: true })) {
      if (!f.endsWith('.jsonl')) continue;
      const path = join(projects, renamed(f));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, renamed(await readFile(join(target, f), 'utf8')));
    }
    await rm(target, { recursive: true });
  }
  const files = (await readdir(projects, { recursive: true })).filter(
    (f) => f.endsWith('.jsonl') && (!sessionPrefix || f.includes(sessionPrefix)),
  );
  const stamp = /"timestamp":"([^"]+)"/g;
  let newest = 0;
  for (const f of files)
    for (const m of (await readFile(join(projects, f), 'utf8')).matchAll(stamp))
      newest = Math.max(newest, Date.parse(m[1]!));
  const shift = endMs - newest;
  for (const f of files) {
    const text = await readFile(join(projects, f), 'utf8');
    await writeFile(
      join(projects, f),
      text.replace(stamp, (_all, t: string) => `"timestamp":"${new Date(Date.parse(t) + shift).toISOString()}"`),
    );
  }
  return shift;
}
