// Small JSON-over-HTTP core for the Prometheus and Loki query APIs, on undici.
// Plain Node: this module must never import `vscode`.
// Why one file of this size: every way a backend can answer wrongly (unreachable, slow, HTML, malformed, oversized,
// an error status with its body) maps to one TelemetryError here, with its words and next step, for both clients.
import { Agent, request, errors as undiciErrors } from 'undici';
import { errorCode } from '../errorCode';
import type { TelemetryErrorInfo, TelemetryErrorKind } from '../snapshot';

export type { TelemetryErrorInfo, TelemetryErrorKind };

export class TelemetryError extends Error implements TelemetryErrorInfo {
  readonly kind: TelemetryErrorKind;
  readonly backend: string;
  readonly url: string;
  readonly status?: number;
  readonly bodyExcerpt?: string;

  constructor(info: TelemetryErrorInfo, options?: { cause?: unknown }) {
    super(info.message, options);
    this.name = 'TelemetryError';
    this.kind = info.kind;
    this.backend = info.backend;
    this.url = info.url;
    if (info.status !== undefined) this.status = info.status;
    if (info.bodyExcerpt !== undefined) this.bodyExcerpt = info.bodyExcerpt;
  }

  toInfo(): TelemetryErrorInfo {
    const info: TelemetryErrorInfo = { kind: this.kind, backend: this.backend, message: this.message, url: this.url };
    if (this.status !== undefined) info.status = this.status;
    if (this.bodyExcerpt !== undefined) info.bodyExcerpt = this.bodyExcerpt;
    return info;
  }
}

/** Turns anything thrown by a client call into serialisable error info (non-telemetry errors become `malformed`). */
export function toErrorInfo(e: unknown, backend: string, url = ''): TelemetryErrorInfo {
  if (e instanceof TelemetryError) return e.toInfo();
  const msg = e instanceof Error ? e.message : String(e);
  return { kind: 'malformed', backend, url, message: `${backend} query failed unexpectedly: ${msg}` };
}

export type AuthConfig =
  { kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'basic'; username: string; password: string };

export interface EndpointConfig {
  /** Display name used in messages: "Prometheus", "Loki". */
  name: string;
  /** Base URL, e.g. `http://127.0.0.1:9090` or `https://team.example/prometheus` (a path prefix is kept). */
  baseUrl: string;
  auth?: AuthConfig;
  /** Extra headers on every request, e.g. `{ 'X-Scope-OrgID': 'team-a' }`. */
  headers?: Record<string, string>;
  /** Whole-request timeout (connect + headers + body). Default 10 s. */
  timeoutMs?: number;
  /** Largest response body accepted. Default 16 MiB. */
  maxResponseBytes?: number;
}

export interface RequestJsonOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Overrides the endpoint's timeout for this call. */
  timeoutMs?: number;
}

/** Query-string parameters; an array repeats the key (`match[]`). */
export type QueryParams = Record<string, string | number | string[] | undefined>;

/** A longer URL goes as a form-encoded POST: proxies refuse long request lines (nginx's default: 8 KiB with headers). */
const MAX_GET_URL_CHARS = 4096;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
export const EXCERPT_CHARS = 300;

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** Keep-alive JSON client for one backend. Create once per endpoint config; `close()` when the config changes. */
export class JsonHttpClient {
  readonly config: Readonly<EndpointConfig>;
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(config: EndpointConfig) {
    this.config = { ...config };
    let base: URL;
    try {
      base = new URL(config.baseUrl);
    } catch {
      throw new TelemetryError({
        kind: 'unreachable',
        backend: config.name,
        url: config.baseUrl,
        message: `The ${config.name} URL "${config.baseUrl}" is not a valid URL. Fix it in the settings.`,
      });
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TelemetryError({
        kind: 'unreachable',
        backend: config.name,
        url: config.baseUrl,
        message: `The ${config.name} URL "${config.baseUrl}" must start with http:// or https://. Fix it in the settings.`,
      });
    }
    // Credentials in the URL would leak into messages; move them to basic auth if no auth was given.
    if ((base.username || base.password) && (!config.auth || config.auth.kind === 'none')) {
      this.config = {
        ...this.config,
        auth: {
          kind: 'basic',
          username: decodeURIComponent(base.username),
          password: decodeURIComponent(base.password),
        },
      };
    }
    base.username = '';
    base.password = '';
    base.search = '';
    base.hash = '';
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.base = base;
    const timeout = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      connections: 8,
      connect: { timeout },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
  }

  /** The URL of an API path (relative to the base URL), without query string. */
  urlFor(path: string): URL {
    return new URL(path.replace(/^\/+/, ''), this.base);
  }

  /** A 2xx answer whose JSON is not what the API documents: `why` says what was off, `hint` what to check. */
  malformed(path: string, why: string, hint: string): TelemetryError {
    const url = this.urlFor(path);
    const shown = `${url.origin}${url.pathname}`;
    return new TelemetryError({
      kind: 'malformed',
      backend: this.config.name,
      url: shown,
      message: `${this.config.name} at ${shown} sent an unexpected response (${why}). ${hint}`,
    });
  }

  /**
   * GET `path` with `params` (a form-encoded POST when they would make the URL longer than a proxy may take, as the
   * first load's queries of a month of slots do: Prometheus-compatible query APIs take both), returning the parsed
   * JSON body. Throws `TelemetryError`, or the signal's reason when aborted.
   */
  async getJson(path: string, params: QueryParams, options: RequestJsonOptions = {}): Promise<unknown> {
    const url = this.urlFor(path);
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, item);
      else url.searchParams.set(k, String(v));
    }
    const form = url.href.length > MAX_GET_URL_CHARS ? url.searchParams.toString() : undefined;
    if (form !== undefined) url.search = '';
    return this.exchange(
      url,
      form === undefined
        ? { method: 'GET' }
        : { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      options,
    );
  }

  /**
   * POST `body` (already encoded, with its content headers) to `path`, returning the parsed JSON answer, or undefined
   * for an empty one (Prometheus' write endpoints answer 200 with no body).
   */
  async postJson(
    path: string,
    body: Uint8Array,
    headers: Record<string, string>,
    options: RequestJsonOptions = {},
  ): Promise<unknown> {
    return this.exchange(this.urlFor(path), { method: 'POST', body, headers, emptyOk: true }, options);
  }

  private async exchange(
    url: URL,
    init: { method: 'GET' | 'POST'; body?: string | Uint8Array; headers?: Record<string, string>; emptyOk?: boolean },
    options: RequestJsonOptions,
  ): Promise<unknown> {
    const shownUrl = `${url.origin}${url.pathname}`;
    const name = this.config.name;
    const timeoutMs = options.timeoutMs ?? this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const maxBytes = this.config.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;

    options.signal?.throwIfAborted();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('timeout'));
    }, timeoutMs);
    const onAbort = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const fail = (info: Omit<TelemetryErrorInfo, 'backend' | 'url'>, cause?: unknown): TelemetryError =>
      new TelemetryError({ ...info, backend: name, url: shownUrl }, { cause });
    const timeoutError = (cause?: unknown): TelemetryError =>
      fail(
        {
          kind: 'timeout',
          message:
            `${name} at ${shownUrl} did not answer within ${formatMs(timeoutMs)}. It may be overloaded or still starting; ` +
            `try a shorter time range, or check that ${name} is healthy.`,
        },
        cause,
      );

    try {
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(url, {
          method: init.method,
          ...(init.body === undefined ? {} : { body: init.body }),
          dispatcher: this.agent,
          signal: controller.signal,
          headers: { ...this.headers(options.headers), ...init.headers },
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
      } catch (e) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (timedOut) throw timeoutError(e);
        throw classifyNetworkError(e, name, shownUrl, fail, timeoutError);
      }

      const contentType = headerValue(res.headers['content-type']).toLowerCase();
      const declaredLength = Number(headerValue(res.headers['content-length']));
      let text: string;
      try {
        if (Number.isFinite(declaredLength) && declaredLength > maxBytes) {
          res.body.destroy();
          throw fail({ kind: 'malformed', status: res.statusCode, message: tooLargeMessage(name, shownUrl, maxBytes) });
        }
        text = await readCapped(res.body, maxBytes, () =>
          fail({
            kind: 'malformed',
            status: res.statusCode,
            message: tooLargeMessage(name, shownUrl, maxBytes),
          }),
        );
      } catch (e) {
        if (e instanceof TelemetryError) throw e;
        if (options.signal?.aborted) throw options.signal.reason;
        if (timedOut) throw timeoutError(e);
        throw classifyNetworkError(e, name, shownUrl, fail, timeoutError);
      }

      const status = res.statusCode;
      if (status < 200 || status > 299) throw httpError(status, text, contentType, name, shownUrl, fail);
      if (init.emptyOk && text === '') return undefined;
      if (looksLikeHtml(text, contentType)) {
        throw fail({
          kind: 'malformed',
          status,
          bodyExcerpt: excerpt(text),
          message:
            `${name} at ${shownUrl} answered with an HTML page instead of JSON. The URL probably points at something ` +
            `else (a login page, Grafana, a proxy): check the ${name} URL setting.`,
        });
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (e) {
        throw fail(
          {
            kind: 'malformed',
            status,
            bodyExcerpt: excerpt(text),
            message:
              `${name} at ${shownUrl} answered with a body that is not valid JSON. Check the ${name} URL setting ` +
              `and that it is a ${name} server.`,
          },
          e,
        );
      }
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private headers(extra?: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', ...this.config.headers, ...extra };
    const auth = this.config.auth;
    if (auth?.kind === 'bearer') h['authorization'] = `Bearer ${auth.token}`;
    else if (auth?.kind === 'basic') {
      h['authorization'] = `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
    }
    return h;
  }
}

type Fail = (info: Omit<TelemetryErrorInfo, 'backend' | 'url'>, cause?: unknown) => TelemetryError;

function classifyNetworkError(
  e: unknown,
  name: string,
  url: string,
  fail: Fail,
  timeoutError: (c: unknown) => TelemetryError,
): TelemetryError {
  const code = errorCode(e);
  if (code && TIMEOUT_CODES.has(code)) return timeoutError(e);
  if (
    e instanceof undiciErrors.HeadersTimeoutError ||
    e instanceof undiciErrors.BodyTimeoutError ||
    e instanceof undiciErrors.ConnectTimeoutError
  )
    return timeoutError(e);
  const why =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host not found'
        : code && UNREACHABLE_CODES.has(code)
          ? `connection failed: ${code}`
          : `connection failed: ${e instanceof Error ? e.message : String(e)}`;
  return fail(
    {
      kind: 'unreachable',
      message: `${name} at ${url} is unreachable (${why}). Start the telemetry stack, or check the ${name} URL setting.`,
    },
    e,
  );
}

function httpError(
  status: number,
  text: string,
  contentType: string,
  name: string,
  url: string,
  fail: Fail,
): TelemetryError {
  const detail = errorDetail(text, contentType);
  const bodyExcerpt = detail || undefined;
  const withDetail = detail ? `: ${detail}` : '';
  if (status === 401 || status === 403) {
    return fail({
      kind: 'auth',
      status,
      ...(bodyExcerpt ? { bodyExcerpt } : {}),
      message:
        `${name} at ${url} refused the credentials (HTTP ${status})${withDetail}. Check the ${name} authentication ` +
        `settings (token, user and password, X-Scope-OrgID).`,
    });
  }
  const next =
    status === 404
      ? `check that the ${name} URL points at ${name} (including any path prefix)`
      : status === 400 || status === 422
        ? 'this is a query the backend rejected; please report it with this message'
        : status >= 500
          ? `${name} had an internal problem; check its logs, or wait and it will be retried`
          : `check the ${name} URL setting`;
  return fail({
    kind: 'http',
    status,
    ...(bodyExcerpt ? { bodyExcerpt } : {}),
    message: `${name} at ${url} answered HTTP ${status}${withDetail}. Next: ${next}.`,
  });
}

/** Prometheus errors are JSON `{status:"error", error:"..."}`; Loki's are plain text. Either way: a short plain text. */
function errorDetail(text: string, contentType: string): string {
  const trimmed = text.trim();
  if (!trimmed) return '';
  if (contentType.includes('json') || trimmed.startsWith('{')) {
    try {
      const j = JSON.parse(trimmed) as unknown;
      if (j && typeof j === 'object') {
        const err = (j as { error?: unknown }).error ?? (j as { message?: unknown }).message;
        if (typeof err === 'string') return excerpt(err);
      }
    } catch {
      /* fall through to text */
    }
  }
  if (looksLikeHtml(trimmed, contentType)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)?.[1];
    return excerpt(title ? `HTML page "${title.trim()}"` : 'an HTML page');
  }
  return excerpt(trimmed);
}

function looksLikeHtml(text: string, contentType: string): boolean {
  if (contentType.includes('text/html')) return true;
  return /^\s*<(!doctype|html|head|body|\?xml)/i.test(text);
}

export function excerpt(text: string, max = EXCERPT_CHARS): string {
  const clean = text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

function tooLargeMessage(name: string, url: string, max: number): string {
  return (
    `${name} at ${url} sent a response larger than ${formatBytes(max)}. Pick a shorter time range; ` +
    'if that does not help, the data has more series than expected (are session ids missing?).'
  );
}

function headerValue(v: string | string[] | undefined): string {
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

async function readCapped(
  body: AsyncIterable<Buffer | string> & { destroy(err?: Error): unknown },
  maxBytes: number,
  onTooLarge: () => TelemetryError,
): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += buf.length;
    if (total > maxBytes) {
      const err = onTooLarge();
      body.destroy();
      throw err;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;
  if (n >= 1024) return `${Math.round((n / 1024) * 10) / 10} KiB`;
  return `${n} bytes`;
}
