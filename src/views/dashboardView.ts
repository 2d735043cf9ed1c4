import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { parseWebviewMessage, type HostAction, type HostToWebview, type ViewState } from '../protocol';
import type { CostDimension, TimeRange } from '../snapshot';
import type { Log } from '../log';
import { dashboardHtml } from './dashboardHtml';

export const DASHBOARD_VIEW_ID = 'claudeTelemetry.dashboard';
const RANGE_KEY = 'claudeTelemetry.dashboard.range';
const GROUP_BY_KEY = 'claudeTelemetry.dashboard.groupBy';

/** Hosts the sidebar webview: its HTML and CSP, the `ready` handshake, and the latest state to post. What the user
 * does there comes out as events, for whoever owns the refresh to follow. */
export class DashboardViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private state: ViewState = { kind: 'loading' };
  private readonly rangeChanged = new vscode.EventEmitter<TimeRange>();
  private readonly groupByChanged = new vscode.EventEmitter<CostDimension>();
  private readonly sessionRequested = new vscode.EventEmitter<{ sessionId: string; promptId?: string }>();
  private readonly actionRequested = new vscode.EventEmitter<HostAction>();
  private readonly visibilityChanged = new vscode.EventEmitter<boolean>();
  /** The user picked another range. */
  readonly onDidChangeRange = this.rangeChanged.event;
  /** The user picked another dimension to group cost by. */
  readonly onDidChangeGroupBy = this.groupByChanged.event;
  /** The user picked a session of the list: open it in full. */
  readonly onDidRequestSession = this.sessionRequested.event;
  /** A button of the view: start the stack, open Grafana, refresh, show the logs. */
  readonly onDidRequestAction = this.actionRequested.event;
  /** The view became visible or hidden. */
  readonly onDidChangeVisibility = this.visibilityChanged.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly memento: vscode.Memento,
    private readonly log: Log,
  ) {}

  dispose(): void {
    this.rangeChanged.dispose();
    this.groupByChanged.dispose();
    this.sessionRequested.dispose();
    this.actionRequested.dispose();
    this.visibilityChanged.dispose();
  }

  get range(): TimeRange {
    return this.memento.get<TimeRange>(RANGE_KEY, '24h');
  }

  get groupBy(): CostDimension {
    return this.memento.get<CostDimension>(GROUP_BY_KEY, 'model');
  }

  get visible(): boolean {
    return this.view?.visible ?? false;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = webviewPage(view.webview, this.extensionUri);
    // One set of listeners per resolved view: dropped with the view, so a re-resolved view does not add more.
    const listeners = [
      view.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)),
      view.onDidChangeVisibility(() => this.visibilityChanged.fire(view.visible)),
    ];
    listeners.push(
      view.onDidDispose(() => {
        vscode.Disposable.from(...listeners).dispose();
        this.view = undefined;
        this.ready = false;
        this.visibilityChanged.fire(false);
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
        this.visibilityChanged.fire(true);
        break;
      case 'selectRange':
        void this.memento.update(RANGE_KEY, message.range);
        this.show({ kind: 'loading' });
        this.rangeChanged.fire(message.range);
        break;
      case 'selectGroupBy':
        void this.memento.update(GROUP_BY_KEY, message.dimension);
        this.groupByChanged.fire(message.dimension);
        break;
      case 'openSession':
        this.sessionRequested.fire({
          sessionId: message.sessionId,
          ...(message.promptId ? { promptId: message.promptId } : {}),
        });
        break;
      case 'run':
        this.actionRequested.fire(message.action);
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
}

/** What the page may load: its script, its style and the codicons, from the extension's own folders. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/** The page of the sidebar and of a session's panel (one script: it draws what the host posts). */
export function webviewPage(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const distUri = vscode.Uri.joinPath(extensionUri, 'dist');
  return dashboardHtml({
    cspSource: webview.cspSource,
    nonce: randomBytes(16).toString('base64'),
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(distUri, 'webview.js')).toString(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'dashboard.css')).toString(),
    codiconsUri: webview.asWebviewUri(vscode.Uri.joinPath(distUri, 'codicons', 'codicon.css')).toString(),
  });
}
