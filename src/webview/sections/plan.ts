/**
 * The plan: its usage windows (read as the status bar's tooltip reads them), each session's context window, the time
 * at the limit in the range, and this month's cost at API prices against the plan's price.
 */
import { duration, multiple, planReadings, planWindowName, usd, when } from '../../format';
import type { PlanSection, TimeRange } from '../../snapshot';
import { actionButton, el, table, type Cell } from '../dom';

export function planView(plan: PlanSection | undefined, range: TimeRange): HTMLElement[] {
  const out: HTMLElement[] = [el('h3', {}, 'Plan')];
  // Two columns fit a sidebar: each row's detail is a wrapped line under its name.
  const rows: Cell[][] = [];
  const row = (name: string, value: string, detail: string, title = detail): void => {
    rows.push([{ text: name, title, sub: detail }, value]);
  };
  for (const reading of planReadings(plan?.usage)) {
    row(reading.name, reading.value, reading.detail, reading.title);
  }
  for (const hit of plan?.atLimit ?? []) {
    row(
      `At the ${planWindowName(hit.window)} limit`,
      duration(hit.minutes * 60),
      `in the last ${range}, last ${when(hit.lastAtMs)}`,
    );
  }
  const month = plan?.month;
  if (month) {
    row(
      'This month at API prices',
      usd(month.costUsd),
      `${multiple(month.costUsd / month.priceUsd)} your plan’s ${usd(month.priceUsd)}`,
    );
  }
  if (rows.length === 0) {
    out.push(
      el(
        'p',
        { class: 'empty' },
        'No plan usage yet. Claude Code gives its 5-hour and 7-day usage to its status line in interactive sessions of plan subscribers: let the extension’s status line bridge pass it on.',
      ),
      el(
        'div',
        { class: 'actions' },
        actionButton('Show Plan Usage in Claude Code’s Status Line…', 'writeStatusLineBridge', true),
      ),
    );
    return out;
  }
  out.push(table(['Figure', 'Value'], rows, '', [1]));
  return out;
}
