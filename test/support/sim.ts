// Synthetic Claude Code sessions and the Prometheus series the stack's collector makes of them.
// Its size: the events, the collector's series and the rules' output are one simulation, kept in step with each other.
//
// Shape (docs/architecture.md, stack/collector/config.yaml): Claude Code sends DELTA sums per session; the collector's
// deltatocumulative turns them into per-session running totals that its prometheus exporter serves until
// metric_expiration (25 h), so a series keeps its last value after the session ends; the count connector adds
// tool_results / api_requests / api_errors counters from events. A collector restart loses every running total: a
// series comes back only when its session sends a new delta, starting from that delta. Prometheus scrapes every
// `scrapeSeconds` with honor_labels (job="claude-code").
//
// The recording rules' output is computed here with the rules' semantics and backfilled with the raw series (see
// the comment in simulate()): each counter's `:increase10s` rule (every label of its raw series) only where the
// increase is not zero (`> 0`), and its `:last_value` helper only where the value the rules saw changed.
import { COUNTERS, RULE_INTERVAL_MS } from '../../src/telemetry/counters';

export interface SimOptions {
  seed: number;
  /** Unix seconds of the first possible event. */
  t0: number;
  /** Seconds of simulated time. */
  durationSeconds: number;
  sessions: number;
  scrapeSeconds: number;
  /** Times (unix s) with no event within ±`quietSeconds`: window edges used by the assertions. */
  quietAt: number[];
  quietSeconds: number;
  /** Collector restarts: [unix s, downtime s]. Use a downtime over 310 s (see the header). */
  restarts: Array<[number, number]>;
  /**
   * A counter reset between two scrapes (no failed scrape, no staleness marker) of the series of one session (the
   * `sessionIndex`-th), e.g. a second collector that restarted in a blink: [unix s, session index]. The sim throws if
   * a series comes back at or above its old value (no reset would be visible; pick another time).
   */
  quickReset?: [number, number];
  /**
   * The status line bridge's gauges for the 5-hour window, scraped with the rest: 100 % in [from, to) (unix s), 60 %
   * otherwise, resetting at `resetsAt`.
   */
  planLimit?: { from: number; to: number; resetsAt: number };
  /** Sessions that only start and meet API errors (no cost, no tokens), after the others: the list must show them. */
  errorOnlySessions?: number;
  /** The last rule evaluation (unix s; default the end plus 600 s). A test that queries at a time T as "now" ends the
   * rules there: a live stack has no rule output after now. */
  evaluateUntil?: number;
}

export type SimEvent =
  | { kind: 'session_start'; t: number; session: string }
  | {
      kind: 'api_request';
      t: number;
      session: string;
      model: string;
      costUsd: number;
      tokens: Record<TokenKind, number>;
      cliSeconds: number;
      /** A subagent's request (query_source="subagent"), named (agent_name) or not. */
      subagent?: { name?: string };
    }
  | {
      kind: 'tool_result';
      t: number;
      session: string;
      tool: string;
      success: boolean;
      errorType: string;
      userSeconds: number;
    }
  | { kind: 'api_error'; t: number; session: string; model: string; statusCode: number }
  | { kind: 'lines'; t: number; session: string; added: number; removed: number }
  | { kind: 'commit'; t: number; session: string }
  | { kind: 'edit_decision'; t: number; session: string; decision: 'accept' | 'reject' };

export type TokenKind = 'input' | 'output' | 'cacheRead' | 'cacheCreation';

export interface RuleLoss {
  rule: string;
  /** The raw series' labels (the rule keeps them all). */
  labels: Record<string, string>;
  amount: number;
  /** Evaluation time (unix s). */
  t: number;
}

export interface SimResult {
  /**
   * What a reset cost in the recording rules, by rule and output labels: a series that comes back after a reset at
   * or above the value the rule saw last is indistinguishable from one that grew, so only the part above the old
   * value is counted (a limit of every Prometheus counter function). The test subtracts these from the truth of
   * count metrics and requires none for cost and tokens.
   */
  ruleLosses: RuleLoss[];
  events: SimEvent[];
  sessions: string[];
  /** OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`. */
  openMetrics: string;
  /** Number of samples written. */
  samples: number;
  /** First and last sample time (unix s). */
  firstSample: number;
  lastSample: number;
}

const MODELS = ['claude-opus-5-5', 'claude-sonnet-5'];
const PROJECTS = ['api-server', 'web-app', 'infra'];
const TOOLS = ['Bash', 'Read', 'Edit', 'Grep'];
/** Named subagents; a built-in one's cost carries no agent_name. */
const AGENTS = ['code-reviewer', 'test-runner'];
const ERROR_TYPES = ['ShellError', 'TelemetrySafeError'];
/** Rule evaluations happen at t0 + RULE_OFFSET + 10 k (Prometheus offsets a group's evaluations by a hash). */
export const RULE_OFFSET = 3.217;

/** Raw metric → its recording rule (src/telemetry/counters.ts). */
export const RULE_OF: Record<string, string> = Object.fromEntries(
  Object.values(COUNTERS).map((c) => [c.metric, c.rule]),
);
/** Rule → its `:last_value` helper. */
const LAST_VALUE_OF: Record<string, string> = Object.fromEntries(
  Object.values(COUNTERS).map((c) => [c.rule, c.lastValue]),
);

function lastResetBefore(resets: number[], t: number): number {
  let r = -Infinity;
  for (const x of resets) if (x <= t) r = x;
  return r;
}

/** Claude Code exports every 1 s here; a delta reaches the collector this long after the event. */
export const EXPORT_DELAY = 1;

/** mulberry32: small, fast, seeded. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuid(rand: () => number): string {
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
}

export function generateEvents(o: SimOptions): { events: SimEvent[]; sessions: string[] } {
  const rand = mulberry32(o.seed);
  const decide = mulberry32(o.seed + 1);
  // Subagents and error-only sessions: streams of their own too.
  const delegate = mulberry32(o.seed + 2);
  const end = o.t0 + o.durationSeconds;
  const quiet = (t: number): boolean =>
    o.quietAt.some((q) => Math.abs(t - q) <= o.quietSeconds) ||
    o.restarts.some(([r, d]) => t >= r - 10 && t <= r + d + 10) ||
    t > end - 60;
  const events: SimEvent[] = [];
  const sessions: string[] = [];
  for (let i = 0; i < o.sessions; i++) {
    const id = uuid(rand);
    sessions.push(id);
    // Starts spread over the first 85 % of the run; several overlap (parallel sessions).
    let t = o.t0 + 30 + rand() * o.durationSeconds * 0.85;
    while (quiet(t)) t += 17;
    if (t > end - 120) t = o.t0 + 30 + i * 7;
    const sessionEnd = Math.min(end - 60, t + 600 + rand() * 3600);
    events.push({ kind: 'session_start', t, session: id });
    const model = MODELS[i % MODELS.length]!;
    const agent = AGENTS[i % (AGENTS.length + 1)];
    t += 2;
    while (t < sessionEnd) {
      if (!quiet(t)) {
        const m = rand() < 0.15 ? MODELS[(i + 1) % MODELS.length]! : model;
        const input = Math.floor(200 + rand() * 4000);
        const cacheRead = Math.floor(rand() * 30000);
        // A session delegates to one kind of subagent, on its main model: a few series of some weight each (a series
        // of a request or two would come back from a reset at or above its old value, a reset no rule can see).
        const byAgent = m === model && delegate() < 0.25;
        events.push({
          kind: 'api_request',
          t,
          session: id,
          model: m,
          costUsd: Math.round((0.001 + rand() * 0.25) * 1e6) / 1e6,
          tokens: {
            input,
            output: Math.floor(50 + rand() * 1500),
            cacheRead,
            cacheCreation: Math.floor(rand() * 2000),
          },
          cliSeconds: Math.round(rand() * 30 * 1000) / 1000,
          ...(byAgent ? { subagent: agent ? { name: agent } : {} } : {}),
        });
        // The main agent starts a subagent: a call of the Agent tool, now and then failing.
        if (delegate() < 0.05) {
          const success = delegate() > 0.25;
          events.push({
            kind: 'tool_result',
            t: t + 0.6,
            session: id,
            tool: 'Agent',
            success,
            errorType: success ? 'none' : 'TelemetrySafeError',
            userSeconds: 0.5,
          });
        }
        if (rand() < 0.6) {
          const success = rand() > 0.2;
          events.push({
            kind: 'tool_result',
            t: t + 0.5,
            session: id,
            tool: TOOLS[Math.floor(rand() * TOOLS.length)]!,
            success,
            errorType: success ? 'none' : ERROR_TYPES[Math.floor(rand() * ERROR_TYPES.length)]!,
            userSeconds: Math.round(rand() * 10 * 1000) / 1000,
          });
        }
        if (rand() < 0.05)
          events.push({ kind: 'api_error', t: t + 0.7, session: id, model: m, statusCode: rand() < 0.5 ? 429 : 500 });
        if (rand() < 0.2)
          events.push({
            kind: 'lines',
            t: t + 0.8,
            session: id,
            added: Math.floor(rand() * 40),
            removed: Math.floor(rand() * 10),
          });
        if (rand() < 0.02) events.push({ kind: 'commit', t: t + 0.9, session: id });
        // A stream of its own, so that adding edit decisions left every other event of a seed as it was.
        if (decide() < 0.1)
          events.push({
            kind: 'edit_decision',
            t: t + 0.95,
            session: id,
            decision: decide() < 0.8 ? 'accept' : 'reject',
          });
      }
      t += 15 + rand() * 60;
    }
  }
  for (let i = 0; i < (o.errorOnlySessions ?? 0); i++) {
    const id = uuid(delegate);
    sessions.push(id);
    let t = o.t0 + 60 + delegate() * o.durationSeconds * 0.8;
    while (quiet(t) || quiet(t + 5)) t += 17;
    events.push({ kind: 'session_start', t, session: id });
    events.push({ kind: 'api_error', t: t + 3, session: id, model: MODELS[0]!, statusCode: 400 });
  }
  events.sort((a, b) => a.t - b.t);
  return { events, sessions };
}

export interface SeriesDef {
  name: string;
  labels: Record<string, string>;
}

/** The per-session series deltas an event produces, as the collector names them (also bench/history.ts). */
export function deltas(e: SimEvent): Array<[SeriesDef, number]> {
  // vscode_workspace_name: the resource attribute the extension's terminals set, copied onto every point of
  // Claude Code's own metrics (not onto the count connector's): each session works in one of three projects.
  const base = {
    job: 'claude-code',
    instance: 'collector-1',
    session_id: e.session,
    user_id: 'u-1f2e3d',
    terminal_type: 'vscode',
    vscode_workspace_name: PROJECTS[parseInt(e.session.slice(0, 2), 16) % PROJECTS.length]!,
  };
  const out: Array<[SeriesDef, number]> = [];
  switch (e.kind) {
    case 'session_start':
      out.push([{ name: 'claude_code_session_count_total', labels: { ...base, start_type: 'fresh' } }, 1]);
      break;
    case 'api_request': {
      const ml = {
        ...base,
        model: e.model,
        query_source: e.subagent ? 'subagent' : 'main',
        effort: 'medium',
        ...(e.subagent?.name ? { agent_name: e.subagent.name } : {}),
      };
      out.push([{ name: 'claude_code_cost_usage_USD_total', labels: ml }, e.costUsd]);
      for (const type of ['input', 'output', 'cacheRead', 'cacheCreation'] as const) {
        if (e.tokens[type] > 0)
          out.push([{ name: 'claude_code_token_usage_tokens_total', labels: { ...ml, type } }, e.tokens[type]]);
      }
      out.push([{ name: 'claude_code_active_time_seconds_total', labels: { ...base, type: 'cli' } }, e.cliSeconds]);
      out.push([
        {
          name: 'claude_code_api_requests_total',
          labels: { job: base.job, instance: base.instance, session_id: e.session, model: e.model },
        },
        1,
      ]);
      break;
    }
    case 'tool_result':
      out.push([
        {
          name: 'claude_code_tool_results_total',
          labels: {
            job: base.job,
            instance: base.instance,
            session_id: e.session,
            tool_name: e.tool,
            success: String(e.success),
            error_type: e.errorType,
          },
        },
        1,
      ]);
      out.push([{ name: 'claude_code_active_time_seconds_total', labels: { ...base, type: 'user' } }, e.userSeconds]);
      break;
    case 'api_error':
      out.push([
        {
          name: 'claude_code_api_errors_total',
          labels: {
            job: base.job,
            instance: base.instance,
            session_id: e.session,
            model: e.model,
            status_code: String(e.statusCode),
          },
        },
        1,
      ]);
      break;
    case 'lines':
      if (e.added)
        out.push([{ name: 'claude_code_lines_of_code_count_total', labels: { ...base, type: 'added' } }, e.added]);
      if (e.removed)
        out.push([{ name: 'claude_code_lines_of_code_count_total', labels: { ...base, type: 'removed' } }, e.removed]);
      break;
    case 'commit':
      out.push([{ name: 'claude_code_commit_count_total', labels: base }, 1]);
      break;
    case 'edit_decision':
      out.push([
        {
          name: 'claude_code_code_edit_tool_decision_total',
          labels: { ...base, tool_name: 'Edit', decision: e.decision, language: 'TypeScript' },
        },
        1,
      ]);
      break;
  }
  return out;
}

function seriesKey(s: SeriesDef): string {
  return `${s.name}{${Object.keys(s.labels)
    .sort()
    .map((k) => `${k}="${s.labels[k]}"`)
    .join(',')}}`;
}

/** Samples the collector's exporter as Prometheus scrapes it, and renders OpenMetrics. */
export function simulate(o: SimOptions): SimResult {
  const { events, sessions } = generateEvents(o);
  const end = o.t0 + o.durationSeconds;
  // Per series: list of [time, value] samples.
  const samplesBy = new Map<string, { def: SeriesDef; points: Array<[number, number]> }>();
  const state = new Map<string, { def: SeriesDef; value: number }>();
  let ei = 0;
  let restartIdx = 0;
  const restarts = [...o.restarts].sort((a, b) => a[0] - b[0]);
  let collectorUpAt = -Infinity;
  let quickDone = false;
  const quickSession = o.quickReset ? sessions[o.quickReset[1]] : undefined;
  const quickPrev = new Map<string, number>();
  for (let s = o.t0; s <= end; s += o.scrapeSeconds) {
    if (o.quickReset && !quickDone && o.quickReset[0] <= s) {
      quickDone = true;
      for (const [k, v] of state) {
        if (v.def.labels['session_id'] === quickSession) {
          quickPrev.set(k, v.value);
          state.delete(k);
        }
      }
    }
    // Collector restarts: every running total is lost.
    while (restartIdx < restarts.length && restarts[restartIdx]![0] <= s) {
      const [r, d] = restarts[restartIdx]!;
      state.clear();
      collectorUpAt = r + d;
      restartIdx++;
    }
    // Deltas that reached the collector by this scrape.
    while (ei < events.length && events[ei]!.t + EXPORT_DELAY <= s) {
      const e = events[ei]!;
      if (
        e.t + EXPORT_DELAY < collectorUpAt &&
        restarts.some(([r, d]) => e.t + EXPORT_DELAY >= r && e.t + EXPORT_DELAY < r + d)
      ) {
        throw new Error(`sim: event at ${e.t} falls in a collector downtime`);
      }
      for (const [def, delta] of deltas(e)) {
        const k = seriesKey(def);
        const st = state.get(k) ?? { def, value: 0 };
        st.value += delta;
        state.set(k, st);
      }
      ei++;
    }
    if (s < collectorUpAt) continue; // collector down: scrape fails
    for (const [k, st] of state) {
      let entry = samplesBy.get(k);
      if (!entry) samplesBy.set(k, (entry = { def: st.def, points: [] }));
      const prev = entry.points[entry.points.length - 1];
      const value = Math.round(st.value * 1e9) / 1e9;
      if (prev && s - prev[0] <= 300 && value < prev[1] && !quickPrev.has(k)) {
        throw new Error(`sim: series ${k} dropped within the lookback outside the quick reset`);
      }
      if (quickPrev.has(k)) quickPrev.delete(k);
      entry.points.push([s, value]);
    }
  }
  // Recording rules (stack/prometheus/rules/recording.yml, docs/architecture.md), evaluated every 10 s the way the
  // real rules do: per raw series, the value now (instant lookup, 5 m lookback) minus the value the rule saw at its
  // previous evaluation of that series (any time before), the whole value when the series is new or went down, every
  // label kept. promtool's rule backfill cannot evaluate these rules (each evaluation reads the rule's own previous
  // output), so the test computes them here and backfills them with the raw series.
  const ruleSamples = new Map<string, { def: SeriesDef; points: Array<[number, number]> }>();
  // claude_code:<x>:last_value: every label of the raw series, a sample whenever the value the rule sees changes.
  const lastValueSamples = new Map<string, { def: SeriesDef; points: Array<[number, number]> }>();
  const ruleLosses: RuleLoss[] = [];
  const seen = new Map<string, number>();
  const resetSince = new Set<string>();
  const series = [...samplesBy.entries()];
  const cursor = new Map<string, number>();
  const resetTimes = [...restarts.map(([r]) => r), ...(o.quickReset ? [o.quickReset[0]] : [])].sort((a, b) => a - b);
  let nextReset = 0;
  const append = (
    into: Map<string, { def: SeriesDef; points: Array<[number, number]> }>,
    k: string,
    def: SeriesDef,
    t: number,
    v: number,
  ): void => {
    let entry = into.get(k);
    if (!entry) into.set(k, (entry = { def, points: [] }));
    entry.points.push([t, v]);
  };
  for (let t = o.t0 + RULE_OFFSET; t <= (o.evaluateUntil ?? end + 600); t += RULE_INTERVAL_MS / 1000) {
    while (nextReset < resetTimes.length && resetTimes[nextReset]! <= t) {
      const rt = resetTimes[nextReset]!;
      const onlySession = o.quickReset && o.quickReset[0] === rt ? quickSession : undefined;
      for (const [k, v] of series) if (!onlySession || v.def.labels['session_id'] === onlySession) resetSince.add(k);
      nextReset++;
    }
    for (const [k, { def, points }] of series) {
      let i = cursor.get(k) ?? -1;
      while (i + 1 < points.length && points[i + 1]![0] <= t) i++;
      cursor.set(k, i);
      if (i < 0 || t - points[i]![0] >= 300) continue;
      const v = points[i]![1];
      const rule = RULE_OF[def.name];
      if (!rule) continue;
      const prev = seen.get(k);
      const postReset = resetSince.has(k) && points[i]![0] > lastResetBefore(resetTimes, t);
      let inc: number;
      if (prev === undefined || v < prev) inc = v;
      else {
        inc = v - prev;
        // Came back after a reset at or above the old value: the rule cannot see the reset.
        if (postReset && prev > 0) ruleLosses.push({ rule, labels: def.labels, amount: prev, t });
      }
      if (postReset) resetSince.delete(k);
      if (prev !== v) append(lastValueSamples, k, { name: LAST_VALUE_OF[rule]!, labels: def.labels }, t, v);
      seen.set(k, v);
      // `> 0`: the rules write only non-zero increases.
      const value = Math.round(inc * 1e9) / 1e9;
      if (value > 0) append(ruleSamples, k, { name: rule, labels: def.labels }, t, value);
    }
  }

  // OpenMetrics: samples grouped by metric family, each series in time order.
  const byFamily = new Map<string, Array<{ def: SeriesDef; points: Array<[number, number]> }>>();
  for (const v of [...samplesBy.values(), ...ruleSamples.values(), ...lastValueSamples.values(), ...planGauges(o)]) {
    const list = byFamily.get(v.def.name) ?? [];
    list.push(v);
    byFamily.set(v.def.name, list);
  }
  const lines: string[] = [];
  let n = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const [name, list] of [...byFamily.entries()].sort()) {
    if (name.endsWith('_total')) lines.push(`# TYPE ${name.replace(/_total$/, '')} counter`);
    else lines.push(`# TYPE ${name} gauge`);
    for (const { def, points } of list) {
      const lbl = Object.keys(def.labels)
        .sort()
        .map((k) => `${k}="${def.labels[k]}"`)
        .join(',');
      for (const [t, v] of points) {
        lines.push(`${name}${lbl ? `{${lbl}}` : ''} ${v} ${t}`);
        n++;
        first = Math.min(first, t);
        last = Math.max(last, t);
      }
    }
  }
  lines.push('# EOF');
  return {
    ruleLosses,
    events,
    sessions,
    openMetrics: `${lines.join('\n')}\n`,
    samples: n,
    firstSample: first,
    lastSample: last,
  };
}

// ---- truth, from the events (what Loki's api_request cost_usd sum would say) ----

/** The plan gauges of `o.planLimit`, at every scrape the collector answered. */
function planGauges(o: SimOptions): Array<{ def: SeriesDef; points: Array<[number, number]> }> {
  if (!o.planLimit) return [];
  const { from, to, resetsAt } = o.planLimit;
  const labels = { job: 'claude-code', instance: 'collector-1', window: 'five_hour' };
  const scrapes: number[] = [];
  // The exporter serves a gauge at every scrape until it expires: up to the last rule evaluation, the test's "now".
  for (let s = o.t0; s <= (o.evaluateUntil ?? o.t0 + o.durationSeconds); s += o.scrapeSeconds) {
    if (!o.restarts.some(([r, d]) => s >= r && s < r + d)) scrapes.push(s);
  }
  return [
    {
      def: { name: 'claude_code_plan_usage_percent', labels },
      points: scrapes.map((s) => [s, s >= from && s < to ? 100 : 60]),
    },
    { def: { name: 'claude_code_plan_resets_at_seconds', labels }, points: scrapes.map((s) => [s, resetsAt]) },
  ];
}

export function inWindow(e: SimEvent, startS: number, endS: number): boolean {
  return e.t > startS && e.t <= endS;
}

export function trueCost(events: SimEvent[], startS: number, endS: number, session?: string): number {
  let c = 0;
  for (const e of events)
    if (e.kind === 'api_request' && inWindow(e, startS, endS) && (!session || e.session === session)) c += e.costUsd;
  return c;
}

export function trueCostByModel(events: SimEvent[], startS: number, endS: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events)
    if (e.kind === 'api_request' && inWindow(e, startS, endS)) out[e.model] = (out[e.model] ?? 0) + e.costUsd;
  return out;
}

export function trueTokens(
  events: SimEvent[],
  startS: number,
  endS: number,
  session?: string,
): Record<TokenKind, number> {
  const out: Record<TokenKind, number> = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 };
  for (const e of events) {
    if (e.kind !== 'api_request' || !inWindow(e, startS, endS) || (session && e.session !== session)) continue;
    for (const k of Object.keys(out) as TokenKind[]) out[k] += e.tokens[k];
  }
  return out;
}

export function trueCount(
  events: SimEvent[],
  kind: SimEvent['kind'],
  startS: number,
  endS: number,
  pred: (e: SimEvent) => boolean = () => true,
): number {
  return events.filter((e) => e.kind === kind && inWindow(e, startS, endS) && pred(e)).length;
}

/** Sum of the losses of `rule` in (startS, endS], of the series `pred` selects (default all). */
export function lossIn(
  losses: RuleLoss[],
  rule: string,
  startS: number,
  endS: number,
  pred: (labels: Record<string, string>) => boolean = () => true,
): number {
  return losses
    .filter((l) => l.rule === rule && l.t > startS && l.t <= endS && pred(l.labels))
    .reduce((a, l) => a + l.amount, 0);
}

/**
 * The simulated rules' evaluation clock, for TelemetryReader's `rulesEvaluatedAt`: the last evaluation at or before
 * `nowMs` (the rules evaluate at t0 + RULE_OFFSET + 10 k, up to `evaluateUntil`). The real Prometheus of the tests
 * does not evaluate this history's rules (simulate() computed their output), so its own /api/v1/rules cannot say.
 */
export function simRulesClock(
  o: Pick<SimOptions, 't0' | 'durationSeconds' | 'evaluateUntil'>,
): (nowMs: number) => Promise<number | null> {
  const first = o.t0 + RULE_OFFSET;
  const last = o.evaluateUntil ?? o.t0 + o.durationSeconds + 600;
  const step = RULE_INTERVAL_MS / 1000;
  return async (nowMs) => {
    const now = Math.min(nowMs / 1000, last);
    return now < first ? null : Math.round((first + Math.floor((now - first) / step) * step) * 1000);
  };
}
