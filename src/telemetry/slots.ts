// Closed pieces of time kept in memory: the rules only ever append samples at their evaluation time, so a piece that
// ended before the rules' last evaluation never changes, and a refresh reads only what is still open.
// Plain Node: never import `vscode`.
import type { Labels } from './prometheus';
import type { SourceName } from './queries';

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

/** `phaseMs`: where the grid's slots end, past each multiple of the slot (local midnight for days). */
export function cutWindow(fromMs: number, toMs: number, slotMs: number, phaseMs = 0): WindowCut {
  if (toMs <= fromMs) return { slotEnds: [], edges: [] };
  const first = Math.ceil((fromMs - phaseMs) / slotMs) * slotMs + phaseMs;
  const last = Math.floor((toMs - phaseMs) / slotMs) * slotMs + phaseMs;
  if (first > last) return { slotEnds: [], edges: [[fromMs, toMs]] };
  const slotEnds: number[] = [];
  for (let end = first + slotMs; end <= last; end += slotMs) slotEnds.push(end);
  const edges: Array<[number, number]> = [];
  if (fromMs < first) edges.push([fromMs, first]);
  if (toMs > last) edges.push([last, toMs]);
  return { slotEnds, edges };
}

/** A piece of a window: (a, b], and the grid it is a whole slot of (null for a head or the open end). */
export type Piece = [a: number, b: number, gridMs: number | null];

/**
 * The pieces of (fromMs, toMs] on a grid of `slotMs`: its whole slots, its head, and its last (open) slot cut on the
 * finer grid of `fineMs`, so that what stays open is at most one fine slot (the rest closes and is kept).
 */
export function windowPieces(fromMs: number, toMs: number, slotMs: number, phaseMs: number, fineMs: number): Piece[] {
  const cut = cutWindow(fromMs, toMs, slotMs, phaseMs);
  const out: Piece[] = cut.slotEnds.map((end): Piece => [end - slotMs, end, slotMs]);
  for (const [a, b] of cut.edges) {
    if (b !== toMs || fineMs >= slotMs) {
      out.push([a, b, null]);
      continue;
    }
    const fine = cutWindow(a, b, fineMs);
    out.push(
      ...fine.slotEnds.map((end): Piece => [end - fineMs, end, fineMs]),
      ...fine.edges.map(([x, y]): Piece => [x, y, null]),
    );
  }
  return out;
}

/** A piece of time (a, b] as a key: of the piece cache, and the tag of the piece's term in an instant query. */
export type PieceKey = `${number}-${number}`;

export function pieceKey(a: number, b: number): PieceKey {
  return `${a}-${b}`;
}

/**
 * Closed pieces of time, (a, b] each, with every source's samples in them (an empty list is a known zero). A whole
 * slot of any grid, or a window's head before its first whole slot: whatever ended before the rules' last evaluation.
 */
export class PieceCache {
  private readonly pieces = new Map<PieceKey, { start: number; end: number; sources: Map<SourceName, Sample[]> }>();

  get(a: number, b: number, source: SourceName): Sample[] | undefined {
    return this.pieces.get(pieceKey(a, b))?.sources.get(source);
  }

  has(a: number, b: number, source: SourceName): boolean {
    return this.get(a, b, source) !== undefined;
  }

  put(a: number, b: number, source: SourceName, samples: Sample[]): void {
    const key = pieceKey(a, b);
    let piece = this.pieces.get(key);
    if (!piece) this.pieces.set(key, (piece = { start: a, end: b, sources: new Map() }));
    piece.sources.set(source, samples);
  }

  /** Forgets the pieces that ended before `oldestEnd`: no window reaches them any more. */
  prune(oldestEnd: number): void {
    for (const [key, piece] of this.pieces) if (piece.end < oldestEnd) this.pieces.delete(key);
  }

  clear(): void {
    this.pieces.clear();
  }

  /** Forgets the pieces that reach past `timeMs`: the store's past changed from there on. */
  discardAfter(timeMs: number): void {
    for (const [key, piece] of this.pieces) if (piece.end > timeMs) this.pieces.delete(key);
  }

  /** Every piece held, each source's samples apart (to persist them: pieceFile.ts). */
  *entries(): IterableIterator<{ a: number; b: number; source: SourceName; samples: Sample[] }> {
    for (const piece of this.pieces.values())
      for (const [source, samples] of piece.sources) yield { a: piece.start, b: piece.end, source, samples };
  }

  /** Pieces held (for the bench and the tests). */
  get size(): number {
    return this.pieces.size;
  }
}

/** A stable key of a label set. */
export function labelsKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0001${labels[k]}`)
    .join('\u0000');
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
