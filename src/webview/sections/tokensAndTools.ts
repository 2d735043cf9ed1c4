/** Tokens by type, and tool calls and failures by tool: two charts. */
import { count, exact } from '../../format';
import type { MetricsSection } from '../../snapshot';
import { chart, palette, valueTooltip } from '../charts';

export function tokensAndToolsView(metrics: MetricsSection): HTMLElement[] {
  const colors = palette();
  const tokens = (['input', 'output', 'cacheRead', 'cacheCreation', 'other'] as const)
    .map((type) => ({ type, tokens: metrics.kpis.tokens[type] }))
    .filter((entry) => entry.tokens > 0);
  return [
    chart('Tokens by type', {
      type: 'doughnut',
      data: {
        labels: tokens.map((entry) => entry.type),
        datasets: [{ data: tokens.map((entry) => entry.tokens), backgroundColor: colors, borderWidth: 0 }],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: {
          legend: { position: 'right', labels: { boxWidth: 10 } },
          tooltip: valueTooltip((value) => `${exact(value)} tokens`),
        },
      },
    }),
    chart('Tool calls and failures', {
      type: 'bar',
      data: {
        labels: metrics.tools.map((entry) => entry.tool),
        datasets: [
          {
            label: 'Succeeded',
            data: metrics.tools.map((entry) => entry.calls - entry.failures),
            backgroundColor: colors[2],
            stack: 'tools',
          },
          {
            label: 'Failed',
            data: metrics.tools.map((entry) => entry.failures),
            backgroundColor: colors[5],
            stack: 'tools',
          },
        ],
      },
      options: {
        indexAxis: 'y',
        animation: false,
        maintainAspectRatio: false,
        // Calls are whole: no tick between two.
        scales: {
          x: { stacked: true, ticks: { precision: 0, callback: (value) => count(Number(value)) } },
          y: { stacked: true },
        },
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 10 } }, tooltip: valueTooltip(exact) },
      },
    }),
  ];
}
