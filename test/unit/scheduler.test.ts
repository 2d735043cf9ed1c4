// Refresh scheduler with a fake clock: no wall-time assertions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RefreshScheduler, type SchedulerOptions } from '../../src/telemetry/scheduler';
import { FakeClock, flush } from '../support/fakeClock';

/** A task whose runs the test resolves or rejects by hand. */
function manualTask(): {
  task: (s: AbortSignal) => Promise<void>;
  runs: Array<{ resolve(): void; reject(e: unknown): void; signal: AbortSignal; at: number }>;
  clock?: FakeClock;
} {
  const runs: Array<{ resolve(): void; reject(e: unknown): void; signal: AbortSignal; at: number }> = [];
  const out = {
    runs,
    clock: undefined as FakeClock | undefined,
    task: (signal: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        runs.push({ resolve, reject, signal, at: out.clock?.now() ?? 0 });
      }),
  };
  return out;
}

/** A scheduler of a manual task on a fake clock. */
function scheduled(options: Omit<SchedulerOptions, 'task' | 'clock'>): {
  clock: FakeClock;
  m: ReturnType<typeof manualTask>;
  s: RefreshScheduler;
} {
  const clock = new FakeClock();
  const m = manualTask();
  m.clock = clock;
  return { clock, m, s: new RefreshScheduler({ ...options, task: m.task, clock }) };
}

describe('RefreshScheduler', () => {
  it('refreshes at once on start, then every interval', async () => {
    const { clock, m, s } = scheduled({ intervalMs: 10_000 });
    s.start();
    await flush();
    assert.equal(m.runs.length, 1);
    m.runs[0]!.resolve();
    await flush();
    assert.equal(s.state.nextRunAt, 10_000);
    await clock.advance(9_999);
    assert.equal(m.runs.length, 1);
    await clock.advance(1);
    assert.equal(m.runs.length, 2);
    assert.equal(m.runs[1]!.at, 10_000);
    s.stop();
  });

  it('never runs two refreshes at once; refreshNow during one coalesces into one follow-up', async () => {
    const clock = new FakeClock();
    const m = manualTask();
    m.clock = clock;
    let concurrent = 0;
    let maxConcurrent = 0;
    const task = async (sig: AbortSignal): Promise<void> => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      try {
        await m.task(sig);
      } finally {
        concurrent--;
      }
    };
    const s = new RefreshScheduler({ task, intervalMs: 1_000, clock });
    s.start();
    await flush();
    const p1 = s.refreshNow();
    const p2 = s.refreshNow();
    await clock.advance(5_000); // the interval passes while the first is still in flight: no timer fires a second one
    assert.equal(m.runs.length, 1);
    m.runs[0]!.resolve();
    await flush();
    assert.equal(m.runs.length, 2, 'one coalesced follow-up');
    m.runs[1]!.resolve();
    await Promise.all([p1, p2]);
    assert.equal(maxConcurrent, 1);
    s.stop();
  });

  it('backs off exponentially while failing, capped, and resets on success', async () => {
    const { clock, m, s } = scheduled({ intervalMs: 5_000, maxBackoffMs: 60_000 });
    s.start();
    await flush();
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const at = clock.now();
      m.runs[m.runs.length - 1]!.reject(new Error('down'));
      await flush();
      delays.push(s.state.nextRunAt! - at);
      await clock.advance(s.state.nextRunAt! - at);
    }
    assert.deepEqual(delays, [10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
    assert.equal(s.state.consecutiveFailures, 6);
    m.runs[m.runs.length - 1]!.resolve();
    await flush();
    assert.equal(s.state.consecutiveFailures, 0);
    assert.equal(s.state.nextRunAt! - clock.now(), 5_000);
    s.stop();
  });

  it('slow pace while unfocused and hidden; immediate refresh on focus, even in backoff', async () => {
    const { clock, m, s } = scheduled({ intervalMs: 5_000, idleIntervalMs: 120_000 });
    s.start();
    await flush();
    m.runs[0]!.resolve();
    await flush();
    s.setFocused(false);
    assert.equal(s.state.nextRunAt, 5_000, 'still visible: normal pace');
    s.setViewVisible(false);
    assert.equal(s.state.nextRunAt, 120_000, 'unfocused and hidden: slow pace');
    await clock.advance(60_000);
    assert.equal(m.runs.length, 1);
    s.setFocused(true);
    await flush();
    assert.equal(m.runs.length, 2, 'focus refreshes at once');
    assert.equal(m.runs[1]!.at, 60_000);
    m.runs[1]!.reject(new Error('down'));
    await flush();
    assert.equal(s.state.nextRunAt, 60_000 + 10_000);
    s.setFocused(false);
    s.setFocused(true);
    await flush();
    assert.equal(m.runs.length, 3, 'focus refreshes at once during backoff too');
    s.stop();
  });

  it('a focus right after a successful refresh does not refresh again', async () => {
    const { clock, m, s } = scheduled({ intervalMs: 5_000, minFocusGapMs: 1_000 });
    s.start();
    await flush();
    m.runs[0]!.resolve();
    await flush();
    s.setFocused(false);
    await clock.advance(500);
    s.setFocused(true);
    await flush();
    assert.equal(m.runs.length, 1);
    s.stop();
  });

  it('stop aborts the refresh in flight and schedules nothing', async () => {
    const { clock, m, s } = scheduled({ intervalMs: 5_000 });
    s.start();
    await flush();
    s.stop();
    assert.equal(m.runs[0]!.signal.aborted, true);
    m.runs[0]!.reject(new Error('aborted'));
    await flush();
    assert.equal(s.state.consecutiveFailures, 0);
    assert.deepEqual(clock.pending(), []);
    await clock.advance(60_000);
    assert.equal(m.runs.length, 1);
  });

  it('started again while the stopped refresh is still ending (new backends mid-refresh): refreshes once it ends, then keeps its pace', async () => {
    const { clock, m, s } = scheduled({ intervalMs: 5_000 });
    s.start();
    await flush();
    s.stop();
    s.start();
    await flush();
    assert.equal(m.runs.length, 1, 'never two at once');
    m.runs[0]!.reject(new Error('aborted'));
    await flush();
    assert.equal(m.runs.length, 2, 'the refresh the start asked for');
    assert.equal(m.runs[1]!.signal.aborted, false);
    m.runs[1]!.resolve();
    await flush();
    assert.equal(s.state.consecutiveFailures, 0, 'the aborted one is not a failure');
    await clock.advance(5_000);
    assert.equal(m.runs.length, 3, 'and the interval after it');
    s.stop();
  });

  it('a task that throws synchronously counts as a failure', async () => {
    const clock = new FakeClock();
    const s = new RefreshScheduler({
      task: () => {
        throw new Error('sync');
      },
      intervalMs: 1_000,
      clock,
    });
    s.start();
    await flush();
    assert.equal(s.state.consecutiveFailures, 1);
    assert.equal(s.state.nextRunAt, 2_000);
    s.stop();
  });
});
