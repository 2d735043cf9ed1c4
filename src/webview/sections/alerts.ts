/** The stack's alerts firing now: each its summary (wrapped, it is the point), what it means and what to do (the
 * rule's description), severity and since when. */
import { when } from '../../format';
import type { StackAlert } from '../../snapshot';
import { el } from '../dom';

export function alertsView(alerts: readonly StackAlert[] | undefined): HTMLElement[] {
  if (!alerts) return [];
  return [
    el('h3', {}, 'Alerts'),
    ...(alerts.length === 0
      ? [el('p', { class: 'empty' }, 'No alert is firing.')]
      : alerts.map((alert) =>
          el(
            'p',
            { class: 'warning alert', title: `${alert.name}: ${alert.description}` },
            alert.summary || alert.name,
            ...(alert.description ? [el('span', { class: 'sub' }, alert.description)] : []),
            el(
              'span',
              { class: 'sub' },
              `${alert.severity || 'alert'}${alert.activeAtMs === null ? '' : ` · since ${when(alert.activeAtMs)}`}`,
            ),
          ),
        )),
  ];
}
