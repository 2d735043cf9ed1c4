import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { composeVariables, composeVariableSettings, DEFAULTS, readConfig, type SettingsSection } from '../../src/config';
import { repoRoot } from '../support/paths';

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { default: unknown }> } };
};
const properties = manifest.contributes.configuration.properties;

function section(values: Record<string, unknown>): SettingsSection {
  return { get: <T>(key: string) => values[key] as T | undefined };
}

/** package.json's defaults, as VS Code hands them to the extension when the user set nothing. */
const manifestDefaults = section(
  Object.fromEntries(Object.entries(properties).map(([key, value]) => [key.replace(/^claudeTelemetry\./, ''), value.default])),
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
    const reading = readConfig(section({ 'stack.ports.grafana': 70000, refreshIntervalSeconds: 'fast', 'terminal.enabled': 'yes' }));
    assert.equal(reading.config.ports.grafana, 3000);
    assert.equal(reading.config.refreshIntervalSeconds, 3);
    assert.equal(reading.config.terminal.enabled, true);
    assert.match(reading.problems.join('\n'), /claudeTelemetry\.stack\.ports\.grafana: 70000 is not a whole number from 1 to 65535; using 3000/);
    assert.match(reading.problems.join('\n'), /claudeTelemetry\.refreshIntervalSeconds: "fast"/);
    assert.match(reading.problems.join('\n'), /claudeTelemetry\.terminal\.enabled: "yes" is not true or false/);
  });

  it('reports two services on one port', () => {
    const reading = readConfig(section({ 'stack.ports.loki': 9090 }));
    assert.match(reading.problems.join('\n'), /claudeTelemetry\.stack\.ports\.loki and claudeTelemetry\.stack\.ports\.prometheus are both 9090/);
  });

  it('hands ports, retention and only the images the user set to the compose file', () => {
    const { config } = readConfig(section({ 'stack.ports.prometheus': 19090, 'stack.images.loki': 'mirror.local/loki:3.4.6' }));
    const variables = composeVariables(config);
    assert.equal(variables.CCT_PROMETHEUS_PORT, '19090');
    assert.equal(variables.CCT_LOKI_IMAGE, 'mirror.local/loki:3.4.6');
    assert.equal(variables.CCT_GRAFANA_IMAGE, undefined);
    assert.equal(variables.CCT_RETENTION_DAYS, '30');
  });

  it('names a contributed setting for every compose variable it fills', () => {
    const settings = composeVariableSettings();
    const { config } = readConfig(section({ 'stack.images.collector': 'a', 'stack.images.prometheus': 'b', 'stack.images.loki': 'c', 'stack.images.grafana': 'd' }));
    for (const variable of Object.keys(composeVariables(config))) {
      assert.ok(settings[variable] && settings[variable] in properties, `${variable} has no setting`);
    }
  });
});
