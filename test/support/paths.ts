import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the first folder above this file (compiled into out/test/support, or the source) that holds
 * package.json and stack/compose.yaml. */
export const repoRoot = ((): string => {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'stack', 'compose.yaml'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no repository root (package.json + stack/compose.yaml) above ${__dirname}`);
  }
})();
/** `../shared` beside the repository: fixtures, schemas and docs every developer and CI run have. */
export const sharedDir = join(repoRoot, '..', 'shared');
