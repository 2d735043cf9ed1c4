// The pipeline doctor's round trip: a marked probe metric and probe event, sent to the collector, followed into
// Prometheus and Loki; and what the name the probe metric arrives under says about the collector's exporter.
// Plain Node: no `vscode` import.
//
// The probe never mixes into the user's data: its resource is service.name "claude-code-doctor" (Prometheus job and
// Loki stream `service_name="claude-code-doctor"`, where the dashboards read "claude-code"), its metric name is not
// one the recording rules or panels sum, and nothing is deleted.
import type { LokiClient } from '../telemetry/loki';
import type { PrometheusClient } from '../telemetry/prometheus';
import { LOGS, RESTART, http, short, sleep, withTimeout, type HttpAnswer, type Verdict } from './httpChecks';
import type { CheckResult, CheckStatus, DoctorEngine, Hop } from './checks';

/** service.name of the probe: its own Prometheus job and Loki stream, never "claude-code". */
export const PROBE_SERVICE_NAME = 'claude-code-doctor';
/** The probe metric as sent (a DELTA monotonic sum, like Claude Code's). */
const PROBE_METRIC_NAME = 'claude_code.doctor.probe';
/** The name the stack's collector gives it in Prometheus. */
export const PROBE_PROMETHEUS_NAME = 'claude_code_doctor_probe_total';
/** event.name of the probe event. */
const PROBE_EVENT_NAME = 'doctor_probe';
/** The attribute carrying the run id, and the label it becomes. */
const PROBE_RUN_ATTRIBUTE = 'doctor.run';
const PROBE_RUN_LABEL = 'doctor_run';

function unixNano(ms: number): string {
  return (BigInt(Math.floor(ms)) * 1_000_000n).toString();
}

/** The OTLP resource and instrumentation scope of the probes. */
const PROBE_RESOURCE = { attributes: [{ key: 'service.name', value: { stringValue: PROBE_SERVICE_NAME } }] };
const PROBE_SCOPE = { name: 'claude-code-telemetry.doctor' };

/** OTLP/HTTP JSON ExportMetricsServiceRequest with one DELTA monotonic sum point of 1. */
export function probeMetricRequest(runId: string, nowMs: number, metricName = PROBE_METRIC_NAME): unknown {
  return {
    resourceMetrics: [
      {
        resource: PROBE_RESOURCE,
        scopeMetrics: [
          {
            scope: PROBE_SCOPE,
            metrics: [
              {
                name: metricName,
                description: 'Pipeline check probe of the Claude Code Telemetry extension (not Claude Code data).',
                sum: {
                  aggregationTemporality: 1, // DELTA, as Claude Code sends
                  isMonotonic: true,
                  dataPoints: [
                    {
                      attributes: [{ key: PROBE_RUN_ATTRIBUTE, value: { stringValue: runId } }],
                      startTimeUnixNano: unixNano(nowMs - 1000),
                      timeUnixNano: unixNano(nowMs),
                      asInt: '1',
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

/** OTLP/HTTP JSON ExportLogsServiceRequest with one event record, shaped like Claude Code's events. */
export function probeEventRequest(runId: string, nowMs: number): unknown {
  return {
    resourceLogs: [
      {
        resource: PROBE_RESOURCE,
        scopeLogs: [
          {
            scope: PROBE_SCOPE,
            logRecords: [
              {
                timeUnixNano: unixNano(nowMs),
                observedTimeUnixNano: unixNano(nowMs),
                severityNumber: 9,
                severityText: 'INFO',
                body: { stringValue: `claude_code.${PROBE_EVENT_NAME}` },
                attributes: [
                  { key: 'event.name', value: { stringValue: PROBE_EVENT_NAME } },
                  { key: PROBE_RUN_ATTRIBUTE, value: { stringValue: runId } },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

interface ProbeNameVerdict {
  status: 'ok' | 'fail';
  cause?: string;
  fix?: string;
}

const RESTORE_COLLECTOR =
  'Remove it from the `prometheus` exporter in stack/collector/config.yaml (reinstalling the extension restores the ' +
  'original file), then run "Claude Telemetry: Restart Telemetry Stack".';

/**
 * What the probe's name in Prometheus says about the collector's exporter. `claude_code.doctor.probe` must arrive as
 * `claude_code_doctor_probe_total`, exactly as `claude_code.cost.usage` must arrive as
 * `claude_code_cost_usage_USD_total` for the dashboards to see it.
 */
export function classifyProbeMetricName(name: string): ProbeNameVerdict {
  if (name === PROBE_PROMETHEUS_NAME) return { status: 'ok' };
  if (name.endsWith(`_${PROBE_PROMETHEUS_NAME}`)) {
    const prefix = name.slice(0, -PROBE_PROMETHEUS_NAME.length - 1);
    if (prefix === 'claude_code') {
      return {
        status: 'fail',
        cause:
          `Double metric prefix: the probe arrived as \`${name}\`. The collector's Prometheus exporter sets ` +
          '`namespace: claude_code`, but Claude Code already prefixes its metrics with `claude_code`, so every metric ' +
          'is named `claude_code_claude_code_…` (e.g. `claude_code_claude_code_cost_usage_USD_total`) and no dashboard ' +
          'query matches: the panels stay empty while the events (Loki) still show.',
        fix: `Remove \`namespace: claude_code\`. ${RESTORE_COLLECTOR}`,
      };
    }
    return {
      status: 'fail',
      cause:
        `The probe arrived as \`${name}\`: the collector's Prometheus exporter adds the namespace \`${prefix}\`, so ` +
        `Claude Code's metrics are named \`${prefix}_claude_code_…\` and no dashboard query matches them.`,
      fix: `Remove \`namespace: ${prefix}\`. ${RESTORE_COLLECTOR}`,
    };
  }
  if (name === 'claude_code_doctor_probe') {
    return {
      status: 'fail',
      cause:
        `The probe arrived as \`${name}\`, without the \`_total\` suffix: the collector's exporter does not add type ` +
        'and unit suffixes (`add_metric_suffixes: false`, or another translation strategy), while the dashboards ' +
        'query `claude_code_cost_usage_USD_total` and the like.',
      fix: `Restore the exporter's default naming. ${RESTORE_COLLECTOR}`,
    };
  }
  if (/[.]/.test(name)) {
    return {
      status: 'fail',
      cause:
        `The probe arrived as \`${name}\` (UTF-8, dots kept): the collector's exporter is set to keep OpenTelemetry names ` +
        'unescaped, while the dashboards query underscore names with suffixes (`claude_code_cost_usage_USD_total`).',
      fix:
        "Keep the exporter's default translation (`UnderscoreEscapingWithSuffixes`) in stack/collector/config.yaml. " +
        RESTORE_COLLECTOR,
    };
  }
  return {
    status: 'fail',
    cause:
      `The probe arrived as \`${name}\`, not \`${PROBE_PROMETHEUS_NAME}\`: the collector renames metrics, so the ` +
      "dashboards' queries do not match Claude Code's metrics.",
    fix: `Undo the naming change in the collector's \`prometheus\` exporter. ${RESTORE_COLLECTOR}`,
  };
}

// --- the round trip ----------------------------------------------------------------------------------------------

/** What the round trip of one run needs. */
export interface RoundTripContext {
  runId: string;
  /** OTLP/HTTP base address of the collector, without a trailing slash. */
  otlpBase: string;
  /** Timeout of one HTTP request or engine call. */
  timeoutMs: number;
  /** How long to wait for the probe in Prometheus and in Loki. */
  roundTripMs: number;
  pollMs: number;
  signal: AbortSignal | undefined;
  prom: PrometheusClient;
  loki: LokiClient;
  /** The engine, for the collector's log lines; undefined when it is not reachable. */
  engine: DoctorEngine | undefined;
  /** The compose service of the collector. */
  collectorService: string;
  /** The scrape check's status: a probe metric missing from Prometheus is put down to the scrape unless it is ok. */
  scrapeStatus: CheckStatus;
}

/** A round trip's probe the collector accepted. */
interface SentProbe {
  /** When it was sent (epoch ms). */
  sent: number;
  /** Milliseconds until the collector accepted it. */
  accepted: number;
  hops: Hop[];
}

/**
 * Sends a round trip's probe (the metric or the event) to the collector and, once the collector accepts it, follows
 * it into Prometheus or Loki.
 */
export async function roundTrip(
  ctx: RoundTripContext,
  id: 'roundtrip-metric' | 'roundtrip-event',
  name: string,
): Promise<Omit<CheckResult, 'ms'>> {
  const { runId, otlpBase, timeoutMs, signal, collectorService } = ctx;
  const metric = id === 'roundtrip-metric';
  const follow = metric ? followProbeMetric : followProbeEvent;
  const sent = Date.now();
  let res: HttpAnswer;
  try {
    const body = metric ? probeMetricRequest(runId, sent) : probeEventRequest(runId, sent);
    res = await http('POST', `${otlpBase}/v1/${metric ? 'metrics' : 'logs'}`, body, timeoutMs, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    const what = metric ? 'the probe' : 'the probe event';
    return {
      id,
      name,
      status: 'fail',
      detail: `Sending ${what} failed: ${(error as Error).message}.`,
      cause: 'The collector stopped answering between the checks.',
      fix: `Run ${RESTART}.`,
    };
  }
  const accepted = Date.now() - sent;
  const hops: Hop[] = [{ name: 'collector accepted (OTLP/HTTP)', ms: accepted }];
  if (res.status < 200 || res.status > 299) {
    return {
      id,
      name,
      status: 'fail',
      hops,
      detail: `The collector refused the probe ${metric ? 'metric' : 'event'}: HTTP ${res.status} ${short(res.text)}.`,
      cause: `The collector rejects OTLP ${metric ? 'metrics' : 'logs'} it should accept.`,
      fix: `Look at the collector's log (${LOGS} → ${collectorService}); ${RESTART}.`,
    };
  }
  return { id, name, ...(await follow(ctx, { sent, accepted, hops })) };
}

/** After the collector accepted the probe metric: waits for it in Prometheus and judges the name it has there. */
async function followProbeMetric(ctx: RoundTripContext, { sent, accepted, hops }: SentProbe): Promise<Verdict> {
  const { runId, roundTripMs, pollMs, signal, prom, collectorService, scrapeStatus } = ctx;
  const found = await waitForProbeMetric(prom, runId, { timeoutMs: roundTripMs, pollMs, signal, since: sent });
  if (found.name) {
    hops.push({ name: `in Prometheus as ${found.name}`, ms: found.ms });
    const verdict = classifyProbeMetricName(found.name);
    if (verdict.status === 'ok') {
      return {
        status: 'ok',
        hops,
        detail: `Probe \`${PROBE_PROMETHEUS_NAME}{${PROBE_RUN_LABEL}="${runId}"}\`: accepted in ${accepted} ms, in Prometheus after ${found.ms} ms.`,
      };
    }
    return {
      status: 'fail',
      hops,
      detail: `The probe reached Prometheus after ${found.ms} ms as \`${found.name}\`.`,
      cause: verdict.cause,
      fix: verdict.fix,
    };
  }
  const lines = await collectorErrorLines(ctx, /metric|prometheus|export/i);
  return {
    status: 'fail',
    hops,
    detail:
      `The probe was accepted in ${accepted} ms but \`${PROBE_PROMETHEUS_NAME}{${PROBE_RUN_LABEL}="${runId}"}\` did not ` +
      `appear in Prometheus within ${Math.round(roundTripMs / 1000)} s.` +
      quoteLines(lines),
    cause:
      scrapeStatus !== 'ok'
        ? 'Prometheus is not scraping the collector (see the scrape check above).'
        : 'The collector accepted the metric but does not serve it on its Prometheus exporter (:8889): its metrics ' +
          'pipeline or exporter is broken (a changed stack/collector/config.yaml, or a collector without the ' +
          '`deltatocumulative` processor dropping delta sums).',
    fix:
      scrapeStatus !== 'ok'
        ? 'Fix the scrape first (above), then run this check again.'
        : `Look at the collector's log (${LOGS} → ${collectorService}); restore stack/collector/config.yaml (reinstall the extension) and run ${RESTART}.`,
  };
}

/** After the collector accepted the probe event: waits for it in Loki. */
async function followProbeEvent(ctx: RoundTripContext, { sent, accepted, hops }: SentProbe): Promise<Verdict> {
  const { runId, roundTripMs, pollMs, signal, loki, collectorService } = ctx;
  const query = `{service_name="${PROBE_SERVICE_NAME}"} | ${PROBE_RUN_LABEL}="${runId}"`;
  const deadline = sent + roundTripMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const entries = await loki.queryLogs(
        query,
        { startMs: sent - 300_000, endMs: Date.now() + 60_000, limit: 5 },
        signal ? { signal } : {},
      );
      if (entries.length > 0) {
        const ms = Date.now() - sent;
        hops.push({ name: 'in Loki', ms });
        return {
          status: 'ok',
          hops,
          detail: `Probe event \`{service_name="${PROBE_SERVICE_NAME}"} | ${PROBE_RUN_LABEL}="${runId}"\`: accepted in ${accepted} ms, in Loki after ${ms} ms.`,
        };
      }
      lastError = undefined;
    } catch (error) {
      if (signal?.aborted) throw error;
      lastError = error;
    }
    if (Date.now() + pollMs > deadline) break;
    await sleep(pollMs, signal);
  }
  const lines = await collectorErrorLines(ctx, /loki|logs|otlphttp/i);
  const refused = lines.find((l) => /\b404\b/.test(l));
  return {
    status: 'fail',
    hops,
    detail:
      `The probe event was accepted in ${accepted} ms but did not appear in Loki within ${Math.round(roundTripMs / 1000)} s` +
      (lastError ? ` (last query error: ${(lastError as Error).message})` : '') +
      '.' +
      quoteLines(lines),
    cause: refused
      ? "Loki does not accept OTLP: the collector's exporter gets 404 from Loki's /otlp/v1/logs."
      : lines.length
        ? 'The collector cannot deliver events to Loki (its `otlphttp/loki` exporter fails: see the log lines).'
        : 'The collector accepted the event but did not forward it to Loki (its logs pipeline or `otlphttp/loki` exporter ' +
          'is broken), or Loki stores it under another stream label than `service_name`.',
    fix: refused
      ? `Use Loki 3.x with OTLP ingestion and \`allow_structured_metadata: true\` (stack/loki/config.yaml); then ${RESTART}.`
      : `Look at the collector's log (${LOGS} → ${collectorService}); restore stack/collector/config.yaml (reinstall the extension) and run ${RESTART}.`,
  };
}

/** The collector's last log lines about `topic` that report a problem. */
async function collectorErrorLines(ctx: RoundTripContext, topic: RegExp): Promise<string[]> {
  const { engine, collectorService, timeoutMs } = ctx;
  if (!engine?.lastLogLines) return [];
  try {
    const lines = await withTimeout(engine.lastLogLines(collectorService, 200), timeoutMs, 'collector log');
    return lines
      .filter((l) => topic.test(l) && /error|fail|drop|refused|denied|\b4\d\d\b|\b5\d\d\b/i.test(l))
      .slice(-5);
  } catch {
    return [];
  }
}

/** Polls Prometheus for the probe of `runId` under any name (to recognise a renamed one). */
export async function waitForProbeMetric(
  prom: PrometheusClient,
  runId: string,
  opts: { timeoutMs: number; pollMs: number; signal?: AbortSignal | undefined; since?: number },
): Promise<{ name?: string; labels?: Record<string, string>; ms: number; lastError?: unknown }> {
  const since = opts.since ?? Date.now();
  const deadline = since + opts.timeoutMs;
  // `.` matches `_` too: finds Prometheus 3's UTF-8 name `claude_code.doctor.probe` as well.
  const query = `{__name__=~".*doctor.probe.*", ${PROBE_RUN_LABEL}="${runId}"}`;
  let lastError: unknown;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const samples = await prom.instant(query, Date.now() / 1000, opts.signal ? { signal: opts.signal } : {});
      const found =
        samples.find((s) => s.labels['__name__'] === PROBE_PROMETHEUS_NAME) ??
        samples.find((s) => s.labels['__name__']);
      if (found) return { name: found.labels['__name__']!, labels: found.labels, ms: Date.now() - since };
      lastError = undefined;
    } catch (error) {
      if (opts.signal?.aborted) throw error;
      lastError = error;
    }
    if (Date.now() + opts.pollMs > deadline) return { ms: Date.now() - since, lastError };
    await sleep(opts.pollMs, opts.signal);
  }
}

function quoteLines(lines: readonly string[]): string {
  return lines.length ? ` The collector's log says: ${lines.map((l) => `"${short(l, 240)}"`).join('; ')}.` : '';
}
