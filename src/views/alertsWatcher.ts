import * as vscode from 'vscode';
import { otlpEndpoint, type Config } from '../config';
import type { Log } from '../log';
import { loadDeferred } from '../lazy';
import type { StackAlert } from '../snapshot';
import type { PrometheusClient } from '../telemetry';

/**
 * How often the alerts are read, and the thresholds sent again: the collector keeps them in memory only, so a
 * collector restarted where the extension does not see it (its restart policy, a team's collector) has the rules'
 * defaults until the next send. A restart the extension sees sends them at once (`stackStarted`).
 */
const ALERTS_EVERY_MS = 15_000;
const THRESHOLDS_EVERY_MS = 60_000;
/** The alerts already shown as notifications (by name, labels and start), across reloads: the newest few hundred. */
const NOTIFIED_KEY = 'claudeTelemetry.alertsNotified';
const NOTIFIED_KEPT = 200;

/**
 * The stack's alerts in the editor: sends the settings' thresholds to the collector for the alert rules, reads the
 * alerts from Prometheus at its own pace, and shows each firing alert once as a notification. No Alertmanager.
 */
export class AlertsWatcher {
  /** The alerts firing at the last read; undefined until one succeeded, or when Prometheus has no alerts API. */
  private firing: StackAlert[] | undefined;
  private readAtMs = 0;
  private sent: { key: string; atMs: number } | undefined;
  /** The last failure logged, per kind: logged when it changes, not on every refresh. */
  private readonly failuresLogged = new Map<'thresholds' | 'alerts', string>();

  constructor(
    private readonly memento: vscode.Memento,
    private readonly log: Log,
    /** The team collector's headers (a secret, read by the owner), in OTEL_EXPORTER_OTLP_HEADERS form. */
    private readonly collectorHeaders: () => string | undefined,
  ) {}

  /** The collector headers changed: the thresholds go again, with them, at the next refresh. */
  collectorHeadersChanged(): void {
    this.sent = undefined;
  }

  /** The stack came up (a start, a restart, a crash recovered): its new collector has no thresholds yet. */
  stackStarted(): void {
    this.sent = undefined;
  }

  get current(): StackAlert[] | undefined {
    return this.firing;
  }

  /** Called on each refresh: does what is due. Never rejects for a backend's failure (it is logged once). */
  async poll(prometheus: PrometheusClient, config: Config, nowMs: number, signal: AbortSignal): Promise<void> {
    await Promise.all([this.sendThresholds(config, nowMs, signal), this.readAlerts(prometheus, config, nowMs, signal)]);
  }

  private async sendThresholds(config: Config, nowMs: number, signal: AbortSignal): Promise<void> {
    const endpoint = otlpEndpoint(config);
    const key = JSON.stringify([endpoint, config.alerts.thresholds]);
    if (this.sent?.key === key && nowMs - this.sent.atMs < THRESHOLDS_EVERY_MS) return;
    try {
      // The team collector's headers, as the terminals send them; none to the local stack.
      const headers = config.terminal.endpoint ? this.collectorHeaders() : undefined;
      const { telemetry } = loadDeferred();
      await telemetry.publishThresholds(endpoint, config.alerts.thresholds, nowMs, {
        signal,
        headers: telemetry.otlpHeaders(headers),
      });
      this.sent = { key, atMs: nowMs };
      this.failuresLogged.delete('thresholds');
    } catch (error) {
      this.logOnce(
        'thresholds',
        `Could not send the alert thresholds to the collector: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private async readAlerts(
    prometheus: PrometheusClient,
    config: Config,
    nowMs: number,
    signal: AbortSignal,
  ): Promise<void> {
    if (nowMs - this.readAtMs < ALERTS_EVERY_MS) return;
    this.readAtMs = nowMs;
    try {
      this.firing = (await prometheus.alerts({ signal })).filter((alert) => alert.state === 'firing');
      this.failuresLogged.delete('alerts');
    } catch (error) {
      this.firing = undefined;
      this.logOnce(
        'alerts',
        `Could not read the stack's alerts: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    if (config.alerts.notify) this.notifyNew(this.firing);
  }

  private notifyNew(firing: readonly StackAlert[]): void {
    const notified = this.memento.get<string[]>(NOTIFIED_KEY) ?? [];
    const fresh = firing.filter((alert) => !notified.includes(alertKey(alert)));
    if (fresh.length === 0) return;
    void this.memento.update(NOTIFIED_KEY, [...notified, ...fresh.map(alertKey)].slice(-NOTIFIED_KEPT));
    const notification = loadDeferred().telemetry.alertNotification(fresh)!;
    const show = notification.critical ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    void show(notification.text, 'Open Dashboard', 'Open Grafana').then((choice) => {
      if (choice === 'Open Dashboard') void vscode.commands.executeCommand('claudeTelemetry.showDashboard');
      if (choice === 'Open Grafana') void vscode.commands.executeCommand('claudeTelemetry.openGrafana');
    });
  }

  private logOnce(kind: 'thresholds' | 'alerts', message: string): void {
    if (this.failuresLogged.get(kind) === message) return;
    this.failuresLogged.set(kind, message);
    this.log.warn(message);
  }
}

/** One firing of one alert: a rule that fires again later (a new activeAt) is a new notification. */
function alertKey(alert: StackAlert): string {
  const labels = Object.keys(alert.labels)
    .sort()
    .map((name) => `${name}=${alert.labels[name]}`)
    .join(',');
  return `${labels}@${alert.activeAtMs ?? ''}`;
}
