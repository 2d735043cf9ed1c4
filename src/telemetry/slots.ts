// Closed slots of time kept in memory: the rules only ever append samples at their evaluation time, so a slot that
// ended before the rules' last evaluation never changes, and a refresh reads only what is still open.
// Plain Node: never import `vscode`.
import type { Labels } from './prometheus';

export interface Sample {
  labels: Labels;
  value: number;
}

/** A window (fromMs, toMs] on a grid of `slotMs`: the whole slots in it (by end time) and the partial edges. */
export interface WindowCut {
  slotEnds: number[];
  /** (a, b] pieces, each within one slot: the head before the first grid point, the open tail after the last. */
  edges: Array<[number, number]>;
}

export function cutWindow(fromMs: number, toMs: number, slotMs: number): WindowCut {
  if (toMs <= fromMs) return { slotEnds: [], edges: [] };
  const first = Math.ceil(fromMs / slotMs) * slotMs;
  const last = Math.floor(toMs / slotMs) * slotMs;
  if (first > last) return { slotEnds: [], edges: [[fromMs, toMs]] };
  const slotEnds: number[] = [];
  for (let end = first + slotMs; end <= last; end += slotMs) slotEnds.push(end);
  const edges: Array<[number, number]> = [];
  if (fromMs < first) edges.push([fromMs, first]);
  if (toMs > last) edges.push([last, toMs]);
  return { slotEnds, edges };
}

/** Closed slots per grid (slot length): for each slot end, each figure's samples (an empty list is a known zero). */
export class SlotCache {
  private readonly grids = new Map<number, Map<number, Map<string, Sample[]>>>();

  get(slotMs: number, end: number, figure: string): Sample[] | undefined {
    return this.grids.get(slotMs)?.get(end)?.get(figure);
  }

  /** The slot ends among `ends` that lack any of `figures`. */
  missing(slotMs: number, ends: readonly number[], figures: readonly string[]): number[] {
    const grid = this.grids.get(slotMs);
    return ends.filter((end) => {
      const slot = grid?.get(end);
      return !slot || figures.some((f) => !slot.has(f));
    });
  }

  put(slotMs: number, end: number, figure: string, samples: Sample[]): void {
    let grid = this.grids.get(slotMs);
    if (!grid) this.grids.set(slotMs, (grid = new Map()));
    let slot = grid.get(end);
    if (!slot) grid.set(end, (slot = new Map()));
    slot.set(figure, samples);
  }

  /** Forgets the slots of a grid that ended before `oldestEnd`: no window reaches them any more. */
  prune(slotMs: number, oldestEnd: number): void {
    const grid = this.grids.get(slotMs);
    if (!grid) return;
    for (const end of grid.keys()) if (end < oldestEnd) grid.delete(end);
  }

  clear(): void {
    this.grids.clear();
  }

  /** Slots held, over every grid (for the bench and the tests). */
  get size(): number {
    let n = 0;
    for (const grid of this.grids.values()) n += grid.size;
    return n;
  }
}

/** A stable key of a label set. */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

/** Samples added up per label set. */
export function addUp(lists: ReadonlyArray<readonly Sample[]>): Sample[] {
  const by = new Map<string, Sample>();
  for (const list of lists) {
    for (const s of list) {
      const key = labelsKey(s.labels);
      const had = by.get(key);
      if (had) had.value += s.value;
      else by.set(key, { labels: s.labels, value: s.value });
    }
  }
  return [...by.values()];
}
