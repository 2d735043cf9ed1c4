// Kubernetes manifests for a team's stack (stack/team/compose.yaml on a cluster): the collector gateway, three Cortex
// nodes, the team's Loki and Grafana, in one namespace. Config files, images, commands, ports and paths are read
// from the compose files and the configs they mount, so the two deployments cannot drift apart.
//
//   GRAFANA_ADMIN_PASSWORD=… node scripts/team-kubernetes.mjs --tokens stack/team/tokens/tokens | kubectl apply -f -
//
// Flags: --namespace (claude-telemetry), --tenant (TEAM_TENANT, else the compose default), --tokens FILE (the
// gateway's token file; without it the Secret is empty and every request is refused: pass it on every apply, the
// file is the list), --storage-class and --shared-storage-class (the cluster's default when not given),
// --gateway-service-type (ClusterIP; LoadBalancer to publish it). As the compose files, CCT_*_IMAGE overrides an image.
//
// The rules are not loaded here (no image runs scripts/team-rules.mjs): once Cortex is ready, and after an update,
//   kubectl -n claude-telemetry port-forward svc/cortex 9009 & node scripts/team-rules.mjs http://127.0.0.1:9009 <tenant>
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';

const stack = join(dirname(fileURLToPath(import.meta.url)), '..', 'stack');
const read = (...parts) => readFileSync(join(stack, ...parts), 'utf8');
const PART_OF = 'claude-code-telemetry';

/** `${VAR:-default}` as compose resolves it. */
const interpolate = (text, env) =>
  String(text).replace(/\$\{([A-Z0-9_]+):-([^}]*)\}/g, (_, name, fallback) => env[name] || fallback);
/** The port a compose mapping or a `host:port` endpoint ends with. */
const portOf = (spec) => Number(String(spec).split(':').pop());
const labels = (name) => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': PART_OF });
const checksum = (...data) => createHash('sha256').update(JSON.stringify(data)).digest('hex');

/** A compose service's mounts: config files (relative binds, read from disk) and named volumes. */
function mounts(service, composeDir) {
  const files = [];
  const volumes = [];
  for (const spec of service.volumes ?? []) {
    const [source, target] = spec.split(':');
    if (source.startsWith('.')) {
      const text = readFileSync(join(stack, composeDir, source), 'utf8');
      files.push({ key: basename(target), dir: posix.dirname(target), text });
    } else if (!source.startsWith('$')) volumes.push({ name: source, path: target });
  }
  return { files, volumes };
}

const claim = (size, accessMode, storageClass) => ({
  accessModes: [accessMode],
  ...(storageClass ? { storageClassName: storageClass } : {}),
  resources: { requests: { storage: size } },
});
const pvc = (name, namespace, ...spec) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': PART_OF } },
  spec: claim(...spec),
});

function service(name, namespace, selector, ports, extra = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': PART_OF } },
    spec: { ...extra, selector: labels(selector), ports: ports.map(([n, port]) => ({ name: n, port, targetPort: n })) },
  };
}

/** One replica with a ReadWriteOnce volume: the old pod must let go of it before the new one starts. */
function deployment(name, namespace, pod, configChecksum) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: labels(name) },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: labels(name) },
      template: {
        // A changed config file restarts the pod (a ConfigMap's change alone does not).
        metadata: { labels: labels(name), annotations: { 'checksum/config': configChecksum } },
        spec: pod,
      },
    },
  };
}

const ready = (path, port) => ({ httpGet: { path, port }, periodSeconds: 5, failureThreshold: 3 });
const runAs = (uid) => ({ runAsUser: uid, runAsGroup: uid, runAsNonRoot: true, fsGroup: uid });

/**
 * The manifests, as objects in apply order. `tokens`: the gateway's token file (one `<developer>.<secret>` a line);
 * `grafanaAdminPassword` is required; `env` resolves the compose files' `${VAR:-default}` (images, the tenant).
 */
export function teamManifests({
  namespace = 'claude-telemetry',
  tenant: tenantOption,
  tokens = '',
  grafanaAdminPassword,
  storageClass,
  sharedStorageClass,
  gatewayServiceType = 'ClusterIP',
  env = {},
} = {}) {
  if (!grafanaAdminPassword) throw new Error('grafanaAdminPassword is required (GRAFANA_ADMIN_PASSWORD)');
  const team = parse(read('team', 'compose.yaml'), { merge: true }).services;
  const local = parse(read('compose.yaml')).services;
  const image = (name) => interpolate((team[name] ?? local[name]).image, env);
  const ns = namespace;
  const tenant = tenantOption ?? interpolate(team.gateway.environment.TEAM_TENANT, env);
  const out = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'app.kubernetes.io/part-of': PART_OF } } },
  ];

  // Cortex: its ports, paths and listen address are those of the compose nodes; the rest is per pod.
  const cortex = team['cortex-1'];
  const cortexEnv = cortex.environment;
  const cortexFiles = mounts(cortex, 'team');
  const peers = 'cortex-peers';
  const httpPort = Number(cortexEnv.CORTEX_HTTP_PORT);
  const gossipPort = Number(cortexEnv.CORTEX_GOSSIP_PORT);

  // The gateway: the stack's collector config with the team's over it, in the compose file's order. The base
  // config already listens on 0.0.0.0 (4317, 4318, 13133) and queues to /var/lib/otelcol/file_storage, where the
  // volume is mounted: no overlay is needed.
  const gateway = team.gateway;
  const gatewayFiles = mounts(gateway, 'team');
  const collector = parse(read('collector', 'config.yaml'));
  const otlp = collector.receivers.otlp.protocols;
  const healthPort = portOf(collector.extensions.health_check.endpoint);
  const tokensDir = '/etc/gateway-tokens';
  const queue = gatewayFiles.volumes[0];
  out.push(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'gateway-tokens', namespace: ns, labels: labels('gateway') },
      type: 'Opaque',
      stringData: { tokens },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'gateway', namespace: ns, labels: labels('gateway') },
      data: Object.fromEntries(gatewayFiles.files.map((f) => [f.key, f.text])),
    },
    pvc(queue.name, ns, '2Gi', 'ReadWriteOnce', storageClass),
    service(
      'gateway',
      ns,
      'gateway',
      [
        ['otlp-grpc', portOf(otlp.grpc.endpoint)],
        ['otlp-http', portOf(otlp.http.endpoint)],
      ],
      {
        type: gatewayServiceType,
      },
    ),
    deployment(
      'gateway',
      ns,
      {
        // The image runs as 10001 and has no directory it could write: the volume is made the group's.
        securityContext: runAs(10001),
        containers: [
          {
            name: 'gateway',
            image: image('gateway'),
            args: gateway.command,
            // The compose file's: its cortex and loki are this namespace's Services of those names and ports.
            env: Object.entries({
              ...gateway.environment,
              // A Secret volume, not a subPath: the gateway watches the file and takes an updated Secret without a restart.
              GATEWAY_TOKENS_FILE: `${tokensDir}/tokens`,
              TEAM_TENANT: tenant,
            }).map(([name, value]) => ({ name, value })),
            ports: [
              { name: 'otlp-grpc', containerPort: portOf(otlp.grpc.endpoint) },
              { name: 'otlp-http', containerPort: portOf(otlp.http.endpoint) },
              { name: 'health', containerPort: healthPort },
            ],
            readinessProbe: ready('/', 'health'),
            // memory_limiter's percentages are of this limit.
            resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
            volumeMounts: [
              { name: 'config', mountPath: gatewayFiles.files[0].dir, readOnly: true },
              { name: 'tokens', mountPath: tokensDir, readOnly: true },
              { name: 'queue', mountPath: queue.path },
            ],
          },
        ],
        volumes: [
          { name: 'config', configMap: { name: 'gateway' } },
          { name: 'tokens', secret: { secretName: 'gateway-tokens' } },
          { name: 'queue', persistentVolumeClaim: { claimName: queue.name } },
        ],
      },
      checksum(gatewayFiles.files),
    ),
  );

  // Cortex: three pods of one StatefulSet, each its own ingester data; blocks and rule groups on a volume they all
  // mount. Filesystem storage shared by pods on different nodes needs a ReadWriteMany volume (NFS, CephFS, EFS…);
  // the alternative is object storage: blocks_storage and ruler_storage on s3/gcs/azure in stack/team/cortex.yaml.
  const nodes = [0, 1, 2].map((i) => `cortex-${i}.${peers}.${ns}.svc:${gossipPort}`);
  const fromPod = (name, fieldPath) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  const cortexPort = (name) => Number(cortexEnv[`CORTEX_${name.toUpperCase()}_PORT`]);
  out.push(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cortex', namespace: ns, labels: labels('cortex') },
      data: Object.fromEntries(cortexFiles.files.map((f) => [f.key, f.text])),
    },
    pvc('cortex-shared', ns, '50Gi', 'ReadWriteMany', sharedStorageClass),
    // For the ring: every pod by name, ready or not (a node waits for its peers before it is ready).
    service(
      peers,
      ns,
      'cortex',
      [
        ['gossip', gossipPort],
        ['http', httpPort],
        ['grpc', cortexPort('grpc')],
      ],
      {
        clusterIP: 'None',
        publishNotReadyAddresses: true,
      },
    ),
    // Push and queries: any node (each distributes and queries the ring).
    service('cortex', ns, 'cortex', [['http', httpPort]]),
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'cortex', namespace: ns, labels: labels('cortex') },
      spec: {
        serviceName: peers,
        replicas: 3,
        // Together, as on one host: the ring needs its peers.
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: labels('cortex') },
        template: {
          metadata: { labels: labels('cortex'), annotations: { 'checksum/config': checksum(cortexFiles.files) } },
          spec: {
            containers: [
              {
                name: 'cortex',
                image: image('cortex-1'),
                args: cortex.command,
                workingDir: cortex.working_dir,
                env: [
                  fromPod('CORTEX_NODE', 'metadata.name'),
                  fromPod('CORTEX_ADDR', 'status.podIP'),
                  // 0.0.0.0 as in compose: the querier reaches its own store gateway and frontend on 127.0.0.1.
                  ...[
                    'CORTEX_LISTEN',
                    'CORTEX_HTTP_PORT',
                    'CORTEX_GRPC_PORT',
                    'CORTEX_GOSSIP_PORT',
                    'CORTEX_DATA',
                    'CORTEX_SHARED',
                  ].map((name) => ({ name, value: String(cortexEnv[name]) })),
                  { name: 'CORTEX_JOIN', value: nodes.join(', ') },
                ],
                ports: ['http', 'grpc', 'gossip'].map((name) => ({ name, containerPort: cortexPort(name) })),
                readinessProbe: ready('/ready', 'http'),
                resources: { requests: { cpu: '250m', memory: '512Mi' } },
                volumeMounts: [
                  { name: 'config', mountPath: cortexFiles.files[0].dir, readOnly: true },
                  { name: 'data', mountPath: cortexEnv.CORTEX_DATA },
                  { name: 'shared', mountPath: cortexEnv.CORTEX_SHARED },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: 'cortex' } },
              { name: 'shared', persistentVolumeClaim: { claimName: 'cortex-shared' } },
            ],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: claim('10Gi', 'ReadWriteOnce', storageClass) }],
      },
    },
    // Replication factor 3: a write needs 2 of 3 ingesters, so one node may be drained at a time.
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'cortex', namespace: ns, labels: labels('cortex') },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels('cortex') } },
    },
  );

  // Loki: the stack's config (single binary, filesystem storage) on a volume of its own.
  const loki = team.loki;
  const lokiFiles = mounts(loki, 'team');
  const lokiPort = parse(lokiFiles.files[0].text).server.http_listen_port;
  out.push(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'loki', namespace: ns, labels: labels('loki') },
      data: Object.fromEntries(lokiFiles.files.map((f) => [f.key, f.text])),
    },
    pvc(lokiFiles.volumes[0].name, ns, '20Gi', 'ReadWriteOnce', storageClass),
    service('loki', ns, 'loki', [['http', lokiPort]]),
    deployment(
      'loki',
      ns,
      {
        securityContext: runAs(10001),
        containers: [
          {
            name: 'loki',
            image: image('loki'),
            args: loki.command,
            ports: [{ name: 'http', containerPort: lokiPort }],
            readinessProbe: ready('/ready', 'http'),
            resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
            volumeMounts: [
              { name: 'config', mountPath: lokiFiles.files[0].dir, readOnly: true },
              { name: 'data', mountPath: lokiFiles.volumes[0].path },
            ],
          },
        ],
        volumes: [
          { name: 'config', configMap: { name: 'loki' } },
          { name: 'data', persistentVolumeClaim: { claimName: lokiFiles.volumes[0].name } },
        ],
      },
      checksum(lokiFiles.files),
    ),
  );

  // Grafana: the stack's dashboard and providers; its datasources (same uids) on Cortex, with the tenant, and Loki.
  // The stack's settings, but sign-in only: a team's Grafana shows everyone's data.
  const grafana = local.grafana;
  const grafanaPort = portOf(grafana.ports[0]);
  const datasources = parse(read('grafana', 'provisioning', 'datasources', 'datasources.yaml'));
  for (const source of datasources.datasources) {
    if (source.type === 'prometheus') {
      source.url = `http://cortex:${httpPort}/prometheus`;
      source.jsonData = { ...source.jsonData, prometheusType: 'Cortex', httpHeaderName1: 'X-Scope-OrgID' };
      delete source.jsonData.prometheusVersion;
      source.secureJsonData = { httpHeaderValue1: tenant };
    }
  }
  const dashboards = readdirSync(join(stack, 'grafana', 'dashboards')).sort();
  const grafanaData = {
    'datasources.yaml': stringify(datasources),
    'dashboards.yaml': read('grafana', 'provisioning', 'dashboards', 'dashboards.yaml'),
    ...Object.fromEntries(dashboards.map((file) => [file, read('grafana', 'dashboards', file)])),
  };
  const grafanaEnv = Object.entries(grafana.environment)
    .filter(([name, value]) => !String(value).includes('${') && !name.startsWith('GF_AUTH_ANONYMOUS_'))
    .map(([name, value]) => ({ name, value: String(value) }));
  out.push(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'grafana-admin', namespace: ns, labels: labels('grafana') },
      type: 'Opaque',
      stringData: { password: grafanaAdminPassword },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'grafana', namespace: ns, labels: labels('grafana') },
      data: grafanaData,
    },
    pvc('grafana-data', ns, '1Gi', 'ReadWriteOnce', storageClass),
    service('grafana', ns, 'grafana', [['http', grafanaPort]]),
    deployment(
      'grafana',
      ns,
      {
        securityContext: runAs(472),
        containers: [
          {
            name: 'grafana',
            image: image('grafana'),
            env: [
              ...grafanaEnv,
              // Read when Grafana creates its database: later, change it in Grafana (or grafana cli).
              {
                name: 'GF_SECURITY_ADMIN_PASSWORD',
                valueFrom: { secretKeyRef: { name: 'grafana-admin', key: 'password' } },
              },
              { name: 'GF_AUTH_ANONYMOUS_ENABLED', value: 'false' },
            ],
            ports: [{ name: 'http', containerPort: grafanaPort }],
            readinessProbe: ready('/api/health', 'http'),
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
            volumeMounts: [
              { name: 'provisioning', mountPath: '/etc/grafana/provisioning', readOnly: true },
              { name: 'dashboards', mountPath: '/etc/grafana/dashboards', readOnly: true },
              { name: 'data', mountPath: '/var/lib/grafana' },
            ],
          },
        ],
        volumes: [
          {
            name: 'provisioning',
            configMap: {
              name: 'grafana',
              items: ['datasources', 'dashboards'].map((kind) => ({
                key: `${kind}.yaml`,
                path: `${kind}/${kind}.yaml`,
              })),
            },
          },
          {
            name: 'dashboards',
            configMap: { name: 'grafana', items: dashboards.map((file) => ({ key: file, path: file })) },
          },
          { name: 'data', persistentVolumeClaim: { claimName: 'grafana-data' } },
        ],
      },
      checksum(grafanaData),
    ),
  );
  return out;
}

/** The manifests as one multi-document YAML stream. */
export function toYaml(manifests) {
  const header = '# Generated by scripts/team-kubernetes.mjs from stack/ (edit those files and generate again).\n';
  return header + manifests.map((m) => stringify(m, { lineWidth: 0 })).join('---\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      namespace: { type: 'string' },
      tenant: { type: 'string' },
      tokens: { type: 'string' },
      'storage-class': { type: 'string' },
      'shared-storage-class': { type: 'string' },
      'gateway-service-type': { type: 'string' },
    },
  });
  if (!process.env.GRAFANA_ADMIN_PASSWORD) {
    console.error('GRAFANA_ADMIN_PASSWORD must be set (the team Grafana admin password, e.g. openssl rand -hex 16)');
    process.exit(2);
  }
  if (!values.tokens) console.error('no --tokens file: the gateway refuses every request until it is given one');
  process.stdout.write(
    toYaml(
      teamManifests({
        namespace: values.namespace,
        tenant: values.tenant,
        tokens: values.tokens ? readFileSync(values.tokens, 'utf8') : '',
        grafanaAdminPassword: process.env.GRAFANA_ADMIN_PASSWORD,
        storageClass: values['storage-class'],
        sharedStorageClass: values['shared-storage-class'],
        gatewayServiceType: values['gateway-service-type'],
        env: process.env,
      }),
    ),
  );
}
