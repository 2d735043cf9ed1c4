import * as vscode from 'vscode';
import { statusBarLook, type StatusBarCommands, type StatusBarState } from './statusBarModel';

/** The status bar item: one state at a time, drawn by `statusBarLook`. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'claudeTelemetry.status',
    vscode.StatusBarAlignment.Right,
    100,
  );

  constructor(private readonly commands: StatusBarCommands) {
    this.item.name = 'Claude Code Telemetry';
    this.show({ kind: 'stopped' });
    this.item.show();
  }

  show(state: StatusBarState): void {
    const look = statusBarLook(state, this.commands);
    this.item.text = look.text;
    const tooltip = new vscode.MarkdownString(look.tooltip, true);
    tooltip.isTrusted = { enabledCommands: Object.values(this.commands) };
    this.item.tooltip = tooltip;
    this.item.command = look.command;
    this.item.backgroundColor =
      look.background === 'none' ? undefined : new vscode.ThemeColor(`statusBarItem.${look.background}Background`);
  }

  dispose(): void {
    this.item.dispose();
  }
}
