import * as vscode from 'vscode';
import { CancelledError } from './stack/errors';

/** Every secret the extension keeps, by SecretStorage key. None of them is ever written to settings. */
export const SecretKey = {
  backendCredentials: 'claudeTelemetry.backend.secret',
  collectorHeaders: 'claudeTelemetry.terminal.headers',
  grafanaAdminPassword: 'claudeTelemetry.grafana.adminPassword',
} as const;
export type SecretKey = (typeof SecretKey)[keyof typeof SecretKey];

/** Asks for a secret (masked) and stores it; an empty answer removes it. Escape cancels. */
export async function promptForSecret(
  secrets: vscode.SecretStorage,
  key: SecretKey,
  question: { title: string; prompt: string; placeHolder?: string },
): Promise<'stored' | 'removed'> {
  const value = await vscode.window.showInputBox({ ...question, password: true, ignoreFocusOut: true });
  if (value === undefined) {
    throw new CancelledError();
  }
  if (value) {
    await secrets.store(key, value);
    return 'stored';
  }
  await secrets.delete(key);
  return 'removed';
}
