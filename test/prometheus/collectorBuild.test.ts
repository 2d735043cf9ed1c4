// The collector that the tests build is the collector that users pull: stack/collector/builder.yaml is at the
// release of the image stack/compose.yaml pins, every module of one release, with exactly the components that
// stack/collector/config.yaml and the team's gateway use; and the real collector accepts both (a typo or a renamed
// key would stop it and leave the dashboard empty).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { components } from '../support/components';
import { fromRoot, readText } from '../support/paths';

interface Manifest {
  dist: { name: string; version: string };
  [kind: string]: unknown;
}

const KINDS = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'] as const;
const manifest = parse(readText('stack', 'collector', 'builder.yaml')) as Manifest;
type Config = Record<string, Record<string, unknown> | undefined>;
/** The stack's collector, and the team's gateway loaded over it (stack/team/gateway.yaml). */
const configs = [
  parse(readText('stack', 'collector', 'config.yaml')) as Config,
  parse(readText('stack', 'team', 'gateway.yaml')) as Config,
];
const GATEWAY_ENV = {
  GATEWAY_TOKENS_FILE: fromRoot('README.md'),
  STORE_PUSH_URL: 'http://127.0.0.1:9009/api/v1/push',
  LOKI_OTLP_URL: 'http://127.0.0.1:3100/otlp',
  TEAM_TENANT: 'team',
};

function collector(args: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const result = spawnSync(components().collector, args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  if (result.error) assert.fail(`otelcol-contrib ${args.join(' ')} could not run: ${result.error.message}`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The component types the configs use, by kind (`otlp_http/loki` is of type `otlp_http`). */
function usedTypes(): Record<string, string[]> {
  return Object.fromEntries(
    KINDS.map((kind) => [
      kind,
      [...new Set(configs.flatMap((c) => Object.keys(c[kind] ?? {}).map((id) => id.split('/')[0])))].sort(),
    ]),
  );
}

describe('collector build', () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'cct-otelcol-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('is at the release of the image stack/compose.yaml pins', () => {
    const tag = /otel\/opentelemetry-collector-contrib:(\d+\.\d+\.\d+)/.exec(readText('stack', 'compose.yaml'))?.[1];
    assert.equal(tag, manifest.dist.version);
    assert.equal(manifest.dist.name, 'otelcol-contrib');
  });

  it('takes every module from that one release', () => {
    const modules = [...KINDS, 'providers'].flatMap((kind) =>
      ((manifest[kind] ?? []) as { gomod: string }[]).map((c) => c.gomod.split(' ')),
    );
    assert.ok(modules.length > 0);
    const release = `v${manifest.dist.version}`;
    const stable = new Set<string>();
    for (const [module, version] of modules) {
      if (module.startsWith('github.com/open-telemetry/opentelemetry-collector-contrib/'))
        assert.equal(version, release, module);
      else if (module.startsWith('go.opentelemetry.io/collector/')) {
        // The core publishes an unstable v0.N line and a stable v1.M line in each release.
        if (version.startsWith('v1.')) stable.add(version);
        else assert.equal(version, release, module);
      } else assert.fail(`${module} is not an OpenTelemetry Collector module`);
    }
    assert.ok(stable.size <= 1, `one stable core version, got ${[...stable].join(', ')}`);
  });

  it("holds exactly the components stack/collector/config.yaml and the team's gateway use", () => {
    const listed = parse(collector(['components']).output) as Record<string, { name: string }[] | undefined>;
    const built = Object.fromEntries(KINDS.map((kind) => [kind, (listed[kind] ?? []).map((c) => c.name).sort()]));
    assert.deepEqual(built, usedTypes());
  });

  it('is the version the manifest names', () => {
    const { status, output } = collector(['--version']);
    assert.equal(status, 0, output);
    assert.match(output, new RegExp(`version ${manifest.dist.version.replace(/\./g, '\\.')}\\b`));
  });

  it('accepts stack/collector/config.yaml', () => {
    const { status, output } = collector(['validate', `--config=${fromRoot('stack', 'collector', 'config.yaml')}`]);
    assert.equal(status, 0, output);
  });

  it("accepts the team's gateway: stack/team/gateway.yaml over stack/collector/config.yaml", () => {
    const { status, output } = collector(
      [
        'validate',
        `--config=${fromRoot('stack', 'collector', 'config.yaml')}`,
        `--config=${fromRoot('stack', 'team', 'gateway.yaml')}`,
      ],
      GATEWAY_ENV,
    );
    assert.equal(status, 0, output);
  });

  it('refuses a config with a misspelt key, naming it', () => {
    const broken = path.join(scratch, 'config.yaml');
    writeFileSync(broken, readText('stack', 'collector', 'config.yaml').replace('max_stale:', 'max_stail:'));
    const { status, output } = collector(['validate', `--config=${broken}`]);
    assert.notEqual(status, 0);
    assert.match(output, /max_stail/);
  });
});
