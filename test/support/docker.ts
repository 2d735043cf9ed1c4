// A tiny Docker helper for the tests: the local Engine (dockerode; DOCKER_HOST honoured), the test images built
// once per process, and a few container/network helpers that label what they create so it can be cleaned up.
//
//   const images = await ensureTestImages();      // { collector, prometheus, loki, grafana } -> image refs
//   process.env = { ...process.env, ...testImageEnv(images) };   // CCT_*_IMAGE for the extension's settings
import Docker from 'dockerode';
import { LABELS } from '../../src/stack/containerSpec';
import { buildTestImages, tarStream, type BuildOptions, type BuiltImage, type Role } from './images';

export type TestImages = Record<Role, string>;

/** Everything the helpers create carries this label (value: the creating process' id). */
export const TEST_LABEL = 'cct.test';

let docker: Docker | undefined;
export function connectDocker(): Docker {
  docker ??= new Docker();
  return docker;
}

/** True when an Engine answers (a ping within `timeoutMs`). */
export async function dockerAvailable(timeoutMs = 3000): Promise<boolean> {
  try {
    await Promise.race([
      connectDocker().ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}

/** Fails with the next step when no Docker Engine answers: the test command starts one, so none is a defect. */
export async function requireDocker(): Promise<void> {
  if (!(await dockerAvailable())) {
    throw new Error('No Docker Engine answers: run scripts/ci/start-dockerd.sh (as root), or set DOCKER_HOST.');
  }
}

let built: Promise<Record<Role, BuiltImage>> | undefined;

/** Builds the four local images once per process (a no-op when their content-hash tags exist). */
export function buildTestImagesOnce(opts: BuildOptions = {}): Promise<Record<Role, BuiltImage>> {
  built ??= buildTestImages(connectDocker(), {
    log: process.env.CCT_TEST_IMAGE_LOG ? (l) => console.error(l) : undefined,
    ...opts,
  });
  built.catch(() => {
    built = undefined;
  });
  return built;
}

/** The local image refs to use in place of the pinned upstream images (the real collector and Prometheus, the
 * Loki and Grafana doubles). */
export async function ensureTestImages(): Promise<TestImages> {
  const b = await buildTestImagesOnce();
  return { collector: b.collector.ref, prometheus: b.prometheus.ref, loki: b.loki.ref, grafana: b.grafana.ref };
}

/** The extension's image variables (architecture.md) pointing at the test images. */
export function testImageEnv(images: TestImages): Record<string, string> {
  return {
    CCT_COLLECTOR_IMAGE: images.collector,
    CCT_PROMETHEUS_IMAGE: images.prometheus,
    CCT_LOKI_IMAGE: images.loki,
    CCT_GRAFANA_IMAGE: images.grafana,
  };
}

// --- containers ------------------------------------------------------------------------------------------------

export interface RunOptions {
  image: string;
  name?: string;
  network?: string;
  /** DNS names on `network` (the compose service name, e.g. "loki"). */
  aliases?: string[];
  env?: Record<string, string>;
  cmd?: string[];
  /** uid:gid, as compose's `user` (the collector's `0:0`). */
  user?: string;
  /** container port -> published on 127.0.0.1 at a random host port (see hostPort()). */
  publish?: number[];
  healthcheck?: { test: string[]; intervalMs?: number; retries?: number };
  /** Files to put into the container before it starts: { '/etc/prometheus': [{ name, data }] }. */
  files?: Record<string, { name: string; data: string | Buffer; mode?: number }[]>;
  start?: boolean;
}

/** Tracks what a test creates; cleanup() removes it all (containers first, then networks). */
export class TestResources {
  readonly containers: Docker.Container[] = [];
  readonly networks: Docker.Network[] = [];
  readonly docker = connectDocker();

  async network(name: string): Promise<Docker.Network> {
    const net = await this.docker.createNetwork({
      Name: name,
      CheckDuplicate: true,
      Labels: { [TEST_LABEL]: String(process.pid) },
    });
    this.networks.push(net);
    return net;
  }

  async run(opts: RunOptions): Promise<Docker.Container> {
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of opts.publish ?? []) {
      exposed[`${p}/tcp`] = {};
      bindings[`${p}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: '' }];
    }
    const container = await this.docker.createContainer({
      Image: opts.image,
      name: opts.name,
      Cmd: opts.cmd,
      User: opts.user,
      Env: Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`),
      Labels: { [TEST_LABEL]: String(process.pid) },
      ExposedPorts: exposed,
      Healthcheck: opts.healthcheck
        ? {
            Test: opts.healthcheck.test,
            Interval: (opts.healthcheck.intervalMs ?? 1000) * 1e6,
            Timeout: 5e9,
            Retries: opts.healthcheck.retries ?? 30,
          }
        : undefined,
      HostConfig: { PortBindings: bindings, NetworkMode: opts.network },
      NetworkingConfig: opts.network
        ? { EndpointsConfig: { [opts.network]: { Aliases: opts.aliases ?? [] } } }
        : undefined,
    });
    this.containers.push(container);
    for (const [dir, files] of Object.entries(opts.files ?? {})) {
      const archive = tarStream(
        files.map((f) => ({ type: 'data' as const, name: f.name, mode: f.mode ?? 0o644, data: Buffer.from(f.data) })),
      );
      await container.putArchive(archive, { path: dir });
    }
    if (opts.start !== false) await container.start();
    return container;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.containers.splice(0).map((c) => c.remove({ force: true, v: true }).catch(() => undefined)));
    await Promise.all(this.networks.splice(0).map((n) => n.remove().catch(() => undefined)));
  }
}

/** The 127.0.0.1 host port a container port was published on. */
export async function hostPort(container: Docker.Container, port: number): Promise<number> {
  const info = await container.inspect();
  const b = info.NetworkSettings.Ports?.[`${port}/tcp`]?.find(
    (x) => x.HostIp === '127.0.0.1' || x.HostIp === '0.0.0.0',
  );
  if (!b) throw new Error(`${info.Name}: port ${port} is not published`);
  return Number(b.HostPort);
}

/** Waits for the container's healthcheck to report healthy; throws with its last output when it exits or times out. */
export async function waitHealthy(container: Docker.Container, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await container.inspect();
    const health = info.State.Health;
    if (health?.Status === 'healthy') return;
    if (!info.State.Running || Date.now() > deadline) {
      const logs = await containerLogs(container);
      const last = health?.Log?.at(-1);
      throw new Error(
        `${info.Name} not healthy (running=${info.State.Running}, exit=${info.State.ExitCode}, health=${health?.Status}` +
          `${last ? `, last check: ${last.ExitCode} ${last.Output.trim()}` : ''})\n${logs}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** stdout+stderr of a container as text (demultiplexed). */
export async function containerLogs(container: Docker.Container): Promise<string> {
  const buf = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  const out: string[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + size).toString('utf8'));
    i += 8 + size;
  }
  return out.join('');
}

/** Removes every container and network a (possibly crashed) test run left behind. */
export async function removeTestLeftovers(): Promise<void> {
  const d = connectDocker();
  const filters = JSON.stringify({ label: [TEST_LABEL] });
  for (const c of await d.listContainers({ all: true, filters }))
    await d
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  for (const n of await d.listNetworks({ filters }))
    await d
      .getNetwork(n.Id)
      .remove()
      .catch(() => undefined);
}

/** Removes the containers (with their anonymous volumes), networks and named volumes of a Compose project, by its
 * label; `docker` is the client to do it with (default: connectDocker()). Returns what it removed. */
export async function removeProject(project: string, docker: Docker = connectDocker()): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${LABELS.project}=${project}`] });
  const removed: string[] = [];
  for (const container of await docker.listContainers({ all: true, filters })) {
    await docker
      .getContainer(container.Id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
    removed.push(`container ${container.Names[0]?.replace(/^\//, '')}`);
  }
  for (const network of await docker.listNetworks({ filters })) {
    await docker
      .getNetwork(network.Id)
      .remove()
      .catch(() => undefined);
    removed.push(`network ${network.Name}`);
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const volume of Volumes ?? []) {
    await docker
      .getVolume(volume.Name)
      .remove({ force: true })
      .catch(() => undefined);
    removed.push(`volume ${volume.Name}`);
  }
  return removed;
}
