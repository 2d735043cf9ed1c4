/** A session's panel: its figures over the range, its cost over time, its tools and errors, its prompts, each one's
 * waterfall. */
import { count, duration, elapsed, exact, tokens, updatedAt, usd, when } from '../format';
import type { PromptRow, SessionDetail, SessionPrompts } from '../snapshot';
import { costChart, applyChartTheme } from './charts';
import { actionButton, backendWarnings, countCell, el, kpi, loading, message, table, tokensCell, usdCell } from './dom';
import type { PromptsView } from './host';

export interface SessionState {
  sessionId: string;
  detail: SessionDetail | null;
  error?: string;
  prompts?: PromptsView;
}

function figures(m: NonNullable<SessionDetail['metrics']>, range: SessionDetail['range']): HTMLElement[] {
  const failures = m.tools.reduce((n, t) => n + t.failures, 0);
  const apiErrors = m.apiErrorsByStatus.reduce((n, e) => n + e.count, 0);
  return [
    el(
      'div',
      { class: 'kpis' },
      kpi('Cost', usd(m.costUsd)),
      kpi('Tokens', tokens(m.tokens.total), 'normal', `${exact(m.tokens.total)} tokens`),
      kpi('Active: Claude', duration(m.activeCliSeconds)),
      kpi('Active: you', duration(m.activeUserSeconds)),
      kpi('Tool failures', count(failures), failures > 0 ? 'bad' : 'normal', exact(failures)),
      kpi('API errors', count(apiErrors), apiErrors > 0 ? 'bad' : 'normal', exact(apiErrors)),
    ),
    el(
      'p',
      {},
      `Project: ${m.projects.join(', ') || 'not recorded (a terminal opened before the extension set the workspace)'}`,
    ),
    costChart('Session cost over time', m.costSeries, range),
    el('h3', {}, 'Cost by model'),
    table(
      ['Model', 'Cost'],
      m.costByModel.map((entry) => [entry.model, usd(entry.usd)]),
      'No cost in this range.',
    ),
    el('h3', {}, 'Tokens by type'),
    table(
      ['Type', 'Tokens'],
      (['input', 'output', 'cacheRead', 'cacheCreation', 'other'] as const)
        .filter((type) => m.tokens[type] > 0)
        .map((type) => [type, tokensCell(m.tokens[type])]),
      'No tokens in this range.',
    ),
    el('h3', {}, 'Tools'),
    table(
      ['Tool', 'Calls', 'Failed'],
      m.tools.map((tool) => [tool.tool, countCell(tool.calls), countCell(tool.failures)]),
      'No tool calls in this range.',
    ),
    el('h3', {}, 'API errors'),
    table(
      ['Status', 'Model', 'Count'],
      m.apiErrorsByStatus.map((error) => [error.statusCode, error.model, countCell(error.count)]),
      'No API errors in this range.',
    ),
  ];
}

/** The key of a prompt in the view's state: the events outside any prompt have none. */
const keyOf = (prompt: PromptRow): string => prompt.promptId ?? '';

function promptName(prompt: PromptRow): string {
  if (prompt.promptId === null) return 'Outside a prompt (startup: settings, plugins, hooks, MCP servers)';
  if (prompt.text !== null) return prompt.text;
  return prompt.length === null ? 'A prompt' : `A prompt of ${count(prompt.length)} characters`;
}

function promptsSection(read: SessionPrompts, view: PromptsView, change: (view: PromptsView) => void): HTMLElement[] {
  const { prompts } = read;
  const first = prompts[0];
  // The startup's row begins first and may end last (a hook at the session's end).
  const endMs = Math.max(...prompts.map((p) => p.endMs));
  const rows =
    view.order === 'cost' ? [...prompts].sort((a, b) => b.costUsd - a.costUsd || a.startMs - b.startMs) : prompts;
  // The newest prompt's waterfall opens first: the one a user watching a session wants.
  const open =
    prompts.find((p) => keyOf(p) === view.open) ?? [...prompts].reverse().find((p) => p.promptId !== null) ?? first;
  const orderButton = (order: PromptsView['order'], label: string): HTMLButtonElement => {
    const button = el(
      'button',
      { type: 'button', class: 'secondary', 'aria-pressed': String(view.order === order) },
      label,
    );
    button.addEventListener('click', () => change({ ...view, order }));
    return button;
  };
  const asked = prompts.filter((p) => p.promptId !== null).length;
  return [
    el('h3', {}, 'Prompts'),
    ...(first
      ? [
          el(
            'p',
            {},
            `${count(asked)} ${asked === 1 ? 'prompt' : 'prompts'} and ${count(read.events)} events from ` +
              `${when(first.startMs)} to ${when(endMs)}: ${duration((endMs - first.startMs) / 1000)} ` +
              'between its first and last event in this range.' +
              (read.complete ? '' : ' Only its newest events were read: Open in Grafana for the ones before them.'),
          ),
          el(
            'div',
            { class: 'header-actions', role: 'group', 'aria-label': 'Order of the prompts' },
            orderButton('cost', 'Most expensive first'),
            orderButton('time', 'In order'),
          ),
        ]
      : []),
    // Scrolls sideways rather than cut a prompt's name to nothing in a narrow editor.
    el(
      'div',
      { class: 'scroll-x' },
      table(
        ['Prompt', 'Cost', 'Tokens', 'API calls', 'Tools', 'Took', 'Failed'],
        rows.map((p) => [
          {
            text: promptName(p),
            title: p.promptId === null ? 'Events outside any prompt' : `Prompt ${p.promptId}: open its waterfall`,
            open: () => change({ ...view, open: keyOf(p) }),
            sub: p === open ? `${when(p.startMs)} · its waterfall is below` : when(p.startMs),
          },
          usdCell(p.costUsd),
          tokensCell(p.tokens),
          countCell(p.apiCalls),
          countCell(p.toolCalls),
          elapsed(p.endMs - p.startMs),
          countCell(p.failures),
        ]),
        'No events of this session in this range (Loki keeps them only when the stack ran).',
      ),
    ),
    ...(open ? waterfall(open) : []),
  ];
}

/** A prompt's steps in order, each a bar on the prompt's time axis. */
function waterfall(prompt: PromptRow): HTMLElement[] {
  const span = Math.max(1, prompt.endMs - prompt.startMs);
  const bar = (startMs: number, endMs: number): HTMLElement => {
    const track = el('div', { class: 'waterfall-track' });
    const fill = el('div', {
      class: 'waterfall-bar',
      title: `from +${elapsed(startMs - prompt.startMs)}, for ${elapsed(endMs - startMs)}`,
    });
    // Through the CSSOM, which the page's policy allows (it refuses style attributes).
    // An instant still shows, and still inside the track.
    const width = Math.max(0.5, (100 * (endMs - startMs)) / span);
    fill.style.marginLeft = `${Math.min((100 * (startMs - prompt.startMs)) / span, 100 - width)}%`;
    fill.style.width = `${width}%`;
    track.append(fill);
    return track;
  };
  const head = ['Step', 'When', 'Took', 'Tokens', 'Cost', 'Detail'];
  return [
    el(
      'h3',
      {},
      `Waterfall: ${promptName(prompt)} (${usd(prompt.costUsd)}, ${elapsed(prompt.endMs - prompt.startMs)})`,
    ),
    el(
      'div',
      { class: 'scroll-x' },
      el(
        'table',
        { class: 'waterfall' },
        el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))),
        el(
          'tbody',
          {},
          ...prompt.steps.map((step) => {
            const cost = usdCell(step.costUsd);
            const tokenCount = tokensCell(step.tokens);
            const cell = (text: string, title = text): HTMLElement => el('td', { title }, text);
            return el(
              'tr',
              { class: `step-${step.kind}${step.failed ? ' failed' : ''}` },
              cell(step.failed ? `✖ ${step.label}` : step.label, step.failed ? `${step.label} (failed)` : step.label),
              el('td', { class: 'waterfall-cell' }, bar(step.startMs, step.endMs)),
              cell(elapsed(step.endMs - step.startMs)),
              step.kind === 'api' ? cell(tokenCount.text, tokenCount.title) : cell(''),
              step.kind === 'api' ? cell(cost.text, cost.title) : cell(''),
              cell(step.detail),
            );
          }),
        ),
      ),
    ),
  ];
}

export function sessionPanel(state: SessionState, change: (prompts: PromptsView) => void): HTMLElement[] {
  applyChartTheme();
  const { sessionId, detail } = state;
  const header = el(
    'header',
    {},
    el('h2', { class: 'session-title', title: sessionId }, `Session ${sessionId}`),
    el(
      'div',
      { class: 'header-actions' },
      actionButton('Refresh', 'refresh', true),
      actionButton('Open in Grafana', 'openGrafana', true),
    ),
  );
  const body: HTMLElement[] = [];
  if (!detail) {
    body.push(
      state.error ? message('Could not load the session', state.error, actionButton('Retry', 'refresh')) : loading(),
    );
  } else {
    body.push(
      ...backendWarnings(detail.errors),
      el('p', { class: 'updated' }, `Since ${when(detail.startMs)} · as of ${updatedAt(detail.fetchedAt)}`),
      ...(detail.metrics ? figures(detail.metrics, detail.range) : []),
      ...(detail.prompts ? promptsSection(detail.prompts, state.prompts ?? { order: 'time' }, change) : []),
    );
  }
  return [header, el('main', {}, ...body)];
}
