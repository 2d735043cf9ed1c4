// The piece cache on disk: a reload, a new window or a restart of VS Code shows what was read before and reads only
// the open edge. One file per backend (the caller names it), holding the identity it was read under (the backend,
// the extension's version) and the rules' last evaluation then. What it holds is checked against the store before it
// is trusted: one instant query of the total cost over its newest week of pieces (`restoredCheck`), so a store reset,
// its data deleted or history imported meanwhile drop it, whatever the store is (a team's has no volume to look at). Plain Node: never import `vscode`.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import writeFileAtomic from 'write-file-atomic';
import type { Labels } from './prometheus';
import type { SourceName } from './queries';
import { labelsKey, type PieceCache, type Sample } from './slots';

const FORMAT = 1;
/**
 * The most samples a file keeps, the newest pieces first: about 20 MB of JSON before compression. The bench's large
 * history (10,000 sessions in 90 days) holds about a tenth of it for the 30-day view.
 */
export const MAX_PERSISTED_SAMPLES = 1_000_000;

/** What a file gives back: the pieces, and when the rules had last evaluated when they were saved. */
export interface PersistedPieces {
  lastEvaluationMs: number;
  pieces: Array<{ a: number; b: number; source: SourceName; samples: Sample[] }>;
}

interface PieceFileBody {
  format: typeof FORMAT;
  identity: string;
  lastEvaluationMs: number;
  /** Every label set once, as [name, value, name, value, …]: thousands of samples share a few hundred. */
  labels: string[][];
  /** [a, b, source, [label set index, value, …]]; a value that is not finite is written as a string. */
  pieces: Array<[number, number, string, Array<number | string>]>;
}

/** The cache's pieces as a file's bytes (gzip JSON), the newest first up to `maxSamples`. */
export async function encodePieces(
  cache: Pick<PieceCache, 'entries'>,
  identity: string,
  lastEvaluationMs: number,
  maxSamples = MAX_PERSISTED_SAMPLES,
): Promise<Buffer> {
  const labelIndex = new Map<string, number>();
  const labels: string[][] = [];
  const pieces: PieceFileBody['pieces'] = [];
  let kept = 0;
  for (const piece of [...cache.entries()].sort((x, y) => y.b - x.b || y.a - x.a)) {
    if (kept + piece.samples.length > maxSamples) break;
    kept += piece.samples.length;
    const flat: Array<number | string> = [];
    for (const s of piece.samples) {
      const key = labelsKey(s.labels);
      let index = labelIndex.get(key);
      if (index === undefined) {
        labelIndex.set(key, (index = labels.length));
        labels.push(Object.entries(s.labels).flat());
      }
      flat.push(index, Number.isFinite(s.value) ? s.value : String(s.value));
    }
    pieces.push([piece.a, piece.b, piece.source, flat]);
  }
  const body: PieceFileBody = { format: FORMAT, identity, lastEvaluationMs, labels, pieces };
  return promisify(gzip)(JSON.stringify(body));
}

/**
 * A file's pieces if it was written under `identity`; undefined for another identity or an older format. Rejects
 * with the reason when the bytes are not a piece file (cut short, edited, another program's).
 */
export async function decodePieces(bytes: Buffer, identity: string): Promise<PersistedPieces | undefined> {
  const body = JSON.parse((await promisify(gunzip)(bytes)).toString('utf8')) as Partial<PieceFileBody> | null;
  if (typeof body !== 'object' || body === null) throw new Error('not a piece file');
  if (body.format !== FORMAT || body.identity !== identity) return undefined;
  const { labels, pieces, lastEvaluationMs } = body;
  if (typeof lastEvaluationMs !== 'number' || !Array.isArray(labels) || !Array.isArray(pieces))
    throw new Error('a piece file without its labels, pieces or evaluation time');
  const labelSets: Labels[] = labels.map((flat) => {
    if (!Array.isArray(flat) || flat.length % 2 !== 0 || flat.some((x) => typeof x !== 'string'))
      throw new Error('a label set that is not name/value pairs');
    const set: Labels = {};
    for (let i = 0; i < flat.length; i += 2) set[flat[i]!] = flat[i + 1]!;
    return set;
  });
  return {
    lastEvaluationMs,
    pieces: pieces.map((piece) => {
      const [a, b, source, flat] = Array.isArray(piece) ? piece : [];
      if (typeof a !== 'number' || typeof b !== 'number' || !(a < b) || typeof source !== 'string')
        throw new Error('a piece without its times or source');
      if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new Error('a piece whose samples are not pairs');
      const samples: Sample[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        const set = typeof flat[i] === 'number' ? labelSets[flat[i] as number] : undefined;
        const value = Number(flat[i + 1]);
        if (!set || (typeof flat[i + 1] === 'number' && !Number.isFinite(value)))
          throw new Error('a sample with an unknown label set or no value');
        samples.push({ labels: set, value });
      }
      return { a, b, source: source as SourceName, samples };
    }),
  };
}

/** Reads a piece file: undefined when there is none (or it is of another identity); rejects when it is unreadable. */
export async function readPieceFile(path: string, identity: string): Promise<PersistedPieces | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return decodePieces(bytes, identity);
}

/** Writes a piece file whole or not at all: two windows of one backend may write it, the last one wins. */
export async function writePieceFile(path: string, bytes: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, bytes);
}

export async function removePieceFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/**
 * How far back restored pieces are checked: a reset store has what was written since, so a week with any cost in it
 * tells it apart, and a week stays within any retention a user keeps a month's view for (Prometheus drops old blocks
 * whole, and a check reaching into one it dropped would fail every reload).
 */
export const CHECK_SPAN_MS = 7 * 86_400_000;

/**
 * What to check restored pieces by: the span (fromMs, toMs] of the run of contiguous pieces of the cost source holding
 * the most pieces that ends at its newest piece, back at most CHECK_SPAN_MS, and the total cost they hold. Undefined
 * when no cost piece was restored.
 */
export function restoredCheck(
  pieces: PersistedPieces['pieces'],
): { fromMs: number; toMs: number; costUsd: number } | undefined {
  const bySource = new Map<SourceName, PersistedPieces['pieces']>();
  for (const piece of pieces) {
    if (!piece.source.startsWith('cost(')) continue;
    const list = bySource.get(piece.source) ?? [];
    list.push(piece);
    bySource.set(piece.source, list);
  }
  const [ofSource] = [...bySource.values()].sort((x, y) => y.length - x.length);
  if (!ofSource) return undefined;
  // Back from the newest piece, each step takes the longest piece ending where the run starts, within the span.
  const longestTo = new Map<number, (typeof ofSource)[number]>();
  for (const piece of ofSource) {
    const had = longestTo.get(piece.b);
    if (!had || had.a > piece.a) longestTo.set(piece.b, piece);
  }
  const toMs = Math.max(...longestTo.keys());
  let fromMs = toMs;
  let costUsd = 0;
  for (let next = longestTo.get(fromMs); next && next.a >= toMs - CHECK_SPAN_MS; next = longestTo.get(fromMs)) {
    for (const s of next.samples) costUsd += s.value;
    fromMs = next.a;
  }
  // The newest piece alone reaches further back than the span: check it all the same.
  if (fromMs === toMs) {
    const newest = longestTo.get(toMs)!;
    for (const s of newest.samples) costUsd += s.value;
    fromMs = newest.a;
  }
  return { fromMs, toMs, costUsd };
}

/** Whether the store's total agrees with the pieces' (sums added up in another order differ in the last digits). */
export function sameTotal(stored: number, restored: number): boolean {
  return Math.abs(stored - restored) <= 1e-9 + 1e-9 * Math.max(Math.abs(stored), Math.abs(restored));
}
