/** Productivity: lines, commits and pull requests, edit decisions, cost per 1,000 lines, active time, API requests. */
import { count, duration, percent, usd } from '../../format';
import type { RangeKpis } from '../../snapshot';
import { el, table } from '../dom';

export function productivityView(kpis: RangeKpis): HTMLElement[] {
  const decisions = kpis.editsAccepted + kpis.editsRejected;
  const lines = kpis.linesAdded + kpis.linesRemoved;
  return [
    el('h3', {}, 'Productivity'),
    table(
      ['Figure', 'Value'],
      [
        ['Lines added / removed', `${count(kpis.linesAdded)} / ${count(kpis.linesRemoved)}`],
        ['Commits / pull requests', `${count(kpis.commits)} / ${count(kpis.pullRequests)}`],
        [
          'Edits accepted',
          decisions > 0
            ? `${count(kpis.editsAccepted)} of ${count(decisions)} (${percent(kpis.editsAccepted / decisions)})`
            : 'none',
        ],
        ['Cost per 1,000 lines', lines > 0 ? usd((kpis.costUsd / lines) * 1000) : 'n/a'],
        ['Active: Claude / you', `${duration(kpis.activeCliSeconds)} / ${duration(kpis.activeUserSeconds)}`],
        ['API requests / errors', `${count(kpis.apiRequests)} / ${count(kpis.apiErrors)}`],
      ],
      'No activity in this range.',
      [1],
    ),
  ];
}
