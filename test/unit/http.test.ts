// The HTTP core and the Prometheus client against small local servers: every error shape becomes one
// TelemetryError kind with a message naming the cause, the URL and the next step.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { JsonHttpClient, TelemetryError } from '../../src/telemetry/http';
import { PrometheusClient } from '../../src/telemetry/prometheus';
import { freePort } from '../support/ports';

type Handler = (path: string, res: ServerResponse, headers: IncomingHttpHeaders) => void;

async function serve(
  handler: Handler,
): Promise<{ url: string; connections: () => number; headers: IncomingHttpHeaders[]; close(): Promise<void> }> {
  let conns = 0;
  const headers: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    headers.push(req.headers);
    handler(new URL(req.url ?? '/', 'http://x').pathname, res, req.headers);
  });
  server.on('connection', () => {
    conns++;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => conns,
    headers,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const OK_VECTOR = JSON.stringify({
  status: 'success',
  data: { resultType: 'vector', result: [{ metric: { model: 'm' }, value: [1, '0.5'] }] },
});

async function expectKind(p: Promise<unknown>, kind: TelemetryError['kind'], re?: RegExp): Promise<TelemetryError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof TelemetryError, `expected a TelemetryError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, caught.message);
  if (re) assert.match(caught.message, re);
  return caught;
}

describe('HTTP core and Prometheus client error shapes', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    srv = await serve((path, res) => {
      switch (path) {
        case '/ok/api/v1/query':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(OK_VECTOR);
          return;
        case '/html/api/v1/query':
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<!doctype html><html><title>Grafana</title></html>');
          return;
        case '/badjson/api/v1/query':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"status":"success","data":');
          return;
        case '/text400/api/v1/query':
          res.writeHead(400, { 'content-type': 'text/plain' });
          res.end("parse error at line 0, col 57: missing closing ']' in duration\n");
          return;
        case '/text500/api/v1/query':
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('internal server error: out of memory');
          return;
        case '/json400/api/v1/query':
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(
            '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:5: parse error"}',
          );
          return;
        case '/auth/api/v1/query':
          res.writeHead(401, { 'content-type': 'text/plain' });
          res.end('Unauthorized');
          return;
        case '/notfound/api/v1/query':
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('404 page not found');
          return;
        case '/big/api/v1/query':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(`{"x":"${'a'.repeat(5000)}"}`);
          return;
        case '/bigchunked/api/v1/query': {
          res.writeHead(200, { 'content-type': 'application/json' });
          let n = 0;
          const push = (): void => {
            if (n++ < 50) {
              res.write('a'.repeat(1000));
              setImmediate(push);
            } else res.end();
          };
          push();
          return;
        }
        case '/slow/api/v1/query':
          setTimeout(() => {
            if (!res.destroyed) {
              res.writeHead(200);
              res.end(OK_VECTOR);
            }
          }, 2000);
          return;
        case '/slowbody/api/v1/query':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"status":');
          setTimeout(() => {
            if (!res.destroyed) res.end('"success"}');
          }, 2000);
          return;
        case '/matrix/api/v1/query':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"status":"success","data":{"resultType":"matrix","result":[]}}');
          return;
        case '/wrongshape/api/v1/query':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":"x"}]}}');
          return;
        case '/echo/api/v1/query':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(OK_VECTOR);
          return;
        default:
          res.writeHead(404);
          res.end();
      }
    });
  });
  after(async () => {
    await srv.close();
  });

  const prom = (
    prefix: string,
    extra: Partial<ConstructorParameters<typeof PrometheusClient>[0]> = {},
  ): PrometheusClient => new PrometheusClient({ baseUrl: `${srv.url}/${prefix}`, timeoutMs: 300, ...extra });

  it('parses a vector through a base URL with a path prefix', async () => {
    const c = prom('ok');
    assert.deepEqual(await c.instant('x', 1), [{ labels: { model: 'm' }, time: 1, value: 0.5 }]);
    await c.close();
  });

  it('a query longer than a proxy takes in a URL goes as a form-encoded POST; a short one as GET', async () => {
    const seen: Array<{ method: string; url: string; type: string | undefined; body: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', type: req.headers['content-type'], body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(OK_VECTOR);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = new PrometheusClient({ baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
    try {
      const long = `sum(${'x + '.repeat(2000)}x)`;
      await c.instant('up', 1);
      await c.instant(long, 2);
      assert.deepEqual(
        seen.map((r) => r.method),
        ['GET', 'POST'],
      );
      assert.match(seen[0]!.url, /^\/api\/v1\/query\?query=up&time=1$/);
      assert.equal(seen[1]!.url, '/api/v1/query');
      assert.equal(seen[1]!.type, 'application/x-www-form-urlencoded');
      const form = new URLSearchParams(seen[1]!.body);
      assert.equal(form.get('query'), long);
      assert.equal(form.get('time'), '2');
    } finally {
      await c.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('backend down → unreachable, naming the URL and the next step', async () => {
    const port = await freePort();
    const c = new PrometheusClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
    const e = await expectKind(
      c.instant('x', 1),
      'unreachable',
      /Prometheus at http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query is unreachable \(connection refused\)\. Start the telemetry stack/,
    );
    assert.equal(e.toInfo().url, `http://127.0.0.1:${port}/api/v1/query`);
    await c.close();
  });

  it('slow server → timeout (headers and body)', async () => {
    const c = prom('slow');
    await expectKind(c.instant('x', 1), 'timeout', /did not answer within 300 ms/);
    await c.close();
    const d = prom('slowbody');
    await expectKind(d.instant('x', 1), 'timeout');
    await d.close();
  });

  it('200 with HTML → malformed, pointing at the URL setting', async () => {
    const c = prom('html');
    await expectKind(c.instant('x', 1), 'malformed', /HTML page instead of JSON.*check the Prometheus URL setting/);
    await c.close();
  });

  it('200 with malformed JSON → malformed, not a crash', async () => {
    const c = prom('badjson');
    const e = await expectKind(c.instant('x', 1), 'malformed', /not valid JSON/);
    assert.match(e.bodyExcerpt ?? '', /"status":"success"/);
    await c.close();
  });

  it('400/500 with plain text → http error carrying status and body', async () => {
    const c = prom('text400');
    const e = await expectKind(c.instant('x', 1), 'http', /answered HTTP 400: parse error at line 0/);
    assert.equal(e.status, 400);
    assert.match(e.bodyExcerpt!, /missing closing/);
    await c.close();
    const d = prom('text500');
    const e5 = await expectKind(
      d.instant('x', 1),
      'http',
      /HTTP 500: internal server error: out of memory\. Next: Prometheus had an internal problem/,
    );
    assert.equal(e5.status, 500);
    await d.close();
    const j = prom('json400');
    await expectKind(j.instant('x', 1), 'http', /HTTP 400: invalid parameter "query": 1:5: parse error/);
    await j.close();
    const n = prom('notfound');
    await expectKind(n.instant('x', 1), 'http', /HTTP 404.*points at Prometheus \(including any path prefix\)/);
    await n.close();
  });

  it('401 → auth', async () => {
    const c = prom('auth');
    await expectKind(c.instant('x', 1), 'auth', /refused the credentials \(HTTP 401\)/);
    await c.close();
  });

  it('oversized body → malformed with the cap (declared length and chunked)', async () => {
    const c = prom('big', { maxResponseBytes: 1024 });
    await expectKind(c.instant('x', 1), 'malformed', /larger than 1 KiB/);
    await c.close();
    const d = prom('bigchunked', { maxResponseBytes: 10_000 });
    await expectKind(d.instant('x', 1), 'malformed', /larger than 9\.8 KiB/);
    await d.close();
  });

  it('unexpected shapes → malformed', async () => {
    const c = prom('matrix');
    await expectKind(c.instant('x', 1), 'malformed', /expected resultType "vector", got "matrix"/);
    await c.close();
    const d = prom('wrongshape');
    await expectKind(d.instant('x', 1), 'malformed', /result\[0\]/);
    await d.close();
  });

  it('auth headers and extra headers; keep-alive reuses one connection', async () => {
    const before = srv.connections();
    const bearer = prom('echo', {
      auth: { kind: 'bearer', token: 's3cret' },
      headers: { 'X-Scope-OrgID': 'tenant-1' },
    });
    for (let i = 0; i < 8; i++) await bearer.instant('x', i);
    // The pool may open a second socket while the first is being released; after that, sockets are reused.
    assert.ok(
      srv.connections() - before <= 2,
      `keep-alive: 8 sequential requests used ${srv.connections() - before} connections`,
    );
    const h = srv.headers[srv.headers.length - 1]!;
    assert.equal(h['authorization'], 'Bearer s3cret');
    assert.equal(h['x-scope-orgid'], 'tenant-1');
    await bearer.close();
    const basic = prom('echo', { auth: { kind: 'basic', username: 'u', password: 'p:w' } });
    await basic.instant('x', 1);
    assert.equal(
      srv.headers[srv.headers.length - 1]!['authorization'],
      `Basic ${Buffer.from('u:p:w').toString('base64')}`,
    );
    await basic.close();
  });

  it('credentials in the URL become basic auth and never appear in messages', async () => {
    const port = await freePort();
    const c = new JsonHttpClient({ name: 'Prometheus', baseUrl: `http://user:pw@127.0.0.1:${port}/`, timeoutMs: 1000 });
    const e = await expectKind(c.getJson('api/v1/query', {}), 'unreachable');
    assert.doesNotMatch(e.message, /pw/);
    await c.close();
  });

  it('an AbortSignal rejects with its reason, not a TelemetryError', async () => {
    const c = prom('slow', { timeoutMs: 5000 });
    const ac = new AbortController();
    const p = c.instant('x', 1, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user cancelled')), 20);
    await assert.rejects(
      p,
      (e: unknown) => !(e instanceof TelemetryError) && (e as Error).message === 'user cancelled',
    );
    await c.close();
  });

  it('an invalid base URL is reported, not thrown as TypeError', () => {
    assert.throws(
      () => new PrometheusClient({ baseUrl: 'not a url' }),
      (e: unknown) => e instanceof TelemetryError && /not a valid URL/.test(e.message),
    );
  });
});
