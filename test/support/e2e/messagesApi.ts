/**
 * TEST FIXTURE: a scripted stand-in for the Anthropic Messages API on loopback (node:http), for running the real
 * Claude Code CLI offline (`ANTHROPIC_BASE_URL=api.url`).
 *
 *   const api = await startMessagesApi([
 *     { kind: 'error', status: 500 },                                        // retried by the CLI
 *     { kind: 'tool_use', name: 'Bash', input: { command: 'exit 3', description: 'fail' }, usage: { input_tokens: 1000 } },
 *     { kind: 'text', text: 'Done.', usage: { input_tokens: 2000, output_tokens: 50 } },
 *   ]);
 *   ...
 *   api.requests   // what the CLI asked, with the turn each got and when its response ended
 *   await api.close();
 *
 * `POST /v1/messages` answers like the real API: with `stream: true` the SSE events message_start (with the turn's
 * `usage`), ping, content_block_start/delta/stop (text_delta, input_json_delta for tool_use), message_delta
 * (stop_reason, usage.output_tokens), message_stop; otherwise one JSON message. An `error` turn answers its status
 * with the API's JSON error body (`{"type":"error","error":{"type":...,"message":...}}`).
 *
 * Each main-loop request (one that offers tools) takes the next turn of the script (an error turn may answer several
 * in a row: `times`); once the script is used up it gets a short text reply. Side requests without tools (the CLI may ask a small model for a title or a command
 * prefix) get `sideReply` and take no turn. `POST /v1/messages/count_tokens` answers an estimate. Anything else is a
 * 404 with the API's error body, and is logged in `unknown` so a test can see what the CLI asked for.
 *
 * `responseHeaders` adds headers to every /v1/messages answer: `rateLimitHeaders(...)` are those of a Claude plan
 * subscriber's answers, from which the CLI (signed in with CLAUDE_CODE_OAUTH_TOKEN, interactive) gives its status
 * line `rate_limits`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpError, readBody } from '../../doubles/common';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type Turn =
  | {
      kind: 'text';
      text: string;
      usage?: Partial<Usage>;
      /** `refusal`: the model declined (the CLI reports an api_refusal event, then asks again by itself). */
      stopReason?: 'end_turn' | 'refusal';
    }
  | {
      kind: 'tool_use';
      name: string;
      input: Record<string, unknown>;
      /** Text said before the tool call, as the model often does. */
      text?: string;
      usage?: Partial<Usage>;
    }
  | {
      kind: 'error';
      status: number;
      /** The API's error type; default from the status (400 invalid_request_error, 500 api_error, 529 overloaded_error...). */
      errorType?: string;
      message?: string;
      /**
       * How many consecutive main requests get this error (default 1; `Infinity`: every one from here on). The CLI
       * retries a failed request several times (SDK retries, then its own fallbacks) before it gives up and emits
       * an `api_error` event, so an error the user sees needs every retry to fail too.
       */
      times?: number;
    };

export interface RecordedRequest {
  method: string;
  path: string;
  /** `main` took a turn of the script; `side` is a request without tools; `extra` came after the script ended. */
  role: 'main' | 'side' | 'extra' | 'count_tokens' | 'unknown';
  /** Index in the script of the turn this request got (main requests only). */
  turn?: number;
  model?: string;
  stream?: boolean;
  status: number;
  /** For a main request: the tool results it carried back (the outcome of the previous tool_use turn). */
  toolResults: { toolUseId: string; isError: boolean; content: string }[];
  receivedAt: number;
  /** When the response was completely written (res.end()). */
  endedAt?: number;
  usage?: Usage;
}

export interface MessagesApi {
  /** http://127.0.0.1:PORT, the value for ANTHROPIC_BASE_URL. */
  url: string;
  port: number;
  readonly requests: RecordedRequest[];
  /** Requests to paths the stand-in does not know, e.g. "GET /api/hello". */
  readonly unknown: string[];
  /** How many script turns have been used up. */
  readonly served: number;
  /** Total usage of the successful main and side responses so far. */
  totalUsage(): Usage;
  /** When the last /v1/messages response (of any role, error or not) finished, ms since the epoch; 0 if none. */
  lastMessagesEndedAt(): number;
  /** When the last successful /v1/messages response (one that reported usage, so cost) finished; 0 if none. */
  lastUsageEndedAt(): number;
  /** Resolves once the last turn of the script has been answered (its first response has ended). */
  waitForScriptDone(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface MessagesApiOptions {
  /** Reply to side requests (no tools). Default a short text with a small usage. */
  sideReply?: Extract<Turn, { kind: 'text' }>;
  /** Reply once the script is used up. Default "Done." with a small usage. */
  afterScript?: Extract<Turn, { kind: 'text' }>;
  /** Delay between SSE events, ms (default 0): a real stream is not one write. */
  eventDelayMs?: number;
  /**
   * Extra headers on every /v1/messages answer (success or error), as the real API adds e.g. its rate limit headers
   * (`rateLimitHeaders()`); a function is called per answer.
   */
  responseHeaders?: Record<string, string> | (() => Record<string, string>);
  log?: (line: string) => void;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const ERROR_MESSAGES: Record<string, string> = {
  invalid_request_error: 'messages: scripted invalid request',
  api_error: 'Internal server error',
  overloaded_error: 'Overloaded',
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit',
};

export function fullUsage(usage: Partial<Usage> | undefined): Usage {
  return {
    input_tokens: usage?.input_tokens ?? 10,
    output_tokens: usage?.output_tokens ?? 10,
    cache_creation_input_tokens: usage?.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: usage?.cache_read_input_tokens ?? 0,
  };
}

/**
 * The unified rate limit headers the API sends a Claude plan subscriber's requests (utilization 0..1, resets in
 * seconds since the epoch); from them Claude Code fills its status line JSON's `rate_limits` (its used_percentage is
 * utilization x 100).
 */
export function rateLimitHeaders(limits: {
  fiveHour: { utilization: number; resetsAt: number };
  sevenDay: { utilization: number; resetsAt: number };
}): Record<string, string> {
  return {
    'anthropic-ratelimit-unified-status': 'allowed',
    'anthropic-ratelimit-unified-5h-status': 'allowed',
    'anthropic-ratelimit-unified-5h-utilization': String(limits.fiveHour.utilization),
    'anthropic-ratelimit-unified-5h-reset': String(Math.floor(limits.fiveHour.resetsAt)),
    'anthropic-ratelimit-unified-7d-status': 'allowed',
    'anthropic-ratelimit-unified-7d-utilization': String(limits.sevenDay.utilization),
    'anthropic-ratelimit-unified-7d-reset': String(Math.floor(limits.sevenDay.resetsAt)),
  };
}

const id = (prefix: string): string => `${prefix}_${randomBytes(12).toString('hex')}`;

interface ContentBlock {
  type: 'text' | 'tool_use';
  text?: string;
  id?: string;
  name?: string;
  input?: Record<string, unknown>;
}

function blocksOf(turn: Exclude<Turn, { kind: 'error' }>): ContentBlock[] {
  if (turn.kind === 'text') {
    return [{ type: 'text', text: turn.text }];
  }
  return [
    ...(turn.text ? [{ type: 'text' as const, text: turn.text }] : []),
    { type: 'tool_use', id: `toolu_${randomBytes(12).toString('hex')}`, name: turn.name, input: turn.input },
  ];
}

/** Splits a string into n roughly equal pieces (at least one). */
function pieces(text: string, n: number): string[] {
  if (!text) return [''];
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Tool results carried by the last user message of a request. */
function toolResultsOf(body: { messages?: unknown }): RecordedRequest['toolResults'] {
  const messages = Array.isArray(body.messages) ? (body.messages as { role?: string; content?: unknown }[]) : [];
  const last = messages.at(-1);
  if (!last || last.role !== 'user' || !Array.isArray(last.content)) return [];
  return (last.content as { type?: string; tool_use_id?: string; is_error?: boolean; content?: unknown }[])
    .filter((block) => block.type === 'tool_result')
    .map((block) => ({
      toolUseId: String(block.tool_use_id),
      isError: block.is_error === true,
      content: typeof block.content === 'string' ? block.content : JSON.stringify(block.content ?? ''),
    }));
}

export async function startMessagesApi(script: Turn[], options: MessagesApiOptions = {}): Promise<MessagesApi> {
  const log = options.log ?? (() => undefined);
  const requests: RecordedRequest[] = [];
  const unknown: string[] = [];
  let next = 0;
  /** How many times the turn at `next` has been answered (error turns may repeat). */
  let repeats = 0;
  let lastEnded = 0;
  let lastUsageEnded = 0;
  const waiters: (() => void)[] = [];
  const sideReply = options.sideReply ?? { kind: 'text', text: 'OK', usage: { input_tokens: 20, output_tokens: 2 } };
  const afterScript = options.afterScript ?? {
    kind: 'text',
    text: 'Done.',
    usage: { input_tokens: 20, output_tokens: 2 },
  };
  const delay = options.eventDelayMs ?? 0;
  const extraHeaders = (): Record<string, string> =>
    typeof options.responseHeaders === 'function' ? options.responseHeaders() : { ...options.responseHeaders };

  const scriptDone = (): boolean =>
    requests.some((r) => r.role === 'main' && r.turn === script.length - 1 && r.endedAt);
  /** The turn for the next main request, advancing the script; undefined once it is used up. */
  const takeTurn = (): { turn: Turn; index: number } | undefined => {
    if (next >= script.length) return undefined;
    const index = next;
    const turn = script[index];
    repeats += 1;
    if (turn.kind !== 'error' || repeats >= (turn.times ?? 1)) {
      next += 1;
      repeats = 0;
    }
    return { turn, index };
  };

  const finish = (record: RecordedRequest, res: ServerResponse): void => {
    record.endedAt = Date.now();
    if (record.path.startsWith('/v1/messages') && record.role !== 'count_tokens') {
      lastEnded = Math.max(lastEnded, record.endedAt);
      if (record.usage) lastUsageEnded = Math.max(lastUsageEnded, record.endedAt);
    }
    log(
      `messages-api: ${record.method} ${record.path} ${record.role}${record.turn !== undefined ? ` turn ${record.turn}` : ''} -> ${res.statusCode}` +
        `${record.stream ? ' (stream)' : ''}${record.toolResults.length ? ` tool_results ${JSON.stringify(record.toolResults.map((t) => t.isError))}` : ''}`,
    );
    if (scriptDone()) waiters.splice(0).forEach((w) => w());
  };

  const sendError = (res: ServerResponse, status: number, errorType: string, message: string): void => {
    const requestId = id('req');
    res.writeHead(status, {
      ...extraHeaders(),
      'content-type': 'application/json',
      'request-id': requestId,
      'x-should-retry': status >= 500 || status === 429 ? 'true' : 'false',
    });
    res.end(JSON.stringify({ type: 'error', error: { type: errorType, message }, request_id: requestId }));
  };

  const sendMessage = async (
    res: ServerResponse,
    model: string,
    stream: boolean,
    turn: Exclude<Turn, { kind: 'error' }>,
  ): Promise<Usage> => {
    const usage = fullUsage(turn.usage);
    const blocks = blocksOf(turn);
    const stopReason = turn.kind === 'tool_use' ? 'tool_use' : (turn.stopReason ?? 'end_turn');
    const messageId = id('msg');
    const headers = {
      ...extraHeaders(),
      'request-id': id('req'),
      'anthropic-organization-id': '00000000-0000-0000-0000-000000000000',
    };
    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      res.end(
        JSON.stringify({
          id: messageId,
          type: 'message',
          role: 'assistant',
          model,
          content: blocks.map((b) =>
            b.type === 'text'
              ? { type: 'text', text: b.text }
              : { type: 'tool_use', id: b.id, name: b.name, input: b.input },
          ),
          stop_reason: stopReason,
          stop_sequence: null,
          usage,
        }),
      );
      return usage;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...headers,
    });
    const event = async (type: string, data: Record<string, unknown>): Promise<void> => {
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
      if (delay) await sleep(delay);
    };
    await event('message_start', {
      message: {
        id: messageId,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // The real API reports the input side here and output_tokens 1 (or so) until message_delta.
        usage: { ...usage, output_tokens: Math.min(1, usage.output_tokens) },
      },
    });
    await event('ping', {});
    for (const [index, block] of blocks.entries()) {
      if (block.type === 'text') {
        await event('content_block_start', { index, content_block: { type: 'text', text: '' } });
        for (const text of pieces(block.text ?? '', 3)) {
          await event('content_block_delta', { index, delta: { type: 'text_delta', text } });
        }
      } else {
        await event('content_block_start', {
          index,
          content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
        });
        for (const partial of pieces(JSON.stringify(block.input ?? {}), 3)) {
          await event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: partial } });
        }
      }
      await event('content_block_stop', { index });
    }
    await event('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    });
    await event('message_stop', {});
    res.end();
    return usage;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const path = url.pathname;
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        path,
        role: 'unknown',
        status: 0,
        toolResults: [],
        receivedAt: Date.now(),
      };
      requests.push(record);
      const raw = (await readBody(req)).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        // not JSON: body stays empty
      }
      if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
        record.role = 'count_tokens';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ input_tokens: Math.max(1, Math.round(raw.length / 4)) }));
      } else if (req.method === 'POST' && path === '/v1/messages') {
        const model = typeof body.model === 'string' ? body.model : 'claude-unknown';
        const stream = body.stream === true;
        const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
        record.model = model;
        record.stream = stream;
        record.toolResults = toolResultsOf(body);
        let turn: Turn;
        const taken = hasTools ? takeTurn() : undefined;
        if (!hasTools) {
          record.role = 'side';
          turn = sideReply;
        } else if (taken) {
          record.role = 'main';
          record.turn = taken.index;
          turn = taken.turn;
        } else {
          record.role = 'extra';
          turn = afterScript;
        }
        if (turn.kind === 'error') {
          const errorType = turn.errorType ?? ERROR_TYPES[turn.status] ?? 'api_error';
          sendError(
            res,
            turn.status,
            errorType,
            turn.message ?? ERROR_MESSAGES[errorType] ?? `scripted ${turn.status}`,
          );
        } else {
          record.usage = await sendMessage(res, model, stream, turn);
        }
      } else {
        const line = `${req.method} ${url.pathname}${url.search}`;
        unknown.push(line);
        log(`messages-api: unknown request ${line}`);
        sendError(res, 404, 'not_found_error', `Not found: ${line}`);
      }
      record.status = res.statusCode;
      finish(record, res);
    })().catch((error: unknown) => {
      log(`messages-api: handler failed: ${String(error)}`);
      if (!res.headersSent) {
        res.writeHead(error instanceof HttpError ? error.status : 500).end();
      } else {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    unknown,
    get served() {
      return next;
    },
    totalUsage() {
      const total = fullUsage({ input_tokens: 0, output_tokens: 0 });
      for (const r of requests) {
        if (!r.usage) continue;
        total.input_tokens += r.usage.input_tokens;
        total.output_tokens += r.usage.output_tokens;
        total.cache_creation_input_tokens += r.usage.cache_creation_input_tokens;
        total.cache_read_input_tokens += r.usage.cache_read_input_tokens;
      }
      return total;
    },
    lastMessagesEndedAt: () => lastEnded,
    lastUsageEndedAt: () => lastUsageEnded,
    waitForScriptDone(timeoutMs: number) {
      if (scriptDone()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const at = waiters.indexOf(done);
          if (at >= 0) waiters.splice(at, 1);
          reject(
            new Error(
              `the CLI took ${next} of ${script.length} scripted turns in ${timeoutMs} ms; requests: ${JSON.stringify(requests.map((r) => `${r.method} ${r.path} ${r.role} ${r.status}`))}`,
            ),
          );
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        waiters.push(done);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
