/** Tool failures by tool and error type, and API errors by status: how many, first and last seen. */
import { ago, when } from '../../format';
import type { MetricsSection, SeenSpan } from '../../snapshot';
import { countCell, el, table, type Cell } from '../dom';

/**
 * When a kind of error was first and last seen, as ages at the snapshot's time (short for sidebar columns); the hover
 * texts give the chart's buckets they are known to.
 */
function seenCells(entry: SeenSpan, nowMs: number): Cell[] {
  return [
    { text: ago(entry.firstSeenMs, nowMs), title: `First seen in the bucket from ${when(entry.firstSeenMs)}` },
    { text: ago(entry.lastSeenMs, nowMs), title: `Last seen in the bucket to ${when(entry.lastSeenMs)}` },
  ];
}

export function errorsView(metrics: MetricsSection, nowMs: number): HTMLElement[] {
  return [
    el('h3', {}, 'Tool failures by tool and error'),
    table(
      ['Tool', 'Error', 'Count', 'First', 'Last'],
      metrics.toolErrors.map((entry) => [
        entry.tool,
        entry.errorType,
        countCell(entry.count),
        ...seenCells(entry, nowMs),
      ]),
      'No tool failures in this range.',
      [3, 4],
    ),
    el('h3', {}, 'API errors by status'),
    table(
      ['Status', 'Model', 'Count', 'First', 'Last'],
      metrics.apiErrorsByStatus.map((entry) => [
        entry.statusCode,
        entry.model,
        countCell(entry.count),
        ...seenCells(entry, nowMs),
      ]),
      'No API errors in this range.',
      [3, 4],
    ),
  ];
}
