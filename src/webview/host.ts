/** The page's one handle on VS Code: messages to the host, and the state VS Code keeps across a hide or a reload. */
import type { ViewState, WebviewToHost } from '../protocol';
import type { SessionDetail, TimeRange } from '../snapshot';

/** How a session's panel shows its prompts: their order, and the one whose waterfall is open ('' for the events
 * outside any prompt). */
export interface PromptsView {
  order: 'cost' | 'time';
  open?: string;
}

/** What survives the webview being hidden and shown again, or reloaded. */
export interface PersistedState {
  range: TimeRange;
  view: ViewState | undefined;
  /** In a session's panel: what it showed last, and how its prompts were shown. */
  session?: { sessionId: string; detail: SessionDetail | null; error?: string; prompts?: PromptsView };
}

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): PersistedState | undefined;
  setState(state: PersistedState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

// A page may acquire the API once.
const api = acquireVsCodeApi();

export function post(message: WebviewToHost): void {
  api.postMessage(message);
}

export function loadState(): PersistedState | undefined {
  return api.getState();
}

export function saveState(state: PersistedState): void {
  api.setState(state);
}
