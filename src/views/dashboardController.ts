import * as vscode from 'vscode';
import { backendUrls, type Config } from '../config';
import type { Log } from '../log';
import { SecretKey } from '../secrets';
import type { TimeRange, ViewState } from '../protocol';
import { loadServices } from '../lazy';
import type { AuthConfig, LokiClient, PrometheusClient, TelemetryService } from '../telemetry';
import { RefreshScheduler } from '../telemetry/scheduler';
import type { DashboardViewProvider } from './dashboardView';
import type { StatusBar } from './statusBar';

/** What the stack controller knows of the local stack; the dashboard only reads it. */
export type StackPhase =
  | { kind: 'unknown' }
  | { kind: 'stopped' }
  | { kind: 'starting'; waitingFor: string | undefined }
  | { kind: 'running' }
  | { kind: 'degraded'; service: string; detail: string };

const BUDGET_NOTIFIED_KEY = 'claudeTelemetry.budgetNotifiedOn';

function localMidnight(now: number): number {
  const day = new Date(now);
  day.setHours(0, 0, 0, 0);
  return day.getTime();
}

/**
 * Keeps the status bar and the dashboard current: one scheduler refreshes today's summary always and the
 * dashboard's range while it is visible, at the settings' pace, backing off while a backend is down.
 */
export class DashboardController implements vscode.Disposable {
  private service: TelemetryService | undefined;
  private clients: { prometheus: PrometheusClient; loki: LokiClient } | undefined;
  private stack: StackPhase = { kind: 'unknown' };
  private readonly scheduler: RefreshScheduler;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private config: Config,
    private readonly statusBar: StatusBar,
    private readonly dashboard: DashboardViewProvider,
    private readonly secrets: vscode.SecretStorage,
    private readonly memento: vscode.Memento,
    private readonly log: Log,
  ) {
    this.scheduler = new RefreshScheduler({
      task: (signal) => this.refresh(signal),
      intervalMs: config.refreshIntervalSeconds * 1000,
    });
    this.scheduler.setFocused(vscode.window.state.focused);
    this.scheduler.setViewVisible(dashboard.visible);
    this.disposables.push(
      vscode.window.onDidChangeWindowState((state) => this.scheduler.setFocused(state.focused)),
      secrets.onDidChange((event) => {
        if (event.key === SecretKey.backendCredentials) {
          void this.reconnect();
        }
      }),
    );
  }

  /** Connects and refreshes after activation has returned: the clients load with the services bundle. */
  start(): void {
    setTimeout(() => void this.reconnect(), 0);
  }

  /** Settings changed: new addresses, credentials or pace. */
  configure(config: Config): void {
    this.config = config;
    this.scheduler.setInterval(config.refreshIntervalSeconds * 1000);
    void this.reconnect();
  }

  setStackPhase(phase: StackPhase): void {
    const changed = phase.kind !== this.stack.kind;
    this.stack = phase;
    if (changed) {
      void this.scheduler.refreshNow();
    }
  }

  setViewVisible(visible: boolean): void {
    this.scheduler.setViewVisible(visible);
  }

  refreshNow(): Promise<void> {
    return this.scheduler.refreshNow();
  }

  dispose(): void {
    this.scheduler.dispose();
    this.closeClients();
    vscode.Disposable.from(...this.disposables).dispose();
  }

  private async reconnect(): Promise<void> {
    this.closeClients();
    const urls = backendUrls(this.config);
    const headers = this.config.backend.tenantId ? { 'X-Scope-OrgID': this.config.backend.tenantId } : undefined;
    const auth = await this.auth(urls.local);
    const endpoint = { auth, ...(headers ? { headers } : {}) };
    const { telemetry } = loadServices();
    this.clients = {
      prometheus: new telemetry.PrometheusClient({ baseUrl: urls.prometheus, ...endpoint }),
      loki: new telemetry.LokiClient({ baseUrl: urls.loki, ...endpoint }),
    };
    this.service = new telemetry.TelemetryService(this.clients);
    this.log.info(`Reading telemetry from Prometheus at ${urls.prometheus} and Loki at ${urls.loki}.`);
    this.scheduler.start();
    await this.scheduler.refreshNow();
  }

  private async auth(local: boolean): Promise<AuthConfig> {
    const { auth, username } = this.config.backend;
    if (local || auth === 'none') {
      return { kind: 'none' };
    }
    const secret = (await this.secrets.get(SecretKey.backendCredentials)) ?? '';
    if (!secret) {
      this.log.warn('claudeTelemetry.backend.auth is set but no credentials are stored: run "Set Backend Credentials…".');
    }
    return auth === 'bearer' ? { kind: 'bearer', token: secret } : { kind: 'basic', username, password: secret };
  }

  private closeClients(): void {
    void this.clients?.prometheus.close();
    void this.clients?.loki.close();
    this.clients = undefined;
  }

  private async refresh(signal: AbortSignal): Promise<void> {
    const service = this.service;
    if (!service) {
      return;
    }
    const local = backendUrls(this.config).local;
    if (local && (this.stack.kind === 'stopped' || this.stack.kind === 'starting')) {
      const waitingFor = this.stack.kind === 'starting' ? this.stack.waitingFor : undefined;
      this.statusBar.show(this.stack.kind === 'stopped' ? { kind: 'stopped' } : { kind: 'starting', waitingFor });
      this.dashboard.show(this.stack.kind === 'stopped' ? { kind: 'stopped' } : { kind: 'starting', waitingFor });
      return;
    }

    const now = Date.now();
    try {
      const today = await service.fetchToday(now, localMidnight(now), { signal });
      if (local && this.stack.kind === 'degraded') {
        this.statusBar.show({ kind: 'degraded', service: this.stack.service, detail: this.stack.detail });
      } else if (today.hasData) {
        this.statusBar.show({ kind: 'cost', today, dailyBudgetUsd: this.config.dailyBudgetUsd });
        this.notifyBudget(today.costUsd, now);
      } else {
        this.statusBar.show({ kind: 'noData' });
      }
    } catch (error) {
      if (signal.aborted) {
        throw error;
      }
      const message = error instanceof Error ? error.message : String(error);
      this.statusBar.show({ kind: 'unreachable', message });
      this.dashboard.show({ kind: 'error', message });
      this.log.warn(`Refresh failed: ${message}`);
      throw error;
    }

    if (this.dashboard.visible) {
      this.dashboard.show(await this.dashboardState(service, this.dashboard.range, now, signal));
    }
  }

  private async dashboardState(service: TelemetryService, range: TimeRange, now: number, signal: AbortSignal): Promise<ViewState> {
    const snapshot = await service.fetchSnapshot(range, now, { signal });
    if (!snapshot.metrics && !snapshot.events) {
      return { kind: 'error', message: snapshot.errors.prometheus?.message ?? snapshot.errors.loki?.message ?? 'No backend answered.' };
    }
    if (!snapshot.hasData && !snapshot.errors.prometheus && !snapshot.errors.loki && (snapshot.events?.toolFailures.length ?? 0) === 0) {
      return { kind: 'noData', range };
    }
    return { kind: 'data', snapshot };
  }

  /** One notification a day when today's cost crosses the budget. */
  private notifyBudget(costUsd: number, now: number): void {
    const budget = this.config.dailyBudgetUsd;
    const day = new Date(now).toDateString();
    if (budget <= 0 || costUsd < budget || this.memento.get(BUDGET_NOTIFIED_KEY) === day) {
      return;
    }
    void this.memento.update(BUDGET_NOTIFIED_KEY, day);
    void vscode.window.showWarningMessage(
      `Claude Code has cost $${costUsd.toFixed(2)} today, past your daily budget of $${budget.toFixed(2)}.`,
      'Open Dashboard',
    ).then((choice) => {
      if (choice) {
        void vscode.commands.executeCommand('claudeTelemetry.showDashboard');
      }
    });
  }
}
