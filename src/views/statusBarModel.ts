/** The status bar's states and how each one looks: pure, so it is tested in plain Node. */

import { usd } from '../format';
import type { PlanWindowUsage, StackAlert, TodaySummary } from '../snapshot';

export type StatusBarState =
  | { kind: 'stopped' }
  | { kind: 'starting'; waitingFor: string | undefined }
  | { kind: 'degraded'; service: string; detail: string }
  /** No answer from a backend (`backend`: "Prometheus", "Loki", or what the error names). */
  | { kind: 'unreachable'; backend: string; message: string }
  /** A backend answered, but not as it should (an HTML page, HTTP 500, an oversized or malformed body, rules missing). */
  | { kind: 'badAnswer'; backend: string; message: string }
  /** The local stack's container engine does not answer (or `denied`: refuses this user): nothing of the stack can run.
   * `detail`: what the engine's call said, naming the cause and the next step. */
  | { kind: 'engineDown'; denied: boolean; detail: string | undefined }
  | { kind: 'noData' }
  | { kind: 'cost'; today: TodaySummary; dailyBudgetUsd: number; planWarningPercent: number; alerts: readonly StackAlert[] };

export interface StatusBarLook {
  text: string;
  /** Markdown; command links are `command:` URIs. */
  tooltip: string;
  command: string | undefined;
  background: 'none' | 'warning' | 'error';
}

const count = (value: number): string =>
  value >= 1e6 ? `${(value / 1e6).toFixed(1)}M` : value >= 1e3 ? `${(value / 1e3).toFixed(1)}k` : String(Math.round(value));
/** Telemetry strings go into Markdown: escape what Markdown would read as syntax. */
const markdownText = (value: string): string =>
  value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_{}[\]()#+\-.!|]/g, '\\$&');

const TITLE = '**Claude Code Telemetry**';

/** The plan's windows as the status bar names them. */
export const PLAN_WINDOWS = [['fiveHour', '5h', '5-hour'], ['sevenDay', '7d', '7-day']] as const;

const clock = (epochMs: number): string => {
  const date = new Date(epochMs);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
};

function planLines(today: TodaySummary): string[] {
  const plan = today.plan;
  if (!plan) return [];
  const window = (name: string, usage: PlanWindowUsage): string =>
    `${name}: **${Math.round(usage.usedPercent)}%**${usage.resetsAtMs === null ? '' : `, resets ${clock(usage.resetsAtMs)}`}` +
    (usage.limitAtMs === null ? '' : `; at this pace the limit is reached at ${clock(usage.limitAtMs)}`);
  const lines = PLAN_WINDOWS.flatMap(([key, , name]) => (plan[key] ? [`  \n${window(`Plan ${name} usage`, plan[key])}`] : []));
  const contexts = plan.contextWindows.slice(0, 3).map((c) =>
    `  \nContext window: **${Math.round(c.usedPercent)}%** (session ${markdownText(c.sessionId.slice(0, 8))}, ${markdownText(c.model)})`);
  return ['', ...lines, ...contexts];
}

/** The command ids the status bar offers; the caller passes them so this module stays free of the editor API. */
export interface StatusBarCommands {
  start: string;
  dashboard: string;
  grafana: string;
  logs: string;
}

export function statusBarLook(state: StatusBarState, commands: StatusBarCommands): StatusBarLook {
  const link = (label: string, id: string): string => `[${label}](command:${id})`;
  switch (state.kind) {
    case 'stopped':
      return {
        text: '$(pulse) Telemetry off',
        tooltip: `${TITLE}\n\nThe telemetry stack is not running.\n\n${link('Start Telemetry Stack', commands.start)}`,
        command: commands.start,
        background: 'none',
      };
    case 'starting':
      return {
        text: '$(sync~spin) Telemetry starting',
        tooltip: `${TITLE}\n\nStarting the stack${state.waitingFor ? `: waiting for ${markdownText(state.waitingFor)}` : ''}…`,
        command: commands.logs,
        background: 'none',
      };
    case 'degraded':
      return {
        text: `$(warning) Telemetry: ${state.service}`,
        tooltip: `${TITLE}\n\n${markdownText(state.service)} is not healthy: ${markdownText(state.detail)}\n\n${link('Show Logs', commands.logs)}`,
        command: commands.logs,
        background: 'warning',
      };
    case 'unreachable':
      return {
        text: `$(debug-disconnect) ${markdownText(state.backend)} unreachable`,
        tooltip: `${TITLE}\n\n${markdownText(state.message)}\n\n${link('Show Logs', commands.logs)}`,
        command: commands.logs,
        background: 'error',
      };
    case 'badAnswer':
      return {
        text: `$(warning) ${markdownText(state.backend)}: bad answer`,
        tooltip: `${TITLE}\n\n${markdownText(state.backend)} answered, but not as it should: ${markdownText(state.message)}\n\n${link('Show Logs', commands.logs)}`,
        command: commands.logs,
        background: 'error',
      };
    case 'engineDown':
      if (state.denied) {
        return {
          text: '$(lock) Container engine: permission denied',
          tooltip: `${TITLE}\n\n${markdownText(state.detail ?? 'The container engine refuses this user.')}\n\n${link('Show Logs', commands.logs)}`,
          command: commands.logs,
          background: 'error',
        };
      }
      return {
        text: '$(debug-disconnect) Container engine down',
        tooltip:
          `${TITLE}\n\nThe container engine (Docker, Podman or Colima) does not answer, so the telemetry stack cannot run. ` +
          `Start the engine; the stack's containers and data come back with it.\n\n${link('Start Telemetry Stack', commands.start)} · ${link('Show Logs', commands.logs)}`,
        command: commands.logs,
        background: 'error',
      };
    case 'noData':
      return {
        text: '$(pulse) $0.00',
        tooltip:
          `${TITLE}\n\nNo Claude Code data today yet. Open a new terminal and run \`claude\`: ` +
          `terminals opened by VS Code report to the stack.\n\n${link('Open Dashboard', commands.dashboard)}`,
        command: commands.dashboard,
        background: 'none',
      };
    case 'cost': {
      const { today, dailyBudgetUsd, planWarningPercent, alerts } = state;
      const overBudget = dailyBudgetUsd > 0 && today.costUsd >= dailyBudgetUsd;
      const fiveHour = today.plan?.fiveHour;
      const pastPlanWarning = PLAN_WINDOWS.some(([key]) => (today.plan?.[key]?.usedPercent ?? 0) >= planWarningPercent);
      const tokens = (['input', 'output', 'cacheRead', 'cacheCreation'] as const)
        .filter((type) => today.tokens[type] > 0)
        .map((type) => `| ${type} | ${count(today.tokens[type])} |`)
        .join('\n');
      const models = today.byModel.map((m) => `| ${markdownText(m.model)} | ${usd(m.usd)} |`).join('\n');
      const lines = [
        TITLE,
        '',
        `Today: **${usd(today.costUsd)}**${dailyBudgetUsd > 0 ? ` of ${usd(dailyBudgetUsd)} budget` : ''}`,
        ...(today.project ? [`  \nThis project (${markdownText(today.project.name)}): **${usd(today.project.costUsd)}**`] : []),
        '',
        '| Tokens | Today |',
        '| --- | ---: |',
        tokens || '| none | 0 |',
        '',
        '| Model | Today |',
        '| --- | ---: |',
        models || '| none | $0.00 |',
        '',
        `Cache hit rate: ${today.cacheHitRate === null ? '—' : `${(today.cacheHitRate * 100).toFixed(0)}%`}`,
        `  \nBurn rate: ${usd(today.burnRatePerHour)}/h, projected today: ${usd(today.projectedDayUsd)}`,
        ...planLines(today),
        ...(alerts.length ? ['', `**Alerts firing** (${alerts.length}):`, ...alerts.map((a) => `  \n$(bell) ${markdownText(a.summary || a.name)}`)] : []),
        `  \nUpdated ${new Date(today.fetchedAt).toLocaleTimeString()}`,
        '',
        `${link('Open Dashboard', commands.dashboard)} · ${link('Open Grafana', commands.grafana)}`,
      ];
      return {
        text: `${alerts.length ? '$(bell)' : '$(pulse)'} ${usd(today.costUsd)}${fiveHour ? ` · 5h ${Math.round(fiveHour.usedPercent)}%` : ''}`,
        tooltip: lines.join('\n'),
        command: commands.dashboard,
        background: overBudget || pastPlanWarning || alerts.length > 0 ? 'warning' : 'none',
      };
    }
  }
}
