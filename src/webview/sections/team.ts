/** A team's store: the range's cost ranked by developer, project and model, with this developer's row marked. */
import { percent, usd } from '../../format';
import { COST_DIMENSIONS, dimensionValueName, type TeamRanking } from '../../snapshot';
import { el, table } from '../dom';

/** Rows a ranking shows: the most expensive, then the rest in one row. */
const SHOWN = 10;

export function teamView(team: TeamRanking, totalUsd: number): HTMLElement[] {
  const share = (usdValue: number): string => percent(totalUsd > 0 ? usdValue / totalUsd : null);
  return [
    el('h3', {}, 'Team'),
    ...team.rankings.map(({ dimension, rows }) => {
      const title = COST_DIMENSIONS[dimension].title;
      const name = (key: string): string => {
        if (!key) return `(no ${title.toLowerCase()})`;
        const shown = dimensionValueName(dimension, key);
        return dimension === 'developer' && key === team.you ? `${shown} (you)` : shown;
      };
      const rest = rows.slice(SHOWN);
      const restUsd = rest.reduce((n, row) => n + row.costUsd, 0);
      return table(
        [title, 'Cost', 'Share'],
        [
          ...rows.slice(0, SHOWN).map((row) => [name(row.key), usd(row.costUsd), share(row.costUsd)]),
          ...(rest.length ? [[`${rest.length} more`, usd(restUsd), share(restUsd)]] : []),
        ],
        `No cost by ${title.toLowerCase()} in this range.`,
      );
    }),
  ];
}
