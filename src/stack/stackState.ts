// The stack's state as the engine reports it: per service, summed up for the status bar, and the engine's events.
// Pure types and functions of what the Docker Engine answers: no I/O.
import type Docker from 'dockerode';
import { LABELS } from './containerSpec';
import type { StackError } from './errors';

export type ServiceAction = 'create' | 'recreate' | 'start' | 'reuse';

export type ServiceState = 'missing' | 'starting' | 'running' | 'healthy' | 'unhealthy' | 'exited';

export interface ServiceStatus {
  service: string;
  state: ServiceState;
  container?: string;
  containerId?: string;
  /** The engine's state string (running, exited, restarting, created, paused, dead). */
  engineState?: string;
  exitCode?: number;
  /** True while the engine restarts a container that keeps exiting (state is then `exited`). */
  restarting?: boolean;
  /** True when the container's config hash differs from the compose file's (a start would recreate it). */
  outdated?: boolean;
  /** True when the container runs a test double's image, not the real service. */
  testDouble?: boolean;
}

export type StackState = 'stopped' | 'starting' | 'healthy' | 'degraded';

export interface StackSummary {
  state: StackState;
  /** The services behind a `starting` or `degraded` state. */
  services: string[];
  message: string;
}

export type StackEvent =
  | {
      kind: 'container';
      service: string;
      containerId: string;
      /** start, die, stop, destroy, create, restart, health_status, ... */
      action: string;
      /** For health_status: healthy | unhealthy | starting. */
      health?: string;
      exitCode?: number;
      time: number;
    }
  | { kind: 'connected' }
  | { kind: 'disconnected'; error: StackError };

export function containerState(c: Pick<Docker.ContainerInfo, 'State' | 'Status'>): ServiceState {
  const status = c.Status ?? '';
  switch (c.State) {
    case 'running':
    case 'paused':
      if (/\(health: starting\)/.test(status)) return 'starting';
      if (/\(unhealthy\)/.test(status)) return 'unhealthy';
      if (/\(healthy\)/.test(status)) return 'healthy';
      return 'running';
    default:
      // restarting (a crash loop), created (never started), exited, dead
      return 'exited';
  }
}

/** One state for the status bar: stopped / starting / healthy / degraded (naming the services). */
export function summarize(statuses: readonly ServiceStatus[]): StackSummary {
  const down = statuses.filter((s) => (s.state === 'missing' || s.state === 'exited') && !s.restarting);
  if (statuses.length === 0 || down.length === statuses.length) {
    return { state: 'stopped', services: [], message: 'Telemetry stack stopped' };
  }
  const bad = statuses.filter((s) => s.state === 'unhealthy' || s.state === 'exited' || s.state === 'missing');
  if (bad.length) {
    return {
      state: 'degraded',
      services: bad.map((s) => s.service),
      message: `Telemetry stack degraded: ${bad.map((s) => `${s.service} ${s.restarting ? 'restarting' : s.state}`).join(', ')}`,
    };
  }
  const starting = statuses.filter((s) => s.state === 'starting');
  if (starting.length) {
    return {
      state: 'starting',
      services: starting.map((s) => s.service),
      message: `Telemetry stack starting: waiting for ${starting.map((s) => s.service).join(', ')}`,
    };
  }
  return { state: 'healthy', services: [], message: 'Telemetry stack healthy' };
}

export function parseEngineEvent(raw: unknown): StackEvent | undefined {
  const e = raw as {
    Type?: string;
    Action?: string;
    status?: string;
    time?: number;
    timeNano?: number;
    Actor?: { ID?: string; Attributes?: Record<string, string> };
  };
  if (e.Type !== 'container') return undefined;
  const attrs = e.Actor?.Attributes ?? {};
  const service = attrs[LABELS.service];
  const actionFull = e.Action ?? e.status ?? '';
  if (!service || !actionFull) return undefined;
  const [action, rest] = actionFull.split(':', 2).map((s) => s.trim()) as [string, string | undefined];
  if (action.startsWith('exec_')) return undefined; // health checks run as execs: noise
  const ev: StackEvent = { kind: 'container', service, containerId: e.Actor?.ID ?? '', action, time: e.time ?? 0 };
  if (action === 'health_status' && rest) ev.health = rest;
  if (attrs.exitCode !== undefined) ev.exitCode = Number(attrs.exitCode);
  return ev;
}
