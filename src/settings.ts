import * as vscode from 'vscode';
import { problemSetting, readConfig, settingsTab, type Config, type SettingsTab } from './config';
import type { Log } from './log';

/** The command that opens each tab of the Settings UI; each takes the search query in `query`. */
const OPEN_SETTINGS_TAB: Record<SettingsTab, string> = {
  user: 'workbench.action.openGlobalSettings',
  remote: 'workbench.action.openRemoteSettings',
  workspace: 'workbench.action.openWorkspaceSettings',
};

/** Opens the Settings UI at a setting, on the tab where its value in effect is set. */
export async function openSetting(setting: string): Promise<void> {
  const values = vscode.workspace.getConfiguration().inspect(setting);
  const tab = settingsTab(values, vscode.env.remoteName !== undefined);
  await vscode.commands.executeCommand(OPEN_SETTINGS_TAB[tab], { query: setting });
}

/** The current settings, re-read on change; each invalid value is shown once (again only after it was fixed) and
 * replaced by its default. */
export class Settings implements vscode.Disposable {
  private config: Config;
  private readonly changed = new vscode.EventEmitter<Config>();
  private readonly listener: vscode.Disposable;
  /** The problems of the settings as they are: shown when they appeared. */
  private shown = new Set<string>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: Log) {
    this.config = this.read();
    this.listener = vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('claudeTelemetry')) {
        this.config = this.read();
        this.changed.fire(this.config);
      }
    });
  }

  get current(): Config {
    return this.config;
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }

  private read(): Config {
    const { config, problems } = readConfig(vscode.workspace.getConfiguration('claudeTelemetry'));
    for (const problem of problems) {
      if (!this.shown.has(problem)) this.show(problem);
    }
    this.shown = new Set(problems);
    return config;
  }

  private show(problem: string): void {
    this.log.warn(problem);
    const setting = problemSetting(problem);
    void vscode.window
      .showWarningMessage(`Claude Code Telemetry: ${problem}`, ...(setting ? ['Open Settings'] : []))
      .then((choice) => {
        if (choice && setting) void openSetting(setting);
      });
  }
}
