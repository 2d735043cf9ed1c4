// The editor's watch of the stack's state, on an engine stand-in that sends events and answers (or fails) reads:
// what the user's log shows when the engine goes away and comes back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EngineNotRunningError, PermissionDeniedError } from '../../src/stack/errors';
import { StackStateWatch, StateProblemLog, type StackPhase } from '../../src/stack/stateWatch';
import type { ServiceStatus, StackEvent } from '../../src/stack/stackState';
import { waitFor } from '../support/wait';

const WHERE = 'unix:///var/run/docker.sock';

function engineStandIn() {
  let listener: (e: StackEvent) => void = () => {};
  let answer: () => Promise<ServiceStatus[]> = async () => [];
  let reads = 0;
  return {
    engine: {
      status: () => {
        reads++;
        return answer();
      },
      events: (l: (e: StackEvent) => void) => {
        listener = l;
        return { dispose: () => {} };
      },
    },
    send: (e: StackEvent) => listener(e),
    answer: (a: () => Promise<ServiceStatus[]>) => (answer = a),
    get reads() {
      return reads;
    },
  };
}

describe('stack state watch', () => {
  it('logs the engine going away once, however many reads fail, and its return once', async () => {
    const stand = engineStandIn();
    const lines: string[] = [];
    const phases: StackPhase[] = [];
    const log = { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`) };
    const watch = new StackStateWatch(stand.engine, (p) => phases.push(p), new StateProblemLog(log), 50);
    try {
      // Killing the engine: each of the four containers is killed, dies and stops (12 events), every read they start
      // fails (the socket refuses, then is gone), and the event stream ends.
      let refused = 0;
      stand.answer(async () => {
        const code = refused++ < 6 ? 'ECONNREFUSED' : 'ENOENT';
        throw new EngineNotRunningError(
          WHERE,
          Object.assign(new Error(`connect ${code} /var/run/docker.sock`), { code }),
        );
      });
      for (const service of ['otel-collector', 'prometheus', 'loki', 'grafana']) {
        for (const action of ['kill', 'die', 'stop'])
          stand.send({ kind: 'container', service, containerId: service, action, time: 0 });
      }
      stand.send({
        kind: 'disconnected',
        error: new EngineNotRunningError(
          WHERE,
          Object.assign(new Error('the engine closed the connection'), { code: 'ECONNRESET' }),
        ),
      });
      await waitFor('the settle read', async () => (stand.reads >= 13 ? true : undefined));
      await new Promise((r) => setTimeout(r, 100));
      // One line, with the first cause the watch met (the stream's end: the reads answer later).
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(
        lines[0] ?? '',
        /^warn Stack state unknown: The container engine at unix:\/\/\/var\/run\/docker\.sock is not running \(ECONNRESET: the engine closed the connection\)\. Start Docker/,
      );
      // Unknown, and why: the stream's end, then the settle read's (the reads begun before the end are not published).
      assert.deepEqual(
        phases.map((p) => (p.state === 'unknown' ? p.problem?.code : p.state)),
        ['engine-not-running', 'engine-not-running'],
      );
      assert.match(phases[1]?.state === 'unknown' ? (phases[1].problem?.message ?? '') : '', /ENOENT/);

      // The engine is back: the stream reconnects, the read works.
      stand.answer(async () => [{ service: 'prometheus', state: 'healthy' }]);
      stand.send({ kind: 'connected' });
      await waitFor('the state read and the settle read', async () => (phases.length === 4 ? true : undefined));
      assert.deepEqual(
        phases.slice(2),
        [1, 2].map(() => ({ state: 'healthy', services: [], message: 'Telemetry stack healthy' })),
      );
      assert.deepEqual(lines.slice(1), ['info Stack state: the container engine answers again.']);
    } finally {
      watch.dispose();
    }
  });

  it('a read the engine refuses replaces the state read before ("starting") with unknown, and says why', async () => {
    const stand = engineStandIn();
    const phases: StackPhase[] = [];
    const watch = new StackStateWatch(
      stand.engine,
      (p) => phases.push(p),
      new StateProblemLog({ info: () => {}, warn: () => {} }),
      10_000,
    );
    try {
      stand.answer(async () => {
        throw new PermissionDeniedError(
          WHERE,
          Object.assign(new Error('connect EACCES /var/run/docker.sock'), { code: 'EACCES' }),
        );
      });
      await assert.rejects(watch.read(), PermissionDeniedError);
      assert.equal(phases.length, 1);
      const [phase] = phases;
      assert.equal(phase?.state, 'unknown');
      assert.equal(phase?.state === 'unknown' && phase.problem?.code, 'permission-denied');
      assert.match(
        phase?.state === 'unknown' ? (phase.problem?.message ?? '') : '',
        /Permission denied on the Docker socket unix:\/\/\/var\/run\/docker\.sock.*docker. group/s,
      );
      // A read that fails on an engine that answers (a call it refused) leaves the state as it was.
      stand.answer(async () => {
        throw new Error('HTTP 500: the engine failed to list containers');
      });
      await assert.rejects(watch.read());
      assert.equal(phases.length, 1);
    } finally {
      watch.dispose();
    }
  });

  it('publishes the latest read only, when an earlier one answers after it', async () => {
    const stand = engineStandIn();
    const phases: StackPhase[] = [];
    const watch = new StackStateWatch(
      stand.engine,
      (p) => phases.push(p),
      new StateProblemLog({ info: () => {}, warn: () => {} }),
      10_000,
    );
    try {
      let release: (s: ServiceStatus[]) => void = () => {};
      stand.answer(() => new Promise((resolve) => (release = resolve)));
      const first = watch.read();
      const releaseFirst = release;
      stand.answer(async () => [{ service: 'loki', state: 'missing' }]);
      await watch.read();
      releaseFirst([{ service: 'loki', state: 'healthy' }]);
      await first;
      assert.deepEqual(
        phases.map((p) => p.state),
        ['stopped'],
      );
    } finally {
      watch.dispose();
    }
  });
});
