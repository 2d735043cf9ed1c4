// What Grafana 12.4 sends to Prometheus and Loki for a dashboard's panels and variables, for the tests that play
// Grafana's part (Grafana, AGPL, is not built here). Written from a reading of Grafana's sources, not copied from them:
//   - the interval: packages/grafana-data/src/datetime/rangeutil.ts (calculateInterval, roundInterval: the frontend's
//     table) and the panel query runner (the panel's min interval, else the datasource's timeInterval, as the low
//     limit; maxDataPoints, else the panel's width in pixels);
//   - Prometheus: pkg/promlib/models/query.go (calculatePrometheusInterval, interpolateVariables, AlignTimeRange),
//     pkg/promlib/intervalv2 and the plugin SDK's gtime (RoundInterval: the backend's table, FormatInterval,
//     GetIntervalFrom), pkg/promlib/client/client.go (POST, the datasource's default method, form-encoded);
//   - Loki: pkg/tsdb/loki/parse_query.go, step.go and api.go (step, $__auto, start/end/step/limit/direction), and the
//     frontend's query splitting (querySplitting.ts, logsTimeSplitting.ts, metricTimeSplitting.ts: range queries in
//     chunks of a day, newest first, a logs query's line limit spent over the chunks);
//   - template variables: the template service's custom "All" value (used as is, never escaped) and the datasources'
//     interpolateQueryExpr (a multi-value or include-all variable's values regex-escaped, several as (a|b)).
// What it leaves out, because the stack's dashboard uses none of it: ad hoc filters, scopes, exemplars, the
// Prometheus incremental query cache, Loki's shard splitting (an experimental toggle), query types other than range
// and instant, a Loki query variable. A dashboard that uses something this file does not know fails with its name.
import { parseLogQL } from './queryGrammar';

// --- the dashboard JSON -----------------------------------------------------------------------------------------

export interface DatasourceRef {
  type?: string;
  uid?: string;
}

export interface DashboardTarget {
  datasource?: DatasourceRef;
  refId: string;
  expr?: string;
  /** Prometheus */
  instant?: boolean;
  range?: boolean;
  exemplar?: boolean;
  format?: string;
  interval?: string;
  intervalFactor?: number;
  /** Loki */
  queryType?: string;
  maxLines?: number;
  step?: string;
  resolution?: number;
  splitDuration?: string;
  direction?: string;
  hide?: boolean;
  [key: string]: unknown;
}

export interface DashboardPanel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: DatasourceRef | null;
  interval?: string;
  maxDataPoints?: number;
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
  collapsed?: boolean;
  [key: string]: unknown;
}

export interface DashboardVariable {
  name: string;
  type: string;
  datasource?: DatasourceRef | null;
  query?: unknown;
  definition?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  current?: { text?: unknown; value?: unknown };
  refresh?: number;
  [key: string]: unknown;
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating?: { list: DashboardVariable[] };
  [key: string]: unknown;
}

/** A panel with the row (section) it sits under: a row's title, or "(top)" above the first row. */
export interface PlacedPanel {
  panel: DashboardPanel;
  section: string;
}

/** Every panel that is not a row, rows' nested (collapsed) panels included, with its section. */
export function dashboardPanels(dashboard: Dashboard): PlacedPanel[] {
  const out: PlacedPanel[] = [];
  let section = '(top)';
  for (const p of dashboard.panels) {
    if (p.type === 'row') {
      section = p.title ?? '(untitled row)';
      for (const nested of p.panels ?? []) out.push({ panel: nested, section });
    } else {
      out.push({ panel: p, section });
    }
  }
  return out;
}

// --- durations --------------------------------------------------------------------------------------------------

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1e3,
  m: 60e3,
  h: 3600e3,
  d: 86400e3,
  w: 604800e3,
  M: 2592000e3,
  y: 31536000e3,
};

/** Grafana's intervalToMs: "5s", "1m", "2h", "1d" (a bare number is seconds). */
export function intervalToMs(text: string): number {
  const trimmed = text.trim().replace(/^[<>]/, '');
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|[smhdwMy])$/.exec(trimmed);
  if (!m) throw new Error(`not an interval Grafana understands: "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/**
 * The steps intervals are rounded to: [upper bound (ms), rounded value (ms)]. The table of the frontend's
 * roundInterval (packages/grafana-data rangeutil.ts) and of the backend's gtime.RoundInterval (plugin SDK) have the
 * same steps; the frontend compares with `<`, the backend with `<=`, and the backend has one more row (up to 2 d:
 * 1 d) that changes nothing.
 */
const ROUND_STEPS: Array<[number, number]> = [
  [10, 1],
  [15, 10],
  [35, 20],
  [75, 50],
  [150, 100],
  [350, 200],
  [750, 500],
  [1500, 1000],
  [3500, 2000],
  [7500, 5000],
  [12500, 10000],
  [17500, 15000],
  [25000, 20000],
  [45000, 30000],
  [90000, 60000],
  [210000, 120000],
  [450000, 300000],
  [750000, 600000],
  [1050000, 900000],
  [1500000, 1200000],
  [2700000, 1800000],
  [5400000, 3600000],
  [9000000, 7200000],
  [16200000, 10800000],
  [32400000, 21600000],
  [86400000, 43200000],
  [604800000, 86400000],
  [1814400000, 604800000],
  [3628800000, 2592000000],
];
const YEAR_MS = 31536000000;

/** The frontend's roundInterval (strict bounds). */
export function roundIntervalFrontend(ms: number): number {
  for (const [bound, value] of ROUND_STEPS) if (ms < bound) return value;
  return YEAR_MS;
}

/** The backend's gtime.RoundInterval (inclusive bounds, except the last). */
export function roundIntervalBackend(ms: number): number {
  for (const [bound, value] of ROUND_STEPS) {
    if (bound === 3628800000 ? ms < bound : ms <= bound) return value;
  }
  return YEAR_MS;
}

/** The backend's gtime.FormatInterval: the largest unit, truncated ("90s" → "1m"). */
export function formatInterval(ms: number): string {
  const units: Array<[string, number]> = [
    ['y', 365 * 86400e3],
    ['d', 86400e3],
    ['h', 3600e3],
    ['m', 60e3],
    ['s', 1e3],
    ['ms', 1],
  ];
  for (const [unit, size] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return '1ms';
}

/** Go's time.Duration.String() for whole milliseconds ("1m5s", "20s", "1h0m0s"): Prometheus' $__rate_interval. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  const h = Math.floor(ms / 3600e3);
  const m = Math.floor((ms % 3600e3) / 60e3);
  const s = (ms % 60e3) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  if (ms < 1000) return `${ms}ms`;
  return `${s}s`;
}

// --- the time range and the interval ----------------------------------------------------------------------------

export interface TimeRange {
  /** ms since the epoch */
  from: number;
  to: number;
}

/** How wide Grafana draws the dashboard: the panel's maxDataPoints defaults to its width in pixels. */
export const DASHBOARD_WIDTH_PX = 1920;

/** maxDataPoints of a panel's request: its own, else its width (gridPos.w of 24 columns of a 1920 px dashboard). */
export function panelMaxDataPoints(panel: DashboardPanel): number {
  if (panel.maxDataPoints) return panel.maxDataPoints;
  const w = panel.gridPos?.w ?? 24;
  return Math.floor((w / 24) * DASHBOARD_WIDTH_PX);
}

/**
 * The request's interval (intervalMs) as the panel query runner computes it: the range over maxDataPoints, rounded
 * (frontend table), and at least the low limit: the panel's min interval, else the datasource's timeInterval.
 */
export function requestIntervalMs(range: TimeRange, maxDataPoints: number, lowLimit: string | undefined): number {
  const lowMs = lowLimit ? intervalToMs(lowLimit) : 1;
  return Math.max(roundIntervalFrontend((range.to - range.from) / maxDataPoints), lowMs);
}

// --- template variables -----------------------------------------------------------------------------------------

/** A variable's value in the request: its "All" (rendered with its allValue or its options) or chosen values. */
export interface VariableValue {
  variable: DashboardVariable;
  /** "$__all" for All, else the chosen values. */
  selected: '$__all' | string[];
  /** The values the variable's query returned (what All stands for when it has no allValue). */
  options: string[];
}

const ALL = '$__all';

/** The value a variable has as the dashboard is saved: its `current`, "All" when that is $__all. */
export function savedSelection(v: DashboardVariable): '$__all' | string[] {
  const value = v.current?.value;
  const values = Array.isArray(value)
    ? value.map(String)
    : value === undefined || value === null
      ? []
      : [String(value)];
  return values.includes(ALL) ? ALL : values;
}

/** prometheusSpecialRegexEscape / lokiSpecialRegexEscape: a regex metacharacter escaped inside a "..." string. */
function specialRegexEscape(value: string, datasource: 'prometheus' | 'loki'): string {
  const meta = datasource === 'prometheus' ? /[$^*{}[\]'+?.()|]/g : /[$^*{}[\]+?.()|]/g;
  return value.replace(/\\/g, '\\\\\\\\').replace(meta, '\\\\$&');
}

/** The text a variable stands for in a query of this datasource. */
export function renderVariable(v: VariableValue, datasource: 'prometheus' | 'loki'): string {
  const escape = (x: string): string => specialRegexEscape(x, datasource);
  if (v.selected === ALL) {
    // A custom all value is used as it is, never escaped; without one, All is every option, as a multi-value.
    if (v.variable.allValue) return v.variable.allValue;
    const values = v.options.map(escape);
    return values.length === 1 ? values[0]! : `(${values.join('|')})`;
  }
  if (!v.variable.multi && !v.variable.includeAll) return v.selected[0] ?? '';
  const values = v.selected.map(escape);
  return values.length === 1 ? values[0]! : `(${values.join('|')})`;
}

const BUILT_INS = new Set([
  '__interval',
  '__interval_ms',
  '__range',
  '__range_s',
  '__range_ms',
  '__rate_interval',
  '__rate_interval_ms',
  '__auto',
]);

/**
 * The frontend's template service: $var, ${var} and [[var]] replaced by the variable's text; the built-in interval
 * and range variables left for the backend, which replaces them. A variable the dashboard does not define, or a
 * format (${var:csv}), fails: this file does not know what Grafana would send.
 */
export function interpolateTemplateVariables(
  expr: string,
  values: Map<string, VariableValue>,
  datasource: 'prometheus' | 'loki',
): string {
  return expr.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(:[^}]*)?\}|\[\[([A-Za-z_][A-Za-z0-9_]*)(:[^\]]*)?\]\]|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, a?: string, aFormat?: string, b?: string, bFormat?: string, c?: string) => {
      const name = (a ?? b ?? c)!;
      if (BUILT_INS.has(name)) return whole;
      if (aFormat || bFormat)
        throw new Error(`the variable format ${whole} is not modelled (test/support/grafanaQueries.ts)`);
      const value = values.get(name);
      if (!value) throw new Error(`the query uses $${name}, which the dashboard does not define`);
      return renderVariable(value, datasource);
    },
  );
}

// --- the requests -----------------------------------------------------------------------------------------------

export interface HttpRequestSpec {
  method: 'GET' | 'POST';
  path: string;
  params: Array<[string, string]>;
  headers: Record<string, string>;
}

/** The request as one line: method, path and its decoded parameters, for failure messages. */
export function describeRequest(r: HttpRequestSpec): string {
  return `${r.method} ${r.path} ${r.params.map(([k, v]) => `${k}=${v}`).join(' & ')}${
    Object.keys(r.headers).length
      ? ` [${Object.entries(r.headers)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')}]`
      : ''
  }`;
}

export interface PanelQueryContext {
  panel: DashboardPanel;
  target: DashboardTarget;
  range: TimeRange;
  variables: Map<string, VariableValue>;
}

/** Prometheus datasource settings the requests depend on (stack/grafana/provisioning/datasources/datasources.yaml). */
export interface PrometheusSettings {
  /** jsonData.timeInterval: the scrape interval, the low limit of every interval. */
  timeInterval?: string;
  /** jsonData.httpMethod (default POST) */
  httpMethod?: 'GET' | 'POST';
}

const SAFE_RESOLUTION = 11000;

export interface PrometheusPlan {
  kind: 'range' | 'instant';
  expr: string;
  stepMs: number;
  request: HttpRequestSpec;
}

/** The requests Grafana's Prometheus datasource sends for a target: a range and/or an instant query. */
export function prometheusRequests(ctx: PanelQueryContext, ds: PrometheusSettings): PrometheusPlan[] {
  const { panel, target, range } = ctx;
  if (!target.expr) throw new Error(`target ${target.refId} has no expr`);
  if (target.exemplar) throw new Error('exemplar queries are not modelled (test/support/grafanaQueries.ts)');
  const maxDataPoints = panelMaxDataPoints(panel);
  const intervalMs = requestIntervalMs(range, maxDataPoints, panel.interval ?? ds.timeInterval);
  const rangeMs = range.to - range.from;
  const scrape = ds.timeInterval ?? '15s';

  // calculatePrometheusInterval: the target's own interval (unless it is a variable) or the request's, as the minimum.
  const variableInterval = /^\$\{?__(rate_)?interval(_ms)?\}?$/.test(target.interval ?? '');
  const queryInterval = target.interval && target.interval !== '0s' && !variableInterval ? target.interval : '';
  const minMs = queryInterval ? intervalToMs(queryInterval) : intervalMs;
  const calculated = rangeMs / maxDataPoints;
  const calculatedMs = calculated < minMs ? minMs : roundIntervalBackend(calculated);
  const safeMs = roundIntervalBackend(rangeMs / SAFE_RESOLUTION);
  const adjusted = Math.max(calculatedMs, safeMs);
  const rateIntervalOf = (interval: number, minStep: string): number => {
    const s = intervalToMs(minStep);
    return Math.max(interval + s, 4 * s);
  };
  const isRate = target.interval === '$__rate_interval' || target.interval === '${__rate_interval}';
  const stepMs = isRate ? rateIntervalOf(adjusted, scrape) : adjusted * (target.intervalFactor || 1);

  // interpolateVariables (backend): the built-ins, after the template service replaced the dashboard's variables.
  let expr = interpolateTemplateVariables(target.expr, ctx.variables, 'prometheus');
  const rangeSRounded = Math.round(rangeMs / 1000);
  let requestedMinStep = target.interval ?? '';
  let rateMs: number;
  if (isRate) rateMs = stepMs;
  else {
    if (requestedMinStep === '$__interval' || requestedMinStep === '${__interval}') requestedMinStep = `${stepMs}ms`;
    if (requestedMinStep === '') requestedMinStep = scrape;
    rateMs = rateIntervalOf(intervalMs, requestedMinStep);
  }
  const replacements: Array<[string, string]> = [
    ['__interval_ms', String(stepMs)],
    ['__interval', formatInterval(stepMs)],
    ['__range_ms', String(rangeMs)],
    ['__range_s', String(rangeSRounded)],
    ['__range', `${rangeSRounded}s`],
    ['__rate_interval_ms', String(rateMs)],
    ['__rate_interval', goDuration(rateMs)],
  ];
  for (const [name, value] of replacements) expr = expr.split(`$${name}`).join(value).split(`\${${name}}`).join(value);

  const method = ds.httpMethod ?? 'POST';
  const seconds = (ms: number): string => String(ms / 1000);
  const plans: PrometheusPlan[] = [];
  // Neither set: an old dashboard's target, run as a range query.
  const wantsRange = target.range === true || (!target.instant && !target.range);
  if (wantsRange) {
    // AlignTimeRange: start and end rounded down to a multiple of the step (UTC: no offset).
    const align = (t: number): number => Math.floor(t / stepMs) * stepMs;
    plans.push({
      kind: 'range',
      expr,
      stepMs,
      request: {
        method,
        path: '/api/v1/query_range',
        headers: {},
        params: [
          ['query', expr],
          ['start', seconds(align(range.from))],
          ['end', seconds(align(range.to))],
          ['step', String(stepMs / 1000)],
        ],
      },
    });
  }
  if (target.instant) {
    plans.push({
      kind: 'instant',
      expr,
      stepMs,
      request: {
        method,
        path: '/api/v1/query',
        headers: {},
        params: [
          ['query', expr],
          ['time', seconds(range.to)],
        ],
      },
    });
  }
  return plans;
}

/** Loki datasource settings (datasources.yaml). */
export interface LokiSettings {
  /** jsonData.maxLines (Grafana's default 1000) */
  maxLines?: number;
}

/** Grafana's isLogsQuery: a query with no metric expression in it. */
export function isLogsQuery(expr: string): boolean {
  const { tree } = parseLogQL(expr);
  let metric = false;
  const cursor = tree.cursor();
  do {
    if (cursor.name === 'MetricExpr') metric = true;
  } while (!metric && cursor.next());
  return expr.trim().length > 2 && !metric;
}

export interface LokiPlan {
  kind: 'instant' | 'metric' | 'logs';
  /** The time ranges of the requests, newest first, the order Grafana sends them in. */
  chunks: TimeRange[];
  /** The request of one chunk; `maxLines` is what is left of the logs query's line limit. */
  request(chunk: TimeRange, maxLines: number): HttpRequestSpec;
  maxLines: number;
}

const ONE_DAY_MS = 86400e3;

/**
 * What Grafana's Loki datasource sends for a target. Range queries (metric and logs) are split in chunks of a day
 * (the target's splitDuration if set), unless they use $__range (interpolated per chunk it would be wrong); a logs
 * query stops when its chunks returned maxLines lines. Instant queries are sent whole.
 */
export function lokiPlan(ctx: PanelQueryContext, ds: LokiSettings): LokiPlan {
  const { panel, target, range } = ctx;
  if (!target.expr) throw new Error(`target ${target.refId} has no expr`);
  const queryType = target.queryType ?? 'range';
  if (queryType !== 'range' && queryType !== 'instant')
    throw new Error(`Loki queryType "${queryType}" is not modelled (test/support/grafanaQueries.ts)`);
  const maxDataPoints = panelMaxDataPoints(panel);
  // The Loki datasource has no min interval setting: the panel's, else none (1 ms).
  const intervalMs = requestIntervalMs(range, maxDataPoints, panel.interval);
  const resolution =
    target.resolution && ((target.resolution >= 1 && target.resolution <= 5) || target.resolution === 10)
      ? target.resolution
      : 1;
  const templated = interpolateTemplateVariables(target.expr, ctx.variables, 'loki');
  const logs = isLogsQuery(templated);
  const maxLines = target.maxLines ?? ds.maxLines ?? 1000;
  const usesRange = /\$\{?__range/.test(templated);
  const split = queryType === 'range' && !usesRange;

  // step.go calculateStep, for one chunk's time range.
  const stepOf = (chunk: TimeRange): number => {
    if (target.step) return intervalToMs(target.step) * resolution;
    return Math.ceil(Math.max(intervalMs * resolution, (chunk.to - chunk.from) / SAFE_RESOLUTION));
  };
  const request = (chunk: TimeRange, lines: number): HttpRequestSpec => {
    const stepMs = stepOf(chunk);
    const rangeMs = chunk.to - chunk.from;
    const rangeS = String(Math.round(rangeMs / 1000));
    let expr = templated;
    const replacements: Array<[string, string]> = [
      ['__interval_ms', String(intervalMs)],
      ['__interval', formatInterval(intervalMs)],
      ['__range_ms', String(rangeMs)],
      ['__range_s', rangeS],
      ['__range', `${rangeS}s`],
    ];
    for (const [name, value] of replacements)
      expr = expr.split(`$${name}`).join(value).split(`\${${name}}`).join(value);
    expr = expr.split('$__auto').join(queryType === 'instant' ? `${rangeS}s` : formatInterval(stepMs));
    const ns = (ms: number): string => `${BigInt(Math.round(ms)) * 1_000_000n}`;
    const params: Array<[string, string]> = [
      ['query', expr],
      ['direction', target.direction === 'forward' ? 'forward' : 'backward'],
    ];
    // A split metric query goes without maxLines; everything else carries it as the limit.
    if (!(split && !logs) && lines > 0) params.push(['limit', String(lines)]);
    // Structured metadata apart from the stream labels (Grafana's lokiStructuredMetadata, generally available).
    const headers = { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' };
    if (queryType === 'instant')
      return { method: 'GET', path: '/loki/api/v1/query', headers, params: [...params, ['time', ns(chunk.to)]] };
    return {
      method: 'GET',
      path: '/loki/api/v1/query_range',
      headers,
      params: [...params, ['start', ns(chunk.from)], ['end', ns(chunk.to)], ['step', `${stepMs}ms`]],
    };
  };

  let chunks: TimeRange[];
  if (!split) chunks = [range];
  else {
    const duration = target.splitDuration ? intervalToMs(target.splitDuration) : ONE_DAY_MS;
    if (logs) chunks = splitLogsRange(range, duration);
    else {
      // The frontend aligns the chunks to its own idea of the step (the whole range's, rounded to the ms).
      const frontendStep = target.step
        ? intervalToMs(target.step) * resolution
        : Math.max(intervalMs * resolution, Math.round((range.to - range.from) / SAFE_RESOLUTION));
      chunks = splitMetricRange(range, frontendStep, duration);
    }
    chunks.reverse();
  }
  return { kind: queryType === 'instant' ? 'instant' : logs ? 'logs' : 'metric', chunks, request, maxLines };
}

/** logsTimeSplitting: chunks of `duration` walking back from the end, the oldest one shorter (oldest first). */
export function splitLogsRange(range: TimeRange, duration: number): TimeRange[] {
  if (range.to - range.from <= duration) return [range];
  const out: TimeRange[] = [];
  for (let end = range.to; end > range.from; end -= duration)
    out.push({ from: Math.max(end - duration, range.from), to: end });
  return out.reverse();
}

/**
 * metricTimeSplitting: chunks of `duration` made a multiple of the step, starting at the start aligned down to the
 * step, each ending one step before the next begins (Loki's ends are inclusive), oldest first.
 */
export function splitMetricRange(range: TimeRange, stepMs: number, duration: number): TimeRange[] {
  if (duration < stepMs) return [range];
  const aligned = Math.trunc(duration / stepMs) * stepMs;
  const out: TimeRange[] = [];
  for (let start = range.from - (range.from % stepMs); start < range.to; start += aligned) {
    out.push({ from: start, to: Math.min(start + aligned - stepMs, range.to) });
  }
  return out;
}

// --- variable queries -------------------------------------------------------------------------------------------

/**
 * The request of a Prometheus query variable as Grafana 12 sends it: label_values(metric, label) → the label values
 * API matched by the metric, over the dashboard's range (refresh on time range change) rounded out to the minute
 * (the datasource's default "low" cache level), with the datasource's default series limit.
 */
export function prometheusVariableRequest(v: DashboardVariable, range: TimeRange): HttpRequestSpec {
  const q =
    typeof v.query === 'string' ? v.query : ((v.query as { query?: string } | undefined)?.query ?? v.definition ?? '');
  const start = String(Math.floor(range.from / 60000) * 60);
  const end = String(Math.floor(Math.ceil(range.to / 1000) / 60) * 60 + 60);
  const labelValues = /^label_values\(\s*(?:(.+?)\s*,\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(q.trim());
  if (labelValues) {
    const [, match, label] = labelValues;
    const params: Array<[string, string]> = [];
    if (match) params.push(['match[]', match]);
    params.push(['start', start], ['end', end], ['limit', '40000']);
    return { method: 'GET', path: `/api/v1/label/${label}/values`, headers: {}, params };
  }
  const queryResult = /^query_result\((.+)\)$/.exec(q.trim());
  if (queryResult)
    return {
      method: 'GET',
      path: '/api/v1/query',
      headers: {},
      params: [
        ['query', queryResult[1]!],
        ['time', String(Math.ceil(range.to / 1000))],
      ],
    };
  throw new Error(`the Prometheus variable query "${q}" is not modelled (test/support/grafanaQueries.ts)`);
}
