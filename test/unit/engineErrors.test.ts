// What the user is shown when the engine cannot be reached, from real connection attempts (no daemon needed),
// plus the event stream's reconnects and the pull progress arithmetic.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import Docker from 'dockerode';
import { loadComposeFile } from '../../src/stack/composeModel';
import { StackEngine } from '../../src/stack/engine';
import type { StackEvent } from '../../src/stack/stackState';
import { locateEngine } from '../../src/stack/engineLocator';
import { classifyPullMessage, mapEngineError, StackError } from '../../src/stack/errors';
import { PullProgress } from '../../src/stack/pullProgress';
import { composeFixtureFile } from '../support/paths';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cct-engine-err-'));
fs.chmodSync(tmp, 0o755);
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const model = loadComposeFile(composeFixtureFile, { variables: {} });

function engineAt(setting: string): StackEngine {
  const loc = locateEngine(setting);
  return new StackEngine({ docker: new Docker(loc.options), where: loc.description, model });
}

async function startError(engine: StackEngine): Promise<StackError> {
  try {
    await engine.start();
  } catch (e) {
    assert.ok(e instanceof StackError, String(e));
    return e;
  }
  assert.fail('start should have failed');
}

/** A socket file nobody listens on (the process that bound it was killed), like a daemon that crashed. */
function staleSocket(p: string): void {
  spawnSync(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(p)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  assert.ok(fs.existsSync(p), 'the stale socket file stays behind');
}

describe('engine connection errors', () => {
  it('engine not running: no socket at the configured path', async () => {
    const sock = path.join(tmp, 'missing.sock');
    const err = await startError(engineAt(`unix://${sock}`));
    assert.equal(err.code, 'engine-not-running');
    assert.equal(
      err.message,
      `The container engine at unix://${sock} (the claudeTelemetry.docker.host setting) is not running ` +
        `(ENOENT: connect ENOENT ${sock}). Start Docker (or Podman / Colima) and try again; if your engine listens ` +
        'elsewhere, set `claudeTelemetry.docker.host`.',
    );
  });

  it('engine not running: a socket file nothing listens on (a stopped daemon)', async () => {
    const sock = path.join(tmp, 'stale.sock');
    staleSocket(sock);
    const err = await startError(engineAt(sock));
    assert.equal(err.code, 'engine-not-running');
    assert.match(
      err.message,
      new RegExp(
        `^The container engine at unix://${sock} \\(the claudeTelemetry\\.docker\\.host setting\\) is not running \\(ECONNREFUSED: connect ECONNREFUSED ${sock}\\)\\. Start Docker`,
      ),
    );
  });

  it('socket permission denied: a non-root user on a root-only socket is told about the docker group', async (t) => {
    // A real daemon-like socket: root-owned, mode 660 as /var/run/docker.sock (root:docker) is.
    const sock = path.join(tmp, 'root-only.sock');
    const server = http.createServer((_req, res) => res.end('OK'));
    await new Promise<void>((r) => server.listen(sock, () => r()));
    try {
      fs.chmodSync(sock, 0o660);
      const outDir = path.resolve(__dirname, '..', '..');
      const script = `
        const { locateEngine } = require(${JSON.stringify(path.join(outDir, 'src/stack/engineLocator.js'))});
        const { StackEngine } = require(${JSON.stringify(path.join(outDir, 'src/stack/engine.js'))});
        const { loadComposeFile } = require(${JSON.stringify(path.join(outDir, 'src/stack/composeModel.js'))});
        const Docker = require('dockerode');
        const loc = locateEngine(${JSON.stringify(`unix://${sock}`)});
        const model = loadComposeFile(${JSON.stringify(composeFixtureFile)}, { variables: {} });
        new StackEngine({ docker: new Docker(loc.options), where: loc.description, model }).ping()
          .then(() => console.log(JSON.stringify({ ok: true })), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));
      `;
      // As an unprivileged user: root (CI) drops to nobody with setpriv; anyone else loses access by mode 000.
      const env = { ...process.env, NODE_PATH: path.resolve(outDir, '..', 'node_modules') };
      let prefix: string[] = [];
      if (process.getuid?.() === 0) {
        const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));
        if (!setpriv) return t.skip('running as root without setpriv: cannot connect as an unprivileged user');
        prefix = [setpriv, '--reuid=65534', '--regid=65534', '--clear-groups'];
      } else fs.chmodSync(sock, 0o000);
      const node = (code: string): { ok: boolean; stdout: string; stderr: string } => {
        const argv = [...prefix, process.execPath, '-e', code];
        const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', env });
        return { ok: r.status === 0 && r.stdout.trim().startsWith('{'), stdout: r.stdout, stderr: r.stderr };
      };
      const full = node(script);
      let out = full.stdout;
      if (!full.ok) {
        // nobody may not read this checkout (e.g. under /root): connect with Node alone and map the real error here.
        const raw = node(
          `require('net').connect(${JSON.stringify(sock)}).on('connect', () => { console.log('{}'); process.exit(0); })` +
            `.on('error', (e) => { console.log(JSON.stringify({ code: e.code, errno: e.errno, syscall: e.syscall, address: e.address, message: e.message })); })`,
        );
        if (!raw.ok) return t.skip(`cannot run node as an unprivileged user: ${full.stderr || raw.stderr}`);
        t.diagnostic(
          `checkout not readable by nobody (${full.stderr.split('\n')[0]}); mapped the real EACCES from a plain connect`,
        );
        const errObj = Object.assign(new Error(), JSON.parse(raw.stdout.trim()) as object);
        const mapped = mapEngineError(errObj, locateEngine(`unix://${sock}`).description, 'reach the engine');
        out = JSON.stringify({ code: mapped.code, message: mapped.message });
      }
      const result = JSON.parse(out.trim().split('\n').pop() as string) as { code: string; message: string };
      assert.equal(result.code, 'permission-denied');
      assert.equal(
        result.message,
        `Permission denied on the Docker socket unix://${sock} (the claudeTelemetry.docker.host setting) ` +
          `(EACCES: connect EACCES ${sock}). On Linux, add your user to the \`docker\` group ` +
          '(`sudo usermod -aG docker $USER`), then log out and back in (or reboot) so the new group applies to ' +
          'VS Code, and try again.',
      );
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('the event stream reports a daemon that goes away and comes back', async () => {
    // A stand-in daemon on a socket: answers /events with one container event, then drops the connection.
    const sock = path.join(tmp, 'events.sock');
    let calls = 0;
    const server = http.createServer((req, res) => {
      if (!req.url?.startsWith('/events')) {
        res.end('OK');
        return;
      }
      calls++;
      const filters = JSON.parse(new URL(req.url, 'http://x').searchParams.get('filters') ?? '{}') as {
        label?: string[];
      };
      assert.deepEqual(filters.label, ['com.docker.compose.project=cct-engine-fixture']);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(
        JSON.stringify({
          Type: 'container',
          Action: 'health_status: unhealthy',
          Actor: { Attributes: { 'com.docker.compose.service': 'loki' } },
          time: 1,
        }) + '\n',
      );
      res.write(
        JSON.stringify({
          Type: 'container',
          Action: 'exec_start: wget',
          Actor: { Attributes: { 'com.docker.compose.service': 'loki' } },
        }) + '\n',
      );
      setTimeout(() => res.destroy(), 50);
    });
    await new Promise<void>((r) => server.listen(sock, () => r()));
    const events: StackEvent[] = [];
    const sub = engineAt(`unix://${sock}`).events((e) => events.push(e));
    try {
      const deadline = Date.now() + 10_000;
      while (calls < 2 || events.filter((e) => e.kind === 'connected').length < 2) {
        assert.ok(Date.now() < deadline, JSON.stringify(events));
        await new Promise((r) => setTimeout(r, 50));
      }
      const kinds = events.map((e) => (e.kind === 'container' ? `${e.service}:${e.action}:${e.health}` : e.kind));
      assert.deepEqual(kinds.slice(0, 4), ['connected', 'loki:health_status:unhealthy', 'disconnected', 'connected']);
      const d = events.find((e) => e.kind === 'disconnected');
      assert.equal(d?.kind === 'disconnected' ? d.error.code : '', 'engine-not-running');
    } finally {
      sub.dispose();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('pull progress', () => {
  it('adds up bytes and percent over layers from the engine’s stream', () => {
    const p = new PullProgress('prom/prometheus:v2.55.1');
    p.push({ status: 'Pulling from prom/prometheus', id: 'v2.55.1' });
    p.push({ status: 'Pulling fs layer', id: 'aaaaaaaaaaaa' });
    p.push({ status: 'Pulling fs layer', id: 'bbbbbbbbbbbb' });
    p.push({ status: 'Already exists', id: 'cccccccccccc' });
    p.push({ status: 'Downloading', id: 'aaaaaaaaaaaa', progressDetail: { current: 500, total: 1000 } });
    let s = p.push({ status: 'Downloading', id: 'bbbbbbbbbbbb', progressDetail: { current: 0, total: 3000 } });
    assert.deepEqual([s.currentBytes, s.totalBytes, s.percent, s.layers, s.layersDone], [500, 4000, 12, 3, 1]);
    p.push({ status: 'Download complete', id: 'aaaaaaaaaaaa' });
    s = p.push({ status: 'Downloading', id: 'bbbbbbbbbbbb', progressDetail: { current: 3000, total: 3000 } });
    assert.deepEqual([s.currentBytes, s.percent], [4000, 100]);
    p.push({ status: 'Pull complete', id: 'aaaaaaaaaaaa' });
    s = p.push({ status: 'Pull complete', id: 'bbbbbbbbbbbb' });
    assert.equal(s.layersDone, 3);
    p.push({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' });
    assert.equal(p.error, 'manifest unknown');
  });

  it('classifies the engine’s pull errors', () => {
    assert.equal(
      classifyPullMessage(
        'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.0.0.1:53: no such host',
      ),
      'unreachable',
    );
    assert.equal(
      classifyPullMessage('manifest for prom/prometheus:v9 not found: manifest unknown: manifest unknown'),
      'not-found',
    );
    assert.equal(
      classifyPullMessage("pull access denied for nope, repository does not exist or may require 'docker login'"),
      'not-found',
    );
  });
});
