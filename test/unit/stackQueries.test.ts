// Every query of the stack parses, reads only metrics the collector produces (docs/architecture.md) or the
// recording rules, and reads Loki the way its OTLP ingestion stores events; the collector config is wired soundly;
// the dashboard points at provisioned datasources.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  assertLogQL,
  assertPromQL,
  logqlParserStages,
  logqlSelectorLabels,
  promqlMetricNames,
} from '../support/queryGrammar';
import { architecture } from '../support/architecture';
import { readText } from '../support/paths';
import { LOKI_SELECTOR } from '../../src/telemetry/queries';
import { COUNTERS, counterRules } from '../../src/telemetry/counters';
import { GRAFANA_DOUBLE_VERSION } from '../doubles/grafana';
import { LOKI_VERSION } from '../doubles/loki';

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
}
interface RuleFile {
  groups: { name: string; interval?: string; rules: Rule[] }[];
}
interface Target {
  datasource?: { uid?: string; type?: string };
  expr?: string;
  refId: string;
}
interface Panel {
  type: string;
  title: string;
  datasource?: { uid?: string; type?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: {
    list: { name: string; type: string; datasource?: { uid?: string }; query: unknown; definition?: string }[];
  };
}

const contract = architecture();
const recording = parse(readText('stack', 'prometheus', 'rules', 'recording.yml')) as RuleFile;
const alerts = parse(readText('stack', 'prometheus', 'rules', 'alerts.yml')) as RuleFile;
const dashboard = JSON.parse(readText('stack', 'grafana', 'dashboards', 'claude-code-telemetry.json')) as Dashboard;
const datasources = parse(readText('stack', 'grafana', 'provisioning', 'datasources', 'datasources.yaml')) as {
  datasources: { uid: string; type: string; url: string }[];
};
const collector = parse(readText('stack', 'collector', 'config.yaml')) as Record<string, Record<string, unknown>>;

const recordingRules = recording.groups.flatMap((g) => g.rules);
const alertRules = alerts.groups.flatMap((g) => g.rules);
const recordedNames = new Set(recordingRules.map((r) => r.record ?? ''));
const knownMetrics = new Set([...contract.rawMetrics.keys(), ...recordedNames]);

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}
const panels = allPanels(dashboard.panels);
const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, target: t })));
const promTargets = targets.filter(({ target }) => target.datasource?.uid === 'prometheus');
const lokiTargets = targets.filter(({ target }) => target.datasource?.uid === 'loki');

/** Metrics a label_values(metric, label) variable query reads. */
function variableMetric(query: string): string | undefined {
  return /^label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)$/.exec(query.trim())?.[1];
}

describe('queries', () => {
  it('reads the contract from docs/architecture.md', () => {
    assert.ok(contract.rawMetrics.size >= 11, [...contract.rawMetrics.keys()].join(', '));
    assert.equal(contract.rules.size, Object.keys(COUNTERS).length);
  });

  it('finds the queries to check', () => {
    assert.ok(recordingRules.length >= 20 && alertRules.length >= 5);
    assert.ok(promTargets.length >= 20, `only ${promTargets.length} PromQL targets`);
    assert.ok(lokiTargets.length >= 5, `only ${lokiTargets.length} LogQL targets`);
    assert.equal(promTargets.length + lokiTargets.length, targets.length, 'every target names its datasource uid');
  });

  it('every PromQL of the rules and the dashboard parses', () => {
    for (const rule of [...recordingRules, ...alertRules]) assertPromQL(rule.expr);
    for (const { panel, target } of promTargets) {
      assert.ok(target.expr, `${panel.title}/${target.refId}: no expr`);
      assertPromQL(target.expr);
    }
  });

  it('every LogQL of the dashboard parses', () => {
    for (const { panel, target } of lokiTargets) {
      assert.ok(target.expr, `${panel.title}/${target.refId}: no expr`);
      assertLogQL(target.expr);
    }
  });

  it('the grammar checks reject broken queries', () => {
    assert.throws(() => assertPromQL('sum(rate(claude_code_cost_usage_USD_total[5m]) by'), /PromQL syntax error at/);
    assert.throws(
      () => assertPromQL('sum_over_time(claude_code:cost_usd:increase10s{model=~"$model"}[$__range]'),
      /PromQL/,
    );
    assert.throws(() => assertLogQL('{service_name="claude-code"} | event_name='), /LogQL syntax error at/);
    assert.throws(() => assertLogQL('count_over_time({service_name="claude-code"})'), /LogQL/);
    assertPromQL('sum(sum_over_time(claude_code:cost_usd:increase10s{model=~"$model"}[$__range]))');
    assertLogQL('{service_name="claude-code"} | session_id=~"${session:regex}"');
  });

  it('every metric a query reads is one the collector produces or a recording rule', () => {
    const check = (where: string, expr: string) => {
      const names = promqlMetricNames(expr);
      assert.ok(names.length > 0, `${where}: selects no metric`);
      for (const name of names) assert.ok(knownMetrics.has(name), `${where}: unknown metric ${name}`);
    };
    for (const rule of [...recordingRules, ...alertRules]) check(rule.record ?? rule.alert ?? '?', rule.expr);
    for (const { panel, target } of promTargets) check(`${panel.title}/${target.refId}`, target.expr ?? '');
    for (const variable of dashboard.templating.list) {
      const query = variable.definition ?? (variable.query as { query?: string }).query ?? String(variable.query);
      const metric = variableMetric(query);
      assert.ok(metric, `variable ${variable.name}: ${query} is not label_values(metric, label)`);
      assert.ok(knownMetrics.has(metric), `variable ${variable.name}: unknown metric ${metric}`);
    }
  });

  it('never undercounts with increase()/rate() on per-session counters', () => {
    const exprs = [...alertRules.map((r) => r.expr), ...promTargets.map(({ target }) => target.expr ?? '')];
    for (const expr of exprs) {
      assert.doesNotMatch(
        expr,
        /\b(increase|rate|irate)\s*\(\s*claude_code_/,
        `reads a raw counter with increase/rate: ${expr}`,
      );
    }
  });

  it('defines the recording rules of docs/architecture.md: one increase rule per counter, every label kept, and its helper', () => {
    const group = recording.groups.find((g) => g.rules.some((r) => r.record?.endsWith(':increase10s')));
    assert.equal(group?.interval, '10s', 'the rules assume 10s between evaluations');
    assert.deepEqual(
      [...contract.rules].sort(),
      Object.values(COUNTERS)
        .map((c) => [c.rule, c.metric])
        .sort(),
      "docs/architecture.md lists every counter's rule",
    );
    for (const c of Object.values(COUNTERS)) {
      assert.ok(contract.rawMetrics.has(c.metric), `${c.metric} is not in docs/architecture.md's metrics`);
      for (const expected of counterRules(c)) {
        const rule = recordingRules.find((r) => r.record === expected.record);
        assert.equal(rule?.expr, expected.expr, expected.record);
        // No aggregation: the rule keeps every label of the raw series, so any label is a dimension of a query.
        assert.doesNotMatch(rule!.expr, /\b(sum|count|avg|max|min|topk)\b/, expected.record);
      }
      // Every increase rule counts first values and resets (`or N`) of the value its helper wrote in this evaluation
      // (N, never the counter read a second time) against the value seen last (offset 10s). `> 0`: only non-zero
      // increases are written.
      const now = `last_over_time(${c.lastValue}[10s])`.replace(/[[\]()]/g, '\\$&');
      assert.match(
        recordingRules.find((r) => r.record === c.rule)!.expr,
        new RegExp(`^\\(\\(${now} - .*\\) >= 0 or ${now}\\) > 0$`),
        c.rule,
      );
    }
    assert.equal(recordingRules.length, 2 * Object.keys(COUNTERS).length, 'nothing but the rules and their helpers');
  });

  it('queries Loki by its one index label and structured metadata, never with a parser stage', () => {
    for (const { panel, target } of lokiTargets) {
      const expr = target.expr ?? '';
      assert.deepEqual(logqlSelectorLabels(expr), ['service_name'], `${panel.title}: selector labels`);
      assert.ok(expr.includes(LOKI_SELECTOR), `${panel.title}: Claude Code's services, the desktop app's too`);
      assert.deepEqual(logqlParserStages(expr), [], `${panel.title}: parses the log line: ${expr}`);
    }
    // The checks themselves see what they must.
    assert.deepEqual(logqlSelectorLabels('{service_name="claude-code", event_name="tool_result"}').sort(), [
      'event_name',
      'service_name',
    ]);
    assert.deepEqual(logqlParserStages('{service_name="claude-code"} | json | success="false"'), ['json']);
  });

  it('the dashboard has its uid, rows and variables, and uses provisioned datasources by uid', () => {
    assert.equal(dashboard.uid, 'claude-code-telemetry');
    const uids = new Set(datasources.datasources.map((d) => d.uid));
    assert.deepEqual([...uids].sort(), ['loki', 'prometheus']);
    const byUid = new Map(datasources.datasources.map((d) => [d.uid, d]));
    assert.equal(byUid.get('prometheus')?.url, 'http://prometheus:9090');
    assert.equal(byUid.get('loki')?.url, 'http://loki:3100');
    assert.equal(byUid.get('prometheus')?.type, 'prometheus');
    assert.equal(byUid.get('loki')?.type, 'loki');

    const rows = panels.filter((p) => p.type === 'row').map((p) => p.title);
    assert.deepEqual(rows, [
      'Executive summary',
      'Cost & tokens',
      'Tool execution',
      'Errors',
      'Productivity',
      'Sessions',
      'Subagents, skills and MCP servers',
    ]);
    assert.deepEqual(
      dashboard.templating.list.map((v) => v.name),
      ['session', 'model', 'tool', 'project', 'repository'],
    );
    for (const variable of dashboard.templating.list) {
      assert.ok(
        uids.has(variable.datasource?.uid ?? ''),
        `variable ${variable.name}: datasource ${variable.datasource?.uid}`,
      );
    }
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      assert.ok(
        uids.has(panel.datasource?.uid ?? ''),
        `${panel.title}: datasource ${JSON.stringify(panel.datasource)}`,
      );
      for (const target of panel.targets ?? []) {
        assert.ok(uids.has(target.datasource?.uid ?? ''), `${panel.title}/${target.refId}: datasource uid`);
        assert.equal(
          target.datasource?.type,
          byUid.get(target.datasource?.uid ?? '')?.type,
          `${panel.title}/${target.refId}: type`,
        );
      }
    }
    assert.ok(!JSON.stringify(dashboard).includes('${DS_'), 'no import-time datasource placeholders');
  });

  it('states the versions stack/compose.yaml pins: the Prometheus datasource, and the Loki and Grafana doubles', () => {
    const compose = readText('stack', 'compose.yaml');
    const pinned = (image: string): string => {
      const m = new RegExp(`:-${image}:v?([0-9]+\\.[0-9]+\\.[0-9]+)\\}`).exec(compose);
      assert.ok(m, `no ${image} pin in stack/compose.yaml`);
      return m[1];
    };
    const prometheus = datasources.datasources.find((d) => d.uid === 'prometheus') as {
      jsonData?: { prometheusVersion?: string };
    };
    assert.equal(prometheus.jsonData?.prometheusVersion, pinned('prom/prometheus'));
    assert.equal(LOKI_VERSION, pinned('grafana/loki'));
    assert.equal(GRAFANA_DOUBLE_VERSION, pinned('grafana/grafana'));
  });
});

describe('collector config', () => {
  const pipelines = (collector.service.pipelines ?? {}) as Record<
    string,
    { receivers?: string[]; processors?: string[]; exporters?: string[] }
  >;
  const defined = (section: string) => new Set(Object.keys(collector[section] ?? {}));
  const receivers = defined('receivers');
  const processors = defined('processors');
  const exporters = defined('exporters');
  const connectors = defined('connectors');
  const extensions = defined('extensions');
  const signal = (pipeline: string) => pipeline.split('/')[0];

  it('defines every component a pipeline uses, and uses every component it defines', () => {
    const used = new Set<string>();
    for (const [name, p] of Object.entries(pipelines)) {
      assert.ok(['metrics', 'logs', 'traces'].includes(signal(name)), name);
      assert.ok((p.receivers ?? []).length > 0 && (p.exporters ?? []).length > 0, `${name}: receivers and exporters`);
      for (const r of p.receivers ?? [])
        assert.ok(receivers.has(r) || connectors.has(r), `${name}: receiver ${r} undefined`);
      for (const x of p.processors ?? []) assert.ok(processors.has(x), `${name}: processor ${x} undefined`);
      for (const e of p.exporters ?? [])
        assert.ok(exporters.has(e) || connectors.has(e), `${name}: exporter ${e} undefined`);
      [...(p.receivers ?? []), ...(p.processors ?? []), ...(p.exporters ?? [])].forEach((c) => used.add(c));
    }
    for (const c of [...receivers, ...processors, ...exporters, ...connectors])
      assert.ok(used.has(c), `${c} is defined but unused`);
    const enabled = (collector.service.extensions ?? []) as string[];
    for (const e of enabled) assert.ok(extensions.has(e), `extension ${e} undefined`);
    for (const e of extensions) assert.ok(enabled.includes(e), `extension ${e} defined but not enabled`);
  });

  it('uses each connector as an exporter in one pipeline and a receiver in another (count: logs -> metrics)', () => {
    for (const c of connectors) {
      const as = (role: 'receivers' | 'exporters') =>
        Object.entries(pipelines)
          .filter(([, p]) => (p[role] ?? []).includes(c))
          .map(([n]) => n);
      const from = as('exporters');
      const into = as('receivers');
      assert.ok(from.length > 0 && into.length > 0, `connector ${c}: exporter in ${from}, receiver in ${into}`);
      for (const f of from) assert.ok(!into.includes(f), `connector ${c} loops in ${f}`);
      if (c.split('/')[0] === 'count') {
        assert.ok(
          from.every((p) => signal(p) === 'logs'),
          `count counts logs: ${from}`,
        );
        assert.ok(
          into.every((p) => signal(p) === 'metrics'),
          `count emits metrics: ${into}`,
        );
      }
    }
  });

  it("makes deltas cumulative before the prometheus exporter, for Claude Code's and the count connector's sums", () => {
    const into = Object.entries(pipelines).filter(([, p]) => (p.exporters ?? []).includes('prometheus'));
    assert.equal(into.length, 1);
    const [, metrics] = into[0];
    const order = metrics.processors ?? [];
    assert.equal(order[0], 'memory_limiter', 'memory_limiter first');
    assert.ok(order.includes('delta_to_cumulative'), 'delta_to_cumulative');
    assert.ok(order.indexOf('delta_to_cumulative') < order.indexOf('batch'));
    assert.ok(metrics.receivers?.includes('otlp') && metrics.receivers.includes('count'));
    const logs = Object.values(pipelines).find((p) => (p.exporters ?? []).includes('count'));
    assert.equal(logs?.processors?.[0], 'memory_limiter');
  });

  it("keeps idle totals: max_stale <= metric_expiration < the recording rules' look-back", () => {
    const hours = (d: string) => {
      const m = /^(\d+)(h|d)$/.exec(d);
      assert.ok(m, `duration ${d}`);
      return Number(m[1]) * (m[2] === 'd' ? 24 : 1);
    };
    const dtc = collector.processors.delta_to_cumulative as { max_stale: string };
    const prom = collector.exporters.prometheus as { metric_expiration: string; namespace?: string; endpoint: string };
    assert.ok(hours(dtc.max_stale) >= 24, 'max_stale raised to a day or more');
    assert.ok(hours(dtc.max_stale) <= hours(prom.metric_expiration));
    const lookbacks = [
      ...readText('stack', 'prometheus', 'rules', 'recording.yml').matchAll(/:last_value\[(\d+[hd])\]/g),
    ].map((m) => hours(m[1]));
    assert.ok(lookbacks.length >= 20);
    for (const l of lookbacks)
      assert.ok(l > hours(prom.metric_expiration), `look-back ${l}h must exceed metric_expiration`);
    assert.equal(prom.namespace, undefined, 'no namespace: Claude Code already prefixes claude_code');
    assert.equal(prom.endpoint, '0.0.0.0:8889');
    assert.match(readText('stack', 'prometheus', 'prometheus.yml'), /otel-collector:8889/);
  });

  it('counts events into exactly the metric names and labels of docs/architecture.md', () => {
    const count = collector.connectors.count as {
      logs: Record<string, { conditions: string[]; attributes: { key: string; default_value?: string }[] }>;
    };
    const produced = new Map<string, string[]>();
    for (const [name, def] of Object.entries(count.logs)) {
      // The exporter: dots to underscores, no unit (the connector sets none), `_total` for a monotonic sum.
      const prom = `${name.replace(/\./g, '_')}_total`;
      produced.set(
        prom,
        def.attributes.map((a) => a.key.replace(/\./g, '_')),
      );
      // One event name per condition, or (what went wrong) several, some of them only with attributes' values (the
      // exact conditions: problems.test.ts).
      assert.ok(def.conditions.length >= 1);
      for (const condition of def.conditions)
        assert.match(condition, /^log\.attributes\["event\.name"\] == "[a-z_]+"( and .+)?$/);
    }
    const expected = [...contract.rawMetrics].filter(([n]) =>
      /_(tool_results|api_requests|api_errors|problems)_total$/.test(n),
    );
    assert.equal(expected.length, 4);
    assert.deepEqual([...produced.keys()].sort(), expected.map(([n]) => n).sort());
    for (const [name, labels] of expected) {
      assert.deepEqual(produced.get(name)?.sort(), [...labels, 'session_id', 'user_email'].sort(), `${name} labels`);
    }
  });

  it("sends logs to Loki's OTLP endpoint with retries and a persistent queue", () => {
    const loki = collector.exporters['otlp_http/loki'] as {
      endpoint: string;
      retry_on_failure: { enabled: boolean };
      sending_queue: { enabled: boolean; storage?: string };
    };
    assert.equal(loki.endpoint, 'http://loki:3100/otlp');
    assert.equal(loki.retry_on_failure.enabled, true);
    assert.equal(loki.sending_queue.enabled, true);
    assert.ok(loki.sending_queue.storage && extensions.has(loki.sending_queue.storage), 'queue storage extension');
    const storage = collector.extensions[loki.sending_queue.storage] as { directory: string };
    const compose = readText('stack', 'compose.yaml');
    assert.ok(compose.includes(`:${storage.directory}\n`), `the queue directory ${storage.directory} is a volume`);
  });
});
