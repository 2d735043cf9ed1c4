import type * as Services from './services';

/** The services bundle (see services.ts), required on first use and cached by Node from then on. */
export function loadServices(): typeof Services {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./services.js') as typeof Services;
}
