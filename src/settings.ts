import * as vscode from 'vscode';
import { readConfig, type Config } from './config';
import type { Log } from './log';

/** The current settings, re-read on change; invalid values are reported once each and replaced by defaults. */
export class Settings implements vscode.Disposable {
  private config: Config;
  private readonly changed = new vscode.EventEmitter<Config>();
  private readonly listener: vscode.Disposable;
  private readonly reported = new Set<string>();
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
      if (this.reported.has(problem)) {
        continue;
      }
      this.reported.add(problem);
      this.log.warn(problem);
      void vscode.window.showWarningMessage(`Claude Code Telemetry: ${problem}`, 'Open Settings').then((choice) => {
        if (choice) {
          void vscode.commands.executeCommand('workbench.action.openSettings', 'claudeTelemetry');
        }
      });
    }
    return config;
  }
}
