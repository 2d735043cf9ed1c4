// Grafana's admin password across windows of other browser profiles (code-server keeps the secret storage in the
// browser profile): the real stack/compose.yaml on the real Docker Engine, with the Grafana double, which keeps the
// password it was first started with on its volume as Grafana does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadComposeFile, parseCompose } from '../../src/stack/composeModel';
import { containerName } from '../../src/stack/containerSpec';
import type { StackEngine } from '../../src/stack/engine';
import { grafanaAdminPassword } from '../../src/stack/grafanaAdmin';
import { ensureTestImages, removeProject, requireDocker, testImageEnv } from '../support/docker';
import { repoRoot } from '../support/paths';
import { freePort } from '../support/ports';
import { collect, docker, engineFor, uniqueProject } from '../support/stackEngine';

const composeFile = `${repoRoot}/stack/compose.yaml`;

describe('Grafana admin password (real Docker Engine)', { concurrency: false, timeout: 600_000 }, () => {
  const project = uniqueProject('grafana-password');
  const ports: Record<string, string> = {};
  before(async () => {
    await requireDocker();
    await ensureTestImages();
    for (const variable of [
      'CCT_OTLP_GRPC_PORT',
      'CCT_OTLP_HTTP_PORT',
      'CCT_COLLECTOR_METRICS_PORT',
      'CCT_PROMETHEUS_PORT',
      'CCT_LOKI_PORT',
      'CCT_GRAFANA_PORT',
    ]) {
      ports[variable] = String(await freePort());
    }
  });
  after(() => removeProject(project, docker));

  /** The engine a window opens: its stored password (or one it made, having none) goes to the compose file. */
  async function windowEngine(password: string): Promise<StackEngine> {
    const variables = { ...testImageEnv(await ensureTestImages()), ...ports, GRAFANA_ADMIN_PASSWORD: password };
    return engineFor(loadComposeFile(composeFile, { variables, projectName: project }), { healthTimeoutMs: 120_000 });
  }

  /** Whether Grafana lets the admin log in with the password (basic auth on its API, as a user's login). */
  async function grafanaAccepts(password: string): Promise<boolean> {
    const response = await fetch(`http://127.0.0.1:${ports.CCT_GRAFANA_PORT}/api/user`, {
      headers: { Authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
    });
    assert.ok(response.status === 200 || response.status === 401, `GET /api/user: ${response.status}`);
    return response.status === 200;
  }

  async function grafanaContainerId(): Promise<string> {
    return (await docker.getContainer(containerName(project, 'grafana')).inspect()).Id;
  }

  it('a window of a new profile gets the password Grafana holds, and Start does not recreate Grafana for it', async () => {
    const first = await windowEngine('password-of-profile-a');
    await first.start();
    assert.deepEqual(await grafanaAdminPassword(first, 'password-of-profile-a'), {
      state: 'accepted',
      password: 'password-of-profile-a',
    });
    const grafana = await grafanaContainerId();

    // A new browser profile: no stored password, so the window makes one and starts with it.
    const second = await windowEngine('password-of-profile-b');
    const progress = collect();
    await second.start(progress.on);
    assert.deepEqual(
      progress.events.filter((e) => e.kind === 'service' && e.service === 'grafana').map((e) => e.message),
      ['grafana: already running'],
    );
    assert.equal(await grafanaContainerId(), grafana);
    const held = await grafanaAdminPassword(second, 'password-of-profile-b');
    assert.deepEqual(held, { state: 'accepted', password: 'password-of-profile-a' });
    assert.equal(
      await grafanaAccepts(held.password),
      true,
      'Copy Grafana Admin Password copies a password Grafana accepts',
    );
    assert.equal(await grafanaAccepts('password-of-profile-b'), false);
  });

  it('a Grafana recreated for another change keeps the password it holds', async () => {
    const variables = {
      ...testImageEnv(await ensureTestImages()),
      ...ports,
      GRAFANA_ADMIN_PASSWORD: 'password-of-profile-c',
    };
    const text = readFileSync(composeFile, 'utf8').replace(
      'GF_USERS_ALLOW_SIGN_UP: "false"',
      'GF_USERS_ALLOW_SIGN_UP: "true"',
    );
    const changed = engineFor(parseCompose(text, composeFile, { variables, projectName: project }), {
      healthTimeoutMs: 120_000,
    });
    const progress = collect();
    await changed.start(progress.on);
    assert.ok(progress.events.some((e) => e.message === 'Recreating grafana (its configuration changed)'));
    assert.deepEqual(await grafanaAdminPassword(changed, 'password-of-profile-c'), {
      state: 'accepted',
      password: 'password-of-profile-a',
    });
  });

  it('a stack whose Grafana container was made again over its data: set to the container’s with the password a profile kept', async () => {
    // As a stack of an earlier version could be: its Grafana container made anew with another password than the one
    // Grafana keeps on its volume.
    await docker.getContainer(containerName(project, 'grafana')).remove({ force: true });
    const engine = await windowEngine('password-of-profile-d');
    await engine.start();

    // A window whose profile has no password Grafana accepts is told so, with the container's to show.
    assert.deepEqual(await grafanaAdminPassword(engine, 'password-of-profile-d'), {
      state: 'rejected',
      password: 'password-of-profile-d',
      container: containerName(project, 'grafana'),
    });
    // The profile that kept Grafana's password brings Grafana to the container's, which every window then reads.
    assert.deepEqual(await grafanaAdminPassword(engine, 'password-of-profile-a'), {
      state: 'accepted',
      password: 'password-of-profile-d',
    });
    assert.equal(await grafanaAccepts('password-of-profile-d'), true);
    assert.equal(await grafanaAccepts('password-of-profile-a'), false);
    assert.deepEqual(await grafanaAdminPassword(engine, undefined), {
      state: 'accepted',
      password: 'password-of-profile-d',
    });

    // Stopped, the container's password is what a window keeps, unchecked.
    await engine.stop();
    assert.deepEqual(await grafanaAdminPassword(engine, 'password-of-profile-e'), {
      state: 'unverified',
      password: 'password-of-profile-d',
    });
    await engine.remove({ volumes: true });
    assert.deepEqual(await grafanaAdminPassword(engine, undefined), { state: 'none' });
  });

  it("wrong passwords from elsewhere: read from Grafana's log, never added to; a lockout is told from a wrong password", async () => {
    const engine = await windowEngine('password-of-profile-f');
    await engine.start();
    const failedSignIns = async (): Promise<number> =>
      (await engine.logLinesSince('grafana', 0)).filter((l) => /msg="Failed to authenticate request"/.test(l.line))
        .length;
    // Four wrong sign-ins from another browser or profile: one short of Grafana's lockout.
    const first = Date.now();
    for (let i = 0; i < 4; i++) assert.equal(await grafanaAccepts('an-older-password'), false);
    // A window whose own password is another: the stack's, which Grafana holds, is tried, and its own never.
    assert.deepEqual(await grafanaAdminPassword(engine, 'password-of-profile-g'), {
      state: 'accepted',
      password: 'password-of-profile-f',
    });
    assert.equal(await failedSignIns(), 4);

    // The fifth locks the login: Grafana refuses the right password too, with the same 401.
    const fifth = Date.now();
    assert.equal(await grafanaAccepts('an-older-password'), false);
    assert.equal(await grafanaAccepts('password-of-profile-f'), false, 'locked: Grafana refuses the right password');
    const logged = await failedSignIns();
    const locked = await grafanaAdminPassword(engine, 'password-of-profile-g');
    assert.equal(locked.state, 'locked', JSON.stringify(locked));
    assert.ok(locked.state === 'locked');
    assert.equal(locked.password, 'password-of-profile-f');
    assert.equal(locked.wrongAttempts, 5);
    // Unlocked when the oldest of the five leaves Grafana's 5-minute window.
    assert.ok(
      locked.untilMs >= first + 300_000 - 1000 && locked.untilMs <= fifth + 300_000,
      `${locked.untilMs - first} ms after the first`,
    );
    assert.equal(await failedSignIns(), logged, 'nothing was tried while Grafana is locked');
  });
});
