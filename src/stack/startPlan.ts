// How a start will go, described before anything runs: what each service's container needs (create, recreate,
// start or reuse), which host ports must be free, which images must be there. Pure: the engine runs the plan, the
// tests read it without Docker.
import type Docker from 'dockerode';
import type { PortMapping, ServiceModel } from './composeModel';
import { LABELS, type ServiceSpec } from './containerSpec';
import type { ServiceAction } from './stackState';

export interface Plan {
  spec: ServiceSpec;
  existing: Docker.ContainerInfo | undefined;
  action: ServiceAction;
}

/** Each service's action: reuse what runs as the compose file says on the project's network, start what is only
 * stopped, recreate what changed (or sits on another network), create what is missing. */
export function planStart(specs: readonly ServiceSpec[], existing: readonly Docker.ContainerInfo[], netName: string, networkId: string | undefined): Plan[] {
  return specs.map((spec) => {
    const found = existing.find((c) => c.Labels?.[LABELS.service] === spec.service.name);
    let action: ServiceAction;
    if (!found) action = 'create';
    else if (found.Labels?.[LABELS.configHash] !== spec.configHash || !networkId || found.NetworkSettings?.Networks?.[netName]?.NetworkID !== networkId) {
      action = 'recreate';
    } else action = found.State === 'running' ? 'reuse' : 'start';
    return { spec, existing: found, action };
  });
}

/** A host port a start needs free, and the plan of the service that wants it. */
export interface PortCheck {
  plan: Plan;
  port: PortMapping;
}

/** The host ports to find free: those of every service not reused, less the ones this stack's running containers
 * already publish (a recreated container takes its own port back). A container in its restart loop holds its ports
 * between runs, though the engine lists none for it: the service's are its own. */
export function portsToCheck(plans: readonly Plan[], existing: readonly Docker.ContainerInfo[]): PortCheck[] {
  const ours = new Set<string>();
  for (const c of existing) {
    if (c.State !== 'running') continue;
    for (const p of c.Ports ?? []) if (p.PublicPort) ours.add(`${p.IP ?? ''}:${p.PublicPort}`);
  }
  return plans
    .filter((plan) => plan.action !== 'reuse' && plan.existing?.State !== 'restarting')
    .flatMap((plan) => plan.spec.service.ports.map((port) => ({ plan, port })))
    .filter(({ port }) => !ours.has(`${port.hostIp}:${port.hostPort}`) && !ours.has(`0.0.0.0:${port.hostPort}`));
}

/** The services whose image a new container needs, one per image. */
export function imagesToEnsure(plans: readonly Plan[]): ServiceModel[] {
  const byImage = new Map<string, ServiceModel>();
  for (const { action, spec } of plans) {
    if ((action === 'create' || action === 'recreate') && !byImage.has(spec.service.image)) byImage.set(spec.service.image, spec.service);
  }
  return [...byImage.values()];
}
