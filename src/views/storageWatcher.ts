import * as vscode from 'vscode';
import { CommandId } from '../commands';
import type { Log } from '../log';
import { loadDeferred } from '../lazy';
import type { StackAlert } from '../snapshot';
import type { PrometheusClient } from '../telemetry';

/** How often the local Prometheus' newest sample is read. */
const STORAGE_EVERY_MS = 15_000;

/**
 * Whether the local stack's Prometheus still stores data (see src/telemetry/storage.ts): read at its own pace on the
 * refreshes; a problem is shown in the status bar while it lasts, and once as a warning.
 */
export class StorageWatcher {
  private problem: { message: string; sinceMs: number } | undefined;
  private readAtMs = 0;

  constructor(
    /** Prometheus' last log lines, from the engine, where it says why a write failed. */
    private readonly prometheusLog: () => Promise<readonly string[]>,
    private readonly log: Log,
  ) {}

  /** The problem found at the last read: the message that names the cause and the next step. */
  get current(): string | undefined {
    return this.problem?.message;
  }

  /** The problem as the sidebar's Alerts section lists it. */
  get alert(): StackAlert | undefined {
    if (!this.problem) return undefined;
    const { message, sinceMs } = this.problem;
    return {
      name: 'PrometheusStoresNothing',
      state: 'firing',
      severity: 'critical',
      labels: {},
      summary: 'Prometheus stores no new data',
      description: message,
      activeAtMs: sinceMs,
    };
  }

  /** Called on each refresh of a local stack: reads when due. Never rejects (the refresh reports a Prometheus that
   * does not answer). */
  async poll(prometheus: PrometheusClient, nowMs: number, signal: AbortSignal): Promise<void> {
    if (nowMs - this.readAtMs < STORAGE_EVERY_MS) return;
    this.readAtMs = nowMs;
    let problem: string | undefined;
    try {
      const newest = await prometheus.newestSampleMs({ signal });
      const { storageProblem, storageStale } = loadDeferred().telemetry;
      if (storageStale(newest, nowMs)) problem = storageProblem(newest, await this.prometheusLog().catch(() => []));
    } catch {
      return;
    }
    if (problem && !this.problem) {
      this.log.warn(problem);
      void vscode.window.showWarningMessage(problem, 'Show Stack Logs…').then((choice) => {
        if (choice) void vscode.commands.executeCommand(CommandId.showStackLogs);
      });
    } else if (!problem && this.problem) {
      this.log.info('Prometheus stores new data again.');
    }
    this.problem = problem ? { message: problem, sinceMs: this.problem?.sinceMs ?? nowMs } : undefined;
  }

  /** Another stack or backend: what was found of the last one no longer holds. */
  reset(): void {
    this.problem = undefined;
    this.readAtMs = 0;
  }
}
