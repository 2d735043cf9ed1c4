// The stack the end-to-end tests run, as they look at it from outside the UI: Prometheus' answers (to know what to
// expect; the UI assertions never read them) and the extension's Compose project (to clean up after a run).
import type Docker from 'dockerode';
import { connectDocker, type TestImages } from '../../support/docker';

/** The extension's Compose project: `name:` of stack/compose.yaml; no setting changes it. */
export const EXTENSION_PROJECT = 'claude-code-telemetry';
export const PROJECT_LABEL = 'com.docker.compose.project';

export async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`GET ${url}: ${response.status} ${text.slice(0, 300)}`);
  }
  return JSON.parse(text) as T;
}

export async function promQuery(prometheusPort: number, query: string): Promise<{ metric: Record<string, string>; value: number }[]> {
  type Body = { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  const body = await getJson<Body>(`http://127.0.0.1:${prometheusPort}/api/v1/query?${new URLSearchParams({ query })}`);
  return body.data.result.map((entry) => ({ metric: entry.metric, value: Number(entry.value[1]) }));
}

/** Removes the containers, networks and volumes of a Compose project (dockerode, by label). */
export async function removeProject(project: string): Promise<string[]> {
  const docker = connectDocker();
  const filters = JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`] });
  const removed: string[] = [];
  for (const container of await docker.listContainers({ all: true, filters })) {
    await docker.getContainer(container.Id).remove({ force: true, v: true }).catch(() => undefined);
    removed.push(`container ${container.Names[0]?.replace(/^\//, '')}`);
  }
  for (const network of await docker.listNetworks({ filters })) {
    await docker.getNetwork(network.Id).remove().catch(() => undefined);
    removed.push(`network ${network.Name}`);
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const volume of Volumes ?? []) {
    await docker.getVolume(volume.Name).remove({ force: true }).catch(() => undefined);
    removed.push(`volume ${volume.Name}`);
  }
  return removed;
}

/**
 * Before a UI test: a stack of the extension's project left by an earlier, crashed run (its containers run the
 * cct-test images) is removed with its volumes, so "today" starts at $0.00 and no gauge of that run is there. A stack
 * running other images is someone's real one: fail rather than touch it. Returns what it removed.
 */
export async function clearLeftoverTestStack(): Promise<string[]> {
  const docker = connectDocker();
  const containers = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${PROJECT_LABEL}=${EXTENSION_PROJECT}`] }) });
  const foreign = containers.filter((container) => !/^cct-(test|local)\//.test(container.Image));
  if (foreign.length) {
    throw new Error(
      `A "${EXTENSION_PROJECT}" stack not made of test images exists here (${foreign.map((c) => `${c.Names[0]} ${c.Image}`).join(', ')}); ` +
        'the end-to-end test would take it over. Remove it first.',
    );
  }
  return removeProject(EXTENSION_PROJECT);
}

/** The stack's settings of a test window: the local test images and free ports, as a remote window's Machine settings. */
export function stackMachineSettings(images: TestImages, ports: Record<string, number>): Record<string, unknown> {
  return {
    'claudeTelemetry.stack.images.collector': images.collector,
    'claudeTelemetry.stack.images.prometheus': images.prometheus,
    'claudeTelemetry.stack.images.loki': images.loki,
    'claudeTelemetry.stack.images.grafana': images.grafana,
    ...Object.fromEntries(Object.entries(ports).map(([key, value]) => [`claudeTelemetry.stack.ports.${key}`, value])),
  };
}

/** The container of one service of the extension's stack (dockerode), to stop, kill or start it as a user would. */
export async function stackContainer(service: string): Promise<Docker.Container> {
  const docker = connectDocker();
  const [found] = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${PROJECT_LABEL}=${EXTENSION_PROJECT}`, `com.docker.compose.service=${service}`] }) });
  if (!found) throw new Error(`the stack has no ${service} container`);
  return docker.getContainer(found.Id);
}
