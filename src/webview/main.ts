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
import {
  COST_DIMENSIONS, TIME_RANGES, isCostDimension, type ChartSeries, type CostBreakdown, type SeenSpan, type SessionDetail, type Snapshot,
  type PlanSection, type StackAlert, type SubagentSection, type TimeRange,
} from '../snapshot';

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
  /** In a session's panel: what it showed last. */
  session?: { sessionId: string; detail: SessionDetail | null; error?: string };
}

const vscode = acquireVsCodeApi();
const root = document.getElementById('root') as HTMLElement;
/**
 * What a refresh keeps rather than rebuilds: each chart (updated in place, `update('none')`) and the group-by picker
 * (a rebuilt <select> would close under the user's pointer at every refresh). Keyed by title; whatever a render did
 * not use is dropped after it.
 */
const kept = new Map<string, { element: HTMLElement; chart?: Chart; picker?: HTMLSelectElement }>();
let usedThisRender = new Set<string>();
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

const ACTION_ICON: Record<HostAction, string> = { startStack: 'play', openGrafana: 'graph', refresh: 'refresh', showLogs: 'output', writeStatusLineBridge: 'settings-edit' };

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
  const key = 'group-by';
  usedThisRender.add(key);
  let entry = kept.get(key);
  if (!entry?.picker) {
    const select = el('select', { 'aria-label': 'Group cost by', class: 'group-by' });
    select.addEventListener('change', () => {
      if (isCostDimension(select.value)) vscode.postMessage({ type: 'selectGroupBy', dimension: select.value });
    });
    entry = { element: el('label', { class: 'group-by-label' }, 'Cost by ', select), picker: select };
    kept.set(key, entry);
  }
  const select = entry.picker!;
  const values = [...select.options].map((option) => option.value);
  if (values.join() !== breakdown.available.join()) {
    select.replaceChildren(...breakdown.available.map((dimension) => el('option', { value: dimension }, COST_DIMENSIONS[dimension].title)));
  }
  // The user's pick stands while the host has not answered with it yet.
  if (document.activeElement !== select) select.value = breakdown.dimension;
  return entry.element;
}

function message(title: string, body: string, ...actions: HTMLElement[]): HTMLElement {
  return el('section', { class: 'message' }, el('h2', {}, title), el('p', {}, body), el('div', { class: 'actions' }, ...actions));
}

function kpi(label: string, value: string, tone: 'normal' | 'bad' = 'normal'): HTMLElement {
  return el('div', { class: `kpi ${tone}` }, el('div', { class: 'kpi-value' }, value), el('div', { class: 'kpi-label' }, label));
}

/** A figure as this page writes them: money, counts, percentages, durations. */
const FIGURE = /^(—|\$?[\d,.]+[kMB%]?|(\d+[hms] ?)+)$/;

/** A table cell: its text, or its text and a longer hover text, what a click on it does, and a second, smaller line. */
type Cell = string | { text: string; title: string; open?: () => void; sub?: string };

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
    el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((cell, index) => {
      const td = el('td', { title: typeof cell === 'object' ? cell.title : cell, class: kind[index]! });
      if (typeof cell === 'object' && cell.open) {
        const open = cell.open;
        const button = el('button', { type: 'button', class: 'link' }, cell.text);
        button.addEventListener('click', open);
        td.append(button);
      } else {
        td.append(text(cell));
      }
      if (typeof cell === 'object' && cell.sub !== undefined) td.append(el('span', { class: 'sub' }, cell.sub));
      return td;
    })))),
  );
}

/** A chart: the one of this title updated in place when it exists, else a new one. */
function chart(title: string, config: ChartConfiguration): HTMLElement {
  usedThisRender.add(title);
  const existing = kept.get(title);
  if (existing?.chart && (existing.chart.config as ChartConfiguration).type === config.type) {
    const updated = existing.chart;
    updated.data = config.data;
    updated.options = config.options ?? {};
    queueMicrotask(() => updated.update('none'));
    return existing.element;
  }
  existing?.chart?.destroy();
  const canvas = el('canvas', { role: 'img', 'aria-label': title });
  const figure = el('figure', { class: 'chart' }, el('figcaption', {}, title), el('div', { class: 'canvas-box' }, canvas));
  const entry: { element: HTMLElement; chart?: Chart } = { element: figure };
  kept.set(title, entry);
  // Chart.js measures its parent: create the chart once the figure is in the document.
  queueMicrotask(() => { entry.chart = new Chart(canvas, config); });
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

/** Cost over time, a bar per bucket stacked by model: the sidebar's and a session's panel's. */
function costChart(title: string, series: ChartSeries[], range: TimeRange): HTMLElement {
  const colors = palette();
  const cost = costChartData(series);
  return chart(title, {
    type: 'bar',
    data: {
      labels: cost.timestamps.map((timestamp) => bucketLabel(timestamp, range)),
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
  });
}

/** Chart text, lines and font in the editor's theme (light, dark, high contrast): before any chart is drawn. */
function applyChartTheme(): void {
  Chart.defaults.color = css('--vscode-foreground', '#cccccc');
  Chart.defaults.borderColor = css('--vscode-charts-lines', 'rgba(128,128,128,0.3)');
  Chart.defaults.font.family = css('--vscode-font-family', 'sans-serif');
}

/**
 * When a kind of error was first and last seen, as ages at the snapshot's time (short for sidebar columns); the hover
 * texts give the chart's buckets they are known to.
 */
function seenCells(entry: SeenSpan, nowMs: number): Cell[] {
  const ago = (epochMs: number): string => {
    const minutes = Math.floor((nowMs - epochMs) / 60_000);
    return minutes < 1 ? 'now' : minutes < 60 ? `${minutes}m ago` : minutes < 1440 ? `${Math.floor(minutes / 60)}h ago` : `${Math.floor(minutes / 1440)}d ago`;
  };
  return [
    { text: ago(entry.firstSeenMs), title: `First seen in the bucket from ${time(entry.firstSeenMs)}` },
    { text: ago(entry.lastSeenMs), title: `Last seen in the bucket to ${time(entry.lastSeenMs)}` },
  ];
}

/** The stack's alerts firing now: each its summary (wrapped, it is the point), severity and since when. */
function alertsView(alerts: readonly StackAlert[] | undefined): HTMLElement[] {
  if (!alerts) return [];
  return [
    el('h3', {}, 'Alerts'),
    ...(alerts.length === 0
      ? [el('p', { class: 'empty' }, 'No alert is firing.')]
      : alerts.map((alert) => el('p', { class: 'warning alert', title: `${alert.name}: ${alert.description}` },
        alert.summary || alert.name,
        el('span', { class: 'sub' }, `${alert.severity || 'alert'}${alert.activeAtMs === null ? '' : ` · since ${time(alert.activeAtMs)}`}`)))),
  ];
}

/** The plan's usage windows, when each resets and when the pace reaches the limit; its limit history; the month's value. */
function planView(plan: PlanSection | undefined, range: TimeRange): HTMLElement[] {
  const out: HTMLElement[] = [el('h3', {}, 'Plan')];
  const usage = plan?.usage;
  // Two columns fit a sidebar: each row's detail is a wrapped line under its name.
  const rows: Cell[][] = [];
  const row = (name: string, value: string, detail: string, title = detail): void => {
    rows.push([{ text: name, title, sub: detail }, value]);
  };
  for (const [key, name] of [['fiveHour', '5-hour window'], ['sevenDay', '7-day window']] as const) {
    const w = usage?.[key];
    if (!w) continue;
    const detail = [w.resetsAtMs === null ? '' : `resets ${time(w.resetsAtMs)}`, w.limitAtMs === null ? '' : `limit at this pace ${time(w.limitAtMs)}`].filter(Boolean).join(' · ');
    row(name, `${Math.round(w.usedPercent)}%`, detail || 'no reset time given');
  }
  for (const context of usage?.contextWindows ?? []) {
    row(`Context window`, `${Math.round(context.usedPercent)}%`, `session ${context.sessionId.slice(0, 8)} · ${context.model}`, `${context.sessionId} (${context.model})`);
  }
  for (const hit of plan?.atLimit ?? []) {
    row(`At the ${hit.window === 'five_hour' ? '5-hour' : '7-day'} limit`, duration(hit.minutes * 60), `in the last ${range}, last ${time(hit.lastAtMs)}`);
  }
  const month = plan?.month;
  if (month) {
    row('This month at API prices', usd(month.costUsd), `${(month.costUsd / month.priceUsd).toFixed(1)}× your plan’s ${usd(month.priceUsd)}`);
  }
  if (rows.length === 0) {
    out.push(el('p', { class: 'empty' },
      'No plan usage yet. Claude Code gives its 5-hour and 7-day usage to its status line in interactive sessions of plan subscribers: let the extension’s status line bridge pass it on.'),
    el('div', { class: 'actions' }, actionButton('Show Plan Usage in Claude Code’s Status Line…', 'writeStatusLineBridge', true)));
    return out;
  }
  out.push(table(['Figure', 'Value'], rows, '', [1]));
  return out;
}

/** Subagent calls, success rate and cost, by subagent where Claude Code names them; what brings them when it does not. */
function subagentsView(subagents: SubagentSection, totalUsd: number): HTMLElement[] {
  const out: HTMLElement[] = [el('h3', {}, 'Subagents')];
  if (subagents.calls === 0 && subagents.costUsd === 0) {
    out.push(el('p', { class: 'empty' },
      'No subagent ran in this range. Claude Code counts each call of its Agent (formerly Task) tool and marks a subagent’s cost query_source = subagent (measured with Claude Code 2.1.328).'));
    return out;
  }
  out.push(table(
    ['Figure', 'Value'],
    [
      ['Started', number(subagents.calls)],
      ['Succeeded', subagents.calls > 0 ? `${number(subagents.calls - subagents.failures)} (${percent((subagents.calls - subagents.failures) / subagents.calls)})` : '—'],
      ['Their cost', `${usd(subagents.costUsd)} (${percent(totalUsd > 0 ? subagents.costUsd / totalUsd : null)})`],
      ['Their tokens', number(subagents.tokens)],
    ],
    '',
    [1],
  ));
  const named = subagents.byAgent.filter((entry) => entry.agent !== '');
  out.push(named.length > 0
    ? table(['Subagent', 'Cost', 'Tokens'], subagents.byAgent.map((entry) => [entry.agent || '(not named)', usd(entry.costUsd), number(entry.tokens)]), '')
    : el('p', { class: 'empty' }, 'Claude Code 2.1.328 does not name the subagent on its cost; versions that put agent.name on cost points (its monitoring docs list it) show each subagent here.'));
  return out;
}

function dataView(snapshot: Snapshot): HTMLElement[] {
  const colors = palette();
  applyChartTheme();

  const sections: HTMLElement[] = [];
  for (const error of [snapshot.errors.prometheus, snapshot.errors.loki]) {
    if (error) {
      sections.push(el('p', { class: 'warning', role: 'status' }, error.message));
    }
  }
  const { metrics, events } = snapshot;
  if (metrics) {
    const { kpis } = metrics;
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
        snapshot.today ? kpi('Today', usd(snapshot.today.costUsd)) : null,
        snapshot.today?.project ? kpi(`This project today (${snapshot.today.project.name})`, usd(snapshot.today.project.costUsd)) : null,
      ),
      ...alertsView(snapshot.alerts),
      costChart('Cost by model', metrics.costSeries, snapshot.range),
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
      ...planView(snapshot.plan, snapshot.range),
      ...subagentsView(metrics.subagents, kpis.costUsd),
      el('h3', {}, 'Tool failures by tool and error'),
      table(
        ['Tool', 'Error', 'Count', 'First', 'Last'],
        metrics.toolErrors.map((entry) => [entry.tool, entry.errorType, number(entry.count), ...seenCells(entry, snapshot.fetchedAt)]),
        'No tool failures in this range.',
        [3, 4],
      ),
      el('h3', {}, 'API errors by status'),
      table(
        ['Status', 'Model', 'Count', 'First', 'Last'],
        metrics.apiErrorsByStatus.map((entry) => [entry.statusCode, entry.model, number(entry.count), ...seenCells(entry, snapshot.fetchedAt)]),
        'No API errors in this range.',
        [3, 4],
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
          // Five columns fill a sidebar's width: the project is under the id; models and errors by kind in hover texts.
          {
            text: session.sessionId.slice(0, 8),
            title: `${session.sessionId}\n${session.projects.join(', ') || 'no project recorded'}\n${session.models.join(', ') || 'no model'}\nOpen the session in full`,
            open: () => vscode.postMessage({ type: 'openSession', sessionId: session.sessionId }),
            sub: session.projects.join(', ') || '—',
          },
          usd(session.costUsd),
          number(session.tokens),
          duration(session.activeSeconds),
          {
            text: String(session.apiErrors + session.toolFailures),
            title: `${number(session.toolFailures)} tool failures, ${number(session.apiErrors)} API errors`,
          },
        ]),
        'No sessions in this range.',
        [0],
      ),
    );
  }
  // Long ranges start on the hour (the minute for 1 h): the window is whole slots the extension keeps, plus the open one.
  sections.push(el('p', { class: 'updated' }, `Since ${time(snapshot.startMs)} · updated ${new Date(snapshot.fetchedAt).toLocaleTimeString()}`));
  return sections;
}

/** A session's panel: its figures over the range, its cost over time, its tools and errors, its event timeline. */
function renderSession(state: NonNullable<PersistedState['session']>): void {
  usedThisRender = new Set();
  applyChartTheme();
  const { sessionId, detail } = state;
  const header = el('header', {}, el('h2', { class: 'session-title', title: sessionId }, `Session ${sessionId}`),
    el('div', { class: 'header-actions' }, actionButton('Refresh', 'refresh', true), actionButton('Open in Grafana', 'openGrafana', true)));
  const body: HTMLElement[] = [];
  if (!detail) {
    body.push(state.error ? message('Could not load the session', state.error, actionButton('Retry', 'refresh')) : el('p', { class: 'loading', role: 'status' }, 'Loading…'));
  } else {
    for (const error of [detail.errors.prometheus, detail.errors.loki]) {
      if (error) body.push(el('p', { class: 'warning', role: 'status' }, error.message));
    }
    body.push(el('p', { class: 'updated' }, `Since ${time(detail.startMs)} · as of ${new Date(detail.fetchedAt).toLocaleTimeString()}`));
    const m = detail.metrics;
    if (m) {
      const failures = m.tools.reduce((n, t) => n + t.failures, 0);
      const apiErrors = m.apiErrorsByStatus.reduce((n, e) => n + e.count, 0);
      body.push(
        el('div', { class: 'kpis' },
          kpi('Cost', usd(m.costUsd)),
          kpi('Tokens', number(m.tokens.total)),
          kpi('Active: Claude', duration(m.activeCliSeconds)),
          kpi('Active: you', duration(m.activeUserSeconds)),
          kpi('Tool failures', number(failures), failures > 0 ? 'bad' : 'normal'),
          kpi('API errors', number(apiErrors), apiErrors > 0 ? 'bad' : 'normal')),
        el('p', {}, `Project: ${m.projects.join(', ') || 'not recorded (a terminal opened before the extension set the workspace)'}`),
        costChart('Session cost over time', m.costSeries, detail.range),
        el('h3', {}, 'Cost by model'),
        table(['Model', 'Cost'], m.costByModel.map((entry) => [entry.model, usd(entry.usd)]), 'No cost in this range.'),
        el('h3', {}, 'Tokens by type'),
        table(['Type', 'Tokens'], (['input', 'output', 'cacheRead', 'cacheCreation', 'other'] as const)
          .filter((type) => m.tokens[type] > 0).map((type) => [type, number(m.tokens[type])]), 'No tokens in this range.'),
        el('h3', {}, 'Tools'),
        table(['Tool', 'Calls', 'Failed'], m.tools.map((tool) => [tool.tool, number(tool.calls), number(tool.failures)]), 'No tool calls in this range.'),
        el('h3', {}, 'API errors'),
        table(['Status', 'Model', 'Count'], m.apiErrorsByStatus.map((error) => [error.statusCode, error.model, number(error.count)]), 'No API errors in this range.'),
      );
    }
    if (detail.events) {
      const [last, first] = [detail.events[0], detail.events.at(-1)];
      body.push(
        el('h3', {}, 'Timeline'),
        ...(first && last ? [el('p', {}, `From ${time(first.time)} to ${time(last.time)}: ${duration((last.time - first.time) / 1000)} between its first and last event in this range.`)] : []),
        table(['Time', 'Event', 'Detail'], detail.events.map((event) => [
          time(event.time),
          event.failed ? { text: `✖ ${event.name}`, title: `${event.name} (failed)` } : event.name,
          event.detail,
        ]), 'No events of this session in this range (Loki keeps them only when the stack ran).'),
      );
    }
  }
  root.replaceChildren(header, el('main', {}, ...body));
  dropUnused();
}

function dropUnused(): void {
  for (const [key, entry] of kept) {
    if (!usedThisRender.has(key)) {
      entry.chart?.destroy();
      kept.delete(key);
    }
  }
}

function render(view: ViewState | undefined, range: TimeRange): void {
  usedThisRender = new Set();
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
  dropUnused();
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
  const incoming = event.data;
  if (incoming?.type === 'state') {
    persisted = { range: incoming.range, view: incoming.state };
    vscode.setState(persisted);
    render(incoming.state, incoming.range);
  } else if (incoming?.type === 'session') {
    persisted = { ...persisted, session: { sessionId: incoming.sessionId, detail: incoming.detail, ...(incoming.error ? { error: incoming.error } : {}) } };
    vscode.setState(persisted);
    renderSession(persisted.session!);
  }
});

// Draw what was there before a reload at once, then ask the host for the current state.
if (persisted.session) renderSession(persisted.session);
else render(persisted.view, persisted.range);
vscode.postMessage({ type: 'ready' });
