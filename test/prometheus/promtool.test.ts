// promtool, of the Prometheus that stack/compose.yaml pins (built from its Go module by scripts/components.sh):
// the Prometheus config and rule files are valid, and the unit tests of test/prometheus/rules/*.test.yml pass. A
// promtool that cannot be built is a failure, never a skip.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { components } from '../support/components';
import { fromRoot, repoRoot } from '../support/paths';

function promtool(args: string[]): { status: number | null; output: string } {
  const result = spawnSync(components().promtool, args, { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
  if (result.error) assert.fail(`promtool ${args.join(' ')} could not run: ${result.error.message}`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const ruleFiles = ['stack/prometheus/rules/recording.yml', 'stack/prometheus/rules/alerts.yml'];
const unitTests = readdirSync(fromRoot('test', 'prometheus', 'rules'))
  .filter((f) => f.endsWith('.test.yml'))
  .map((f) => path.join('test', 'prometheus', 'rules', f));

describe('promtool', () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'cct-promtool-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('is the version stack/compose.yaml pins', () => {
    const { status, output } = promtool(['--version']);
    assert.equal(status, 0, output);
    const pinned = /prom\/prometheus:v(\d+\.\d+\.\d+)/.exec(
      readFileSync(fromRoot('stack', 'compose.yaml'), 'utf8'),
    )?.[1];
    assert.ok(pinned?.startsWith('3.'), `stack/compose.yaml pins Prometheus 3.x (got ${pinned})`);
    assert.match(output, new RegExp(`promtool, version ${pinned!.replace(/\./g, '\\.')} `));
  });

  it('checks stack/prometheus/prometheus.yml and the rule files it loads', () => {
    const { status, output } = promtool(['check', 'config', 'stack/prometheus/prometheus.yml']);
    assert.equal(status, 0, output);
    assert.match(output, /SUCCESS: 2 rule files found/);
  });

  it('checks the rule files', () => {
    const { status, output } = promtool(['check', 'rules', ...ruleFiles]);
    assert.equal(status, 0, output);
  });

  it('has unit tests for the recording rules and the alerts', () => {
    assert.ok(
      unitTests.some((f) => f.endsWith('recording.test.yml')),
      unitTests.join(', '),
    );
    assert.ok(
      unitTests.some((f) => f.endsWith('alerts.test.yml')),
      unitTests.join(', '),
    );
  });

  for (const file of unitTests) {
    it(`passes ${file}`, () => {
      const { status, output } = promtool(['test', 'rules', file]);
      assert.equal(status, 0, output);
      assert.match(output, /SUCCESS/);
      assert.doesNotMatch(output, /FAILED/);
    });
  }

  it('fails a unit test whose expectation is wrong (the unit tests can fail)', () => {
    const file = path.join(scratch, 'wrong.test.yml');
    writeFileSync(
      file,
      [
        'rule_files:',
        `  - ${JSON.stringify(fromRoot('stack', 'prometheus', 'rules', 'recording.yml'))}`,
        'evaluation_interval: 10s',
        'tests:',
        '  - interval: 5s',
        '    input_series:',
        `      - series: 'claude_code_cost_usage_USD_total{session_id="a",model="opus"}'`,
        "        values: '_x6 0.5x20'",
        '    promql_expr_test:',
        '      - expr: sum by (model) (sum_over_time(claude_code:cost_usd:increase10s[1m]))',
        '        eval_time: 1m',
        '        exp_samples:',
        '          - labels: \'{model="opus"}\'',
        '            value: 0.25',
        '',
      ].join('\n'),
    );
    const { status, output } = promtool(['test', 'rules', file]);
    assert.notEqual(status, 0, output);
    assert.match(output, /FAILED/);
    assert.match(output, /got: \{model="opus"\} 5E-01/, output);
  });
});
