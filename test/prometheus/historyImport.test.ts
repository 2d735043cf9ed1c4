// The history import into a REAL Prometheus (the pinned 3.x, with the stack's OTLP receiver, out-of-order window and
// recording rules), from the real CLI 2.1.328's transcripts moved to a few minutes ago: the reader shows every session
// with its project and cost; a session telemetry reported counts once; the live rules, which see the imported raw
// series, add nothing to what the import wrote; a second import changes nothing; removal leaves telemetry alone.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundledPricing, HistoryImporter, removeImported, type ImportReport } from '../../src/history';
import { RULE_GROUP } from '../../src/telemetry/counters';
import { LokiClient } from '../../src/telemetry/loki';
import { PrometheusClient } from '../../src/telemetry/prometheus';
import { startLokiDouble, type LokiDouble } from '../doubles/loki';
import { TelemetryReader } from '../../src/telemetry/reader';
import { startLoadedPrometheus, type PrometheusInstance } from '../support/promServer';
import { apiRequestEvents, copyShiftedTranscripts } from '../support/transcripts';
import { waitFor } from '../support/wait';

/** The session of the fixtures that reported telemetry here: its first run, resumed and continued. */
const WIRED = 'fb3a25c5-fd67-42ac-9f71-9b490176c761';
/** The first 8 digits of the session ids of the fixtures' copy two hours ago. */
const EARLIER = 'bbbbbbbb';
/** The one request above 200k input tokens: Claude Code charged $0.5805, the price table $1.1535 (see the unit test). */
const LONG_CONTEXT = { cliUsd: 0.5805, tableUsd: 1.1535 };

/** An importer of the transcripts under `configDir`, what it wrote kept in memory only. */
const importerOf = (prometheus: PrometheusClient, loki: LokiClient | undefined, configDir: string): HistoryImporter =>
  new HistoryImporter({
    prometheus,
    loki,
    roots: [join(configDir, 'projects')],
    pricing: bundledPricing(),
    fallbackReachMs: 30 * 86_400_000,
    written: new Map(),
    saveWritten: () => Promise.resolve(),
  });

describe('history import into real Prometheus', () => {
  let prom: PrometheusInstance;
  let client: PrometheusClient;
  let configDir: string;
  const now = Date.now();
  /** Claude Code's own cost per session, from its api_request events. */
  const cliCost = new Map<string, number>();

  const importer = (): HistoryImporter => importerOf(client, undefined, configDir);
  const sessionRows = async () => {
    const reader = new TelemetryReader({ prometheus: client });
    const m = (await reader.refresh(Date.now(), { range: '24h' })).snapshot!.metrics!;
    return new Map(m.sessions.map((s) => [s.sessionId, s]));
  };
  const importedTotal = async (): Promise<number> => {
    const [s] = await client.instant(
      'sum(sum_over_time(claude_code:cost_usd:increase10s{import="transcript"}[1h]))',
      Date.now() / 1000,
    );
    return s?.value ?? 0;
  };

  before(async () => {
    configDir = await mkdtemp(join(tmpdir(), 'cct-claude-config-'));
    // The newest answer 3 minutes ago: past the import's 1-minute wait, inside the rules' 5-minute lookback.
    await copyShiftedTranscripts(configDir, now - 180_000);
    // And the same sessions again as others, two hours ago: in the pieces a reader has closed and kept.
    await copyShiftedTranscripts(configDir, now - 2 * 3_600_000, EARLIER);
    for (const { attributes: a } of await apiRequestEvents()) {
      const id = String(a['session.id']);
      cliCost.set(id, (cliCost.get(id) ?? 0) + Number(a['cost_usd']));
    }
    // Telemetry of the wired session, as the collector and the rules write it, an hour ago.
    const t = Math.floor(now / 1000) - 3600;
    const labels = `session_id="${WIRED}",model="claude-opus-5-5",vscode_workspace_name="project"`;
    const cost = cliCost.get(WIRED)!;
    prom = await startLoadedPrometheus({
      openMetrics: [
        '# TYPE claude_code_cost_usage_USD_total gauge',
        `claude_code_cost_usage_USD_total{${labels}} ${cost} ${t}`,
        '# TYPE claude_code:cost_usd:increase10s gauge',
        `claude_code:cost_usd:increase10s{${labels}} ${cost} ${t}`,
        '# EOF',
        '',
      ].join('\n'),
    });
    client = new PrometheusClient({ baseUrl: prom.url });
    // The rules evaluate before the import: they see its raw series from their next evaluation on.
    await waitFor(
      'the first rule evaluation',
      async () => (await client.ruleGroups()).find((g) => g.name === RULE_GROUP)?.lastEvaluationMs ?? undefined,
    );
  });
  after(async () => {
    await client?.close();
    await prom?.stop();
    await rm(configDir, { recursive: true, force: true });
  });

  let first: ImportReport;
  it('imports every answer telemetry did not report, and the reader shows each session with its project and cost', async () => {
    // A reader that read the store before: its closed pieces of the imported time are read again, the others kept.
    const reader = new TelemetryReader({ prometheus: client });
    const before = (await reader.refresh(Date.now(), { range: '24h' })).snapshot!.metrics!;
    assert.deepEqual(
      before.sessions.map((s) => s.sessionId),
      [WIRED],
    );
    first = await importer().run(Date.now(), () => undefined);
    assert.ok(first.writtenFromMs !== null && first.writtenFromMs > now - 3 * 3_600_000);
    await reader.discardPast(first.writtenFromMs);
    const after = (await reader.refresh(Date.now(), { range: '24h' })).snapshot!.metrics!;
    assert.equal(after.sessions.length, 8, 'the reader that read before sees the imported sessions');
    assert.equal(first.plan.reported, 3, 'the wired session: three requests, left to telemetry');
    assert.equal(first.plan.imported, 7 + 10, 'the others, and all of the copy');
    assert.equal(first.plan.sessions, 3 + 4);
    assert.equal(first.problems.length, 0);
    assert.equal(first.reachMs, 3650 * 86_400_000, "the store's own retention");
    const rows = await sessionRows();
    assert.equal(rows.size, 8);
    const copies = [...cliCost].map(([id, cli]): [string, number] => [`${EARLIER}${id.slice(8)}`, cli]);
    for (const [id, cli] of [...cliCost, ...copies]) {
      const row = rows.get(id)!;
      assert.deepEqual(row.projects, ['project'], id);
      // Told apart in the sidebar: the imported sessions and how much of their cost their transcripts gave.
      assert.equal(row.imported, id !== WIRED, id);
      assert.ok(Math.abs(row.importedUsd - (id === WIRED ? 0 : row.costUsd)) < 1e-12, id);
      const expected = cli === LONG_CONTEXT.cliUsd ? LONG_CONTEXT.tableUsd : cli;
      assert.ok(Math.abs(row.costUsd - expected) < 1e-9, `${id}: ${row.costUsd} shown, ${expected} expected`);
    }
  });

  it('the live rules see the imported raw series and add nothing to it', async () => {
    const before = await importedTotal();
    const start = (await client.ruleGroups()).find((g) => g.name === RULE_GROUP)!.lastEvaluationMs!;
    await waitFor(
      'two more rule evaluations',
      async () =>
        (await client.ruleGroups()).find((g) => g.name === RULE_GROUP)!.lastEvaluationMs! >= start + 20_000 ||
        undefined,
      60_000,
    );
    const [raw] = await client.instant(
      'count(claude_code_cost_usage_USD_total{import="transcript"})',
      Date.now() / 1000,
    );
    assert.ok((raw?.value ?? 0) > 0, 'the rules can see the imported raw series (inside their lookback)');
    assert.ok(Math.abs((await importedTotal()) - before) < 1e-12);
  });

  it('a second import, and one that forgot what it wrote, change nothing', async () => {
    const total = await importedTotal();
    const again = importer();
    const report = await again.run(Date.now(), () => undefined);
    assert.equal(report.samplesWritten, first.samplesWritten, 'it writes the same samples again');
    assert.equal((await again.run(Date.now(), () => undefined)).samplesWritten, 0, 'then nothing new');
    assert.ok(Math.abs((await importedTotal()) - total) < 1e-12);
  });

  it('an import that prices differently from what the store holds says how to start over', async () => {
    const doubled = new HistoryImporter({
      prometheus: client,
      loki: undefined,
      roots: [join(configDir, 'projects')],
      pricing: { price: (e) => 2 * (bundledPricing().price(e) ?? 0) },
      fallbackReachMs: 30 * 86_400_000,
      written: new Map(),
      saveWritten: () => Promise.resolve(),
    });
    await assert.rejects(
      doubled.run(Date.now(), () => undefined),
      /Remove Imported History…", then import again/,
    );
  });

  it('removing the imported history leaves the telemetry, and says what Prometheus cannot delete yet', async () => {
    const { remaining } = await removeImported(client, Date.now());
    // The last hour's answers are deleted. The copy two hours ago is in Prometheus' out-of-order memory, which
    // delete_series does not reach (prometheus/prometheus#11790) until a compaction writes it to a block.
    assert.equal(await importedTotal(), 0);
    const rows = await sessionRows();
    assert.deepEqual(
      [...rows.keys()].filter((id) => !id.startsWith(EARLIER)),
      [WIRED],
    );
    const held = [...rows.keys()].filter((id) => id.startsWith(EARLIER)).length;
    assert.equal(held, 4, 'the out-of-order samples are still there');
    assert.ok(remaining > 0, 'and the removal says so');
  });
});

describe('history import with Loki (the double, answering as Loki 3.4.6): telemetry wins request by request', () => {
  let prom: PrometheusInstance;
  let loki: LokiDouble;
  let configDir: string;
  const now = Date.now();

  before(async () => {
    configDir = await mkdtemp(join(tmpdir(), 'cct-claude-config-'));
    const shift = await copyShiftedTranscripts(configDir, now - 180_000);
    const t = Math.floor(now / 1000) - 3600;
    const labels = `session_id="${WIRED}",model="claude-opus-5-5",vscode_workspace_name="project"`;
    prom = await startLoadedPrometheus({
      openMetrics: [
        '# TYPE claude_code_cost_usage_USD_total gauge',
        `claude_code_cost_usage_USD_total{${labels}} 0.03 ${t}`,
        '# EOF',
        '',
      ].join('\n'),
    });
    // Two of the wired session's three api_request events reached Loki (the stack was down for the third), in the
    // session's own stream as the collector writes it.
    loki = await startLokiDouble({ port: 0, host: '127.0.0.1' });
    const events = (await apiRequestEvents()).filter((e) => e.attributes['session.id'] === WIRED).slice(0, 2);
    loki.push({
      resourceLogs: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'claude-code' } },
              { key: 'service.instance.id', value: { stringValue: WIRED } },
            ],
          },
          scopeLogs: [
            {
              logRecords: events.map((e) => ({
                timeUnixNano: String(BigInt(e.timeUnixNano) + BigInt(shift) * 1_000_000n),
                body: { stringValue: 'claude_code.api_request' },
                attributes: ['event.name', 'session.id', 'request_id'].map((key) => ({
                  key,
                  value: { stringValue: String(e.attributes[key]) },
                })),
              })),
            },
          ],
        },
      ],
    });
  });
  after(async () => {
    await loki?.close();
    await prom?.stop();
    await rm(configDir, { recursive: true, force: true });
  });

  it('imports the request whose event is missing, and asks Loki again only for a session whose transcript grew', async () => {
    const client = new PrometheusClient({ baseUrl: prom.url });
    const lokiClient = new LokiClient({ baseUrl: `http://127.0.0.1:${loki.port}` });
    let lokiQueries = 0;
    const queryLogs = lokiClient.queryLogs.bind(lokiClient);
    lokiClient.queryLogs = (...args) => {
      lokiQueries++;
      return queryLogs(...args);
    };
    const importer = importerOf(client, lokiClient, configDir);
    try {
      const first = await importer.run(Date.now(), () => undefined);
      assert.equal(first.plan.reported, 2, 'the two requests Loki holds are left to telemetry');
      assert.equal(first.plan.imported, 7 + 1, 'the third is imported');
      assert.equal(first.sessionsTakenAsReported, 0);
      assert.equal(lokiQueries, 1, 'one query: the one session both hold');
      const again = await importer.run(Date.now(), () => undefined);
      assert.equal(again.plan.reported, 2);
      assert.equal(lokiQueries, 1, 'its transcript did not grow: Loki is not asked again');
    } finally {
      await importer.close();
    }
  });
});
