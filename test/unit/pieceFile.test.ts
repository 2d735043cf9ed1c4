// The piece cache on disk, without Prometheus: what a file gives back, what it refuses, how much it keeps, and what the
// restored pieces are checked by. The reader's use of it, against a real Prometheus, is in test/prometheus/reader.test.ts.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  CHECK_SPAN_MS,
  decodePieces,
  encodePieces,
  readPieceFile,
  removePieceFile,
  restoredCheck,
  sameTotal,
  writePieceFile,
  type PersistedPieces,
} from '../../src/telemetry/pieceFile';
import { HOUR_MS, DAY_MS } from '../../src/telemetry/refreshPlan';
import { PieceCache } from '../../src/telemetry/slots';

const COST = 'cost(model,session_id)' as const;
const TOKENS = 'tokens(session_id,type)' as const;
const END = Date.parse('2026-12-07T12:00:00Z');

function cacheOf(pieces: PersistedPieces['pieces']): PieceCache {
  const cache = new PieceCache();
  for (const { a, b, source, samples } of pieces) cache.put(a, b, source, samples);
  return cache;
}

const sorted = (pieces: PersistedPieces['pieces']) =>
  [...pieces].sort((x, y) => x.a - y.a || x.b - y.b || x.source.localeCompare(y.source));

describe('piece file', () => {
  const dirs: string[] = [];
  after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const tempPath = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'pieces-'));
    dirs.push(dir);
    return join(dir, 'sub', 'backend.json.gz');
  };

  const pieces: PersistedPieces['pieces'] = [
    {
      a: END - DAY_MS,
      b: END,
      source: COST,
      samples: [
        { labels: { model: 'claude-opus-4-5', session_id: 's1' }, value: 0.1 + 0.2 },
        { labels: { model: 'claude-haiku-4-5', session_id: 's2' }, value: 1e-12 },
      ],
    },
    // A known zero: a slot without a sample.
    { a: END - 2 * DAY_MS, b: END - DAY_MS, source: COST, samples: [] },
    {
      a: END - HOUR_MS,
      b: END,
      source: TOKENS,
      samples: [
        { labels: { session_id: 's1', type: 'input' }, value: 1234 },
        { labels: { session_id: 's1', type: 'cacheRead' }, value: Number.NaN },
      ],
    },
  ];

  it('gives back every piece, every label and every value as it was, NaN included', async () => {
    const bytes = await encodePieces(cacheOf(pieces), 'v1 backend', END - 30_000);
    const back = await decodePieces(bytes, 'v1 backend');
    assert.equal(back?.lastEvaluationMs, END - 30_000);
    assert.deepEqual(sorted(back!.pieces), sorted(pieces));
  });

  it('gives nothing for a file of another identity (another backend, another version of the extension)', async () => {
    const bytes = await encodePieces(cacheOf(pieces), 'v1 backend', END);
    assert.equal(await decodePieces(bytes, 'v2 backend'), undefined);
  });

  it('rejects, with the reason, bytes that are not a piece file: cut short, not gzip, or of another shape', async () => {
    const bytes = await encodePieces(cacheOf(pieces), 'v1 backend', END);
    await assert.rejects(decodePieces(bytes.subarray(0, bytes.length - 10), 'v1 backend'), /unexpected end of file/);
    await assert.rejects(decodePieces(Buffer.from('{"format":1}'), 'v1 backend'), /incorrect header check/);
    const shaped = (body: unknown) => decodePieces(gzipSync(JSON.stringify(body)), 'v1 backend');
    const base = { format: 1, identity: 'v1 backend', lastEvaluationMs: END, labels: [['model', 'm']] };
    await assert.rejects(shaped({ ...base, pieces: undefined }), /without its labels, pieces or evaluation time/);
    await assert.rejects(shaped({ ...base, pieces: [[END, END - 1, COST, []]] }), /without its times or source/);
    await assert.rejects(shaped({ ...base, pieces: [[END - 1, END, COST, [5, 1]]] }), /unknown label set/);
    await assert.rejects(shaped({ ...base, labels: [['model']], pieces: [] }), /not name\/value pairs/);
    await assert.rejects(shaped(null), /not a piece file/);
  });

  it('keeps the newest pieces up to its bound of samples', async () => {
    const many = Array.from({ length: 10 }, (_, i) => ({
      a: END - (i + 1) * HOUR_MS,
      b: END - i * HOUR_MS,
      source: COST,
      samples: [
        { labels: { model: 'm', session_id: `s${i}` }, value: i },
        { labels: { model: 'n', session_id: `s${i}` }, value: i },
      ],
    }));
    const back = await decodePieces(await encodePieces(cacheOf(many), 'id', END, 7), 'id');
    assert.deepEqual(
      back!.pieces.map((p) => p.b),
      [END, END - HOUR_MS, END - 2 * HOUR_MS],
      'three pieces of two samples fit in seven: the newest',
    );
  });

  it('is written whole where asked, read back, and removed; a missing file is none, an unreadable one an error', async () => {
    const path = await tempPath();
    assert.equal(await readPieceFile(path, 'id'), undefined, 'no file yet');
    await writePieceFile(path, await encodePieces(cacheOf(pieces), 'id', END));
    assert.deepEqual(sorted((await readPieceFile(path, 'id'))!.pieces), sorted(pieces));
    await writeFile(path, (await readFile(path)).subarray(0, 20));
    await assert.rejects(readPieceFile(path, 'id'), /unexpected end of file/);
    await removePieceFile(path);
    assert.equal(existsSync(path), false);
    await removePieceFile(path); // twice: nothing to remove is no error
  });

  it("checks restored pieces by the cost of the newest week's run of contiguous pieces of the most held cost source", () => {
    const day = (i: number, value: number) => ({
      a: END - (i + 1) * DAY_MS,
      b: END - i * DAY_MS,
      source: COST,
      samples: [{ labels: { model: 'm', session_id: `d${i}` }, value }],
    });
    const hour = (i: number, value: number) => ({
      a: END + i * HOUR_MS,
      b: END + (i + 1) * HOUR_MS,
      source: COST,
      samples: [{ labels: { model: 'm', session_id: `h${i}` }, value }],
    });
    // Thirty days, then three hours of today; a lone piece of another cost source; tokens are not cost.
    const restored = [
      ...Array.from({ length: 30 }, (_, i) => day(i, 1)),
      hour(0, 10),
      hour(1, 10),
      hour(2, 10),
      { a: END - HOUR_MS, b: END, source: 'cost(agent_name)' as const, samples: [] },
      { ...hour(2, 1000), source: TOKENS },
    ];
    // Back from the newest hour: three hours, then whole days while they end within the week.
    const check = restoredCheck(restored);
    assert.equal(check?.toMs, END + 3 * HOUR_MS);
    assert.ok(check.fromMs >= check.toMs - CHECK_SPAN_MS && check.fromMs < check.toMs - CHECK_SPAN_MS + DAY_MS);
    assert.equal(check.costUsd, 30 + (check.toMs - 3 * HOUR_MS - check.fromMs) / DAY_MS);
    // A gap stops the run: the day before it is not counted.
    const gap = restoredCheck([day(0, 1), day(2, 5), hour(0, 2)]);
    assert.deepEqual(gap, { fromMs: END - DAY_MS, toMs: END + HOUR_MS, costUsd: 3 });
    // A newest piece longer than the week is checked whole.
    const long = { a: END - 30 * DAY_MS, b: END, source: COST, samples: [] };
    assert.deepEqual(restoredCheck([long]), { fromMs: long.a, toMs: END, costUsd: 0 });
    assert.equal(restoredCheck([{ ...hour(0, 1), source: TOKENS }]), undefined, 'no cost piece: nothing to check by');
  });

  it('takes totals added up in another order as the same, and a cent apart as not', () => {
    assert.ok(sameTotal(0.1 + 0.2 + 0.3, 0.3 + 0.2 + 0.1));
    assert.ok(sameTotal(0, 0));
    assert.ok(!sameTotal(1234.56, 1234.57));
    assert.ok(!sameTotal(0, 0.01));
  });
});
