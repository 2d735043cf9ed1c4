import * as vscode from 'vscode';

/** The extension's one output channel. Created once in `activate` and passed to whoever logs. */
export type Log = vscode.LogOutputChannel;

export function createLog(): Log {
  return vscode.window.createOutputChannel('Claude Code Telemetry', { log: true });
}
