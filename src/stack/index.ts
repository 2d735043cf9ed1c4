// The stack engine's public surface for the extension's UI layer. Plain Node: no `vscode` import here or below.
import Docker from 'dockerode';
import { loadComposeFile } from './composeModel';
import type { ComposeModel } from './composeModel';
import { StackEngine } from './engine';
import type { StackEngineOptions } from './engine';
import { locateEngine, nodeLocatorDeps } from './engineLocator';
import type { EngineLocation, LocatorDeps } from './engineLocator';

export * from './composeModel';
export * from './containerSpec';
export * from './engine';
export * from './engineEvents';
export * from './grafanaAdmin';
export * from './stateWatch';
export * from './stackState';
export * from './startPlan';
export * from './engineLocator';
export * from './errors';
export * from './pullProgress';

export interface OpenStackOptions {
  /** The `claudeTelemetry.docker.host` setting ('' = not set). */
  dockerHost: string | undefined;
  /** The extension's own stack/compose.yaml. */
  composeFile: string;
  /** CCT_* variables from the settings, and GRAFANA_ADMIN_PASSWORD. */
  variables: Readonly<Record<string, string | undefined>>;
  /** Variable → setting, for messages (e.g. CCT_PROMETHEUS_PORT → claudeTelemetry.stack.ports.prometheus). */
  settings?: Readonly<Record<string, string>>;
  projectName?: string;
  healthTimeoutMs?: number;
  locatorDeps?: LocatorDeps;
}

export interface OpenedStack {
  engine: StackEngine;
  location: EngineLocation;
  model: ComposeModel;
}

/**
 * Locate the engine and read the compose file: throws NoEngineFoundError or InvalidComposeError with the message to
 * show. Nothing is contacted yet; `engine.start()` / `engine.ping()` do that.
 */
export function openStack(opts: OpenStackOptions): OpenedStack {
  const location = locateEngine(opts.dockerHost, opts.locatorDeps ?? nodeLocatorDeps());
  const model = loadComposeFile(opts.composeFile, {
    variables: opts.variables,
    ...(opts.projectName ? { projectName: opts.projectName } : {}),
  });
  const engineOptions: StackEngineOptions = {
    docker: new Docker(location.options),
    where: location.description,
    model,
  };
  if (opts.settings) engineOptions.settings = opts.settings;
  if (opts.healthTimeoutMs !== undefined) engineOptions.healthTimeoutMs = opts.healthTimeoutMs;
  return { engine: new StackEngine(engineOptions), location, model };
}
