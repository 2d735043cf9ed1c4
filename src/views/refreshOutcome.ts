// What a refresh shows, decided without VS Code: the status bar after a refresh or its failure, the sidebar's view of
// a snapshot, and the notifications due. The controller (dashboardController.ts) reads, asks these, and shows what
// they return; the unit tier tests them.
import type { StackPhase } from '../stack';
import type { ViewState } from '../protocol';
import type { Snapshot, StackAlert, TimeRange, TodaySummary } from '../snapshot';
import { PLAN_WINDOWS, percentPoints, usd, when } from '../format';
import type { StatusBarState } from './statusBarModel';

/** What the status bar needs besides the figures: the local stack's state and problems, and the settings. */
export interface StatusContext {
  /** The backends are the local stack's (its state then speaks for them). */
  local: boolean;
  stack: StackPhase;
  /** A local Prometheus that stores nothing new: its problem, else undefined. */
  storageProblem: string | undefined;
  dailyBudgetUsd: number;
  planWarningPercent: number;
  alerts: readonly StackAlert[];
}

/**
 * The status bar once today's figures are read: what the local stack says is wrong first, then the cost; `$0.00` for
 * an idle day after earlier sessions (`everReceived`), the hint to run claude for a stack that never saw one.
 */
export function statusAfterRefresh(today: TodaySummary, everReceived: boolean, c: StatusContext): StatusBarState {
  if (c.local && c.stack.state === 'degraded')
    return { kind: 'degraded', service: c.stack.services.join(', '), detail: c.stack.message };
  if (c.local && c.storageProblem) return { kind: 'degraded', service: 'prometheus', detail: c.storageProblem };
  if (!today.hasData && !everReceived) return { kind: 'noData' };
  return {
    kind: 'cost',
    today,
    dailyBudgetUsd: c.dailyBudgetUsd,
    planWarningPercent: c.planWarningPercent,
    alerts: c.alerts,
  };
}

/**
 * What a failed refresh tells the user: the local stack's engine gone or a service of it down (the stack's own state
 * knows), else the backend that did not answer, or answered wrongly.
 */
export function statusAfterFailure(
  error: unknown,
  local: boolean,
  stack: StackPhase,
): { status: StatusBarState; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  // Unknown with no problem: the engine has not been asked yet (the window is opening), which says nothing of it.
  if (local && stack.state === 'unknown' && stack.problem) {
    const problem = stack.problem;
    const denied = problem.code === 'permission-denied';
    return {
      status: { kind: 'engineDown', denied, detail: problem.message },
      message: denied
        ? `The container engine refuses this user, so the telemetry stack cannot be read or run. ${problem.message}`
        : 'The container engine (Docker, Podman or Colima) does not answer, so the telemetry stack cannot run. Start the engine, then the stack if it does not come back on its own.',
    };
  }
  if (local && stack.state === 'degraded') {
    const service = stack.services.join(', ');
    return {
      status: { kind: 'degraded', service, detail: stack.message },
      message: `The telemetry stack is degraded (${service}): ${stack.message}`,
    };
  }
  const { kind, backend } = (error ?? {}) as { kind?: unknown; backend?: unknown };
  const name = typeof backend === 'string' && backend ? backend : 'Telemetry';
  const wrongAnswer = kind === 'http' || kind === 'malformed' || kind === 'auth' || kind === 'rules';
  return { status: { kind: wrongAnswer ? 'badAnswer' : 'unreachable', backend: name, message }, message };
}

/**
 * The sidebar's view of a snapshot: an error when no backend answered; a local Prometheus that stores nothing new
 * (`storageAlert`) is listed with the stack's alerts, and is why the sidebar is empty when nothing is stored at all.
 */
export function sidebarView(
  snapshot: Snapshot,
  range: TimeRange,
  storageAlert: StackAlert | undefined,
  alerts: readonly StackAlert[] | undefined,
): ViewState {
  if (!snapshot.metrics && !snapshot.events) {
    return {
      kind: 'error',
      message: snapshot.errors.prometheus?.message ?? snapshot.errors.loki?.message ?? 'No backend answered.',
    };
  }
  if (
    !snapshot.hasData &&
    !snapshot.errors.prometheus &&
    !snapshot.errors.loki &&
    (snapshot.events?.toolFailures.length ?? 0) === 0
  ) {
    return storageAlert ? { kind: 'error', message: storageAlert.description } : { kind: 'noData', range };
  }
  const shown = storageAlert ? [storageAlert, ...(alerts ?? [])] : alerts;
  return { kind: 'data', snapshot: shown ? { ...snapshot, alerts: [...shown] } : snapshot };
}

/** A notification due: its text, and the mark that keeps it from being shown again (in the window's memento). */
export interface Notice {
  key: string;
  mark: string;
  message: string;
}

/**
 * One notice per plan window, threshold and reset when its usage is past the warning threshold: `shown(key)` is the
 * mark last kept for a window's key.
 */
export function planNotices(
  today: TodaySummary,
  threshold: number,
  shown: (key: string) => string | undefined,
): Notice[] {
  const notices: Notice[] = [];
  for (const [window, , name] of PLAN_WINDOWS) {
    const usage = today.plan?.[window];
    if (!usage || usage.usedPercent < threshold) continue;
    const mark = `${window}|${threshold}|${usage.resetsAtMs ?? ''}`;
    if (shown(window) === mark) continue;
    const resets = usage.resetsAtMs === null ? '' : ` It resets at ${when(usage.resetsAtMs)}.`;
    notices.push({
      key: window,
      mark,
      message: `Claude Code has used ${percentPoints(usage.usedPercent)} of your plan's ${name} limit, past your ${threshold}% warning.${resets}`,
    });
  }
  return notices;
}

/** The day's one notice when today's cost is past the daily budget (`shownOn`: the day it was last shown). */
export function budgetNotice(
  costUsd: number,
  budgetUsd: number,
  nowMs: number,
  shownOn: string | undefined,
): Notice | undefined {
  const day = new Date(nowMs).toDateString();
  if (budgetUsd <= 0 || costUsd < budgetUsd || shownOn === day) return undefined;
  return {
    key: 'budget',
    mark: day,
    message: `Claude Code has cost ${usd(costUsd)} today, past your daily budget of ${usd(budgetUsd)}.`,
  };
}
