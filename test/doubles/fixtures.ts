// The captured Claude Code telemetry (../shared/fixtures/claude-code-2.1.328, or CCT_FIXTURES_DIR), for tests.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sharedDir } from '../support/paths';
import type { LogsRequest } from './common';

export const FIXTURES_DIR = process.env.CCT_FIXTURES_DIR ?? path.join(sharedDir, 'fixtures');
export const CLAUDE_CODE_FIXTURES = path.join(FIXTURES_DIR, 'claude-code-2.1.328');

export interface FixtureRequest {
  file: string;
  path: '/v1/logs' | '/v1/metrics';
  ct: string;
  body: string;
}

export function fixtureRequests(dir = CLAUDE_CODE_FIXTURES): FixtureRequest[] {
  const out: FixtureRequest[] = [];
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.otlp.jsonl'))
    .sort()) {
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (line.trim()) out.push({ file, ...(JSON.parse(line) as Omit<FixtureRequest, 'file'>) });
    }
  }
  return out;
}

/** The total of cost_usd over every api_request event of the fixtures (what Prometheus must end up with). */
export function fixtureApiRequestCost(reqs: FixtureRequest[]): number {
  let total = 0;
  for (const r of reqs.filter((x) => x.path === '/v1/logs')) {
    for (const rl of (JSON.parse(r.body) as LogsRequest).resourceLogs ?? [])
      for (const sl of rl.scopeLogs ?? [])
        for (const rec of sl.logRecords ?? []) {
          const attrs = new Map((rec.attributes ?? []).map((kv) => [kv.key, kv.value]));
          if (attrs.get('event.name')?.stringValue === 'api_request')
            total += Number(attrs.get('cost_usd')?.doubleValue ?? attrs.get('cost_usd')?.intValue ?? 0);
        }
  }
  return total;
}
