import { join, resolve } from 'node:path';

/** The repository root: tests run compiled from out/test/..., so resolve from the working directory npm sets. */
export const repoRoot = resolve(process.env.npm_config_local_prefix ?? process.cwd());
/** `../shared` beside the repository: fixtures, schemas and docs every developer and CI run have. */
export const sharedDir = join(repoRoot, '..', 'shared');
