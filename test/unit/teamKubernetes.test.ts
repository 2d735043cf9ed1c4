// scripts/team-kubernetes.mjs: its output is YAML kubectl can read, every object valid against the Kubernetes schemas
// (kubernetes-models: the API's OpenAPI types) with no field they do not know (the API server's strict field
// validation, kubectl's default, refuses one; the schemas allow them, so the objects go into a TypeScript source as
// typed literals, whose excess property checks catch it), and it runs what stack/team/compose.yaml runs: the repo's
// config files byte for byte, the same images, commands and ports, every variable the configs read set.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { fromRoot, readText } from '../support/paths';
import { typeErrors } from '../support/typeErrors';

/** The fields these tests read; anything else is checked by the schemas. */
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  configMap?: { name: string; items?: { key: string; path: string }[] };
  secret?: { secretName: string };
  persistentVolumeClaim?: { claimName: string };
}
interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    serviceName?: string;
    clusterIP?: string;
    publishNotReadyAddresses?: boolean;
    maxUnavailable?: number;
    accessModes?: string[];
    selector?: Record<string, string> & { matchLabels?: Record<string, string> };
    ports?: { name: string; port: number; targetPort: string | number }[];
    template?: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    volumeClaimTemplates?: { metadata: { name: string } }[];
  };
}
interface ComposeService {
  image: string;
  command?: string[];
  working_dir?: string;
  environment?: Record<string, string>;
  volumes?: string[];
}

type Validating = new (data: unknown) => { validate(): void };
/** The kubernetes-models class, and its module, of each apiVersion/kind the generator may emit. */
const MODELS: Record<string, [Validating, string]> = {
  'v1/Namespace': [Namespace as Validating, 'v1/Namespace'],
  'v1/ConfigMap': [ConfigMap as Validating, 'v1/ConfigMap'],
  'v1/Secret': [Secret as Validating, 'v1/Secret'],
  'v1/Service': [Service as Validating, 'v1/Service'],
  'v1/PersistentVolumeClaim': [PersistentVolumeClaim as Validating, 'v1/PersistentVolumeClaim'],
  'apps/v1/Deployment': [Deployment as Validating, 'apps/v1/Deployment'],
  'apps/v1/StatefulSet': [StatefulSet as Validating, 'apps/v1/StatefulSet'],
  'policy/v1/PodDisruptionBudget': [PodDisruptionBudget as Validating, 'policy/v1/PodDisruptionBudget'],
};

const script = fromRoot('scripts', 'team-kubernetes.mjs');
const PASSWORD = 'grafana-test-password';
const TOKENS = 'alice@example.com.0123456789abcdef\nbob@example.com.fedcba9876543210\n';
const dir = mkdtempSync(path.join(tmpdir(), 'cct-k8s-'));
const tokensFile = path.join(dir, 'tokens');
writeFileSync(tokensFile, TOKENS);
after(() => rmSync(dir, { recursive: true, force: true }));

/** The environment without the variables that would override what the compose files pin. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(CCT_\w+_IMAGE|TEAM_TENANT|GRAFANA_ADMIN_PASSWORD)$/.test(name)),
  );
  return { ...env, ...extra };
}

const stdout = execFileSync(process.execPath, [script, '--tokens', tokensFile], {
  env: cleanEnv({ GRAFANA_ADMIN_PASSWORD: PASSWORD }),
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
});
const documents = parseAllDocuments(stdout);
const objects = (Array.isArray(documents) ? documents : []).map((d) => d.toJS() as K8sObject);

const team = parse(readText('stack', 'team', 'compose.yaml'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const local = parse(readText('stack', 'compose.yaml')) as { services: Record<string, ComposeService> };
/** The image a compose file pins: the default of `${CCT_*_IMAGE:-…}`. */
const pinned = (service: ComposeService): string => /^\$\{CCT_[A-Z]+_IMAGE:-([^}]+)\}$/.exec(service.image)![1]!;

function find(kind: string, name: string, list = objects): K8sObject {
  const found = list.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found;
}
const workloads = (list = objects): K8sObject[] =>
  list.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
const container = (workload: K8sObject): Container => workload.spec!.template!.spec.containers[0]!;
const envOf = (workload: K8sObject): Map<string, EnvVar> =>
  new Map((container(workload).env ?? []).map((e) => [e.name, e]));
/** The text a container sees at `file`: the ConfigMap key that the deepest mount above it holds there. */
function mountedFile(workload: K8sObject, file: string): string | undefined {
  const pod = workload.spec!.template!.spec;
  const mount = (container(workload).volumeMounts ?? [])
    .filter((m) => file.startsWith(`${m.mountPath}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  const volume = pod.volumes?.find((v) => v.name === mount?.name);
  if (!mount || !volume?.configMap) return undefined;
  const relative = file.slice(mount.mountPath.length + 1);
  const items = volume.configMap.items;
  const key = items ? items.find((i) => i.path === relative)?.key : relative;
  return key === undefined ? undefined : find('ConfigMap', volume.configMap.name).data?.[key];
}

/** The compiler's errors for the objects as typed literals of their kubernetes-models interfaces. */
function k8sTypeErrors(list: K8sObject[]): string[] {
  const lines = list.map((o, i) => {
    const module = MODELS[`${o.apiVersion}/${o.kind}`]![1];
    return `const o${i}: import('kubernetes-models/${module}').I${o.kind} = ${JSON.stringify(o, null, 2)};`;
  });
  return typeErrors(`${lines.join('\n')}\nexport {};\n`, 'test', 'unit', '__k8s_typed__.ts');
}

/** What the schemas say is wrong with an object: undefined when nothing. */
function schemaError(o: K8sObject): string | undefined {
  const model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!model) return `${o.apiVersion} ${o.kind} is not a kind this test knows`;
  try {
    new model[0](o).validate();
    return undefined;
  } catch (error) {
    return `${o.kind} ${o.metadata.name}: ${(error as Error).message}`;
  }
}

describe('scripts/team-kubernetes.mjs (the team stack on Kubernetes)', () => {
  it('prints a multi-document YAML stream that parses without error or warning', () => {
    assert.ok(Array.isArray(documents));
    for (const [i, d] of documents.entries()) {
      assert.deepEqual([...d.errors, ...d.warnings], [], `document ${i}`);
    }
    assert.ok(objects.length >= 15, `${objects.length} objects`);
    for (const o of objects) assert.ok(o.apiVersion && o.kind && o.metadata?.name, JSON.stringify(o).slice(0, 200));
  });

  it('each object is valid against the Kubernetes schema of its kind, with no field the schema does not know', () => {
    const errors = objects.map(schemaError).filter((e) => e !== undefined);
    assert.deepEqual(errors, []);
    const typed = k8sTypeErrors(objects);
    assert.deepEqual(typed, [], `\n${typed.join('\n\n')}`);
  });

  it('the checks fail on what the API server refuses: a wrong type, a missing field, an unknown field, an unknown kind', () => {
    const gateway = structuredClone(find('Deployment', 'gateway'));
    (gateway.spec as Record<string, unknown>)['replicas'] = '1';
    assert.match(schemaError(gateway) ?? '', /replicas must be integer/);
    const unselected = structuredClone(find('Deployment', 'gateway'));
    delete (unselected.spec as Record<string, unknown>)['selector'];
    assert.match(schemaError(unselected) ?? '', /must have required property selector/);
    const probe = structuredClone(find('StatefulSet', 'cortex'));
    (container(probe) as unknown as Record<string, unknown>)['readinessprobe'] = {};
    assert.match(k8sTypeErrors([probe]).join('\n'), /'"readinessprobe"' does not exist in type 'IContainer'/);
    assert.match(schemaError({ ...probe, apiVersion: 'apps/v1beta1' }) ?? '', /not a kind this test knows/);
  });

  it('puts every object but the Namespace in the namespace, and an option moves them all', async () => {
    const ns = find('Namespace', 'claude-telemetry');
    for (const o of objects.filter((o) => o !== ns)) assert.equal(o.metadata.namespace, 'claude-telemetry', o.kind);
    const generator = (await import(pathToFileURL(script).href)) as {
      teamManifests(options: Record<string, unknown>): K8sObject[];
    };
    const other = generator.teamManifests({ namespace: 'telemetry-2', grafanaAdminPassword: 'x' });
    assert.deepEqual(
      other.filter((o) => o.kind !== 'Namespace').map((o) => o.metadata.namespace),
      other.filter((o) => o.kind !== 'Namespace').map(() => 'telemetry-2'),
    );
    assert.match(envOf(find('StatefulSet', 'cortex', other)).get('CORTEX_JOIN')?.value ?? '', /telemetry-2\.svc:/);
    assert.throws(() => generator.teamManifests({}), /grafanaAdminPassword/);
  });

  it("holds the repo's config files byte for byte, where the containers read them", () => {
    const gateway = find('Deployment', 'gateway');
    const cortex = find('StatefulSet', 'cortex');
    const loki = find('Deployment', 'loki');
    const grafana = find('Deployment', 'grafana');
    assert.equal(
      mountedFile(gateway, '/etc/otelcol-contrib/config.yaml'),
      readText('stack', 'collector', 'config.yaml'),
    );
    assert.equal(mountedFile(gateway, '/etc/otelcol-contrib/gateway.yaml'), readText('stack', 'team', 'gateway.yaml'));
    assert.equal(mountedFile(cortex, '/etc/cortex/cortex.yaml'), readText('stack', 'team', 'cortex.yaml'));
    assert.equal(mountedFile(loki, '/etc/loki/config.yaml'), readText('stack', 'loki', 'config.yaml'));
    const dashboard = 'claude-code-telemetry.json';
    assert.equal(
      mountedFile(grafana, `/etc/grafana/dashboards/${dashboard}`),
      readText('stack', 'grafana', 'dashboards', dashboard),
    );
    const providers = mountedFile(grafana, '/etc/grafana/provisioning/dashboards/dashboards.yaml');
    assert.equal(providers, readText('stack', 'grafana', 'provisioning', 'dashboards', 'dashboards.yaml'));
    // The providers' folder is where the dashboard is mounted.
    assert.equal(
      (parse(providers!) as { providers: { options: { path: string } }[] }).providers[0]!.options.path,
      '/etc/grafana/dashboards',
    );
  });

  it('runs the images the compose files pin', () => {
    assert.equal(container(find('Deployment', 'gateway')).image, pinned(team.services['gateway']!));
    assert.equal(container(find('Deployment', 'gateway')).image, pinned(local.services['otel-collector']!));
    assert.equal(container(find('StatefulSet', 'cortex')).image, pinned(team.services['cortex-1']!));
    assert.equal(container(find('Deployment', 'loki')).image, pinned(local.services['loki']!));
    assert.equal(container(find('Deployment', 'loki')).image, pinned(team.services['loki']!));
    assert.equal(container(find('Deployment', 'grafana')).image, pinned(local.services['grafana']!));
  });

  it("runs the compose file's commands: the gateway's configs in its order, Cortex and Loki with env expansion", () => {
    const args = container(find('Deployment', 'gateway')).args;
    assert.deepEqual(args, team.services['gateway']!.command);
    assert.deepEqual(args, ['--config=/etc/otelcol-contrib/config.yaml', '--config=/etc/otelcol-contrib/gateway.yaml']);
    assert.deepEqual(container(find('StatefulSet', 'cortex')).args, team.services['cortex-1']!.command);
    // Where cortex.yaml's relative rule_path lands: the same path on every node, in its own data volume.
    assert.equal(container(find('StatefulSet', 'cortex')).workingDir, team.services['cortex-1']!.working_dir);
    assert.equal(team.services['cortex-1']!.working_dir, '/data');
    assert.ok(container(find('StatefulSet', 'cortex')).args?.includes('-config.expand-env=true'));
    assert.deepEqual(container(find('Deployment', 'loki')).args, team.services['loki']!.command);
  });

  it("selects each Service's pods by the labels of one workload, on ports its container names", () => {
    for (const svc of objects.filter((o) => o.kind === 'Service')) {
      const selector = svc.spec!.selector!;
      assert.ok(Object.keys(selector).length > 0, `${svc.metadata.name}: no selector`);
      const matched = workloads().filter((w) => {
        const labels = w.spec!.template!.metadata.labels;
        return Object.entries(selector).every(([k, v]) => labels[k] === v);
      });
      assert.equal(matched.length, 1, `Service ${svc.metadata.name} selects ${matched.length} workloads`);
      const names = (container(matched[0]!).ports ?? []).map((p) => p.name);
      for (const port of svc.spec!.ports!) assert.ok(names.includes(String(port.targetPort)), `${port.targetPort}`);
    }
    for (const w of workloads()) {
      const labels = w.spec!.template!.metadata.labels;
      for (const [k, v] of Object.entries(w.spec!.selector!.matchLabels!)) assert.equal(labels[k], v, w.metadata.name);
    }
  });

  it('has every volume a pod mounts, and every claim and ConfigMap it names', () => {
    for (const w of workloads()) {
      const pod = w.spec!.template!.spec;
      const volumes = new Set([
        ...(pod.volumes ?? []).map((v) => v.name),
        ...(w.spec!.volumeClaimTemplates ?? []).map((t) => t.metadata.name),
      ]);
      for (const m of container(w).volumeMounts ?? []) assert.ok(volumes.has(m.name), `${w.metadata.name}: ${m.name}`);
      for (const v of pod.volumes ?? []) {
        if (v.configMap) find('ConfigMap', v.configMap.name);
        if (v.secret) find('Secret', v.secret.secretName);
        if (v.persistentVolumeClaim) find('PersistentVolumeClaim', v.persistentVolumeClaim.claimName);
      }
      assert.ok(container(w).readinessProbe?.httpGet, `${w.metadata.name} has a readiness probe`);
    }
  });

  it('sets every variable the gateway configs read, its tokens from the Secret, its store and Loki as Services', () => {
    const gateway = find('Deployment', 'gateway');
    const env = envOf(gateway);
    const text = readText('stack', 'collector', 'config.yaml') + readText('stack', 'team', 'gateway.yaml');
    const wanted = [...text.matchAll(/\$\{env:([A-Z0-9_]+)\}/g)].map((m) => m[1]!);
    assert.ok(wanted.includes('GATEWAY_TOKENS_FILE') && wanted.includes('TEAM_TENANT'));
    for (const name of wanted) assert.ok(env.get(name)?.value, `${name} is not set`);
    assert.equal(env.get('TEAM_TENANT')?.value, 'team', "the compose file's default tenant");

    const tokens = env.get('GATEWAY_TOKENS_FILE')!.value!;
    const mount = container(gateway).volumeMounts!.find((m) => m.mountPath === path.posix.dirname(tokens))!;
    const volume = gateway.spec!.template!.spec.volumes!.find((v) => v.name === mount.name)!;
    assert.ok(volume.secret, 'the token file is a Secret volume (no subPath: an updated Secret reaches the file)');
    assert.equal(volume.secret.secretName, 'gateway-tokens');
    assert.equal(find('Secret', 'gateway-tokens').stringData?.[path.posix.basename(tokens)], TOKENS);

    for (const [name, service] of [
      ['STORE_PUSH_URL', 'cortex'],
      ['LOKI_OTLP_URL', 'loki'],
    ] as const) {
      const url = new URL(env.get(name)!.value!);
      assert.equal(url.hostname, service, name);
      assert.ok(
        find('Service', service).spec!.ports!.some((p) => p.port === Number(url.port)),
        `${name}: ${url.port} is not a port of Service ${service}`,
      );
    }
  });

  it("needs no overlay: the stack's collector listens on every address and queues on the gateway's volume", () => {
    const config = parse(readText('stack', 'collector', 'config.yaml')) as {
      extensions: { health_check: { endpoint: string }; 'file_storage/queue': { directory: string } };
      receivers: { otlp: { protocols: Record<'grpc' | 'http', { endpoint: string }> } };
    };
    const gateway = container(find('Deployment', 'gateway'));
    const ports = new Map((gateway.ports ?? []).map((p) => [p.name, p.containerPort]));
    for (const [name, endpoint] of [
      ['otlp-grpc', config.receivers.otlp.protocols.grpc.endpoint],
      ['otlp-http', config.receivers.otlp.protocols.http.endpoint],
      ['health', config.extensions.health_check.endpoint],
    ] as const) {
      assert.match(endpoint, /^0\.0\.0\.0:\d+$/, `${name}: the pod's address must reach ${endpoint}`);
      assert.equal(ports.get(name), Number(endpoint.split(':')[1]), name);
    }
    assert.deepEqual(
      find('Service', 'gateway').spec!.ports!.map((p) => p.port),
      [4317, 4318],
    );
    assert.equal(gateway.readinessProbe?.httpGet?.port, 'health');
    const queue = gateway.volumeMounts!.find((m) => m.mountPath === config.extensions['file_storage/queue'].directory);
    assert.ok(queue, 'the file_storage directory is a mounted volume');
    const volume = find('Deployment', 'gateway').spec!.template!.spec.volumes!.find((v) => v.name === queue.name);
    assert.ok(volume?.persistentVolumeClaim, 'the queue outlives the pod');
  });

  it('runs three Cortex nodes with every variable cortex.yaml reads, joined by their names on the headless Service', () => {
    const cortex = find('StatefulSet', 'cortex');
    const env = envOf(cortex);
    const wanted = new Set(
      [...readText('stack', 'team', 'cortex.yaml').matchAll(/\$\{(CORTEX_[A-Z_]+)\}/g)].map((m) => m[1]!),
    );
    assert.ok(wanted.size >= 9, [...wanted].join(' '));
    for (const name of wanted) assert.ok(env.has(name), `${name} is not set`);
    assert.equal(env.get('CORTEX_NODE')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
    assert.equal(env.get('CORTEX_ADDR')?.valueFrom?.fieldRef?.fieldPath, 'status.podIP');
    // The querier reaches its own store gateway and frontend on 127.0.0.1: not the pod's address alone.
    assert.equal(env.get('CORTEX_LISTEN')?.value, '0.0.0.0');

    const composeEnv = team.services['cortex-1']!.environment!;
    for (const name of ['CORTEX_HTTP_PORT', 'CORTEX_GRPC_PORT', 'CORTEX_GOSSIP_PORT'])
      assert.equal(env.get(name)?.value, composeEnv[name], name);
    const ports = new Map((container(cortex).ports ?? []).map((p) => [p.name, p.containerPort]));
    assert.equal(ports.get('http'), Number(composeEnv['CORTEX_HTTP_PORT']));
    assert.equal(ports.get('gossip'), Number(composeEnv['CORTEX_GOSSIP_PORT']));

    assert.equal(cortex.spec!.replicas, 3);
    const peers = find('Service', cortex.spec!.serviceName!);
    assert.equal(peers.spec!.clusterIP, 'None');
    assert.equal(peers.spec!.publishNotReadyAddresses, true, 'nodes find each other before they are ready');
    assert.equal(
      env.get('CORTEX_JOIN')?.value,
      [0, 1, 2]
        .map((i) => `cortex-${i}.${peers.metadata.name}.claude-telemetry.svc:${composeEnv['CORTEX_GOSSIP_PORT']}`)
        .join(', '),
    );
    assert.ok(find('Service', 'cortex').spec!.ports!.some((p) => p.port === Number(composeEnv['CORTEX_HTTP_PORT'])));
    assert.equal(container(cortex).readinessProbe?.httpGet?.path, '/ready');

    const mounts = new Map((container(cortex).volumeMounts ?? []).map((m) => [m.mountPath, m.name]));
    assert.equal(mounts.get(env.get('CORTEX_DATA')!.value!), cortex.spec!.volumeClaimTemplates![0]!.metadata.name);
    const shared = cortex.spec!.template!.spec.volumes!.find(
      (v) => v.name === mounts.get(env.get('CORTEX_SHARED')!.value!),
    );
    assert.ok(shared?.persistentVolumeClaim, 'CORTEX_SHARED is a claim every pod mounts');
    assert.deepEqual(find('PersistentVolumeClaim', shared.persistentVolumeClaim.claimName).spec!.accessModes, [
      'ReadWriteMany',
    ]);

    const budget = find('PodDisruptionBudget', 'cortex');
    assert.equal(budget.spec!.maxUnavailable, 1, 'replication factor 3 takes one node down');
    assert.deepEqual(budget.spec!.selector!.matchLabels, cortex.spec!.selector!.matchLabels);
  });

  it('gives Grafana an admin password from a Secret, no anonymous access, and the datasources the dashboard names', () => {
    const grafana = find('Deployment', 'grafana');
    const env = envOf(grafana);
    const password = env.get('GF_SECURITY_ADMIN_PASSWORD')?.valueFrom?.secretKeyRef;
    assert.ok(password, 'the admin password comes from a Secret');
    assert.equal(find('Secret', password.name).stringData?.[password.key], PASSWORD);
    assert.ok(!env.get('GF_SECURITY_ADMIN_PASSWORD')?.value);
    assert.equal(env.get('GF_AUTH_ANONYMOUS_ENABLED')?.value, 'false');
    for (const [name, e] of env) {
      if (/ROLE/.test(name)) assert.doesNotMatch(String(e.value), /admin|editor/i, name);
    }
    assert.notEqual(env.get('GF_AUTH_DISABLE_LOGIN_FORM')?.value, 'true');
    assert.equal(env.get('GF_USERS_ALLOW_SIGN_UP')?.value, 'false');

    const datasources = (
      parse(mountedFile(grafana, '/etc/grafana/provisioning/datasources/datasources.yaml')!) as {
        datasources: {
          uid: string;
          url: string;
          jsonData?: Record<string, string>;
          secureJsonData?: Record<string, string>;
        }[];
      }
    ).datasources;
    const stackUids = (
      parse(readText('stack', 'grafana', 'provisioning', 'datasources', 'datasources.yaml')) as {
        datasources: { uid: string }[];
      }
    ).datasources.map((d) => d.uid);
    assert.deepEqual(
      datasources.map((d) => d.uid),
      stackUids,
    );
    const prometheus = datasources.find((d) => d.uid === 'prometheus')!;
    assert.equal(new URL(prometheus.url).hostname, 'cortex');
    assert.equal(new URL(prometheus.url).pathname, '/prometheus');
    assert.equal(prometheus.jsonData?.['httpHeaderName1'], 'X-Scope-OrgID');
    assert.equal(prometheus.secureJsonData?.['httpHeaderValue1'], 'team');
    assert.equal(new URL(datasources.find((d) => d.uid === 'loki')!.url).hostname, 'loki');
  });

  it('refuses to print without a Grafana admin password, as the compose file does', () => {
    const run = spawnSync(process.execPath, [script], { env: cleanEnv(), encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /GRAFANA_ADMIN_PASSWORD/);
    assert.equal(run.stdout, '');
  });
});
