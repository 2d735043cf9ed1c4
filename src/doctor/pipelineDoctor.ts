// "Verify Telemetry Pipeline": checks each hop from Claude Code to the dashboards and says which one is broken,
// with the likely cause and the fix. Plain Node: no `vscode` import here (the editor side is doctorCommand.ts).
//
//   Docker engine -> containers -> collector (OTLP/HTTP) -> Prometheus (scrape) / Loki (OTLP)
//   round trip: a marked probe metric and probe event, sent to the collector, looked up in Prometheus and Loki
//   the active terminal's environment, and ~/.claude/settings.json's `env` block
//
// This module holds the run and the engine's checks; the results and inputs every check shares are in checks.ts,
// the other checks in httpChecks.ts (the services' HTTP endpoints), collectorTelemetryCheck.ts, probeRoundTrip.ts
// (the round trip), terminalEnvironmentCheck.ts and claudeSettingsCheck.ts. Why this one is still long: the run's
// stages read in order (engine and containers, services, round trip, environment, result) with the verdict of each
// engine and service check beside its words; split further, a check's cause would sit apart from its probe.
import { randomBytes } from 'node:crypto';
// Types only: the stack module is in the lazily loaded bundle (dist/deferred.js); its errors are recognised by `code`.
import type { ServiceStatus } from '../stack/stackState';
import type { CheckResult, CheckStatus, DoctorEndpoints, DoctorEngine, DoctorResult, TerminalInput } from './checks';
import { LokiClient } from '../telemetry/loki';
import { PrometheusClient } from '../telemetry/prometheus';
import { checkClaudeSettings } from './claudeSettingsCheck';
import { claudeSettingsPath } from '../terminal/claudeSettings';
import { collectorTelemetryCheck } from './collectorTelemetryCheck';
import { recordingRulesCheck } from './recordingRulesCheck';
import { teamGatewayChecks, type TeamHop } from './teamGatewayCheck';
import {
  LOGS,
  NetError,
  RESTART,
  START,
  hostPort,
  otlpCheck,
  readyCheck,
  scrapeCheck,
  withTimeout,
  type CheckContext,
} from './httpChecks';
import { probeEventRequest, roundTrip, type RoundTripContext } from './probeRoundTrip';
import { checkTerminalEnvironment, type EnvironmentExpectation } from './terminalEnvironmentCheck';

export interface DoctorOptions {
  /** Locates the engine (may throw the stack's NoEngineFoundError). */
  openEngine: () => DoctorEngine | Promise<DoctorEngine>;
  endpoints: DoctorEndpoints;
  /** The active terminal; undefined: none is open (the check is skipped). */
  terminal?: TerminalInput | undefined;
  /** `claudeTelemetry.terminal.enabled`: whether the extension gives terminals the environment. Default true. */
  terminalEnvironmentEnabled?: boolean;
  /**
   * "Claude Code only" mode: the directory of the `claude` shim that terminals get first on PATH instead of OTEL_*
   * variables. Undefined: the all-terminals mode.
   */
  claudeShimDirectory?: string | undefined;
  /** Default: the one Claude Code reads (`$CLAUDE_CONFIG_DIR` or ~/.claude), read when the check runs. */
  claudeSettingsPath?: string;
  /** The Prometheus job that scrapes the collector's exporter (stack/prometheus/prometheus.yml). */
  scrapeJob?: string;
  /** The compose service of the collector (for its state and log lines). */
  collectorService?: string;
  /** How long to wait for the probe in Prometheus and in Loki. Default 30 s. */
  roundTripTimeoutMs?: number;
  /** Poll interval of the round trip. Default 500 ms. */
  pollMs?: number;
  /** Timeout of one HTTP request or engine call. Default 5 s. */
  requestTimeoutMs?: number;
  /** A fixed run id (tests); default a random one. */
  runId?: string;
  signal?: AbortSignal;
  /** Called before each check starts (for a progress message). */
  onCheckStart?: (name: string) => void;
  /** Called with each result as it is known. */
  onCheck?: (result: CheckResult) => void;
  /** Remarks to show above the table. */
  notes?: string[];
  /** Team mode: terminals report to the team's gateway, the dashboard reads the team's store. Only that hop is
   * checked (teamGatewayCheck.ts): the local stack is not in the pipeline. */
  team?: TeamHop;
}
// --- the doctor --------------------------------------------------------------------------------------------------

const STACK_SCRAPE_JOB = 'claude-code';
const COLLECTOR_SERVICE = 'otel-collector';

function newRunId(): string {
  return `${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}-${randomBytes(4).toString('hex')}`;
}

interface StackErrorLike {
  code: string;
  message: string;
  setting?: string;
}

function stackErrorOf(e: unknown): StackErrorLike | undefined {
  const x = e as { code?: unknown; message?: unknown; name?: unknown } | null;
  if (x && typeof x.code === 'string' && typeof x.message === 'string' && x.name === 'StackError')
    return x as StackErrorLike;
  return undefined;
}

/** What every stage of one doctor run shares. */
interface DoctorRun {
  opts: DoctorOptions;
  runId: string;
  timeoutMs: number;
  roundTripMs: number;
  pollMs: number;
  job: string;
  collectorService: string;
  signal: AbortSignal | undefined;
  ep: DoctorEndpoints;
  otlpBase: string;
  expect: EnvironmentExpectation;
  prom: PrometheusClient;
  loki: LokiClient;
  checks: CheckResult[];
  /** Adds a result (and tells `onCheck`). */
  record(r: CheckResult): CheckResult;
  /** Runs one check, timing it. */
  timed(name: string, fn: () => Promise<Omit<CheckResult, 'ms'>>): Promise<CheckResult>;
}

/** Runs every check in order and returns the results. Never throws for a broken hop; only cancellation throws. */
export async function runPipelineDoctor(opts: DoctorOptions): Promise<DoctorResult> {
  const t0 = Date.now();
  const otlpBase = opts.endpoints.otlpHttp.replace(/\/+$/, '');
  const timeoutMs = opts.requestTimeoutMs ?? 5000;
  const checks: CheckResult[] = [];
  const record = (r: CheckResult): CheckResult => {
    checks.push(r);
    opts.onCheck?.(r);
    return r;
  };
  const run: DoctorRun = {
    opts,
    runId: opts.runId ?? newRunId(),
    timeoutMs,
    roundTripMs: opts.roundTripTimeoutMs ?? 30_000,
    pollMs: opts.pollMs ?? 500,
    job: opts.scrapeJob ?? STACK_SCRAPE_JOB,
    collectorService: opts.collectorService ?? COLLECTOR_SERVICE,
    signal: opts.signal,
    ep: opts.endpoints,
    otlpBase,
    expect: { otlpHttpPort: Number(new URL(otlpBase).port || 80), otlpGrpcPort: opts.endpoints.otlpGrpcPort },
    prom: new PrometheusClient({ baseUrl: opts.endpoints.prometheus, timeoutMs }),
    loki: new LokiClient({ baseUrl: opts.endpoints.loki, timeoutMs }),
    checks,
    record,
    timed: async (name, fn) => {
      opts.signal?.throwIfAborted();
      opts.onCheckStart?.(name);
      const s = Date.now();
      const r = await fn();
      return record({ ...r, ms: Date.now() - s });
    },
  };
  try {
    if (opts.team) {
      await teamGatewayChecks(run, opts.team);
      return result(run, t0);
    }
    const { engine, downText } = await engineChecks(run);
    const services = await serviceChecks(run, engine, downText);
    await roundTripChecks(run, engine, services);
    await environmentChecks(run);
    return result(run, t0);
  } finally {
    await Promise.allSettled([run.prom.close(), run.loki.close()]);
  }
}

/** 1 and 2: the Docker engine, then each container; what is down, for the later checks' causes. */
async function engineChecks(
  run: DoctorRun,
): Promise<{ engine: DoctorEngine | undefined; downText: (service: string) => string | undefined }> {
  const { opts, timeoutMs, signal, record, timed } = run;
  let engine: DoctorEngine | undefined;
  await timed('Docker engine reachable', async () => {
    const name = 'Docker engine reachable';
    try {
      const e = await opts.openEngine();
      await withTimeout(e.ping(), timeoutMs, 'Docker ping');
      engine = e;
      return { id: 'docker', name, status: 'ok', detail: 'The container engine answers.' };
    } catch (error) {
      const se = stackErrorOf(error);
      const msg = error instanceof Error ? error.message : String(error);
      const code = se?.code ?? (error instanceof NetError ? 'timeout' : 'engine-error');
      const cause =
        code === 'no-engine'
          ? 'No container engine was found (no Docker socket, DOCKER_HOST or Docker context).'
          : code === 'permission-denied'
            ? 'VS Code may not use the Docker socket (your user is not in the `docker` group, or the new group does not apply to VS Code yet).'
            : code === 'engine-not-running'
              ? 'Docker is not running, or it listens somewhere else than where the extension looks (the `claudeTelemetry.docker.host` setting, DOCKER_HOST).'
              : code === 'timeout'
                ? 'The container engine does not answer (it may be starting, or hung).'
                : 'The container engine answered with an error.';
      const fix =
        code === 'permission-denied'
          ? 'Run `sudo usermod -aG docker $USER`, log out and back in (or reboot), then run this check again.'
          : "Start Docker (Docker Desktop, the Docker Engine service, Podman's Docker socket or Colima), or point the " +
            '`claudeTelemetry.docker.host` setting at your engine (e.g. unix:///path/to/docker.sock); then run this check again.';
      return { id: 'docker', name, status: 'fail', detail: msg, cause, fix };
    }
  });

  // 2. Each container.
  let statuses: ServiceStatus[] | undefined;
  if (engine) {
    signal?.throwIfAborted();
    const s = Date.now();
    try {
      statuses = await withTimeout(engine.status(), timeoutMs, 'Docker container list');
    } catch (error) {
      record({
        id: 'container:*',
        name: 'Containers',
        status: 'fail',
        ms: Date.now() - s,
        detail: error instanceof Error ? error.message : String(error),
        cause: "The engine could not list the stack's containers.",
        fix: 'Check that Docker is healthy (`docker ps`), then run this check again.',
      });
    }
    const ms = Date.now() - s;
    const allMissing = !!statuses && statuses.every((x) => x.state === 'missing');
    for (const st of statuses ?? []) {
      record({ ...containerCheck(st, allMissing), ms });
    }
  } else {
    record({
      id: 'container:*',
      name: 'Containers healthy',
      status: 'skipped',
      ms: 0,
      detail: 'Skipped: the container engine is not reachable (see above).',
    });
  }
  const stateOf = (service: string): ServiceStatus | undefined => statuses?.find((x) => x.service === service);
  const downText = (service: string): string | undefined => {
    const st = stateOf(service);
    if (!st) return engine ? undefined : 'the container engine is not reachable';
    if (st.state === 'missing') return `the ${service} container does not exist (the stack is not started)`;
    if (st.state === 'exited')
      return `the ${service} container is ${st.restarting ? 'restarting (it keeps exiting)' : 'stopped'}`;
    return undefined;
  };
  return { engine, downText };
}

interface ServiceVerdicts {
  collector: CheckResult;
  promReady: CheckResult;
  scrape: CheckResult;
  lokiReady: CheckResult;
  lokiOtlp: CheckResult;
}

/** 3 to 5: the collector, Prometheus and Loki, each over its own HTTP endpoints. */
async function serviceChecks(
  run: DoctorRun,
  engine: DoctorEngine | undefined,
  downText: (service: string) => string | undefined,
): Promise<ServiceVerdicts> {
  const { timeoutMs, signal, ep, otlpBase, expect, prom, job, collectorService, timed } = run;
  const ctx: CheckContext = { timeoutMs, signal, downText };
  // 3. The collector accepts OTLP/HTTP.
  const collector = await timed('Collector accepting OTLP', async () =>
    otlpCheck(ctx, {
      id: 'collector-otlp',
      name: 'Collector accepting OTLP/HTTP',
      url: `${otlpBase}/v1/metrics`,
      body: { resourceMetrics: [] },
      what: 'an empty OTLP/HTTP JSON request',
      notFound: {
        cause: `Something that is not the stack's OpenTelemetry collector answers on ${hostPort(otlpBase)} (no /v1/metrics).`,
        fix:
          `Stop the program that holds port ${expect.otlpHttpPort}, or move the stack's OTLP/HTTP port ` +
          `(\`claudeTelemetry.stack.ports.otlpHttp\`), then run ${RESTART} and open a new terminal.`,
      },
      rejected: (res) => ({
        cause: `The collector rejected a valid (empty) OTLP/HTTP JSON request with HTTP ${res.status}.`,
        fix: `Look at the collector's log (${LOGS} → ${collectorService}); ${RESTART}.`,
      }),
      unreachable: (ne) => {
        const down = downText(collectorService);
        return {
          cause: down
            ? `Nothing receives OTLP on ${hostPort(otlpBase)}: ${down}.`
            : ne.code === 'ECONNREFUSED'
              ? `Nothing listens on ${hostPort(otlpBase)}: the stack is stopped, or it publishes the collector on another port ` +
                '(the `claudeTelemetry.stack.ports.otlpHttp` setting changed after the stack started).'
              : `The collector at ${hostPort(otlpBase)} is not reachable (${ne.code}).`,
          fix: down
            ? down.includes('engine')
              ? `Start Docker, then run ${START}.`
              : `Run ${START}.`
            : `Run ${RESTART} so the stack publishes the port in \`claudeTelemetry.stack.ports.otlpHttp\`; then open a new terminal.`,
        };
      },
    }),
  );

  // 4. Prometheus ready, and scraping the collector.
  const promReady = await timed('Prometheus ready', async () =>
    readyCheck(
      ctx,
      'prometheus-ready',
      'Prometheus ready',
      `${ep.prometheus.replace(/\/+$/, '')}/-/ready`,
      'prometheus',
    ),
  );
  const scrape = await timed('Prometheus scraping the collector', async () => {
    const name = `Prometheus scraping the collector (job "${job}")`;
    if (promReady.status === 'fail') {
      return {
        id: 'prometheus-scrape',
        name,
        status: 'skipped',
        detail: 'Skipped: Prometheus is not reachable (see above).',
      };
    }
    return scrapeCheck({ ...ctx, prom, job, collectorService }, name);
  });

  await timed("Collector's own metrics", async () => {
    const id = 'collector-telemetry';
    const name = 'Collector delivering (its own metrics)';
    if (promReady.status === 'fail')
      return { id, name, status: 'skipped', detail: 'Skipped: Prometheus is not reachable (see above).' };
    const logLines = engine?.lastLogLines
      ? () => withTimeout(engine.lastLogLines!(collectorService, 200), timeoutMs, 'collector log')
      : undefined;
    return {
      id,
      name,
      ...(await collectorTelemetryCheck({ prom, collectorService, signal, ...(logLines ? { logLines } : {}) })),
    };
  });

  await timed('Recording rules', async () => {
    const id = 'recording-rules';
    const name = 'Prometheus running the recording rules';
    if (promReady.status === 'fail')
      return { id, name, status: 'skipped', detail: 'Skipped: Prometheus is not reachable (see above).' };
    return { id, name, ...(await recordingRulesCheck(prom, Date.now(), signal)) };
  });

  // 5. Loki ready, and accepting OTLP.
  const lokiReady = await timed('Loki ready', async () =>
    readyCheck(ctx, 'loki-ready', 'Loki ready', `${ep.loki.replace(/\/+$/, '')}/ready`, 'loki'),
  );
  const lokiOtlp = await timed('Loki accepting OTLP', async () => {
    const id = 'loki-otlp';
    const name = 'Loki accepting OTLP logs';
    if (lokiReady.status === 'fail') {
      return { id, name, status: 'skipped', detail: 'Skipped: Loki is not reachable (see above).' };
    }
    return otlpCheck(ctx, {
      id,
      name,
      url: `${ep.loki.replace(/\/+$/, '')}/otlp/v1/logs`,
      // One event of now, in the doctor's own stream: Loki answers an empty request 422 ("at least one valid stream
      // is required"). Its run id is not the round trip's, which must see the collector's copy only.
      body: probeEventRequest(`${run.runId}-direct`, Date.now()),
      what: 'one probe event of now, OTLP/HTTP JSON',
      notFound: {
        cause:
          'Loki does not accept OTLP: it has no /otlp/v1/logs endpoint (Loki older than 3.0, or a gateway that does not ' +
          'route /otlp). The collector sends events there, so they are refused: the events panels (tools, API errors) stay empty.',
        fix:
          'Use Loki 3.x with OTLP ingestion (the stack pins grafana/loki:3.4.6: clear `claudeTelemetry.stack.images.loki`), ' +
          `with \`limits_config.allow_structured_metadata: true\` (stack/loki/config.yaml); then ${RESTART}.`,
      },
      rejected: (res) => ({
        cause: /structured.metadata/i.test(res.text)
          ? 'Loki refuses OTLP logs because structured metadata is disabled (`allow_structured_metadata: false`).'
          : `Loki refused a valid OTLP logs request (one event of now) with HTTP ${res.status}.`,
        fix: `Restore stack/loki/config.yaml (\`limits_config.allow_structured_metadata: true\`, OTLP ingestion on); then ${RESTART}.`,
      }),
      unreachable: () => ({
        cause: 'Loki stopped answering between the checks.',
        fix: `Run ${RESTART}; if it keeps failing, look at Loki's log (${LOGS} → loki).`,
      }),
    });
  });

  return { collector, promReady, scrape, lokiReady, lokiOtlp };
}

/** 6: the round trip of a marked probe metric and event, when the hops it needs answer. */
async function roundTripChecks(
  run: DoctorRun,
  engine: DoctorEngine | undefined,
  services: ServiceVerdicts,
): Promise<void> {
  const { opts, runId, otlpBase, timeoutMs, roundTripMs, pollMs, signal, prom, loki, collectorService, record } = run;
  const { collector, promReady, scrape, lokiReady, lokiOtlp } = services;
  // 6. The round trip: probe metric -> Prometheus, probe event -> Loki, concurrently.
  const collectorOk = collector.status === 'ok';
  const rt: RoundTripContext = {
    runId,
    otlpBase,
    timeoutMs,
    roundTripMs,
    pollMs,
    signal,
    prom,
    loki,
    engine,
    collectorService,
    scrapeStatus: scrape.status,
  };
  opts.onCheckStart?.('Round trip: probe metric and event');
  const [metric, event] = await Promise.all([
    (async (): Promise<Omit<CheckResult, 'ms'>> => {
      const name = `Round trip: probe metric → collector → Prometheus`;
      if (!collectorOk)
        return {
          id: 'roundtrip-metric',
          name,
          status: 'skipped',
          detail: 'Skipped: the collector does not accept OTLP (see above).',
        };
      if (promReady.status === 'fail')
        return {
          id: 'roundtrip-metric',
          name,
          status: 'skipped',
          detail: 'Skipped: Prometheus is not reachable (see above).',
        };
      return roundTrip(rt, 'roundtrip-metric', name);
    })(),
    (async (): Promise<Omit<CheckResult, 'ms'>> => {
      const name = `Round trip: probe event → collector → Loki`;
      if (!collectorOk)
        return {
          id: 'roundtrip-event',
          name,
          status: 'skipped',
          detail: 'Skipped: the collector does not accept OTLP (see above).',
        };
      if (lokiReady.status === 'fail')
        return {
          id: 'roundtrip-event',
          name,
          status: 'skipped',
          detail: 'Skipped: Loki is not reachable (see above).',
        };
      if (lokiOtlp.status === 'fail')
        return {
          id: 'roundtrip-event',
          name,
          status: 'skipped',
          detail: 'Skipped: Loki does not accept OTLP logs (see above), so the event cannot arrive.',
        };
      return roundTrip(rt, 'roundtrip-event', name);
    })(),
  ]);
  const rtMs = Math.max(metric.hops?.at(-1)?.ms ?? 0, event.hops?.at(-1)?.ms ?? 0);
  record({ ...metric, ms: metric.hops?.at(-1)?.ms ?? (metric.status === 'skipped' ? 0 : rtMs) });
  record({ ...event, ms: event.hops?.at(-1)?.ms ?? (event.status === 'skipped' ? 0 : rtMs) });
}

/** 7: the environment Claude Code starts with. */
async function environmentChecks(run: DoctorRun): Promise<void> {
  const { opts, expect, timed } = run;
  await timed('Active terminal environment', async () =>
    checkTerminalEnvironment(opts.terminal, expect, {
      enabled: opts.terminalEnvironmentEnabled ?? true,
      claudeShimDirectory: opts.claudeShimDirectory,
    }),
  );
  await timed('Claude Code settings', async () =>
    checkClaudeSettings(opts.claudeSettingsPath ?? claudeSettingsPath(), expect),
  );
}

/** The run's outcome: every result, their counts and the one-line summary. */
function result(run: DoctorRun, t0: number): DoctorResult {
  const { checks, runId, ep, opts } = run;
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skipped: 0 };
  for (const c of checks) counts[c.status]++;
  const failed = checks.filter((c) => c.status === 'fail');
  const summary = failed.length
    ? `${failed.length} problem${failed.length === 1 ? '' : 's'}: ${failed.map((c) => c.name).join('; ')}`
    : counts.warn
      ? `The pipeline works, with ${counts.warn} warning${counts.warn === 1 ? '' : 's'}`
      : `All ${counts.ok} checks passed`;
  return {
    runId,
    startedAt: new Date(t0).toISOString(),
    ms: Date.now() - t0,
    endpoints: ep,
    checks,
    counts,
    summary,
    notes: opts.notes ?? [],
  };
}

function containerCheck(st: ServiceStatus, allMissing: boolean): Omit<CheckResult, 'ms'> {
  const id = `container:${st.service}` as const;
  const name = `Container ${st.service}`;
  const c = st.container ? ` (${st.container})` : '';
  switch (st.state) {
    case 'healthy':
    case 'running':
      return st.outdated
        ? {
            id,
            name,
            status: 'warn',
            detail: `${st.state}${c}, but created from older settings.`,
            cause: "The stack's settings (ports, images, retention) changed after it started.",
            fix: `Run ${RESTART} to apply them.`,
          }
        : {
            id,
            name,
            status: 'ok',
            detail: st.state === 'healthy' ? `healthy${c}.` : `running${c} (no health check).`,
          };
    case 'starting':
      return {
        id,
        name,
        status: 'warn',
        detail: `starting${c}: its health check has not passed yet.`,
        cause: 'The stack has just started.',
        fix: 'Run this check again in a few seconds.',
      };
    case 'unhealthy':
      return {
        id,
        name,
        status: 'fail',
        detail: `unhealthy${c}: its health check fails.`,
        cause: `${st.service} runs but does not answer its health check.`,
        fix: `Look at its log (${LOGS} → ${st.service}); ${RESTART}.`,
      };
    case 'exited':
      return {
        id,
        name,
        status: 'fail',
        detail: st.restarting
          ? `restarting${c}: it keeps exiting (last exit code ${st.exitCode ?? '?'}).`
          : `stopped${c}${st.exitCode !== undefined ? ` (exit code ${st.exitCode})` : ''}.`,
        cause: st.restarting
          ? `${st.service} crashes on start.`
          : `${st.service} was stopped${st.exitCode ? ' or crashed' : ''}.`,
        fix: st.restarting ? `Look at its log (${LOGS} → ${st.service}); ${RESTART}.` : `Run ${START}.`,
      };
    case 'missing':
      return {
        id,
        name,
        status: 'fail',
        detail: 'no container.',
        cause: allMissing
          ? 'The telemetry stack is not started (or was deleted).'
          : `${st.service}'s container was removed.`,
        fix: `Run ${START}.`,
      };
  }
}
