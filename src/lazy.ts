import type * as Deferred from './deferred';

/** The deferred bundle (see deferred.ts), required on first use and cached by Node from then on. */
export function loadDeferred(): typeof Deferred {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./deferred.js') as typeof Deferred;
}
