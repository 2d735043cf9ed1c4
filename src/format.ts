// How figures read wherever they are shown (status bar, notifications, the sidebar, a session's panel): one formatter
// per kind of amount, so the same amount never reads two ways. A neutral module: the host and the webview both import
// it. A missing amount (null, undefined, NaN, an infinity) reads `—` in every kind.
import type { PlanLimitStat, PlanUsage, PlanWindowUsage, TimeRange } from './snapshot';

/** What every formatter shows for an amount there is none of. */
export const NONE = '—';

type Amount = number | null | undefined;
const known = (value: Amount): value is number => typeof value === 'number' && Number.isFinite(value);

// Money and numbers read the same in any locale (the page, the tooltip and the notifications agree); times follow
// the user's locale.
const DOLLARS = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const WHOLE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Money: US dollars to the cent, with thousands separators: `$0.29`, `$1,234.56`. */
export function usd(value: Amount): string {
  return known(value) ? DOLLARS.format(value) : NONE;
}

/** A rate of money: `$0.51/h`. */
export function usdPerHour(value: Amount): string {
  return known(value) ? `${usd(value)}/h` : NONE;
}

/** The exact number, whole, with thousands separators: `4,200,000`; for hover texts beside a short reading. */
export function exact(value: Amount): string {
  return known(value) ? WHOLE.format(value) : NONE;
}

const SUFFIXES = [
  [1e3, 'k'],
  [1e6, 'M'],
  [1e9, 'B'],
] as const;

/** One decimal and a suffix; the larger suffix once the smaller would read 1000 (`999.9k`, then `1.0M`). */
function compact(value: number): string {
  const size = Math.abs(value);
  let text = '';
  for (const [unit, suffix] of SUFFIXES) {
    const scaled = (size / unit).toFixed(1);
    text = `${scaled}${suffix}`;
    if (Number(scaled) < 1000) break;
  }
  return value < 0 ? `-${text}` : text;
}

/** Tokens: whole below a thousand, then compact: `999`, `1.5k`, `2.3M`, `1.2B` (the exact number goes in a hover text). */
export function tokens(value: Amount): string {
  if (!known(value)) return NONE;
  return Math.abs(Math.round(value)) < 1000 ? String(Math.round(value)) : compact(value);
}

/**
 * Counts (sessions, calls, failures, errors, lines, commits): exact up to four digits, `9,999`, then compact like
 * tokens, `12.3k`.
 */
export function count(value: Amount): string {
  if (!known(value)) return NONE;
  return Math.abs(Math.round(value)) < 10_000 ? WHOLE.format(Math.round(value)) : compact(value);
}

/**
 * A share or a rate, given as a ratio (0.87 is `87%`): whole percents, one decimal below 10 % so a small share is not
 * `0%` (`8.5%`, `<0.1%`); exactly none is `0%`.
 */
export function percent(ratio: Amount): string {
  if (!known(ratio)) return NONE;
  const points = ratio * 100;
  if (points === 0) return '0%';
  if (points > 0 && points < 0.05) return '<0.1%';
  const tenth = points.toFixed(1);
  return Math.abs(Number(tenth)) < 10 ? `${tenth}%` : `${Math.round(points)}%`;
}

/** A percentage Claude Code gives in points (plan and context window usage, 42.4): read as `percent`. */
export function percentPoints(points: Amount): string {
  return known(points) ? percent(points / 100) : NONE;
}

/** How many times one amount is another: `3.2×`. */
export function multiple(ratio: Amount): string {
  return known(ratio) ? `${ratio.toFixed(1)}×` : NONE;
}

/** A duration, to the minute: `23m`, `1h 7m`, `52h 0m`; under half a minute but not none, `<1m`. */
export function duration(seconds: Amount): string {
  if (!known(seconds)) return NONE;
  if (seconds > 0 && seconds < 30) return '<1m';
  const minutes = Math.round(seconds / 60);
  return minutes >= 60 ? `${Math.floor(minutes / 60)}h ${minutes % 60}m` : `${minutes}m`;
}

/** A short span, to what it needs: `850 ms`, `3.2 s`, `1m 05s`, `1h 7m` (a prompt's steps, a prompt). */
export function elapsed(ms: Amount): string {
  if (!known(ms)) return NONE;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  return duration(seconds);
}

// Built on first use (a page formats hundreds of times at every refresh; the status line bridge formats no time).
const dateFormat = (options: Intl.DateTimeFormatOptions): ((epochMs: number) => string) => {
  let format: Intl.DateTimeFormat | undefined;
  return (epochMs) => (format ??= new Intl.DateTimeFormat(undefined, options)).format(epochMs);
};
const timeOfDay = dateFormat({ hour: '2-digit', minute: '2-digit' });
const day = dateFormat({ month: 'short', day: 'numeric' });
const dayAndTime = dateFormat({ month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const toTheSecond = dateFormat({ hour: 'numeric', minute: 'numeric', second: 'numeric' });

/**
 * A moment, past or to come, short enough for a sidebar column: its time of day when it is today (`03:00 PM`), else
 * the date too (`Nov 27, 09:00 AM`).
 */
export function when(epochMs: Amount, nowMs: number = Date.now()): string {
  if (!known(epochMs)) return NONE;
  return new Date(epochMs).toDateString() === new Date(nowMs).toDateString() ? timeOfDay(epochMs) : dayAndTime(epochMs);
}

/** When figures were read, to the second (they refresh every few seconds): `12:00:03 PM`. */
export function updatedAt(epochMs: Amount): string {
  return known(epochMs) ? toTheSecond(epochMs) : NONE;
}

/** How long ago, at `nowMs`: `now` (under a minute, or ahead of the clock), `5m ago`, `3h ago`, `2d ago`. */
export function ago(epochMs: Amount, nowMs: number): string {
  if (!known(epochMs)) return NONE;
  const minutes = Math.floor((nowMs - epochMs) / 60_000);
  return minutes < 1
    ? 'now'
    : minutes < 60
      ? `${minutes}m ago`
      : minutes < 1440
        ? `${Math.floor(minutes / 60)}h ago`
        : `${Math.floor(minutes / 1440)}d ago`;
}

/** A chart bucket's label: its time of day over an hour or a day, its date over longer ranges. */
export function bucket(epochMs: number, range: TimeRange): string {
  return range === '1h' || range === '24h' ? timeOfDay(epochMs) : day(epochMs);
}

/** A session id as lists show it: its first eight characters (the whole id goes in a hover text). */
export function shortId(sessionId: string): string {
  return sessionId.slice(0, 8);
}

/**
 * Whether a text is one figure as these formatters write it (money, counts, tokens, percentages, durations, `—`):
 * the sidebar's tables keep such columns at their width.
 */
export function isFigure(text: string): boolean {
  return /^(—|<?-?\$?[\d,.]+[kMB%]?|<?(\d+[hm] ?)+)$/.test(text);
}

/**
 * The plan's usage windows, each once: its key in `PlanUsage`, its short name (the status bar's text), its name, and
 * how Claude Code and the stack name it (`PlanLimitStat.window`).
 */
export const PLAN_WINDOWS = [
  ['fiveHour', '5h', '5-hour', 'five_hour'],
  ['sevenDay', '7d', '7-day', 'seven_day'],
] as const;

/** A plan window by the stack's name for it: `5-hour`. */
export function planWindowName(window: PlanLimitStat['window']): string {
  return PLAN_WINDOWS.find((entry) => entry[3] === window)?.[2] ?? window;
}

/** One line of the plan's usage as the status bar's tooltip and the sidebar both show it. */
export interface PlanReading {
  /** `5-hour window`, `Context window`. */
  name: string;
  /** A usage window's name, `5-hour`; absent for a context window. */
  window?: string;
  /** `42%`. */
  value: string;
  /** `resets 03:00 PM · limit at this pace 02:20 PM`; `session 631fe02f · claude-opus-4-5`. */
  detail: string;
  /** The detail in full, for a hover text. */
  title: string;
}

function windowDetail(usage: PlanWindowUsage, nowMs: number): string {
  const parts = [
    usage.resetsAtMs === null ? '' : `resets ${when(usage.resetsAtMs, nowMs)}`,
    usage.limitAtMs === null ? '' : `limit at this pace ${when(usage.limitAtMs, nowMs)}`,
  ].filter(Boolean);
  return parts.join(' · ') || 'no reset time given';
}

/**
 * The plan's usage now: each window (its usage, when it resets, when the pace reaches the limit), then the context
 * window of each session (at most `contexts`), most used first.
 */
export function planReadings(
  usage: PlanUsage | undefined,
  contexts = Infinity,
  nowMs: number = Date.now(),
): PlanReading[] {
  if (!usage) return [];
  const windows = PLAN_WINDOWS.flatMap(([key, , name]): PlanReading[] => {
    const window = usage[key];
    if (!window) return [];
    const detail = windowDetail(window, nowMs);
    return [{ name: `${name} window`, window: name, value: percentPoints(window.usedPercent), detail, title: detail }];
  });
  const sessions = usage.contextWindows.slice(0, contexts).map((context): PlanReading => ({
    name: 'Context window',
    value: percentPoints(context.usedPercent),
    detail: `session ${shortId(context.sessionId)} · ${context.model}`,
    title: `${context.sessionId} (${context.model})`,
  }));
  return [...windows, ...sessions];
}
