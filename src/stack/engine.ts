// The stack engine: start / stop / remove / status / logs / events of the compose model through dockerode.
// Plain Node: the extension's UI layer wraps it (progress notification, status bar, commands). No `vscode` import.
// Why one file of this size: one class owns the dockerode client of one compose project, and its steps (pull, network,
// volumes, containers, health waits, logs) share that client and the project's names; what needs no engine is
// elsewhere: the plan (startPlan.ts), the state readings (stackState.ts), the events (engineEvents.ts).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import Docker from 'dockerode';
import type { ComposeModel, ServiceModel } from './composeModel';
import { startOrder } from './composeModel';
import {
  COMPOSE_VERSION_LABEL,
  LABELS,
  TEST_DOUBLE_LABEL,
  environmentRecord,
  keepFirstStartEnvironment,
  networkCreateBody,
  networkName,
  serviceSpec,
  sha256,
  volumeCreateBody,
  volumeName,
} from './containerSpec';
import type { ServiceSpec } from './containerSpec';
import {
  CancelledError,
  ContainerFailedError,
  EngineError,
  engineMessage,
  EngineNotRunningError,
  mapEngineError,
  MissingConfigFileError,
  NameConflictError,
  PortTakenError,
  PullFailedError,
  StackError,
  statusCode,
} from './errors';
import { watchEngineEvents, type Disposable } from './engineEvents';
import { formatBytes, PullProgress } from './pullProgress';
import { containerState, type ServiceAction, type ServiceStatus, type StackEvent } from './stackState';
import { imagesToEnsure, planStart, portsToCheck, type Plan, type PortCheck } from './startPlan';
import type { PullSnapshot, PullStreamEvent } from './pullProgress';

export type StartProgress =
  | { kind: 'connect'; message: string }
  | { kind: 'check-ports'; message: string }
  | { kind: 'pull'; service: string; image: string; pull: PullSnapshot; message: string }
  | { kind: 'pulled'; service: string; image: string; message: string }
  | { kind: 'service'; service: string; action: ServiceAction; message: string }
  | { kind: 'wait'; service: string; elapsedMs: number; timeoutMs: number; health: string | undefined; message: string }
  | { kind: 'ready'; service: string; message: string }
  | { kind: 'done'; elapsedMs: number; message: string };

/** How long a container of the project that exists but does not run yet may take to show as running, when its port
 * is already taken (another window is starting it). */
const STARTING_CONTAINER_GRACE_MS = 3000;

export interface StackEngineOptions {
  docker: Docker;
  /** Where the engine was found (EngineLocation.description), for messages. */
  where: string;
  model: ComposeModel;
  /** Variable → setting that moves it (e.g. CCT_PROMETHEUS_PORT → claudeTelemetry.ports.prometheus). */
  settings?: Readonly<Record<string, string>>;
  /** How long to wait for one service to become healthy. Default 120 s. */
  healthTimeoutMs?: number;
  /** Log lines quoted when a container fails. Default 20. */
  logTailLines?: number;
  composeVersion?: string;
  /** Host port check; default: try to listen on it. */
  isPortFree?: (hostIp: string, port: number) => Promise<boolean>;
  /** Poll interval while waiting for health. Default 250 ms. */
  pollMs?: number;
}

export interface RemoveResult {
  containers: string[];
  networks: string[];
  volumes: string[];
}

export class StackEngine {
  readonly model: ComposeModel;
  private readonly docker: Docker;
  private readonly where: string;
  private readonly settings: Readonly<Record<string, string>>;
  private readonly healthTimeoutMs: number;
  private readonly logTailLines: number;
  private readonly composeVersion: string;
  private readonly isPortFree: (hostIp: string, port: number) => Promise<boolean>;
  private readonly pollMs: number;

  constructor(opts: StackEngineOptions) {
    this.docker = opts.docker;
    this.where = opts.where;
    this.model = opts.model;
    this.settings = opts.settings ?? {};
    this.healthTimeoutMs = opts.healthTimeoutMs ?? 120_000;
    this.logTailLines = opts.logTailLines ?? 20;
    this.composeVersion = opts.composeVersion ?? COMPOSE_VERSION_LABEL;
    // The host's ports can be checked only when the engine publishes them on this machine (a local socket or pipe;
    // Docker Desktop forwards to the host too). For a remote engine the engine's own bind error is mapped instead.
    const local = !!(opts.docker.modem as { socketPath?: unknown }).socketPath;
    this.isPortFree = opts.isPortFree ?? (local ? isPortFree : async () => true);
    this.pollMs = opts.pollMs ?? 250;
  }

  get project(): string {
    return this.model.name;
  }

  /** Check the engine answers; throws the user-facing error when it does not. */
  async ping(): Promise<void> {
    await this.call('reach the engine', () => this.docker.ping());
  }

  /** The specs (create bodies, config hashes) of every service, in start order. */
  specs(): ServiceSpec[] {
    return startOrder(this.model.services).map((s) =>
      serviceSpec(this.model, s, this.bindDigests(s), this.composeVersion),
    );
  }

  /**
   * Bring the stack to healthy: pull missing images, check ports, create or reuse containers (recreating only those
   * whose config hash changed), start them in depends_on order and wait for health. Idempotent.
   */
  // One operation at a time in a window is the caller's to keep (StackController); two windows racing each other
  // meet in the engine itself: a start that finds its ports held by the project's own containers joins the start
  // under way (planPorts), and ensureNetwork and apply settle a duplicate network or container.
  async start(onProgress: (p: StartProgress) => void = () => {}, signal?: AbortSignal): Promise<ServiceStatus[]> {
    const t0 = Date.now();
    const check = (): void => {
      if (signal?.aborted) throw new CancelledError();
    };
    onProgress({ kind: 'connect', message: `Connecting to the container engine at ${this.where}` });
    await this.ping();
    check();

    onProgress({ kind: 'check-ports', message: 'Checking that the stack’s ports are free' });
    const plans = await this.planPorts(this.specs(), onProgress);
    check();

    // Images: pull only the missing ones.
    for (const service of imagesToEnsure(plans)) {
      if (await this.hasImage(service.image)) continue;
      await this.pull(service, onProgress, signal);
      check();
    }

    // Network and volumes.
    const networkId = await this.ensureNetwork();
    for (const key of this.model.volumes) await this.ensureVolume(key);
    check();

    // Containers, in depends_on order; wait for a dependency's condition before starting its dependents.
    const ready = new Set<string>();
    const ids = new Map<string, string>();
    for (const plan of plans) {
      const svc = plan.spec.service;
      for (const dep of svc.dependsOn) {
        if (dep.condition === 'service_started' || ready.has(dep.service)) continue;
        const depId = ids.get(dep.service);
        if (depId) {
          await this.waitReady(dep.service, depId, dep.condition, onProgress, signal);
          ready.add(dep.service);
        }
      }
      check();
      const id = await this.apply(plan, networkId, onProgress);
      ids.set(svc.name, id);
    }

    for (const plan of plans) {
      const name = plan.spec.service.name;
      if (ready.has(name)) continue;
      await this.waitReady(name, ids.get(name) as string, 'service_healthy', onProgress, signal);
      ready.add(name);
    }
    const elapsedMs = Date.now() - t0;
    onProgress({
      kind: 'done',
      elapsedMs,
      message: `Telemetry stack healthy in ${(elapsedMs / 1000).toFixed(1)} s`,
    });
    return this.status();
  }

  /** Stop every container of the stack (reverse start order). Containers and volumes are kept. */
  async stop(timeoutSeconds = 10): Promise<string[]> {
    const containers = await this.projectContainers();
    const order = startOrder(this.model.services).map((s) => s.name).reverse();
    const rank = (c: Docker.ContainerInfo): number => {
      const i = order.indexOf(c.Labels?.[LABELS.service] ?? '');
      return i === -1 ? -1 : i;
    };
    const stopped: string[] = [];
    for (const c of [...containers].sort((a, b) => rank(a) - rank(b))) {
      if (c.State !== 'running' && c.State !== 'restarting' && c.State !== 'paused') continue;
      await this.call(`stop ${containerDisplayName(c)}`, async () => {
        try {
          await this.docker.getContainer(c.Id).stop({ t: timeoutSeconds });
        } catch (err) {
          if (statusCode(err) !== 304 && statusCode(err) !== 404) throw err;
        }
      });
      stopped.push(containerDisplayName(c));
    }
    return stopped;
  }

  /** Remove containers and the network; the volumes (all telemetry data) only when `volumes` is true. */
  async remove(opts: { volumes: boolean }): Promise<RemoveResult> {
    const result: RemoveResult = { containers: [], networks: [], volumes: [] };
    for (const c of await this.projectContainers()) {
      await this.call(`remove ${containerDisplayName(c)}`, async () => {
        try {
          await this.docker.getContainer(c.Id).remove({ force: true });
        } catch (err) {
          if (statusCode(err) !== 404) throw err;
        }
      });
      result.containers.push(containerDisplayName(c));
    }
    const nets = await this.call('list networks', () =>
      this.docker.listNetworks({ filters: { label: [`${LABELS.project}=${this.project}`] } }),
    );
    for (const n of nets) {
      await this.call(`remove network ${n.Name}`, async () => {
        try {
          await this.docker.getNetwork(n.Id).remove();
        } catch (err) {
          if (statusCode(err) !== 404) throw err;
        }
      });
      result.networks.push(n.Name);
    }
    if (opts.volumes) {
      for (const v of await this.dataVolumes()) {
        await this.call(`remove volume ${v}`, async () => {
          try {
            await this.docker.getVolume(v).remove();
          } catch (err) {
            if (statusCode(err) !== 404) throw err;
          }
        });
        result.volumes.push(v);
      }
    }
    return result;
  }

  /** The named volumes holding the stack's data (what "Delete Telemetry Data…" would lose). */
  async dataVolumes(): Promise<string[]> {
    const res = await this.call('list volumes', () =>
      this.docker.listVolumes({ filters: { label: [`${LABELS.project}=${this.project}`] } }),
    );
    return (res.Volumes ?? []).map((v) => v.Name).sort();
  }

  /** Each service's state, in start order. */
  async status(): Promise<ServiceStatus[]> {
    const containers = await this.projectContainers();
    const specs = this.specs();
    return specs.map((spec) => {
      const c = containers.find((x) => x.Labels?.[LABELS.service] === spec.service.name);
      if (!c) return { service: spec.service.name, state: 'missing' as const };
      const st: ServiceStatus = {
        service: spec.service.name,
        state: containerState(c),
        container: containerDisplayName(c),
        containerId: c.Id,
        engineState: c.State,
      };
      if (c.State === 'restarting') st.restarting = true;
      const code = /(?:Exited|Restarting) \((\d+)\)/.exec(c.Status ?? '');
      if (code) st.exitCode = Number(code[1]);
      if (c.Labels?.[LABELS.configHash] !== spec.configHash) st.outdated = true;
      if (c.Labels?.[TEST_DOUBLE_LABEL]) st.testDouble = true;
      return st;
    });
  }

  /** The last `tail` log lines of a service (stdout and stderr, interleaved). */
  async lastLogLines(service: string, tail = this.logTailLines): Promise<string[]> {
    const c = await this.serviceContainer(service);
    if (!c) return [];
    return this.containerLogLines(c.Id, tail);
  }

  /**
   * Stream a service's log as text. With `follow`, the stream stays open until the container stops or `dispose()`.
   */
  async logs(
    service: string,
    opts: { follow: boolean; /** Default 200; 0 = the whole log. */ tail?: number; timestamps?: boolean },
  ): Promise<{ stream: Readable; dispose(): void }> {
    const c = await this.serviceContainer(service);
    if (!c) {
      throw new StackError('engine-error', `Service "${service}" has no container yet: start the stack first.`);
    }
    const out = new PassThrough();
    const container = this.docker.getContainer(c.Id);
    const tail = opts.tail ?? 200;
    const base = { stdout: true, stderr: true, timestamps: opts.timestamps ?? false, ...(tail > 0 ? { tail } : {}) };
    if (!opts.follow) {
      const buf = await this.call(`read the logs of ${service}`, () => container.logs({ ...base, follow: false }));
      out.end(demuxBuffer(toBuffer(buf)));
      return { stream: out, dispose: () => out.destroy() };
    }
    const controller = new AbortController();
    const src = await this.call(`follow the logs of ${service}`, () =>
      container.logs({ ...base, follow: true, abortSignal: controller.signal }),
    );
    this.docker.modem.demuxStream(src, out, out);
    src.on('end', () => out.end());
    src.on('error', () => out.end());
    return {
      stream: out,
      dispose: () => {
        controller.abort();
        out.end();
      },
    };
  }

  /**
   * Subscribe to the stack's container events (start, die, health_status, ...) and to the daemon going away and
   * coming back (reconnects with backoff). No polling.
   */
  events(listener: (e: StackEvent) => void): Disposable {
    return watchEngineEvents(this.docker, this.project, this.where, listener);
  }

  /** The environment of a service's container as it was created (`NAME` → value); undefined without a container. */
  async serviceEnvironment(service: string): Promise<Record<string, string> | undefined> {
    const c = await this.serviceContainer(service);
    if (!c) return undefined;
    const info = await this.call(`inspect ${service}`, () => this.docker.getContainer(c.Id).inspect());
    return environmentRecord(info.Config.Env ?? []);
  }

  // ------------------------------------------------------------------------------------------------------------

  /**
   * The start's plan, once every host port it needs is free: those not already published by one of this stack's
   * running containers. A port taken by the project's own container of the service that wants it means another
   * window is starting the stack (it started that container since this start listed them): plan again with the
   * network and containers as they are now, which reuses what that start brings up and waits for it.
   */
  private async planPorts(specs: ServiceSpec[], onProgress: (p: StartProgress) => void): Promise<Plan[]> {
    const netName = networkName(this.project);
    // Each round that joins another start finds one more of the project's containers running: at most one a service.
    for (let round = 0; ; round++) {
      const network = (await this.projectNetworks(netName))[0];
      const existing = await this.projectContainers();
      const plans = planStart(specs, existing, netName, network?.Id);
      const taken = await this.firstTakenPort(portsToCheck(plans, existing));
      if (!taken) return plans;
      const service = taken.plan.spec.service.name;
      if (round < specs.length && (await this.startedElsewhere(service))) {
        onProgress({ kind: 'check-ports', message: `Another window is starting the telemetry stack (${service} is up): joining it` });
        continue;
      }
      const { hostPort, hostIp, variable } = taken.port;
      throw new PortTakenError(hostPort, hostIp, service, variable, variable ? this.settings[variable] : undefined, await this.portHolder(hostPort));
    }
  }

  private async firstTakenPort(ports: readonly PortCheck[]): Promise<PortCheck | undefined> {
    for (const entry of ports) {
      if (!(await this.isPortFree(entry.port.hostIp, entry.port.hostPort))) return entry;
    }
    return undefined;
  }

  /**
   * Whether the service's container of this project runs, started by someone else: the holder of its port is then
   * that container. The engine publishes a port before it lists the container as running, so one that exists but
   * does not run yet is given a moment; without one of ours, the holder is another program.
   */
  private async startedElsewhere(service: string): Promise<boolean> {
    const deadline = Date.now() + STARTING_CONTAINER_GRACE_MS;
    for (;;) {
      const c = await this.serviceContainer(service);
      if (!c) return false;
      if (c.State === 'running' || c.State === 'restarting') return true;
      if (Date.now() >= deadline) return false;
      await sleep(this.pollMs);
    }
  }

  private async apply(plan: Plan, networkId: string, onProgress: (p: StartProgress) => void): Promise<string> {
    const svc = plan.spec.service.name;
    const report = (action: ServiceAction, message: string): void =>
      onProgress({ kind: 'service', service: svc, action, message });
    if (plan.action === 'reuse' && plan.existing) {
      report('reuse', `${svc}: already running`);
      return plan.existing.Id;
    }
    if (plan.action === 'start' && plan.existing) {
      report('start', `Starting ${svc}`);
      await this.startContainer(svc, plan.existing.Id, plan.spec);
      return plan.existing.Id;
    }
    let replacedEnv: string[] = [];
    if (plan.action === 'recreate' && plan.existing) {
      report('recreate', `Recreating ${svc} (its configuration changed)`);
      const old = this.docker.getContainer(plan.existing.Id);
      await this.call(`remove the old ${svc} container`, async () => {
        try {
          replacedEnv = (await old.inspect()).Config.Env ?? [];
        } catch (err) {
          if (statusCode(err) !== 404) throw err;
        }
        try {
          await old.stop({ t: 10 });
        } catch (err) {
          if (statusCode(err) !== 304 && statusCode(err) !== 404) throw err;
        }
        try {
          await old.remove({ force: true });
        } catch (err) {
          if (statusCode(err) !== 404) throw err;
        }
      });
    } else report('create', `Creating ${svc}`);

    // Attach by id: two windows racing can briefly leave two networks of the same name (see ensureNetwork).
    const create = {
      ...plan.spec.create,
      Env: keepFirstStartEnvironment(plan.spec.create.Env ?? [], replacedEnv),
      HostConfig: { ...plan.spec.create.HostConfig, NetworkMode: networkId },
      NetworkingConfig: { EndpointsConfig: { [networkId]: { Aliases: [plan.spec.service.name] } } },
    };
    const imageId = await this.imageId(plan.spec.service.image);
    if (imageId) create.Labels = { ...create.Labels, [LABELS.image]: imageId };
    let id: string;
    try {
      const c = await this.docker.createContainer(create);
      id = c.id;
    } catch (err) {
      if (statusCode(err) === 409) {
        // Another window created it meanwhile (its create may still be in flight: the name is reserved before the
        // container can be inspected), or a foreign container has the name.
        const info = await this.inspectSoon(plan.spec.name);
        if (info.Config.Labels?.[LABELS.project] !== this.project) {
          throw new NameConflictError(plan.spec.name, 'container', this.project);
        }
        id = info.Id;
      } else throw mapEngineError(err, this.where, `create the ${svc} container`);
    }
    await this.startContainer(svc, id, plan.spec);
    return id;
  }

  private async inspectSoon(name: string): Promise<Docker.ContainerInspectInfo> {
    for (let i = 0; ; i++) {
      try {
        return await this.docker.getContainer(name).inspect();
      } catch (err) {
        if (statusCode(err) !== 404 || i >= 40) throw mapEngineError(err, this.where, `inspect ${name}`);
      }
      await sleep(250);
    }
  }

  private async startContainer(svc: string, id: string, spec: ServiceSpec, retried = false): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      if (statusCode(err) === 304) return; // already started
      const msg = engineMessage(err);
      if (!retried && /network .* is ambiguous/i.test(msg)) {
        // The engine resolves the network by name at start: another window's duplicate (see ensureNetwork) is still
        // there. Remove the duplicates, as that window will, and start again.
        await this.ensureNetwork();
        return this.startContainer(svc, id, spec, true);
      }
      if (/address already in use|port is already allocated|bind for .* failed/i.test(msg)) {
        const port =
          spec.service.ports.find((p) => msg.includes(`:${p.hostPort}`)) ?? spec.service.ports[0];
        if (port) {
          throw new PortTakenError(
            port.hostPort,
            port.hostIp,
            svc,
            port.variable,
            port.variable ? this.settings[port.variable] : undefined,
            await this.portHolder(port.hostPort),
          );
        }
      }
      throw mapEngineError(err, this.where, `start ${svc}`);
    }
  }

  private async waitReady(
    service: string,
    id: string,
    condition: 'service_healthy' | 'service_completed_successfully',
    onProgress: (p: StartProgress) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const t0 = Date.now();
    const timeoutMs = this.healthTimeoutMs;
    const container = this.docker.getContainer(id);
    let firstRestartCount: number | undefined;
    let lastReported = -1;
    for (;;) {
      if (signal?.aborted) throw new CancelledError();
      const info = await this.call(`inspect ${service}`, () => container.inspect());
      const st = info.State;
      const restarts = info.RestartCount ?? 0;
      firstRestartCount ??= restarts;
      const health = st.Health?.Status;
      const elapsedMs = Date.now() - t0;
      if (condition === 'service_completed_successfully') {
        if (st.Status === 'exited' || st.Status === 'dead') {
          if (st.ExitCode === 0) return;
          throw await this.failed('container-exited', service, id, `exited with code ${st.ExitCode}`);
        }
      } else {
        if (st.Status === 'exited' || st.Status === 'dead') {
          const detail = `exited with code ${st.ExitCode}${oomText(st)}`;
          if (await this.engineStopping()) {
            throw new EngineNotRunningError(this.where, new Error(`it stopped while the stack was starting; ${service} ${detail} as it went`));
          }
          throw await this.failed('container-exited', service, id, detail);
        }
        if (st.Restarting || restarts > firstRestartCount) {
          throw await this.failed(
            'container-exited',
            service,
            id,
            `keeps exiting (last exit code ${st.ExitCode}${oomText(st)}) and being restarted`,
          );
        }
        if (st.Status === 'running') {
          if (!st.Health || health === 'healthy') {
            onProgress({ kind: 'ready', service, message: `${service} is ${st.Health ? 'healthy' : 'running'}` });
            return;
          }
          if (health === 'unhealthy') {
            const last = st.Health.Log?.[st.Health.Log.length - 1];
            const out = last?.Output?.trim();
            throw await this.failed(
              'container-unhealthy',
              service,
              id,
              `is unhealthy: its health check failed ${st.Health.FailingStreak} times` +
                (out ? ` (last check: "${truncate(out, 300)}")` : ''),
            );
          }
        }
      }
      if (elapsedMs >= timeoutMs) {
        const last = st.Health?.Log?.[st.Health.Log.length - 1]?.Output?.trim();
        throw await this.failed(
          'health-timeout',
          service,
          id,
          `did not become ${condition === 'service_healthy' ? 'healthy' : 'complete'} within ${Math.round(timeoutMs / 1000)} s ` +
            `(state: ${st.Status}${health ? `, health: ${health}` : ''}${last ? `, last check: "${truncate(last, 300)}"` : ''})`,
        );
      }
      const second = Math.floor(elapsedMs / 1000);
      if (second !== lastReported) {
        lastReported = second;
        onProgress({
          kind: 'wait',
          service,
          elapsedMs,
          timeoutMs,
          health,
          message: `Waiting for ${service} to be ${condition === 'service_healthy' ? 'healthy' : 'done'} (${second} s)`,
        });
      }
      await sleep(this.pollMs, signal);
    }
  }

  /**
   * Whether the engine is shutting down: a stopping dockerd closes its socket to new connections first, then stops
   * the containers, while the calls it already holds open (keep-alive) still answer, so a container's exit during a
   * start is the engine's, not the service's, when a new connection is refused. Local sockets and pipes only.
   */
  private engineStopping(): Promise<boolean> {
    const socketPath = (this.docker.modem as { socketPath?: unknown }).socketPath;
    if (typeof socketPath !== 'string') return Promise.resolve(false);
    return new Promise((resolve) => {
      const probe = net.connect(socketPath);
      probe.setTimeout(2_000, () => probe.destroy());
      probe.once('connect', () => {
        probe.destroy();
        resolve(false);
      });
      probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT'));
      probe.once('close', () => resolve(false));
    });
  }

  private async failed(
    code: 'container-exited' | 'container-unhealthy' | 'health-timeout',
    service: string,
    id: string,
    detail: string,
  ): Promise<ContainerFailedError> {
    let lines: string[] = [];
    try {
      lines = await this.containerLogLines(id, this.logTailLines);
    } catch {
      // the logs are a courtesy: the failure itself is what we report
    }
    return new ContainerFailedError(code, service, detail, lines);
  }

  /** A service's log lines written since `sinceMs`, each with the engine's time of it; none without a container. */
  async logLinesSince(service: string, sinceMs: number): Promise<{ atMs: number; line: string }[]> {
    const c = await this.serviceContainer(service);
    if (!c) return [];
    const buf = await this.call(`read the logs of ${service}`, () =>
      this.docker.getContainer(c.Id).logs({ stdout: true, stderr: true, timestamps: true, since: Math.floor(sinceMs / 1000), follow: false }),
    );
    return demuxBuffer(toBuffer(buf))
      .split(/\r?\n/)
      .map((l) => {
        // The engine's RFC 3339 time with nanoseconds, a space, the line.
        const space = l.indexOf(' ');
        return { atMs: Date.parse(l.slice(0, space)), line: l.slice(space + 1) };
      })
      .filter((l) => Number.isFinite(l.atMs) && l.atMs >= sinceMs);
  }

  private async containerLogLines(id: string, tail: number): Promise<string[]> {
    const buf = await this.call('read container logs', () =>
      this.docker.getContainer(id).logs({ stdout: true, stderr: true, tail, follow: false }),
    );
    const text = demuxBuffer(toBuffer(buf));
    return text
      .split(/\r?\n/)
      .filter((l) => l.length > 0)
      .slice(-tail);
  }

  private async pull(service: ServiceModel, onProgress: (p: StartProgress) => void, signal?: AbortSignal): Promise<void> {
    const image = service.image;
    const setting = service.imageVariables.map((v) => this.settings[v]).find((s) => s !== undefined);
    const progress = new PullProgress(image);
    const fail = (msg: string, cause?: unknown): PullFailedError =>
      new PullFailedError(image, service.name, msg, setting ?? service.imageVariables[0], cause);
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await this.docker.pull(image, signal ? { abortSignal: signal } : {})) as NodeJS.ReadableStream;
    } catch (err) {
      if (signal?.aborted) throw new CancelledError();
      if (statusCode(err) !== undefined) throw fail(engineMessage(err), err);
      throw mapEngineError(err, this.where, `pull ${image}`);
    }
    let lastEmit = 0;
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) => {
          if (signal?.aborted) return reject(new CancelledError());
          if (err) return reject(fail(err.message, err));
          if (progress.error) return reject(fail(progress.error));
          resolve();
        },
        (ev: PullStreamEvent) => {
          const snap = progress.push(ev);
          const now = Date.now();
          if (now - lastEmit < 100 && !ev.error) return;
          lastEmit = now;
          const amount =
            snap.totalBytes > 0
              ? `${formatBytes(snap.currentBytes)} of ${formatBytes(snap.totalBytes)}` +
                (snap.percent !== undefined ? ` (${snap.percent}%)` : '')
              : snap.status;
          onProgress({
            kind: 'pull',
            service: service.name,
            image,
            pull: snap,
            message: `Pulling ${image} for ${service.name}: ${amount}`,
          });
        },
      );
    });
    if (!(await this.hasImage(image))) throw fail('the pull finished but the image is not there');
    onProgress({ kind: 'pulled', service: service.name, image, message: `Pulled ${image}` });
  }

  private async hasImage(image: string): Promise<boolean> {
    return (await this.imageId(image)) !== undefined;
  }

  private async imageId(image: string): Promise<string | undefined> {
    try {
      const info = await this.docker.getImage(image).inspect();
      return info.Id;
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw mapEngineError(err, this.where, `inspect the image ${image}`);
    }
  }

  /** The project's networks of that name, oldest first (normally one). */
  private async projectNetworks(name: string): Promise<{ Id: string; Created: string }[]> {
    const nets = await this.call('list networks', () => this.docker.listNetworks({ filters: { name: [name] } }));
    const exact = nets.filter((n) => n.Name === name);
    const foreign = exact.find((n) => n.Labels?.[LABELS.project] !== this.project);
    if (foreign) throw new NameConflictError(name, 'network', this.project);
    return exact.sort((a, b) => (a.Created < b.Created ? -1 : a.Created > b.Created ? 1 : a.Id < b.Id ? -1 : 1));
  }

  /**
   * The project network's id, created if missing. The engine's duplicate check is not atomic: two windows starting
   * at once can each create one. Everyone keeps the oldest (the one a window that saw only one is using) and the
   * newer ones are removed.
   */
  private async ensureNetwork(): Promise<string> {
    const body = networkCreateBody(this.model, this.composeVersion);
    let nets = await this.projectNetworks(body.Name);
    if (nets.length === 0) {
      try {
        await this.docker.createNetwork(body);
      } catch (err) {
        if (statusCode(err) !== 409) throw mapEngineError(err, this.where, `create the network ${body.Name}`);
      }
      nets = await this.projectNetworks(body.Name);
    }
    const [keep, ...extra] = nets;
    if (!keep) throw new EngineError(`create the network ${body.Name}`, new Error('it vanished right after creation'));
    for (const n of extra) {
      await this.docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
    }
    return keep.Id;
  }

  private async ensureVolume(key: string): Promise<void> {
    const name = volumeName(this.project, key);
    try {
      await this.docker.getVolume(name).inspect();
      return; // an existing volume is used as it is (its data is the point)
    } catch (err) {
      if (statusCode(err) !== 404) throw mapEngineError(err, this.where, `inspect the volume ${name}`);
    }
    await this.call(`create the volume ${name}`, () =>
      this.docker.createVolume(volumeCreateBody(this.model, key, this.composeVersion)),
    );
  }

  private async projectContainers(): Promise<Docker.ContainerInfo[]> {
    return this.call('list containers', () =>
      this.docker.listContainers({
        all: true,
        filters: { label: [`${LABELS.project}=${this.project}`, `${LABELS.oneoff}=False`] },
      }),
    );
  }

  private async serviceContainer(service: string): Promise<Docker.ContainerInfo | undefined> {
    return (await this.projectContainers()).find((c) => c.Labels?.[LABELS.service] === service);
  }

  private async portHolder(port: number): Promise<string | undefined> {
    try {
      const running = await this.docker.listContainers({ filters: { publish: [String(port)] } });
      const c = running[0];
      if (!c) return undefined;
      const project = c.Labels?.[LABELS.project];
      return `the container "${containerDisplayName(c)}"` + (project ? ` (Compose project "${project}")` : '');
    } catch {
      return undefined;
    }
  }

  private bindDigests(service: ServiceModel): Map<string, string> {
    const out = new Map<string, string>();
    for (const v of service.volumes) {
      if (v.type !== 'bind') continue;
      const digest = digestPath(v.source);
      if (digest === undefined) throw new MissingConfigFileError(service.name, v.source);
      out.set(v.source, digest);
    }
    return out;
  }

  private async call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw mapEngineError(err, this.where, action);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** Demultiplex a non-TTY container log buffer (8-byte frame headers) into text. */
export function demuxBuffer(buf: Buffer): string {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    if (type !== 0 && type !== 1 && type !== 2) return Buffer.concat([...parts, buf.subarray(i)]).toString('utf8');
    const len = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  if (i < buf.length && parts.length === 0) return buf.toString('utf8');
  return Buffer.concat(parts).toString('utf8');
}

function toBuffer(x: unknown): Buffer {
  if (Buffer.isBuffer(x)) return x;
  if (typeof x === 'string') return Buffer.from(x);
  if (x === null || x === undefined) return Buffer.alloc(0);
  return Buffer.from(JSON.stringify(x));
}

/** True when nothing listens on hostIp:port (we could bind it). */
export function isPortFree(hostIp: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      // EADDRNOTAVAIL / EAFNOSUPPORT: that address does not exist here (e.g. no IPv6); the engine will say more.
      resolve(err.code !== 'EADDRINUSE' && err.code !== 'EACCES');
    });
    server.listen({ host: hostIp, port, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

function digestPath(p: string, depth = 0): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return undefined;
  }
  if (st.isFile()) return sha256(fs.readFileSync(p).toString('base64'));
  if (st.isDirectory() && depth < 4) {
    const parts = fs
      .readdirSync(p)
      .sort()
      .map((n) => `${n}:${digestPath(path.join(p, n), depth + 1) ?? ''}`);
    return sha256(parts.join('\n'));
  }
  return sha256(`${st.mode}`);
}

function containerDisplayName(c: Pick<Docker.ContainerInfo, 'Names' | 'Id'>): string {
  return (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, '');
}

function oomText(st: { OOMKilled?: boolean }): string {
  return st.OOMKilled ? ', killed for running out of memory: raise its mem_limit' : '';
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
