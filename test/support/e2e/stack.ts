// The stack the end-to-end tests run, as they look at it from outside the UI: the extension's Compose project (to
// clean up after a run, to stop or kill a service as a user would) and its settings in a test window. Prometheus'
// answers (to know what to expect; the UI assertions never read them) are ../http.ts' promQuery().
import type Docker from 'dockerode';
import { LABELS } from '../../../src/stack/containerSpec';
import { connectDocker, removeProject, type TestImages } from '../docker';

/** The extension's Compose project: `name:` of stack/compose.yaml; no setting changes it. */
export const EXTENSION_PROJECT = 'claude-code-telemetry';
/** Compose's project label, which the extension's containers carry as Compose's do. */
export const PROJECT_LABEL = LABELS.project;

/**
 * Before a UI test: a stack of the extension's project left by an earlier, crashed run (its containers run the
 * cct-test images) is removed with its volumes, so "today" starts at $0.00 and no gauge of that run is there. A stack
 * running other images is someone's real one: fail rather than touch it. Returns what it removed.
 */
export async function clearLeftoverTestStack(): Promise<string[]> {
  const docker = connectDocker();
  const containers = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`${PROJECT_LABEL}=${EXTENSION_PROJECT}`] }),
  });
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
  const [found] = await docker.listContainers({
    all: true,
    filters: JSON.stringify({
      label: [`${PROJECT_LABEL}=${EXTENSION_PROJECT}`, `com.docker.compose.service=${service}`],
    }),
  });
  if (!found) throw new Error(`the stack has no ${service} container`);
  return docker.getContainer(found.Id);
}
