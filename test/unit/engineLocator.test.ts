import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { NoEngineFoundError } from '../../src/stack/errors';
import { fromHost, locateEngine, nodeLocatorDeps } from '../../src/stack/engineLocator';
import type { LocatorDeps } from '../../src/stack/engineLocator';

function deps(over: Partial<LocatorDeps> & { files?: Record<string, string>; present?: string[] } = {}): LocatorDeps {
  const files = over.files ?? {};
  const present = new Set([...(over.present ?? []), ...Object.keys(files)]);
  return {
    env: over.env ?? {},
    platform: over.platform ?? 'linux',
    homedir: over.homedir ?? '/home/dev',
    readFile: over.readFile ?? ((p) => files[p]),
    exists: over.exists ?? ((p) => present.has(p)),
  };
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('engine locator', () => {
  it('prefers the setting over DOCKER_HOST and sockets', () => {
    const loc = locateEngine(
      'unix:///custom/docker.sock',
      deps({ env: { DOCKER_HOST: 'tcp://x:2375' }, present: ['/var/run/docker.sock'] }),
    );
    assert.deepEqual(loc.options, { socketPath: '/custom/docker.sock' });
    assert.equal(loc.source, 'setting');
    assert.match(loc.description, /unix:\/\/\/custom\/docker\.sock \(the claudeTelemetry\.docker\.host setting\)/);
  });

  it('uses DOCKER_HOST (unix, tcp, tls, ssh, npipe)', () => {
    assert.deepEqual(locateEngine('', deps({ env: { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' } })).options, {
      socketPath: '/run/user/1000/docker.sock',
    });
    assert.deepEqual(locateEngine(undefined, deps({ env: { DOCKER_HOST: 'tcp://10.0.0.5:2375' } })).options, {
      protocol: 'http',
      host: '10.0.0.5',
      port: 2375,
    });
    const tls = locateEngine(
      undefined,
      deps({
        env: { DOCKER_HOST: 'tcp://engine:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' },
        files: { '/certs/ca.pem': 'CA', '/certs/cert.pem': 'CERT', '/certs/key.pem': 'KEY' },
      }),
    );
    assert.deepEqual(tls.options, {
      protocol: 'https',
      host: 'engine',
      port: 2376,
      ca: 'CA',
      cert: 'CERT',
      key: 'KEY',
    });
    assert.deepEqual(locateEngine(undefined, deps({ env: { DOCKER_HOST: 'ssh://me@box:2222' } })).options, {
      protocol: 'ssh',
      host: 'box',
      port: 2222,
      username: 'me',
    });
    const pipe = locateEngine(
      undefined,
      deps({ platform: 'win32', env: { DOCKER_HOST: 'npipe:////./pipe/docker_engine' } }),
    );
    assert.deepEqual(pipe.options, { socketPath: '//./pipe/docker_engine' });
    assert.equal(pipe.source, 'DOCKER_HOST');
  });

  it('reads the current Docker context and its metadata', () => {
    const h = sha('colima');
    const loc = locateEngine(
      undefined,
      deps({
        files: {
          '/home/dev/.docker/config.json': JSON.stringify({ currentContext: 'colima' }),
          [`/home/dev/.docker/contexts/meta/${h}/meta.json`]: JSON.stringify({
            Name: 'colima',
            Endpoints: { docker: { Host: 'unix:///home/dev/.colima/default/docker.sock', SkipTLSVerify: false } },
          }),
        },
        present: ['/var/run/docker.sock'],
      }),
    );
    assert.deepEqual(loc.options, { socketPath: '/home/dev/.colima/default/docker.sock' });
    assert.equal(loc.source, 'context');
    assert.match(loc.description, /Docker context "colima"/);
  });

  it('DOCKER_CONTEXT and DOCKER_CONFIG override config.json and ~/.docker', () => {
    const h = sha('remote');
    const loc = locateEngine(
      undefined,
      deps({
        env: { DOCKER_CONTEXT: 'remote', DOCKER_CONFIG: '/cfg' },
        files: {
          [`/cfg/contexts/meta/${h}/meta.json`]: JSON.stringify({ Endpoints: { docker: { Host: 'tcp://r:2376' } } }),
          [`/cfg/contexts/tls/${h}/docker/ca.pem`]: 'CA',
          [`/cfg/contexts/tls/${h}/docker/cert.pem`]: 'CERT',
          [`/cfg/contexts/tls/${h}/docker/key.pem`]: 'KEY',
        },
      }),
    );
    assert.deepEqual(loc.options, { protocol: 'https', host: 'r', port: 2376, ca: 'CA', cert: 'CERT', key: 'KEY' });
  });

  it('the "default" context falls through to the usual sockets, in order', () => {
    const base = { files: { '/home/dev/.docker/config.json': '{"currentContext":"default"}' } };
    assert.equal(
      locateEngine(undefined, deps({ ...base, present: ['/var/run/docker.sock', '/home/dev/.docker/run/docker.sock'] }))
        .options.socketPath,
      '/var/run/docker.sock',
    );
    const desktop = locateEngine(undefined, deps({ ...base, present: ['/home/dev/.docker/run/docker.sock'] }));
    assert.equal(desktop.options.socketPath, '/home/dev/.docker/run/docker.sock');
    assert.match(desktop.description, /Docker Desktop/);
    const podman = locateEngine(
      undefined,
      deps({ env: { XDG_RUNTIME_DIR: '/run/user/1000' }, present: ['/run/user/1000/podman/podman.sock'] }),
    );
    assert.equal(podman.options.socketPath, '/run/user/1000/podman/podman.sock');
    assert.match(podman.description, /Podman/);
    const colima = locateEngine(
      undefined,
      deps({ platform: 'darwin', present: ['/home/dev/.colima/default/docker.sock'] }),
    );
    assert.match(colima.description, /Colima/);
    const win = locateEngine(
      undefined,
      deps({ platform: 'win32', homedir: 'C:\\Users\\dev', present: ['//./pipe/docker_engine'] }),
    );
    assert.deepEqual(win.options, { socketPath: '//./pipe/docker_engine' });
    assert.equal(win.endpoint, 'npipe:////./pipe/docker_engine');
  });

  it('no engine: the message lists every place it looked and the setting to set', () => {
    let err: unknown;
    try {
      locateEngine(undefined, deps({ env: { XDG_RUNTIME_DIR: '/run/user/1000' } }));
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof NoEngineFoundError);
    assert.equal(err.code, 'no-engine');
    for (const where of [
      'claudeTelemetry.docker.host setting (not set)',
      'DOCKER_HOST (not set)',
      '/var/run/docker.sock (Docker Engine: not found)',
      '/home/dev/.docker/run/docker.sock (Docker Desktop: not found)',
      '/run/user/1000/podman/podman.sock (Podman (rootless): not found)',
      '/home/dev/.colima/default/docker.sock (Colima: not found)',
    ]) {
      assert.ok(err.message.includes(where), `message names ${where}:\n${err.message}`);
    }
    assert.match(err.message, /^No container engine found\. Looked at:/);
    assert.match(err.message, /point the `claudeTelemetry\.docker\.host` setting at your engine/);
  });

  it('a malformed host is reported, not guessed', () => {
    assert.throws(() => fromHost('fd://', 'setting', 'the setting', deps()), /unsupported scheme fd:/);
  });

  it('with the real file system, finds a socket file that exists', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cct-loc-'));
    try {
      const home = path.join(dir, 'home');
      fs.mkdirSync(path.join(home, '.docker', 'run'), { recursive: true });
      fs.writeFileSync(path.join(home, '.docker', 'run', 'docker.sock'), '');
      const real = nodeLocatorDeps();
      const d: LocatorDeps = {
        ...real,
        env: {},
        homedir: home,
        exists: (p) => p !== '/var/run/docker.sock' && real.exists(p),
      };
      const loc = locateEngine(undefined, d);
      assert.equal(loc.options.socketPath, path.join(home, '.docker', 'run', 'docker.sock'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
