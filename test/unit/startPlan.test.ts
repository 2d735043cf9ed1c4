// The start planner without Docker: what the engine will do with each service of the real stack/compose.yaml, given
// the containers the engine lists.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type Docker from 'dockerode';
import { loadComposeFile } from '../../src/stack/composeModel';
import { keepFirstStartEnvironment, LABELS, networkName, serviceSpec } from '../../src/stack/containerSpec';
import { imagesToEnsure, planStart, portsToCheck } from '../../src/stack/startPlan';
import { repoRoot } from '../support/paths';

const model = loadComposeFile(join(repoRoot, 'stack', 'compose.yaml'), {
  variables: { GRAFANA_ADMIN_PASSWORD: 'x' },
  projectName: 'plan-test',
});
const specs = model.services.map((service) => serviceSpec(model, service));
const net = networkName(model.name);

/** A container as the engine lists it, for `service`, on network `networkId`, publishing its ports when running. */
function container(
  service: string,
  state: 'running' | 'exited' | 'restarting',
  networkId = 'net-1',
  configHash?: string,
): Docker.ContainerInfo {
  const spec = specs.find((s) => s.service.name === service)!;
  return {
    Id: `id-${service}`,
    Names: [`/${spec.name}`],
    State: state,
    Labels: { [LABELS.service]: service, [LABELS.configHash]: configHash ?? spec.configHash },
    NetworkSettings: { Networks: { [net]: { NetworkID: networkId } } },
    Ports:
      state === 'running'
        ? spec.service.ports.map((p) => ({
            IP: p.hostIp,
            PrivatePort: p.containerPort,
            PublicPort: p.hostPort,
            Type: 'tcp',
          }))
        : [],
  } as unknown as Docker.ContainerInfo;
}

describe('start plan', () => {
  it('a first start creates every service, checks every port and pulls each image once', () => {
    const plans = planStart(specs, [], net, undefined);
    assert.deepEqual(
      plans.map((p) => p.action),
      specs.map(() => 'create'),
    );
    assert.equal(portsToCheck(plans, []).length, specs.flatMap((s) => s.service.ports).length);
    assert.deepEqual(
      imagesToEnsure(plans)
        .map((s) => s.name)
        .sort(),
      ['grafana', 'loki', 'otel-collector', 'prometheus'],
    );
  });

  it('a running stack is reused whole: no port to check, no image to pull', () => {
    const running = specs.map((s) => container(s.service.name, 'running'));
    const plans = planStart(specs, running, net, 'net-1');
    assert.ok(plans.every((p) => p.action === 'reuse'));
    assert.deepEqual(portsToCheck(plans, running), []);
    assert.deepEqual(imagesToEnsure(plans), []);
  });

  it('a stopped service starts; a changed one is recreated and takes its own port back; one on another network too', () => {
    const existing = [
      container('loki', 'exited'),
      container('prometheus', 'running', 'net-1', 'an older config'),
      container('grafana', 'running', 'net-0'),
      container('otel-collector', 'running'),
    ];
    const plans = planStart(specs, existing, net, 'net-1');
    assert.deepEqual(Object.fromEntries(plans.map((p) => [p.spec.service.name, p.action])), {
      'otel-collector': 'reuse',
      prometheus: 'recreate',
      loki: 'start',
      grafana: 'recreate',
    });
    // Loki is stopped: its port must be free; Prometheus and Grafana publish theirs already.
    assert.deepEqual(
      portsToCheck(plans, existing).map(({ plan, port }) => `${plan.spec.service.name}:${port.hostPort}`),
      ['loki:3100'],
    );
    assert.deepEqual(
      imagesToEnsure(plans)
        .map((s) => s.name)
        .sort(),
      ['grafana', 'prometheus'],
    );
  });

  it('a container in its restart loop holds its port between runs: not checked as if another program held it', () => {
    // Loki's image could not run; the user set another one: Loki is recreated, in its place.
    const existing = specs.map((s) =>
      s.service.name === 'loki'
        ? container('loki', 'restarting', 'net-1', 'another image')
        : container(s.service.name, 'running'),
    );
    const plans = planStart(specs, existing, net, 'net-1');
    assert.equal(plans.find((p) => p.spec.service.name === 'loki')!.action, 'recreate');
    assert.deepEqual(portsToCheck(plans, existing), []);
  });

  it('another Grafana admin password does not recreate Grafana, and a Grafana recreated for another change keeps its own', () => {
    // A window of another browser profile (code-server) has another password in its secret storage.
    const other = loadComposeFile(join(repoRoot, 'stack', 'compose.yaml'), {
      variables: { GRAFANA_ADMIN_PASSWORD: 'y' },
      projectName: 'plan-test',
    });
    const otherSpecs = other.services.map((service) => serviceSpec(other, service));
    const running = specs.map((s) => container(s.service.name, 'running'));
    assert.ok(planStart(otherSpecs, running, net, 'net-1').every((p) => p.action === 'reuse'));

    const grafana = otherSpecs.find((s) => s.service.name === 'grafana')!;
    const replaced = specs.find((s) => s.service.name === 'grafana')!.create.Env ?? [];
    const env = keepFirstStartEnvironment(grafana.create.Env ?? [], replaced);
    assert.ok(env.includes('GF_SECURITY_ADMIN_PASSWORD=x'), 'the password Grafana was created with');
    assert.deepEqual(
      env.filter((e) => !e.startsWith('GF_SECURITY_ADMIN_PASSWORD=')),
      (grafana.create.Env ?? []).filter((e) => !e.startsWith('GF_SECURITY_ADMIN_PASSWORD=')),
    );
  });
});
