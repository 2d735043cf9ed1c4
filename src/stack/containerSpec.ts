// Pure mapping of the compose model onto Engine API create bodies, with the labels Compose sets, so
// `docker compose -p <name> ps/down` and Docker Desktop see one project. No `vscode` import.
import { createHash } from 'node:crypto';
import type { ContainerCreateOptions } from 'dockerode';
import type { ComposeModel, ServiceModel } from './composeModel';

export const LABELS = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  containerNumber: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  configHash: 'com.docker.compose.config-hash',
  configFiles: 'com.docker.compose.project.config_files',
  workingDir: 'com.docker.compose.project.working_dir',
  version: 'com.docker.compose.version',
  image: 'com.docker.compose.image',
  dependsOn: 'com.docker.compose.depends_on',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
} as const;

/** The label a test double's image carries (test/support/images.ts): a stack running one says so to the user. */
export const TEST_DOUBLE_LABEL = 'dev.claude-code-telemetry.test-double';

/**
 * The Compose version written in `com.docker.compose.version`. Compose reads it only for display; a v2 value
 * keeps tools that parse it (Docker Desktop) happy.
 */
export const COMPOSE_VERSION_LABEL = '2.29.7';

export const DEFAULT_NETWORK_KEY = 'default';

/**
 * Environment a service reads only when it first creates its data: Grafana applies GF_SECURITY_ADMIN_PASSWORD only
 * when it creates its database, and keeps that password on its volume. A new value must not recreate the container
 * (it would change nothing in Grafana), and a container recreated for another reason keeps the value it had: so the
 * container's value stays the password Grafana holds (see grafanaAdmin.ts).
 */
const FIRST_START_ENVIRONMENT: readonly string[] = ['GF_SECURITY_ADMIN_PASSWORD'];

/** A `NAME=value` entry of a container's environment, as name and value. */
function splitEntry(entry: string): [name: string, value: string] {
  const equals = entry.indexOf('=');
  return equals === -1 ? [entry, ''] : [entry.slice(0, equals), entry.slice(equals + 1)];
}

function isFirstStartEntry(entry: string): boolean {
  return FIRST_START_ENVIRONMENT.includes(splitEntry(entry)[0]);
}

/** A container's environment (`NAME=value` entries, as the engine lists it) by name. */
export function environmentRecord(entries: readonly string[]): Record<string, string> {
  return Object.fromEntries(entries.map(splitEntry));
}

/** A create body's environment with the first-start values of the container it replaces. */
export function keepFirstStartEnvironment(env: readonly string[], replaced: readonly string[]): string[] {
  const kept = new Map(replaced.filter(isFirstStartEntry).map((entry) => [splitEntry(entry)[0], entry]));
  return env.map((entry) => kept.get(splitEntry(entry)[0]) ?? entry);
}

export function containerName(project: string, service: string): string {
  return `${project}-${service}-1`;
}

export function networkName(project: string): string {
  return `${project}_${DEFAULT_NETWORK_KEY}`;
}

export function volumeName(project: string, key: string): string {
  return `${project}_${key}`;
}

export function projectLabels(model: ComposeModel, composeVersion = COMPOSE_VERSION_LABEL): Record<string, string> {
  return { [LABELS.project]: model.name, [LABELS.version]: composeVersion };
}

export function networkCreateBody(model: ComposeModel, composeVersion = COMPOSE_VERSION_LABEL) {
  return {
    Name: networkName(model.name),
    Driver: 'bridge',
    CheckDuplicate: true,
    Labels: { ...projectLabels(model, composeVersion), [LABELS.network]: DEFAULT_NETWORK_KEY },
  };
}

export function volumeCreateBody(model: ComposeModel, key: string, composeVersion = COMPOSE_VERSION_LABEL) {
  return {
    Name: volumeName(model.name, key),
    Driver: 'local',
    Labels: { ...projectLabels(model, composeVersion), [LABELS.volume]: key },
  };
}

export interface ServiceSpec {
  service: ServiceModel;
  name: string;
  configHash: string;
  create: ContainerCreateOptions;
}

/**
 * The container create body for a service. `bindDigests` maps bind source paths to a digest of their content, so a
 * changed config file changes the config hash (and recreates only that service).
 */
export function serviceSpec(
  model: ComposeModel,
  service: ServiceModel,
  bindDigests: ReadonlyMap<string, string> = new Map(),
  composeVersion = COMPOSE_VERSION_LABEL,
): ServiceSpec {
  const name = containerName(model.name, service.name);
  const network = networkName(model.name);
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of service.ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  const mounts = service.volumes.map((v) =>
    v.type === 'volume'
      ? { Type: 'volume' as const, Source: volumeName(model.name, v.source), Target: v.target, ReadOnly: v.readOnly }
      : { Type: 'bind' as const, Source: v.source, Target: v.target, ReadOnly: v.readOnly },
  );
  const env = Object.entries(service.environment)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);

  const hostConfig: NonNullable<ContainerCreateOptions['HostConfig']> = {
    NetworkMode: network,
    PortBindings: bindings,
    Mounts: mounts,
  };
  if (service.restart) {
    hostConfig.RestartPolicy = { Name: service.restart.name };
    if (service.restart.maximumRetryCount !== undefined) {
      hostConfig.RestartPolicy.MaximumRetryCount = service.restart.maximumRetryCount;
    }
  }
  if (service.memLimit !== undefined) hostConfig.Memory = service.memLimit;

  const create: ContainerCreateOptions = {
    name,
    Image: service.image,
    Env: env,
    ExposedPorts: exposed,
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [service.name] } } },
  };
  if (service.command) create.Cmd = service.command;
  if (service.user !== undefined) create.User = service.user;
  if (service.healthcheck) {
    const h = service.healthcheck;
    const hc: NonNullable<ContainerCreateOptions['Healthcheck']> = { Test: h.test };
    if (h.intervalNs !== undefined) hc.Interval = h.intervalNs;
    if (h.timeoutNs !== undefined) hc.Timeout = h.timeoutNs;
    if (h.retries !== undefined) hc.Retries = h.retries;
    if (h.startPeriodNs !== undefined) hc.StartPeriod = h.startPeriodNs;
    create.Healthcheck = hc;
  }

  const configHash = sha256(
    canonicalJson({
      create: { ...create, Env: env.filter((entry) => !isFirstStartEntry(entry)) },
      binds: service.volumes
        .filter((v) => v.type === 'bind')
        .map((v) => ({ source: v.source, digest: bindDigests.get(v.source) ?? null })),
    }),
  );
  create.Labels = {
    ...projectLabels(model, composeVersion),
    [LABELS.service]: service.name,
    [LABELS.containerNumber]: '1',
    [LABELS.oneoff]: 'False',
    [LABELS.configHash]: configHash,
    [LABELS.configFiles]: model.file,
    [LABELS.workingDir]: model.dir,
    [LABELS.dependsOn]: service.dependsOn.map((d) => `${d.service}:${d.condition}:false`).join(','),
  };
  return { service, name, configHash, create };
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}
