// Synthetic Claude Code history in the collector's shape, written as OpenMetrics chunks and backfilled into the test
// helpers' real Prometheus (the pinned 3.x) with `promtool tsdb create-blocks-from openmetrics`.
// Its size: one generator of a large history, laid out as a real Prometheus holds it.
//
// Events come from test/support/sim.ts (generateEvents): the same sessions, models, tools, errors and
// truth functions as the telemetry tests. What this file adds is a generator that scales to 90 days of 10,000
// sessions (sim.ts's simulate() evaluates every rule over every series every 10 s and builds one string: fine for
// hours, not for months):
//
// - Raw series: the per-session cumulative counters the collector's prometheus exporter serves (same names and
//   labels as sim.ts: session_id, model, type, tool_name, success, error_type, ...), sampled on a scrape grid of
//   `scrapeSeconds` from the scrape after a series' first delta until the exporter drops it. The exporter keeps an
//   idle series for 25 h (metric_expiration): series whose 25 h reach into the last 25 h of history keep them in
//   full, so a query over the last day (the seeds' 24 h panels, the status bar's fresh part at "now") reads what a
//   real stack holds; older series keep only `tailSeconds`, or 90 days would not fit in minutes of generation.
//   The shipped stack scrapes every 5 s, the bench every 15 s by default. Both make queries over raw per-session
//   series older than a day (the seeds' 7 d and 30 d panels) CHEAPER here than on the real stack; see
//   docs/benchmarks.md.
// - Recording-rule series (stack/prometheus/rules/recording.yml): evaluated every 10 s with the rules' semantics
//   (a series' first value and every change counted once, at the first evaluation after the scrape that saw it,
//   every label of the raw series kept), written only where the increase is not zero (the rules' `> 0`): the real
//   density, independent of the scrape grid and of the exporter's expiration.
//   Not modelled: the staleness marker Prometheus writes when a rule series it wrote at the previous evaluation is
//   absent (promtool cannot backfill one); a real sparse rule series holds up to twice these samples.
// - The `:last_value` helpers (every label of the raw series): a sample at the first evaluation after each scrape
//   that changed the value, as the rules write them. Also their real density.
//
// Blocks: as Prometheus lays them out. It compacts its 2 h blocks into ranges of 2 h x 3^n up to 10 % of the
// retention (31 d at most), and compacts a range only once the next one has begun. The history is written in the
// blocks Prometheus would hold at its end: the largest range up to its current period, then each smaller range up to
// its own, the last ~3 h in 2 h blocks (where Prometheus has its head). One OpenMetrics chunk per block, since
// promtool parses a file once per block it writes. The helper Prometheus runs with the history's retention, so it has
// nothing left to compact while the bench runs.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXPORT_DELAY, RULE_OF, RULE_OFFSET, SimEvent, deltas, generateEvents } from '../test/support/sim';
import { PrometheusInstance, startLoadedPrometheus } from '../test/support/promServer';
import { components } from '../test/support/components';
import { COUNTERS } from '../src/telemetry/counters';

export interface HistoryOptions {
  label: string;
  seed: number;
  sessions: number;
  days: number;
  /** Unix s: the last event; queries run a little after. */
  endS: number;
  scrapeSeconds: number;
  /** How long a raw series older than the last two days stays exported after its last change (the real exporter: 25 h). */
  tailSeconds: number;
  /** A team's history: each session is one of this many developers', named on its series as the gateway names them
   * (`user_email`, dev001@example.com, ...). Undefined: one developer's, without the label. */
  developers?: number;
}

/** The developer a team history gives a session (HistoryOptions.developers). */
export function developerOf(session: string, developers: number): string {
  return `dev${String((parseInt(session.slice(0, 8), 16) % developers) + 1).padStart(3, '0')}@example.com`;
}

export interface History {
  options: HistoryOptions;
  events: SimEvent[];
  sessions: string[];
  series: number;
  rawSamples: number;
  ruleSeries: number;
  ruleSamples: number;
  /** `:last_value` helper samples (one series per raw series). */
  lastValueSamples: number;
  generateMs: number;
  backfillMs: number;
  prom: PrometheusInstance;
  /** The evaluation clock of the history's rules (TelemetryReader's `rulesEvaluatedAt`): the helper Prometheus
   * evaluates them only live, on the wall clock, after the history. */
  rulesEvaluatedAt: (nowMs: number) => Promise<number | null>;
}

const RULE_INTERVAL = 10;
/** The collector's exporter: metric_expiration (stack/collector/config.yaml). */
const EXPORTER_EXPIRATION_S = 25 * 3600;

/** Prometheus' retention for a history of `days`: the stack's default (30 d), or enough to hold it. */
export function retentionDays(days: number): number {
  return Math.max(30, days + 1);
}

/** Block ranges (s, ascending) Prometheus compacts to with this retention: 2 h x 3^n up to min(10 %, 31 d). */
function blockRanges(retention: number): number[] {
  const max = Math.min((retention * 86400) / 10, 31 * 86400);
  const out = [7200];
  while (out[out.length - 1]! * 3 <= max) out.push(out[out.length - 1]! * 3);
  return out;
}

type Labels = Record<string, string>;

function renderLabels(l: Labels): string {
  const keys = Object.keys(l).sort();
  return keys.length ? `{${keys.map((k) => `${k}="${l[k]}"`).join(',')}}` : '';
}

interface RawSeries {
  name: string;
  text: string; // name{labels}
  /** The `:last_value` helper's name{labels}. */
  helperText: string;
  /** The rule series it adds to: the aggregate's, and the per-session rule's where there is one. */
  groups: string[];
  /** Scrape indices where the value changed, and the cumulative value from there on. */
  idx: number[];
  val: number[];
}

interface RuleGroup {
  name: string;
  text: string;
  /** Eval index -> increase. */
  inc: Map<number, number>;
  /** Eval indices with a non-zero increase, ascending (the samples the rule writes). */
  evals: number[];
}

function round9(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}

/** Writes a file in pieces; returns lines written. */
class Writer {
  private fd: number;
  private buf: string[] = [];
  private size = 0;
  lines = 0;
  /** `# TYPE` and `# EOF` lines: a chunk with no other line has no sample. */
  headers = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  line(s: string): void {
    this.buf.push(s);
    this.size += s.length;
    this.lines++;
    if (s.startsWith('# ')) this.headers++;
    if (this.size > 8 << 20) this.flush();
  }
  flush(): void {
    if (this.buf.length) writeSync(this.fd, `${this.buf.join('\n')}\n`);
    this.buf = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    p.once('error', reject);
    p.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err}`)),
    );
  });
}

/** A history written as TSDB blocks, not yet in a store. */
export interface HistoryBlocks extends Omit<History, 'prom' | 'backfillMs'> {
  /** The blocks' folder (each block a folder in it); `remove()` deletes it with what is left in it. */
  dir: string;
  remove(): void;
  /** Resolves once the store at `url` (its Prometheus API) answers the whole history; throws after 150 s. */
  loaded(url: string, headers?: Record<string, string>): Promise<void>;
}

/** The history in the helper Prometheus (the stack's store). */
export async function buildHistory(o: HistoryOptions, log: (s: string) => void): Promise<History> {
  const blocks = await writeHistoryBlocks(o, log);
  // A Prometheus from the helpers (started on a one-sample marker far in the past), then the blocks moved into its
  // data dir: Prometheus reloads the blocks on disk every minute.
  const b0 = performance.now();
  const prom = await startLoadedPrometheus({
    openMetrics: '# TYPE cct_bench_marker gauge\ncct_bench_marker 1 1000000000\n# EOF\n',
    retentionDays: retentionDays(o.days),
  });
  for (const d of readdirSync(blocks.dir)) renameSync(join(blocks.dir, d), join(prom.dir, 'data', d));
  blocks.remove();
  await blocks.loaded(prom.url);
  const backfillMs = performance.now() - b0;
  log(`  ${o.label}: block reload wait ${(backfillMs / 1000).toFixed(0)} s`);
  return {
    options: blocks.options,
    events: blocks.events,
    sessions: blocks.sessions,
    series: blocks.series,
    rawSamples: blocks.rawSamples,
    ruleSeries: blocks.ruleSeries,
    ruleSamples: blocks.ruleSamples,
    lastValueSamples: blocks.lastValueSamples,
    generateMs: blocks.generateMs,
    rulesEvaluatedAt: blocks.rulesEvaluatedAt,
    prom,
    backfillMs,
  };
}

export async function writeHistoryBlocks(o: HistoryOptions, log: (s: string) => void): Promise<HistoryBlocks> {
  const t0 = performance.now();
  const durationS = o.days * 86400;
  const startS = o.endS - durationS;
  // generateEvents spreads session starts over the first 85 % of its run: stretch it so they cover the whole
  // history up to endS, and drop what would happen after endS.
  const gen = generateEvents({
    seed: o.seed,
    t0: startS,
    durationSeconds: Math.ceil(durationS / 0.85),
    sessions: o.sessions,
    scrapeSeconds: o.scrapeSeconds,
    quietAt: [],
    quietSeconds: 0,
    restarts: [],
  });
  const events = gen.events.filter((e) => e.t <= o.endS);
  const S = o.scrapeSeconds;
  const grid0 = Math.floor(startS / S) * S;
  const scrapeOf = (arrival: number): number => Math.ceil((arrival - grid0) / S); // first scrape >= arrival
  const timeOf = (k: number): number => grid0 + k * S;
  const eval0 = grid0 + RULE_OFFSET;
  const evalOf = (s: number): number => Math.ceil((s - eval0) / RULE_INTERVAL); // first eval >= s
  const lastScrape = scrapeOf(o.endS + 600);

  // Raw series with their change points.
  const series = new Map<string, RawSeries>();
  for (const e of events) {
    const k = scrapeOf(e.t + EXPORT_DELAY);
    const developer: Labels = o.developers ? { user_email: developerOf(e.session, o.developers) } : {};
    for (const [{ name, labels }, d] of deltas(e)) {
      const text = `${name}${renderLabels({ ...labels, ...developer })}`;
      let s = series.get(text);
      if (!s) {
        // The rule keeps every label of its raw series: one rule series per raw series.
        const rule = RULE_OF[name]!;
        const all = { ...labels, ...developer };
        const helperText = `${rule.replace(/:increase10s$/, ':last_value')}${renderLabels(all)}`;
        s = { name, text, helperText, groups: [`${rule}${renderLabels(all)}`], idx: [], val: [] };
        series.set(text, s);
      }
      const last = s.val.length - 1;
      if (last >= 0 && s.idx[last] === k) s.val[last] = s.val[last]! + d;
      else {
        s.idx.push(k);
        s.val.push((last >= 0 ? s.val[last]! : 0) + d);
      }
    }
  }

  // Rule groups: increases at the first evaluation after each change's scrape, written where not zero.
  const groups = new Map<string, RuleGroup>();
  for (const s of series.values()) {
    for (const text of s.groups) {
      let g = groups.get(text);
      if (!g) {
        const brace = text.indexOf('{');
        g = { name: brace < 0 ? text : text.slice(0, brace), text, inc: new Map(), evals: [] };
        groups.set(text, g);
      }
      let prev = 0;
      for (let i = 0; i < s.idx.length; i++) {
        const j = evalOf(timeOf(s.idx[i]!));
        g.inc.set(j, (g.inc.get(j) ?? 0) + s.val[i]! - prev);
        prev = s.val[i]!;
      }
    }
  }
  for (const g of groups.values())
    g.evals = [...g.inc.keys()].filter((j) => round9(g.inc.get(j)!) > 0).sort((a, b) => a - b);
  const lastEval = evalOf(o.endS + 600);

  // Families in a fixed order (OpenMetrics wants a family's samples together).
  const byFamily = new Map<string, RawSeries[]>();
  for (const s of series.values()) {
    const l = byFamily.get(s.name) ?? [];
    l.push(s);
    byFamily.set(s.name, l);
  }
  const helperFamilies = new Map<string, RawSeries[]>();
  for (const s of series.values()) {
    const name = s.helperText.slice(0, s.helperText.indexOf('{'));
    const l = helperFamilies.get(name) ?? [];
    l.push(s);
    helperFamilies.set(name, l);
  }
  const ruleFamilies = new Map<string, RuleGroup[]>();
  for (const g of groups.values()) {
    const l = ruleFamilies.get(g.name) ?? [];
    l.push(g);
    ruleFamilies.set(g.name, l);
  }

  const work = join(tmpdir(), `cct-bench-${o.label}-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'blocks'), { recursive: true });
  let rawSamples = 0;
  let ruleSamples = 0;
  let lastValueSamples = 0;
  // Chunks [lo, hi) with their block range: one per block, as Prometheus lays them out (see the header).
  const recentS = Math.floor((o.endS - 3 * 3600) / 7200) * 7200;
  const chunks: Array<[number, number, number]> = [];
  let cursor = startS;
  for (const range of blockRanges(retentionDays(o.days)).reverse()) {
    const until = Math.floor(recentS / range) * range;
    while (cursor < until) {
      const hi = Math.min(until, (Math.floor(cursor / range) + 1) * range);
      chunks.push([cursor, hi, range]);
      cursor = hi;
    }
  }
  chunks.push([cursor, o.endS + 3600, 7200]);
  const pending: Array<Promise<void>> = [];
  let genMs = 0;
  let promtoolMs = 0;
  const fullTailFrom = scrapeOf(o.endS - 2 * EXPORTER_EXPIRATION_S);
  for (const [b, [lo, hi, blockRange]] of chunks.entries()) {
    const g0 = performance.now();
    // [lo, hi)
    const file = join(work, `chunk-${b}.om`);
    const w = new Writer(file);
    const kLo = Math.max(0, Math.ceil((lo - grid0) / S));
    const kHi = Math.min(lastScrape, Math.ceil((hi - grid0) / S) - 1);
    const shortTail = Math.floor(o.tailSeconds / S);
    const fullTail = Math.floor(EXPORTER_EXPIRATION_S / S);
    for (const [name, list] of [...byFamily.entries()].sort((a, c) => a[0].localeCompare(c[0]))) {
      w.line(`# TYPE ${name.replace(/_total$/, '')} counter`);
      for (const s of list) {
        const first = s.idx[0]!;
        const lastChange = s.idx[s.idx.length - 1]!;
        const last = lastChange + (lastChange >= fullTailFrom ? fullTail : shortTail);
        const from = Math.max(first, kLo);
        const to = Math.min(last, kHi);
        if (from > to) continue;
        let p = 0;
        while (p + 1 < s.idx.length && s.idx[p + 1]! <= from) p++;
        for (let k = from; k <= to; k++) {
          while (p + 1 < s.idx.length && s.idx[p + 1]! <= k) p++;
          w.line(`${s.text} ${round9(s.val[p]!)} ${timeOf(k)}`);
        }
        rawSamples += to - from + 1;
      }
    }
    const jLo = Math.max(0, Math.ceil((lo - eval0) / RULE_INTERVAL));
    const jHi = Math.min(lastEval, Math.ceil((hi - eval0) / RULE_INTERVAL) - 1);
    const evalTime = (j: number): string => (eval0 + j * RULE_INTERVAL).toFixed(3);
    for (const [name, list] of [...ruleFamilies.entries()].sort((a, c) => a[0].localeCompare(c[0]))) {
      w.line(`# TYPE ${name} gauge`);
      for (const g of list) {
        for (const j of g.evals) {
          if (j < jLo || j > jHi) continue;
          w.line(`${g.text} ${round9(g.inc.get(j)!)} ${evalTime(j)}`);
          ruleSamples++;
        }
      }
    }
    // The helpers: the value at the first evaluation after each scrape that changed it (one sample per
    // evaluation: with a scrape interval under 10 s, the last value an evaluation sees).
    for (const [name, list] of [...helperFamilies.entries()].sort((a, c) => a[0].localeCompare(c[0]))) {
      w.line(`# TYPE ${name} gauge`);
      for (const s of list) {
        for (let i = 0; i < s.idx.length; i++) {
          const j = evalOf(timeOf(s.idx[i]!));
          if (j < jLo || j > jHi) continue;
          if (i + 1 < s.idx.length && evalOf(timeOf(s.idx[i + 1]!)) === j) continue;
          w.line(`${s.helperText} ${round9(s.val[i]!)} ${evalTime(j)}`);
          lastValueSamples++;
        }
      }
    }
    w.line('# EOF');
    const lines = w.lines;
    w.close();
    genMs += performance.now() - g0;
    if (lines <= w.headers) {
      rmSync(file);
      continue;
    }
    // promtool on the other core while the next chunk is generated (at most two at once).
    while (pending.length >= 2) await pending.shift();
    const p0 = performance.now();
    pending.push(
      run(components().promtool, [
        'tsdb',
        'create-blocks-from',
        'openmetrics',
        '-q',
        `--max-block-duration=${blockRange}s`,
        file,
        join(work, 'blocks'),
      ]).then(() => {
        rmSync(file);
        promtoolMs += performance.now() - p0;
      }),
    );
    log(`  ${o.label}: chunk ${b + 1}/${chunks.length} written (${(lines / 1e6).toFixed(1)} M lines)`);
  }
  await Promise.all(pending);
  const generateMs = performance.now() - t0;
  log(
    `  ${o.label}: ${series.size} series, ${rawSamples} raw + ${ruleSamples} rule + ${lastValueSamples} helper samples; generation+promtool ${(generateMs / 1000).toFixed(0)} s ` +
      `(JS ${(genMs / 1000).toFixed(0)} s, promtool ${(promtoolMs / 1000).toFixed(0)} s cumulative)`,
  );
  // Loaded once every sample of the sessions' rule is visible at its last evaluation.
  const expected = [...groups.values()]
    .filter((g) => g.name === COUNTERS.sessions.rule)
    .reduce((n, g) => n + g.evals.filter((j) => j <= lastEval).length, 0);
  const at = eval0 + lastEval * RULE_INTERVAL;
  const q = `sum(count_over_time(${COUNTERS.sessions.rule}[${Math.ceil(at - startS + 3600)}s]))`;
  const loaded = async (url: string, headers: Record<string, string> = {}): Promise<void> => {
    const deadline = Date.now() + 150_000;
    for (;;) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}&time=${at}`, { headers });
      const body = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
      const got = Number(body.data?.result?.[0]?.value[1] ?? 0);
      if (got === expected) return;
      if (Date.now() > deadline)
        throw new Error(`backfilled blocks not loaded: ${got} of ${expected} rule samples visible`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  return {
    options: o,
    events,
    sessions: gen.sessions,
    series: series.size,
    rawSamples,
    ruleSeries: groups.size,
    ruleSamples,
    lastValueSamples,
    generateMs,
    dir: join(work, 'blocks'),
    remove: () => rmSync(work, { recursive: true, force: true }),
    loaded,
    rulesEvaluatedAt: async (nowMs) => {
      const j = Math.min(lastEval, Math.floor((nowMs / 1000 - eval0) / RULE_INTERVAL));
      return j < 0 ? null : Math.round((eval0 + j * RULE_INTERVAL) * 1000);
    },
  };
}
