// Every section of `npm run bench` in its quick mode (one run, a small history): the benchmark must keep running
// as the code changes. Its figures are not asserted (tests never assert on wall time); its sections must all print.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../support/paths';

describe('npm run bench (quick)', () => {
  it('runs every section to its table', { timeout: 900_000 }, () => {
    const result = spawnSync(process.execPath, ['--expose-gc', join(repoRoot, 'out', 'bench', 'run.js')], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, BENCH_QUICK: '1' },
      timeout: 890_000,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    assert.equal(result.status, 0, output.slice(-4000));
    for (const heading of [
      '### Activation work',
      '### Worst case from the end of an API request',
      '### Post of a `state` message',
      '### Data sets (real Prometheus',
      '### One full refresh',
      '### Status line bridge',
      '### Team load',
      '### Faults during the load',
    ]) {
      assert.ok(result.stdout.includes(heading), `no "${heading}" section:\n${result.stdout.slice(-4000)}`);
    }
    // The team load's short form: what each developer's CLI spent and sent is in the store's raw series and in Loki,
    // through every fault, whatever the figures. (Through the ruler's rules: printed; under load some developers' cost
    // still comes out high, docs/benchmarks.md section 7.)
    for (const what of ['cost, raw series', 'tokens, raw series', 'events in Loki'])
      assert.match(
        result.stdout,
        new RegExp(`\\| developers exact: ${what}[^|]*\\| (\\d+) of \\1 +\\|`),
        result.stdout.slice(-6000),
      );
  });
});
