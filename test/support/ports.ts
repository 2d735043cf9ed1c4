// Free TCP ports for the tests' servers and stacks.
import { createServer } from 'node:net';

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
