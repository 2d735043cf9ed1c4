// Shared setup of the engine suites: the real Docker Engine, unique project names, free ports, cleanup.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import Docker from 'dockerode';
import { loadComposeFile, parseCompose } from '../../src/stack/composeModel';
import type { ComposeModel } from '../../src/stack/composeModel';
import { LABELS } from '../../src/stack/containerSpec';
import { StackEngine } from '../../src/stack/engine';
import type { StackEngineOptions, StartProgress } from '../../src/stack/engine';
import { locateEngine } from '../../src/stack/engineLocator';
import type { EngineLocation } from '../../src/stack/engineLocator';
import { repoRoot } from '../support/paths';
import { ensureTestImages, testImageEnv } from '../support/docker';
import { freePort } from '../support/ports';

export const fixtureDir = path.join(repoRoot, 'test', 'engine', 'fixtures', 'stack');
export const fixtureFile = path.join(fixtureDir, 'compose.yaml');

// Located the way the extension does; a machine without an engine still loads this file (the suites then fail
// through requireDocker(), saying how to start one).
const location = ((): EngineLocation | undefined => {
  try {
    return locateEngine(undefined);
  } catch {
    return undefined;
  }
})();
export const docker = new Docker(location?.options ?? {});
export const where = location?.description ?? 'the default Docker socket';

let counter = 0;
/** A project name unique to this process and call, so suites never share containers. */
export function uniqueProject(tag: string): string {
  counter++;
  return `cct-t-${tag}-${process.pid}-${counter}`.toLowerCase();
}

export { freePort };

/** Hold a port (as another program would) until close() is called. */
export async function holdPort(port: number): Promise<{ close(): Promise<void> }> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve());
  });
  return { close: () => new Promise<void>((r) => s.close(() => r())) };
}

export interface FixtureOptions {
  project: string;
  variables?: Record<string, string>;
  /** Edit the fixture text before parsing (variants of the same file, in the same folder). */
  edit?: (text: string) => string;
}

/** Variables for the fixture: free ports and the local test images (built once per process). */
export async function fixtureVariables(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    ...testImageEnv(await ensureTestImages()),
    CCT_PROMETHEUS_PORT: String(await freePort()),
    CCT_LOKI_PORT: String(await freePort()),
    CCT_RETENTION_DAYS: '2',
    ...extra,
  };
}

export function fixtureModel(opts: FixtureOptions & { variables: Record<string, string> }): ComposeModel {
  if (!opts.edit) return loadComposeFile(fixtureFile, { variables: opts.variables, projectName: opts.project });
  const text = opts.edit(fs.readFileSync(fixtureFile, 'utf8'));
  return parseCompose(text, fixtureFile, { variables: opts.variables, projectName: opts.project });
}

export function engineFor(model: ComposeModel, extra: Partial<StackEngineOptions> = {}): StackEngine {
  return new StackEngine({ docker, where, model, healthTimeoutMs: 60_000, pollMs: 100, ...extra });
}

/** Remove everything labelled with the project (containers, networks, volumes). */
export async function cleanup(project: string): Promise<void> {
  const filters = { label: [`${LABELS.project}=${project}`] };
  for (const c of await docker.listContainers({ all: true, filters })) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
  for (const n of await docker.listNetworks({ filters })) {
    await docker.getNetwork(n.Id).remove().catch(() => undefined);
  }
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) {
    await docker.getVolume(v.Name).remove().catch(() => undefined);
  }
}

export function collect(): { events: StartProgress[]; on: (p: StartProgress) => void } {
  const events: StartProgress[] = [];
  return { events, on: (p) => events.push(p) };
}

export async function httpGet(port: number, p: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  if (!res.ok) throw new Error(`GET ${p}: ${res.status}`);
  return res.text();
}

