// Follows the stack's state for the editor: reads it at each engine event and once more after a burst has settled,
// publishes only the latest read, and logs a change of state once: killing the engine sends a dozen container
// events, and each read they start fails the same way.
import type { StackEngine } from './engine';
import type { Disposable } from './engineEvents';
import { StackError, type StackErrorCode } from './errors';
import { summarize, type StackSummary } from './stackState';

/** Why no engine answers: its error's code and the message that names the cause and the next step. */
export interface EngineProblem {
  code: StackErrorCode | undefined;
  message: string;
}

/** What the editor knows of the local stack: the engine's summary, or unknown while no engine answers (and why,
 * when a call said so: a socket that denies the user is not an engine that is down). */
export type StackPhase = StackSummary | { state: 'unknown'; problem?: EngineProblem };

/** The problem an engine's error names. */
export function engineProblem(error: unknown): EngineProblem {
  return { code: error instanceof StackError ? error.code : undefined, message: error instanceof Error ? error.message : String(error) };
}

/** Whether `error` says the engine cannot be reached (rather than a call that failed on an engine that answers). */
export function engineUnreachable(error: unknown): boolean {
  return error instanceof StackError && UNREACHABLE.has(error.code);
}

export interface StateLog {
  info(message: string): void;
  warn(message: string): void;
}

/** The engine's errors that say it cannot be reached: one state, whatever the cause of each failed call (the event
 * stream ends with ECONNRESET, the reads after it fail with ECONNREFUSED, then ENOENT as the socket goes). */
const UNREACHABLE: ReadonlySet<StackErrorCode> = new Set(['no-engine', 'engine-not-running', 'permission-denied']);

/** Why the state cannot be read, said once until it changes; the first read that works again says so. */
export class StateProblemLog {
  private current: string | undefined;

  constructor(private readonly log: StateLog) {}

  failed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const problem = engineUnreachable(error) ? (error as StackError).code : message;
    if (problem === this.current) return;
    this.current = problem;
    this.log.warn(`Stack state unknown: ${message}`);
  }

  answered(): void {
    if (this.current === undefined) return;
    this.current = undefined;
    this.log.info('Stack state: the container engine answers again.');
  }
}

/** How long after the last engine event of a burst the state is read once more: the engine sends `die` before its
 * container list says so (measured: a read at the event still lists the container running). */
const SETTLE_READ_MS = 1000;

export class StackStateWatch implements Disposable {
  /** The number of reads begun, and of the latest one published. */
  private reads = 0;
  private published = 0;
  private settleRead: NodeJS.Timeout | undefined;
  private readonly subscription: Disposable;

  constructor(
    private readonly engine: Pick<StackEngine, 'status' | 'events'>,
    private readonly publish: (phase: StackPhase) => void,
    private readonly problems: StateProblemLog,
    settleMs = SETTLE_READ_MS,
  ) {
    this.subscription = engine.events((event) => {
      if (event.kind === 'disconnected') {
        problems.failed(event.error);
        this.publishLatest(++this.reads, { state: 'unknown', problem: engineProblem(event.error) });
        return;
      }
      this.readQuietly();
      clearTimeout(this.settleRead);
      this.settleRead = setTimeout(() => this.readQuietly(), settleMs);
    });
  }

  /** Reads the state and publishes it, unless a read begun later has answered first (events come in bursts, and an
   * answer to the first may arrive after the answer to the last). An engine that cannot be reached is published as
   * the unknown state with its problem (the state read before, such as "starting", no longer holds). Throws what
   * the engine said. */
  async read(): Promise<void> {
    const read = ++this.reads;
    let summary: StackSummary;
    try {
      summary = summarize(await this.engine.status());
    } catch (error) {
      this.problems.failed(error);
      if (engineUnreachable(error)) this.publishLatest(read, { state: 'unknown', problem: engineProblem(error) });
      throw error;
    }
    this.problems.answered();
    this.publishLatest(read, summary);
  }

  dispose(): void {
    clearTimeout(this.settleRead);
    this.subscription.dispose();
  }

  private publishLatest(read: number, phase: StackPhase): void {
    if (read < this.published) return;
    this.published = read;
    this.publish(phase);
  }

  /** A read of an event's: its failure is logged (once) and the phase stays as it was. */
  private readQuietly(): void {
    this.read().catch(() => undefined);
  }
}
