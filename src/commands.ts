import * as vscode from 'vscode';
import type { Log } from './log';
import { CancelledError } from './stack/errors';
import { openSetting } from './settings';

/** Every command the extension contributes, by id. package.json lists the same ids. */
export const CommandId = {
  startStack: 'claudeTelemetry.startStack',
  stopStack: 'claudeTelemetry.stopStack',
  restartStack: 'claudeTelemetry.restartStack',
  deleteStackData: 'claudeTelemetry.deleteStackData',
  showStackLogs: 'claudeTelemetry.showStackLogs',
  openGrafana: 'claudeTelemetry.openGrafana',
  showDashboard: 'claudeTelemetry.showDashboard',
  showSession: 'claudeTelemetry.showSession',
  refresh: 'claudeTelemetry.refresh',
  showLogs: 'claudeTelemetry.showLogs',
  writeClaudeSettings: 'claudeTelemetry.writeClaudeSettings',
  removeClaudeSettings: 'claudeTelemetry.removeClaudeSettings',
  writeStatusLineBridge: 'claudeTelemetry.writeStatusLineBridge',
  removeStatusLineBridge: 'claudeTelemetry.removeStatusLineBridge',
  setBackendCredentials: 'claudeTelemetry.setBackendCredentials',
  copyGrafanaPassword: 'claudeTelemetry.copyGrafanaPassword',
  setCollectorHeaders: 'claudeTelemetry.setCollectorHeaders',
  verifyPipeline: 'claudeTelemetry.verifyPipeline',
  importHistory: 'claudeTelemetry.importHistory',
  removeImportedHistory: 'claudeTelemetry.removeImportedHistory',
} as const;
export type CommandId = (typeof CommandId)[keyof typeof CommandId];

/** A cancellation ends a command silently. The deferred bundle throws its own copy of CancelledError: its `code`
 * ('cancelled') is what both copies share. */
function isCancellation(error: unknown): boolean {
  return (
    error instanceof CancelledError ||
    error instanceof vscode.CancellationError ||
    (error instanceof Error && error.name === 'AbortError') ||
    (error as { code?: unknown } | null)?.code === 'cancelled'
  );
}

/**
 * Registers a command behind the one error wrapper: a failure is logged with its stack and shown with a
 * "Show Logs" action; a cancellation is silent.
 */
export function registerCommand(log: Log, id: CommandId, handler: (...args: unknown[]) => unknown): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await handler(...args);
    } catch (error) {
      if (isCancellation(error)) {
        log.info(`${id}: cancelled`);
        return undefined;
      }
      log.error(`${id} failed:`, error);
      const message = error instanceof Error ? error.message : String(error);
      // An error may name the setting that fixes it (a taken port, an image, the Docker host).
      const named = (error as { setting?: unknown } | null)?.setting;
      const setting = typeof named === 'string' ? named : undefined;
      const actions = setting ? ['Open Settings', 'Show Logs'] : ['Show Logs'];
      void vscode.window.showErrorMessage(message, ...actions).then((choice) => {
        if (choice === 'Show Logs') {
          log.show(true);
        } else if (choice === 'Open Settings' && setting) {
          void openSetting(setting);
        }
      });
      return undefined;
    }
  });
}
