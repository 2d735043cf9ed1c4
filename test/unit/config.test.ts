import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  composeVariables,
  composeVariableSettings,
  DEFAULTS,
  problemSetting,
  readConfig,
  settingsTab,
  type SettingsSection,
} from '../../src/config';
import { repoRoot } from '../support/paths';

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
  contributes: { configuration: { properties: Record<string, { default: unknown; scope?: string }> } };
};
const properties = manifest.contributes.configuration.properties;

function section(values: Record<string, unknown>): SettingsSection {
  return { get: <T>(key: string) => values[key] as T | undefined };
}

/** The scopes of the settings VS Code takes from the (local) User settings of a remote window, such as code-server's:
 * the workbench's LOCAL_MACHINE_SCOPES (code-server 4.139.1's workbench.js: `[1,4,5,6]`, ConfigurationScope
 * APPLICATION, WINDOW, RESOURCE, LANGUAGE_OVERRIDABLE). `machine` and `machine-overridable` values there are dropped
 * (the fault suite's case 6b saw it through the UI): they count only in the Remote and Workspace settings. */
const REMOTE_WINDOW_USER_SCOPES = new Set(['application', 'window', 'resource', 'language-overridable']);

/** User settings as a remote window hands them to the extension after a change. */
function remoteWindowUserSettings(values: Record<string, unknown>): SettingsSection {
  return section(
    Object.fromEntries(
      Object.entries(values).filter(([key]) =>
        REMOTE_WINDOW_USER_SCOPES.has(properties[`claudeTelemetry.${key}`]?.scope ?? 'window'),
      ),
    ),
  );
}

const STACK_SETTINGS = Object.keys(properties).filter((key) => /^claudeTelemetry\.(stack|docker)\./.test(key));

/** package.json's defaults, as VS Code hands them to the extension when the user set nothing. */
const manifestDefaults = section(
  Object.fromEntries(
    Object.entries(properties).map(([key, value]) => [key.replace(/^claudeTelemetry\./, ''), value.default]),
  ),
);

describe('settings', () => {
  it('read with package.json defaults gives the code defaults, with no problem', () => {
    const reading = readConfig(manifestDefaults);
    assert.deepEqual(reading.problems, []);
    assert.deepEqual(reading.config, DEFAULTS);
  });

  it('every setting the code reads is contributed in package.json', () => {
    const read = new Set<string>();
    readConfig({
      get: (key) => {
        read.add(`claudeTelemetry.${key}`);
        return undefined;
      },
    });
    assert.deepEqual([...read].sort(), Object.keys(properties).sort());
  });

  it('reports an invalid value by setting name and falls back to the default', () => {
    const reading = readConfig(
      section({ 'stack.ports.grafana': 70000, refreshIntervalSeconds: 'fast', 'terminal.enabled': 'yes' }),
    );
    assert.equal(reading.config.ports.grafana, 3000);
    assert.equal(reading.config.refreshIntervalSeconds, 3);
    assert.equal(reading.config.terminal.enabled, true);
    assert.match(
      reading.problems.join('\n'),
      /claudeTelemetry\.stack\.ports\.grafana: 70000 is not a whole number from 1 to 65535; using 3000/,
    );
    assert.match(reading.problems.join('\n'), /claudeTelemetry\.refreshIntervalSeconds: "fast"/);
    assert.match(reading.problems.join('\n'), /claudeTelemetry\.terminal\.enabled: "yes" is not true or false/);
  });

  it('reports two services on one port', () => {
    const reading = readConfig(section({ 'stack.ports.loki': 9090 }));
    assert.match(
      reading.problems.join('\n'),
      /claudeTelemetry\.stack\.ports\.loki and claudeTelemetry\.stack\.ports\.prometheus are both 9090/,
    );
  });

  it('hands ports, retention and only the images the user set to the compose file', () => {
    const { config } = readConfig(
      section({ 'stack.ports.prometheus': 19090, 'stack.images.loki': 'mirror.local/loki:3.4.6' }),
    );
    const variables = composeVariables(config);
    assert.equal(variables.CCT_PROMETHEUS_PORT, '19090');
    assert.equal(variables.CCT_LOKI_IMAGE, 'mirror.local/loki:3.4.6');
    assert.equal(variables.CCT_GRAFANA_IMAGE, undefined);
    assert.equal(variables.CCT_RETENTION_DAYS, '30');
  });

  it('names a contributed setting for every compose variable it fills', () => {
    const settings = composeVariableSettings();
    const { config } = readConfig(
      section({
        'stack.images.collector': 'a',
        'stack.images.prometheus': 'b',
        'stack.images.loki': 'c',
        'stack.images.grafana': 'd',
      }),
    );
    for (const variable of Object.keys(composeVariables(config))) {
      assert.ok(settings[variable] && settings[variable] in properties, `${variable} has no setting`);
    }
  });

  it('reads every stack setting a remote window’s User settings hold, after a change as on the first read', () => {
    const user = {
      'docker.host': 'unix:///run/user/1000/docker.sock',
      'stack.ports.otlpGrpc': 14317,
      'stack.ports.otlpHttp': 14318,
      'stack.ports.collectorMetrics': 18888,
      'stack.ports.prometheus': 9091,
      'stack.ports.loki': 13100,
      'stack.ports.grafana': 13000,
      'stack.images.collector': 'mirror.local/otelcol-contrib:0.161.0',
      'stack.images.prometheus': 'mirror.local/prometheus:v3.16.0',
      'stack.images.loki': 'mirror.local/loki:3.4.6',
      'stack.images.grafana': 'mirror.local/grafana:12.4.0',
      'stack.retentionDays': 7,
      refreshIntervalSeconds: 5,
    };
    assert.deepEqual(
      Object.keys(user)
        .filter((key) => /^(stack|docker)\./.test(key))
        .map((key) => `claudeTelemetry.${key}`)
        .sort(),
      STACK_SETTINGS.sort(),
    );
    const firstRead = readConfig(section(user));
    const afterChange = readConfig(remoteWindowUserSettings(user));
    assert.deepEqual(afterChange, firstRead);
    assert.deepEqual(afterChange.problems, []);
    const { config } = afterChange;
    assert.equal(config.dockerHost, 'unix:///run/user/1000/docker.sock');
    assert.deepEqual(config.ports, {
      otlpGrpc: 14317,
      otlpHttp: 14318,
      collectorMetrics: 18888,
      prometheus: 9091,
      loki: 13100,
      grafana: 13000,
    });
    assert.equal(config.retentionDays, 7);
    assert.deepEqual(composeVariables(config), {
      CCT_RETENTION_DAYS: '7',
      CCT_OTLP_GRPC_PORT: '14317',
      CCT_OTLP_HTTP_PORT: '14318',
      CCT_COLLECTOR_METRICS_PORT: '18888',
      CCT_PROMETHEUS_PORT: '9091',
      CCT_LOKI_PORT: '13100',
      CCT_GRAFANA_PORT: '13000',
      CCT_COLLECTOR_IMAGE: 'mirror.local/otelcol-contrib:0.161.0',
      CCT_PROMETHEUS_IMAGE: 'mirror.local/prometheus:v3.16.0',
      CCT_LOKI_IMAGE: 'mirror.local/loki:3.4.6',
      CCT_GRAFANA_IMAGE: 'mirror.local/grafana:12.4.0',
    });
  });

  it('warns of an invalid stack value set in a remote window’s User settings, naming the setting to open', () => {
    for (const [key, value, problem] of [
      [
        'stack.ports.prometheus',
        'abc',
        'claudeTelemetry.stack.ports.prometheus: "abc" is not a whole number from 1 to 65535; using 9090.',
      ],
      [
        'stack.ports.prometheus',
        0,
        'claudeTelemetry.stack.ports.prometheus: 0 is not a whole number from 1 to 65535; using 9090.',
      ],
      [
        'stack.retentionDays',
        -1,
        'claudeTelemetry.stack.retentionDays: -1 is not a whole number from 1 to 3650; using 30.',
      ],
      ['stack.images.loki', 42, 'claudeTelemetry.stack.images.loki: 42 is not text; using "".'],
    ] as const) {
      const { problems } = readConfig(remoteWindowUserSettings({ [key]: value }));
      assert.deepEqual(problems, [problem]);
      assert.equal(problemSetting(problem), `claudeTelemetry.${key}`);
    }
    const [both] = readConfig(section({ 'stack.ports.loki': 9090 })).problems;
    assert.equal(problemSetting(both ?? ''), 'claudeTelemetry.stack.ports.loki');
  });

  it('the stack settings count in User, Remote and Workspace settings, the engine and the images not in Restricted Mode', () => {
    for (const key of STACK_SETTINGS) assert.equal(properties[key]?.scope, 'window', key);
    const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
    for (const key of STACK_SETTINGS.filter((k) => /docker\.host|stack\.images\./.test(k)))
      assert.ok(restricted.includes(key), `${key} is not restricted`);
  });

  it('opens the Settings UI on the tab of the value in effect', () => {
    assert.equal(settingsTab({ globalValue: 1, workspaceValue: 2 }, false), 'workspace');
    assert.equal(settingsTab({ globalValue: 1, globalRemoteValue: 1, workspaceValue: 2 }, true), 'workspace');
    assert.equal(settingsTab({ globalValue: 1, globalRemoteValue: 1 }, true), 'remote');
    // In a remote window the merged user value without a remote one is the local User settings'.
    assert.equal(settingsTab({ globalValue: 1 }, true), 'user');
    assert.equal(settingsTab({ globalValue: 1 }, false), 'user');
    // Set nowhere: where the stack runs.
    assert.equal(settingsTab({}, true), 'remote');
    assert.equal(settingsTab(undefined, false), 'user');
  });
});
