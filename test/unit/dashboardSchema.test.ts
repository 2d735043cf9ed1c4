// The provisioned dashboard checked against Grafana's own published types, since a real Grafana cannot run here
// (AGPL): the dashboard and its panels against @grafana/schema at the version stack/compose.yaml pins, each panel's
// options and field config against its plugin's types there, Loki queries against its LokiDataQuery, and Prometheus
// queries against the Grafana foundation SDK's (Grafana's schema package does not publish Prometheus' query type).
// The JSON goes into a TypeScript source as object literals, so the compiler's excess property checks catch a
// misspelt or unknown key, besides a wrong type, a missing required field or a value outside an enum.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readText } from '../support/paths';
import { typeErrors } from '../support/typeErrors';

interface Target {
  datasource?: { uid?: string };
  [key: string]: unknown;
}
interface Panel {
  type: string;
  title?: string;
  options?: unknown;
  fieldConfig?: { defaults?: { custom?: unknown } };
  targets?: Target[];
  panels?: Panel[];
}

const requireHere = createRequire(__filename);
const schemaRoot = path.dirname(requireHere.resolve('@grafana/schema/package.json'));
const schemaVersion = (requireHere('@grafana/schema/package.json') as { version: string }).version;
const composable = (plugin: string, kind: 'panelcfg' | 'dataquery'): string =>
  path.join(schemaRoot, 'dist', 'types', 'raw', 'composable', plugin, kind, 'x', 'types.gen').split(path.sep).join('/');

/** The panel types of the dashboard, each with its plugin's published option types (and field config, if any). */
const PANEL_TYPES: Record<string, { fieldConfig: boolean }> = {
  timeseries: { fieldConfig: true },
  stat: { fieldConfig: false },
  gauge: { fieldConfig: false },
  table: { fieldConfig: true },
  piechart: { fieldConfig: true },
  barchart: { fieldConfig: true },
  logs: { fieldConfig: false },
  bargauge: { fieldConfig: false },
  text: { fieldConfig: false },
};

/**
 * The TypeScript source that holds the dashboard as typed literals. `Json<T>` is a type as JSON spells it: an enum
 * member as its value (`"table"`, `1`), methods dropped.
 */
function typedSource(dashboard: { panels: Panel[] } & Record<string, unknown>): string {
  const lines = [
    "import type { Dashboard, Panel, RowPanel } from '@grafana/schema';",
    `import type { LokiDataQuery } from '${composable('loki', 'dataquery')}';`,
    "import type { Dataquery as PrometheusDataQuery } from '@grafana/grafana-foundation-sdk/prometheus';",
    ...Object.keys(PANEL_TYPES).map((type) => `import type * as ${type} from '${composable(type, 'panelcfg')}';`),
    'type Value<T> = T extends string ? `${T}` : T extends number ? (`${T}` extends `${infer N extends number}` ? N : number) : T;',
    'type Json<T> = T extends string | number | boolean ? Value<T> : T extends readonly (infer U)[] ? Json<U>[]',
    '  : T extends object ? { [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]: Json<T[K]> } : T;',
    // A plugin's options and field config: Grafana fills in what a dashboard leaves out with the plugin's defaults.
    'type Defaulted<T> = T extends string | number | boolean ? Value<T> : T extends readonly (infer U)[] ? Defaulted<U>[]',
    '  : T extends object ? { [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]?: Defaulted<T[K]> } : T;',
    "type FieldConfigSource = NonNullable<Panel['fieldConfig']>;",
    "type Plugin<O, F> = Omit<Json<Panel>, 'options' | 'fieldConfig' | 'targets'> & {",
    '  options?: Defaulted<O>;',
    "  fieldConfig?: Omit<Json<FieldConfigSource>, 'defaults'> & { defaults: Omit<Json<FieldConfigSource['defaults']>, 'custom'> & { custom?: Defaulted<F> } };",
    '  targets?: Array<Json<LokiDataQuery> | Json<PrometheusDataQuery>>;',
    '};',
  ];
  const rows: string[] = [];
  dashboard.panels.forEach((panel, i) => {
    const nested = panel.type === 'row' ? (panel.panels ?? []) : [panel];
    if (panel.type === 'row')
      rows.push(
        `const row${i}: Json<Omit<RowPanel, 'panels'>> & { panels: [] } = ${JSON.stringify({ ...panel, panels: [] }, null, 2)};`,
      );
    nested.forEach((p, j) => {
      const plugin = PANEL_TYPES[p.type];
      if (!plugin)
        throw new Error(
          `panel "${p.title}": no published option types are mapped for type "${p.type}" (add it to PANEL_TYPES)`,
        );
      const fieldConfig = plugin.fieldConfig ? `${p.type}.FieldConfig` : 'Record<string, never>';
      lines.push(`const panel${i}_${j}: Plugin<${p.type}.Options, ${fieldConfig}> = ${JSON.stringify(p, null, 2)};`);
      for (const [k, target] of (p.targets ?? []).entries()) {
        const type = target.datasource?.uid === 'loki' ? 'LokiDataQuery' : 'PrometheusDataQuery';
        lines.push(`const target${i}_${j}_${k}: Json<${type}> = ${JSON.stringify(target, null, 2)};`);
      }
    });
  });
  lines.push(...rows);
  const top = { ...dashboard, panels: [] };
  lines.push(
    `export const dashboard: Json<Omit<Dashboard, 'panels'>> & { panels: [] } = ${JSON.stringify(top, null, 2)};`,
  );
  return `${lines.join('\n')}\n`;
}

/** Where the typed dashboard compiles, as if it were a file there. */
const TYPED_FILE = ['test', 'stack', '__dashboard_typed__.ts'];

describe(`dashboard against Grafana's published types (@grafana/schema ${schemaVersion})`, () => {
  const dashboard = JSON.parse(readText('stack', 'grafana', 'dashboards', 'claude-code-telemetry.json')) as {
    panels: Panel[];
  } & Record<string, unknown>;

  it('is the schema of the Grafana stack/compose.yaml pins', () => {
    const pinned = /grafana\/grafana:([0-9.]+)\}/.exec(readText('stack', 'compose.yaml'))?.[1];
    assert.equal(schemaVersion, pinned);
  });

  it('every panel, its options and field config, and every query type-check', () => {
    const errors = typeErrors(typedSource(dashboard), ...TYPED_FILE);
    assert.deepEqual(errors, [], `\n${errors.join('\n\n')}`);
  });

  it('the check fails on what Grafana would not take: an unknown key, a wrong type, a value outside an enum', () => {
    // One fault a run: the compiler reports one error per object literal.
    const broken = (mutate: (d: typeof dashboard) => void): string => {
      const copy = structuredClone(dashboard);
      mutate(copy);
      return typeErrors(typedSource(copy), ...TYPED_FILE).join('\n');
    };
    const panels = (d: typeof dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
    assert.match(
      broken(
        (d) =>
          void ((panels(d).find((p) => p.type === 'stat') as unknown as Record<string, unknown>)['titel'] = 'misspelt'),
      ),
      /'"titel"' does not exist/,
    );
    assert.match(
      broken((d) => void ((d as Record<string, unknown>)['graphTooltip'] = 7)),
      /Type '7' is not assignable/,
    );
    assert.match(
      broken(
        (d) =>
          void ((panels(d).find((p) => p.type === 'timeseries') as unknown as Record<string, unknown>)['gridPos'] = {
            x: 0,
            y: 0,
            w: 'half',
          }),
      ),
      /gridPos|"half"/,
    );
    const target = (d: typeof dashboard): Target =>
      panels(d)
        .flatMap((p) => p.targets ?? [])
        .find((t) => t.datasource?.uid === 'prometheus')!;
    assert.match(
      broken((d) => void (target(d)['format'] = 'heatmapp')),
      /"heatmapp"' is not assignable/,
    );
  });
});
