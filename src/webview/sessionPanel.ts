/** A session's panel: its figures over the range, its cost over time, its tools and errors, its event timeline. */
import { count, duration, exact, tokens, updatedAt, usd, when } from '../format';
import type { SessionDetail } from '../snapshot';
import { costChart, applyChartTheme } from './charts';
import { actionButton, backendWarnings, countCell, el, kpi, loading, message, table, tokensCell } from './dom';

export interface SessionState {
  sessionId: string;
  detail: SessionDetail | null;
  error?: string;
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

function timeline(events: NonNullable<SessionDetail['events']>): HTMLElement[] {
  const [last, first] = [events[0], events.at(-1)];
  return [
    el('h3', {}, 'Timeline'),
    ...(first && last
      ? [
          el(
            'p',
            {},
            `From ${when(first.time)} to ${when(last.time)}: ${duration((last.time - first.time) / 1000)} between its first and last event in this range.`,
          ),
        ]
      : []),
    table(
      ['Time', 'Event', 'Detail'],
      events.map((event) => [
        when(event.time),
        event.failed ? { text: `✖ ${event.name}`, title: `${event.name} (failed)` } : event.name,
        event.detail,
      ]),
      'No events of this session in this range (Loki keeps them only when the stack ran).',
    ),
  ];
}

export function sessionPanel(state: SessionState): HTMLElement[] {
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
      ...(detail.events ? timeline(detail.events) : []),
    );
  }
  return [header, el('main', {}, ...body)];
}
