// Every panel of the Grafana dashboard (stack/grafana/dashboards/claude-code-telemetry.json) answers at 1 h, 24 h,
// 7 d, 30 d and at the longest retention the settings allow (claudeTelemetry.stack.retentionDays' maximum, 3650 d):
// each target, and each template variable's query, sent as Grafana 12.4 sends it (test/support/grafanaQueries.ts
// says from which of Grafana's sources) to
//   - the REAL Prometheus (test/support/promServer.ts), retention at that maximum, with the stack's
//     recording rules loaded and a three-hour history of the collector's shape that ends a minute before the test
//     starts, the rules' output computed with it (test/support/sim.ts);
//   - the Loki TEST DOUBLE (test/doubles/loki.ts) holding the real CLI's events (../shared/fixtures/claude-code-2.1.328)
//     moved to just before now, each with its session as stream, as the collector's transform/session_stream sends them.
// Grafana itself (AGPL) is not built here: this test plays its part. A target the test cannot classify or send, and
// any answer that is not a success, fails with the panel, the range, the request as sent and the answer; a query the
// Loki double cannot answer fails saying that the double is what falls short. No target is skipped.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { components } from '../support/components';
import {
  dashboardPanels,
  describeRequest,
  lokiPlan,
  prometheusRequests,
  prometheusVariableRequest,
  savedSelection,
  type Dashboard,
  type DashboardPanel,
  type DashboardTarget,
  type HttpRequestSpec,
  type LokiSettings,
  type PlacedPanel,
  type PrometheusSettings,
  type TimeRange,
  type VariableValue,
} from '../support/grafanaQueries';
import { lokiLimitsFromConfig, startLokiDouble, type LokiDouble } from '../doubles/loki';
import { CLAUDE_CODE_FIXTURES, fixtureRequests } from '../doubles/fixtures';
import type { LogsRequest } from '../doubles/common';
import { startLoadedPrometheus, type PrometheusInstance } from '../support/promServer';
import { simulate, type SimOptions, type SimResult } from '../support/sim';
import { readText } from '../support/paths';

const dashboard = JSON.parse(readText('stack', 'grafana', 'dashboards', 'claude-code-telemetry.json')) as Dashboard;
const provisioned = parse(readText('stack', 'grafana', 'provisioning', 'datasources', 'datasources.yaml')) as {
  datasources: Array<{ uid: string; type: string; jsonData?: Record<string, unknown> }>;
};
const datasourceByUid = new Map(provisioned.datasources.map((d) => [d.uid, d]));
const promJson = datasourceByUid.get('prometheus')?.jsonData ?? {};
const lokiJson = datasourceByUid.get('loki')?.jsonData ?? {};
const PROMETHEUS: PrometheusSettings = {
  timeInterval: typeof promJson['timeInterval'] === 'string' ? promJson['timeInterval'] : undefined,
  httpMethod: promJson['httpMethod'] === 'GET' ? 'GET' : 'POST',
};
const LOKI: LokiSettings = { maxLines: Number(lokiJson['maxLines'] ?? 1000) };

/** claudeTelemetry.stack.retentionDays' maximum, from package.json (the longest range the stack can hold). */
const MAX_RETENTION_DAYS = ((): number => {
  const find = (node: unknown): number | undefined => {
    if (!node || typeof node !== 'object') return undefined;
    const setting = (node as Record<string, unknown>)['claudeTelemetry.stack.retentionDays'] as
      { maximum?: number } | undefined;
    if (setting?.maximum) return setting.maximum;
    for (const child of Object.values(node)) {
      const found = find(child);
      if (found) return found;
    }
    return undefined;
  };
  const max = find(JSON.parse(readText('package.json')));
  if (!max) throw new Error('package.json has no maximum for claudeTelemetry.stack.retentionDays');
  return max;
})();

const RANGES: Array<{ label: string; ms: number }> = [
  { label: '1h', ms: 3600e3 },
  { label: '24h', ms: 86400e3 },
  { label: '7d', ms: 7 * 86400e3 },
  { label: '30d', ms: 30 * 86400e3 },
  { label: `${MAX_RETENTION_DAYS}d`, ms: MAX_RETENTION_DAYS * 86400e3 },
];

/** Panels without a query by design. */
const QUERYLESS_TYPES = new Set(['row', 'text', 'news', 'dashlist', 'welcome']);

/**
 * Panels that have no data in this test's history, and why: the data test requires every other panel to answer
 * with data at 24 h, and these to answer empty (so that the list stays true).
 */
const NO_DATA_HERE: Record<string, string> = {
  'Pull requests': 'the simulated sessions open no pull request',
  'Cost by skill': 'no simulated cost point carries skill_name',
  'Cost by MCP server': 'no simulated cost point carries mcp_server_name',
  'Cost by plugin': 'no simulated cost point carries plugin_name',
  'Subagent runs': 'the captured CLI events hold no subagent_completed event',
};

type Backend = 'prometheus' | 'loki';

interface Outcome {
  range: string;
  section: string;
  panel: string;
  refId: string;
  backend: Backend;
  /** Requests sent for this target (a Loki range query is split in chunks). */
  sent: number;
  /** Series (or, for logs, streams) that came back with at least one value. */
  rows: number;
  failure?: string;
}

interface Answer {
  status: number;
  body: string;
  json?: { status?: string; data?: unknown; warnings?: string[] };
}

function backendOf(panel: DashboardPanel, target: DashboardTarget): Backend | undefined {
  const uid = target.datasource?.uid ?? panel.datasource?.uid;
  const type = (uid ? datasourceByUid.get(uid)?.type : undefined) ?? target.datasource?.type ?? panel.datasource?.type;
  return type === 'prometheus' || type === 'loki' ? type : undefined;
}

async function send(base: string, r: HttpRequestSpec): Promise<Answer> {
  const query = new URLSearchParams(r.params).toString();
  const headers: Record<string, string> = { ...r.headers };
  let url = `${base}${r.path}`;
  let body: string | undefined;
  if (r.method === 'POST') {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = query;
  } else url += `?${query}`;
  const res = await fetch(url, { method: r.method, headers, body, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  let json: Answer['json'];
  try {
    json = JSON.parse(text) as Answer['json'];
  } catch {
    json = undefined;
  }
  return { status: res.status, body: text, json };
}

/** Why an answer is not a success, or undefined. */
function problem(a: Answer): string | undefined {
  if (a.status === 200 && a.json?.status === 'success') return undefined;
  return `${a.status} ${a.body.length > 1500 ? `${a.body.slice(0, 1500)}…` : a.body}`.trim();
}

/** Series (or streams) of a Prometheus or Loki data answer with at least one value, and the log lines. */
function countRows(a: Answer): { keys: string[]; lines: number } {
  const data = a.json?.data as { resultType?: string; result?: unknown[] } | unknown[] | undefined;
  if (Array.isArray(data)) return { keys: data.map(String), lines: 0 };
  const result = (data?.result ?? []) as Array<{
    metric?: unknown;
    stream?: unknown;
    values?: unknown[];
    value?: unknown;
  }>;
  const keys: string[] = [];
  let lines = 0;
  for (const r of result) {
    if (r.value !== undefined || (r.values?.length ?? 0) > 0) keys.push(JSON.stringify(r.metric ?? r.stream ?? {}));
    if (data?.resultType === 'streams') lines += r.values?.length ?? 0;
  }
  if (data?.resultType === 'scalar' || data?.resultType === 'string') keys.push(data.resultType);
  return { keys, lines };
}

/** Runs `work` over `items`, `width` at a time; stops taking new items once `stop()` says so. */
async function pool<T>(
  items: T[],
  width: number,
  work: (item: T, index: number) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length && !stop()) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

function failureText(
  o: { range: string; section: string; panel: string; refId: string; backend: Backend },
  sent: string,
  answer: string,
  note = '',
): string {
  return [
    `[${o.range}] ${o.section} › ${o.panel} › ${o.refId} (${o.backend})`,
    `    sent:   ${sent}`,
    `    answer: ${answer.replace(/\n/g, '\n            ')}`,
    ...(note ? [`    ${note}`] : []),
  ].join('\n');
}

/** Shifts every record of an OTLP logs request by `shiftNs` and sets the session as service.instance.id. */
function asCollectorSendsIt(req: LogsRequest, shiftNs: bigint): LogsRequest {
  for (const rl of req.resourceLogs ?? []) {
    let session: string | undefined;
    for (const sl of rl.scopeLogs ?? []) {
      for (const rec of sl.logRecords ?? []) {
        if (rec.timeUnixNano !== undefined && BigInt(rec.timeUnixNano) !== 0n)
          rec.timeUnixNano = String(BigInt(rec.timeUnixNano) + shiftNs);
        if (rec.observedTimeUnixNano !== undefined && BigInt(rec.observedTimeUnixNano) !== 0n)
          rec.observedTimeUnixNano = String(BigInt(rec.observedTimeUnixNano) + shiftNs);
        session ??= rec.attributes?.find((kv) => kv.key === 'session.id')?.value?.stringValue;
      }
    }
    // stack/collector/config.yaml, transform/session_stream: the session is the stream (service.instance.id).
    if (session) {
      rl.resource = rl.resource ?? {};
      rl.resource.attributes = [
        ...(rl.resource.attributes ?? []).filter((kv) => kv.key !== 'service.instance.id'),
        { key: 'service.instance.id', value: { stringValue: session } },
      ];
    }
  }
  return req;
}

describe('Grafana dashboard, every panel at every range, as Grafana 12.4 sends it', () => {
  const placed: PlacedPanel[] = dashboardPanels(dashboard);
  const queried = placed.filter(({ panel }) => !QUERYLESS_TYPES.has(panel.type));
  const variables = dashboard.templating?.list ?? [];
  const outcomes: Outcome[] = [];
  let prom: PrometheusInstance | undefined;
  let loki: LokiDouble | undefined;
  let promUrl = '';
  let lokiUrl = '';
  let sim: SimResult;
  let simOptions: SimOptions;
  let lokiEntries = 0;
  let variableQueries = 0;
  const requestsSent = { prometheus: 0, loki: 0 };

  before(async () => {
    // The binaries first (the first call may build them, minutes), then the time layout: the history ends a minute
    // before the queries, so that the panels that read now (the Sessions table: the raw counters, 5 min look-back;
    // Active sessions: the last 15 min) have data at 1 h and 24 h, which run within a minute of the start.
    components();
    const now = Math.floor(Date.now() / 1000);
    const end = now - 60;
    simOptions = {
      seed: 22,
      t0: end - 3 * 3600,
      durationSeconds: 3 * 3600,
      sessions: 8,
      scrapeSeconds: 15,
      quietAt: [],
      quietSeconds: 0,
      restarts: [[end - 7200, 330]],
      errorOnlySessions: 1,
      // The rules' output up to the end; Prometheus' own evaluations take over from there (on values that no longer
      // change: they write nothing).
      evaluateUntil: end,
    };
    sim = simulate(simOptions);
    prom = await startLoadedPrometheus({ openMetrics: sim.openMetrics, retentionDays: MAX_RETENTION_DAYS });
    promUrl = prom.url;

    // Loki with the stack's own limits (stack/loki/config.yaml at the default retention, what most users run): a
    // range past the retention is clamped to it, as the real Loki does with this config.
    loki = await startLokiDouble({
      port: 0,
      host: '127.0.0.1',
      limits: lokiLimitsFromConfig(readText('stack', 'loki', 'config.yaml'), {}),
    });
    lokiUrl = `http://127.0.0.1:${loki.port}`;
    const logs = fixtureRequests(CLAUDE_CODE_FIXTURES).filter((r) => r.path === '/v1/logs');
    assert.ok(logs.length > 0, `no OTLP log requests in ${CLAUDE_CODE_FIXTURES}`);
    const bodies = logs.map((r) => {
      assert.equal(r.ct, 'application/json', `${r.file}: the fixtures are OTLP/JSON`);
      return JSON.parse(r.body) as LogsRequest;
    });
    let newest = 0n;
    for (const b of bodies)
      for (const rl of b.resourceLogs ?? [])
        for (const sl of rl.scopeLogs ?? [])
          for (const rec of sl.logRecords ?? []) {
            const t = BigInt(rec.timeUnixNano ?? 0);
            if (t > newest) newest = t;
          }
    // The newest event two minutes before now: every event inside the shortest range.
    const shift = BigInt(now - 120) * 1_000_000_000n - newest;
    for (const b of bodies) {
      const res = await fetch(`${lokiUrl}/otlp/v1/logs`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(asCollectorSendsIt(b, shift)),
      });
      assert.equal(res.status, 204, `the Loki double refused a fixture: ${res.status} ${await res.text()}`);
    }
    lokiEntries = loki.entries.length;
  });

  after(async () => {
    const labels = new Set(RANGES.map((r) => r.label));
    const key = (o: Outcome): string => `${o.range}\u0000${o.section}\u0000${o.panel}\u0000${o.refId}`;
    const executed = new Set(outcomes.filter((o) => labels.has(o.range) && o.sent > 0).map(key)).size;
    const chosen = outcomes.filter((o) => !labels.has(o.range) && o.sent > 0).length;
    const targets = queried.reduce((n, { panel }) => n + (panel.targets?.length ?? 0), 0);
    const failed = outcomes.filter((o) => o.failure).length;
    console.log(
      `dashboard: ${targets} targets × ${RANGES.length} ranges (${RANGES.map((r) => r.label).join(', ')}): ${executed} of ${targets * RANGES.length} executed, ` +
        `${chosen} more at 24h with chosen variable values, ${failed} failed; ${requestsSent.prometheus} requests to Prometheus, ` +
        `${requestsSent.loki} to the Loki double, ${variableQueries} variable queries`,
    );
    await prom?.stop();
    await loki?.close();
  });

  it("sanity: the history carries what the panels read, and the double holds the CLI's events", () => {
    const end = simOptions.t0 + simOptions.durationSeconds;
    const count = (kind: string, pred: (e: SimResult['events'][number]) => boolean = () => true): number =>
      sim.events.filter((e) => e.kind === kind && pred(e)).length;
    assert.ok(sim.sessions.length >= 8);
    assert.ok(count('commit') > 0, 'a commit');
    assert.ok(count('edit_decision') > 0, 'an edit decision');
    assert.ok(count('lines') > 0, 'lines of code');
    assert.ok(count('api_error') > 0, 'an API error');
    assert.ok(count('tool_result', (e) => e.kind === 'tool_result' && !e.success) > 0, 'a failed tool call');
    assert.ok(
      count('api_request', (e) => e.kind === 'api_request' && !!e.subagent?.name) > 0,
      "a named subagent's request",
    );
    // 'Active sessions (15m)' at 24 h: activity in the last quarter hour before the queries.
    assert.ok(count('api_request', (e) => e.t > end - 600) > 0, 'activity in the last ten minutes of the history');
    assert.ok(lokiEntries >= 20, `the double holds ${lokiEntries} entries`);
  });

  it('every panel has a query, and every target a datasource this test can send to', () => {
    const problems: string[] = [];
    for (const { panel, section } of queried) {
      if (!panel.targets?.length) problems.push(`${section} › ${panel.title}: a ${panel.type} panel with no query`);
      for (const t of panel.targets ?? []) {
        if (!t.expr) problems.push(`${section} › ${panel.title} › ${t.refId}: no expr`);
        if (!backendOf(panel, t))
          problems.push(
            `${section} › ${panel.title} › ${t.refId}: datasource ${JSON.stringify(t.datasource ?? panel.datasource)} is neither Prometheus nor Loki`,
          );
        if (t.hide) problems.push(`${section} › ${panel.title} › ${t.refId}: hidden (Grafana would not run it)`);
      }
    }
    for (const v of variables) {
      if (v.type === 'query' && v.datasource?.uid !== 'prometheus')
        problems.push(`variable ${v.name}: a query variable of ${JSON.stringify(v.datasource)} is not modelled`);
    }
    assert.deepEqual(problems, []);
  });

  it('every panel that reads over the range says how long its data is kept, and the dashboard too', () => {
    const kept = /claudeTelemetry\.stack\.retentionDays, 30 days by default\): a longer range shows nothing older\./;
    const overRange = (panel: DashboardPanel, t: DashboardTarget): boolean =>
      /\$\{?__(range|interval|auto|rate_interval)/.test(t.expr ?? '') ||
      (backendOf(panel, t) === 'prometheus'
        ? t.range === true || (!t.instant && !t.range)
        : (t.queryType ?? 'range') === 'range');
    const missing = queried
      .filter(({ panel }) => (panel.targets ?? []).some((t) => overRange(panel, t)))
      .filter(({ panel }) => {
        const backends = new Set((panel.targets ?? []).map((t) => backendOf(panel, t)));
        const says = (what: string): boolean =>
          new RegExp(`${what} keeps (metrics|events)`).test(panel.description ?? '') &&
          kept.test(panel.description ?? '');
        return (backends.has('prometheus') && !says('Prometheus')) || (backends.has('loki') && !says('Loki'));
      })
      .map(({ panel, section }) => `${section} › ${panel.title}: ${JSON.stringify(panel.description ?? null)}`);
    assert.deepEqual(missing, []);
    assert.match(String(dashboard['description'] ?? ''), kept);
  });

  /** Every variable's query at this range, then every target with the variables' values (`choose`: which). */
  async function runRange(
    label: string,
    rangeMs: number,
    choose: (v: VariableValue) => VariableValue,
  ): Promise<string[]> {
    const failures: string[] = [];
    const now = Date.now();
    const range: TimeRange = { from: now - rangeMs, to: now };
    const values = new Map<string, VariableValue>();
    for (const v of variables) {
      let options: string[] = [];
      if (v.type === 'query') {
        const where = {
          range: label,
          section: 'variables',
          panel: `$${v.name}`,
          refId: v.definition ?? '',
          backend: 'prometheus' as const,
        };
        let r: HttpRequestSpec;
        try {
          r = prometheusVariableRequest(v, range);
        } catch (err) {
          failures.push(failureText(where, '(not sent)', (err as Error).message));
          continue;
        }
        const a = await send(promUrl, r);
        variableQueries++;
        const bad = problem(a);
        if (bad) failures.push(failureText(where, describeRequest(r), bad));
        else options = countRows(a).keys;
      } else if (v.type === 'custom') {
        options = String(v.query ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      } else if (v.type !== 'constant' && v.type !== 'textbox') {
        failures.push(
          failureText(
            { range: label, section: 'variables', panel: `$${v.name}`, refId: v.type, backend: 'prometheus' },
            '(not sent)',
            `a ${v.type} variable is not modelled`,
          ),
        );
      }
      values.set(v.name, choose({ variable: v, selected: savedSelection(v), options }));
    }

    const jobs = queried.flatMap(({ panel, section }) =>
      (panel.targets ?? []).map((target) => ({ panel, section, target })),
    );
    await pool(jobs, 6, async ({ panel, section, target }) => {
      const backend = backendOf(panel, target);
      const outcome: Outcome = {
        range: label,
        section,
        panel: panel.title ?? `#${panel.id}`,
        refId: target.refId,
        backend: backend ?? 'prometheus',
        sent: 0,
        rows: 0,
      };
      outcomes.push(outcome);
      // One failure a target: the first answer that was not a success (chunks sent in parallel may fail alike).
      const fail = (sent: string, answer: string, note = ''): void => {
        if (outcome.failure) return;
        outcome.failure = failureText(outcome, sent, answer, note);
        failures.push(outcome.failure);
      };
      const ctx = { panel, target, range, variables: values };
      if (backend === 'prometheus') {
        let plans;
        try {
          plans = prometheusRequests(ctx, PROMETHEUS);
        } catch (err) {
          return fail('(not sent)', (err as Error).message);
        }
        const keys = new Set<string>();
        for (const plan of plans) {
          const a = await send(promUrl, plan.request);
          outcome.sent++;
          requestsSent.prometheus++;
          const bad = problem(a);
          if (bad) return fail(describeRequest(plan.request), bad);
          for (const k of countRows(a).keys) keys.add(k);
        }
        outcome.rows = keys.size;
        return;
      }
      if (backend === 'loki') {
        let plan;
        try {
          plan = lokiPlan(ctx, LOKI);
        } catch (err) {
          return fail('(not sent)', (err as Error).message);
        }
        const keys = new Set<string>();
        const check = (r: HttpRequestSpec, a: Answer, chunk: number): boolean => {
          outcome.sent++;
          requestsSent.loki++;
          const bad = problem(a);
          if (!bad) return true;
          const double = /test double/i.test(a.body)
            ? 'THE LOKI TEST DOUBLE CANNOT ANSWER THIS QUERY, which the dashboard uses: the double must learn it (test/doubles/loki.ts); the panel stays.'
            : '';
          fail(`${describeRequest(r)}  (request ${chunk + 1} of ${plan.chunks.length})`, bad, double);
          return false;
        };
        if (plan.kind === 'logs') {
          // Newest chunk first; the line limit is spent over the chunks, and Grafana stops when it is reached.
          let left = plan.maxLines;
          for (let i = 0; i < plan.chunks.length && left > 0; i++) {
            const r = plan.request(plan.chunks[i]!, left);
            const a = await send(lokiUrl, r);
            if (!check(r, a, i)) return;
            const got = countRows(a);
            got.keys.forEach((k) => keys.add(k));
            left -= got.lines;
          }
        } else {
          await pool(
            plan.chunks,
            8,
            async (chunk, i) => {
              const r = plan.request(chunk, plan.maxLines);
              const a = await send(lokiUrl, r);
              if (check(r, a, i)) countRows(a).keys.forEach((k) => keys.add(k));
            },
            () => outcome.failure !== undefined,
          );
          if (outcome.failure) return;
        }
        outcome.rows = keys.size;
        return;
      }
      fail(
        '(not sent)',
        `datasource ${JSON.stringify(target.datasource ?? panel.datasource)}: neither Prometheus nor Loki`,
      );
    });
    return failures;
  }

  for (const { label, ms } of RANGES) {
    it(`every variable and every target answers at ${label}`, async () => {
      const failures = await runRange(label, ms, (v) => v);
      assert.ok(
        failures.length === 0,
        `${failures.length} of the dashboard's queries failed at ${label}:\n\n${failures.join('\n\n')}`,
      );
    });
  }

  it('at 24 h, with each variable set to values it offers (two of them where it offers more: a multi-value regex)', async () => {
    const failures = await runRange('24h, values chosen', 86400e3, (v) =>
      v.options.length === 0 ? v : { ...v, selected: v.variable.multi ? v.options.slice(0, 2) : v.options.slice(0, 1) },
    );
    assert.ok(
      failures.length === 0,
      `${failures.length} queries failed with chosen variable values:\n\n${failures.join('\n\n')}`,
    );
  });

  it('at 24 h every panel answers with data, one per section at least, but those this history has none for', () => {
    const at24 = outcomes.filter((o) => o.range === '24h');
    const problems: string[] = [];
    const sections = new Map<string, number>();
    for (const { panel, section } of queried) {
      const title = panel.title ?? `#${panel.id}`;
      const mine = at24.filter((o) => o.panel === title && o.section === section);
      sections.set(section, sections.get(section) ?? 0);
      const empty = mine.filter((o) => o.rows === 0);
      const why = NO_DATA_HERE[title];
      if (why) {
        if (empty.length !== mine.length)
          problems.push(
            `${section} › ${title}: listed as without data here (${why}), but answered with data: take it off NO_DATA_HERE`,
          );
        continue;
      }
      if (mine.length === 0) problems.push(`${section} › ${title}: not executed at 24 h`);
      for (const o of empty)
        problems.push(
          `${section} › ${title} › ${o.refId}: ${o.failure ? 'failed (see the 24h test)' : 'answered with no data'}`,
        );
      if (mine.length > 0 && empty.length === 0) sections.set(section, sections.get(section)! + 1);
    }
    for (const [section, n] of sections) if (n === 0) problems.push(`section ${section}: no panel answered with data`);
    for (const title of Object.keys(NO_DATA_HERE)) {
      if (!queried.some(({ panel }) => panel.title === title))
        problems.push(`NO_DATA_HERE names "${title}", which is no panel`);
    }
    console.log(
      `no data in this history (by design): ${Object.entries(NO_DATA_HERE)
        .map(([t, why]) => `${t} (${why})`)
        .join('; ')}`,
    );
    assert.ok(problems.length === 0, problems.join('\n'));
  });
});
