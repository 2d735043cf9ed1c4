import * as vscode from 'vscode';
import { CommandId, registerCommand } from './commands';
import { createLog } from './log';
import { Settings } from './settings';
import { DashboardViewProvider, DASHBOARD_VIEW_ID } from './views/dashboardView';
import { StatusBar } from './views/statusBar';
import { openGrafana } from './views/grafana';
import { TerminalEnvironment } from './terminal/terminalEnvironment';

export function activate(context: vscode.ExtensionContext): void {
  const log = createLog();
  const settings = new Settings(log);
  const statusBar = new StatusBar({
    start: CommandId.startStack,
    dashboard: CommandId.showDashboard,
    grafana: CommandId.openGrafana,
    logs: CommandId.showLogs,
  });
  const dashboard = new DashboardViewProvider(context.extensionUri, context.globalState, {
    onRangeChanged: () => undefined,
    onAction: (action) => void vscode.commands.executeCommand(`claudeTelemetry.${action}`),
    onVisibilityChanged: () => undefined,
  }, log);

  const terminalEnvironment = new TerminalEnvironment(context.environmentVariableCollection, log);
  void terminalEnvironment.apply(settings.current);

  context.subscriptions.push(
    log,
    terminalEnvironment,
    settings.onDidChange((config) => void terminalEnvironment.apply(config)),
    settings,
    statusBar,
    dashboard,
    vscode.window.registerWebviewViewProvider(DASHBOARD_VIEW_ID, dashboard),
    registerCommand(log, CommandId.showDashboard, () => vscode.commands.executeCommand(`${DASHBOARD_VIEW_ID}.focus`)),
    registerCommand(log, CommandId.showLogs, () => log.show()),
    registerCommand(log, CommandId.openGrafana, () => openGrafana(settings.current, dashboard.range)),
  );
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
