/**
 * The dashboard webview (the sidebar, or a session's panel): the state it keeps and the messages it answers. Every
 * string that comes from telemetry reaches the page through text nodes (`dom.ts`) or Chart.js's canvas text, never as
 * HTML.
 */
import type { HostToWebview } from '../protocol';
import { loadState, post, saveState, type PersistedState } from './host';
import { renderPass } from './kept';
import { sessionPanel } from './sessionPanel';
import { sidebar } from './sidebar';

const root = document.getElementById('root') as HTMLElement;
let persisted: PersistedState = loadState() ?? { range: '24h', view: undefined };

function remember(state: PersistedState): void {
  persisted = state;
  saveState(persisted);
}

function draw(children: () => HTMLElement[]): void {
  renderPass(() => root.replaceChildren(...children()));
}

function render(): void {
  const { session, view, range } = persisted;
  if (session)
    draw(() =>
      sessionPanel(session, (prompts) => (remember({ ...persisted, session: { ...session, prompts } }), render())),
    );
  // A range picked is remembered at once; the host answers with its data.
  else draw(() => sidebar(view, range, (picked) => remember({ ...persisted, range: picked })));
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const incoming = event.data;
  if (incoming?.type === 'state') {
    remember({ range: incoming.range, view: incoming.state });
    render();
  } else if (incoming?.type === 'session') {
    // A refresh keeps the order picked and the prompt open; the sidebar may ask to open another.
    const kept = persisted.session?.prompts;
    const prompts = incoming.openPrompt ? { order: kept?.order ?? 'time', open: incoming.openPrompt } : kept;
    remember({
      ...persisted,
      session: {
        sessionId: incoming.sessionId,
        detail: incoming.detail,
        ...(incoming.error ? { error: incoming.error } : {}),
        ...(prompts ? { prompts } : {}),
      },
    });
    render();
  }
});

// Draw what was there before a reload at once, then ask the host for the current state.
render();
post({ type: 'ready' });
