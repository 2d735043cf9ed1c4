// The pipeline doctor's HTTP checks of the stack's services: the request helper they share, the collector's and Loki's
// OTLP/HTTP endpoints, Prometheus's and Loki's readiness, and Prometheus scraping the collector. Plain Node: no
// `vscode` import.
import { request } from 'undici';
import { errorCode } from '../errorCode';
import { TelemetryError } from '../telemetry/http';
import { isObject, type PrometheusClient } from '../telemetry/prometheus';
import type { CheckId, CheckResult } from './checks';

/** The commands the fixes name. */
export const START = '"Claude Telemetry: Start Telemetry Stack"';
export const RESTART = '"Claude Telemetry: Restart Telemetry Stack"';
export const LOGS = '"Claude Telemetry: Show Stack Logs…"';

// --- HTTP helpers ------------------------------------------------------------------------------------------------

export interface HttpAnswer {
  status: number;
  text: string;
}

/** A check's outcome without its id and name. */
export type Verdict = Omit<CheckResult, 'id' | 'name' | 'ms'>;

type CauseFix = Required<Pick<CheckResult, 'cause' | 'fix'>>;

/** What differs between the checks that POST an OTLP/HTTP JSON request. */
interface OtlpCheck {
  id: 'collector-otlp' | 'loki-otlp';
  name: string;
  url: string;
  body: unknown;
  /** The request in words, for the detail. */
  what: string;
  /** Why an answer of 404 or 405 (no such endpoint) fails, and the fix. */
  notFound: CauseFix;
  /** Why another answer that is not 2xx fails, and the fix. */
  rejected: (res: HttpAnswer) => CauseFix;
  /** Why no answer came, and the fix. */
  unreachable: (error: NetError) => CauseFix;
}

export class NetError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function http(
  method: 'GET' | 'POST',
  url: string,
  body: unknown,
  timeoutMs: number,
  signal?: AbortSignal,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const res = await request(url, {
      method,
      signal: combined,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    const type = String(res.headers['content-type'] ?? '');
    const protobuf = PROTOBUF_TYPES.test(type);
    const message = protobuf ? rpcStatusMessage(bytes) : undefined;
    return {
      status: res.statusCode,
      // A protobuf answer without words is said to be one, never shown as its bytes.
      text: message || (protobuf ? `(a ${type} body of ${bytes.length} bytes, no message)` : bytes.toString('utf8')),
    };
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) throw new NetError('TIMEOUT', `no answer within ${timeoutMs} ms`);
    const code = errorCode(e) ?? 'ERROR';
    throw new NetError(
      code,
      `${code === 'ECONNREFUSED' ? 'connection refused' : code}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** OTLP/HTTP answers an error to a protobuf client (Loki to any client) as a google.rpc.Status message. */
const PROTOBUF_TYPES = /^application\/(x-protobuf|protobuf|octet-stream)\b/i;

/**
 * The `message` (field 2) of a protobuf google.rpc.Status, or undefined when the bytes are not one. Hand-read:
 * this one string field is all the extension ever decodes of protobuf, not worth a protobuf runtime in the bundle.
 */
export function rpcStatusMessage(bytes: Uint8Array): string | undefined {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= bytes.length) throw new RangeError('truncated');
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new RangeError('varint too long');
  };
  try {
    while (at < bytes.length) {
      const tag = varint();
      if ((tag & 7) === 0) varint();
      else if ((tag & 7) === 2) {
        const length = varint();
        if (at + length > bytes.length) return undefined;
        if (tag >> 3 === 2) return Buffer.from(bytes.subarray(at, at + length)).toString('utf8');
        at += length;
      } else return undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export function hostPort(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function short(text: string, max = 200): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NetError('TIMEOUT', `${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// --- the checks --------------------------------------------------------------------------------------------------

/** What the checks of one run share. */
export interface CheckContext {
  /** Timeout of one HTTP request. */
  timeoutMs: number;
  signal: AbortSignal | undefined;
  /** Why a compose service is not running, as far as the engine says; undefined when it is, or nothing is known. */
  downText: (service: string) => string | undefined;
}

/** What the scrape check needs besides. */
interface ScrapeCheckContext extends CheckContext {
  prom: PrometheusClient;
  /** The Prometheus job that scrapes the collector's exporter. */
  job: string;
  /** The compose service of the collector. */
  collectorService: string;
}

/** Sends one request for a check: `judge` reads the answer; `unreachable` says why none came (cancellation throws). */
async function httpCheck(
  ctx: CheckContext,
  id: CheckId,
  name: string,
  method: 'GET' | 'POST',
  url: string,
  body: unknown,
  judge: (res: HttpAnswer) => Verdict,
  unreachable: (error: NetError) => CauseFix,
): Promise<Omit<CheckResult, 'ms'>> {
  const { timeoutMs, signal } = ctx;
  let res: HttpAnswer;
  try {
    res = await http(method, url, body, timeoutMs, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    const ne = error as NetError;
    return { id, name, status: 'fail', detail: `${method} ${url}: ${ne.message}.`, ...unreachable(ne) };
  }
  return { id, name, ...judge(res) };
}

/** POSTs an OTLP/HTTP JSON request: any 2xx is ok; 404 or 405 means something else answers on that port. */
export function otlpCheck(ctx: CheckContext, c: OtlpCheck): Promise<Omit<CheckResult, 'ms'>> {
  return httpCheck(
    ctx,
    c.id,
    c.name,
    'POST',
    c.url,
    c.body,
    (res) => {
      if (res.status >= 200 && res.status < 300) {
        return { status: 'ok', detail: `POST ${c.url} (${c.what}) → HTTP ${res.status}.` };
      }
      const why = res.status === 404 || res.status === 405 ? c.notFound : c.rejected(res);
      return { status: 'fail', detail: `POST ${c.url} → HTTP ${res.status} ${short(res.text)}.`, ...why };
    },
    c.unreachable,
  );
}

export function readyCheck(
  ctx: CheckContext,
  id: 'prometheus-ready' | 'loki-ready',
  name: string,
  url: string,
  service: string,
): Promise<Omit<CheckResult, 'ms'>> {
  const label = service === 'loki' ? 'Loki' : 'Prometheus';
  const setting = service === 'loki' ? 'claudeTelemetry.stack.ports.loki' : 'claudeTelemetry.stack.ports.prometheus';
  return httpCheck(
    ctx,
    id,
    name,
    'GET',
    url,
    undefined,
    (res) => {
      if (res.status === 200) return { status: 'ok', detail: `GET ${url} → 200 ${short(res.text, 60)}` };
      if (res.status === 503) {
        return {
          status: 'warn',
          detail: `GET ${url} → 503 ${short(res.text)}`,
          cause:
            service === 'loki'
              ? 'Loki is still starting: /ready answers 503 for about 15 s after its ingester joins the ring.'
              : 'Prometheus is still starting (replaying its write-ahead log after a restart).',
          fix: 'Wait a few seconds and run this check again.',
        };
      }
      return {
        status: 'fail',
        detail: `GET ${url} → HTTP ${res.status} ${short(res.text)}`,
        cause: `Something that is not ${label} answers on ${hostPort(url)}.`,
        fix: `Free the port or move the stack's ${label} port (\`${setting}\`), then run ${RESTART}.`,
      };
    },
    () => {
      const down = ctx.downText(service);
      return {
        cause: down
          ? `${label} is not running: ${down}.`
          : `Nothing answers on ${hostPort(url)}: the stack is stopped, or ${label} is published on another port (\`${setting}\` changed after the stack started).`,
        fix: down?.includes('engine') ? `Start Docker, then run ${START}.` : `Run ${down ? START : RESTART}.`,
      };
    },
  );
}

/** Prometheus's view of its target for the collector (from the targets API, else from `up`). */
export async function scrapeCheck(ctx: ScrapeCheckContext, name: string): Promise<Omit<CheckResult, 'ms'>> {
  const { prom, job, collectorService, signal, downText } = ctx;
  const id = 'prometheus-scrape';
  let targets: Array<Record<string, unknown>>;
  try {
    const body = await prom.http.getJson('api/v1/targets', { state: 'active' }, signal ? { signal } : {});
    const data = isObject(body) && isObject(body['data']) ? body['data'] : undefined;
    const list = data?.['activeTargets'];
    if (!Array.isArray(list)) throw prom.malformed('api/v1/targets', 'no activeTargets list');
    targets = list.filter(isObject);
  } catch (error) {
    if (signal?.aborted) throw error;
    // Not every Prometheus-compatible server has the targets API (Mimir, Thanos): ask `up` instead.
    return upCheck(ctx, name, error);
  }
  const pools = [
    ...new Set(targets.map((t) => String(t['scrapePool'] ?? (isObject(t['labels']) ? t['labels']['job'] : '')))),
  ].sort();
  const mine = targets.filter((t) => t['scrapePool'] === job || (isObject(t['labels']) && t['labels']['job'] === job));
  if (mine.length === 0) {
    return {
      id,
      name,
      status: 'fail',
      detail: `Prometheus has no scrape job "${job}"; its jobs: ${pools.join(', ') || '(none)'}.`,
      cause:
        "Prometheus is not scraping the collector: its configuration has no job reading the collector's Prometheus " +
        'exporter (otel-collector:8889), so no Claude Code metric ever reaches it.',
      fix:
        `Restore stack/prometheus/prometheus.yml (reinstalling the extension restores it) with the "${job}" job ` +
        `scraping otel-collector:8889 (honor_labels: true); then run ${RESTART}.`,
    };
  }
  const up = mine.filter((t) => t['health'] === 'up');
  const down = mine.filter((t) => t['health'] === 'down');
  const url = String(mine[0]?.['scrapeUrl'] ?? '');
  if (up.length === mine.length) {
    const last = Date.parse(String(mine[0]?.['lastScrape'] ?? ''));
    const ago = Number.isFinite(last)
      ? `, last scraped ${Math.max(0, Math.round((Date.now() - last) / 1000))} s ago`
      : '';
    return { id, name, status: 'ok', detail: `Target ${url} is up${ago}.` };
  }
  if (down.length) {
    const err = String(down[0]?.['lastError'] ?? '');
    const collectorDown = downText(collectorService);
    return {
      id,
      name,
      status: 'fail',
      detail: `Target ${url} is down${err ? `: ${short(err, 300)}` : ''}.`,
      cause: collectorDown
        ? `Prometheus is not scraping the collector: ${collectorDown}.`
        : "Prometheus is not scraping the collector: it cannot read the collector's exporter (the collector is not " +
          'running, was recreated on another network, or its `prometheus` exporter is not on :8889).',
      fix: collectorDown
        ? `Run ${START}.`
        : `Run ${RESTART}; if the target stays down, look at the collector's log (${LOGS} → ${collectorService}).`,
    };
  }
  return {
    id,
    name,
    status: 'warn',
    detail: `Target ${url} has not been scraped yet (health "${String(mine[0]?.['health'] ?? 'unknown')}").`,
    cause: 'Prometheus has just started: it scrapes every 5 s.',
    fix: 'Run this check again in a few seconds.',
  };
}

async function upCheck(ctx: ScrapeCheckContext, name: string, targetsError: unknown): Promise<Omit<CheckResult, 'ms'>> {
  const { prom, job, collectorService, signal } = ctx;
  const id = 'prometheus-scrape';
  try {
    const samples = await prom.instant(`up{job="${job}"}`, Date.now() / 1000, signal ? { signal } : {});
    if (samples.length === 0) {
      return {
        id,
        name,
        status: 'fail',
        detail: `No \`up{job="${job}"}\` series (and the targets API failed: ${(targetsError as Error).message}).`,
        cause: 'Prometheus is not scraping the collector: no job of that name exists.',
        fix: `Restore stack/prometheus/prometheus.yml with the "${job}" job scraping otel-collector:8889; then run ${RESTART}.`,
      };
    }
    if (samples.every((s) => s.value === 1)) return { id, name, status: 'ok', detail: `up{job="${job}"} = 1.` };
    return {
      id,
      name,
      status: 'fail',
      detail: `up{job="${job}"} = 0.`,
      cause: 'Prometheus is not scraping the collector: the target is down.',
      fix: `Run ${RESTART}; if it stays down, look at the collector's log (${LOGS} → ${collectorService}).`,
    };
  } catch (error) {
    if (signal?.aborted) throw error;
    return {
      id,
      name,
      status: 'fail',
      detail: error instanceof TelemetryError ? error.message : String(error),
      cause: 'Prometheus answers /-/ready but not its query API.',
      fix: `Run ${RESTART}.`,
    };
  }
}
