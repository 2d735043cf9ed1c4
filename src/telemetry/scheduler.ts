// Refresh scheduler: one refresh in flight, a steady interval, exponential backoff while failing, a slow pace while
// the window is unfocused and the view hidden, an immediate refresh on focus. Plain Node: never import `vscode`.

/** Injectable time source and timers (tests pass a fake one). */
export interface SchedulerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const h = setTimeout(fn, ms);
    // Never keep the extension host (or a test run) alive just for a refresh.
    (h as { unref?: () => void }).unref?.();
    return h;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface SchedulerOptions {
  /** One refresh. Rejecting counts as a failure (backoff); the signal aborts when the scheduler stops. */
  task: (signal: AbortSignal) => Promise<void>;
  /** Pace while the window is focused or the view visible. */
  intervalMs: number;
  /** Pace while the window is unfocused and the view hidden. Default max(4 × interval, 60 s). */
  idleIntervalMs?: number;
  /** Cap of the backoff delay. Default 5 min (never below the current pace). */
  maxBackoffMs?: number;
  /** A focus/visibility refresh is skipped when the last refresh finished less than this ago. Default 1 s. */
  minFocusGapMs?: number;
  clock?: SchedulerClock;
  /** Called after every state change (start, stop, refresh begin/end, reschedule). */
  onStateChange?: (state: SchedulerState) => void;
}

export interface SchedulerState {
  started: boolean;
  inFlight: boolean;
  focused: boolean;
  viewVisible: boolean;
  consecutiveFailures: number;
  /** Clock time of the next timed refresh, or null when none is scheduled. */
  nextRunAt: number | null;
  /** Clock time the last refresh finished (success or failure). */
  lastFinishedAt: number | null;
  lastSuccessAt: number | null;
  lastError: unknown;
}

export class RefreshScheduler {
  private readonly clock: SchedulerClock;
  private intervalMs: number;
  private idleIntervalMs: number | undefined;
  private readonly maxBackoffMs: number;
  private readonly minFocusGapMs: number;
  private timer: unknown = undefined;
  private inFlight: Promise<void> | null = null;
  private controller: AbortController | null = null;
  /** Waiters for a refresh that starts after the one in flight (coalesced into one). */
  private pending: Array<() => void> | null = null;
  private st: SchedulerState = {
    started: false,
    inFlight: false,
    focused: true,
    viewVisible: true,
    consecutiveFailures: 0,
    nextRunAt: null,
    lastFinishedAt: null,
    lastSuccessAt: null,
    lastError: undefined,
  };

  constructor(private readonly options: SchedulerOptions) {
    this.clock = options.clock ?? systemClock;
    this.intervalMs = Math.max(1, options.intervalMs);
    this.idleIntervalMs = options.idleIntervalMs;
    this.maxBackoffMs = options.maxBackoffMs ?? 300_000;
    this.minFocusGapMs = options.minFocusGapMs ?? 1_000;
  }

  get state(): Readonly<SchedulerState> {
    return { ...this.st };
  }

  /** Starts with an immediate refresh. Idempotent. */
  start(): void {
    if (this.st.started) return;
    this.st.started = true;
    void this.refreshNow();
  }

  /** Stops timers and aborts the refresh in flight. `start()` again resumes. */
  stop(): void {
    if (!this.st.started) return;
    this.st.started = false;
    this.clearTimer();
    this.controller?.abort(new Error('refresh scheduler stopped'));
    const waiters = this.pending;
    this.pending = null;
    waiters?.forEach((w) => w());
    this.emit();
  }

  dispose(): void {
    this.stop();
  }

  /**
   * Refreshes as soon as possible: now if idle, else right after the refresh in flight (several calls meanwhile
   * coalesce into one). Resolves when that refresh has finished; never rejects (failures go to `state`).
   */
  refreshNow(): Promise<void> {
    if (!this.st.started) return Promise.resolve();
    if (this.inFlight) {
      return new Promise<void>((resolve) => {
        (this.pending ??= []).push(resolve);
      });
    }
    this.clearTimer();
    return this.run();
  }

  /** Window focus. Gaining focus refreshes at once (unless a refresh just finished) and restores the normal pace. */
  setFocused(focused: boolean): void {
    const gained = focused && !this.st.focused;
    this.st.focused = focused;
    this.onPaceInput(gained);
  }

  /** Sidebar view visibility. Becoming visible refreshes at once, like focus. */
  setViewVisible(visible: boolean): void {
    const gained = visible && !this.st.viewVisible;
    this.st.viewVisible = visible;
    this.onPaceInput(gained);
  }

  /** New interval from settings; reschedules the pending timer. */
  setInterval(intervalMs: number, idleIntervalMs?: number): void {
    this.intervalMs = Math.max(1, intervalMs);
    if (idleIntervalMs !== undefined) this.idleIntervalMs = idleIntervalMs;
    if (this.st.started && !this.inFlight) this.schedule();
  }

  /** The current pace, without backoff. */
  paceMs(): number {
    const idle = !this.st.focused && !this.st.viewVisible;
    return idle ? (this.idleIntervalMs ?? Math.max(this.intervalMs * 4, 60_000)) : this.intervalMs;
  }

  /** Delay before the next timed refresh: the pace, doubled per consecutive failure, capped. */
  nextDelayMs(): number {
    const pace = this.paceMs();
    const n = this.st.consecutiveFailures;
    if (n === 0) return pace;
    const cap = Math.max(this.maxBackoffMs, pace);
    return Math.min(pace * 2 ** Math.min(n, 30), cap);
  }

  private onPaceInput(gained: boolean): void {
    if (!this.st.started) return;
    if (gained) {
      const last = this.st.lastFinishedAt;
      const recent = last !== null && this.clock.now() - last < this.minFocusGapMs && this.st.consecutiveFailures === 0;
      if (!recent) {
        void this.refreshNow();
        return;
      }
    }
    if (!this.inFlight) this.schedule();
    else this.emit();
  }

  private run(): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    this.st.inFlight = true;
    this.st.nextRunAt = null;
    this.emit();
    let taskPromise: Promise<void>;
    try {
      taskPromise = Promise.resolve(this.options.task(controller.signal));
    } catch (e) {
      taskPromise = Promise.reject(e);
    }
    const done = taskPromise.then(
      () => this.finish(controller, true, undefined),
      (e: unknown) => this.finish(controller, false, e),
    );
    this.inFlight = done;
    return done;
  }

  private finish(controller: AbortController, ok: boolean, error: unknown): void {
    this.inFlight = null;
    this.controller = null;
    this.st.inFlight = false;
    // Stopped meanwhile: not counted. Started again since (new backends while it ran): the refresh that start asked
    // for runs now, below.
    if (!controller.signal.aborted) {
      this.st.lastFinishedAt = this.clock.now();
      if (ok) {
        this.st.consecutiveFailures = 0;
        this.st.lastSuccessAt = this.st.lastFinishedAt;
        this.st.lastError = undefined;
      } else {
        this.st.consecutiveFailures += 1;
        this.st.lastError = error;
      }
    }
    if (!this.st.started) {
      this.emit();
      return;
    }
    const waiters = this.pending;
    if (waiters) {
      this.pending = null;
      void this.run().then(() => waiters.forEach((w) => w()));
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    this.clearTimer();
    if (!this.st.started) return;
    const delay = this.nextDelayMs();
    this.st.nextRunAt = this.clock.now() + delay;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.inFlight) void this.run();
    }, delay);
    this.emit();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.st.nextRunAt = null;
  }

  private emit(): void {
    try {
      this.options.onStateChange?.(this.state);
    } catch {
      // A listener's bug must not break the refresh loop.
    }
  }
}
