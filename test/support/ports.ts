// TCP ports of the tests: free ones for their servers and stacks, and ports held as another program would.
import { createServer, type Server, type Socket } from 'node:net';

/** Ports this process has handed out: the system may offer a port just closed again, and a stack given the same port
 * for two services fails to start. */
const handedOut = new Set<number>();

/** A TCP port free on 127.0.0.1 right now, and not handed out before in this process. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const found = typeof address === 'object' && address ? address.port : 0;
        server.close(() => (found ? resolve(found) : reject(new Error('no port'))));
      });
    });
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** Listens on 127.0.0.1:`port` (0: any free port) and returns the port. */
export function listenOnLoopback(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

/** Another program's server on 127.0.0.1:`port` (as a Loki of the user's own would hold it) until close(): it answers
 * each connection with a line that is not the stack's and closes it. */
export async function holdPort(port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.end('not the telemetry stack\n');
  });
  await listenOnLoopback(server, port);
  return {
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
