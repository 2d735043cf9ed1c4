// Builds the local images the tests (and scripts/run.sh on a machine without a registry) run in place of the
// pinned upstream ones. No registry here: everything is FROM scratch.
// Its size: one image builder (the tar contexts, the content hashes) and the layout of each of the four images.
//
//   cct-local/prometheus:<version>        the real Prometheus and promtool, built from their Go module by
//                                          scripts/components.sh, laid out like the official prom/prometheus image
//                                          (entrypoint, default args, paths, user nobody, /prometheus volume) on
//                                          busybox, as that image is
//   cct-local/otelcol-contrib:<version>   the real OpenTelemetry Collector, built with the Collector Builder from
//                                          stack/collector/builder.yaml, laid out like otel/opentelemetry-collector-
//                                          contrib (FROM scratch, /otelcol-contrib, uid 10001)
//   cct-test/loki-double                  test/doubles/loki.ts     } TEST DOUBLES (Loki and Grafana are AGPL: never
//   cct-test/grafana-double               test/doubles/grafana.ts  } built here), bundled with esbuild, run by this
//                                                                   machine's node (+ the libs ldd lists) + busybox
//
// Each image is tagged with a hash of everything that goes into it (`<tag>-<hash12>`, or `:<hash12>` for the
// doubles) plus a moving convenience tag; a build is skipped when the hash tag already exists. The build context is
// a tar made here: a Dockerfile plus tar layers that `ADD` unpacks with the ownership and modes set here (a plain
// COPY would make every file root-owned). The doubles are FROM cct-test/node-runtime:<hash> (busybox, node, libs),
// so the Engine stores node once and rebuilding a double after a code change sends it only the bundle.
//
// Needs on the host: Go (scripts/components.sh), busybox-static, node, ldd.
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import * as esbuild from 'esbuild';
import { TEST_DOUBLE_LABEL } from '../../src/stack/containerSpec';
import { components } from './components';
import { repoRoot } from './paths';

export type Role = 'collector' | 'prometheus' | 'loki' | 'grafana';

export interface BuiltImage {
  role: Role | 'node-runtime';
  /** The immutable, content-addressed reference tests should run. */
  ref: string;
  /** The moving tag pointing at the same image (e.g. cct-local/prometheus:3.16.0). */
  alias: string;
  built: boolean;
  seconds: number;
  sizeBytes: number;
}

export interface BuildOptions {
  /** Rebuild even when the hash tag exists. */
  force?: boolean;
  /** Don't use the Engine's build cache either (measures a cold build). */
  noCache?: boolean;
  log?: (line: string) => void;
  /** Only these images (default: all four). */
  roles?: Role[];
}

const FIXED_MTIME = 946684800; // 2000-01-01: contexts must not depend on file times
const NOBODY = 65534;
const IMAGE_FORMAT_VERSION = '1'; // bump when the layout below changes in a way the inputs don't show

// --- a minimal ustar writer (deterministic; file contents streamed from disk) -----------------------------

export type TarEntry =
  | { type: 'file'; name: string; mode?: number; uid?: number; gid?: number; source: string; size?: number }
  | { type: 'data'; name: string; mode?: number; uid?: number; gid?: number; data: Buffer }
  | { type: 'dir'; name: string; mode?: number; uid?: number; gid?: number }
  | { type: 'symlink'; name: string; target: string; uid?: number; gid?: number };

function entrySize(e: TarEntry): number {
  if (e.type === 'file') return e.size ?? fs.statSync(e.source).size;
  if (e.type === 'data') return e.data.length;
  return 0;
}

function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  let name = e.name.replace(/^\/+/, '');
  if (e.type === 'dir' && !name.endsWith('/')) name += '/';
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
    if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155)
      throw new Error(`tar: path too long: ${e.name}`);
  }
  const octal = (n: number, len: number): string => `${n.toString(8).padStart(len - 1, '0')}\0`;
  const mode = e.type === 'symlink' ? 0o777 : (e.mode ?? (e.type === 'dir' ? 0o755 : 0o644));
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(e.uid ?? 0, 8), 108, 'ascii');
  h.write(octal(e.gid ?? 0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(FIXED_MTIME, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0', 156, 'ascii');
  if (e.type === 'symlink') h.write(e.target, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

const pad = (size: number): number => (512 - (size % 512)) % 512;

/** The exact byte length tarStream(entries) will produce. */
export function tarSize(entries: TarEntry[]): number {
  return entries.reduce((n, e) => {
    const s = entrySize(e);
    return n + 512 + s + pad(s);
  }, 1024);
}

export async function* tarChunks(entries: TarEntry[]): AsyncGenerator<Buffer> {
  for (const e of entries) {
    const size = entrySize(e);
    yield header(e, size);
    if (e.type === 'file') {
      let read = 0;
      for await (const chunk of fs.createReadStream(e.source, { highWaterMark: 1 << 20 })) {
        read += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (read !== size) throw new Error(`tar: ${e.source} changed size while being archived`);
    } else if (e.type === 'data') yield e.data;
    if (pad(size)) yield Buffer.alloc(pad(size));
  }
  yield Buffer.alloc(1024);
}

export function tarStream(entries: TarEntry[]): Readable {
  return Readable.from(tarChunks(entries));
}

// --- inputs ---------------------------------------------------------------------------------------------------

function which(cmd: string): string {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  throw new Error(`${cmd} not found on PATH`);
}

function requireFile(p: string, hint: string): string {
  if (!fs.existsSync(p)) throw new Error(`${p} is missing (${hint})`);
  return p;
}

/** The shared libraries (and ELF interpreter) `ldd` lists for a binary: [path in image, real file on host]. */
export function sharedLibraries(binary: string): [string, string][] {
  let out: string;
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const msg = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}${(err as Error).message}`;
    if (/not a dynamic executable|statically linked/.test(msg)) return [];
    throw err;
  }
  const libs: [string, string][] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push([m[1], fs.realpathSync(m[1])]);
    else if (/=>\s+not found/.test(line)) throw new Error(`ldd ${binary}: ${line.trim()}`);
  }
  return libs;
}

function baseEntries(extraBinaries: string[]): TarEntry[] {
  const busybox = requireFile('/usr/bin/busybox', 'apt-get install -y busybox-static');
  if (sharedLibraries(busybox).length) {
    throw new Error('/usr/bin/busybox is not static: apt-get install -y busybox-static');
  }
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  const dir = (d: string, mode = 0o755, uid = 0): void => {
    const parts = d.replace(/^\/+|\/+$/g, '').split('/');
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (dirs.has(p)) continue;
      dirs.add(p);
      entries.push({
        type: 'dir',
        name: p,
        mode: i === parts.length ? mode : 0o755,
        uid: i === parts.length ? uid : 0,
        gid: i === parts.length ? uid : 0,
      });
    }
  };
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'lib', 'lib64', 'root']) dir(d);
  dir('tmp', 0o1777);
  entries.push({
    type: 'data',
    name: 'etc/passwd',
    data: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n'),
  });
  entries.push({
    type: 'data',
    name: 'etc/group',
    data: Buffer.from('root:x:0:\nnogroup:x:65534:\nnobody:x:65534:\n'),
  });
  entries.push({ type: 'data', name: 'etc/nsswitch.conf', data: Buffer.from('hosts: files dns\n') });
  entries.push({ type: 'file', name: 'bin/busybox', mode: 0o755, source: busybox });
  // Every applet, where busybox would install it (bin/sh, usr/bin/wget, ...), as in a busybox-based image.
  const applets = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  const taken = new Set(['bin/busybox']);
  for (const a of applets) {
    if (taken.has(a)) continue;
    dir(path.posix.dirname(a));
    taken.add(a);
    entries.push({ type: 'symlink', name: a, target: '/bin/busybox' });
  }
  const libs = new Map<string, string>();
  for (const bin of extraBinaries) for (const [inImage, real] of sharedLibraries(bin)) libs.set(inImage, real);
  for (const [inImage, real] of [...libs].sort()) {
    dir(path.posix.dirname(inImage));
    entries.push({ type: 'file', name: inImage, mode: 0o755, source: real });
  }
  return entries;
}

/** sha256 of a file's contents, memoized per (path, size, mtime) within the process. */
const fileHashes = new Map<string, string>();
async function hashFile(p: string): Promise<string> {
  const st = fs.statSync(p);
  const key = `${p}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
  const cached = fileHashes.get(key);
  if (cached) return cached;
  const h = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(p, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  const digest = h.digest('hex');
  fileHashes.set(key, digest);
  return digest;
}

async function hashEntries(h: crypto.Hash, entries: TarEntry[]): Promise<void> {
  for (const e of entries) {
    const { ...meta } = e as Record<string, unknown>;
    delete meta.source;
    delete meta.data;
    h.update(JSON.stringify(meta));
    if (e.type === 'file') h.update(await hashFile(e.source));
    if (e.type === 'data') h.update(crypto.createHash('sha256').update(e.data).digest('hex'));
    h.update('\n');
  }
}

interface ImageDef {
  role: Role | 'node-runtime';
  repo: string;
  /** tag prefix: "<prefix>-<hash>" and "<prefix>"; empty: ":<hash>" and ":latest" */
  tagPrefix: string;
  dockerfile: string;
  layers: { file: string; entries: TarEntry[] }[];
}

function dockerfileFor(layers: string[], lines: string[], from = 'scratch'): string {
  return [`FROM ${from}`, ...layers.map((l) => `ADD ${l} /`), ...lines, ''].join('\n');
}

function prometheusDef(): ImageDef {
  const { prometheus, promtool, prometheusVersion } = components();
  const defaultConfig = [
    '# The official image ships the same default: Prometheus scraping itself.',
    'global:',
    '  scrape_interval: 15s',
    '  evaluation_interval: 15s',
    'scrape_configs:',
    '  - job_name: "prometheus"',
    '    static_configs:',
    '      - targets: ["localhost:9090"]',
    '',
  ].join('\n');
  const app: TarEntry[] = [
    { type: 'file', name: 'bin/prometheus', mode: 0o755, source: prometheus },
    { type: 'file', name: 'bin/promtool', mode: 0o755, source: promtool },
    { type: 'dir', name: 'etc/prometheus', mode: 0o755, uid: NOBODY, gid: NOBODY },
    {
      type: 'data',
      name: 'etc/prometheus/prometheus.yml',
      mode: 0o644,
      uid: NOBODY,
      gid: NOBODY,
      data: Buffer.from(defaultConfig),
    },
    { type: 'dir', name: 'prometheus', mode: 0o775, uid: NOBODY, gid: NOBODY },
  ];
  const layers = [
    { file: 'base.tar', entries: baseEntries([]) },
    { file: 'prometheus.tar', entries: app },
  ];
  // As the Dockerfile of github.com/prometheus/prometheus at v3.x.
  const dockerfile = dockerfileFor(
    layers.map((l) => l.file),
    [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      `LABEL org.opencontainers.image.title="cct-local/prometheus" org.opencontainers.image.version="${prometheusVersion}" org.opencontainers.image.description="Prometheus ${prometheusVersion} built from its Go module (API only: no web UI assets)"`,
      'USER nobody',
      'EXPOSE 9090',
      'VOLUME [ "/prometheus" ]',
      'WORKDIR /prometheus',
      'ENTRYPOINT [ "/bin/prometheus" ]',
      'CMD [ "--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus" ]',
    ],
  );
  return { role: 'prometheus', repo: 'cct-local/prometheus', tagPrefix: prometheusVersion, dockerfile, layers };
}

const COLLECTOR_UID = 10001;
const CA_CERTIFICATES = '/etc/ssl/certs/ca-certificates.crt';

function collectorDef(): ImageDef {
  const { collector, collectorVersion } = components();
  // The official image ships a default config there; this build holds only the stack's components, so its
  // default is the stack's own config (compose binds the same file over it).
  const app: TarEntry[] = [
    { type: 'file', name: 'otelcol-contrib', mode: 0o755, source: collector },
    { type: 'dir', name: 'etc', mode: 0o755 },
    { type: 'dir', name: 'etc/otelcol-contrib', mode: 0o755 },
    {
      type: 'file',
      name: 'etc/otelcol-contrib/config.yaml',
      mode: 0o644,
      source: path.join(repoRoot, 'stack', 'collector', 'config.yaml'),
    },
  ];
  // The official image carries CA certificates for exporters that speak TLS; the stack's own hops are plain HTTP.
  if (fs.existsSync(CA_CERTIFICATES)) {
    app.push({ type: 'dir', name: 'etc/ssl', mode: 0o755 }, { type: 'dir', name: 'etc/ssl/certs', mode: 0o755 });
    app.push({ type: 'file', name: CA_CERTIFICATES.slice(1), mode: 0o644, source: fs.realpathSync(CA_CERTIFICATES) });
  }
  // As the Dockerfile of otel/opentelemetry-collector-contrib.
  const dockerfile = dockerfileFor(
    ['otelcol.tar'],
    [
      `LABEL org.opencontainers.image.title="cct-local/otelcol-contrib" org.opencontainers.image.version="${collectorVersion}" org.opencontainers.image.description="OpenTelemetry Collector ${collectorVersion} built with the Collector Builder from stack/collector/builder.yaml"`,
      `USER ${COLLECTOR_UID}:${COLLECTOR_UID}`,
      'EXPOSE 4317 4318 55678 55679',
      'ENTRYPOINT [ "/otelcol-contrib" ]',
      'CMD [ "--config", "/etc/otelcol-contrib/config.yaml" ]',
    ],
  );
  return {
    role: 'collector',
    repo: 'cct-local/otelcol-contrib',
    tagPrefix: collectorVersion,
    dockerfile,
    layers: [{ file: 'otelcol.tar', entries: app }],
  };
}

async function bundleDouble(root: string, module: string): Promise<Buffer> {
  const result = await esbuild.build({
    stdin: {
      contents: `import { main } from './${module}';\nmain().catch((err) => { console.error(err); process.exit(1); });\n`,
      resolveDir: path.join(root, 'test', 'doubles'),
      sourcefile: `${module}-main.ts`,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
    absWorkingDir: root,
  });
  return Buffer.from(result.outputFiles[0].contents);
}

type DoubleRole = 'loki' | 'grafana';

/** `dataDir`: the directory the real service keeps its state in, owned by the user it runs as (as in the real
 * image), so that a fresh named volume mounted there is writable and keeps the double's state across restarts. */
const DOUBLES: Record<DoubleRole, { module: string; repo: string; ports: number[]; uid: number; dataDir: string }> = {
  loki: { module: 'loki', repo: 'cct-test/loki-double', ports: [3100], uid: 10001, dataDir: 'loki' },
  grafana: { module: 'grafana', repo: 'cct-test/grafana-double', ports: [3000], uid: 472, dataDir: 'var/lib/grafana' },
};

async function doubleDef(root: string, role: DoubleRole, runtimeRef: string): Promise<ImageDef> {
  const d = DOUBLES[role];
  const bundle = await bundleDouble(root, d.module);
  const parents = d.dataDir
    .split('/')
    .slice(0, -1)
    .map((_, i, all) => all.slice(0, i + 1).join('/'));
  const app: TarEntry[] = [
    { type: 'dir', name: 'app', mode: 0o755 },
    { type: 'data', name: `app/${d.module}.js`, mode: 0o644, data: bundle },
    ...parents.map((name): TarEntry => ({ type: 'dir', name, mode: 0o755 })),
    { type: 'dir', name: d.dataDir, mode: 0o755, uid: d.uid, gid: d.uid },
  ];
  const dockerfile = dockerfileFor(
    ['app.tar'],
    [
      `ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_ENV=production DOUBLE_DATA_DIR=/${d.dataDir}`,
      `LABEL org.opencontainers.image.title="${d.repo}" org.opencontainers.image.description="TEST DOUBLE for the Claude Code Telemetry tests; not the real service" ${TEST_DOUBLE_LABEL}="${role}"`,
      `USER ${d.uid}:${d.uid}`,
      'WORKDIR /app',
      `EXPOSE ${d.ports.join(' ')}`,
      `ENTRYPOINT [ "/bin/node", "/app/${d.module}.js" ]`,
    ],
    runtimeRef,
  );
  return { role, repo: d.repo, tagPrefix: '', dockerfile, layers: [{ file: 'app.tar', entries: app }] };
}

/** The base of the three doubles: busybox + node + its libraries. A separate image, so that a change to a double
 * sends the Engine a few hundred kB, not the 100 MB runtime again. */
function nodeRuntimeDef(): ImageDef {
  const node = fs.realpathSync(process.execPath.endsWith('node') ? process.execPath : which('node'));
  const entries: TarEntry[] = [...baseEntries([node]), { type: 'file', name: 'bin/node', mode: 0o755, source: node }];
  const dockerfile = dockerfileFor(
    ['runtime.tar'],
    ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'ENTRYPOINT [ "/bin/node" ]'],
  );
  return {
    role: 'node-runtime',
    repo: 'cct-test/node-runtime',
    tagPrefix: '',
    dockerfile,
    layers: [{ file: 'runtime.tar', entries }],
  };
}

async function imageExists(docker: Docker, ref: string): Promise<{ size: number } | null> {
  try {
    const info = await docker.getImage(ref).inspect();
    return { size: info.Size };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return null;
    throw err;
  }
}

async function buildOne(
  docker: Docker,
  def: ImageDef,
  opts: BuildOptions,
): Promise<BuiltImage & { role: ImageDef['role'] }> {
  const started = Date.now();
  const h = crypto.createHash('sha256');
  h.update(`cct-test-image ${IMAGE_FORMAT_VERSION}\n${def.dockerfile}\n`);
  for (const layer of def.layers) {
    h.update(`layer ${layer.file}\n`);
    await hashEntries(h, layer.entries);
  }
  const hash = h.digest('hex').slice(0, 12);
  const ref = def.tagPrefix ? `${def.repo}:${def.tagPrefix}-${hash}` : `${def.repo}:${hash}`;
  const alias = def.tagPrefix ? `${def.repo}:${def.tagPrefix}` : `${def.repo}:latest`;
  const existing = opts.force ? null : await imageExists(docker, ref);
  if (existing) {
    await docker.getImage(ref).tag({ repo: def.repo, tag: alias.slice(def.repo.length + 1) });
    return {
      role: def.role,
      ref,
      alias,
      built: false,
      seconds: (Date.now() - started) / 1000,
      sizeBytes: existing.size,
    };
  }
  opts.log?.(`building ${ref}`);
  // The context: the Dockerfile, then each layer tar streamed as the body of one context entry (size known ahead).
  const dockerfile: TarEntry = { type: 'data', name: 'Dockerfile', data: Buffer.from(def.dockerfile) };
  const contextStream = Readable.from(
    (async function* () {
      yield header(dockerfile, dockerfile.data.length);
      yield dockerfile.data;
      if (pad(dockerfile.data.length)) yield Buffer.alloc(pad(dockerfile.data.length));
      for (const layer of def.layers) {
        const size = tarSize(layer.entries);
        yield header({ type: 'data', name: layer.file, data: Buffer.alloc(0) }, size);
        yield* tarChunks(layer.entries);
        if (pad(size)) yield Buffer.alloc(pad(size));
      }
      yield Buffer.alloc(1024);
    })(),
  );
  const stream = await docker.buildImage(contextStream as unknown as NodeJS.ReadableStream, {
    t: ref,
    labels: { 'cct.test.image': def.role, 'cct.test.inputs-hash': hash },
    rm: true,
    forcerm: true,
    nocache: opts.noCache === true,
  });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, events: { error?: string; errorDetail?: { message?: string } }[]) => {
        const failed = err ?? events.find((e) => e.error || e.errorDetail);
        if (failed)
          reject(
            new Error(
              `docker build ${ref} failed: ${(failed as Error).message ?? (failed as { error?: string }).error}`,
            ),
          );
        else resolve();
      },
      (e: { stream?: string }) => {
        if (e.stream && e.stream.trim()) opts.log?.(`  ${e.stream.trim()}`);
      },
    );
  });
  await docker.getImage(ref).tag({ repo: def.repo, tag: alias.slice(def.repo.length + 1) });
  const built = await imageExists(docker, ref);
  return {
    role: def.role,
    ref,
    alias,
    built: true,
    seconds: (Date.now() - started) / 1000,
    sizeBytes: built?.size ?? 0,
  };
}

/** Builds (or finds) the local images. Sequential: the two doubles share their runtime layer. */
export async function buildTestImages(docker: Docker, opts: BuildOptions = {}): Promise<Record<Role, BuiltImage>> {
  const root = repoRoot;
  const roles = opts.roles ?? (['prometheus', 'collector', 'loki', 'grafana'] as Role[]);
  const out: Partial<Record<Role, BuiltImage>> = {};
  let runtimeRef: string | undefined;
  for (const role of roles) {
    let def: ImageDef;
    if (role === 'prometheus') def = prometheusDef();
    else if (role === 'collector') def = collectorDef();
    else {
      runtimeRef ??= (await buildOne(docker, nodeRuntimeDef(), opts)).ref;
      def = await doubleDef(root, role, runtimeRef);
    }
    out[role] = (await buildOne(docker, def, opts)) as BuiltImage;
  }
  return out as Record<Role, BuiltImage>;
}

/** Removes cct-test images whose tag is not one of `keep` (old hashes pile up otherwise). */
export async function pruneOldTestImages(docker: Docker, keep: string[]): Promise<string[]> {
  const removed: string[] = [];
  const images = await docker.listImages({ filters: JSON.stringify({ label: ['cct.test.image'] }) });
  for (const img of images) {
    const tags = img.RepoTags ?? [];
    if (tags.some((t) => keep.includes(t))) continue;
    try {
      await docker.getImage(img.Id).remove({ force: false });
      removed.push(...tags);
    } catch {
      // in use by a container: leave it
    }
  }
  return removed;
}
