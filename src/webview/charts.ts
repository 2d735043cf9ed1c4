/** Chart.js in the editor's theme: each chart kept by its title and updated in place at a refresh. */
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
  type TooltipItem,
} from 'chart.js';
import { bucket, usd } from '../format';
import type { ChartSeries, TimeRange } from '../snapshot';
import { el } from './dom';
import { keep, reuse } from './kept';

Chart.register(ArcElement, BarController, BarElement, CategoryScale, DoughnutController, Legend, LinearScale, Tooltip);

function css(variable: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(variable).trim() || fallback;
}

export function palette(): string[] {
  return [
    css('--vscode-charts-blue', '#3794ff'),
    css('--vscode-charts-orange', '#d18616'),
    css('--vscode-charts-green', '#89d185'),
    css('--vscode-charts-purple', '#b180d7'),
    css('--vscode-charts-yellow', '#cca700'),
    css('--vscode-charts-red', '#f14c4c'),
  ];
}

/** Chart text, lines and font in the editor's theme (light, dark, high contrast): before any chart is drawn. */
export function applyChartTheme(): void {
  Chart.defaults.color = css('--vscode-foreground', '#cccccc');
  Chart.defaults.borderColor = css('--vscode-charts-lines', 'rgba(128,128,128,0.3)');
  Chart.defaults.font.family = css('--vscode-font-family', 'sans-serif');
}

/** A chart's hover text: its series' name and the value, read by the page's formatter of its kind. */
export function valueTooltip(format: (value: number) => string): {
  callbacks: { label: (item: TooltipItem<ChartType>) => string };
} {
  return {
    callbacks: { label: (item) => `${item.dataset.label ? `${item.dataset.label}: ` : ''}${format(Number(item.raw))}` },
  };
}

/** A chart: the one of this title updated in place when it exists, else a new one. */
export function chart(title: string, config: ChartConfiguration): HTMLElement {
  const existing = reuse(title);
  if (existing?.chart && (existing.chart.config as ChartConfiguration).type === config.type) {
    const updated = existing.chart;
    updated.data = config.data;
    updated.options = config.options ?? {};
    queueMicrotask(() => updated.update('none'));
    return existing.element;
  }
  existing?.chart?.destroy();
  const canvas = el('canvas', { role: 'img', 'aria-label': title });
  const figure = el(
    'figure',
    { class: 'chart' },
    el('figcaption', {}, title),
    el('div', { class: 'canvas-box' }, canvas),
  );
  const entry = keep(title, { element: figure });
  // Chart.js measures its parent: create the chart once the figure is in the document.
  queueMicrotask(() => {
    entry.chart = new Chart(canvas, config);
  });
  return figure;
}

/** One stacked series per model on the union of the buckets any model has. */
function costChartData(series: ChartSeries[]): {
  timestamps: number[];
  datasets: { label: string; values: number[] }[];
} {
  const timestamps = [...new Set(series.flatMap((entry) => entry.points.map(([timestamp]) => timestamp)))].sort(
    (a, b) => a - b,
  );
  const datasets = series.map((entry) => {
    const byTime = new Map(entry.points);
    return { label: entry.key, values: timestamps.map((timestamp) => byTime.get(timestamp) ?? 0) };
  });
  return { timestamps, datasets };
}

/** Cost over time, a bar per bucket stacked by model: the sidebar's and a session's panel's. */
export function costChart(title: string, series: ChartSeries[], range: TimeRange): HTMLElement {
  const colors = palette();
  const cost = costChartData(series);
  return chart(title, {
    type: 'bar',
    data: {
      labels: cost.timestamps.map((timestamp) => bucket(timestamp, range)),
      datasets: cost.datasets.map((dataset, index) => ({
        label: dataset.label,
        data: dataset.values,
        backgroundColor: colors[index % colors.length],
        stack: 'cost',
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true } },
        // Steps of whole cents, so no two ticks read the same amount.
        y: { stacked: true, ticks: { precision: 2, callback: (value) => usd(Number(value)) } },
      },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 10 } }, tooltip: valueTooltip(usd) },
    },
  });
}
