// What an import of Claude Code's transcripts writes: pure, tested without a store. Each answer is counted once
// (ccusage's key, message id and request id), telemetry wins over the transcript for what it reported, and what is
// left becomes the very series the collector and the recording rules would have written had it arrived live: the raw
// per-session counters, and their rules' increases and last values on an evaluation grid. Every view,
// rule, alert and Grafana panel then reads it without a second code path. Plain Node: never import `vscode`.
import { COUNTERS, IMPORT_LABEL, IMPORT_VALUE, RULE_INTERVAL_MS, type CounterId } from '../telemetry/counters';
import { projectOf, type UsageEntry } from './transcripts';

export { IMPORT_LABEL, IMPORT_VALUE };

/** The counters an import writes, with the token types of Claude Code's `type` label. */
export const IMPORTED_COUNTERS = ['cost', 'tokens', 'sessions'] as const satisfies readonly CounterId[];

/** What the import knows of the telemetry the store holds. */
export interface TelemetryCoverage {
  /** Sessions that reported telemetry (any of their cost or session series, not imported). */
  sessions: ReadonlySet<string>;
  /** Per such session, the request ids of its `api_request` events; absent when Loki could not say (too old, down). */
  requests: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface PlanOptions {
  nowMs: number;
  /** How far back the store keeps samples: older answers are left out (and counted). */
  reachMs: number;
  /**
   * Answers younger than this wait for the next run: telemetry of a wired session reaches the store within seconds,
   * and an answer counted from its transcript first would count twice.
   */
  settleMs: number;
  /** Per series, the newest sample an earlier import wrote: only later ones are sent. */
  written: ReadonlyMap<string, number>;
  /** The price of an answer in USD, or undefined when its model is not in the price table. */
  price: (entry: UsageEntry) => number | undefined;
}

export interface Sample {
  timeMs: number;
  value: number;
}

export interface PlannedSeries {
  /** The metric name, as Prometheus holds it. */
  name: string;
  labels: Record<string, string>;
  samples: Sample[];
}

export interface ImportPlan {
  /**
   * The series to write, each with the samples no earlier import wrote, made one counter series at a time: a year of
   * history is millions of samples, and the plan keeps only each series' answers as numbers.
   */
  series(): Generator<PlannedSeries>;
  /** How many samples series() gives, and the oldest of them (unix ms; null when none: the store's past is as it was). */
  samples: number;
  fromMs: number | null;
  /** Per series key, its newest sample: what the next run starts after. */
  written: Map<string, number>;
  counts: {
    /** Distinct answers found in the transcripts. */
    answers: number;
    /** Lines that repeat an answer already counted (resumed and forked sessions). */
    duplicates: number;
    /** Answers the telemetry reported: not imported. */
    reported: number;
    /** Answers older than the store keeps. */
    beyondReach: number;
    /** Answers left for the next run (younger than settleMs). */
    settling: number;
    /** Answers imported (new and earlier ones). */
    imported: number;
    /** Sessions with at least one imported answer. */
    sessions: number;
  };
  /** Models with no price, and their imported answers: their tokens are shown, their cost is not. */
  unpriced: Map<string, number>;
  /** The oldest imported answer (unix ms), or null. */
  oldestMs: number | null;
}

const TOKEN_TYPES = ['input', 'output', 'cacheRead', 'cacheCreation'] as const;

/** A series' identity: its name and labels in a fixed order. */
export function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)))}`;
}

/**
 * The evaluation whose increase counts an answer at t: the next multiple of the rules' interval. Prometheus' own
 * evaluations run at an offset of the group's (and report only when they began), so the grid is a fixed one: the same
 * answer lands on the same sample at every import. The live rules never count an imported answer again: it is written
 * only once it is older than PlanOptions.settleMs, by when every evaluation that sees its raw series also sees the
 * last value written with it (their lookback is LAST_VALUE_LOOKBACK, from one interval back).
 */
export function evaluationAt(timeMs: number): number {
  return Math.ceil(timeMs / RULE_INTERVAL_MS) * RULE_INTERVAL_MS;
}

export function planImport(
  entries: Iterable<UsageEntry>,
  coverage: TelemetryCoverage,
  options: PlanOptions,
): ImportPlan {
  const counts = { answers: 0, duplicates: 0, reported: 0, beyondReach: 0, settling: 0, imported: 0, sessions: 0 };
  const seen = new Set<string>();
  const kept: UsageEntry[] = [];
  const oldest = options.nowMs - options.reachMs;
  const newest = options.nowMs - options.settleMs;
  for (const e of entries) {
    // ccusage's rule: an answer with both ids is counted once; one missing either is always counted.
    if (e.messageId && e.requestId) {
      const key = `${e.messageId}:${e.requestId}`;
      if (seen.has(key)) {
        counts.duplicates++;
        continue;
      }
      seen.add(key);
    }
    counts.answers++;
    if (coverage.sessions.has(e.sessionId)) {
      const ids = coverage.requests.get(e.sessionId);
      // Without the session's events, telemetry is taken to hold all of it: counting twice is the worse error.
      if (!ids || ids.has(e.requestId)) {
        counts.reported++;
        continue;
      }
    }
    if (e.timeMs <= oldest) counts.beyondReach++;
    else if (e.timeMs > newest) counts.settling++;
    else kept.push(e);
  }
  kept.sort((a, b) => a.timeMs - b.timeMs);

  // Builders by their labels' values (a series' labels are made once, when it first appears).
  const builders = new Map<string, SeriesBuilder>();
  const add = (
    counter: CounterId,
    key: string,
    labels: () => Record<string, string>,
    timeMs: number,
    increment: number,
  ): void => {
    let b = builders.get(`${counter}\u0000${key}`);
    if (!b) builders.set(`${counter}\u0000${key}`, (b = new SeriesBuilder(counter, labels())));
    b.add(timeMs, increment);
  };
  const unpriced = new Map<string, number>();
  const sessions = new Set<string>();
  for (const e of kept) {
    const project = projectOf(e.cwd);
    const common = (): Record<string, string> => ({
      session_id: e.sessionId,
      vscode_workspace_name: project,
      ...(e.entrypoint ? { app_entrypoint: e.entrypoint } : {}),
      [IMPORT_LABEL]: IMPORT_VALUE,
    });
    const perModel = (): Record<string, string> => ({
      ...common(),
      model: e.model,
      query_source: e.sidechain ? 'subagent' : 'main',
      ...(e.agent ? { agent_name: e.agent } : {}),
    });
    // The values of the labels below, in their order: equal keys, equal labels.
    const sessionKey = `${e.sessionId}\u0000${project}\u0000${e.entrypoint}`;
    const modelKey = `${sessionKey}\u0000${e.model}\u0000${e.sidechain}\u0000${e.agent}`;
    if (!sessions.has(e.sessionId)) {
      sessions.add(e.sessionId);
      // The session's start, unless telemetry counted it (then only its unreported answers are imported).
      if (!coverage.sessions.has(e.sessionId)) add('sessions', sessionKey, common, e.timeMs, 1);
    }
    const cost = options.price(e);
    if (cost === undefined) unpriced.set(e.model, (unpriced.get(e.model) ?? 0) + 1);
    else if (cost > 0) add('cost', modelKey, perModel, e.timeMs, cost);
    const tokens = [e.input, e.output, e.cacheRead, e.cacheWrite5m + e.cacheWrite1h];
    TOKEN_TYPES.forEach((type, i) => {
      if (tokens[i]! > 0)
        add('tokens', `${modelKey}\u0000${type}`, () => ({ ...perModel(), type }), e.timeMs, tokens[i]!);
    });
  }
  counts.imported = kept.length;
  counts.sessions = sessions.size;

  const written = new Map(options.written);
  let samples = 0;
  let fromMs = Infinity;
  for (const b of builders.values()) {
    for (const { name, key, times } of b.sampleTimes()) {
      const after = options.written.get(key) ?? -Infinity;
      const fresh = times.filter((t) => t > after);
      if (fresh.length === 0) continue;
      samples += fresh.length;
      fromMs = Math.min(fromMs, fresh[0]!);
      written.set(key, fresh[fresh.length - 1]!);
      b.after.set(name, after);
    }
  }
  function* series(): Generator<PlannedSeries> {
    for (const b of builders.values()) yield* b.series();
  }
  return {
    series,
    samples,
    fromMs: Number.isFinite(fromMs) ? fromMs : null,
    written,
    counts,
    unpriced,
    oldestMs: kept[0]?.timeMs ?? null,
  };
}

/** One imported counter series, built up answer by answer in time order, as numbers. */
class SeriesBuilder {
  private readonly times: number[] = [];
  private readonly increments: number[] = [];
  /** Per series name, the newest sample an earlier import wrote (only series with something new are here). */
  readonly after = new Map<string, number>();

  constructor(
    private readonly counter: CounterId,
    private readonly labels: Record<string, string>,
  ) {}

  add(timeMs: number, increment: number): void {
    const last = this.times.length - 1;
    if (last >= 0 && this.times[last] === timeMs) this.increments[last]! += increment;
    else {
      this.times.push(timeMs);
      this.increments.push(increment);
    }
  }

  /** Its three series' names, keys and sample times (the raw series at each answer, the rules' at evaluations). */
  sampleTimes(): Array<{ name: string; key: string; times: number[] }> {
    const c = COUNTERS[this.counter];
    const evaluations = [...new Set(this.times.map(evaluationAt))];
    return [
      { name: c.metric, key: seriesKey(c.metric, this.labels), times: this.times },
      { name: c.rule, key: seriesKey(c.rule, this.labels), times: evaluations },
      { name: c.lastValue, key: seriesKey(c.lastValue, this.labels), times: evaluations },
    ];
  }

  /**
   * The raw cumulative series, and the rules' increase and last value at each evaluation that saw it change: those
   * with samples no earlier import wrote, and only those samples.
   */
  *series(): Generator<PlannedSeries> {
    const c = COUNTERS[this.counter];
    const raw: Sample[] = [];
    const increases: Sample[] = [];
    const lastValues: Sample[] = [];
    let total = 0;
    this.times.forEach((timeMs, i) => {
      const increment = this.increments[i]!;
      total += increment;
      raw.push({ timeMs, value: total });
      const at = evaluationAt(timeMs);
      const open = increases[increases.length - 1];
      if (open && open.timeMs === at) {
        open.value += increment;
        lastValues[lastValues.length - 1]!.value = total;
      } else {
        increases.push({ timeMs: at, value: increment });
        lastValues.push({ timeMs: at, value: total });
      }
    });
    for (const [name, samples] of [
      [c.metric, raw],
      [c.rule, increases],
      [c.lastValue, lastValues],
    ] as const) {
      const after = this.after.get(name);
      if (after !== undefined) yield { name, labels: this.labels, samples: samples.filter((p) => p.timeMs > after) };
    }
  }
}
