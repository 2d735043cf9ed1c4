/** The status bar's states and how each one looks: pure, so it is tested in plain Node. */

import { PLAN_WINDOWS, percent, percentPoints, planReadings, tokens, updatedAt, usd, usdPerHour } from '../format';
import type { StackAlert, TodaySummary } from '../snapshot';

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
  | {
      kind: 'cost';
      today: TodaySummary;
      dailyBudgetUsd: number;
      planWarningPercent: number;
      alerts: readonly StackAlert[];
    };

export interface StatusBarLook {
  text: string;
  /** Markdown; command links are `command:` URIs. */
  tooltip: string;
  command: string | undefined;
  background: 'none' | 'warning' | 'error';
}

/** Telemetry strings go into Markdown: escape what Markdown would read as syntax. */
const markdownText = (value: string): string =>
  value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_{}[\]()#+\-.!|]/g, '\\$&');

const TITLE = '**Claude Code Telemetry**';

/** The plan's usage, read as the sidebar's Plan section reads it: each window, then at most three context windows. */
function planLines(today: TodaySummary): string[] {
  const readings = planReadings(today.plan, 3);
  if (readings.length === 0) return [];
  return [
    '',
    ...readings.map(
      (r) =>
        `  \n${r.window ? `Plan ${r.window} usage` : r.name}: **${markdownText(r.value)}**, ${markdownText(r.detail)}`,
    ),
  ];
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
        text: `$(pulse) ${usd(0)}`,
        tooltip:
          `${TITLE}\n\nNo Claude Code data today yet. Open a new terminal and run \`claude\`: ` +
          `terminals opened by VS Code report to the stack.\n\n${link('Open Dashboard', commands.dashboard)}`,
        command: commands.dashboard,
        background: 'none',
      };
    case 'cost': {
      const { today, dailyBudgetUsd, planWarningPercent, alerts } = state;
      // In a team's store the status bar is this developer's, and the tooltip gives the team's beside it.
      const mine = today.developer?.costUsd ?? today.costUsd;
      // The tables and the burn rate below are the store's: the team's, when the store is a team's.
      const column = today.developer ? 'Team today' : 'Today';
      const overBudget = dailyBudgetUsd > 0 && mine >= dailyBudgetUsd;
      const fiveHour = today.plan?.fiveHour;
      const pastPlanWarning = PLAN_WINDOWS.some(([key]) => (today.plan?.[key]?.usedPercent ?? 0) >= planWarningPercent);
      const tokenRows = (['input', 'output', 'cacheRead', 'cacheCreation'] as const)
        .filter((type) => today.tokens[type] > 0)
        .map((type) => `| ${type} | ${tokens(today.tokens[type])} |`)
        .join('\n');
      const models = today.byModel.map((m) => `| ${markdownText(m.model)} | ${usd(m.usd)} |`).join('\n');
      const lines = [
        TITLE,
        '',
        today.developer
          ? `Today, you (${markdownText(today.developer.name)}): **${usd(mine)}**` +
            `${dailyBudgetUsd > 0 ? ` of ${usd(dailyBudgetUsd)} budget` : ''}  \nThe team: **${usd(today.costUsd)}**`
          : `Today: **${usd(today.costUsd)}**${dailyBudgetUsd > 0 ? ` of ${usd(dailyBudgetUsd)} budget` : ''}`,
        ...(today.project
          ? [`  \nThis project (${markdownText(today.project.name)}): **${usd(today.project.costUsd)}**`]
          : []),
        '',
        `| Tokens | ${column} |`,
        '| --- | ---: |',
        tokenRows || `| none | ${tokens(0)} |`,
        '',
        `| Model | ${column} |`,
        '| --- | ---: |',
        models || `| none | ${usd(0)} |`,
        '',
        `Cache hit rate: ${percent(today.cacheHitRate)}`,
        `  \n${today.developer ? 'Team burn rate' : 'Burn rate'}: ${usdPerHour(today.burnRatePerHour)}, projected today: ${usd(today.projectedDayUsd)}`,
        ...planLines(today),
        ...(alerts.length
          ? [
              '',
              `**Alerts firing** (${alerts.length}):`,
              ...alerts.map((a) => `  \n$(bell) ${markdownText(a.summary || a.name)}`),
            ]
          : []),
        `  \nUpdated ${updatedAt(today.fetchedAt)}`,
        '',
        `${link('Open Dashboard', commands.dashboard)} · ${link('Open Grafana', commands.grafana)}`,
      ];
      return {
        text: `${alerts.length ? '$(bell)' : '$(pulse)'} ${usd(mine)}${fiveHour ? ` · ${PLAN_WINDOWS[0][1]} ${percentPoints(fiveHour.usedPercent)}` : ''}`,
        tooltip: lines.join('\n'),
        command: commands.dashboard,
        background: overBudget || pastPlanWarning || alerts.length > 0 ? 'warning' : 'none',
      };
    }
  }
}
