/**
 * The dashboard webview. Every string that comes from telemetry reaches the page through `textContent` or
 * Chart.js's canvas text, never as HTML.
 */
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import type { HostAction, HostToWebview, ViewState, WebviewToHost } from '../protocol';
import { usd } from '../format';
import { COST_DIMENSIONS, TIME_RANGES, isCostDimension, type ChartSeries, type CostBreakdown, type Snapshot, type TimeRange } from '../snapshot';

Chart.register(ArcElement, BarController, BarElement, CategoryScale, DoughnutController, Legend, LinearScale, Tooltip);

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): PersistedState | undefined;
  setState(state: PersistedState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** What survives the webview being hidden and shown again, or reloaded. */
interface PersistedState {
  range: TimeRange;
  view: ViewState | undefined;
}

const vscode = acquireVsCodeApi();
const root = document.getElementById('root') as HTMLElement;
const charts: Chart[] = [];
let persisted: PersistedState = vscode.getState() ?? { range: '24h', view: undefined };

type Child = Node | string | null | undefined | false;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/** A codicon (VS Code's icon font): decorative, the label says what the button does. */
function icon(name: string): HTMLElement {
  return el('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

const ACTION_ICON: Record<HostAction, string> = { startStack: 'play', openGrafana: 'graph', refresh: 'refresh', showLogs: 'output' };

function actionButton(label: string, action: HostAction, secondary = false): HTMLButtonElement {
  const button = el('button', { class: secondary ? 'secondary' : 'primary', type: 'button' }, icon(ACTION_ICON[action]), label);
  button.addEventListener('click', () => vscode.postMessage({ type: 'run', action }));
  return button;
}

const number = (value: number): string =>
  value >= 1e9 ? `${(value / 1e9).toFixed(1)}B` : value >= 1e6 ? `${(value / 1e6).toFixed(1)}M` : value >= 1e4 ? `${(value / 1e3).toFixed(1)}k` : String(Math.round(value));
const percent = (value: number | null): string => (value === null ? '—' : `${(value * 100).toFixed(value < 0.1 ? 1 : 0)}%`);
const duration = (seconds: number): string => {
  const minutes = Math.round(seconds / 60);
  return minutes >= 60 ? `${Math.floor(minutes / 60)}h ${minutes % 60}m` : `${minutes}m`;
};
/** Short enough for a sidebar column: the time of day today, else the date too. */
const time = (epochMs: number): string => {
  const date = new Date(epochMs);
  return date.toDateString() === new Date().toDateString()
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
};

function css(variable: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(variable).trim() || fallback;
}

function palette(): string[] {
  return [
    css('--vscode-charts-blue', '#3794ff'),
    css('--vscode-charts-orange', '#d18616'),
    css('--vscode-charts-green', '#89d185'),
    css('--vscode-charts-purple', '#b180d7'),
    css('--vscode-charts-yellow', '#cca700'),
    css('--vscode-charts-red', '#f14c4c'),
  ];
}

function rangePicker(selected: TimeRange): HTMLElement {
  const group = el('div', { class: 'ranges', role: 'radiogroup', 'aria-label': 'Time range' });
  for (const range of TIME_RANGES) {
    const button = el('button', { type: 'button', role: 'radio', 'aria-checked': String(range === selected), class: range === selected ? 'range selected' : 'range' }, range);
    button.addEventListener('click', () => {
      persisted = { ...persisted, range };
      vscode.setState(persisted);
      vscode.postMessage({ type: 'selectRange', range });
    });
    group.append(button);
  }
  return group;
}

/** Which dimension the cost table groups by: only those the range's data carries. */
function groupByPicker(breakdown: CostBreakdown): HTMLElement {
  const select = el('select', { 'aria-label': 'Group cost by', class: 'group-by' });
  for (const dimension of breakdown.available) {
    const option = el('option', { value: dimension }, COST_DIMENSIONS[dimension].title);
    option.selected = dimension === breakdown.dimension;
    select.append(option);
  }
  select.addEventListener('change', () => {
    if (isCostDimension(select.value)) vscode.postMessage({ type: 'selectGroupBy', dimension: select.value });
  });
  return el('label', { class: 'group-by-label' }, 'Cost by ', select);
}

function message(title: string, body: string, ...actions: HTMLElement[]): HTMLElement {
  return el('section', { class: 'message' }, el('h2', {}, title), el('p', {}, body), el('div', { class: 'actions' }, ...actions));
}

function kpi(label: string, value: string, tone: 'normal' | 'bad' = 'normal'): HTMLElement {
  return el('div', { class: `kpi ${tone}` }, el('div', { class: 'kpi-value' }, value), el('div', { class: 'kpi-label' }, label));
}

/** A figure as this page writes them: money, counts, percentages, durations. */
const FIGURE = /^(—|\$?[\d,.]+[kMB%]?|(\d+[hms] ?)+)$/;

/** A table cell: its text, or its text and a longer hover text. */
type Cell = string | { text: string; title: string };

/** `whole`: text columns that keep their width too (short ids). */
function table(headers: string[], rows: Cell[][], empty: string, whole: readonly number[] = []): HTMLElement {
  if (rows.length === 0) {
    return el('p', { class: 'empty' }, empty);
  }
  const text = (cell: Cell | undefined): string => (typeof cell === 'object' ? cell.text : (cell ?? ''));
  // A column of figures keeps its width; the text columns share what is left.
  const kind = headers.map((_, index) => (whole.includes(index) || rows.every((cells) => FIGURE.test(text(cells[index]))) ? 'num' : 'text'));
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, ...headers.map((header, index) => el('th', { class: kind[index]! }, header)))),
    el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((cell, index) =>
      el('td', { title: typeof cell === 'object' ? cell.title : cell, class: kind[index]! }, text(cell)))))),
  );
}

function chart(title: string, config: ChartConfiguration): HTMLElement {
  const canvas = el('canvas', { role: 'img', 'aria-label': title });
  const figure = el('figure', { class: 'chart' }, el('figcaption', {}, title), el('div', { class: 'canvas-box' }, canvas));
  // Chart.js measures its parent: create the chart once the figure is in the document.
  queueMicrotask(() => charts.push(new Chart(canvas, config)));
  return figure;
}

function bucketLabel(epochMs: number, range: TimeRange): string {
  const date = new Date(epochMs);
  return range === '1h' || range === '24h'
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

/** One stacked series per model on the union of the buckets any model has. */
function costChartData(series: ChartSeries[]): { timestamps: number[]; datasets: { label: string; values: number[] }[] } {
  const timestamps = [...new Set(series.flatMap((entry) => entry.points.map(([timestamp]) => timestamp)))].sort((a, b) => a - b);
  const datasets = series.map((entry) => {
    const byTime = new Map(entry.points);
    return { label: entry.key, values: timestamps.map((timestamp) => byTime.get(timestamp) ?? 0) };
  });
  return { timestamps, datasets };
}

function dataView(snapshot: Snapshot): HTMLElement[] {
  const colors = palette();
  Chart.defaults.color = css('--vscode-foreground', '#cccccc');
  Chart.defaults.borderColor = css('--vscode-charts-lines', 'rgba(128,128,128,0.3)');
  Chart.defaults.font.family = css('--vscode-font-family', 'sans-serif');

  const sections: HTMLElement[] = [];
  for (const error of [snapshot.errors.prometheus, snapshot.errors.loki]) {
    if (error) {
      sections.push(el('p', { class: 'warning', role: 'status' }, error.message));
    }
  }
  const { metrics, events } = snapshot;
  if (metrics) {
    const { kpis } = metrics;
    const cost = costChartData(metrics.costSeries);
    const tokens = (['input', 'output', 'cacheRead', 'cacheCreation', 'other'] as const)
      .map((type) => ({ type, tokens: kpis.tokens[type] }))
      .filter((entry) => entry.tokens > 0);
    sections.push(
      el(
        'div',
        { class: 'kpis' },
        kpi('Cost', usd(kpis.costUsd)),
        kpi('Tokens', number(kpis.tokens.total)),
        kpi('Sessions', number(kpis.sessions)),
        kpi('Cache hit rate', percent(kpis.cacheHitRate)),
        kpi('Tool error rate', percent(kpis.toolErrorRate), (kpis.toolErrorRate ?? 0) > 0.15 ? 'bad' : 'normal'),
        kpi('API errors', number(kpis.apiErrors), kpis.apiErrors > 0 ? 'bad' : 'normal'),
      ),
      chart('Cost by model', {
        type: 'bar',
        data: {
          labels: cost.timestamps.map((timestamp) => bucketLabel(timestamp, snapshot.range)),
          datasets: cost.datasets.map((dataset, index) => ({
            label: dataset.label,
            data: dataset.values,
            backgroundColor: colors[index % colors.length],
            stack: 'cost',
          })),
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          scales: {
            x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true } },
            y: { stacked: true, ticks: { callback: (value) => `$${value}` } },
          },
          plugins: { legend: { position: 'bottom', labels: { boxWidth: 10 } } },
        },
      }),
      groupByPicker(metrics.costBy),
      table(
        [COST_DIMENSIONS[metrics.costBy.dimension].title, 'Cost', 'Tokens', 'Share'],
        metrics.costBy.rows.map((row) => [
          row.key || `(no ${COST_DIMENSIONS[metrics.costBy.dimension].title.toLowerCase()})`,
          usd(row.costUsd),
          number(row.tokens),
          percent(kpis.costUsd > 0 ? row.costUsd / kpis.costUsd : null),
        ]),
        'No cost in this range.',
      ),
      chart('Tokens by type', {
        type: 'doughnut',
        data: {
          labels: tokens.map((entry) => entry.type),
          datasets: [{ data: tokens.map((entry) => entry.tokens), backgroundColor: colors, borderWidth: 0 }],
        },
        options: { animation: false, maintainAspectRatio: false, plugins: { legend: { position: 'right', labels: { boxWidth: 10 } } } },
      }),
      chart('Tool calls and failures', {
        type: 'bar',
        data: {
          labels: metrics.tools.map((entry) => entry.tool),
          datasets: [
            { label: 'Succeeded', data: metrics.tools.map((entry) => entry.calls - entry.failures), backgroundColor: colors[2], stack: 'tools' },
            { label: 'Failed', data: metrics.tools.map((entry) => entry.failures), backgroundColor: colors[5], stack: 'tools' },
          ],
        },
        options: {
          indexAxis: 'y',
          animation: false,
          maintainAspectRatio: false,
          scales: { x: { stacked: true }, y: { stacked: true } },
          plugins: { legend: { position: 'bottom', labels: { boxWidth: 10 } } },
        },
      }),
    );
  }
  if (metrics) {
    const { kpis } = metrics;
    const decisions = kpis.editsAccepted + kpis.editsRejected;
    const lines = kpis.linesAdded + kpis.linesRemoved;
    sections.push(
      el('h3', {}, 'Productivity'),
      table(
        ['Figure', 'Value'],
        [
          ['Lines added / removed', `${number(kpis.linesAdded)} / ${number(kpis.linesRemoved)}`],
          ['Commits / pull requests', `${number(kpis.commits)} / ${number(kpis.pullRequests)}`],
          ['Edits accepted', decisions > 0 ? `${number(kpis.editsAccepted)} of ${number(decisions)} (${percent(kpis.editsAccepted / decisions)})` : 'none'],
          ['Cost per 1,000 lines', lines > 0 ? usd((kpis.costUsd / lines) * 1000) : 'n/a'],
          ['Active: Claude / you', `${duration(kpis.activeCliSeconds)} / ${duration(kpis.activeUserSeconds)}`],
          ['API requests / errors', `${number(kpis.apiRequests)} / ${number(kpis.apiErrors)}`],
        ],
        'No activity in this range.',
        [1],
      ),
      el('h3', {}, 'API errors by status'),
      table(
        ['Status', 'Model', 'Count'],
        metrics.apiErrorsByStatus.map((entry) => [entry.statusCode, entry.model, number(entry.count)]),
        'No API errors in this range.',
      ),
    );
  }
  if (events) {
    sections.push(
      el('h3', {}, 'Recent tool failures'),
      table(
        ['Time', 'Tool', 'Error', 'Session'],
        events.toolFailures.map((failure) => [time(failure.time), failure.tool, failure.errorType, failure.sessionId.slice(0, 8)]),
        'No tool failures in this range.',
        [3],
      ),
      el('h3', {}, 'Recent API errors'),
      table(
        ['Time', 'Status', 'Model', 'Message'],
        events.apiErrors.map((error) => [time(error.time), error.statusCode, error.model, error.message]),
        'No API errors in this range.',
      ),
    );
  }
  if (metrics) {
    sections.push(
      el('h3', {}, 'Sessions'),
      table(
        ['Session', 'Cost', 'Tokens', 'Active', 'Errors'],
        metrics.sessions.map((session) => [
          // Five figures fill a sidebar's width: the session's models are in its hover text.
          { text: session.sessionId.slice(0, 8), title: `${session.sessionId}\n${session.models.join(', ') || 'no model'}` },
          usd(session.costUsd),
          number(session.tokens),
          duration(session.activeSeconds),
          String(session.apiErrors + session.toolFailures),
        ]),
        'No sessions in this range.',
        [0],
      ),
    );
  }
  sections.push(el('p', { class: 'updated' }, `Updated ${new Date(snapshot.fetchedAt).toLocaleTimeString()}`));
  return sections;
}

function render(view: ViewState | undefined, range: TimeRange): void {
  for (const existing of charts.splice(0)) {
    existing.destroy();
  }
  const header = el('header', {}, rangePicker(range), el('div', { class: 'header-actions' }, actionButton('Open Grafana', 'openGrafana', true)));
  let body: HTMLElement[];
  switch (view?.kind) {
    case undefined:
    case 'loading':
      body = [el('p', { class: 'loading', role: 'status' }, 'Loading…')];
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
      body = [el('p', { class: 'loading', role: 'status' }, view.waitingFor ? `Starting the stack: waiting for ${view.waitingFor}…` : 'Starting the stack…')];
      break;
    case 'error':
      body = [message('Could not load telemetry', view.message, actionButton('Retry', 'refresh'), actionButton('Show Logs', 'showLogs', true))];
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
  root.replaceChildren(header, el('main', {}, ...body));
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const incoming = event.data;
  if (incoming?.type !== 'state') {
    return;
  }
  persisted = { range: incoming.range, view: incoming.state };
  vscode.setState(persisted);
  render(incoming.state, incoming.range);
});

// Draw what was there before a reload at once, then ask the host for the current state.
render(persisted.view, persisted.range);
vscode.postMessage({ type: 'ready' });
