// The history import without a store: the real CLI 2.1.328's transcripts read, counted once and priced as Claude
// Code priced them; the plan of what is written (telemetry wins, repeated lines, the store's reach, the rules' grid);
// and transcripts that are cut off, corrupted or missing. Writing into a real Prometheus: test/prometheus/historyImport.
import assert from 'node:assert/strict';
import { appendFile, chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  bundledPricing,
  evaluationAt,
  findTranscripts,
  planImport,
  projectOf,
  projectRoots,
  readTranscript,
  seriesKey,
  tablePrice,
  type PlanOptions,
  type UsageEntry,
} from '../../src/history';
import { COUNTERS } from '../../src/telemetry/counters';
import { apiRequestEvents, TRANSCRIPTS } from '../support/transcripts';

async function fixtureEntries(): Promise<UsageEntry[]> {
  const { files } = await findTranscripts([join(TRANSCRIPTS, 'projects')]);
  const entries: UsageEntry[] = [];
  for (const f of files) entries.push(...(await readTranscript(f.path)).entries);
  return entries;
}

const NOW = Date.parse('2026-12-08T00:00:00Z');
const fixtureLike: UsageEntry = {
  timeMs: NOW,
  sessionId: 's',
  messageId: 'm',
  requestId: 'r',
  model: 'claude-opus-5-5',
  cwd: '',
  sidechain: false,
  agent: '',
  entrypoint: '',
  input: 1,
  output: 1,
  cacheRead: 0,
  cacheWrite5m: 0,
  cacheWrite1h: 0,
};
const options = (over: Partial<PlanOptions> = {}): PlanOptions => ({
  nowMs: NOW,
  reachMs: 30 * 86_400_000,
  settleMs: 120_000,
  written: new Map(),
  price: (e) => bundledPricing().price(e),
  ...over,
});
const none = { sessions: new Set<string>(), requests: new Map<string, Set<string>>() };
const total = (plan: ReturnType<typeof planImport>, name: string): number =>
  [...plan.series()].filter((s) => s.name === name).reduce((n, s) => n + s.samples.reduce((m, p) => m + p.value, 0), 0);

describe('history import: the real CLI 2.1.328 transcripts', () => {
  it('reads one entry per answer line, and the plan counts each API request once, as its api_request event', async () => {
    const entries = await fixtureEntries();
    const events = await apiRequestEvents();
    // Two answers were written as two lines each (text and tool use): the same ids, the same final usage.
    assert.equal(entries.length, events.length + 2);
    const plan = planImport(entries, none, options());
    assert.equal(plan.counts.answers, events.length);
    assert.equal(plan.counts.duplicates, 2);
    assert.equal(plan.counts.imported, events.length);
    const sum = (key: string): number => events.reduce((n, e) => n + Number(e.attributes[key]), 0);
    const tokens = [...plan.series()].filter((s) => s.name === COUNTERS.tokens.rule);
    const byType = (type: string): number =>
      tokens
        .filter((s) => s.labels['type'] === type)
        .reduce((n, s) => n + s.samples.reduce((m, p) => m + p.value, 0), 0);
    assert.equal(byType('input'), sum('input_tokens'));
    assert.equal(byType('output'), sum('output_tokens'));
    assert.equal(byType('cacheRead'), sum('cache_read_tokens'));
    assert.equal(byType('cacheCreation'), sum('cache_creation_tokens'));
    // Four sessions (the subagent's lines carry its parent's session), each started once.
    assert.equal(plan.counts.sessions, 4);
    assert.equal(total(plan, COUNTERS.sessions.rule), 4);
    const projects = new Set([...plan.series()].map((s) => s.labels['vscode_workspace_name']));
    assert.deepEqual([...projects], ['project']);
    const subagent = [...plan.series()].filter((s) => s.labels['query_source'] === 'subagent');
    assert.ok(subagent.length > 0 && subagent.every((s) => s.labels['agent_name'] === 'general-purpose'));
    assert.ok(
      [...plan.series()].every((s) => s.labels['app_entrypoint'] === 'sdk-cli' && s.labels['import'] === 'transcript'),
    );
  });

  it('prices every answer as Claude Code did (cost_usd), but the one above 200k input tokens', async () => {
    const entries = await fixtureEntries();
    const byRequest = new Map(entries.map((e) => [e.requestId, e]));
    const pricing = bundledPricing();
    for (const { attributes: a } of await apiRequestEvents()) {
      const e = byRequest.get(String(a['request_id']))!;
      const price = pricing.price(e)!;
      if (e.input + e.cacheRead + e.cacheWrite5m + e.cacheWrite1h > 200_000) {
        // Measured: Claude Code 2.1.328 charged Sonnet 4.5's base rate for 230k input tokens ($0.5805); the price
        // table applies Anthropic's long-context rate to the whole request ($1.1535).
        assert.equal(Number(a['cost_usd']), 0.5805);
        assert.equal(Math.round(price * 1e6) / 1e6, 1.1535);
      } else {
        assert.ok(
          Math.abs(price - Number(a['cost_usd'])) < 1e-9,
          `${e.requestId}: ${price} vs ${String(a['cost_usd'])}`,
        );
      }
    }
  });
});

describe('history import: prices', () => {
  it("prices from each model's daily rates exactly as the table prices each answer, tiers included", () => {
    const pricing = bundledPricing();
    const models = ['claude-opus-5-5', 'claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001', 'claude-opus-4-1'];
    let seed = 25;
    const next = (max: number): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % max;
    for (let i = 0; i < 400; i++) {
      const e = {
        timeMs: Date.parse('2026-01-01T00:00:00Z') + next(330) * 86_400_000 + next(86_400_000),
        sessionId: 's',
        messageId: 'm',
        requestId: 'r',
        model: models[i % models.length]!,
        cwd: '',
        sidechain: false,
        agent: '',
        entrypoint: '',
        input: next(40_000),
        output: next(8_000),
        cacheRead: next(i % 10 === 0 ? 400_000 : 150_000),
        cacheWrite5m: next(30_000),
        cacheWrite1h: next(3) === 0 ? next(20_000) : 0,
      };
      const table = tablePrice(e)!;
      assert.ok(Math.abs(pricing.price(e)! - table) <= 1e-12 * Math.max(1, table), JSON.stringify(e));
    }
    assert.equal(pricing.price({ ...fixtureLike, model: 'claude-nova-9' }), undefined);
  });
});

describe('history import: the plan', () => {
  const entry = (over: Partial<UsageEntry>): UsageEntry => ({
    timeMs: NOW - 3_600_000,
    sessionId: 's1',
    messageId: 'msg_1',
    requestId: 'req_1',
    model: 'claude-opus-5-5',
    cwd: '/home/dev/shop',
    sidechain: false,
    agent: '',
    entrypoint: 'claude-vscode',
    input: 10,
    output: 20,
    cacheRead: 0,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
    ...over,
  });

  it('leaves out what telemetry reported: the requests its events name, or a whole session Loki cannot speak for', () => {
    const entries = [
      entry({ sessionId: 'wired', requestId: 'req_a', messageId: 'm_a' }),
      entry({ sessionId: 'wired', requestId: 'req_b', messageId: 'm_b' }),
      entry({ sessionId: 'old', requestId: 'req_c', messageId: 'm_c' }),
      entry({ sessionId: 'panel', requestId: 'req_d', messageId: 'm_d' }),
    ];
    const coverage = { sessions: new Set(['wired', 'old']), requests: new Map([['wired', new Set(['req_a'])]]) };
    const plan = planImport(entries, coverage, options());
    assert.deepEqual(plan.counts, {
      answers: 4,
      duplicates: 0,
      reported: 2,
      beyondReach: 0,
      settling: 0,
      imported: 2,
      sessions: 2,
    });
    const sessions = [...plan.series()]
      .filter((s) => s.name === COUNTERS.sessions.metric)
      .map((s) => s.labels['session_id']);
    // The wired session's start was reported: only the panel's session is started by the import.
    assert.deepEqual(sessions, ['panel']);
    assert.deepEqual(
      [
        ...new Set([...plan.series()].filter((s) => s.name === COUNTERS.cost.rule).map((s) => s.labels['session_id'])),
      ].sort(),
      ['panel', 'wired'],
    );
  });

  it('waits for young answers, leaves out those older than the store keeps, and shows unknown models unpriced', () => {
    const plan = planImport(
      [
        entry({ requestId: 'r1', timeMs: NOW - 60_000 }),
        entry({ requestId: 'r2', timeMs: NOW - 40 * 86_400_000 }),
        entry({ requestId: 'r3', model: 'claude-nova-9' }),
      ],
      none,
      options(),
    );
    assert.equal(plan.counts.settling, 1);
    assert.equal(plan.counts.beyondReach, 1);
    assert.deepEqual([...plan.unpriced], [['claude-nova-9', 1]]);
    assert.equal([...plan.series()].filter((s) => s.name === COUNTERS.cost.metric).length, 0, 'no $0 cost for it');
    assert.equal(total(plan, COUNTERS.tokens.rule), 30);
  });

  it("writes the rules' increases on a fixed grid, and a run after it writes only what is new", () => {
    const first = planImport([entry({ timeMs: NOW - 600_000 + 500 })], none, options());
    const increase = [...first.series()].find((s) => s.name === COUNTERS.tokens.rule && s.labels['type'] === 'output')!;
    assert.deepEqual(increase.samples, [{ timeMs: NOW - 600_000 + 10_000, value: 20 }]);
    assert.equal(evaluationAt(NOW), NOW);
    assert.equal(evaluationAt(NOW + 1), NOW + 10_000);
    const raw = [...first.series()].find((s) => s.name === COUNTERS.tokens.metric && s.labels['type'] === 'output')!;
    assert.deepEqual(raw.samples, [{ timeMs: NOW - 600_000 + 500, value: 20 }]);

    const again = planImport([entry({ timeMs: NOW - 600_000 + 500 })], none, options({ written: first.written }));
    assert.equal([...again.series()].length, 0, 'a re-import writes nothing new');
    const more = planImport(
      [entry({ timeMs: NOW - 600_000 + 500 }), entry({ requestId: 'r9', timeMs: NOW - 300_000 })],
      none,
      options({ written: first.written }),
    );
    const rawAfter = [...more.series()].find((s) => seriesKey(s.name, s.labels) === seriesKey(raw.name, raw.labels))!;
    assert.deepEqual(rawAfter.samples, [{ timeMs: NOW - 300_000, value: 40 }], 'the running total goes on');
  });

  it('names the project after the working folder, on any platform', () => {
    assert.equal(projectOf('/home/dev/shop/'), 'shop');
    assert.equal(projectOf('C:\\Users\\dev\\shop'), 'shop');
    assert.equal(projectOf(''), '');
  });
});

describe('history import: transcripts as they are found', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const home = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'cct-history-'));
    dirs.push(d);
    return d;
  };
  const line = (over: Record<string, unknown> = {}): string =>
    `${JSON.stringify({
      type: 'assistant',
      sessionId: 's1',
      timestamp: '2026-12-07T10:00:00.000Z',
      cwd: '/w/app',
      requestId: 'req_1',
      message: { id: 'msg_1', model: 'claude-opus-5-5', usage: { input_tokens: 5, output_tokens: 7 } },
      ...over,
    })}\n`;

  it('leaves a line being written for the next read, and names the first corrupted line', async () => {
    const dir = await home();
    const path = join(dir, 's1.jsonl');
    const complete = line() + '{"type":"assistant","usage":\n' + line({ requestId: 'req_2' });
    await writeFile(path, complete + line({ requestId: 'req_3' }).slice(0, 40));
    const first = await readTranscript(path);
    assert.equal(first.entries.length, 2);
    assert.equal(first.bytes, Buffer.byteLength(complete));
    assert.deepEqual(first.problems, { count: 1, firstLine: 2, reason: 'not valid JSON (cut off or corrupted)' });
    await appendFile(path, line({ requestId: 'req_3' }).slice(40));
    const next = await readTranscript(path, first.bytes);
    assert.deepEqual(
      next.entries.map((e) => e.requestId),
      ['req_3'],
    );
  });

  it('skips a missing folder, reports one it cannot read, and finds subagent transcripts', async () => {
    const dir = await home();
    const projects = join(dir, 'projects');
    await mkdir(join(projects, '-w-app', 's1', 'subagents'), { recursive: true });
    await writeFile(join(projects, '-w-app', 's1.jsonl'), line());
    await writeFile(join(projects, '-w-app', 's1', 'subagents', 'agent-1.jsonl'), line({ isSidechain: true }));
    await mkdir(join(projects, 'locked'));
    await chmod(join(projects, 'locked'), 0);
    const found = await findTranscripts([projects, join(dir, 'nowhere', 'projects')]);
    assert.deepEqual(
      found.files.map((f) => f.path.slice(projects.length)),
      ['/-w-app/s1.jsonl', '/-w-app/s1/subagents/agent-1.jsonl'],
    );
    // root reads anything: the locked folder is unreadable only to others.
    if (process.getuid?.() !== 0)
      assert.deepEqual(
        found.unreadable.map((u) => u.reason),
        ['permission denied'],
      );
    await chmod(join(projects, 'locked'), 0o755);
  });

  it('looks where Claude Code keeps its projects', () => {
    assert.deepEqual(projectRoots({ CLAUDE_CONFIG_DIR: '/a, /b' }, '/home/u'), ['/a/projects', '/b/projects']);
    assert.deepEqual(projectRoots({}, '/home/u'), ['/home/u/.config/claude/projects', '/home/u/.claude/projects']);
  });
});
