// Find the container engine: the `claudeTelemetry.docker.host` setting, DOCKER_HOST, the current Docker context,
// then the usual sockets. Pure over injected fs/env so it is testable without an engine. No `vscode` import.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DockerOptions } from 'dockerode';
import { NoEngineFoundError } from './errors';

export type EngineSource = 'setting' | 'DOCKER_HOST' | 'context' | 'socket';

export interface EngineLocation {
  /** Options for `new Docker(options)`. */
  options: DockerOptions;
  /** Where it was found, for messages: e.g. `unix:///var/run/docker.sock (DOCKER_HOST)`. */
  description: string;
  /** The endpoint in URL form (unix://..., npipe://..., tcp://..., ssh://...). */
  endpoint: string;
  source: EngineSource;
}

export interface LocatorDeps {
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  homedir: string;
  /** File contents, or undefined when it cannot be read. */
  readFile(p: string): string | undefined;
  /** Whether something (a socket, a pipe, a file) exists at p. */
  exists(p: string): boolean;
}

export function nodeLocatorDeps(): LocatorDeps {
  return {
    env: process.env,
    platform: process.platform,
    homedir: os.homedir(),
    readFile: (p) => {
      try {
        return fs.readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
    exists: (p) => {
      try {
        fs.statSync(p);
        return true;
      } catch (err) {
        // A socket we may not stat (EACCES on its directory) still exists: let the connect say "permission denied".
        return (err as NodeJS.ErrnoException).code === 'EACCES';
      }
    },
  };
}

export const WINDOWS_PIPE = '//./pipe/docker_engine';

/**
 * Locate the engine. `setting` is the `claudeTelemetry.docker.host` value (empty/undefined = not set).
 * Throws NoEngineFoundError listing every place looked at.
 */
export function locateEngine(setting: string | undefined, deps: LocatorDeps = nodeLocatorDeps()): EngineLocation {
  const looked: string[] = [];
  const { env } = deps;

  if (setting && setting.trim()) {
    return fromHost(setting.trim(), 'setting', 'the claudeTelemetry.docker.host setting', deps);
  }
  looked.push('the claudeTelemetry.docker.host setting (not set)');

  const dockerHost = env.DOCKER_HOST?.trim();
  if (dockerHost) return fromHost(dockerHost, 'DOCKER_HOST', 'DOCKER_HOST', deps);
  looked.push('DOCKER_HOST (not set)');

  const ctx = currentContext(deps);
  if (ctx.host) {
    return fromHost(ctx.host, 'context', `Docker context "${ctx.name}"`, deps, ctx.tls);
  }
  looked.push(ctx.note);

  for (const candidate of socketCandidates(deps)) {
    if (deps.exists(candidate.path)) {
      const endpoint = deps.platform === 'win32' && candidate.path.startsWith('//./pipe/')
        ? `npipe://${candidate.path}`
        : `unix://${candidate.path}`;
      return {
        options: { socketPath: candidate.path },
        description: `${endpoint} (${candidate.label})`,
        endpoint,
        source: 'socket',
      };
    }
    looked.push(`${candidate.path} (${candidate.label}: not found)`);
  }
  throw new NoEngineFoundError(looked);
}

interface SocketCandidate {
  path: string;
  label: string;
}

export function socketCandidates(deps: LocatorDeps): SocketCandidate[] {
  if (deps.platform === 'win32') {
    return [
      { path: WINDOWS_PIPE, label: 'Docker Desktop / Docker Engine named pipe' },
      { path: '//./pipe/podman-machine-default', label: 'Podman machine named pipe' },
    ];
  }
  const home = deps.homedir;
  const out: SocketCandidate[] = [
    { path: '/var/run/docker.sock', label: 'Docker Engine' },
    { path: path.posix.join(home, '.docker', 'run', 'docker.sock'), label: 'Docker Desktop' },
    { path: path.posix.join(home, '.docker', 'desktop', 'docker.sock'), label: 'Docker Desktop (Linux)' },
  ];
  const xdg = deps.env.XDG_RUNTIME_DIR;
  if (xdg) out.push({ path: path.posix.join(xdg, 'podman', 'podman.sock'), label: 'Podman (rootless)' });
  if (deps.platform === 'linux') out.push({ path: '/run/podman/podman.sock', label: 'Podman (rootful)' });
  out.push({ path: path.posix.join(home, '.colima', 'default', 'docker.sock'), label: 'Colima' });
  out.push({ path: path.posix.join(home, '.colima', 'docker.sock'), label: 'Colima (old layout)' });
  if (deps.platform === 'darwin') {
    out.push({
      path: path.posix.join(home, '.local', 'share', 'containers', 'podman', 'machine', 'podman.sock'),
      label: 'Podman machine',
    });
    out.push({ path: path.posix.join(home, '.rd', 'docker.sock'), label: 'Rancher Desktop' });
    out.push({ path: path.posix.join(home, '.orbstack', 'run', 'docker.sock'), label: 'OrbStack' });
  }
  return out;
}

interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  skipVerify?: boolean;
}

interface ContextResult {
  name?: string;
  host?: string;
  tls?: TlsMaterial;
  note: string;
}

function dockerConfigDir(deps: LocatorDeps): string {
  const fromEnv = deps.env.DOCKER_CONFIG?.trim();
  return fromEnv || joinFor(deps, deps.homedir, '.docker');
}

function joinFor(deps: LocatorDeps, ...parts: string[]): string {
  return deps.platform === 'win32' ? path.win32.join(...parts) : path.posix.join(...parts);
}

/** The current Docker context's endpoint: DOCKER_CONTEXT, else config.json's currentContext. */
export function currentContext(deps: LocatorDeps): ContextResult {
  const dir = dockerConfigDir(deps);
  let name = deps.env.DOCKER_CONTEXT?.trim();
  const configPath = joinFor(deps, dir, 'config.json');
  if (!name) {
    const text = deps.readFile(configPath);
    if (text !== undefined) {
      try {
        const parsed = JSON.parse(text) as { currentContext?: unknown };
        if (typeof parsed.currentContext === 'string') name = parsed.currentContext.trim();
      } catch {
        return { note: `the Docker context in ${configPath} (unreadable JSON)` };
      }
    }
  }
  if (!name || name === 'default') {
    return { note: `the current Docker context (${name ? '"default"' : `none set in ${configPath}`})` };
  }
  const hash = createHash('sha256').update(name).digest('hex');
  const metaPath = joinFor(deps, dir, 'contexts', 'meta', hash, 'meta.json');
  const meta = deps.readFile(metaPath);
  if (meta === undefined) return { name, note: `Docker context "${name}" (no metadata at ${metaPath})` };
  try {
    const parsed = JSON.parse(meta) as {
      Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } };
    };
    const host = parsed.Endpoints?.docker?.Host;
    if (typeof host !== 'string' || !host) {
      return { name, note: `Docker context "${name}" (no docker endpoint in ${metaPath})` };
    }
    const tlsDir = joinFor(deps, dir, 'contexts', 'tls', hash, 'docker');
    const tls: TlsMaterial = {};
    const ca = deps.readFile(joinFor(deps, tlsDir, 'ca.pem'));
    const cert = deps.readFile(joinFor(deps, tlsDir, 'cert.pem'));
    const key = deps.readFile(joinFor(deps, tlsDir, 'key.pem'));
    if (ca !== undefined) tls.ca = ca;
    if (cert !== undefined) tls.cert = cert;
    if (key !== undefined) tls.key = key;
    if (parsed.Endpoints?.docker?.SkipTLSVerify === true) tls.skipVerify = true;
    return { name, host, tls, note: `Docker context "${name}"` };
  } catch {
    return { name, note: `Docker context "${name}" (unreadable ${metaPath})` };
  }
}

/** Parse a Docker host string (unix://, npipe://, tcp://, http(s)://, ssh://, or a bare socket path). */
export function fromHost(
  host: string,
  source: EngineSource,
  label: string,
  deps: LocatorDeps,
  tls?: TlsMaterial,
): EngineLocation {
  const describe = (endpoint: string): string => `${endpoint} (${label})`;
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    return { options: { socketPath }, description: describe(host), endpoint: host, source };
  }
  if (host.startsWith('npipe://')) {
    // npipe:////./pipe/docker_engine → //./pipe/docker_engine
    const rest = host.slice('npipe:'.length).replace(/^\/\/+/, '//');
    const socketPath = rest.replace(/\\/g, '/');
    return { options: { socketPath }, description: describe(host), endpoint: host, source };
  }
  if (host.startsWith('/') || /^\\\\\.\\pipe\\/.test(host) || host.startsWith('//./pipe/')) {
    const socketPath = host.replace(/\\/g, '/');
    const endpoint = socketPath.startsWith('//./pipe/') ? `npipe://${socketPath}` : `unix://${socketPath}`;
    return { options: { socketPath }, description: describe(endpoint), endpoint, source };
  }
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new NoEngineFoundError([`${label}: "${host}" is not a Docker host (use unix://, npipe://, tcp:// or ssh://)`]);
  }
  if (url.protocol === 'ssh:') {
    const options: DockerOptions = {
      protocol: 'ssh',
      host: url.hostname,
      port: url.port ? Number(url.port) : 22,
    };
    if (url.username) options.username = decodeURIComponent(url.username);
    return { options, description: describe(host), endpoint: host, source };
  }
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const material: TlsMaterial = { ...(tls ?? {}) };
    // DOCKER_TLS_VERIFY / DOCKER_CERT_PATH apply to DOCKER_HOST and the setting, as in the docker CLI.
    const certPath = deps.env.DOCKER_CERT_PATH?.trim();
    const verify = !!deps.env.DOCKER_TLS_VERIFY && deps.env.DOCKER_TLS_VERIFY !== '0';
    if (source !== 'context' && (verify || certPath)) {
      const dir = certPath || joinFor(deps, dockerConfigDir(deps));
      const ca = deps.readFile(joinFor(deps, dir, 'ca.pem'));
      const cert = deps.readFile(joinFor(deps, dir, 'cert.pem'));
      const key = deps.readFile(joinFor(deps, dir, 'key.pem'));
      if (ca !== undefined) material.ca = ca;
      if (cert !== undefined) material.cert = cert;
      if (key !== undefined) material.key = key;
    }
    const useTls = url.protocol === 'https:' || verify || !!(material.ca || material.cert);
    const defaultPort = useTls ? 2376 : 2375;
    const options: DockerOptions = {
      protocol: useTls ? 'https' : 'http',
      host: url.hostname,
      port: url.port ? Number(url.port) : defaultPort,
    };
    if (material.ca) options.ca = material.ca;
    if (material.cert) options.cert = material.cert;
    if (material.key) options.key = material.key;
    return { options, description: describe(host), endpoint: host, source };
  }
  throw new NoEngineFoundError([`${label}: "${host}" uses an unsupported scheme ${url.protocol}`]);
}
