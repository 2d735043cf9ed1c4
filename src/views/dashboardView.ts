import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { parseWebviewMessage, type HostAction, type HostToWebview, type ViewState } from '../protocol';
import type { TimeRange } from '../snapshot';
import type { Log } from '../log';
import { dashboardHtml } from './dashboardHtml';

export const DASHBOARD_VIEW_ID = 'claudeTelemetry.dashboard';
const RANGE_KEY = 'claudeTelemetry.dashboard.range';

export interface DashboardHandlers {
  /** The user picked another range: the host refreshes for it. */
  onRangeChanged(range: TimeRange): void;
  onAction(action: HostAction): void;
  /** The view became visible or hidden: the refresh pace follows. */
  onVisibilityChanged(visible: boolean): void;
}

/** Hosts the sidebar webview: its HTML and CSP, the `ready` handshake, and the latest state to post. */
export class DashboardViewProvider implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private state: ViewState = { kind: 'loading' };

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly memento: vscode.Memento,
    private readonly handlers: DashboardHandlers,
    private readonly log: Log,
  ) {}

  get range(): TimeRange {
    return this.memento.get<TimeRange>(RANGE_KEY, '24h');
  }

  get visible(): boolean {
    return this.view?.visible ?? false;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const distUri = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const mediaUri = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [distUri, mediaUri] };
    view.webview.html = this.html(view.webview, distUri, mediaUri);
    // One set of listeners per resolved view: dropped with the view, so a re-resolved view does not add more.
    const listeners = [
      view.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      view.onDidChangeVisibility(() => this.handlers.onVisibilityChanged(view.visible)),
    ];
    listeners.push(
      view.onDidDispose(() => {
        vscode.Disposable.from(...listeners).dispose();
        this.view = undefined;
        this.ready = false;
        this.handlers.onVisibilityChanged(false);
      }),
    );
  }

  /** Shows a state; posted now if the webview has said it is ready, else when it does. */
  show(state: ViewState): void {
    this.state = state;
    this.post();
  }


  private receive(raw: unknown): void {
    const message = parseWebviewMessage(raw);
    if (!message) {
      this.log.warn('Ignored an unexpected message from the dashboard webview.');
      return;
    }
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.post();
        this.handlers.onVisibilityChanged(true);
        break;
      case 'selectRange':
        void this.memento.update(RANGE_KEY, message.range);
        this.show({ kind: 'loading' });
        this.handlers.onRangeChanged(message.range);
        break;
      case 'run':
        this.handlers.onAction(message.action);
        break;
    }
  }

  private post(): void {
    if (!this.view || !this.ready) {
      return;
    }
    const message: HostToWebview = { type: 'state', state: this.state, range: this.range };
    void this.view.webview.postMessage(message);
  }

  private html(webview: vscode.Webview, distUri: vscode.Uri, mediaUri: vscode.Uri): string {
    return dashboardHtml({
      cspSource: webview.cspSource,
      nonce: randomBytes(16).toString('base64'),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(distUri, 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(mediaUri, 'dashboard.css')).toString(),
      codiconsUri: webview.asWebviewUri(vscode.Uri.joinPath(distUri, 'codicons', 'codicon.css')).toString(),
    });
  }
}
