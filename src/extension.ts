import * as vscode from 'vscode';
import { join } from 'node:path';
import { CommandId, registerCommand } from './commands';
import { PipelineDoctorCommand } from './doctor/doctorCommand';
import { createLog } from './log';
import { Settings } from './settings';
import { StackController } from './stackController';
import { ClaudeSettingsWriter } from './terminal/claudeSettingsCommands';
import { TerminalEnvironment } from './terminal/terminalEnvironment';
import { DashboardController } from './views/dashboardController';
import { promptForSecret, SecretKey } from './secrets';
import { DashboardViewProvider, DASHBOARD_VIEW_ID } from './views/dashboardView';
import { openGrafana } from './views/grafana';
import { SessionPanels } from './views/sessionPanel';
import { isSessionId } from './protocol';
import { StatusBar } from './views/statusBar';
import { HistoryController } from './historyController';

export function activate(context: vscode.ExtensionContext): void {
  const log = createLog();
  const settings = new Settings(log);
  const statusBar = new StatusBar({
    start: CommandId.startStack,
    dashboard: CommandId.showDashboard,
    grafana: CommandId.openGrafana,
    logs: CommandId.showLogs,
  });
  const dashboard = new DashboardViewProvider(context.extensionUri, context.globalState, log);
  const controller = new DashboardController(
    settings.current,
    statusBar,
    dashboard,
    context.secrets,
    context.globalState,
    log,
    () => stack.lastLogLines('prometheus'),
    {
      directory: join(context.globalStorageUri.fsPath, 'cached-figures'),
      version: String(context.extension.packageJSON.version),
    },
  );
  const stack = new StackController(
    settings.current,
    context.extensionUri,
    context.secrets,
    context.globalState,
    (phase) => {
      controller.setStackPhase(phase);
      history.setStackPhase(phase);
    },
    log,
  );
  const history = new HistoryController(
    settings.current,
    context.globalState,
    join(context.globalStorageUri.fsPath, 'history-import'),
    log,
    (sinceMs) => (sinceMs === undefined ? controller.pastChanged() : controller.pastChangedSince(sinceMs)),
  );
  const terminalEnvironment = new TerminalEnvironment(
    context.environmentVariableCollection,
    context.globalStorageUri.fsPath,
    () => Promise.resolve(context.secrets.get(SecretKey.collectorHeaders)),
    log,
  );
  const claudeSettings = new ClaudeSettingsWriter(log, context.extensionUri.fsPath);
  const sessions = new SessionPanels(
    context.extensionUri,
    {
      fetch: (sessionId, range) =>
        controller.fetchSession(sessionId, range, { promptText: settings.current.terminal.logUserPrompts }),
      openGrafana: (sessionId, range) => openGrafana(settings.current, range, sessionId),
    },
    log,
  );
  const doctor = new PipelineDoctorCommand(
    log,
    () => settings.current,
    () => stack.openEngine(),
    {
      environmentCollection: context.environmentVariableCollection,
      claudeShimDirectory: () => terminalEnvironment.shimDirectory(settings.current),
      teamAccess: () => controller.teamAccess(),
    },
  );

  context.subscriptions.push(
    log,
    settings,
    statusBar,
    dashboard,
    dashboard.onDidChangeRange(() => void controller.refreshNow()),
    dashboard.onDidChangeGroupBy(() => void controller.refreshNow()),
    dashboard.onDidRequestSession(
      ({ sessionId, promptId }) => void vscode.commands.executeCommand(CommandId.showSession, sessionId, promptId),
    ),
    sessions,
    dashboard.onDidRequestAction((action) => void vscode.commands.executeCommand(`claudeTelemetry.${action}`)),
    dashboard.onDidChangeVisibility((visible) => controller.setViewVisible(visible)),
    controller,
    stack,
    history,
    terminalEnvironment,
    claudeSettings,
    doctor,
    vscode.window.registerWebviewViewProvider(DASHBOARD_VIEW_ID, dashboard),
    vscode.window.onDidChangeWindowState((state) => {
      controller.setFocused(state.focused);
      // No engine found at start (Docker Desktop still starting, say): ask again when the user comes back.
      if (state.focused && stack.unknown) {
        void stack.watch();
      }
    }),
    // The terminal environment names the workspace and carries the collector headers: follow both.
    vscode.workspace.onDidChangeWorkspaceFolders(() => void terminalEnvironment.apply(settings.current)),
    context.secrets.onDidChange((event) => {
      if (event.key === SecretKey.collectorHeaders) {
        void terminalEnvironment.apply(settings.current);
        controller.collectorHeadersChanged();
      } else if (event.key === SecretKey.backendCredentials) {
        controller.credentialsChanged();
      }
    }),
    settings.onDidChange((config) => {
      controller.configure(config);
      stack.configure(config);
      history.configure(config);
      void terminalEnvironment.apply(config);
    }),
    registerCommand(log, CommandId.startStack, async () => {
      await stack.start();
      history.stackStarted();
    }),
    registerCommand(log, CommandId.stopStack, () => stack.stop()),
    registerCommand(log, CommandId.restartStack, async () => {
      await stack.restart();
      history.stackStarted();
    }),
    registerCommand(log, CommandId.deleteStackData, async () => {
      await stack.deleteData();
      await history.dataDeleted();
      await controller.pastChanged();
    }),
    registerCommand(log, CommandId.importHistory, () => history.importNow()),
    registerCommand(log, CommandId.removeImportedHistory, () => history.removeImported()),
    registerCommand(log, CommandId.showStackLogs, () => stack.showLogs()),
    registerCommand(log, CommandId.copyGrafanaPassword, () => stack.copyGrafanaPassword()),
    registerCommand(log, CommandId.verifyPipeline, () => doctor.run()),
    registerCommand(log, CommandId.showDashboard, () => vscode.commands.executeCommand(`${DASHBOARD_VIEW_ID}.focus`)),
    registerCommand(log, CommandId.showSession, (sessionId, promptId) => {
      if (!isSessionId(sessionId)) {
        throw new Error('Pick a session in the Sessions list of the Claude Telemetry sidebar to open it.');
      }
      sessions.show(sessionId, dashboard.range, isSessionId(promptId) ? promptId : undefined);
    }),
    registerCommand(log, CommandId.showLogs, () => log.show()),
    registerCommand(log, CommandId.refresh, () => controller.refreshNow()),
    registerCommand(log, CommandId.openGrafana, () => openGrafana(settings.current, dashboard.range)),
    registerCommand(log, CommandId.writeClaudeSettings, () => claudeSettings.write(settings.current)),
    registerCommand(log, CommandId.removeClaudeSettings, () => claudeSettings.remove()),
    registerCommand(log, CommandId.writeStatusLineBridge, () => claudeSettings.writeStatusLineBridge(settings.current)),
    registerCommand(log, CommandId.removeStatusLineBridge, () => claudeSettings.removeStatusLineBridge()),
    registerCommand(log, CommandId.setBackendCredentials, async () => {
      const outcome = await promptForSecret(context.secrets, SecretKey.backendCredentials, {
        title: 'Team backend credentials',
        prompt:
          'The bearer token or password for the team Prometheus and Loki (claudeTelemetry.backend.*). Kept in VS Code’s secret storage; empty removes it.',
      });
      log.info(`Team backend credentials ${outcome}.`);
    }),
    registerCommand(log, CommandId.setCollectorHeaders, async () => {
      const outcome = await promptForSecret(context.secrets, SecretKey.collectorHeaders, {
        title: 'Team collector headers',
        prompt:
          'OTLP headers for claudeTelemetry.terminal.endpoint, as OTEL_EXPORTER_OTLP_HEADERS takes them. Kept in VS Code’s secret storage; empty removes them.',
        placeHolder: 'authorization=Bearer <token>',
      });
      log.info(`Team collector headers ${outcome}.`);
    }),
  );

  void terminalEnvironment.apply(settings.current);
  // Both answer after activation has returned, once the deferred bundle is loaded.
  controller.start();
  setTimeout(
    () => void (stack.interruptedStart() ? vscode.commands.executeCommand(CommandId.startStack) : stack.watch()),
    0,
  );
  void claudeSettings.checkStatusLineBridge();
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
