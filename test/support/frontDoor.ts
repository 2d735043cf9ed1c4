// What stands in front of the store's nodes in a team's deployment (a Kubernetes Service, Compose's `cortex` alias):
// one address that reaches whichever node answers. A request goes to the next node in turn; a node that refuses the
// connection (killed, restarting) is skipped, as a Service's endpoints follow the pods' readiness. `down()` takes the
// address away for a while (a tier down: connections refused), `up()` brings it back on the same port.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';

export interface FrontDoor {
  url: string;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startFrontDoor(upstreams: string[]): Promise<FrontDoor> {
  let next = 0;
  const sockets = new Set<Socket>();
  const forward = (
    to: URL,
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out = request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 502,
              headers: res.headers as Record<string, string | string[]>,
              body: Buffer.concat(chunks),
            }),
          );
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const first = next++ % upstreams.length;
      void (async () => {
        let lastError: unknown;
        for (let i = 0; i < upstreams.length; i++) {
          try {
            const answer = await forward(new URL(upstreams[(first + i) % upstreams.length]!), req, body);
            res.writeHead(answer.status, answer.headers).end(answer.body);
            return;
          } catch (error) {
            lastError = error; // this node is not there: the next one
          }
        }
        res.writeHead(503, { 'content-type': 'text/plain' }).end(`no node answers: ${String(lastError)}`);
      })();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  await listen(0);
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, down: close, up: () => listen(port), close };
}
