// Follows the engine's container events of one compose project, and comes back after the engine goes away:
// `connected` once it answers again, `disconnected` once per outage (retrying with a backoff up to 10 s).
import type Docker from 'dockerode';
import { LABELS } from './containerSpec';
import { mapEngineError } from './errors';
import { parseEngineEvent, type StackEvent } from './stackState';

export interface Disposable {
  dispose(): void;
}

/** `where`: where the engine was found, for the messages of a lost connection. */
export function watchEngineEvents(docker: Docker, project: string, where: string, listener: (e: StackEvent) => void): Disposable {
    let disposed = false;
    let controller: AbortController | undefined;
    let timer: NodeJS.Timeout | undefined;
    let delay = 500;
    let connectedOnce = false;
    let lastWasDisconnect = false;

    const connect = async (): Promise<void> => {
      if (disposed) return;
      controller = new AbortController();
      try {
        const stream = (await docker.getEvents({
          filters: { type: ['container'], label: [`${LABELS.project}=${project}`] },
          abortSignal: controller.signal,
        } as Docker.GetEventsOptions)) as NodeJS.ReadableStream;
        if (disposed) {
          controller.abort();
          return;
        }
        delay = 500;
        if (!connectedOnce || lastWasDisconnect) listener({ kind: 'connected' });
        connectedOnce = true;
        lastWasDisconnect = false;
        let buf = '';
        stream.on('data', (chunk: Buffer) => {
          buf += chunk.toString('utf8');
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            try {
              const ev = parseEngineEvent(JSON.parse(line));
              if (ev) listener(ev);
            } catch {
              // a malformed line is skipped
            }
          }
        });
        let ended = false;
        const onEnd = (err?: unknown): void => {
          if (ended) return;
          ended = true;
          if (disposed) return;
          lastWasDisconnect = true;
          listener({
            kind: 'disconnected',
            error: mapEngineError(err ?? Object.assign(new Error('the engine closed the connection'), { code: 'ECONNRESET' }), where, 'watch events'),
          });
          schedule();
        };
        stream.on('end', () => onEnd());
        stream.on('close', () => onEnd());
        stream.on('error', (err: unknown) => onEnd(err));
      } catch (err) {
        if (disposed) return;
        // Reported once per outage (the first failed attempt, or the first after a connection was lost).
        if (!lastWasDisconnect) {
          lastWasDisconnect = true;
          listener({ kind: 'disconnected', error: mapEngineError(err, where, 'watch events') });
        }
        schedule();
      }
    };
    const schedule = (): void => {
      if (disposed) return;
      timer = setTimeout(() => void connect(), delay);
      delay = Math.min(delay * 2, 10_000);
    };
    void connect();
    return {
      dispose: () => {
        disposed = true;
        if (timer) clearTimeout(timer);
        controller?.abort();
      },
    };
}
