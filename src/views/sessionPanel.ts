import * as vscode from 'vscode';
import { parseWebviewMessage, type HostToWebview } from '../protocol';
import type { SessionDetail, TimeRange } from '../snapshot';
import type { Log } from '../log';
import { webviewOptions, webviewPage } from './dashboardView';

export interface SessionSource {
  /** The session over the range; rejects when no backend is connected. */
  fetch(sessionId: string, range: TimeRange): Promise<SessionDetail>;
  /** Opens Grafana's dashboard filtered to the session. */
  openGrafana(sessionId: string, range: TimeRange): Promise<void>;
}

/** One editor-area panel per session: its detail fetched on open and on Refresh. */
export class SessionPanels implements vscode.Disposable {
  private readonly panels = new Map<string, { panel: vscode.WebviewPanel; openPrompt(promptId: string): void }>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly source: SessionSource,
    private readonly log: Log,
  ) {}

  /** Opens the session's panel (or reveals it), at the prompt `promptId` when one is given. */
  show(sessionId: string, range: TimeRange, promptId?: string): void {
    const open = this.panels.get(sessionId);
    if (open) {
      open.panel.reveal();
      if (promptId) open.openPrompt(promptId);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      'claudeTelemetry.session',
      `Session ${sessionId.slice(0, 8)}`,
      vscode.ViewColumn.Active,
      webviewOptions(this.extensionUri),
    );
    panel.webview.html = webviewPage(panel.webview, this.extensionUri);
    let latest: Extract<HostToWebview, { type: 'session' }> = { type: 'session', sessionId, detail: null };
    // The prompt to open, once: a later refresh keeps what the user opened since.
    let openPrompt = promptId;
    let ready = false;
    const post = (): void => {
      if (!ready) return;
      void panel.webview.postMessage(openPrompt ? { ...latest, openPrompt } : latest);
      if (latest.detail) openPrompt = undefined;
    };
    this.panels.set(sessionId, {
      panel,
      openPrompt: (id) => {
        openPrompt = id;
        post();
      },
    });
    const load = async (): Promise<void> => {
      try {
        latest = { type: 'session', sessionId, detail: await this.source.fetch(sessionId, range) };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.log.warn(`Session ${sessionId}: ${message}`);
        latest = { type: 'session', sessionId, detail: null, error: message };
      }
      post();
    };
    const listener = panel.webview.onDidReceiveMessage((raw: unknown) => {
      const message = parseWebviewMessage(raw);
      if (message?.type === 'ready') {
        ready = true;
        post();
      } else if (message?.type === 'run' && message.action === 'refresh') {
        void load();
      } else if (message?.type === 'run' && message.action === 'openGrafana') {
        void this.source
          .openGrafana(sessionId, range)
          .catch((error: unknown) => this.log.error('Could not open Grafana:', error));
      } else {
        this.log.warn('Ignored an unexpected message from a session panel.');
      }
    });
    panel.onDidDispose(() => {
      listener.dispose();
      this.panels.delete(sessionId);
    });
    void load();
  }

  dispose(): void {
    for (const { panel } of [...this.panels.values()]) panel.dispose();
  }
}
