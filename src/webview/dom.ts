/**
 * The page's DOM kit: elements built from tags, attributes and children, where every string becomes a text node
 * (telemetry text is never parsed as HTML), and the pieces every view uses (buttons, messages, KPIs, tables).
 */
import { count, exact, isFigure, tokens, usd } from '../format';
import type { HostAction } from '../protocol';
import type { TelemetryErrorInfo } from '../snapshot';
import { post } from './host';

export type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/** A codicon (VS Code's icon font): decorative, the label says what the button does. */
export function icon(name: string): HTMLElement {
  return el('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

const ACTION_ICON: Record<HostAction, string> = {
  startStack: 'play',
  openGrafana: 'graph',
  refresh: 'refresh',
  showLogs: 'output',
  writeStatusLineBridge: 'settings-edit',
};

/** A button that runs one of the host's commands. */
export function actionButton(label: string, action: HostAction, secondary = false): HTMLButtonElement {
  const button = el(
    'button',
    { class: secondary ? 'secondary' : 'primary', type: 'button' },
    icon(ACTION_ICON[action]),
    label,
  );
  button.addEventListener('click', () => post({ type: 'run', action }));
  return button;
}

export function message(title: string, body: string, ...actions: HTMLElement[]): HTMLElement {
  return el(
    'section',
    { class: 'message' },
    el('h2', {}, title),
    el('p', {}, body),
    el('div', { class: 'actions' }, ...actions),
  );
}

export function loading(text = 'Loading…'): HTMLElement {
  return el('p', { class: 'loading', role: 'status' }, text);
}

/** What a backend that failed said, above what the other one answered. */
export function backendWarnings(errors: { prometheus?: TelemetryErrorInfo; loki?: TelemetryErrorInfo }): HTMLElement[] {
  return [errors.prometheus, errors.loki].flatMap((error) =>
    error ? [el('p', { class: 'warning', role: 'status' }, error.message)] : [],
  );
}

/** A figure in the KPI grid; `title`: its exact value, when the figure is short. */
export function kpi(label: string, value: string, tone: 'normal' | 'bad' = 'normal', title?: string): HTMLElement {
  return el(
    'div',
    { class: `kpi ${tone}`, ...(title ? { title } : {}) },
    el('div', { class: 'kpi-value' }, value),
    el('div', { class: 'kpi-label' }, label),
  );
}

/** A table cell: its text, or its text and a longer hover text, what a click on it does, and a second, smaller line. */
export type Cell = string | { text: string; title: string; open?: () => void; sub?: string };

/** Tokens as every view writes them, the exact number in the hover text. */
export function tokensCell(value: number): { text: string; title: string } {
  return { text: tokens(value), title: `${exact(value)} tokens` };
}

/** A count as every view writes them, the exact number in the hover text. */
export function countCell(value: number): Cell {
  return { text: count(value), title: exact(value) };
}

/** Money to the cent, the amount as Claude Code reported it in the hover text (a prompt's steps cost fractions of one). */
export function usdCell(value: number): { text: string; title: string } {
  return { text: usd(value), title: `$${Number(value.toPrecision(12))}` };
}

/** `whole`: text columns that keep their width too (short ids). */
export function table(headers: string[], rows: Cell[][], empty: string, whole: readonly number[] = []): HTMLElement {
  if (rows.length === 0) {
    return el('p', { class: 'empty' }, empty);
  }
  const text = (cell: Cell | undefined): string => (typeof cell === 'object' ? cell.text : (cell ?? ''));
  // A column of figures keeps its width; the text columns share what is left.
  const kind = headers.map((_, index) =>
    whole.includes(index) || rows.every((cells) => isFigure(text(cells[index]))) ? 'num' : 'text',
  );
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, ...headers.map((header, index) => el('th', { class: kind[index]! }, header)))),
    el(
      'tbody',
      {},
      ...rows.map((cells) =>
        el(
          'tr',
          {},
          ...cells.map((cell, index) => {
            const td = el('td', { title: typeof cell === 'object' ? cell.title : cell, class: kind[index]! });
            if (typeof cell === 'object' && cell.open) {
              const open = cell.open;
              const button = el('button', { type: 'button', class: 'link' }, cell.text);
              button.addEventListener('click', open);
              td.append(button);
            } else {
              td.append(text(cell));
            }
            if (typeof cell === 'object' && cell.sub !== undefined) td.append(el('span', { class: 'sub' }, cell.sub));
            return td;
          }),
        ),
      ),
    ),
  );
}
