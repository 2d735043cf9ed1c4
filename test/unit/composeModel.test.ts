import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  interpolate,
  loadComposeFile,
  parseByteSize,
  parseCompose,
  parseDuration,
  shellSplit,
  startOrder,
} from '../../src/stack/composeModel';
import { LABELS, serviceSpec } from '../../src/stack/containerSpec';
import { InvalidComposeError } from '../../src/stack/errors';
import { composeFixtureDir, composeFixtureFile, repoRoot } from '../support/paths';

const vars = { CCT_PROMETHEUS_PORT: '19191', CCT_RETENTION_DAYS: '7' };

function invalid(fn: () => unknown): InvalidComposeError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InvalidComposeError, `expected InvalidComposeError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an InvalidComposeError');
}

const fixtureText = fs.readFileSync(composeFixtureFile, 'utf8');

describe('compose model', () => {
  it('maps the fixture onto a typed model', () => {
    const m = loadComposeFile(composeFixtureFile, { variables: vars });
    assert.equal(m.name, 'cct-engine-fixture');
    assert.equal(m.dir, composeFixtureDir);
    assert.deepEqual(m.volumes, ['prometheus-data', 'loki-data']);
    const [prom, loki] = m.services;
    assert.ok(prom && loki);
    assert.equal(prom.image, 'prom/prometheus:v3.16.0');
    assert.deepEqual(prom.imageVariables, ['CCT_PROMETHEUS_IMAGE']);
    assert.deepEqual(prom.ports, [
      { hostIp: '127.0.0.1', hostPort: 19191, containerPort: 9090, protocol: 'tcp', variable: 'CCT_PROMETHEUS_PORT' },
    ]);
    assert.equal(loki.ports[0]?.hostPort, 13100); // the default
    assert.equal(loki.ports[0]?.variable, 'CCT_LOKI_PORT');
    assert.deepEqual(prom.command, [
      '--config.file=/etc/prometheus/prometheus.yml',
      '--storage.tsdb.path=/prometheus',
      '--storage.tsdb.retention.time=7d',
    ]);
    assert.deepEqual(loki.command, ['-config.file=/etc/loki/config.yaml', '-config.expand-env=true']);
    assert.deepEqual(loki.environment, { CCT_RETENTION_DAYS: '7', CCT_ROLE: 'fixture' });
    assert.deepEqual(prom.volumes, [
      {
        type: 'bind',
        source: path.join(composeFixtureDir, 'prometheus', 'prometheus.yml'),
        target: '/etc/prometheus/prometheus.yml',
        readOnly: true,
      },
      { type: 'volume', source: 'prometheus-data', target: '/prometheus', readOnly: false },
    ]);
    assert.deepEqual(loki.volumes, [
      { type: 'bind', source: path.join(composeFixtureDir, 'loki'), target: '/etc/loki', readOnly: true },
      { type: 'volume', source: 'loki-data', target: '/loki', readOnly: false },
    ]);
    assert.deepEqual(prom.healthcheck, {
      test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:9090/-/ready'],
      intervalNs: 1e9,
      timeoutNs: 2e9,
      retries: 30,
      startPeriodNs: 1e9,
    });
    assert.deepEqual(loki.healthcheck?.test, ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:3100/ready']);
    assert.deepEqual(prom.restart, { name: 'unless-stopped' });
    assert.deepEqual(loki.restart, { name: 'on-failure', maximumRetryCount: 3 });
    assert.equal(prom.memLimit, 256 * 1024 * 1024);
    assert.equal(loki.user, '65534:65534');
    assert.deepEqual(loki.dependsOn, [{ service: 'prometheus', condition: 'service_healthy' }]);
    assert.deepEqual(
      startOrder([...m.services].reverse()).map((s) => s.name),
      ['prometheus', 'loki'],
    );
  });

  it('interpolates ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, $$ and nesting', () => {
    const v = { A: 'a', EMPTY: '' };
    const ok = (s: string): string => {
      const r = interpolate(s, v);
      assert.ok(!('error' in r), JSON.stringify(r));
      return r.value;
    };
    assert.equal(ok('x${A}y'), 'xay');
    assert.equal(ok('$A/$$A'), 'a/$A');
    assert.equal(ok('${MISSING:-d}'), 'd');
    assert.equal(ok('${EMPTY:-d}'), 'd');
    assert.equal(ok('${EMPTY-d}'), '');
    assert.equal(ok('${MISSING:-${A}b}'), 'ab');
    assert.equal(ok('${A:+set}${MISSING:+no}'), 'set');
    assert.deepEqual(interpolate('${MISSING:?the password is generated on first start}', v), {
      error: 'variable MISSING is required: the password is generated on first start',
    });
    assert.deepEqual(interpolate('${MISSING}', v), { error: 'variable MISSING is not set' });
    const r = interpolate('127.0.0.1:${P:-9090}:9090', {});
    assert.ok(!('error' in r));
    assert.deepEqual(r.spans, [{ start: 10, end: 14, variable: 'P' }]);
  });

  it('small parsers: durations, sizes, shell words', () => {
    assert.equal(parseDuration('1m30s'), 90e9);
    assert.equal(parseDuration('500ms'), 5e8);
    assert.equal(parseDuration('10'), undefined);
    assert.equal(parseByteSize('512m'), 512 * 1024 ** 2);
    assert.equal(parseByteSize('1g'), 1024 ** 3);
    assert.equal(parseByteSize('256mb'), 256 * 1024 ** 2);
    assert.equal(parseByteSize('lots'), undefined);
    assert.deepEqual(shellSplit(`--config.file=/etc/p.yml --web.listen-address="0.0.0.0:9090" 'a b'`), [
      '--config.file=/etc/p.yml',
      '--web.listen-address=0.0.0.0:9090',
      'a b',
    ]);
  });

  it('an unmapped key is an error naming the key path, the file, line and column', () => {
    const text = fixtureText.replace('    mem_limit: 256m\n', '    mem_limit: 256m\n    networks: [other]\n');
    const e = invalid(() => parseCompose(text, composeFixtureFile, { variables: vars }));
    assert.equal(e.keyPath, 'services.prometheus.networks');
    const line = text.split('\n').findIndex((l) => l.includes('networks: [other]')) + 1;
    assert.equal(e.line, line);
    assert.equal(e.col, 5);
    assert.equal(
      e.message,
      `The stack file ${composeFixtureFile}:${line}:5 is invalid: services.prometheus.networks: the key "networks" is not one the ` +
        'extension maps onto the Engine API (allowed here: image, command, environment, ports, volumes, healthcheck, ' +
        'restart, mem_limit, depends_on, user). Fix or undo the edit (reinstalling the extension restores the original ' +
        'file), then start again.',
    );
  });

  it('unmapped keys at every level are errors (top level, healthcheck, depends_on, volumes)', () => {
    const cases: [string, string][] = [
      [fixtureText + 'networks:\n  default: {}\n', 'networks'],
      [
        fixtureText.replace('      start_period: 1s', '      start_period: 1s\n      start_interval: 1s'),
        'services.prometheus.healthcheck.start_interval',
      ],
      [
        fixtureText.replace(
          '        condition: service_healthy',
          '        condition: service_healthy\n        restart: true',
        ),
        'services.loki.depends_on.prometheus.restart',
      ],
      [fixtureText.replace('  loki-data:\n', '  loki-data:\n    driver: nfs\n'), 'volumes.loki-data'],
      [
        fixtureText.replace('        read_only: true', '        read_only: true\n        bind: {propagation: shared}'),
        'services.loki.volumes[0].bind',
      ],
      [
        fixtureText.replace('    user: "65534:65534"', '    user: "65534:65534"\n    entrypoint: [sh]'),
        'services.loki.entrypoint',
      ],
    ];
    for (const [text, keyPath] of cases) {
      const e = invalid(() => parseCompose(text, composeFixtureFile, { variables: vars }));
      assert.equal(e.keyPath, keyPath, e.message);
      assert.ok(e.message.includes(composeFixtureFile), e.message);
      assert.ok(e.line !== undefined && e.line > 0, e.message);
    }
  });

  it('a YAML syntax error gives line and column', () => {
    const text = fixtureText.replace('    restart: unless-stopped\n', '    restart: [unless-stopped\n');
    const e = invalid(() => parseCompose(text, composeFixtureFile, { variables: vars }));
    assert.ok(e.line !== undefined && e.col !== undefined, e.message);
    assert.match(e.message, /^The stack file .*compose\.yaml:\d+:\d+ is invalid: YAML error: /);
  });

  it('values the engine could not map are errors too', () => {
    const e1 = invalid(() =>
      parseCompose(fixtureText.replace('19090}:9090', '19090}:http'), composeFixtureFile, { variables: vars }),
    );
    assert.match(e1.message, /services\.prometheus\.ports\[0\]: container port "http"/);
    const e2 = invalid(() =>
      parseCompose(fixtureText.replace('loki-data:/loki', 'other-data:/loki'), composeFixtureFile, { variables: vars }),
    );
    assert.match(e2.message, /named volume "other-data" is not declared/);
    const e3 = invalid(() =>
      parseCompose(fixtureText.replace('./prometheus/prometheus.yml', '../../../../etc/passwd'), composeFixtureFile, {
        variables: vars,
      }),
    );
    assert.match(e3.message, /bind source "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" must be a file under/);
    const e4 = invalid(() =>
      parseCompose(fixtureText.replace('interval: 1s', 'interval: soon'), composeFixtureFile, { variables: vars }),
    );
    assert.match(e4.message, /"soon" is not a duration/);
    const e5 = invalid(() =>
      parseCompose(
        fixtureText.replace('    mem_limit: 256m\n', '    mem_limit: 256m\n    depends_on: [loki]\n'),
        composeFixtureFile,
        { variables: vars },
      ),
    );
    assert.match(e5.message, /depends_on has a cycle: (prometheus → loki → prometheus|loki → prometheus → loki)/);
    const e6 = invalid(() =>
      parseCompose(
        fixtureText.replace('${CCT_LOKI_PORT:-13100}', '${CCT_LOKI_PORT:?set the Loki port}'),
        composeFixtureFile,
        { variables: vars },
      ),
    );
    assert.match(e6.message, /services\.loki\.ports\[0\]: variable CCT_LOKI_PORT is required: set the Loki port/);
  });

  it('the config hash changes with the service config and with a mounted file, and only for that service', () => {
    const a = loadComposeFile(composeFixtureFile, { variables: vars });
    const b = parseCompose(fixtureText.replace('CCT_ROLE=fixture', 'CCT_ROLE=changed'), composeFixtureFile, {
      variables: vars,
    });
    const [pa, la] = a.services.map((s) => serviceSpec(a, s));
    const [pb, lb] = b.services.map((s) => serviceSpec(b, s));
    assert.equal(pa?.configHash, pb?.configHash);
    assert.notEqual(la?.configHash, lb?.configHash);
    const prom = a.services[0];
    assert.ok(prom);
    const withDigest = serviceSpec(a, prom, new Map([[prom.volumes[0]?.source as string, 'other']]));
    assert.notEqual(withDigest.configHash, pa?.configHash);
    // the create body carries Compose's labels, ports on 127.0.0.1, durations in ns, the alias
    const create = pa?.create;
    assert.equal(create?.name, 'cct-engine-fixture-prometheus-1');
    assert.equal(create?.Labels?.[LABELS.project], 'cct-engine-fixture');
    assert.equal(create?.Labels?.[LABELS.service], 'prometheus');
    assert.equal(create?.Labels?.[LABELS.oneoff], 'False');
    assert.equal(create?.Labels?.[LABELS.containerNumber], '1');
    assert.equal(create?.Labels?.[LABELS.configHash], pa?.configHash);
    assert.equal(create?.Labels?.[LABELS.configFiles], composeFixtureFile);
    assert.equal(create?.Labels?.[LABELS.workingDir], composeFixtureDir);
    assert.deepEqual(create?.HostConfig?.PortBindings, { '9090/tcp': [{ HostIp: '127.0.0.1', HostPort: '19191' }] });
    assert.deepEqual(create?.HostConfig?.RestartPolicy, { Name: 'unless-stopped' });
    assert.equal(create?.HostConfig?.Memory, 256 * 1024 * 1024);
    assert.equal(create?.Healthcheck?.Interval, 1e9);
    assert.equal(create?.Healthcheck?.StartPeriod, 1e9);
    assert.deepEqual(create?.NetworkingConfig?.EndpointsConfig?.['cct-engine-fixture_default']?.Aliases, [
      'prometheus',
    ]);
    assert.equal(lb?.create.Labels?.[LABELS.dependsOn], 'prometheus:service_healthy:false');
  });

  it('the real stack/compose.yaml loads with test images substituted', () => {
    const real = path.join(repoRoot, 'stack', 'compose.yaml');
    const m = loadComposeFile(real, {
      variables: {
        CCT_COLLECTOR_IMAGE: 'cct-test/collector:local',
        CCT_PROMETHEUS_IMAGE: 'cct-test/prometheus:local',
        CCT_LOKI_IMAGE: 'cct-test/loki:local',
        CCT_GRAFANA_IMAGE: 'cct-test/grafana:local',
        GRAFANA_ADMIN_PASSWORD: 'test-password',
      },
    });
    assert.ok(m.services.length >= 4, m.services.map((s) => s.name).join(','));
    for (const s of m.services) {
      assert.match(s.image, /^cct-test\//, `${s.name} takes its image from a CCT_*_IMAGE variable`);
      for (const p of s.ports) assert.equal(p.hostIp, '127.0.0.1', `${s.name} publishes on loopback only`);
      for (const v of s.volumes) {
        if (v.type === 'bind') {
          assert.ok(v.source.startsWith(path.join(repoRoot, 'stack')), v.source);
          assert.ok(fs.existsSync(v.source), `${v.source} exists`);
        }
      }
    }
    // without the generated password the file refuses to load, naming the variable
    const e = invalid(() => loadComposeFile(real, { variables: {} }));
    assert.match(e.message, /GRAFANA_ADMIN_PASSWORD/);
  });
});
