// The real CLI's events: OTLP that Claude Code 2.1.328 sent in runs made to go wrong (and one ordinary run) against a
// scripted Messages API (test/support/fixtures/claude-code-2.1.328-events, described in docs/architecture.md), and a
// Loki double fed with them as the collector forwards them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLokiDouble, type LokiDouble } from '../doubles/loki';
import { repoRoot } from './paths';

const DIR = join(repoRoot, 'test', 'support', 'fixtures', 'claude-code-2.1.328-events');
/** Runs with a retried then abandoned request (500, 529), a refusal, /compact, hooks, MCP servers that cannot start,
 * an ordinary one (nothing goes wrong), a skill and a subagent. */
export const RUNS = [
  'retry-500',
  'retry-529',
  'refusal',
  'compact',
  'hooks',
  'mcp-fail',
  'ordinary',
  // Recorded hours later: last, so that Loki's stream (one here, no collector between) takes them in order.
  'skill',
  'subagent',
] as const;
export type Run = (typeof RUNS)[number];

export interface OtlpRecord {
  timeUnixNano: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}
type OtlpBody = { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: OtlpRecord[] }> }> };

const bodies = (run: Run): OtlpBody[] => JSON.parse(readFileSync(join(DIR, `${run}.logs.json`), 'utf8')) as OtlpBody[];
export const records = (run: Run): OtlpRecord[] =>
  bodies(run).flatMap((b) => b.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)));
export const attribute = (r: OtlpRecord, key: string): string | undefined => {
  const value = r.attributes.find((a) => a.key === key)?.value;
  return value === undefined ? undefined : String(Object.values(value)[0]);
};
const timeMs = (r: OtlpRecord): number => Number(BigInt(r.timeUnixNano) / 1_000_000n);

/** A Loki double holding every run's events; its clock a minute after the last of them. */
export async function lokiWithRuns(): Promise<{ loki: LokiDouble; firstMs: number; clock: number }> {
  const times = RUNS.flatMap((run) => records(run).map(timeMs));
  const clock = Math.max(...times) + 60_000;
  const loki = await startLokiDouble({ port: 0, host: '127.0.0.1', now: () => clock });
  for (const run of RUNS)
    for (const body of bodies(run)) {
      const res = await fetch(`http://127.0.0.1:${loki.port}/otlp/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 204, `${run}: ${await res.text()}`);
    }
  return { loki, firstMs: Math.min(...times), clock };
}
