// Paths of the tests, the same from the compiled files (out/test/...) and the sources (test/...).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the first folder above this file (compiled into out/test/support, or the source) that holds
 * package.json and stack/compose.yaml. */
export const repoRoot = ((): string => {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'stack', 'compose.yaml'))) return dir;
    if (dirname(dir) === dir)
      throw new Error(`no repository root (package.json + stack/compose.yaml) above ${__dirname}`);
  }
})();
/** `../shared` beside the repository: fixtures, schemas and docs every developer and CI run have. */
export const sharedDir = join(repoRoot, '..', 'shared');
/** The stack users run: compose.yaml and the configs it mounts. */
export const stackDir = join(repoRoot, 'stack');
export const fromRoot = (...parts: string[]): string => join(repoRoot, ...parts);
export const readText = (...parts: string[]): string => readFileSync(fromRoot(...parts), 'utf8');

/** The stack engine's test project: every key stack/compose.yaml may use, on the local test images. */
export const composeFixtureDir = join(repoRoot, 'test', 'support', 'fixtures', 'stack');
export const composeFixtureFile = join(composeFixtureDir, 'compose.yaml');
