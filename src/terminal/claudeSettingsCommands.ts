import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import * as vscode from 'vscode';
import { CommandId } from '../commands';
import { CancelledError } from '../stack/errors';
import { otlpEndpoint, type Config } from '../config';
import type { Log } from '../log';
import { BRIDGE_SCRIPT, bridgeCommand, bridgeFiles } from '../statusLine/statusLine';
import {
  claudeSettingsPath,
  statusLineBridgeCommand,
  withoutStatusLineBridge,
  withoutTelemetryEnvironment,
  withStatusLineBridge,
  withTelemetryEnvironment,
} from './claudeSettings';
import { isTelemetryVariable, TELEMETRY_VARIABLE_NAMES, telemetryEnvironment } from './environment';

const PREVIEW_SCHEME = 'claude-telemetry-preview';

/**
 * The environment for Claude Code started anywhere: no workspace attributes, which would be wrong elsewhere, and no
 * collector headers, which are secrets and stay in VS Code's secret storage.
 */
export function userTelemetryEnvironment(config: Config): Record<string, string> {
  return telemetryEnvironment({
    endpoint: otlpEndpoint(config),
    metricExportIntervalMs: config.terminal.metricExportIntervalMs,
    logsExportIntervalMs: config.terminal.logsExportIntervalMs,
    logUserPrompts: config.terminal.logUserPrompts,
    logToolDetails: config.terminal.logToolDetails,
    workspaceName: undefined,
    repository: undefined,
    existingResourceAttributes: undefined,
  });
}

/**
 * "Write Telemetry Settings to Claude Code…", "Show Plan Usage in Claude Code's Status Line…" and their "Remove…":
 * edit `~/.claude/settings.json` after showing the change as a diff and asking, with a backup beside the file.
 */
export class ClaudeSettingsWriter implements vscode.Disposable {
  private readonly previews = new Map<string, string>();
  private readonly registration: vscode.Disposable;

  constructor(
    private readonly log: Log,
    /** The extension's folder, which holds the status line bridge. */
    private readonly extensionPath: string,
    private readonly path = claudeSettingsPath(),
  ) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, {
      provideTextDocumentContent: (uri) => this.previews.get(uri.path) ?? '',
    });
  }

  async write(config: Config): Promise<void> {
    const environment = userTelemetryEnvironment(config);
    const changed = await this.edit(
      (text) => withTelemetryEnvironment(text, environment, this.path),
      'Write',
      `Write the telemetry environment (${Object.keys(environment).length} variables) to ${this.path}?`,
    );
    if (!changed) {
      return;
    }
    // The CLI reads this file wherever it runs, Claude Code's VS Code panel included (measured: test/e2e/fullLoop).
    // The panel's own setting is offered only where its extension declares it: writing an undeclared setting fails.
    const declared = vscode.workspace.getConfiguration('claudeCode').inspect('environmentVariables')?.defaultValue;
    if (declared === undefined) {
      void vscode.window.showInformationMessage(
        `Claude Code now reports to the telemetry stack wherever it starts (a terminal, its VS Code panel, the SDK): it reads ${this.path}.`,
      );
      return;
    }
    const panel = await vscode.window.showInformationMessage(
      `Claude Code now reports to the telemetry stack wherever it starts, its VS Code panel included: it reads ${this.path}. ` +
        'Set the panel’s own environment (claudeCode.environmentVariables) too?',
      'Set claudeCode.environmentVariables',
    );
    if (panel) {
      await this.setPanelEnvironment(environment);
    }
  }

  async remove(): Promise<void> {
    await this.edit(
      (text) => withoutTelemetryEnvironment(text, TELEMETRY_VARIABLE_NAMES, this.path),
      'Remove',
      `Remove the telemetry environment from ${this.path}?`,
    );
    const panelSetting = vscode.workspace
      .getConfiguration('claudeCode')
      .get<{ name: string; value: string }[]>('environmentVariables');
    if (panelSetting?.some((entry) => isTelemetryVariable(entry.name))) {
      await vscode.workspace.getConfiguration('claudeCode').update(
        'environmentVariables',
        panelSetting.filter((entry) => !isTelemetryVariable(entry.name)),
        vscode.ConfigurationTarget.Global,
      );
      this.log.info('Removed the telemetry variables from claudeCode.environmentVariables.');
    }
  }

  /**
   * Makes the status line bridge Claude Code's status line command: it sends the plan usage and context window
   * figures Claude Code gives status lines to the collector, and shows the user's own status line as before.
   * Collector headers are secrets and are not written: a team collector that needs them does not get these figures.
   */
  async writeStatusLineBridge(config: Config): Promise<void> {
    const endpoint = otlpEndpoint(config);
    // The editor's own runtime, run as Node: the bridge needs no Node installed, and follows this window's machine.
    const runtime = {
      executable: process.execPath,
      script: join(this.extensionPath, BRIDGE_SCRIPT),
      platform: process.platform,
    };
    const changed = await this.edit(
      (text) =>
        withStatusLineBridge(
          text,
          (saved) =>
            bridgeCommand(runtime, { endpoint, previousCommand: saved?.command, savedStatusLine: saved?.text }),
          this.path,
        ),
      'Write',
      `Show plan usage in Claude Code's status line? The status line command in ${this.path} becomes the extension's bridge, which reports to ${endpoint} and runs your own status line command, if any, as before.`,
    );
    if (changed) {
      this.log.info(
        `Status line bridge written: Claude Code reports plan usage to ${endpoint} from its next status line update.`,
      );
      void vscode.window.showInformationMessage(
        'Claude Code reports its plan usage from its next status line update (in interactive sessions, for Claude plan subscribers). Your own status line, if you had one, shows as before.',
      );
    }
  }

  /**
   * Once per window: a status line bridge whose editor or script is gone (an update of the extension or the editor
   * moved it) runs nothing, so Claude Code shows no status line, the user's own included. Says so and offers to point
   * it at this install, or to remove it, through the commands (a diff and a question first). Another editor's bridge
   * that still runs is left alone.
   */
  async checkStatusLineBridge(): Promise<void> {
    let command: string | undefined;
    try {
      command = statusLineBridgeCommand(await readFile(this.path, 'utf8'), this.path);
    } catch {
      return; // no file, or one Claude Code cannot read either: said when the user writes it
    }
    const files = command === undefined ? undefined : bridgeFiles(command);
    const gone = files && [files.executable, files.script].find((file) => !existsSync(file));
    if (gone === undefined) return;
    const message =
      `Claude Code's status line runs the plan usage bridge from ${gone}, which no longer exists (the extension or the ` +
      "editor was updated): Claude Code shows no status line, your own included, until it runs this install's bridge.";
    this.log.warn(message);
    const update = 'Update Status Line…';
    const remove = 'Remove Bridge…';
    const choice = await vscode.window.showWarningMessage(message, update, remove);
    if (choice)
      await vscode.commands.executeCommand(
        choice === update ? CommandId.writeStatusLineBridge : CommandId.removeStatusLineBridge,
      );
  }

  async removeStatusLineBridge(): Promise<void> {
    await this.edit(
      (text) => withoutStatusLineBridge(text, this.path),
      'Remove',
      `Remove the status line bridge from ${this.path}? Your own status line, if you had one, comes back as it was.`,
    );
  }

  dispose(): void {
    this.registration.dispose();
  }

  /** Shows the change, asks, keeps a backup, writes. False when there was nothing to change. */
  private async edit(change: (text: string) => string, action: string, question: string): Promise<boolean> {
    let before = '';
    try {
      before = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw error;
      }
    }
    const after = change(before);
    if (after === before) {
      void vscode.window.showInformationMessage(`${this.path} already has nothing to change.`);
      return false;
    }
    const key = `/${Date.now()}/settings.json`;
    this.previews.set(key, after);
    try {
      const current = vscode.Uri.file(this.path);
      const left = before === '' ? vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: '/empty/settings.json' }) : current;
      await vscode.commands.executeCommand(
        'vscode.diff',
        left,
        vscode.Uri.from({ scheme: PREVIEW_SCHEME, path: key }),
        `${this.path} ↔ proposed`,
      );
      const backup = `${this.path}.bak`;
      const answer = await vscode.window.showWarningMessage(
        question,
        {
          modal: true,
          detail:
            before === ''
              ? 'The file does not exist yet and will be created.'
              : `The current file is kept as ${backup}. The diff shows the change.`,
        },
        action,
      );
      if (answer !== action) {
        throw new CancelledError();
      }
      await mkdir(dirname(this.path), { recursive: true });
      if (before !== '') {
        await copyFile(this.path, backup);
      }
      // Whole or not at all: Claude Code rereads its settings when they change, and must never see them half written.
      // The write goes through a symlink to its target, and keeps the file's mode and owner.
      await writeFileAtomic(this.path, after, 'utf8');
      this.log.info(`${action}: ${this.path} updated${before !== '' ? `, backup at ${backup}` : ''}.`);
      return true;
    } finally {
      this.previews.delete(key);
    }
  }

  private async setPanelEnvironment(environment: Record<string, string>): Promise<void> {
    const configuration = vscode.workspace.getConfiguration('claudeCode');
    const current = configuration.get<{ name: string; value: string }[]>('environmentVariables') ?? [];
    const merged = [
      ...current.filter((entry) => !(entry.name in environment)),
      ...Object.entries(environment).map(([name, value]) => ({ name, value })),
    ];
    await configuration.update('environmentVariables', merged, vscode.ConfigurationTarget.Global);
    this.log.info('Set the telemetry variables in claudeCode.environmentVariables.');
  }
}
