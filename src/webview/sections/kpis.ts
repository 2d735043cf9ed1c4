/** The range's figures at a glance, today's cost and this project's today beside them. */
import { count, exact, percent, tokens, usd } from '../../format';
import type { MetricsSection, Snapshot } from '../../snapshot';
import { el, kpi } from '../dom';

export function kpisView(metrics: MetricsSection, today: Snapshot['today']): HTMLElement {
  const { kpis } = metrics;
  return el(
    'div',
    { class: 'kpis' },
    kpi('Cost', usd(kpis.costUsd)),
    kpi('Tokens', tokens(kpis.tokens.total), 'normal', `${exact(kpis.tokens.total)} tokens`),
    kpi('Sessions', count(kpis.sessions), 'normal', exact(kpis.sessions)),
    kpi('Cache hit rate', percent(kpis.cacheHitRate)),
    kpi('Tool error rate', percent(kpis.toolErrorRate), (kpis.toolErrorRate ?? 0) > 0.15 ? 'bad' : 'normal'),
    kpi('API errors', count(kpis.apiErrors), kpis.apiErrors > 0 ? 'bad' : 'normal', exact(kpis.apiErrors)),
    today ? kpi('Today', usd(today.costUsd)) : null,
    today?.project ? kpi(`This project today (${today.project.name})`, usd(today.project.costUsd)) : null,
  );
}
