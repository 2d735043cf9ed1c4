import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { CancelledError } from './stack/errors';
import { composeVariables, composeVariableSettings, type Config } from './config';
import type { Log } from './log';
import { SecretKey } from './secrets';
import { loadDeferred } from './lazy';
import type * as Stack from './stack';

/** What the stack controller knows of the local stack; the dashboard controller follows it. */
export type StackPhase = Stack.StackPhase;

/** When a start began, in the global memento (the windows of a profile share it), until it ends: a window reloaded
 * or closed mid-start leaves it behind, and the next window to open takes the start up. */
const START_UNDER_WAY_KEY = 'claudeTelemetry.stackStartUnderWay';
/** A start left behind longer ago than this was given up, not interrupted: the user decides. */
const RESUME_WITHIN_MS = 10 * 60_000;
/** This window's start under way, before the engine says which service it waits for. */
const STARTING: StackPhase = { state: 'starting', services: [], message: 'Telemetry stack starting' };

/**
 * Start, stop, restart, delete and watch the stack: the editor side of `src/stack`. Progress in notifications,
 * state to the dashboard controller, engine events instead of polling.
 */
export class StackController implements vscode.Disposable {
  private opened: { engine: Stack.StackEngine; key: string; state: Stack.StackStateWatch } | undefined;
  private logFollow: { dispose(): void } | undefined;
  /** The start, stop, restart or delete under way: one at a time. */
  private operation: { name: string; done: Promise<void> } | undefined;
  private phase: StackPhase = { state: 'unknown' };
  /** Made on first use: it comes with the deferred bundle. */
  private stateProblems: Stack.StateProblemLog | undefined;
  /** Grafana's root_url variables for this window, by the Grafana port they were read for (see grafanaRootUrl). */
  private rootUrl: { port: number; variables: Record<string, string> } | undefined;
  /** This window's start is under way: the containers it has not started yet are not "down". */
  private starting = false;

  constructor(
    private config: Config,
    private readonly extensionUri: vscode.Uri,
    private readonly secrets: vscode.SecretStorage,
    private readonly memento: vscode.Memento,
    private readonly publish: (phase: StackPhase) => void,
    private readonly log: Log,
  ) {}

  private onPhase(phase: StackPhase): void {
    // A change of state is logged once (a start publishes its wait every second; unknown is logged with its cause).
    const shown = (p: StackPhase): string => (p.state === 'unknown' ? p.state : `${p.state} ${p.services.join(', ')}`);
    if (phase.state !== 'unknown' && shown(phase) !== shown(this.phase))
      this.log.info(`Stack state: ${phase.message}.`);
    this.phase = phase;
    this.publish(phase);
  }

  /** A state read of the engine's: while this window starts the stack, a service not up yet is one being started
   * (the start itself reports one that fails). */
  private onStateRead(phase: StackPhase): void {
    if (this.starting && (phase.state === 'stopped' || phase.state === 'degraded')) {
      if (this.phase.state !== 'starting') this.onPhase(STARTING);
      return;
    }
    this.onPhase(phase);
  }

  /** Whether a start was under way when a window reloaded or closed (within the last minutes): then the caller runs
   * Start again, which joins what that start left (containers made, some started). */
  interruptedStart(): boolean {
    const since = this.memento.get<number>(START_UNDER_WAY_KEY);
    if (since === undefined || Date.now() - since > RESUME_WITHIN_MS) return false;
    this.log.info(
      `A start of the telemetry stack began at ${new Date(since).toLocaleTimeString()} in a window that reloaded or closed before it ended: taking it up.`,
    );
    return true;
  }

  /** Whether the engine's answer is still missing (none found yet, or it went away): worth asking again. */
  get unknown(): boolean {
    return this.phase.state === 'unknown';
  }

  /** Runs one stack operation at a time: a second click while one runs is told, not run twice. */
  private exclusive(name: string, run: () => Promise<void>): Promise<void> {
    if (this.operation) {
      void vscode.window.showInformationMessage(`The telemetry stack is busy: ${this.operation.name} is under way.`);
      return this.operation.done;
    }
    const done = run().finally(() => {
      this.operation = undefined;
    });
    this.operation = { name, done };
    return done;
  }

  /** Reads the stack's state once and then follows the engine's events. Quiet when no engine is there. */
  async watch(): Promise<void> {
    try {
      await this.engine();
      await this.publishStatus();
    } catch (error) {
      // The state watch has logged a failed read; no engine found is logged here, both once until they change.
      this.problems().failed(error);
      this.onPhase({ state: 'unknown', problem: loadDeferred().stack.engineProblem(error) });
    }
  }

  /** Settings changed: read the state again, from another engine or ports if they changed. */
  configure(config: Config): void {
    this.config = config;
    void this.watch();
  }

  start(): Promise<void> {
    return this.exclusive('a start', () => this.startNow());
  }

  private async startNow(): Promise<void> {
    const engine = await this.engine();
    const statuses = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Claude Telemetry', cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        const pulled = new Map<string, number>();
        this.onPhase(STARTING);
        this.starting = true;
        await this.memento.update(START_UNDER_WAY_KEY, Date.now());
        try {
          return await engine.start((event) => {
            this.log.info(event.message);
            if (event.kind === 'pull') {
              // The notification's bar follows the pull of the image being fetched.
              const percent = event.pull.percent ?? 0;
              const increment = percent - (pulled.get(event.image) ?? 0);
              pulled.set(event.image, percent);
              progress.report({
                message: event.message,
                increment: increment > 0 ? increment / Math.max(1, engine.model.services.length) : 0,
              });
            } else {
              progress.report({ message: event.message });
            }
            if (event.kind === 'wait') {
              this.onPhase({ state: 'starting', services: [event.service], message: event.message });
            }
          }, abort.signal);
        } finally {
          this.starting = false;
          await this.memento.update(START_UNDER_WAY_KEY, undefined);
          await this.publishStatus().catch(() => undefined);
        }
      },
    );
    const doubles = statuses.filter((s) => s.testDouble).map((s) => s.service);
    const running = 'The telemetry stack is running. New terminals report Claude Code sessions to it.';
    // Images made for tests stand in for real services only when the settings point at them: say so, every time.
    const message = doubles.length
      ? `${running} ${doubles.join(' and ')} ${doubles.length > 1 ? 'are TEST DOUBLES' : 'is a TEST DOUBLE'} (\`claudeTelemetry.stack.images.*\`), not the real service: clear those settings for the pinned images.`
      : running;
    if (doubles.length) this.log.warn(message);
    void vscode.window
      .showInformationMessage(message, 'Open Dashboard')
      .then((choice) => choice && vscode.commands.executeCommand('claudeTelemetry.showDashboard'));
    // After the notification: the stack runs whether or not Grafana's password needs a word (a warning of its own),
    // and Grafana's answer (its password hashing, on a loaded machine) must not delay the news.
    const settling = Date.now();
    await this.settleGrafanaPassword(engine);
    this.log.info(`Grafana's admin password checked in ${Date.now() - settling} ms.`);
  }

  stop(): Promise<void> {
    return this.exclusive('a stop', () => this.stopNow());
  }

  private async stopNow(): Promise<void> {
    const engine = await this.engine();
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Stopping the telemetry stack…' },
      async () => {
        const stopped = await engine.stop();
        this.log.info(`Stopped ${stopped.join(', ') || 'nothing (already stopped)'}; volumes kept.`);
      },
    );
    await this.publishStatus();
  }

  restart(): Promise<void> {
    return this.exclusive('a restart', async () => {
      await this.stopNow();
      await this.startNow();
    });
  }

  /** Removes containers and volumes, after a modal confirmation that names what goes. */
  deleteData(): Promise<void> {
    return this.exclusive('a deletion', () => this.deleteDataNow());
  }

  private async deleteDataNow(): Promise<void> {
    const engine = await this.engine();
    const volumes = await engine.dataVolumes();
    const answer = await vscode.window.showWarningMessage(
      'Delete all telemetry data?',
      {
        modal: true,
        detail:
          'This removes the stack’s containers and its volumes' +
          (volumes.length ? ` (${volumes.join(', ')})` : '') +
          ': every metric in Prometheus, every event in Loki, and Grafana’s users and settings. It cannot be undone. ' +
          'Stopping the stack instead keeps all of it.',
      },
      'Delete Data',
    );
    if (answer !== 'Delete Data') {
      throw new CancelledError();
    }
    const removed = await engine.remove({ volumes: true });
    this.log.info(
      `Deleted containers ${removed.containers.join(', ') || '(none)'} and volumes ${removed.volumes.join(', ') || '(none)'}.`,
    );
    await this.secrets.delete(SecretKey.grafanaAdminPassword);
    await this.publishStatus();
    void vscode.window.showInformationMessage(`Deleted the telemetry data (${removed.volumes.length} volumes).`);
  }

  /** Streams one service's log into the output channel until the container stops or another service is picked. */
  async showLogs(): Promise<void> {
    const engine = await this.engine();
    const service = await vscode.window.showQuickPick(
      engine.model.services.map((entry) => entry.name),
      { title: 'Show Stack Logs', placeHolder: 'Which service?' },
    );
    if (!service) {
      throw new CancelledError();
    }
    const follow = await engine.logs(service, { follow: true, tail: 200 });
    this.logFollow?.dispose();
    this.logFollow = follow;
    let partial = '';
    follow.stream.on('data', (chunk: Buffer | string) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        this.log.info(`[${service}] ${line}`);
      }
    });
    follow.stream.on('end', () => {
      if (partial) {
        this.log.info(`[${service}] ${partial}`);
      }
      this.log.info(`[${service}] (end of the log follow)`);
      if (this.logFollow === follow) {
        this.logFollow = undefined;
      }
    });
    this.log.show(true);
  }

  /** The last log lines of one of the stack's services. */
  async lastLogLines(service: string): Promise<string[]> {
    return (await this.engine()).lastLogLines(service);
  }

  /** The engine for the current settings, for the pipeline doctor. Throws the user-facing StackError when none is found. */
  openEngine(): Promise<Stack.StackEngine> {
    return this.engine();
  }

  /** Copies the password Grafana accepts: the stack's when it has a Grafana, which this window may not have stored
   * yet (another browser profile in code-server started the stack). */
  async copyGrafanaPassword(): Promise<void> {
    await vscode.env.clipboard.writeText(await this.settleGrafanaPassword(await this.engine()));
    void vscode.window.showInformationMessage('Grafana’s admin password is on the clipboard (user: admin).');
  }

  dispose(): void {
    this.opened?.state.dispose();
    this.logFollow?.dispose();
  }

  private problems(): Stack.StateProblemLog {
    this.stateProblems ??= new (loadDeferred().stack.StateProblemLog)(this.log);
    return this.stateProblems;
  }

  /** Reads the state of the stack the settings name now and publishes it: after an operation whose engine the
   * settings replaced meanwhile, the new one's state (its reads while this window started were taken as starting). */
  private publishStatus(): Promise<void> {
    return this.opened?.state.read() ?? Promise.resolve();
  }

  /**
   * Keeps this window's stored Grafana password the one Grafana holds (see src/stack/grafanaAdmin.ts) and returns
   * it. The stack's password is returned even when Grafana rejects it, with a warning that says how to reset it.
   */
  private async settleGrafanaPassword(engine: Stack.StackEngine): Promise<string> {
    const stored = await this.grafanaPassword();
    let outcome: Stack.GrafanaAdminPassword;
    try {
      outcome = await loadDeferred().stack.grafanaAdminPassword(engine, stored);
    } catch (error) {
      this.log.warn(`Grafana's admin password not checked: ${error instanceof Error ? error.message : String(error)}`);
      return stored;
    }
    if (outcome.state === 'none') return stored;
    if (outcome.password !== stored) {
      await this.secrets.store(SecretKey.grafanaAdminPassword, outcome.password);
      this.log.info('Grafana’s admin password: this window kept another one; it now keeps the stack’s.');
    }
    if (outcome.state === 'locked') {
      const message =
        `Grafana has locked its admin sign-in until ${new Date(outcome.untilMs).toLocaleTimeString()}: it counted ` +
        `${outcome.wrongAttempts} wrong passwords in 5 minutes (a window or browser profile holding an older password, ` +
        'or a mistyped sign-in), and until then it refuses the right one too. The stack’s password is not the problem ' +
        'and nothing was tried meanwhile: sign in to Grafana after that time (Copy Grafana Admin Password copies it).';
      this.log.warn(message);
      void vscode.window.showWarningMessage(message);
    }
    if (outcome.state === 'rejected') {
      const message =
        'Grafana rejects the admin password of its container: it was changed in Grafana, or the container was made ' +
        'again over Grafana’s old data. Give Grafana the container’s password (the one Copy Grafana Admin Password ' +
        `copies) with \`docker exec ${outcome.container} grafana cli admin reset-admin-password <password>\`, or delete the ` +
        'telemetry data to start Grafana afresh.';
      this.log.warn(message);
      void vscode.window.showWarningMessage(message);
    }
    return outcome.password;
  }

  /** The engine for the current settings, opened again when they change what the stack is. */
  private async engine(): Promise<Stack.StackEngine> {
    const variables = {
      ...composeVariables(this.config),
      ...(await this.grafanaRootUrl()),
      GRAFANA_ADMIN_PASSWORD: await this.grafanaPassword(),
    };
    const key = JSON.stringify([this.config.dockerHost, variables]);
    if (this.opened?.key === key) {
      return this.opened.engine;
    }
    const { stack } = loadDeferred();
    const { engine, location } = stack.openStack({
      dockerHost: this.config.dockerHost,
      composeFile: vscode.Uri.joinPath(this.extensionUri, 'stack', 'compose.yaml').fsPath,
      variables,
      settings: composeVariableSettings(),
    });
    this.log.info(`Container engine: ${location.description}.`);
    // The watch of the engine being replaced would publish its state after the new one's.
    this.opened?.state.dispose();
    this.opened = {
      engine,
      key,
      state: new stack.StackStateWatch(engine, (phase) => this.onStateRead(phase), this.problems()),
    };
    return engine;
  }

  /**
   * Grafana's address as this window's browser reaches it, when that is under a path: code-server serves a port at
   * /proxy/<port>/ and strips the path, so Grafana's page must load its assets and API under it (its root_url).
   * Desktop windows, remote ones included, reach a port at its root: nothing to set, and no port forwarded for it.
   */
  private async grafanaRootUrl(): Promise<Record<string, string>> {
    if (vscode.env.uiKind !== vscode.UIKind.Web) return {};
    const port = this.config.ports.grafana;
    if (this.rootUrl?.port !== port) {
      let path = '';
      try {
        path = (await vscode.env.asExternalUri(vscode.Uri.parse(`http://127.0.0.1:${port}/`))).path.replace(/\/+$/, '');
      } catch (error) {
        this.log.warn(`Grafana's address in this browser window not known (${String(error)}): Grafana keeps its own.`);
      }
      // The path alone, under Grafana's own scheme, host and port: every window of this code-server agrees on it
      // however its browser names the host, so none of them recreates Grafana for another.
      this.rootUrl = {
        port,
        variables: path ? { CCT_GRAFANA_ROOT_URL: `%(protocol)s://%(domain)s:%(http_port)s${path}/` } : {},
      };
    }
    return this.rootUrl.variables;
  }

  /** Generated on first start and kept in SecretStorage: Grafana never runs with admin/admin. */
  private async grafanaPassword(): Promise<string> {
    let password = await this.secrets.get(SecretKey.grafanaAdminPassword);
    if (!password) {
      password = randomBytes(18).toString('base64url');
      await this.secrets.store(SecretKey.grafanaAdminPassword, password);
    }
    return password;
  }
}
