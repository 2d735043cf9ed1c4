/** Cost over time by model, and cost and tokens by the dimension the user picks (only those the data carries). */
import { percent, usd } from '../../format';
import { post } from '../host';
import {
  COST_DIMENSIONS,
  dimensionValueName,
  isCostDimension,
  type CostBreakdown,
  type MetricsSection,
  type TimeRange,
} from '../../snapshot';
import { costChart } from '../charts';
import { el, table, tokensCell } from '../dom';
import { keep, reuse } from '../kept';

/** Which dimension the cost table groups by: one <select>, kept across refreshes. */
function groupByPicker(breakdown: CostBreakdown): HTMLElement {
  const key = 'group-by';
  let entry = reuse(key);
  if (!entry?.picker) {
    const select = el('select', { 'aria-label': 'Group cost by', class: 'group-by' });
    select.addEventListener('change', () => {
      if (isCostDimension(select.value)) post({ type: 'selectGroupBy', dimension: select.value });
    });
    entry = keep(key, { element: el('label', { class: 'group-by-label' }, 'Cost by ', select), picker: select });
  }
  const select = entry.picker!;
  const values = [...select.options].map((option) => option.value);
  if (values.join() !== breakdown.available.join()) {
    select.replaceChildren(
      ...breakdown.available.map((dimension) => el('option', { value: dimension }, COST_DIMENSIONS[dimension].title)),
    );
  }
  // The user's pick stands while the host has not answered with it yet.
  if (document.activeElement !== select) select.value = breakdown.dimension;
  return entry.element;
}

export function costView(metrics: MetricsSection, range: TimeRange): HTMLElement[] {
  const { costBy, kpis } = metrics;
  const title = COST_DIMENSIONS[costBy.dimension].title;
  return [
    costChart('Cost by model', metrics.costSeries, range),
    groupByPicker(costBy),
    table(
      [title, 'Cost', 'Tokens', 'Share'],
      costBy.rows.map((row) => [
        row.key ? dimensionValueName(costBy.dimension, row.key) : `(no ${title.toLowerCase()})`,
        usd(row.costUsd),
        tokensCell(row.tokens),
        percent(kpis.costUsd > 0 ? row.costUsd / kpis.costUsd : null),
      ]),
      'No cost in this range.',
    ),
  ];
}
