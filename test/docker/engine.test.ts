// The stack engine against the real Docker Engine, on the local test images (test/support/images.ts).
// Each test has its own project name and ports and removes what it created.
// Its size: one suite of the engine's behaviours against one real Engine, sharing its fixture and helpers.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { loadComposeFile } from '../../src/stack/composeModel';
import { LABELS } from '../../src/stack/containerSpec';
import { summarize } from '../../src/stack/stackState';
import { isPortFree, type StackEngine } from '../../src/stack/engine';
import { locateEngine } from '../../src/stack/engineLocator';
import { openStack } from '../../src/stack/index';
import type { StartProgress } from '../../src/stack/engine';
import type { StackEvent } from '../../src/stack/stackState';
import { ContainerFailedError, PortTakenError, PullFailedError, StackError } from '../../src/stack/errors';
import { ensureTestImages, removeProject, requireDocker, testImageEnv } from '../support/docker';
import { promQuery } from '../support/http';
import { composeFixtureFile, repoRoot } from '../support/paths';
import { freePort, holdPort } from '../support/ports';
import { collect, docker, engineFor, fixtureModel, fixtureVariables, uniqueProject } from '../support/stackEngine';
import { waitFor } from '../support/wait';

const run = promisify(execFile);
const projects: string[] = [];
function project(tag: string): string {
  const p = uniqueProject(tag);
  projects.push(p);
  return p;
}

async function rejection(p: Promise<unknown>): Promise<StackError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StackError, `expected a StackError, got ${String((e as Error)?.stack ?? e)}`);
    return e;
  }
  assert.fail('expected the promise to reject');
}

/** Samples of Prometheus' self-scrape `up` in [start, end] (seconds). */
async function upSamples(port: number, start: number, end: number): Promise<number> {
  const result = await promQuery(port, 'up{job="prometheus"}', { start, end });
  return result.reduce((n, r) => n + r.values.length, 0);
}

const PORT_SETTINGS = {
  CCT_PROMETHEUS_PORT: 'claudeTelemetry.stack.ports.prometheus',
  CCT_LOKI_PORT: 'claudeTelemetry.stack.ports.loki',
  CCT_LOKI_IMAGE: 'claudeTelemetry.stack.images.loki',
};

describe('stack engine (real Docker Engine)', { concurrency: false, timeout: 600_000 }, () => {
  before(async () => {
    await requireDocker();
    await ensureTestImages();
  });
  after(async () => {
    for (const p of projects) await removeProject(p, docker);
  });

  it('starts to healthy, a second start attaches, and the project carries Compose labels', async (t) => {
    const name = project('start');
    const variables = await fixtureVariables();
    const engine = engineFor(fixtureModel({ project: name, variables }));
    const first = collect();
    const t0 = Date.now();
    const statuses = await engine.start(first.on);
    const firstMs = Date.now() - t0;
    assert.deepEqual(
      statuses.map((s) => [s.service, s.state]),
      [
        ['prometheus', 'healthy'],
        ['loki', 'healthy'],
      ],
    );
    assert.equal(summarize(statuses).state, 'healthy');
    const kinds = first.events.map((e) => `${e.kind}:${'service' in e ? e.service : ''}`);
    assert.ok(kinds.indexOf('service:prometheus') < kinds.indexOf('ready:prometheus'), kinds.join(' '));
    assert.ok(
      kinds.indexOf('ready:prometheus') < kinds.indexOf('service:loki'),
      'loki waits for prometheus to be healthy',
    );
    const waits = first.events.filter((e): e is Extract<StartProgress, { kind: 'wait' }> => e.kind === 'wait');
    assert.ok(waits.length > 0);
    assert.match(waits[0]?.message ?? '', /^Waiting for prometheus to be healthy \(\d+ s\)$/);
    assert.match(first.events.at(-1)?.message ?? '', /^Telemetry stack healthy in \d+\.\d s$/);

    // idempotent: a second start (another window, a second click) finds the running stack and attaches
    const second = collect();
    const t1 = Date.now();
    const again = await engine.start(second.on);
    const secondMs = Date.now() - t1;
    assert.deepEqual(
      second.events.filter((e) => e.kind === 'service').map((e) => e.message),
      ['prometheus: already running', 'loki: already running'],
    );
    assert.deepEqual(
      again.map((s) => s.containerId),
      statuses.map((s) => s.containerId),
    );
    t.diagnostic(`start to healthy: ${firstMs} ms; second start (attach): ${secondMs} ms`);

    // the labels `docker compose -p <name> ps/down` and Docker Desktop read
    const listed = await docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.project}=${name}`, `${LABELS.oneoff}=False`] },
    });
    assert.deepEqual(listed.map((c) => c.Labels[LABELS.service]).sort(), ['loki', 'prometheus']);
    const prom = await docker.getContainer(`${name}-prometheus-1`).inspect();
    const labels = prom.Config.Labels;
    assert.equal(labels[LABELS.project], name);
    assert.equal(labels[LABELS.service], 'prometheus');
    assert.equal(labels[LABELS.containerNumber], '1');
    assert.equal(labels[LABELS.oneoff], 'False');
    assert.match(labels[LABELS.configHash] ?? '', /^[0-9a-f]{64}$/);
    assert.equal(labels[LABELS.configFiles], composeFixtureFile);
    assert.match(labels[LABELS.version] ?? '', /^\d+\.\d+\.\d+$/);
    assert.match(labels[LABELS.image] ?? '', /^sha256:/);
    assert.equal(prom.HostConfig.PortBindings?.['9090/tcp']?.[0]?.HostIp, '127.0.0.1');
    assert.equal(prom.HostConfig.Memory, 256 * 1024 * 1024);
    assert.deepEqual(prom.Config.Healthcheck?.Test, [
      'CMD',
      'wget',
      '-q',
      '-O',
      '/dev/null',
      'http://127.0.0.1:9090/-/ready',
    ]);
    assert.ok(prom.NetworkSettings.Networks[`${name}_default`]?.Aliases?.includes('prometheus'));
    const net = await docker.getNetwork(`${name}_default`).inspect();
    assert.equal(net.Labels?.[LABELS.project], name);
    assert.equal(net.Labels?.[LABELS.network], 'default');
    const vol = await docker.getVolume(`${name}_prometheus-data`).inspect();
    assert.equal(vol.Labels[LABELS.project], name);
    assert.equal(vol.Labels[LABELS.volume], 'prometheus-data');

    const compose = await run('docker', ['compose', 'version']).catch(() => undefined);
    if (compose) {
      const { stdout } = await run('docker', ['compose', '-p', name, 'ps', '--format', 'json']);
      const rows = stdout.trim().startsWith('[')
        ? (JSON.parse(stdout) as { Service: string }[])
        : stdout
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as { Service: string });
      assert.deepEqual(rows.map((r) => r.Service).sort(), ['loki', 'prometheus']);
    } else {
      t.diagnostic('docker compose plugin not installed: checked the labels `docker compose ps` filters on instead');
    }

    // the log of a service, as "Show Stack Logs" reads it
    const { stream } = await engine.logs('prometheus', { follow: false, tail: 0 });
    let text = '';
    for await (const chunk of stream) text += String(chunk);
    assert.match(text, /Server is ready to receive web requests/);

    // a second stack wanting the same ports is told which container holds them
    const other = engineFor(fixtureModel({ project: project('other'), variables }), { settings: PORT_SETTINGS });
    const err = await rejection(other.start());
    assert.ok(err instanceof PortTakenError);
    assert.equal(
      err.message,
      `Port ${variables.CCT_PROMETHEUS_PORT} on 127.0.0.1, wanted by service "prometheus", is already in use by the ` +
        `container "${name}-prometheus-1" (Compose project "${name}"). Stop what uses it or change the ` +
        '`claudeTelemetry.stack.ports.prometheus` setting (variable CCT_PROMETHEUS_PORT), then start again.',
    );
    await engine.remove({ volumes: true });
  });

  it('two windows starting the same new stack at once end with one stack', async () => {
    const name = project('race');
    const variables = await fixtureVariables();
    const open = (): StackEngine =>
      openStack({
        dockerHost: undefined,
        composeFile: composeFixtureFile,
        variables,
        projectName: name,
        healthTimeoutMs: 60_000,
      }).engine;
    const [a, b] = [open(), open()];
    const [sa, sb] = await Promise.all([a.start(), b.start()]);
    assert.deepEqual(
      sa.map((s) => s.state),
      ['healthy', 'healthy'],
    );
    assert.deepEqual(
      sb.map((s) => s.containerId),
      sa.map((s) => s.containerId),
    );
    const nets = await docker.listNetworks({ filters: { label: [`${LABELS.project}=${name}`] } });
    assert.equal(nets.length, 1, 'one network');
    await a.remove({ volumes: true });
  });

  it('a second window starting while the first is under way joins its start: one stack, no port error', async () => {
    const name = project('join');
    const variables = await fixtureVariables();
    // Each window has its own connection to the engine.
    const connection = (): Docker => new Docker(locateEngine(undefined).options);
    let firstStarted = (): void => {};
    const firstHasARunningContainer = new Promise<void>((resolve) => (firstStarted = resolve));
    const first = engineFor(fixtureModel({ project: name, variables }), { docker: connection() });
    // The second window listed the project's containers before the first window started one, and checks its ports
    // after that (a second apart, as a user clicks Start in two windows).
    const second = engineFor(fixtureModel({ project: name, variables }), {
      docker: connection(),
      settings: PORT_SETTINGS,
      isPortFree: async (hostIp, port) => {
        await firstHasARunningContainer;
        return isPortFree(hostIp, port);
      },
    });
    const joined = collect();
    // Both settle before anything is asserted, so that a failed start leaves nothing running past the cleanup.
    const [a, b] = (
      await Promise.allSettled([first.start((p) => p.kind === 'wait' && firstStarted()), second.start(joined.on)])
    ).map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    assert.deepEqual(
      a.map((s) => s.state),
      ['healthy', 'healthy'],
    );
    assert.deepEqual(
      b.map((s) => s.state),
      ['healthy', 'healthy'],
    );
    assert.deepEqual(
      b.map((s) => s.containerId),
      a.map((s) => s.containerId),
    );
    assert.ok(
      joined.events.some(
        (e) => e.message === 'Another window is starting the telemetry stack (prometheus is up): joining it',
      ),
      joined.events.map((e) => e.message).join('\n'),
    );
    await first.remove({ volumes: true });
  });

  it('a port of the stopped stack taken by another program: still the port message', async () => {
    const name = project('port-stopped');
    const variables = await fixtureVariables();
    const engine = engineFor(fixtureModel({ project: name, variables }), { settings: PORT_SETTINGS });
    await engine.start();
    await engine.stop();
    const held = await holdPort(Number(variables.CCT_LOKI_PORT));
    try {
      const err = await rejection(engine.start());
      assert.ok(err instanceof PortTakenError, err.message);
      assert.equal(
        err.message,
        `Port ${variables.CCT_LOKI_PORT} on 127.0.0.1, wanted by service "loki", is already in use by another program. Stop what ` +
          'uses it or change the `claudeTelemetry.stack.ports.loki` setting (variable CCT_LOKI_PORT), then start again.',
      );
    } finally {
      await held.close();
      await engine.remove({ volumes: true });
    }
  });

  it('keeps Prometheus data across stop/start and a remove without volumes; deletes it only when asked', async () => {
    const name = project('data');
    const variables = await fixtureVariables();
    const port = Number(variables.CCT_PROMETHEUS_PORT);
    const engine = engineFor(fixtureModel({ project: name, variables }));
    await engine.start();
    const t0 = Math.floor(Date.now() / 1000) - 60;
    const before = await waitFor('Prometheus to scrape itself three times', async () => {
      const n = await upSamples(port, t0, Math.floor(Date.now() / 1000));
      return n >= 3 ? n : undefined;
    });
    const t1 = Math.floor(Date.now() / 1000);

    const stopped = await engine.stop();
    assert.deepEqual(stopped.sort(), [`${name}-loki-1`, `${name}-prometheus-1`]);
    assert.equal(summarize(await engine.status()).state, 'stopped');
    assert.deepEqual(await engine.dataVolumes(), [`${name}_loki-data`, `${name}_prometheus-data`]);

    await engine.start();
    assert.ok((await upSamples(port, t0, t1)) >= before, 'the samples written before stop are still there');

    const removed = await engine.remove({ volumes: false });
    assert.deepEqual(removed.containers.sort(), [`${name}-loki-1`, `${name}-prometheus-1`]);
    assert.deepEqual(removed.networks, [`${name}_default`]);
    assert.deepEqual(removed.volumes, []);
    assert.deepEqual(
      (await engine.status()).map((s) => s.state),
      ['missing', 'missing'],
    );
    assert.deepEqual(await engine.dataVolumes(), [`${name}_loki-data`, `${name}_prometheus-data`]);

    await engine.start();
    assert.ok((await upSamples(port, t0, t1)) >= before, 'the samples survive a remove without volumes');

    const deleted = await engine.remove({ volumes: true });
    assert.deepEqual(deleted.volumes, [`${name}_loki-data`, `${name}_prometheus-data`]);
    assert.deepEqual(await engine.dataVolumes(), []);
    await assert.rejects(docker.getVolume(`${name}_prometheus-data`).inspect(), { statusCode: 404 });
  });

  it('recreates only the service whose config changed, and reports container events', async () => {
    const name = project('recreate');
    const variables = await fixtureVariables();
    const a = engineFor(fixtureModel({ project: name, variables }));
    const before = await a.start();
    const events: StackEvent[] = [];
    const sub = a.events((e) => events.push(e));
    try {
      await waitFor('the event stream', async () => (events.some((e) => e.kind === 'connected') ? true : undefined));
      const b = engineFor(
        fixtureModel({ project: name, variables, edit: (s) => s.replace('CCT_ROLE=fixture', 'CCT_ROLE=edited') }),
      );
      assert.deepEqual(
        (await b.status()).map((s) => [s.service, !!s.outdated]),
        [
          ['prometheus', false],
          ['loki', true],
        ],
      );
      const progress = collect();
      const after = await b.start(progress.on);
      assert.deepEqual(
        progress.events.filter((e) => e.kind === 'service').map((e) => e.message),
        ['prometheus: already running', 'Recreating loki (its configuration changed)'],
      );
      assert.equal(after[0]?.containerId, before[0]?.containerId);
      assert.notEqual(after[1]?.containerId, before[1]?.containerId);
      const env = (await docker.getContainer(after[1]?.containerId as string).inspect()).Config.Env;
      assert.ok(env.includes('CCT_ROLE=edited'));

      // a container that dies is reported with its service, without polling
      const lokiId = after[1]?.containerId as string;
      await docker.getContainer(lokiId).kill();
      const died = await waitFor('a die event for loki', async () =>
        events.find((e) => e.kind === 'container' && e.containerId === lokiId && e.action === 'die'),
      );
      assert.equal(died.kind === 'container' ? died.service : '', 'loki');
      assert.equal(died.kind === 'container' ? died.exitCode : undefined, 137);
      assert.ok(events.some((e) => e.kind === 'container' && e.action === 'health_status' && e.health === 'healthy'));
    } finally {
      sub.dispose();
      await a.remove({ volumes: true });
    }
  });

  it('a taken host port: says which port, which service and which setting moves it; creates nothing', async () => {
    const name = project('port');
    const port = await freePort();
    const held = await holdPort(port);
    try {
      const variables = await fixtureVariables({ CCT_LOKI_PORT: String(port) });
      const engine = engineFor(fixtureModel({ project: name, variables }), { settings: PORT_SETTINGS });
      const err = await rejection(engine.start());
      assert.ok(err instanceof PortTakenError);
      assert.equal(err.code, 'port-taken');
      assert.equal(err.setting, 'claudeTelemetry.stack.ports.loki');
      assert.equal(
        err.message,
        `Port ${port} on 127.0.0.1, wanted by service "loki", is already in use by another program. Stop what uses it ` +
          'or change the `claudeTelemetry.stack.ports.loki` setting (variable CCT_LOKI_PORT), then start again.',
      );
      assert.deepEqual(
        (await engine.status()).map((s) => s.state),
        ['missing', 'missing'],
      );
    } finally {
      await held.close();
    }
  });

  it('a missing image with no registry: the engine’s pull error, turned into the clear message', async (t) => {
    const name = project('pull');
    const variables = await fixtureVariables({ CCT_LOKI_IMAGE: 'cct-test/does-not-exist:0.0.1' });
    const engine = engineFor(fixtureModel({ project: name, variables }), { settings: PORT_SETTINGS });
    const progress = collect();
    const err = await rejection(engine.start(progress.on));
    assert.ok(err instanceof PullFailedError, err.message);
    assert.equal(err.setting, 'claudeTelemetry.stack.images.loki');
    // No registry here: the engine cannot resolve or reach it. Where one is reachable, the tag does not exist.
    assert.match(
      err.message,
      /^Could not pull image "cct-test\/does-not-exist:0\.0\.1" for service "loki": (the registry could not be reached|the image or tag does not exist \(or needs a login\))\. The engine said: ".+"\. /,
    );
    assert.ok(!/HTTP code/.test(err.message), err.message);
    assert.match(err.message, /point the `claudeTelemetry\.stack\.images\.loki` setting at/);
    t.diagnostic(err.message);
    // The image that exists was not pulled again, and nothing was created.
    assert.ok(!progress.events.some((e) => e.kind === 'pull' && e.service === 'prometheus'));
    assert.deepEqual(
      (await engine.status()).map((s) => s.state),
      ['missing', 'missing'],
    );
  });

  it('a container that exits: names the service and quotes its last log lines', async () => {
    const name = project('exit');
    const variables = await fixtureVariables();
    const engine = engineFor(
      fixtureModel({
        project: name,
        variables,
        edit: (s) => s.replace('--storage.tsdb.path=/prometheus', '--no-such-flag'),
      }),
    );
    const err = await rejection(engine.start());
    assert.ok(err instanceof ContainerFailedError);
    assert.equal(err.code, 'container-exited');
    assert.match(
      err.message,
      /^Service "prometheus" (exited with code 1|keeps exiting \(last exit code 1\) and being restarted)\. Run "Show Stack Logs" for this service for the full log; "Restart Telemetry Stack" retries\.\nLast \d+ log lines of "prometheus":\n/,
    );
    assert.match(err.message, /unknown long flag '--no-such-flag'/);
    assert.ok(err.lastLogLines.length > 0 && err.lastLogLines.length <= 20);
    // its dependent was never created
    assert.equal((await engine.status())[1]?.state, 'missing');
  });

  it('a container that stays unhealthy: says so, with the failing check and its log', async () => {
    const name = project('unhealthy');
    const variables = await fixtureVariables();
    const engine = engineFor(
      fixtureModel({
        project: name,
        variables,
        edit: (s) =>
          s
            .replace('http://127.0.0.1:3100/ready', 'http://127.0.0.1:3999/ready')
            .replace(/retries: 30\n(\s+restart: "on)/, 'retries: 2\n$1'),
      }),
    );
    const err = await rejection(engine.start());
    assert.ok(err instanceof ContainerFailedError, err.message);
    assert.equal(err.code, 'container-unhealthy');
    assert.match(err.message, /^Service "loki" is unhealthy: its health check failed 2 times \(last check: ".*"\)\. /s);
    assert.match(err.message, /Last \d+ log lines of "loki":\n/);
    const statuses = await engine.status();
    assert.deepEqual(
      statuses.map((s) => s.state),
      ['healthy', 'unhealthy'],
    );
    assert.deepEqual(summarize(statuses), {
      state: 'degraded',
      services: ['loki'],
      message: 'Telemetry stack degraded: loki unhealthy',
    });
  });

  it('a start can be cancelled while it waits, and a later start finishes the job', async () => {
    const name = project('cancel');
    const variables = await fixtureVariables();
    const engine = engineFor(fixtureModel({ project: name, variables }));
    const ac = new AbortController();
    const err = await rejection(engine.start((p) => p.kind === 'wait' && ac.abort(), ac.signal));
    assert.equal(err.code, 'cancelled');
    assert.equal(err.message, 'Start cancelled. Nothing was lost; start again when ready.');
    const statuses = await engine.start();
    assert.deepEqual(
      statuses.map((s) => s.state),
      ['healthy', 'healthy'],
    );
    await engine.remove({ volumes: true });
  });

  it('the real stack/compose.yaml starts to healthy on the test images', async (t) => {
    const file = `${repoRoot}/stack/compose.yaml`;
    const name = project('real');
    const variables: Record<string, string> = {
      ...testImageEnv(await ensureTestImages()),
      GRAFANA_ADMIN_PASSWORD: 'engine-test',
    };
    for (const v of [
      'CCT_OTLP_GRPC_PORT',
      'CCT_OTLP_HTTP_PORT',
      'CCT_COLLECTOR_METRICS_PORT',
      'CCT_PROMETHEUS_PORT',
      'CCT_LOKI_PORT',
      'CCT_GRAFANA_PORT',
    ]) {
      variables[v] = String(await freePort());
    }
    const engine = engineFor(loadComposeFile(file, { variables, projectName: name }), { healthTimeoutMs: 120_000 });
    const waits = new Set<string>();
    const t0 = Date.now();
    const statuses = await engine.start((p) => p.kind === 'wait' && waits.add(p.service));
    const ms = Date.now() - t0;
    assert.equal(summarize(statuses).state, 'healthy', JSON.stringify(statuses));
    t.diagnostic(`real stack on test images: healthy in ${ms} ms (waited for: ${[...waits].join(', ')})`);
    const res = await fetch(`http://127.0.0.1:${variables.CCT_PROMETHEUS_PORT}/-/ready`);
    assert.equal(res.status, 200);
    // The local images: the collector and Prometheus are the real ones, Loki and Grafana doubles, and say so.
    assert.deepEqual(
      statuses
        .filter((s) => s.testDouble)
        .map((s) => s.service)
        .sort(),
      ['grafana', 'loki'],
    );

    // Events in Loki stay across a stop and a start (on its volume), as the real Loki keeps them.
    const loki = `http://127.0.0.1:${variables.CCT_LOKI_PORT}`;
    const event = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: `${Date.now()}000000`,
                  body: { stringValue: 'claude_code.tool_result' },
                  attributes: [{ key: 'event.name', value: { stringValue: 'tool_result' } }],
                },
              ],
            },
          ],
        },
      ],
    };
    const pushed = await fetch(`${loki}/otlp/v1/logs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(event),
    });
    assert.equal(pushed.status, 204);
    const count = async (): Promise<number> => {
      const query = 'sum(count_over_time({service_name="claude-code"} | event_name="tool_result" [1h]))';
      const body = (await (await fetch(`${loki}/loki/api/v1/query?${new URLSearchParams({ query })}`)).json()) as {
        data: { result: { value: [number, string] }[] };
      };
      return Number(body.data.result[0]?.value[1] ?? 0);
    };
    assert.equal(await count(), 1);
    await engine.stop();
    const restarted = await engine.start();
    assert.equal(summarize(restarted).state, 'healthy');
    assert.equal(await count(), 1, 'the event is still in Loki after Stop and Start');
    await engine.remove({ volumes: true });
  });

  it('Prometheus data and the stack survive a dockerd restart', async (t) => {
    const reason = dockerdRestartSkipReason();
    if (reason) return t.skip(reason);
    await dockerdRestartTest(t);
  });
});

/** Restarting the daemon disturbs every other user of it: only in CI (suites run one at a time) or when asked. */
function dockerdRestartSkipReason(): string | undefined {
  if (!process.env.CI && process.env.CCT_TEST_DOCKERD_RESTART !== '1') {
    return 'restarts dockerd: runs in CI or with CCT_TEST_DOCKERD_RESTART=1';
  }
  if (process.getuid?.() !== 0) return 'restarting dockerd needs root';
  if (process.env.DOCKER_HOST && process.env.DOCKER_HOST !== 'unix:///var/run/docker.sock')
    return 'DOCKER_HOST is not the local dockerd';
  if (!fs.existsSync('/var/run/docker.pid')) return 'no /var/run/docker.pid: dockerd is not ours to restart';
  return undefined;
}

async function dockerdRestartTest(t: TestContext): Promise<void> {
  const name = project('dockerd');
  const variables = await fixtureVariables();
  const port = Number(variables.CCT_PROMETHEUS_PORT);
  const engine = engineFor(fixtureModel({ project: name, variables }));
  await engine.start();
  const t0 = Math.floor(Date.now() / 1000) - 60;
  const before = await waitFor('three self-scrapes', async () => {
    const n = await upSamples(port, t0, Math.floor(Date.now() / 1000));
    return n >= 3 ? n : undefined;
  });
  const t1 = Math.floor(Date.now() / 1000);
  const events: StackEvent[] = [];
  const sub = engine.events((e) => events.push(e));
  try {
    await waitFor('the event stream', async () => (events.some((e) => e.kind === 'connected') ? true : undefined));
    const pid = Number(fs.readFileSync('/var/run/docker.pid', 'utf8').trim());
    const started = Date.now();
    process.kill(pid, 'SIGTERM');
    await waitFor(
      'dockerd to exit',
      async () => {
        try {
          process.kill(pid, 0);
          return undefined;
        } catch {
          return true;
        }
      },
      60_000,
    );
    const disconnected = await waitFor('a disconnected event', async () =>
      events.find((e) => e.kind === 'disconnected'),
    );
    assert.equal(disconnected.kind === 'disconnected' ? disconnected.error.code : '', 'engine-not-running');
    await new Promise<void>((resolve, reject) => {
      const child = spawn('bash', [`${repoRoot}/scripts/ci/start-dockerd.sh`], { stdio: 'ignore' });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`start-dockerd.sh exited ${code}`))));
    });
    await waitFor(
      'the event stream to reconnect',
      async () => {
        const i = events.findIndex((e) => e.kind === 'disconnected');
        return events.slice(i).some((e) => e.kind === 'connected') ? true : undefined;
      },
      60_000,
    );
    // restart: unless-stopped brings the containers back; a start (idempotent) waits for health
    const statuses = await engine.start();
    assert.deepEqual(
      statuses.map((s) => s.state),
      ['healthy', 'healthy'],
    );
    t.diagnostic(`dockerd restart to healthy stack: ${Date.now() - started} ms`);
    assert.ok((await upSamples(port, t0, t1)) >= before, 'samples from before the restart are still there');
  } finally {
    sub.dispose();
    await engine.remove({ volumes: true });
  }
}
