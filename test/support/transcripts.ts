// The real CLI's transcripts (test/support/fixtures/claude-code-2.1.328-transcripts), copied into a Claude Code
// config folder with their times moved so that the newest answer is at `endMs`: tests read them as recent history.
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './paths';

export const TRANSCRIPTS = join(repoRoot, 'test', 'support', 'fixtures', 'claude-code-2.1.328-transcripts');

export interface ApiRequestEvent {
  attributes: Record<string, string | number | boolean>;
}

export async function apiRequestEvents(): Promise<ApiRequestEvent[]> {
  return JSON.parse(await readFile(join(TRANSCRIPTS, 'api-request-events.json'), 'utf8')) as ApiRequestEvent[];
}

/** Copies the fixtures' `projects/` into `configDir` (a CLAUDE_CONFIG_DIR), shifted in time; returns the shift (ms). */
export async function copyShiftedTranscripts(configDir: string, endMs: number): Promise<number> {
  const projects = join(configDir, 'projects');
  await cp(join(TRANSCRIPTS, 'projects'), projects, { recursive: true });
  const files = (await readdir(projects, { recursive: true })).filter((f) => f.endsWith('.jsonl'));
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
