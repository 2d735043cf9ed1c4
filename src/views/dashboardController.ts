import * as vscode from 'vscode';
import { backends, type BackendAddress, type Config } from '../config';
import type { Log } from '../log';
import { SecretKey } from '../secrets';
import type { ViewState } from '../protocol';
import type { SessionDetail, TimeRange, TodaySummary } from '../snapshot';
import { usd } from '../format';
import { loadDeferred } from '../lazy';
import type { AuthConfig, LokiClient, PrometheusClient, RefreshBasis, TelemetryReader } from '../telemetry';
import { RefreshScheduler } from '../telemetry/scheduler';
import type { StackPhase } from '../stackController';
import type { DashboardViewProvider } from './dashboardView';
import type { StatusBar } from './statusBar';
import type { StatusBarState } from './statusBarModel';
import { PLAN_WINDOWS } from './statusBarModel';
import { AlertsWatcher } from './alertsWatcher';
import { StorageWatcher } from './storageWatcher';

const BUDGET_NOTIFIED_KEY = 'claudeTelemetry.budgetNotifiedOn';
/** Per plan window: the window, threshold and reset last notified. */
const PLAN_NOTIFIED_KEY = 'claudeTelemetry.planNotified';

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
  private service: TelemetryReader | undefined;
  private clients: { prometheus: PrometheusClient; loki: LokiClient } | undefined;
  private stack: StackPhase = { state: 'unknown' };
  /** The connect under way: a newer reconnect aborts it, so only the last one installs its clients. */
  private connecting: AbortController | undefined;
  private readonly scheduler: RefreshScheduler;
  private readonly alerts: AlertsWatcher;
  private readonly storage: StorageWatcher;
  /** The cause of the last failed refresh, logged once; cleared by a refresh that succeeds. */
  private lastFailure: string | undefined;

  constructor(
    private config: Config,
    private readonly statusBar: StatusBar,
    private readonly dashboard: DashboardViewProvider,
    private readonly secrets: vscode.SecretStorage,
    private readonly memento: vscode.Memento,
    private readonly log: Log,
    /** The local stack's Prometheus log lines (from the engine). */
    prometheusLog: () => Promise<readonly string[]>,
  ) {
    this.scheduler = new RefreshScheduler({
      task: (signal) => this.refresh(signal),
      intervalMs: config.refreshIntervalSeconds * 1000,
    });
    this.scheduler.setFocused(vscode.window.state.focused);
    this.scheduler.setViewVisible(dashboard.visible);
    this.alerts = new AlertsWatcher(memento, log, () => secrets.get(SecretKey.collectorHeaders));
    this.storage = new StorageWatcher(prometheusLog, log);
  }

  /** The window gained or lost focus: the refresh pace follows. */
  setFocused(focused: boolean): void {
    this.scheduler.setFocused(focused);
  }

  /** The stored backend credentials changed: connect with them. */
  credentialsChanged(): void {
    this.reconnect();
  }

  /** The stored collector headers changed: the alert thresholds go to the team collector again, with them. */
  collectorHeadersChanged(): void {
    this.alerts.collectorHeadersChanged();
  }

  /** Connects and refreshes after activation has returned: the clients load with the deferred bundle. */
  start(): void {
    setTimeout(() => this.reconnect(), 0);
  }

  /** Settings changed: a new pace, and new clients only when where or how data is read changed. */
  configure(config: Config): void {
    const connection = (c: Config) => JSON.stringify([backends(c), c.backend.auth, c.backend.username, c.backend.tenantId]);
    const reconnect = connection(config) !== connection(this.config);
    this.config = config;
    this.scheduler.setInterval(config.refreshIntervalSeconds * 1000);
    if (reconnect) {
      this.reconnect();
    }
  }

  setStackPhase(phase: StackPhase): void {
    // An engine that goes from down to denying the socket is news too.
    const problemOf = (p: StackPhase): string | undefined => (p.state === 'unknown' ? p.problem?.code : undefined);
    const changed = phase.state !== this.stack.state || problemOf(phase) !== problemOf(this.stack);
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

  /** One session in full, from the backends the status bar reads. */
  fetchSession(sessionId: string, range: TimeRange): Promise<SessionDetail> {
    if (!this.service) {
      return Promise.reject(new Error('Not connected to the telemetry backends yet: try again in a moment, or run "Claude Telemetry: Show Extension Logs".'));
    }
    return this.service.fetchSession(sessionId, range, Date.now());
  }

  dispose(): void {
    this.connecting?.abort();
    this.scheduler.dispose();
    this.closeClients();
  }

  /** New clients for the current settings; the old ones close once no refresh uses them. */
  private reconnect(): void {
    this.connecting?.abort();
    const connecting = new AbortController();
    this.connecting = connecting;
    void this.connect(connecting.signal).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error('Could not connect to the telemetry backends:', error);
      this.statusBar.show({ kind: 'unreachable', backend: 'Telemetry', message });
    });
  }

  private async connect(signal: AbortSignal): Promise<void> {
    const { prometheus, loki } = backends(this.config);
    const [prometheusAuth, lokiAuth] = await Promise.all([this.auth(prometheus), this.auth(loki)]);
    if (signal.aborted) {
      return;
    }
    const headers = this.config.backend.tenantId ? { headers: { 'X-Scope-OrgID': this.config.backend.tenantId } } : {};
    const { telemetry } = loadDeferred();
    // Stopping aborts a refresh still using the old clients before they close.
    this.scheduler.stop();
    this.closeClients();
    this.storage.reset();
    this.clients = {
      prometheus: new telemetry.PrometheusClient({ baseUrl: prometheus.url, auth: prometheusAuth, ...headers }),
      loki: new telemetry.LokiClient({ baseUrl: loki.url, auth: lokiAuth, ...headers }),
    };
    this.service = new telemetry.TelemetryReader(this.clients);
    this.log.info(`Reading telemetry from Prometheus at ${prometheus.url} and Loki at ${loki.url}.`);
    this.scheduler.start();
  }

  /** Credentials go to the team's backends only, never to the local stack. */
  private async auth(backend: BackendAddress): Promise<AuthConfig> {
    const { auth, username } = this.config.backend;
    if (backend.local || auth === 'none') {
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
    const local = backends(this.config).prometheus.local;
    if (local && (this.stack.state === 'stopped' || this.stack.state === 'starting')) {
      const waitingFor = this.stack.state === 'starting' ? this.stack.services[0] : undefined;
      this.statusBar.show(this.stack.state === 'stopped' ? { kind: 'stopped' } : { kind: 'starting', waitingFor });
      this.dashboard.show(this.stack.state === 'stopped' ? { kind: 'stopped' } : { kind: 'starting', waitingFor });
      return;
    }

    const now = Date.now();
    const dayStartMs = localMidnight(now);
    // At their own pace; what they found shows from this refresh or the next.
    if (this.clients) void this.alerts.poll(this.clients.prometheus, this.config, now, signal);
    if (this.clients && local) void this.storage.poll(this.clients.prometheus, now, signal);
    const range = this.dashboard.visible ? this.dashboard.range : undefined;
    const groupBy = this.dashboard.groupBy;
    // Read once for the status bar and the sidebar of this refresh; this window's workspace is the "project".
    const project = vscode.workspace.name;
    const price = this.config.planMonthlyPriceUsd;
    const month = range !== undefined && price > 0 ? { month: { startMs: new Date(new Date(dayStartMs).setDate(1)).getTime(), priceUsd: price } } : {};
    const basis = service.refreshBasis(now, { dayStartMs, range, groupBy, ...month, ...(project === undefined ? {} : { project }) }, { signal });
    // The sidebar's snapshot runs alongside today's figures; dropped if those fail (the backend is then unreachable).
    const sidebarAbort = new AbortController();
    const sidebar = range === undefined ? undefined : this.dashboardState(service, range, now, AbortSignal.any([signal, sidebarAbort.signal]), basis);
    sidebar?.catch(() => undefined); // awaited below; not unhandled if today's figures fail first
    try {
      const today = await service.fetchToday(now, dayStartMs, { signal, basis });
      const storageProblem = local ? this.storage.current : undefined;
      if (local && this.stack.state === 'degraded') {
        this.statusBar.show({ kind: 'degraded', service: this.stack.services.join(', '), detail: this.stack.message });
      } else if (storageProblem) {
        this.statusBar.show({ kind: 'degraded', service: 'prometheus', detail: storageProblem });
      } else if (today.hasData || (await service.hasEverReceivedData({ signal }))) {
        // An idle day after earlier sessions shows $0.00; the hint to run claude is for a stack that never saw one.
        this.statusBar.show({
          kind: 'cost', today, dailyBudgetUsd: this.config.dailyBudgetUsd, planWarningPercent: this.config.planWarningPercent, alerts: this.alerts.current ?? [],
        });
        this.notifyBudget(today.costUsd, now);
        this.notifyPlan(today);
      } else {
        this.statusBar.show({ kind: 'noData' });
      }
    } catch (error) {
      sidebarAbort.abort();
      if (signal.aborted) {
        throw error;
      }
      const failure = this.failureState(error, local);
      this.statusBar.show(failure.status);
      this.dashboard.show({ kind: 'error', message: failure.message });
      // Said once per cause: a refresh backs off, but logs each failure of the same cause only once.
      if (failure.message !== this.lastFailure) this.log.warn(`Refresh failed: ${failure.message}`);
      this.lastFailure = failure.message;
      throw error;
    }
    this.lastFailure = undefined;

    if (sidebar) {
      const state = await sidebar;
      // The user may have picked another range meanwhile: its own refresh is queued.
      if (range === this.dashboard.range) {
        this.dashboard.show(state);
      }
    }
  }

  private async dashboardState(service: TelemetryReader, range: TimeRange, now: number, signal: AbortSignal, basis: RefreshBasis): Promise<ViewState> {
    const snapshot = await service.fetchSnapshot(range, now, { signal, basis });
    if (!snapshot.metrics && !snapshot.events) {
      return { kind: 'error', message: snapshot.errors.prometheus?.message ?? snapshot.errors.loki?.message ?? 'No backend answered.' };
    }
    // A local Prometheus that stores nothing new is shown with the stack's alerts, where the sidebar lists what is
    // wrong; with nothing stored at all, it is why the sidebar is empty.
    const storage = backends(this.config).prometheus.local ? this.storage.alert : undefined;
    if (!snapshot.hasData && !snapshot.errors.prometheus && !snapshot.errors.loki && (snapshot.events?.toolFailures.length ?? 0) === 0) {
      return storage ? { kind: 'error', message: storage.description } : { kind: 'noData', range };
    }
    const alerts = storage ? [storage, ...(this.alerts.current ?? [])] : this.alerts.current;
    return { kind: 'data', snapshot: alerts ? { ...snapshot, alerts } : snapshot };
  }

  /**
   * What a failed refresh tells the user: the local stack's engine gone or a service of it down (the stack's own
   * state knows), else the backend that did not answer, or answered wrongly.
   */
  private failureState(error: unknown, local: boolean): { status: StatusBarState; message: string } {
    const message = error instanceof Error ? error.message : String(error);
    // Unknown with no problem: the engine has not been asked yet (the window is opening), which says nothing of it.
    if (local && this.stack.state === 'unknown' && this.stack.problem) {
      const problem = this.stack.problem;
      const denied = problem.code === 'permission-denied';
      return {
        status: { kind: 'engineDown', denied, detail: problem.message },
        message: denied
          ? `The container engine refuses this user, so the telemetry stack cannot be read or run. ${problem.message}`
          : 'The container engine (Docker, Podman or Colima) does not answer, so the telemetry stack cannot run. Start the engine, then the stack if it does not come back on its own.',
      };
    }
    if (local && this.stack.state === 'degraded') {
      const service = this.stack.services.join(', ');
      return { status: { kind: 'degraded', service, detail: this.stack.message }, message: `The telemetry stack is degraded (${service}): ${this.stack.message}` };
    }
    const { kind, backend } = (error ?? {}) as { kind?: unknown; backend?: unknown };
    const name = typeof backend === 'string' && backend ? backend : 'Telemetry';
    const wrongAnswer = kind === 'http' || kind === 'malformed' || kind === 'auth' || kind === 'rules';
    return { status: { kind: wrongAnswer ? 'badAnswer' : 'unreachable', backend: name, message }, message };
  }

  /** One notification per plan window, threshold and reset when its usage crosses the warning threshold. */
  private notifyPlan(today: TodaySummary): void {
    const threshold = this.config.planWarningPercent;
    for (const [key, , name] of PLAN_WINDOWS) {
      const usage = today.plan?.[key];
      const notified = `${key}|${threshold}|${usage?.resetsAtMs ?? ''}`;
      if (!usage || usage.usedPercent < threshold || this.memento.get<string>(`${PLAN_NOTIFIED_KEY}.${key}`) === notified) continue;
      void this.memento.update(`${PLAN_NOTIFIED_KEY}.${key}`, notified);
      const resets = usage.resetsAtMs === null ? '' : ` It resets at ${new Date(usage.resetsAtMs).toLocaleString()}.`;
      void vscode.window.showWarningMessage(
        `Claude Code has used ${Math.round(usage.usedPercent)}% of your plan's ${name} limit, past your ${threshold}% warning.${resets}`,
        'Open Dashboard',
      ).then((choice) => {
        if (choice) void vscode.commands.executeCommand('claudeTelemetry.showDashboard');
      });
    }
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
      `Claude Code has cost ${usd(costUsd)} today, past your daily budget of ${usd(budget)}.`,
      'Open Dashboard',
    ).then((choice) => {
      if (choice) {
        void vscode.commands.executeCommand('claudeTelemetry.showDashboard');
      }
    });
  }
}
