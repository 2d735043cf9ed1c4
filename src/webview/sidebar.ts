/** The sidebar: the range picker, then what the stack's state allows (a way to start it, a wait, an error, the data). */
import { updatedAt, when } from '../format';
import type { ViewState } from '../protocol';
import { TIME_RANGES, type Snapshot, type TimeRange } from '../snapshot';
import { applyChartTheme } from './charts';
import { actionButton, backendWarnings, el, loading, message } from './dom';
import { post } from './host';
import { alertsView } from './sections/alerts';
import { costView } from './sections/cost';
import { errorsView } from './sections/errors';
import { kpisView } from './sections/kpis';
import { planView } from './sections/plan';
import { productivityView } from './sections/productivity';
import { promptsView } from './sections/prompts';
import { recentView } from './sections/recent';
import { sessionsView } from './sections/sessions';
import { subagentsView } from './sections/subagents';
import { teamView } from './sections/team';
import { tokensAndToolsView } from './sections/tokensAndTools';

function rangePicker(selected: TimeRange, onSelect: (range: TimeRange) => void): HTMLElement {
  const group = el('div', { class: 'ranges', role: 'radiogroup', 'aria-label': 'Time range' });
  for (const range of TIME_RANGES) {
    const button = el(
      'button',
      {
        type: 'button',
        role: 'radio',
        'aria-checked': String(range === selected),
        class: range === selected ? 'range selected' : 'range',
      },
      range,
    );
    button.addEventListener('click', () => {
      onSelect(range);
      post({ type: 'selectRange', range });
    });
    group.append(button);
  }
  return group;
}

/** Every section of a snapshot, in the sidebar's order; a section whose backend failed is left out. */
function dataView(snapshot: Snapshot): HTMLElement[] {
  applyChartTheme();
  const { metrics, events } = snapshot;
  return [
    ...backendWarnings(snapshot.errors),
    ...(metrics
      ? [
          kpisView(metrics, snapshot.today),
          ...alertsView(snapshot.alerts),
          ...(metrics.team ? teamView(metrics.team, metrics.kpis.costUsd) : []),
          ...costView(metrics, snapshot.range),
          ...tokensAndToolsView(metrics),
          ...productivityView(metrics.kpis),
          ...planView(snapshot.plan, snapshot.range),
          ...subagentsView(metrics.subagents, metrics.kpis.costUsd),
          ...errorsView(metrics, snapshot.fetchedAt),
        ]
      : []),
    ...(events ? recentView(events) : []),
    ...promptsView(snapshot.prompts),
    ...(metrics ? sessionsView(metrics.sessions) : []),
    // Long ranges start on the hour (the minute for 1 h): the window is whole slots the extension keeps, plus the open one.
    el('p', { class: 'updated' }, `Since ${when(snapshot.startMs)} · updated ${updatedAt(snapshot.fetchedAt)}`),
  ];
}

/** The sidebar's page for a state; `onSelectRange`: the user picked another range (before the host is told). */
export function sidebar(
  view: ViewState | undefined,
  range: TimeRange,
  onSelectRange: (range: TimeRange) => void,
): HTMLElement[] {
  const header = el(
    'header',
    {},
    rangePicker(range, onSelectRange),
    el('div', { class: 'header-actions' }, actionButton('Open Grafana', 'openGrafana', true)),
  );
  let body: HTMLElement[];
  switch (view?.kind) {
    case undefined:
    case 'loading':
      body = [loading()];
      break;
    case 'stopped':
      body = [
        message(
          'The telemetry stack is not running',
          'Start it to collect what your Claude Code sessions cost, the tokens they use and the tools that fail. It runs locally in Docker; your data stays on this machine.',
          actionButton('Start Telemetry Stack', 'startStack'),
        ),
      ];
      break;
    case 'starting':
      body = [loading(view.waitingFor ? `Starting the stack: waiting for ${view.waitingFor}…` : 'Starting the stack…')];
      break;
    case 'error':
      body = [
        message(
          'Could not load telemetry',
          view.message,
          actionButton('Retry', 'refresh'),
          actionButton('Show Logs', 'showLogs', true),
        ),
      ];
      break;
    case 'noData':
      body = [
        message(
          `No Claude Code activity in the last ${view.range}`,
          'Open a new terminal in VS Code and run claude there: terminals opened by VS Code report to the stack. Data shows here within seconds.',
        ),
      ];
      break;
    case 'data':
      body = dataView(view.snapshot);
      break;
  }
  return [header, el('main', {}, ...body)];
}
