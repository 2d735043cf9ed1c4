import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { backends, type BackendAddress, type Config } from '../config';
import type { Log } from '../log';
import { SecretKey } from '../secrets';
import type { ViewState } from '../protocol';
import type { SessionDetail, Snapshot, TimeRange, TodaySummary } from '../snapshot';
import { loadDeferred } from '../lazy';
import type { AuthConfig, LokiClient, PrometheusClient, TelemetryReader } from '../telemetry';
import { RefreshScheduler } from '../telemetry/scheduler';
import { tokenDeveloper } from '../telemetry/collectorHeaders';
import type { StackPhase } from '../stackController';
import type { DashboardViewProvider } from './dashboardView';
import type { StatusBar } from './statusBar';
import { budgetNotice, planNotices, sidebarView, statusAfterFailure, statusAfterRefresh } from './refreshOutcome';
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
  /** The team collector's headers (secret storage), read at start and when they change: the alert thresholds go
   * with them, and the developer their token names is "you" in a team's store. */
  private collectorHeaders: string | undefined;

  constructor(
    private config: Config,
    private readonly statusBar: StatusBar,
    private readonly dashboard: DashboardViewProvider,
    private readonly secrets: vscode.SecretStorage,
    private readonly memento: vscode.Memento,
    private readonly log: Log,
    /** The local stack's Prometheus log lines (from the engine). */
    prometheusLog: () => Promise<readonly string[]>,
    /** Where the readers keep what they read of the past across reloads, and the extension's version they read it with. */
    private readonly cache: { directory: string; version: string },
  ) {
    this.scheduler = new RefreshScheduler({
      task: (signal) => this.refresh(signal),
      intervalMs: config.refreshIntervalSeconds * 1000,
    });
    this.scheduler.setFocused(vscode.window.state.focused);
    this.scheduler.setViewVisible(dashboard.visible);
    this.alerts = new AlertsWatcher(memento, log, () => this.collectorHeaders);
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
    void this.readCollectorHeaders().then(() => {
      this.alerts.collectorHeadersChanged();
      return this.scheduler.refreshNow();
    });
  }

  /** Connects and refreshes after activation has returned: the clients load with the deferred bundle. */
  start(): void {
    setTimeout(() => void this.readCollectorHeaders().then(() => this.reconnect()), 0);
  }

  private async readCollectorHeaders(): Promise<void> {
    try {
      this.collectorHeaders = await this.secrets.get(SecretKey.collectorHeaders);
    } catch (error) {
      this.log.warn(
        `Could not read the team collector headers from secret storage: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Settings changed: a new pace, and new clients only when where or how data is read changed. */
  configure(config: Config): void {
    const connection = (c: Config) =>
      JSON.stringify([backends(c), c.backend.auth, c.backend.username, c.backend.tenantId]);
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
    if (phase.state === 'healthy' && this.stack.state !== 'healthy') this.alerts.stackStarted();
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
  fetchSession(sessionId: string, range: TimeRange, view: { promptText: boolean }): Promise<SessionDetail> {
    if (!this.service) {
      return Promise.reject(
        new Error(
          'Not connected to the telemetry backends yet: try again in a moment, or run "Claude Telemetry: Show Extension Logs".',
        ),
      );
    }
    return this.service.fetchSession(sessionId, range, Date.now(), view);
  }

  /**
   * The local store's past changed (its data deleted): what every reader kept of it goes, those of other backends too
   * (which of them read the local stack is not known once its settings changed).
   */
  async pastChanged(): Promise<void> {
    await this.service?.discardPast();
    await rm(this.cache.directory, { recursive: true, force: true });
    this.log.info(`Dropped the cached figures in ${this.cache.directory}: the data they were read from was deleted.`);
    void this.scheduler.refreshNow();
  }

  /** History was written into the store from `sinceMs` on: what this window read of the time after it is read again. */
  async pastChangedSince(sinceMs: number): Promise<void> {
    await this.service?.discardPast(sinceMs);
    void this.scheduler.refreshNow();
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
    // One file per backend; what it holds is read under this backend and this version of the extension only.
    const identity = JSON.stringify([prometheus.url, this.config.backend.tenantId, this.config.backend.username]);
    const file = `${createHash('sha256').update(identity).digest('hex').slice(0, 16)}.json.gz`;
    this.service = new telemetry.TelemetryReader({
      ...this.clients,
      persist: {
        path: join(this.cache.directory, file),
        identity: `${this.cache.version} ${identity}`,
        onError: (message, error) => this.log.warn(message, error),
      },
    });
    this.log.info(`Reading telemetry from Prometheus at ${prometheus.url} and Loki at ${loki.url}.`);
    this.scheduler.start();
  }

  /** What the pipeline doctor needs in team mode: the headers terminals send the gateway, the store's credentials. */
  async teamAccess(): Promise<{ collectorHeaders: string | undefined; storeAuth: AuthConfig }> {
    return {
      collectorHeaders: await this.secrets.get(SecretKey.collectorHeaders),
      storeAuth: await this.auth(backends(this.config).prometheus),
    };
  }

  /** Credentials go to the team's backends only, never to the local stack. */
  private async auth(backend: BackendAddress): Promise<AuthConfig> {
    const { auth, username } = this.config.backend;
    if (backend.local || auth === 'none') {
      return { kind: 'none' };
    }
    const secret = (await this.secrets.get(SecretKey.backendCredentials)) ?? '';
    if (!secret) {
      this.log.warn(
        'claudeTelemetry.backend.auth is set but no credentials are stored: run "Set Backend Credentials…".',
      );
    }
    return auth === 'bearer' ? { kind: 'bearer', token: secret } : { kind: 'basic', username, password: secret };
  }

  private closeClients(): void {
    // Its new pieces written, if any: the next reader of this backend, here or in another window, starts from them.
    void this.service?.close();
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
    // One read for the status bar and the sidebar of this refresh; this window's workspace is the "project", and in a
    // team's store (terminals reporting to its gateway) the token's developer is "you".
    const project = vscode.workspace.name;
    const developer = !local && this.config.terminal.endpoint ? tokenDeveloper(this.collectorHeaders) : undefined;
    const price = this.config.planMonthlyPriceUsd;
    const month =
      range !== undefined && price > 0
        ? { month: { startMs: new Date(new Date(dayStartMs).setDate(1)).getTime(), priceUsd: price } }
        : {};
    let snapshot: Snapshot | undefined;
    try {
      // Today's figures reach the status bar as soon as they are read: it never waits for the sidebar's events.
      let todayShown: Promise<void> | undefined;
      const onToday = (today: TodaySummary): void => {
        todayShown = this.showToday(service, today, local, now, signal);
        // Awaited below; not unhandled if the refresh fails or is aborted first.
        todayShown.catch(() => undefined);
      };
      const refreshed = await service.refresh(
        now,
        {
          dayStartMs,
          range,
          groupBy,
          ...month,
          ...(project === undefined ? {} : { project }),
          ...(developer === undefined ? {} : { developer }),
        },
        { signal, onToday, promptText: this.config.terminal.logUserPrompts },
      );
      await todayShown;
      snapshot = refreshed.snapshot;
    } catch (error) {
      if (signal.aborted) {
        throw error;
      }
      const failure = statusAfterFailure(error, local, this.stack);
      this.statusBar.show(failure.status);
      this.dashboard.show({ kind: 'error', message: failure.message });
      // Said once per cause: a refresh backs off, but logs each failure of the same cause only once.
      if (failure.message !== this.lastFailure) this.log.warn(`Refresh failed: ${failure.message}`);
      this.lastFailure = failure.message;
      throw error;
    }
    this.lastFailure = undefined;

    // The user may have picked another range meanwhile: its own refresh is queued.
    if (range !== undefined && snapshot && range === this.dashboard.range) {
      this.dashboard.show(this.dashboardState(snapshot, range));
    }
  }

  /** The status bar for today's figures, and the notifications they bring. */
  private async showToday(
    service: TelemetryReader,
    today: TodaySummary,
    local: boolean,
    now: number,
    signal: AbortSignal,
  ): Promise<void> {
    const context = {
      local,
      stack: this.stack,
      storageProblem: local ? this.storage.current : undefined,
      dailyBudgetUsd: this.config.dailyBudgetUsd,
      planWarningPercent: this.config.planWarningPercent,
      alerts: this.alerts.current ?? [],
    };
    let status = statusAfterRefresh(today, true, context);
    // An idle day: whether the stack ever saw Claude Code is asked only when the answer decides what shows.
    if (status.kind === 'cost' && !today.hasData) {
      status = statusAfterRefresh(today, await service.hasEverReceivedData({ signal }), context);
    }
    this.statusBar.show(status);
    if (status.kind !== 'cost') return;
    const budget = budgetNotice(
      today.costUsd,
      this.config.dailyBudgetUsd,
      now,
      this.memento.get<string>(BUDGET_NOTIFIED_KEY),
    );
    const plan = planNotices(today, this.config.planWarningPercent, (key) =>
      this.memento.get<string>(`${PLAN_NOTIFIED_KEY}.${key}`),
    );
    for (const notice of [...(budget ? [budget] : []), ...plan]) {
      void this.memento.update(
        notice.key === 'budget' ? BUDGET_NOTIFIED_KEY : `${PLAN_NOTIFIED_KEY}.${notice.key}`,
        notice.mark,
      );
      void vscode.window.showWarningMessage(notice.message, 'Open Dashboard').then((choice) => {
        if (choice) void vscode.commands.executeCommand('claudeTelemetry.showDashboard');
      });
    }
  }

  private dashboardState(snapshot: Snapshot, range: TimeRange): ViewState {
    // A local Prometheus that stores nothing new is shown with the stack's alerts (see sidebarView).
    return sidebarView(
      snapshot,
      range,
      backends(this.config).prometheus.local ? this.storage.alert : undefined,
      this.alerts.current,
    );
  }
}
