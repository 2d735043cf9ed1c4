// Section 7 (issue 24): the team stack under a team's load, with faults during it. Every part is real on loopback but
// Loki (the double, in this process) and the front doors before the store's nodes (test/support/frontDoor.ts, as a
// Service): three Cortex nodes, the collector as the gateway. `developers` simulated developers (cliExport.ts: the
// real CLI's OTLP, cumulative, metrics every second) report through the gateway with their own tokens for `seconds`;
// meanwhile a node is killed and restarted, the gateway restarted, a ruler restarted, and the query tier taken away,
// while the extension's reader refreshes every 5 s as the status bar does. Then each developer's totals in the store
// (raw, through the ruler's rules) and in Loki are compared with what their CLI spent and sent.
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { COUNTERS } from '../src/telemetry/counters';
import { PrometheusClient } from '../src/telemetry/prometheus';
import { LokiClient } from '../src/telemetry/loki';
import { TelemetryReader } from '../src/telemetry/reader';
import { statusAfterFailure, statusAfterRefresh } from '../src/views/refreshOutcome';
import { statusBarLook } from '../src/views/statusBarModel';
import { usd } from '../src/format';
import { components } from '../test/support/components';
import { startLoadedPrometheus } from '../test/support/promServer';
import { mulberry32 } from '../test/support/sim';
import { startTeamStack, TEAM_TENANT, type TeamStack } from '../test/support/teamStack';
import { SimulatedDeveloper } from './cliExport';
import { retentionDays, writeHistoryBlocks } from './history';
import { fmtMs, median, table } from './table';

const PROJECTS = ['api-server', 'web-app', 'infra'];
const COMMANDS = { start: 'start', dashboard: 'dashboard', grafana: 'grafana', logs: 'logs' };
/** How long a simulated CLI keeps a failed events export to send again (metrics need none: the next carries totals). */
const EVENTS_RETRY_MS = 30_000;

interface TeamLoadOptions {
  developers: number;
  seconds: number;
  /** How long the killed node and the query tier stay down. */
  outageSeconds: number;
  sessionSeconds: [number, number];
}

interface Fault {
  /** Its key in BENCH_TEAM_FAULTS. */
  key: 'node' | 'gateway' | 'ruler' | 'queries';
  name: string;
  atS: number;
  /** What it does; resolves when the fault is over (the part is back, or meant to be). */
  run(team: TeamStack): Promise<void>;
  endS?: number;
}

interface Poll {
  atS: number;
  ms: number;
  text: string;
  ok: boolean;
}

/** CPU seconds and peak memory of a process over the run, across its restarts (each a new pid). */
class ProcessMeter {
  private readonly cpuByPid = new Map<number, [number, number]>();
  peakRssMiB = 0;
  constructor(
    readonly name: string,
    private readonly pid: () => number | undefined,
  ) {}
  sample(): void {
    const pid = this.pid();
    if (pid === undefined) return;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpu = (Number(fields[11]) + Number(fields[12])) / 100;
      const first = this.cpuByPid.get(pid)?.[0] ?? cpu;
      this.cpuByPid.set(pid, [first, cpu]);
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      this.peakRssMiB = Math.max(this.peakRssMiB, Number(rss ?? 0) / 1024);
    } catch {
      /* it exited between the two reads */
    }
  }
  cpuSeconds(): number {
    return [...this.cpuByPid.values()].reduce((n, [a, b]) => n + b - a, 0);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export interface TeamLoadResult {
  markdown: string;
  developers: number;
  /** Developers whose cost, tokens (raw and through the rules) and events all equal their truth. */
  exact: number;
}

export interface TeamBenchOptions extends TeamLoadOptions {
  /** The team's history in the store (a tenant of its own) for the reads: sessions over days, all developers'. */
  historySessions: number;
  historyDays: number;
  runs: number;
  warmup: number;
}

const HISTORY_TENANT = 'team-history';

export async function benchTeam(o: TeamBenchOptions, log: (s: string) => void): Promise<TeamLoadResult> {
  const names = Array.from({ length: o.developers }, (_, i) => `dev${String(i + 1).padStart(3, '0')}@example.com`);
  // As the refresh section: the history ends 3 h before the wall clock on an hour; the reads run 5 min after it.
  const endS = Math.floor(Date.now() / 3_600_000) * 3600 - 3 * 3600;
  const evalMs = (endS + 300) * 1000;
  log(`team: writing a history of ${o.historySessions} sessions of ${o.developers} developers over ${o.historyDays} d`);
  const history = await writeHistoryBlocks(
    {
      label: 'team',
      seed: 24,
      sessions: o.historySessions,
      days: o.historyDays,
      endS,
      scrapeSeconds: 15,
      tailSeconds: 600,
      developers: o.developers,
    },
    log,
  );
  // The same blocks in one Prometheus (the local stack's store), side by side.
  const prom = await startLoadedPrometheus({
    openMetrics: '# TYPE cct_bench_marker gauge\ncct_bench_marker 1 1000000000\n# EOF\n',
    retentionDays: retentionDays(o.historyDays),
  });
  try {
    for (const id of readdirSync(history.dir))
      cpSync(join(history.dir, id), join(prom.dir, 'data', id), { recursive: true });
    log(`team: starting the stack for ${o.developers} developers, the history in tenant ${HISTORY_TENANT}`);
    const team = await startTeamStack(names, { history: { tenant: HISTORY_TENANT, dir: history.dir } });
    history.remove();
    try {
      await team.loadRules();
      const load = await runLoad(team, names, o, log);
      log('team: reading the history');
      const historyHeaders = { 'X-Scope-OrgID': HISTORY_TENANT };
      await Promise.all([
        history.loaded(prom.url),
        ...team.nodes.map((n) => history.loaded(`${n.url}/prometheus`, historyHeaders)),
      ]);
      const stores: Array<[string, PrometheusClient]> = [
        [
          'Cortex, three nodes (the team store)',
          new PrometheusClient({
            baseUrl: `${team.queries.url}/prometheus`,
            headers: historyHeaders,
            timeoutMs: 120_000,
            maxResponseBytes: 256 << 20,
          }),
        ],
        [
          `one Prometheus ${components().prometheusVersion} (the local stack's store)`,
          new PrometheusClient({ baseUrl: prom.url, timeoutMs: 120_000, maxResponseBytes: 256 << 20 }),
        ],
      ];
      const rows: string[][] = [];
      for (const [store, client] of stores) {
        for (const range of ['24h', '30d'] as const) {
          const r = await timeReads(client, history.rulesEvaluatedAt, evalMs, range, names[0]!, o);
          rows.push([store, range, fmtMs(r.firstMs), fmtMs(r.steadyMs), usd(r.teamUsd), usd(r.mineUsd)]);
        }
        await client.close();
      }
      const reads = table(
        `Reading the team's history: ${o.developers} developers, ${o.historySessions} sessions over ${o.historyDays} d (${history.series} raw series, ${history.ruleSeries} rule series)`,
        ['store', 'range', 'first load', 'steady (every 5 s)', "the team's cost in the range", "one developer's today"],
        rows,
        [
          `One TelemetryReader.refresh in team mode (today's parts, the developer's among them, and the sidebar's range, as DashboardController.refresh runs it; Prometheus part), median of ${o.runs} after ${o.warmup} warm-ups; the same blocks in both stores.` +
            " The history is built as section 1 builds its own (bench/history.ts), each session one developer's (`user_email`).",
        ],
      );
      return { ...load, markdown: `${load.markdown}\n${reads}` };
    } finally {
      await team.stop();
    }
  } finally {
    history.remove();
    await prom.stop();
  }
}

/** One refresh of `range` in team mode on a new reader (first load), and on one reader every 5 s (steady). */
async function timeReads(
  prometheus: PrometheusClient,
  rulesEvaluatedAt: (nowMs: number) => Promise<number | null>,
  evalMs: number,
  range: '24h' | '30d',
  developer: string,
  o: TeamBenchOptions,
): Promise<{ firstMs: number; steadyMs: number; teamUsd: number; mineUsd: number }> {
  const dayStart = new Date(evalMs);
  dayStart.setHours(0, 0, 0, 0);
  const refresh = async (reader: TelemetryReader, nowMs: number) => {
    const t0 = performance.now();
    const { today, snapshot } = await reader.refresh(nowMs, { dayStartMs: dayStart.getTime(), range, developer });
    const ms = performance.now() - t0;
    if (!snapshot?.metrics) throw new Error(`refresh failed: ${snapshot?.errors.prometheus?.message}`);
    return { ms, teamUsd: snapshot.metrics.kpis.costUsd, mineUsd: today?.developer?.costUsd ?? NaN };
  };
  const newReader = (): TelemetryReader => new TelemetryReader({ prometheus, rulesEvaluatedAt });
  const timed = async (f: () => Promise<number>): Promise<number> => {
    for (let i = 0; i < o.warmup; i++) await f();
    const ms: number[] = [];
    for (let i = 0; i < o.runs; i++) ms.push(await f());
    return median(ms);
  };
  let last = await refresh(newReader(), evalMs);
  const firstMs = await timed(async () => (last = await refresh(newReader(), evalMs)).ms);
  const steady = newReader();
  let now = evalMs;
  await refresh(steady, now);
  const steadyMs = await timed(async () => (await refresh(steady, (now += 5000))).ms);
  return { firstMs, steadyMs, teamUsd: last.teamUsd, mineUsd: last.mineUsd };
}

async function runLoad(
  team: TeamStack,
  names: string[],
  o: TeamLoadOptions,
  log: (s: string) => void,
): Promise<TeamLoadResult> {
  const t0 = Date.now();
  const atS = (): number => (Date.now() - t0) / 1000;
  const devs = names.map(
    (name, i) =>
      new SimulatedDeveloper(name, PROJECTS[i % PROJECTS.length]!, mulberry32(1000 + i), o.sessionSeconds, t0),
  );
  const failures: Array<{ atS: number; kind: 'metrics' | 'logs' }> = [];
  const counts = { metricsRequests: 0, logsRequests: 0, points: 0, eventsDropped: 0 };
  const post = async (path: string, token: string, body: unknown): Promise<boolean> => {
    try {
      const res = await fetch(`${team.gateway.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  };
  const endMs = t0 + o.seconds * 1000;

  // Each developer's CLI: an export every second, at its own phase within the second.
  const runDeveloper = async (dev: SimulatedDeveloper, i: number): Promise<void> => {
    const token = team.tokenOf(dev.developer);
    const unsent: Array<{ request: unknown; records: number; firstMs: number }> = [];
    for (let tick = t0 + (i / devs.length) * 1000; tick < endMs; tick += 1000) {
      await sleep(tick - Date.now());
      const now = Date.now();
      dev.step(now);
      const metrics = dev.metricsRequest(now) as {
        resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<{ sum: { dataPoints: unknown[] } }> }> }>;
      };
      counts.points += metrics.resourceMetrics[0]!.scopeMetrics[0]!.metrics.reduce(
        (n, m) => n + m.sum.dataPoints.length,
        0,
      );
      counts.metricsRequests++;
      if (!(await post('/v1/metrics', token, metrics))) failures.push({ atS: atS(), kind: 'metrics' });
      const logs = dev.takeLogsRequest();
      if (logs) unsent.push({ ...logs, firstMs: now });
      while (unsent.length) {
        counts.logsRequests++;
        if (await post('/v1/logs', token, unsent[0]!.request)) {
          unsent.shift();
          continue;
        }
        failures.push({ atS: atS(), kind: 'logs' });
        while (unsent.length && Date.now() - unsent[0]!.firstMs > EVENTS_RETRY_MS)
          counts.eventsDropped += unsent.shift()!.records;
        break;
      }
    }
    // The CLI's last exports as it exits: the session's totals, and what events it still holds.
    const last = Date.now();
    dev.step(last);
    await post('/v1/metrics', token, dev.metricsRequest(last));
    const logs = dev.takeLogsRequest();
    if (logs) unsent.push({ ...logs, firstMs: last });
    for (const u of unsent) if (!(await post('/v1/logs', token, u.request))) counts.eventsDropped += u.records;
  };

  // The extension, as a developer's status bar reads the team's store every 5 s.
  const prometheus = new PrometheusClient({
    baseUrl: `${team.queries.url}/prometheus`,
    headers: { 'X-Scope-OrgID': TEAM_TENANT },
  });
  const loki = new LokiClient({
    baseUrl: `http://127.0.0.1:${team.loki.port}`,
    headers: { 'X-Scope-OrgID': TEAM_TENANT },
  });
  const reader = new TelemetryReader({ prometheus, loki });
  const polls: Poll[] = [];
  const me = names[0]!;
  const dayStart = new Date();
  dayStart.setHours(0, 0, 0, 0);
  const poll = async (): Promise<void> => {
    for (let tick = t0 + 5000; tick < endMs + 20_000; tick += 5000) {
      await sleep(tick - Date.now());
      const p0 = performance.now();
      let text: string;
      let ok = true;
      try {
        const { today } = await reader.refresh(Date.now(), {
          dayStartMs: dayStart.getTime(),
          range: '24h',
          developer: me,
        });
        const state = statusAfterRefresh(today!, true, {
          local: false,
          stack: { state: 'unknown' },
          storageProblem: undefined,
          dailyBudgetUsd: 0,
          planWarningPercent: 80,
          alerts: [],
        });
        text = statusBarLook(state, COMMANDS).text;
      } catch (error) {
        ok = false;
        text = statusBarLook(statusAfterFailure(error, false, { state: 'unknown' }).status, COMMANDS).text;
      }
      polls.push({ atS: atS(), ms: performance.now() - p0, text, ok });
    }
  };

  const meters = [
    ...team.nodes.map((n) => new ProcessMeter(n.name, () => n.process.pid)),
    new ProcessMeter('gateway (collector)', () => team.gateway.process.pid),
    new ProcessMeter('bench process (the developers, the Loki double, the reader)', () => process.pid),
  ];
  const meter = async (): Promise<void> => {
    while (Date.now() < endMs + 20_000) {
      for (const m of meters) m.sample();
      await sleep(2000);
    }
  };

  // BENCH_TEAM_FAULTS: which of them (node,gateway,ruler,queries; default all), to tell one fault's effect from another's.
  const only = process.env['BENCH_TEAM_FAULTS']?.split(',').map((k) => k.trim());
  const faults = faultPlan(o).filter((f) => !only || only.includes(f.key));
  const runFaults = async (): Promise<void> => {
    for (const f of faults) {
      await sleep(t0 + f.atS * 1000 - Date.now());
      log(`team: ${atS().toFixed(0)} s: ${f.name}`);
      await f.run(team);
      f.endS = atS();
    }
  };

  log(`team: ${o.developers} developers for ${o.seconds} s`);
  let loadEndS = NaN;
  await Promise.all([
    Promise.all(devs.map(runDeveloper)).then(() => {
      loadEndS = atS();
    }),
    poll(),
    meter(),
    runFaults(),
  ]);
  log(`team: load over at ${loadEndS.toFixed(0)} s; waiting for the rules' last evaluations`);
  await sleep(25_000);

  // Each developer's totals: raw, through the rules, and their events in Loki.
  const windowS = Math.ceil(atS() + 120);
  const at = Date.now() / 1000;
  const byDeveloper = async (client: PrometheusClient | LokiClient, query: string): Promise<Map<string, number>> => {
    const samples =
      client instanceof LokiClient ? await client.instant(query, at * 1000) : await client.instant(query, at);
    return new Map(samples.map((s) => [s.labels['user_email'] ?? '', s.value ?? NaN]));
  };
  const w = `[${windowS}s]`;
  const [rawCost, rawTokens, ruleCost, ruleTokens, events] = await Promise.all([
    byDeveloper(prometheus, `sum by (user_email) (last_over_time(${COUNTERS.cost.metric}${w}))`),
    byDeveloper(prometheus, `sum by (user_email) (last_over_time(${COUNTERS.tokens.metric}${w}))`),
    byDeveloper(prometheus, `sum by (user_email) (sum_over_time(${COUNTERS.cost.rule}${w}))`),
    byDeveloper(prometheus, `sum by (user_email) (sum_over_time(${COUNTERS.tokens.rule}${w}))`),
    byDeveloper(loki, `sum by (user_email) (count_over_time({service_name="claude-code"}${w}))`),
  ]);
  const close = (got: number | undefined, truth: number): boolean =>
    got !== undefined && Math.abs(got - truth) <= 1e-6 * Math.max(1, truth);
  const agree = (m: Map<string, number>, truth: (d: SimulatedDeveloper) => number): string => {
    const off = devs.filter((d) => !close(m.get(d.developer), truth(d)));
    const worst = off
      .map((d) => ({ d, by: (m.get(d.developer) ?? 0) - truth(d) }))
      .sort((a, b) => Math.abs(b.by) - Math.abs(a.by))[0];
    return `${devs.length - off.length} of ${devs.length}${worst ? ` (worst: ${worst.d.developer} ${worst.by > 0 ? '+' : ''}${worst.by.toPrecision(4)} of ${truth(worst.d).toPrecision(6)})` : ''}`;
  };
  const checks: Array<[string, string]> = [
    ['cost, raw series (last value of each session)', agree(rawCost, (d) => d.truth.costUsd)],
    ['tokens, raw series', agree(rawTokens, (d) => d.truth.tokens)],
    ["cost, the ruler's recording rules", agree(ruleCost, (d) => d.truth.costUsd)],
    ["tokens, the ruler's recording rules", agree(ruleTokens, (d) => d.truth.tokens)],
    ['events in Loki', agree(events, (d) => d.truth.events)],
  ];
  const exact = devs.filter(
    (d) =>
      close(rawCost.get(d.developer), d.truth.costUsd) &&
      close(rawTokens.get(d.developer), d.truth.tokens) &&
      close(ruleCost.get(d.developer), d.truth.costUsd) &&
      close(ruleTokens.get(d.developer), d.truth.tokens) &&
      close(events.get(d.developer), d.truth.events),
  ).length;

  // Per metric name: `*_over_time` drops the name, and two names' series would collide in one vector.
  const metricNames = await prometheus.labelValues('__name__', [], { start: at - windowS, end: at });
  const perName = await Promise.all(
    metricNames.map(async (name) => {
      const [samples, series] = await Promise.all([
        prometheus.instant(`sum(count_over_time(${name}${w}))`, at),
        prometheus.instant(`count(count_over_time(${name}${w}))`, at),
      ]);
      return { samples: samples[0]?.value ?? 0, series: series[0]?.value ?? 0 };
    }),
  );
  await prometheus.close();
  await loki.close();
  const storedSamples = perName.reduce((n, p) => n + p.samples, 0);
  const storedSeries = perName.reduce((n, p) => n + p.series, 0);
  const okPolls = polls.filter((p) => p.ok);

  const sessions = devs.reduce((n, d) => n + d.truth.sessions, 0);
  const sentEvents = devs.reduce((n, d) => n + d.truth.events, 0);
  const load = table(
    `Team load: ${o.developers} developers through the gateway into three Cortex nodes, ${o.seconds} s`,
    ['', 'value'],
    [
      ['developers (tokens), sessions', `${o.developers}, ${sessions}`],
      [
        'metrics exports (one a second each), failed',
        `${counts.metricsRequests}, ${failures.filter((f) => f.kind === 'metrics').length}`,
      ],
      ['points sent a second', `${(counts.points / loadEndS).toFixed(0)}`],
      ['samples stored a second (rules included)', `${(storedSamples / loadEndS).toFixed(0)}`],
      ['series in the tenant over the run', `${storedSeries}`],
      [
        'events made, events exports, failed, dropped',
        `${sentEvents}, ${counts.logsRequests}, ${failures.filter((f) => f.kind === 'logs').length}, ${counts.eventsDropped}`,
      ],
      [
        'status bar refresh under load (team + mine, 24 h), median / max',
        `${fmtMs(median(okPolls.map((p) => p.ms)))} / ${fmtMs(Math.max(...okPolls.map((p) => p.ms)))}`,
      ],
      ...meters.map((m) => [
        `${m.name}: CPU s, peak RSS`,
        `${m.cpuSeconds().toFixed(1)} s, ${m.peakRssMiB.toFixed(0)} MiB`,
      ]),
      ...checks.map(([what, n]) => [`developers exact: ${what}`, n]),
      ['developers exact in everything', `${exact} of ${o.developers}`],
    ],
  );
  const faultRows = faults.map((f) => {
    const end = f.endS ?? NaN;
    const during = polls.filter((p) => p.atS >= f.atS && p.atS <= end + 5);
    const shown = [...new Set(during.map((p) => p.text))].join(' / ') || '(no refresh fell in it)';
    const wrong = during.some((p) => !p.ok);
    const back = polls.find((p) => p.atS > end && p.ok);
    const failed = failures.filter((x) => x.atS >= f.atS && x.atS <= end + 5);
    return [
      f.name,
      `${f.atS.toFixed(0)}-${end.toFixed(0)} s`,
      `${failed.filter((x) => x.kind === 'metrics').length} / ${failed.filter((x) => x.kind === 'logs').length}`,
      shown,
      !wrong ? '(never wrong)' : back ? `${(back.atS - end).toFixed(0)} s` : 'never',
    ];
  });
  const faultTable = table(
    'Faults during the load',
    ['fault', 'when', 'exports failed (metrics / events)', 'the status bar meanwhile', 'status bar right again after'],
    faultRows,
    [
      `Nothing lost: ${exact} of ${o.developers} developers exact in everything after the load (above); events dropped by the simulated CLIs after ${EVENTS_RETRY_MS / 1000} s of failed sends: ${counts.eventsDropped}.`,
    ],
  );
  return { markdown: `${load}\n${faultTable}`, developers: o.developers, exact };
}

/** The faults, spread over the run: each part of the store and the gateway taken away once. */
function faultPlan(o: TeamLoadOptions): Fault[] {
  const at = (fraction: number): number => Math.round(o.seconds * fraction);
  const out = o.outageSeconds * 1000;
  return [
    {
      key: 'node',
      name: 'an ingesting node (cortex-3) killed, restarted after the outage',
      atS: at(0.15),
      run: async (team) => {
        await team.nodes[2]!.process.kill();
        await sleep(out);
        await team.nodes[2]!.process.restart();
      },
    },
    {
      key: 'gateway',
      name: 'the gateway restarted',
      atS: at(0.4),
      run: async (team) => {
        await team.gateway.process.stop();
        await team.gateway.process.restart();
      },
    },
    {
      key: 'ruler',
      name: 'a ruler restarted (cortex-2)',
      atS: at(0.55),
      run: async (team) => {
        await team.nodes[1]!.process.stop();
        await team.nodes[1]!.process.restart();
      },
    },
    {
      key: 'queries',
      name: "the store's query tier down for the outage",
      atS: at(0.7),
      run: async (team) => {
        await team.queries.down();
        await sleep(out);
        await team.queries.up();
      },
    },
  ];
}
