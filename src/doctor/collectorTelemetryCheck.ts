// The pipeline doctor's check of the collector's own telemetry: what the collector says about itself on :8888, as
// Prometheus scrapes it (job "otel-collector"), under the names the real collector gives it. It sees what the
// round trip cannot: events the collector accepted but could not deliver to Loki, and data it refused. Plain Node.
import { isObject, type PrometheusClient } from '../telemetry/prometheus';
import { LOGS, RESTART, type Verdict } from './httpChecks';

/** The Prometheus job of the collector's own metrics (stack/prometheus/prometheus.yml). */
export const COLLECTOR_TELEMETRY_JOB = 'otel-collector';
/** How far back failures and refusals count. */
const WINDOW = '15m';

export interface CollectorTelemetryContext {
  prom: PrometheusClient;
  collectorService: string;
  signal?: AbortSignal;
  /** The collector's last log lines, where the engine can read them: they hold Loki's reason for a refusal. */
  logLines?: () => Promise<string[]>;
}

/** A collector metric by its name with or without `_total` (collector releases have written both). */
const counter = (name: string, matchers = ''): string =>
  `{__name__=~"${name}(_total)?",job="${COLLECTOR_TELEMETRY_JOB}"${matchers}}`;
/** A counter's growth in the window; a counter born inside it (the collector creates them at the first failure)
 * counts whole, which `increase()` would miss. */
const grown = (selector: string): string =>
  `sum(clamp_min(${selector} - (${selector} offset ${WINDOW} or ${selector} * 0), 0))`;

export async function collectorTelemetryCheck(ctx: CollectorTelemetryContext): Promise<Verdict> {
  try {
    return await judge(ctx);
  } catch (error) {
    if (ctx.signal?.aborted) throw error;
    return {
      status: 'fail',
      detail: `Prometheus did not answer the query of the collector's own metrics: ${error instanceof Error ? error.message : String(error)}`,
      cause: 'Prometheus answered the checks above but not this query.',
      fix: `Run this check again; if it keeps failing, look at Prometheus's log (${LOGS} → prometheus).`,
    };
  }
}

async function judge(ctx: CollectorTelemetryContext): Promise<Verdict> {
  const { prom, collectorService, signal } = ctx;
  const now = Date.now() / 1000;
  const value = async (query: string): Promise<number | undefined> => {
    const samples = await prom.instant(query, now, signal ? { signal } : {});
    return samples.length ? samples.reduce((n, s) => n + (s.value ?? 0), 0) : undefined;
  };
  const up = await value(`up{job="${COLLECTOR_TELEMETRY_JOB}"}`);
  if (up === undefined && (await notScrapedYet(prom, signal))) {
    return {
      status: 'warn',
      detail: `Prometheus has not scraped otel-collector:8888 yet.`,
      cause: 'The stack has just started: Prometheus scrapes every 5 s.',
      fix: 'Run this check again in a few seconds.',
    };
  }
  if (up === undefined) {
    return {
      status: 'fail',
      detail: `Prometheus has no \`up{job="${COLLECTOR_TELEMETRY_JOB}"}\` series.`,
      cause: "Prometheus does not scrape the collector's own metrics, so nothing tells when events fail to reach Loki.",
      fix: `Restore stack/prometheus/prometheus.yml with the "${COLLECTOR_TELEMETRY_JOB}" job scraping otel-collector:8888; then run ${RESTART}.`,
    };
  }
  if (up === 0) {
    return {
      status: 'fail',
      detail: `\`up{job="${COLLECTOR_TELEMETRY_JOB}"}\` = 0: Prometheus cannot read otel-collector:8888.`,
      cause: 'The collector does not serve its own metrics (it is down, or its `service.telemetry` section changed).',
      fix: `Run ${RESTART}; if it stays down, look at the collector's log (${LOGS} → ${collectorService}).`,
    };
  }
  const [uptime, acceptedPoints, acceptedEvents, failedEvents, queued, refusedPoints, refusedEvents] =
    await Promise.all([
      value(`sum(${counter('otelcol_process_uptime')})`),
      value(`sum(${counter('otelcol_receiver_accepted_metric_points')})`),
      value(`sum(${counter('otelcol_receiver_accepted_log_records')})`),
      value(grown(counter('otelcol_exporter_send_failed_log_records', ',exporter=~"otlp_?http/loki"'))),
      // Waiting the whole last minute: Loki is not taking them (a busy moment queues a batch or two briefly).
      value(`sum(min_over_time(${counter('otelcol_exporter_queue_size', ',exporter=~"otlp_?http/loki"')}[1m]))`),
      value(grown(counter('otelcol_receiver_refused_metric_points'))),
      value(grown(counter('otelcol_receiver_refused_log_records'))),
    ]);
  const refused = (refusedPoints ?? 0) + (refusedEvents ?? 0);
  // Every collector serves its uptime; the receiver's counters appear with the first data it takes.
  if (uptime === undefined) {
    return {
      status: 'warn',
      detail: 'Prometheus scrapes otel-collector:8888 but holds no `otelcol_process_uptime` series.',
      cause:
        "The collector's own metrics have other names than the pinned collector gives them (another collector image?).",
      fix: 'Clear `claudeTelemetry.stack.images.collector` to run the pinned collector, then run ' + `${RESTART}.`,
    };
  }
  const accepted = `It accepted ${Math.round(acceptedPoints ?? 0)} metric points and ${Math.round(acceptedEvents ?? 0)} events since it started`;
  if ((failedEvents ?? 0) >= 1) {
    const refusal = lokiRefusal((await ctx.logLines?.().catch(() => [])) ?? [], collectorService);
    return {
      status: 'warn',
      detail:
        `${accepted}; ${Math.round(failedEvents!)} events failed to reach Loki in the last ${WINDOW} (the collector counts a ` +
        `whole batch when Loki refuses part of it).${refusal.line ? ` The collector's log says: "${refusal.line}".` : ''}`,
      cause: `${refusal.cause} The tool-failure and API-error counts include them; the event lists and Grafana's log panels do not.`,
      fix: refusal.fix,
    };
  }
  if ((queued ?? 0) >= 1) {
    return {
      status: 'warn',
      detail: `${accepted}; ${Math.round(queued!)} batches of events have waited for Loki all of the last minute.`,
      cause: "Loki does not take the collector's events: the events panels miss them until they are delivered.",
      fix: `Check Loki (the checks above, and ${LOGS} → loki); the queue is kept on disk and retried, nothing is lost.`,
    };
  }
  if (refused >= 1) {
    return {
      status: 'warn',
      detail: `${accepted}; it refused ${Math.round(refused)} metric points or events in the last ${WINDOW}.`,
      cause:
        'The collector was short of memory (its memory_limiter refuses data then); Claude Code retries, but may give up.',
      fix: `Look at the collector's log (${LOGS} → ${collectorService}); ${RESTART} if it keeps refusing.`,
    };
  }
  return { status: 'ok', detail: `${accepted}; none failed to reach Loki, none refused in the last ${WINDOW}.` };
}

/** Whether Prometheus has a target for the job that it has not scraped yet (health "unknown"). */
async function notScrapedYet(prom: PrometheusClient, signal?: AbortSignal): Promise<boolean> {
  const body = await prom.http
    .getJson('api/v1/targets', { state: 'active', scrapePool: COLLECTOR_TELEMETRY_JOB }, signal ? { signal } : {})
    .catch(() => undefined);
  const targets =
    isObject(body) && isObject(body['data']) && Array.isArray(body['data']['activeTargets'])
      ? body['data']['activeTargets']
      : [];
  return targets.some((t) => isObject(t) && t['health'] === 'unknown');
}

/** Loki's reasons for refusing events, in the words it answers the collector with (stack/loki/config.yaml's limits). */
const REFUSALS: { words: RegExp; cause: string; fix: string }[] = [
  {
    words: /timestamp too old/,
    cause:
      "Loki refused events older than it accepts (`reject_old_samples_max_age`, the stack's retention: " +
      '`claudeTelemetry.stack.retentionDays`).',
    fix:
      'Nothing is wrong with the stack: events that old are past what it keeps. Raise `claudeTelemetry.stack.retentionDays` ' +
      `and run ${RESTART} to keep older ones.`,
  },
  {
    words: /too far behind/,
    cause:
      'Loki refused events that arrived more than its out-of-order window behind the newest event of their ' +
      'session (a batch delivered late, after a long outage).',
    fix:
      'Restore stack/loki/config.yaml (its `ingester.max_chunk_age` sets the window; reinstalling the extension ' +
      `restores the file) and run ${RESTART}; events already refused are not sent again.`,
  },
];

/** Why Loki refused the collector's events, from the collector's last "Exporting failed" line. */
export function lokiRefusal(
  lines: readonly string[],
  collectorService: string,
): { cause: string; fix: string; line?: string } {
  const failed = lines.filter((l) => /Exporting failed/.test(l) && /loki/i.test(l));
  const line = failed.at(-1);
  const known = line ? REFUSALS.find((r) => r.words.test(line)) : undefined;
  // Loki's own words, where the exporter's error quotes them (after "Message="), else the whole line.
  // The log's JSON escapes the quotes of Loki's words (`\"`): shown as Loki wrote them.
  const words = line
    ? (/Message=(.*?)(?:, Details=\[[^\]]*\])?"?, "dropped_items"/.exec(line)?.[1] ?? line).replace(/\\"/g, '"')
    : undefined;
  const quoted = words ? { line: words.length > 400 ? `${words.slice(0, 399)}…` : words } : {};
  if (known) return { cause: known.cause, fix: known.fix, ...quoted };
  return {
    cause: 'Loki refused them (an answer the collector does not retry).',
    fix: `Look at the collector's and Loki's logs (${LOGS} → ${collectorService}, → loki).`,
    ...quoted,
  };
}
