// The levers of the fault suite (test/e2e/faults.test.ts): stand-ins that answer as a broken backend or a registry
// without the image (a program holding a port is ../ports.ts' holdPort()), the Docker Engine stopped and started again
// the way CI started it, the extension hosts of a code-server paused and resumed, the User settings file, and readings of what the status
// bar and the notification center show. TEST FIXTURES: nothing here is shipped.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { dockerAvailable } from '../docker';
import { getJson } from '../http';
import { repoRoot } from '../paths';
import { listenOnLoopback } from '../ports';
import { waitFor } from '../wait';
import { runCommand, statusBarTexts } from './codeServer';

// --- a backend that answers wrongly -----------------------------------------------------------------------------

/**
 * How the Prometheus stand-in answers every request: `proxy` passes it to the real Prometheus, `slow` does so after
 * SLOW_ANSWER_MS; the others are the faults of a wrong backend (an HTML login page, bytes that are no JSON, JSON of
 * another shape, a body over 16 MiB, HTTP 500, a 500 whose error is HTML) or of none (`close`: the connection is
 * accepted and closed; `hang`: the request is read and never answered).
 */
export type BackendMode =
  'proxy' | 'slow' | 'html' | 'garbage' | 'shape' | 'huge' | 'close' | 'hang' | 'http500' | 'htmlInError';

export const SLOW_ANSWER_MS = 5_000;
/** The error text of `htmlInError`: markup that would run script if it were drawn as HTML. */
export const HTML_ERROR = '<img src=x onerror="window.__cctInjected=1"><b>injected</b>';

export interface StandInRequest {
  path: string;
  at: number;
  endedAt: number | undefined;
}

export interface BackendStandIn {
  /** http://127.0.0.1:PORT, for claudeTelemetry.backend.prometheusUrl. */
  url: string;
  mode: BackendMode;
  readonly requests: StandInRequest[];
  /** The most requests open at once since `resetCounts()`, of all paths and of /api/v1/rules (one per refresh). */
  readonly maxInFlight: number;
  readonly maxRefreshesInFlight: number;
  resetCounts(): void;
  close(): Promise<void>;
}

const LOGIN_PAGE =
  '<!doctype html>\n<html><head><title>Sign in · Example SSO</title></head><body><form action="/login"><input name="user"></form></body></html>\n';

/** A stand-in for a team's Prometheus on loopback, in front of the stack's real one (`target`). */
export async function startBackendStandIn(target: string): Promise<BackendStandIn> {
  let inFlight = 0;
  let rulesInFlight = 0;
  let maxInFlight = 0;
  let maxRefreshesInFlight = 0;
  const requests: StandInRequest[] = [];
  const held = new Set<ServerResponse>();

  const proxy = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // As a proxy does: the method and the body too (a long query comes as a form-encoded POST).
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const type = req.headers['content-type'];
    const upstream = await fetch(`${target}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers: { accept: 'application/json', ...(type ? { 'content-type': type } : {}) },
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const huge = (res: ServerResponse): void => {
    // Chunked, no length: the client has to stop reading at its cap.
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(1024 * 1024, '0,');
    let left = 17;
    const write = (): void => {
      while (left > 0 && !res.destroyed) {
        left -= 1;
        if (!res.write(chunk)) return void res.once('drain', write);
      }
      if (!res.destroyed) res.end('0]');
    };
    res.write('[');
    write();
  };

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    switch (standIn.mode) {
      case 'proxy':
        return proxy(req, res);
      case 'slow':
        await sleep(SLOW_ANSWER_MS);
        return res.destroyed ? undefined : proxy(req, res);
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return void res.end(LOGIN_PAGE);
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(Buffer.from([0x00, 0xff, 0x7b, 0x22, 0x73, 0x74, 0x61, 0x74, 0x75, 0x73, 0x1f, 0x3a]));
      case 'shape':
        // JSON that says success, in no shape Prometheus' API has.
        return json(res, 200, {
          status: 'success',
          data: { groups: 'none', resultType: 'table', result: { rows: 0 } },
        });
      case 'huge':
        return huge(res);
      case 'close':
        return void req.socket.destroy();
      case 'hang':
        held.add(res);
        return;
      case 'http500':
        return json(res, 500, {
          status: 'error',
          errorType: 'internal',
          error: 'unexpected error: the storage is closing',
        });
      case 'htmlInError':
        return json(res, 500, { status: 'error', errorType: 'internal', error: HTML_ERROR });
    }
  };

  const server = createHttpServer((req, res) => {
    const entry: StandInRequest = { path: (req.url ?? '/').split('?')[0] ?? '/', at: Date.now(), endedAt: undefined };
    const rules = entry.path === '/api/v1/rules';
    requests.push(entry);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (rules) maxRefreshesInFlight = Math.max(maxRefreshesInFlight, (rulesInFlight += 1));
    res.once('close', () => {
      inFlight -= 1;
      if (rules) rulesInFlight -= 1;
      entry.endedAt = Date.now();
      held.delete(res);
    });
    answer(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  const port = await listenOnLoopback(server);
  const standIn: BackendStandIn = {
    url: `http://127.0.0.1:${port}`,
    mode: 'proxy',
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    get maxRefreshesInFlight() {
      return maxRefreshesInFlight;
    },
    resetCounts: () => {
      maxInFlight = inFlight;
      maxRefreshesInFlight = rulesInFlight;
    },
    close: async () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return standIn;
}

// --- a registry that does not have the image --------------------------------------------------------------------

export interface RegistryStandIn {
  /** host:port, as an image reference names its registry. */
  host: string;
  /** "METHOD path" of each request the engine made. */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * A Docker registry (the v2 API's answers) on loopback that has no image: the engine's pull of any tag from it
 * meets "manifest unknown", as from a registry where the tag was never pushed. The engine reaches 127.0.0.0/8 over
 * plain HTTP by default.
 */
export async function startRegistryStandIn(): Promise<RegistryStandIn> {
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const headers = { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' };
    if (req.url === '/v2/' || req.url === '/v2') {
      res.writeHead(200, headers);
      return void res.end('{}');
    }
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(req.url ?? '');
    res.writeHead(404, headers);
    res.end(
      JSON.stringify({
        errors: [
          manifest
            ? { code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: manifest[2] } }
            : { code: 'NAME_UNKNOWN', message: 'repository name not known to registry' },
        ],
      }),
    );
  });
  const port = await listenOnLoopback(server);
  return {
    host: `127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// --- sockets that refuse (a port held: holdPort() in ../ports.ts) -----------------------------------------------

/**
 * A listening unix socket whose file has mode 000, as /var/run/docker.sock is to a user outside the `docker` group.
 * Root bypasses file modes: the extension host meets the mode only when it runs without CAP_DAC_OVERRIDE (code-server
 * started with `WITHOUT_FILE_PERMISSION_OVERRIDE`).
 */
export async function unreadableSocket(): Promise<{ path: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'cct-faults-sock-'));
  const path = join(dir, 'docker.sock');
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0);
  return {
    path,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The command prefix that runs code-server as root without the capabilities that ignore file permissions. */
export const WITHOUT_FILE_PERMISSION_OVERRIDE = [
  'setpriv',
  '--bounding-set=-dac_override,-dac_read_search',
  '--inh-caps=-dac_override,-dac_read_search',
  '--',
];

// --- the Docker Engine, stopped and started again ---------------------------------------------------------------

export interface EngineProcess {
  pid: number;
  /** unix:///… as dockerd's -H. */
  host: string;
  pidfile: string;
  /** dockerd's other arguments. */
  args: string[];
}

/**
 * The running dockerd, as scripts/ci/start-dockerd.sh started it (its pid file, its -H, its other arguments), so
 * that it can be started again the same way. Throws when the engine is not such a process (Docker Desktop, a
 * systemd socket, a remote engine): the engine cases need an engine they may stop.
 */
export function engineProcess(pidfile = process.env.DOCKERD_PIDFILE ?? '/var/run/docker.pid'): EngineProcess {
  const pid = existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8').trim()) : NaN;
  const argv =
    Number.isInteger(pid) && existsSync(`/proc/${pid}/cmdline`)
      ? readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
      : [];
  if (basename(argv[0] ?? '') !== 'dockerd') {
    throw new Error(
      `no dockerd to stop and start again: ${pidfile} names ${Number.isInteger(pid) ? `pid ${pid} (${argv.join(' ') || 'gone'})` : 'nothing'}. Start one with scripts/ci/start-dockerd.sh (as root).`,
    );
  }
  let host = 'unix:///var/run/docker.sock';
  let ownPidfile = pidfile;
  const args: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string => inline ?? argv[++i] ?? '';
    if (flag === '-H' || flag === '--host') host = value();
    else if (flag === '--pidfile' || flag === '-p') ownPidfile = value();
    else args.push(argv[i]!);
  }
  if (!host.startsWith('unix://') || args.some((arg) => /\s/.test(arg))) {
    throw new Error(
      `dockerd (pid ${pid}) runs as "${argv.join(' ')}", which scripts/ci/start-dockerd.sh cannot start again`,
    );
  }
  return { pid, host, pidfile: ownPidfile, args };
}

/** Stops the engine as `pkill dockerd` does (SIGTERM: it stops its containers and exits); waits until it is gone. */
export async function stopEngine(engine: EngineProcess): Promise<void> {
  try {
    process.kill(engine.pid, 'SIGTERM');
  } catch {
    return;
  }
  const gone = (): boolean =>
    !existsSync(`/proc/${engine.pid}`) || /\) Z /.test(readFileSync(`/proc/${engine.pid}/stat`, 'utf8'));
  const deadline = Date.now() + 60_000;
  while (!gone()) {
    if (Date.now() > deadline) {
      process.kill(engine.pid, 'SIGKILL');
      break;
    }
    await sleep(100);
  }
}

/** Starts the engine again with scripts/ci/start-dockerd.sh and its former arguments; returns the new process. */
export async function startEngine(engine: EngineProcess): Promise<EngineProcess> {
  await new Promise<void>((resolve, reject) => {
    execFile(
      'bash',
      [join(repoRoot, 'scripts', 'ci', 'start-dockerd.sh')],
      {
        env: {
          ...process.env,
          DOCKER_HOST: engine.host,
          DOCKERD_PIDFILE: engine.pidfile,
          DOCKERD_ARGS: engine.args.join(' '),
        },
        timeout: 120_000,
      },
      (error, stdout, stderr) =>
        error ? reject(new Error(`start-dockerd.sh failed: ${error.message}\n${stdout}\n${stderr}`)) : resolve(),
    );
  });
  return engineProcess(engine.pidfile);
}

/** The engine answers; started again (as `engine` was) when it does not. Returns the engine process as it is now. */
export async function ensureEngine(engine: EngineProcess | undefined): Promise<EngineProcess | undefined> {
  if (await dockerAvailable(5_000)) return engine;
  if (!engine) throw new Error('the Docker Engine does not answer, and no dockerd of this run is known to start again');
  return startEngine(engine);
}

// --- the extension hosts ----------------------------------------------------------------------------------------

/** The extension host processes among the descendants of `rootPid` (code-server runs one per window). */
export function extensionHostPids(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, the last ")" ends it.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const hosts: number[] = [];
  const queue = [...(children.get(rootPid) ?? [])];
  while (queue.length) {
    const pid = queue.shift()!;
    queue.push(...(children.get(pid) ?? []));
    const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
    if (cmdline.includes('--type=extensionHost')) hosts.push(pid);
  }
  return hosts;
}

// --- the settings files -----------------------------------------------------------------------------------------

/**
 * A settings.json written whole: `baseline` and a case's overrides (`undefined` removes a key). code-server reads its
 * Machine settings (the Settings editor's Remote tab) and a workspace's .vscode/settings.json again when they change
 * on disk; not its User settings.json, which `editUserSettingsJson` edits in the workbench instead.
 */
export class SettingsFile {
  constructor(
    readonly path: string,
    private readonly baseline: Readonly<Record<string, unknown>>,
  ) {}

  read(): Record<string, unknown> {
    return JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, unknown>;
  }

  write(overrides: Record<string, unknown> = {}): void {
    const settings: Record<string, unknown> = { ...this.baseline };
    for (const [key, value] of Object.entries(overrides)) {
      if (value === undefined) delete settings[key];
      else settings[key] = value;
    }
    const text = `${JSON.stringify(settings, null, 2)}\n`;
    if (!existsSync(this.path) || readFileSync(this.path, 'utf8') !== text) writeFileSync(this.path, text);
  }
}

/**
 * Edits the User settings.json as a user does: "Preferences: Open User Settings (JSON)", its text replaced by `edit`
 * of what it holds, saved, the editor closed. Returns what it held, for the undo.
 */
export async function editUserSettingsJson(
  page: Page,
  file: string,
  edit: (settings: Record<string, unknown>) => Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const read = (): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const before = read();
  const after = edit({ ...before });
  await runCommand(page, 'Preferences: Open User Settings (JSON)');
  const text = page.locator('.editor-instance .monaco-editor .view-lines').first();
  await text.waitFor({ state: 'visible', timeout: 20_000 });
  await text.click();
  // Pasted: typed, the editor would close each bracket and indent each line itself.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(page.url()).origin });
  await page.evaluate((json) => navigator.clipboard.writeText(json), `${JSON.stringify(after, null, 2)}\n`);
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('ControlOrMeta+V');
  await page.keyboard.press('ControlOrMeta+S');
  await until(
    'the saved User settings.json',
    () => {
      try {
        return JSON.stringify(read()) === JSON.stringify(after);
      } catch {
        return false;
      }
    },
    15_000,
  );
  await closeModalEditor(page);
  return before;
}

/** Closes the editor that opens over the workbench (the Settings editor, settings.json), as Escape does. */
export async function closeModalEditor(page: Page): Promise<void> {
  const modal = page.locator('.modal-editor-part');
  for (
    let attempt = 0;
    attempt < 4 &&
    (await modal
      .first()
      .isVisible()
      .catch(() => false));
    attempt++
  ) {
    await page.keyboard.press('Escape');
    await modal
      .first()
      .waitFor({ state: 'hidden', timeout: 2_000 })
      .catch(() => undefined);
  }
}

// --- what the user sees -----------------------------------------------------------------------------------------

/** Today's cost as the status bar shows it ("$1.23"), or undefined when it shows none. */
export async function statusBarCost(page: Page): Promise<string | undefined> {
  for (const text of await statusBarTexts(page).catch(() => [] as string[])) {
    const cost = /(?:^|\s)(\$\d+\.\d\d)(?!\d)/.exec(text)?.[1];
    if (cost) return cost;
  }
  return undefined;
}

/** Every notification of the notification center (the toasts' and those that have left the screen). */
export async function notificationCenterTexts(page: Page): Promise<string[]> {
  await runCommand(page, 'Notifications: Show Notifications');
  const center = page.locator('.notifications-center');
  await center.waitFor({ state: 'visible', timeout: 5_000 });
  const texts = await center
    .locator('.notification-list-item')
    .evaluateAll((elements) =>
      elements.map((element) => (element as HTMLElement).innerText.replace(/\s+/g, ' ').trim()),
    );
  await page.keyboard.press('Escape');
  return texts;
}

/** Records every status bar text shown while it runs (polled 5 times a second). */
export function recordStatusBar(page: Page): { texts(): string[]; stop(): Promise<void> } {
  const seen = new Set<string>();
  let running = true;
  const loop = (async () => {
    for (; running; await sleep(200))
      (await statusBarTexts(page).catch(() => [] as string[])).forEach((text) => seen.add(text));
  })();
  return {
    texts: () => [...seen],
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** How many Claude Code events Loki holds from the last day (Loki's own query API). */
export async function lokiEventCount(lokiPort: number): Promise<number> {
  const now = BigInt(Date.now()) * 1_000_000n;
  const params = new URLSearchParams({
    query: '{service_name="claude-code"}',
    start: String(now - 86_400_000_000_000n),
    end: String(now + 60_000_000_000n),
    limit: '5000',
  });
  const body = await getJson<{ data: { result: { values: unknown[] }[] } }>(
    `http://127.0.0.1:${lokiPort}/loki/api/v1/query_range?${params}`,
  );
  return body.data.result.reduce((sum, stream) => sum + stream.values.length, 0);
}

/** What Claude Code says its API requests since `sinceMs` cost: the sum of its api_request events' cost_usd in Loki. */
export async function lokiReportedCost(lokiPort: number, sinceMs: number): Promise<number> {
  const params = new URLSearchParams({
    query: '{service_name="claude-code"} | event_name="api_request"',
    start: String(BigInt(sinceMs) * 1_000_000n),
    end: String(BigInt(Date.now() + 60_000) * 1_000_000n),
    limit: '5000',
  });
  type Body = { data: { result: { values: [string, string, { structuredMetadata?: Record<string, string> }?][] }[] } };
  const body = await getJson<Body>(`http://127.0.0.1:${lokiPort}/loki/api/v1/query_range?${params}`, {
    'X-Loki-Response-Encoding-Flags': 'categorize-labels',
  });
  return body.data.result
    .flatMap((stream) => stream.values)
    .reduce((sum, [, , extra]) => sum + Number(extra?.structuredMetadata?.cost_usd ?? 0), 0);
}

/** The metric points the collector's OTLP receiver has accepted so far (its own metrics, on its metrics port). */
export async function collectorAcceptedPoints(metricsPort: number): Promise<number> {
  const text = await (
    await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) })
  ).text();
  return [...text.matchAll(/^otelcol_receiver_accepted_metric_points(?:_total)?\{([^}]*)\} (\S+)$/gm)]
    .filter(([, labels]) => /receiver="otlp"/.test(labels ?? ''))
    .reduce((sum, [, , value]) => sum + Number(value), 0);
}

/** The stack/compose.yaml of the extension as code-server installed it (the file the extension reads). */
export function installedComposeFile(extensionsDir: string): string {
  const folder = readdirSync(extensionsDir).find((name) =>
    existsSync(join(extensionsDir, name, 'stack', 'compose.yaml')),
  );
  if (!folder) throw new Error(`no installed extension with stack/compose.yaml under ${extensionsDir}`);
  return join(extensionsDir, folder, 'stack', 'compose.yaml');
}

/** Waits until `fn` is true, polling; a readable name for what is awaited. */
export function until(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<true> {
  return waitFor(what, async () => ((await fn()) ? true : undefined), timeoutMs);
}

/** The last `lines` lines of the extension's log (its LogOutputChannel, as code-server writes it under its user
 * data), to print when a case fails. */
export function extensionLogTail(userDataDir: string, lines = 40): string {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/Claude Code Telemetry\.log$/.test(entry.name)) found.push(path);
    }
  };
  if (existsSync(join(userDataDir, 'logs'))) walk(join(userDataDir, 'logs'));
  return found
    .map((file) => `${file}:\n${readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')}`)
    .join('\n');
}
