// The real OpenTelemetry Collector, Prometheus (with promtool) and Cortex, built from their Go modules by
// scripts/components.sh at the versions stack/compose.yaml and stack/team/compose.yaml pin. The script builds into the tools cache once and
// answers from it afterwards (about a second), so every test that needs a binary asks for it here.
//
//   node out/test/support/components.js     builds what is missing and prints the paths (npm test runs it first)
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from './paths';

export interface Components {
  prometheusVersion: string;
  prometheus: string;
  promtool: string;
  collectorVersion: string;
  collector: string;
  cortexVersion: string;
  cortex: string;
}

let found: Components | undefined;
// The home as the process started: a test that points HOME elsewhere (a temporary ~/.claude) must not send the
// build, and Go's caches, to a cold directory.
const startHome = process.env.HOME;

/** The built binaries; builds them first when the cache lacks them (minutes, cold). */
export function components(): Components {
  if (found) return found;
  const out = execFileSync('bash', [path.join(repoRoot, 'scripts', 'components.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...(startHome ? { HOME: startHome } : {}) },
    maxBuffer: 1 << 20,
  });
  const values = new Map(
    out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  const get = (key: string): string => {
    const v = values.get(key);
    if (!v) throw new Error(`scripts/components.sh printed no ${key}:\n${out}`);
    return v;
  };
  found = {
    prometheusVersion: get('PROMETHEUS_VERSION'),
    prometheus: get('PROMETHEUS'),
    promtool: get('PROMTOOL'),
    collectorVersion: get('COLLECTOR_VERSION'),
    collector: get('COLLECTOR'),
    cortexVersion: get('CORTEX_VERSION'),
    cortex: get('CORTEX'),
  };
  return found;
}

if (require.main === module) console.log(JSON.stringify(components(), null, 2));
