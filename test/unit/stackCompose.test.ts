// stack/compose.yaml: valid Compose, only the keys and interpolations the extension maps, loopback-only ports,
// pinned images, existing read-only binds, a Grafana without anonymous admin.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { architecture } from '../support/architecture';
import { fromRoot, readText, stackDir } from '../support/paths';

type Service = Record<string, unknown> & {
  image?: string;
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  healthcheck?: Record<string, unknown>;
  depends_on?: Record<string, { condition?: string }>;
  command?: string[];
};
interface Compose {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const composeText = readText('stack', 'compose.yaml');
const compose = parse(composeText) as Compose;
const contract = architecture();
const services = Object.entries(compose.services);

/** Every ${...} of a string. */
function interpolations(text: string): string[] {
  return [...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]);
}

/** What the Compose specification's schema (../shared/schemas/compose-spec.json) says is wrong with a file: none. */
function composeSchemaErrors(doc: unknown): string | undefined {
  const schemaPath = path.resolve(fromRoot(), '..', 'shared', 'schemas', 'compose-spec.json');
  assert.ok(existsSync(schemaPath), `compose schema not found at ${schemaPath}`);
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
  // The schema names its meta-schema "https://json-schema.org/draft-07/schema" (no "#"), which Ajv does not
  // know by that spelling; Ajv's default dialect is draft-07 anyway.
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return validate(doc) ? undefined : ajv.errorsText(validate.errors, { separator: '\n  ' });
}

describe('stack/compose.yaml', () => {
  it('is valid against the Compose specification schema', () => {
    assert.equal(composeSchemaErrors(compose), undefined);
  });

  it('is named claude-code-telemetry and has the four services', () => {
    assert.equal(compose.name, 'claude-code-telemetry');
    assert.deepEqual(Object.keys(compose.services).sort(), ['grafana', 'loki', 'otel-collector', 'prometheus']);
  });

  it('uses only the keys the extension maps onto the Engine API', () => {
    const allowed = contract.composeKeys;
    assert.ok(
      allowed.service.includes('image') && allowed.healthcheck.includes('test'),
      'keys read from docs/architecture.md',
    );
    for (const key of Object.keys(compose)) {
      assert.ok(allowed.top.includes(key), `top-level key "${key}" is not one the extension maps`);
    }
    for (const [name, service] of services) {
      for (const key of Object.keys(service)) {
        assert.ok(allowed.service.includes(key), `services.${name}.${key} is not a key the extension maps`);
      }
      for (const key of Object.keys(service.healthcheck ?? {})) {
        assert.ok(allowed.healthcheck.includes(key), `services.${name}.healthcheck.${key} is not mapped`);
      }
      for (const [dep, spec] of Object.entries(service.depends_on ?? {})) {
        assert.deepEqual(Object.keys(spec), ['condition'], `services.${name}.depends_on.${dep} must be { condition }`);
        assert.ok(
          ['service_started', 'service_healthy', 'service_completed_successfully'].includes(spec.condition ?? ''),
        );
        assert.ok(dep in compose.services, `services.${name} depends on unknown service ${dep}`);
        if (spec.condition === 'service_healthy') {
          assert.ok(
            compose.services[dep].healthcheck,
            `${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`,
          );
        }
      }
    }
    for (const [name, spec] of Object.entries(compose.volumes ?? {})) {
      assert.ok(
        spec === null || Object.keys(spec as object).length === 0,
        `volume ${name} must be a plain named volume`,
      );
    }
  });

  it('interpolates only the documented variables, as ${VAR:-default} (the admin password is required)', () => {
    const found = interpolations(composeText.replace(/^\s*#.*$/gm, ''));
    assert.ok(found.length > 0);
    for (const body of found) {
      const m = /^([A-Z][A-Z0-9_]*)(:-|:\?)(.*)$/.exec(body);
      assert.ok(m, `\${${body}} is not \${VAR:-default}`);
      const [, name, op, rest] = m;
      assert.ok(contract.variables.has(name), `${name} is not a variable of docs/architecture.md`);
      if (name === 'GRAFANA_ADMIN_PASSWORD') {
        assert.equal(op, ':?', 'GRAFANA_ADMIN_PASSWORD is required: no default');
      } else {
        assert.equal(op, ':-', `\${${body}} must give a default`);
        const documented = contract.variables.get(name);
        if (documented !== undefined)
          assert.equal(rest, documented, `${name} defaults to ${documented} in docs/architecture.md`);
        assert.ok(!rest.includes('$'), `\${${body}}: nested interpolation`);
      }
    }
    assert.ok(!/\$[A-Za-z_]/.test(composeText.replace(/\$\{[^}]*\}/g, '')), 'bare $VAR interpolation');
  });

  it('publishes every port on 127.0.0.1 through its CCT_*_PORT variable', () => {
    const published: string[] = [];
    for (const [name, service] of services) {
      for (const port of service.ports ?? []) {
        assert.equal(
          typeof port,
          'string',
          `services.${name}.ports: use the "127.0.0.1:\${VAR:-default}:container" form`,
        );
        const m = /^127\.0\.0\.1:\$\{(CCT_[A-Z_]+_PORT):-(\d+)\}:(\d+)$/.exec(port);
        assert.ok(m, `services.${name} publishes "${port}", not on 127.0.0.1 through a CCT_*_PORT variable`);
        published.push(m[1]);
      }
    }
    const portVariables = [...contract.variables.keys()].filter((v) => v.endsWith('_PORT'));
    assert.deepEqual(published.sort(), portVariables.sort(), 'each documented port variable is published once');
  });

  it('pins every image (no latest), overridable through CCT_*_IMAGE; Prometheus on 3.x (the rules are written for it)', () => {
    for (const [name, service] of services) {
      const m = /^\$\{(CCT_[A-Z]+_IMAGE):-([^}]+)\}$/.exec(service.image ?? '');
      assert.ok(m, `services.${name}.image must be \${CCT_*_IMAGE:-pinned}`);
      const image = m[2];
      const tag = /:([^/:@]+)$/.exec(image)?.[1];
      assert.ok(tag, `services.${name}: image ${image} has no tag`);
      assert.notEqual(tag, 'latest', `services.${name}: image ${image} is not pinned`);
      assert.match(tag, /\d/, `services.${name}: tag ${tag} is not a version`);
    }
    assert.match(compose.services.prometheus.image ?? '', /prom\/prometheus:v3\.\d+\.\d+\}$/);
    assert.match(compose.services.loki.image ?? '', /grafana\/loki:3\.4\.6\}$/);
  });

  it('mounts config files read-only from existing paths under stack/ and data on declared named volumes', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const used = new Set<string>();
    for (const [name, service] of services) {
      assert.ok((service.volumes ?? []).length > 0, `services.${name} mounts nothing`);
      for (const volume of service.volumes ?? []) {
        const parts = volume.split(':');
        const source = parts[0];
        if (source.startsWith('.') || source.startsWith('/')) {
          assert.ok(source.startsWith('./'), `services.${name}: bind ${volume} must be relative to stack/`);
          assert.equal(parts.length, 3, `services.${name}: bind ${volume} must be source:target:ro`);
          assert.equal(parts[2], 'ro', `services.${name}: bind ${volume} must be read-only`);
          const resolved = path.resolve(stackDir, source);
          assert.ok(resolved.startsWith(stackDir + path.sep), `services.${name}: ${volume} leaves stack/`);
          assert.ok(existsSync(resolved), `services.${name}: bind source ${source} does not exist (${resolved})`);
        } else {
          assert.ok(declared.includes(source), `services.${name}: named volume ${source} is not declared`);
          used.add(source);
        }
      }
    }
    for (const name of ['prometheus', 'loki', 'grafana']) {
      assert.ok(
        (compose.services[name].volumes ?? []).some((v) => declared.includes(v.split(':')[0])),
        `${name} keeps its data on a named volume`,
      );
    }
    assert.deepEqual([...used].sort(), declared.sort(), 'every declared volume is used');
  });

  it('restarts unless stopped, limits memory, and checks health where the image can', () => {
    for (const [name, service] of services) {
      assert.equal(service.restart, 'unless-stopped', `services.${name}.restart`);
      assert.match(String(service.mem_limit ?? ''), /^\d+[kmg]$/i, `services.${name}.mem_limit`);
      if (name === 'otel-collector') {
        // FROM scratch: nothing to run a check with. The compose file must say so.
        assert.equal(service.healthcheck, undefined);
        assert.match(composeText, /FROM scratch/);
        continue;
      }
      const hc = service.healthcheck;
      assert.ok(hc, `services.${name} has no healthcheck`);
      const test = hc.test as string[];
      assert.ok(
        Array.isArray(test) && test[0] === 'CMD',
        `services.${name}.healthcheck.test: exec form (no shell needed)`,
      );
      assert.equal(test[1], 'wget', `services.${name}: the images carry busybox wget`);
      for (const key of ['interval', 'timeout', 'start_period']) {
        assert.match(String(hc[key]), /^\d+(ms|s|m)$/, `services.${name}.healthcheck.${key}`);
      }
      assert.ok(Number.isInteger(hc.retries) && (hc.retries as number) > 0);
    }
  });

  it('keeps CCT_RETENTION_DAYS for Prometheus (flag) and Loki (expanded env)', () => {
    assert.ok(
      compose.services.prometheus.command?.includes('--storage.tsdb.retention.time=${CCT_RETENTION_DAYS:-30}d'),
      'prometheus retention flag',
    );
    assert.ok(compose.services.prometheus.command?.includes('--config.file=/etc/prometheus/prometheus.yml'));
    assert.ok(
      compose.services.loki.command?.includes('-config.expand-env=true'),
      'Loki expands env only with this flag',
    );
    assert.equal(compose.services.loki.environment?.CCT_RETENTION_DAYS, '${CCT_RETENTION_DAYS:-30}');
    assert.match(readText('stack', 'loki', 'config.yaml'), /retention_period: \$\{CCT_RETENTION_DAYS:-30\}d/);
    assert.match(readText('stack', 'loki', 'config.yaml'), /retention_enabled: true/);
  });

  it('gives Grafana a required admin password, anonymous Viewer access only, no sign-up', () => {
    const env = compose.services.grafana.environment ?? {};
    assert.match(env.GF_SECURITY_ADMIN_PASSWORD ?? '', /^\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]+\}$/);
    assert.equal(env.GF_AUTH_ANONYMOUS_ENABLED, 'true');
    assert.equal(env.GF_AUTH_ANONYMOUS_ORG_ROLE, 'Viewer', 'anonymous users must never be Editor or Admin');
    assert.equal(env.GF_USERS_ALLOW_SIGN_UP, 'false');
    for (const [key, value] of Object.entries(env)) {
      if (/ROLE/.test(key)) assert.doesNotMatch(String(value), /admin|editor/i, `${key}=${value}`);
    }
    assert.ok(!('GF_AUTH_DISABLE_LOGIN_FORM' in env) || env.GF_AUTH_DISABLE_LOGIN_FORM === 'false');
  });

  it('documents every variable in stack/.env.example', () => {
    const example = readText('stack', '.env.example');
    const inCompose = new Set(interpolations(composeText).map((b) => b.split(/:[-?]/)[0]));
    for (const name of [...inCompose, ...contract.variables.keys()]) {
      assert.match(example, new RegExp(`^${name}=`, 'm'), `${name} missing from stack/.env.example`);
    }
  });
});

describe("stack/team/compose.yaml (the team's own host)", () => {
  const team = parse(readText('stack', 'team', 'compose.yaml'), { merge: true }) as Compose;
  const nodes = Object.entries(team.services).filter(([name]) => name.startsWith('cortex-'));

  it('is valid against the Compose specification schema', () => {
    assert.equal(composeSchemaErrors(team), undefined);
  });

  it("runs the gateway over the stack's collector config, three Cortex nodes of one config, and Loki", () => {
    assert.deepEqual(Object.keys(team.services).sort(), ['cortex-1', 'cortex-2', 'cortex-3', 'gateway', 'loki']);
    assert.deepEqual(team.services['gateway']!.command, [
      '--config=/etc/otelcol-contrib/config.yaml',
      '--config=/etc/otelcol-contrib/gateway.yaml',
    ]);
    // Each node its own name and data; every node joins the three.
    assert.deepEqual(
      nodes.map(([, s]) => s.environment?.['CORTEX_NODE']),
      ['cortex-1', 'cortex-2', 'cortex-3'],
    );
    for (const [name, s] of nodes) {
      assert.ok(s.volumes?.includes(`${name}:/data`), `${name} keeps its own data`);
      assert.equal(s.environment?.['CORTEX_JOIN'], 'cortex-1:7946, cortex-2:7946, cortex-3:7946');
    }
  });

  it('pins the images the tests build from their modules, and binds files that exist', () => {
    assert.match(team.services['gateway']!.image ?? '', /opentelemetry-collector-contrib:0\.161\.0\}$/);
    assert.match(compose.services['otel-collector']!.image ?? '', /opentelemetry-collector-contrib:0\.161\.0\}$/);
    for (const [, s] of nodes)
      assert.match(s.image ?? '', /^\$\{CCT_CORTEX_IMAGE:-quay\.io\/cortexproject\/cortex:v\d+\.\d+\.\d+\}$/);
    for (const [name, s] of Object.entries(team.services))
      for (const bind of (s.volumes ?? []).filter((v) => v.startsWith('./') || v.startsWith('../')))
        assert.ok(existsSync(path.join(stackDir, 'team', bind.split(':')[0]!)), `${name}: ${bind}`);
  });
});
