// Shared setup of the engine suites: the real Docker Engine, unique project names, the fixture project on free ports.
import * as fs from 'node:fs';
import Docker from 'dockerode';
import { loadComposeFile, parseCompose } from '../../src/stack/composeModel';
import type { ComposeModel } from '../../src/stack/composeModel';
import { StackEngine } from '../../src/stack/engine';
import type { StackEngineOptions, StartProgress } from '../../src/stack/engine';
import { locateEngine } from '../../src/stack/engineLocator';
import type { EngineLocation } from '../../src/stack/engineLocator';
import { composeFixtureFile } from './paths';
import { ensureTestImages, testImageEnv } from './docker';
import { freePort } from './ports';

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
  if (!opts.edit) return loadComposeFile(composeFixtureFile, { variables: opts.variables, projectName: opts.project });
  const text = opts.edit(fs.readFileSync(composeFixtureFile, 'utf8'));
  return parseCompose(text, composeFixtureFile, { variables: opts.variables, projectName: opts.project });
}

export function engineFor(model: ComposeModel, extra: Partial<StackEngineOptions> = {}): StackEngine {
  return new StackEngine({ docker, where, model, healthTimeoutMs: 60_000, pollMs: 100, ...extra });
}

export function collect(): { events: StartProgress[]; on: (p: StartProgress) => void } {
  const events: StartProgress[] = [];
  return { events, on: (p) => events.push(p) };
}
