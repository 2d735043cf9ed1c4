// What one refresh asks Prometheus for. Pure: given the windows it shows, now, when the rules last evaluated, what the
// piece cache holds, the sessions that changed lately and the state of the plan's limit history, `planRefresh` says
// what to fetch: the closed slots not held (range queries, per grid), the narrow instant terms (every other piece not
// held, the plan's gauges), the wide ones (the fresh part, the limit history) and the pieces to keep once answered;
// what changes by the minute at most over a range (its limit history, the labels its cost carries) is read once a minute.
// `answersOf` sorts the instant query's answer back into those parts. The reader (reader.ts) runs the plan;
// figures.ts derives the figures from what it read. Plain Node: never import `vscode`.
import { RULE_INTERVAL_MS } from './counters';
import type { InstantSample, RangeSeries } from './prometheus';
import {
  FIGURE_LABEL,
  FIGURE_NAMES,
  PART_LABEL,
  PLAN_FIGURE,
  PLAN_LIMIT_FIGURE,
  TODAY_FIGURES,
  figureFresh,
  figureOf,
  figureSlots,
  figureWindow,
  isFresh,
  planLimitTerms,
  planTerms,
  sourceName,
  sourceOf,
  type Figure,
  type FigureName,
  type PlanLimitPart,
  type PlanLimitTerm,
  type PlanPart,
  type PlanTerm,
  type SourceName,
} from './queries';
import { pieceKey, windowPieces, type PieceKey, type Sample } from './slots';
import { COST_DIMENSIONS, RANGE_SECONDS, TEAM_RANKINGS, type CostDimension, type TimeRange } from '../snapshot';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * Per range: the slot the cache keeps, which is also the chart's bucket and the grid the window starts on (a range
 * query costs Prometheus a step per series it selects, so slots as long as the buckets).
 */
export const RANGE_SLOT_MS: Record<TimeRange, number> = {
  '1h': MINUTE_MS,
  '24h': HOUR_MS,
  '7d': 6 * HOUR_MS,
  '30d': DAY_MS,
};

/** Where a grid's slots end past each multiple of the slot: days end at local midnight, shorter slots on the hour. */
export function gridPhaseMs(slotMs: number, nowMs: number): number {
  if (slotMs < DAY_MS) return 0;
  const midnight = new Date(nowMs);
  midnight.setHours(0, 0, 0, 0);
  return ((midnight.getTime() % slotMs) + slotMs) % slotMs;
}

/**
 * Where a range's window starts: on its slot grid (as Grafana's `now-30d/d` does on the day), so that a window is
 * whole closed slots plus the open one. Any other start adds a piece at the window's far end, and reading one there
 * costs as much as the series of the blocks it falls in (measured: 2.6 s on the bench's 30 d).
 */
export function rangeStartMs(range: TimeRange, nowMs: number): number {
  const slotMs = RANGE_SLOT_MS[range];
  const phase = gridPhaseMs(slotMs, nowMs);
  return Math.floor((nowMs - RANGE_SECONDS[range] * 1000 - phase) / slotMs) * slotMs + phase;
}

/**
 * How far back the sessions that changed are looked for: well past the rules' interval, so that every session with
 * something the rules have not counted yet is among them while the rules run on time.
 */
export const CHANGED_WINDOW_S = 90;
/** The open slot of a coarser grid (6 h, a day) is cut in hours, so that only the last hour of it stays open. */
export const FINE_SLOT_MS = HOUR_MS;
/** The status bar's windows (today, the last hour) are cut in hours. */
export const TODAY_SLOT_MS = HOUR_MS;
/** How long a closed piece stays useful: the longest window, and a slot (today's window is at most 25 h). */
const CACHE_SPAN_MS = RANGE_SECONDS['30d'] * 1000 + 2 * RANGE_SLOT_MS['30d'];
/** The closed slots of a first load go to Prometheus in this many range queries at once (its cores work side by side). */
const SLOT_BATCHES = 4;
/**
 * How often what a range's oldest part changes by the minute at most is read again over the whole range: the plan's
 * limit history (a subquery to the minute) and the labels its cost carries. Each selects over the whole range: read at
 * every refresh, they were most of a steady one on a long history. Between, the labels are looked up since the last
 * whole read only (a new dimension shows at once; one that aged out of the range leaves within a minute).
 */
export const MINUTE_PARTS_EVERY_MS = 60_000;

/**
 * The parts of today's cost the status bar names beside the whole, each one value of a dimension: this window's
 * workspace, and in a team's store this developer.
 */
export const TODAY_PARTS = ['project', 'developer'] as const satisfies readonly CostDimension[];
export type TodayPart = (typeof TODAY_PARTS)[number];
export const todayPartFigure = (part: TodayPart): FigureName => `costBy:${COST_DIMENSIONS[part].label}`;

/**
 * The windows one refresh shows: today since `dayStartMs` (status bar; with `project` and `developer`, their parts
 * too) and/or a sidebar `range` with its cost grouped by `groupBy` (default model).
 */
export interface RefreshWindows extends Partial<Record<TodayPart, string>> {
  dayStartMs?: number;
  /** The plan's month: its cost at API prices against `priceUsd` (local midnight of the 1st). */
  month?: { startMs: number; priceUsd: number };
  range?: TimeRange;
  groupBy?: CostDimension;
}

/** Which window of a refresh: today's, the last hour's (the burn rate), the plan's month, the sidebar's range. */
export type WindowRole = 'today' | 'lastHour' | 'month' | 'range';

/** A window of a refresh: (fromMs, now] on a grid of slotMs, with the figures it shows. */
export interface PlannedWindow {
  role: WindowRole;
  fromMs: number;
  slotMs: number;
  phaseMs: number;
  figures: readonly FigureName[];
  /** The window's start moves with now (the last hour): its head is read each time, never kept. */
  moving?: boolean;
}

/** The windows of a refresh at `nowMs`, with the figures each shows. */
export function planWindows(nowMs: number, windows: RefreshWindows): PlannedWindow[] {
  const planned: PlannedWindow[] = [];
  if (windows.dayStartMs !== undefined) {
    const figures = [
      ...TODAY_FIGURES,
      ...TODAY_PARTS.filter((part) => windows[part] !== undefined).map(todayPartFigure),
    ];
    planned.push({ role: 'today', fromMs: windows.dayStartMs, slotMs: TODAY_SLOT_MS, phaseMs: 0, figures });
    planned.push({
      role: 'lastHour',
      fromMs: nowMs - HOUR_MS,
      slotMs: TODAY_SLOT_MS,
      phaseMs: 0,
      figures: ['costByModel'],
      moving: true,
    });
  }
  if (windows.month) {
    planned.push({
      role: 'month',
      fromMs: windows.month.startMs,
      slotMs: DAY_MS,
      phaseMs: gridPhaseMs(DAY_MS, nowMs),
      figures: ['costByModel'],
    });
  }
  if (windows.range) {
    // In a team's store (a developer is "you"), the Team section's rankings too.
    const ranked: CostDimension[] = [
      windows.groupBy ?? 'model',
      ...(windows.developer === undefined ? [] : TEAM_RANKINGS),
    ];
    const slotMs = RANGE_SLOT_MS[windows.range];
    planned.push({
      role: 'range',
      fromMs: rangeStartMs(windows.range, nowMs),
      slotMs,
      phaseMs: gridPhaseMs(slotMs, nowMs),
      figures: [
        ...new Set<FigureName>([
          ...FIGURE_NAMES,
          ...ranked.flatMap((d): FigureName[] => [
            `costBy:${COST_DIMENSIONS[d].label}`,
            `tokensBy:${COST_DIMENSIONS[d].label}`,
          ]),
        ]),
      ],
    });
  }
  return planned;
}

/** The sources of a refresh's figures: one query per counter (queries.ts, sourceOf), and which one serves each figure. */
export interface Sources {
  byName: ReadonlyMap<SourceName, Figure>;
  ofFigure: ReadonlyMap<FigureName, SourceName>;
}

export function planSources(planned: readonly PlannedWindow[]): Sources {
  const figures = [...new Set(planned.flatMap((w) => w.figures))];
  const byName = new Map<SourceName, Figure>();
  const ofFigure = new Map<FigureName, SourceName>();
  for (const counter of new Set(figures.map((f) => figureOf(f).counter))) {
    const mine = figures.filter((f) => figureOf(f).counter === counter);
    const source = sourceOf(mine.map(figureOf));
    const name = sourceName(source);
    byName.set(name, source);
    for (const f of mine) ofFigure.set(f, name);
  }
  return { byName, ofFigure };
}

/** A source's piece (a, b]: its total in the instant query. */
export interface PieceTerm {
  figure: SourceName;
  part: PieceKey;
  expr: string;
}

/** What a source's counter gained since the rules last saw it (queries.ts, figureFresh). */
export interface FreshTerm {
  figure: SourceName;
  part: 'fresh';
  expr: string;
}

/** A term of a refresh's instant queries, tagged with what it reads. */
export type Term = PieceTerm | FreshTerm | PlanTerm | PlanLimitTerm;

/** A source's piece, to keep in the cache once the instant query answered it. */
export interface PieceRef {
  source: SourceName;
  a: number;
  b: number;
}

/** The closed whole slots of one grid not held: range queries of a step of `slotMs` over [firstEnd, lastEnd]. */
export interface SlotQuery {
  slotMs: number;
  firstEnd: number;
  lastEnd: number;
  /** The sources' terms, one range query per batch, sent side by side. */
  batches: Array<Array<{ figure: SourceName; expr: string }>>;
}

export interface PlanInput {
  nowMs: number;
  windows: RefreshWindows;
  /** When the rules last evaluated (unix ms; null before their first evaluation). */
  lastEvaluationMs: number | null;
  /** What the piece cache holds. */
  cache: { has(a: number, b: number, source: SourceName): boolean };
  /** The sessions whose cost changed in the last CHANGED_WINDOW_S (queries.ts, sessionsChanged). */
  changedSessions: readonly string[];
  /** When the range's minute parts (MINUTE_PARTS_EVERY_MS) were last read, and for which range (none yet: undefined). */
  minuteParts?: { range: TimeRange; atMs: number } | undefined;
}

export interface RefreshPlan {
  nowMs: number;
  windows: RefreshWindows;
  planned: readonly PlannedWindow[];
  sources: Sources;
  /** A piece that ends at or before this is closed: the rules will write nothing more in it. */
  closedUntilMs: number;
  /** The closed whole slots not held, per grid. */
  slots: SlotQuery[];
  /** One instant query: every other piece not held (the open ones, a closed head not held) and the plan's gauges. */
  narrow: Term[];
  /** One instant query of the terms that look far back: the fresh part, the limit history. */
  wide: Term[];
  /** The closed pieces of the narrow query to keep (a moving window's head is read each time, never kept). */
  keep: PieceRef[];
  /** The minute parts: read (the limit history in `wide`, the labels over `labelsSpan`), reused, or none (no range). */
  minuteParts: 'read' | 'reuse' | 'none';
  /**
   * Where to look for the labels the range's cost carries (unix s), or null: no range. The whole range when the
   * minute parts are read; since they were, when they are reused (the labels found are added to those read then).
   */
  labelsSpan: { start: number; end: number } | null;
  /** The sessions that changed lately: the only context windows shown. */
  activeSessions: readonly string[];
  /** The cache forgets the pieces that ended before this: no window reaches them. */
  forgetBeforeMs: number;
}

/** What one refresh at `input.nowMs` fetches (see the file's header). */
export function planRefresh(input: PlanInput): RefreshPlan {
  const { nowMs, windows } = input;
  const t = nowMs / 1000;
  const planned = planWindows(nowMs, windows);
  const sources = planSources(planned);
  const evalMs = input.lastEvaluationMs === null ? null : Math.min(input.lastEvaluationMs, nowMs);
  // A slot is closed once an evaluation began after it ended: that evaluation's samples are stored (its time is at
  // most one interval before it began), and every later one writes after it.
  const closedUntilMs = evalMs === null ? -Infinity : evalMs - RULE_INTERVAL_MS;

  // Closed whole slots not held: range queries per grid. Every other piece not held (the open ones, and a closed
  // head of a window that does not move, which is then kept): the narrow instant query. Each source is one counter's.
  const grids = new Map<number, { ends: Set<number>; sources: Set<SourceName> }>();
  const narrow: Term[] = [];
  const asked = new Map<SourceName, Set<PieceKey>>();
  const keep: PieceRef[] = [];
  for (const w of planned) {
    const mine = new Set(w.figures.map((f) => sources.ofFigure.get(f)!));
    for (const [a, b, gridMs] of windowPieces(w.fromMs, nowMs, w.slotMs, w.phaseMs, FINE_SLOT_MS)) {
      for (const source of mine) {
        const closed = b <= closedUntilMs;
        if (closed && input.cache.has(a, b, source)) continue;
        if (closed && gridMs !== null) {
          const grid = grids.get(gridMs) ?? { ends: new Set(), sources: new Set() };
          grid.ends.add(b);
          grid.sources.add(source);
          grids.set(gridMs, grid);
          continue;
        }
        const key = pieceKey(a, b);
        const ofSource = asked.get(source) ?? new Set<PieceKey>();
        asked.set(source, ofSource);
        if (!ofSource.has(key)) {
          ofSource.add(key);
          narrow.push({ figure: source, part: key, expr: figureWindow(sources.byName.get(source)!, a, b) });
        }
        if (closed && !(w.moving && a === w.fromMs)) keep.push({ source, a, b });
      }
    }
  }
  const slots = [...grids].map(([slotMs, grid]): SlotQuery => {
    const ends = [...grid.ends];
    const names = [...grid.sources];
    return {
      slotMs,
      firstEnd: Math.min(...ends),
      lastEnd: Math.max(...ends),
      batches: Array.from({ length: Math.min(SLOT_BATCHES, names.length) }, (_, i) =>
        names.filter((_, j) => j % SLOT_BATCHES === i),
      ).map((batch) => batch.map((figure) => ({ figure, expr: figureSlots(sources.byName.get(figure)!, slotMs) }))),
    };
  });

  // The fresh part, for the sessions that changed lately (all live series before the rules' first run, and when
  // the rules last ran longer ago than the changes looked at).
  const changed =
    evalMs === null || nowMs - evalMs > (CHANGED_WINDOW_S - 30) * 1000 ? undefined : input.changedSessions;
  // Terms that look far back (the fresh part's 2 d, the limit history's range) go in a query of their own:
  // Prometheus opens one querier over the time span of all of a query's selectors, so beside them every piece
  // would be read through each block of that span.
  const wide: Term[] = [];
  for (const [name, source] of sources.byName) {
    if (isFresh(source) && (changed === undefined || changed.length > 0))
      wide.push({ figure: name, part: 'fresh', expr: figureFresh(source, changed) });
  }

  // The plan's usage and the context windows, for the status bar: in the narrow query.
  if (windows.dayStartMs !== undefined) narrow.push(...planTerms());
  // The minute parts: read again once a minute, or for another range.
  const rangeStartS = windows.range ? rangeStartMs(windows.range, nowMs) / 1000 : null;
  const last = input.minuteParts;
  const readMinuteParts =
    rangeStartS !== null && (!last || last.range !== windows.range || nowMs - last.atMs >= MINUTE_PARTS_EVERY_MS);
  if (readMinuteParts) wide.push(...planLimitTerms(t - rangeStartS));
  return {
    nowMs,
    windows,
    planned,
    sources,
    closedUntilMs,
    slots,
    narrow,
    wide,
    keep,
    minuteParts: readMinuteParts ? 'read' : rangeStartS !== null && last ? 'reuse' : 'none',
    // Which dimensions the range's cost carries: the group-by offers only those.
    labelsSpan:
      rangeStartS === null ? null : { start: readMinuteParts || !last ? rangeStartS : last.atMs / 1000, end: t },
    activeSessions: input.changedSessions,
    forgetBeforeMs: nowMs - CACHE_SPAN_MS,
  };
}

/** What the instant queries of a plan answered, sorted by the tags of its terms. */
export interface Answers {
  /** The pieces' totals, by source. */
  pieces: Map<SourceName, Map<PieceKey, Sample[]>>;
  fresh: Map<SourceName, Sample[]>;
  plan: Partial<Record<PlanPart, Sample[]>>;
  planLimit: Partial<Record<PlanLimitPart, Sample[]>>;
}

/** The answer of a plan's instant queries (narrow and wide), sorted into its parts; the tags are taken off. */
export function answersOf(samples: readonly InstantSample[]): Answers {
  const answers: Answers = { pieces: new Map(), fresh: new Map(), plan: {}, planLimit: {} };
  const into = <K>(map: Map<K, Sample[]>, key: K, sample: Sample): void => {
    const list = map.get(key);
    if (list) list.push(sample);
    else map.set(key, [sample]);
  };
  for (const s of samples) {
    const { [FIGURE_LABEL]: figure, [PART_LABEL]: part, ...labels } = s.labels;
    if (!figure || !part || s.value === null) continue;
    const sample = { labels, value: s.value };
    if (figure === PLAN_FIGURE) (answers.plan[part as PlanPart] ??= []).push(sample);
    else if (figure === PLAN_LIMIT_FIGURE) (answers.planLimit[part as PlanLimitPart] ??= []).push(sample);
    else if (part === 'fresh') into(answers.fresh, figure as SourceName, sample);
    else {
      let ofSource = answers.pieces.get(figure as SourceName);
      if (!ofSource) answers.pieces.set(figure as SourceName, (ofSource = new Map()));
      into(ofSource, part as PieceKey, sample);
    }
  }
  return answers;
}

/** A closed slot a range query answered: every slot of the query's span, each source's samples (none: a known 0). */
export interface ClosedSlot extends PieceRef {
  samples: Sample[];
}

/** The closed slots of a slot query from its range queries' series. */
export function closedSlots(query: SlotQuery, series: readonly RangeSeries[]): ClosedSlot[] {
  const got = new Map<SourceName, Map<number, Sample[]>>();
  for (const s of series) {
    const { [FIGURE_LABEL]: name, ...labels } = s.labels;
    let ofSource = got.get(name as SourceName);
    if (!ofSource) got.set(name as SourceName, (ofSource = new Map()));
    for (const [time, value] of s.points) {
      const end = Math.round(time * 1000);
      let list = ofSource.get(end);
      if (!list) ofSource.set(end, (list = []));
      list.push({ labels, value });
    }
  }
  const out: ClosedSlot[] = [];
  for (let end = query.firstEnd; end <= query.lastEnd; end += query.slotMs) {
    for (const batch of query.batches) {
      for (const { figure: source } of batch)
        out.push({ source, a: end - query.slotMs, b: end, samples: got.get(source)?.get(end) ?? [] });
    }
  }
  return out;
}
