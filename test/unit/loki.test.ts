// Loki client: the exact bodies a real Loki 3.4.6 sent (../shared/fixtures/loki-3.4.6), served from a local
// HTTP server, and the Loki test double (test/doubles/loki.ts) fed the real Claude Code OTLP captures.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { LokiClient } from '../../src/telemetry/loki';
import { PrometheusClient } from '../../src/telemetry/prometheus';
import { TelemetryError } from '../../src/telemetry/http';
import { TelemetryReader } from '../../src/telemetry/reader';
import { toApiError, toToolFailure } from '../../src/telemetry/events';
import { LOKI_SELECTOR, dur, lokiLogs } from '../../src/telemetry/queries';
import { startLokiDouble, LokiDouble } from '../doubles/loki';
import { FIXTURES_DIR } from '../doubles/fixtures';
import { freePort } from '../support/ports';

const FIXTURES = FIXTURES_DIR;
const LOKI_FIX = join(FIXTURES, 'loki-3.4.6');
const CC_FIX = join(FIXTURES, 'claude-code-2.1.328');
const haveFixtures = existsSync(LOKI_FIX) && existsSync(CC_FIX);

/** Metric queries over the events (the extension runs none): what the double must answer, and a reconciliation. */
const eventMetric = {
  /** Exact cost by model from api_request events: what the Prometheus totals must agree with. */
  costByModel: (seconds: number): string =>
    `sum by (model) (sum_over_time(${LOKI_SELECTOR} | event_name="api_request" | unwrap cost_usd | __error__="" [${dur(seconds)}]))`,
  /** Failed tool calls by tool. */
  toolFailuresByTool: (seconds: number): string =>
    `sum by (tool_name) (count_over_time(${LOKI_SELECTOR} | event_name="tool_result" | success="false" [${dur(seconds)}]))`,
};

interface Seen {
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

/** Serves fixture bodies by route: `fixtureFor(path, params, headers)` returns [status, contentType, body]. */
async function fixtureServer(
  route: (s: Seen) => [number, string, string],
): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const s = { path: u.pathname, query: u.searchParams, headers: req.headers };
    seen.push(s);
    const [status, ct, body] = route(s);
    res.writeHead(status, { 'content-type': ct });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(() => r())) };
}

function fix(name: string): string {
  return readFileSync(join(LOKI_FIX, name), 'utf8');
}
/** The .txt fixtures end with "HTTP 400": the body is what precedes it. */
function textFixture(name: string): [number, string] {
  const raw = fix(name).trimEnd();
  const m = /\nHTTP (\d{3})$/.exec(raw);
  return m ? [Number(m[1]), raw.slice(0, m.index)] : [200, raw];
}

describe(
  'Loki client against real Loki 3.4.6 response bodies',
  { skip: haveFixtures ? false : 'shared fixtures missing' },
  () => {
    let srv: Awaited<ReturnType<typeof fixtureServer>>;
    let loki: LokiClient;

    before(async () => {
      srv = await fixtureServer((s) => {
        const q = s.query.get('query') ?? '';
        if (s.path === '/loki/api/v1/query_range' && q.includes('event_name="tool_result"')) {
          return [200, 'application/json; charset=UTF-8', fix('tool-failures.streams.categorized.json')];
        }
        if (s.path === '/loki/api/v1/query_range' && q.includes('event_name="api_error"')) {
          return [200, 'application/json; charset=UTF-8', fix('api-errors.streams.json')];
        }
        if (s.path === '/loki/api/v1/query_range' && q.startsWith('sum by (event_name)')) {
          return [200, 'application/json; charset=UTF-8', fix('events-by-name.matrix.json')];
        }
        if (s.path === '/loki/api/v1/query' && q.includes('unwrap cost_usd')) {
          return [200, 'application/json; charset=UTF-8', fix('cost-by-model-from-events.instant.json')];
        }
        if (s.path === '/loki/api/v1/query' && q.includes('count_over_time')) {
          return [200, 'application/json; charset=UTF-8', fix('tool-failures-by-tool.instant.json')];
        }
        if (s.path === '/loki/api/v1/query') {
          const [st, body] = textFixture('error-log-query-on-instant-endpoint.txt');
          return [st, 'text/plain; charset=utf-8', body];
        }
        const [st, body] = textFixture('error-parse.txt');
        return [st, 'text/plain; charset=utf-8', body];
      });
      loki = new LokiClient({ baseUrl: srv.url, headers: { 'X-Scope-OrgID': 'team-a' } });
    });
    after(async () => {
      await loki?.close();
      await srv?.close();
    });

    it('recent tool failures: categorised entries, newest first, with tool, error_type, session, time', async () => {
      const entries = await loki.queryLogs(lokiLogs.toolFailures(), {
        startMs: 1795350000000,
        endMs: 1795360000000,
        limit: 50,
      });
      const req = srv.seen[srv.seen.length - 1]!;
      assert.equal(req.headers['x-loki-response-encoding-flags'], 'categorize-labels');
      assert.equal(req.headers['x-scope-orgid'], 'team-a');
      assert.equal(req.query.get('direction'), 'backward');
      assert.equal(req.query.get('limit'), '50');
      assert.equal(req.query.get('start'), '1795350000000000000');
      const failures = entries.map(toToolFailure);
      assert.deepEqual(
        failures.map((f) => [f.tool, f.errorType, f.sessionId]),
        [
          ['Grep', 'TelemetrySafeError', '631fe02f-77fd-4613-8db1-70ec003c74d0'],
          ['Bash', 'ShellError', '631fe02f-77fd-4613-8db1-70ec003c74d0'],
          ['Read', 'TelemetrySafeError', 'db2d98db-9ac8-44e4-a0a7-7a609ad65899'],
        ],
      );
      assert.equal(failures[0]!.time, 1795351884364);
      assert.equal(failures[1]!.durationMs, 33);
      assert.equal(entries[0]!.stream['service_name'], 'claude-code');
      assert.equal(entries[0]!.structuredMetadata['success'], 'false');
    });

    it('recent API errors: also from an uncategorised body (metadata folded into stream)', async () => {
      const entries = await loki.queryLogs(lokiLogs.apiErrors(), { startMs: 1795350000000, endMs: 1795360000000 });
      const errs = entries.map(toApiError);
      assert.equal(errs.length, 1);
      assert.deepEqual(errs[0], {
        time: 1795351899995,
        statusCode: '400',
        model: 'claude-opus-5-5',
        message: 'scripted failure',
        sessionId: 'dfc42806-2b08-4f67-b210-13a46f956f6b',
        attempt: 1,
      });
    });

    it('metric queries: vector and matrix', async () => {
      const cost = await loki.instant(eventMetric.costByModel(3 * 3600), 1795354355000);
      assert.deepEqual(
        cost.map((c) => [c.labels['model'], c.value]),
        [['claude-opus-5-5', 0.054]],
      );
      const byTool = await loki.instant(eventMetric.toolFailuresByTool(3 * 3600), 1795354355000);
      assert.deepEqual(byTool.map((c) => c.labels['tool_name']).sort(), ['Bash', 'Grep', 'Read']);
      const matrix = await loki.rangeMetric(
        'sum by (event_name) (count_over_time({service_name="claude-code"} [5m]))',
        1795351800000,
        1795352100000,
        300,
      );
      assert.equal(matrix.find((m) => m.labels['event_name'] === 'api_request')?.points.length, 2);
    });

    it('plain-text 400s become http errors carrying the body', async () => {
      await assert.rejects(loki.instant('{service_name="claude-code"}', 1795354355000), (e: unknown) => {
        assert.ok(e instanceof TelemetryError);
        assert.equal(e.kind, 'http');
        assert.equal(e.status, 400);
        assert.match(e.bodyExcerpt ?? '', /log queries are not supported as an instant query type/);
        assert.match(
          e.message,
          /Loki at http:\/\/127\.0\.0\.1:\d+\/loki\/api\/v1\/query answered HTTP 400: log queries are not supported/,
        );
        return true;
      });
      await assert.rejects(
        loki.queryLogs('{service_name="claude-code"} [5', { startMs: 0, endMs: 1 }),
        (e: unknown) => {
          assert.ok(e instanceof TelemetryError);
          assert.equal(e.status, 400);
          assert.match(e.bodyExcerpt ?? '', /parse error at line 0, col 57/);
          return true;
        },
      );
    });

    it('a matrix where streams are expected is malformed, not a crash', async () => {
      await assert.rejects(
        loki.queryLogs('sum by (event_name) (count_over_time({service_name="claude-code"} [5m]))', {
          startMs: 0,
          endMs: 1,
        }),
        (e: unknown) =>
          e instanceof TelemetryError && e.kind === 'malformed' && /expected resultType "streams"/.test(e.message),
      );
    });
  },
);

describe(
  'Loki client against the Loki test double fed real Claude Code OTLP',
  { skip: haveFixtures ? false : 'shared fixtures missing' },
  () => {
    let double: LokiDouble;
    let loki: LokiClient;
    let maxTsMs = 0;

    before(async () => {
      double = await startLokiDouble({ port: 0, host: '127.0.0.1' });
      for (const f of ['tools-read-failure', 'bash-and-grep-failures', 'api-error-400']) {
        for (const line of readFileSync(join(CC_FIX, `${f}.otlp.jsonl`), 'utf8').split('\n')) {
          if (!line.trim()) continue;
          const rec = JSON.parse(line) as { path: string; body: string };
          if (rec.path !== '/v1/logs') continue;
          double.push(JSON.parse(rec.body));
        }
      }
      maxTsMs = Math.max(...double.entries.map((e) => Number(e.ts / 1_000_000n)));
      loki = new LokiClient({ baseUrl: `http://127.0.0.1:${double.port}` });
    });
    after(async () => {
      await loki?.close();
      await double?.close();
    });

    it('a refresh of a range lists the three tool failures and the API errors (Prometheus down: per-source error)', async () => {
      const deadProm = new PrometheusClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, timeoutMs: 2000 });
      try {
        const svc = new TelemetryReader({ prometheus: deadProm, loki });
        const snap = (await svc.refresh(maxTsMs + 60_000, { range: '24h' })).snapshot!;
        assert.equal(snap.metrics, null);
        assert.equal(snap.errors.prometheus?.kind, 'unreachable');
        assert.equal(snap.errors.loki, undefined);
        const ev = snap.events!;
        assert.deepEqual(ev.toolFailures.map((f) => f.tool).sort(), ['Bash', 'Grep', 'Read']);
        assert.ok(ev.toolFailures.every((f) => f.sessionId && f.errorType && f.time > 0));
        assert.deepEqual(ev.toolFailures.find((f) => f.tool === 'Bash')?.errorType, 'ShellError');
        for (let i = 1; i < ev.toolFailures.length; i++)
          assert.ok(ev.toolFailures[i - 1]!.time >= ev.toolFailures[i]!.time);
        assert.ok(ev.apiErrors.length >= 1);
        const e400 = ev.apiErrors.filter((e) => e.statusCode === '400');
        assert.ok(e400.length >= 1);
        assert.ok(e400.every((e) => e.model && e.sessionId));
      } finally {
        await deadProm.close();
      }
    });

    it('the event-derived cost (reconciliation query) is the sum of api_request cost_usd', async () => {
      const v = await loki.instant(eventMetric.costByModel(86400), maxTsMs + 60_000);
      const total = v.reduce((a, s) => a + (s.value ?? 0), 0);
      assert.ok(total > 0);
    });
  },
);
