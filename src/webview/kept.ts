/**
 * What a refresh keeps rather than rebuilds: each chart (updated in place, `update('none')`) and the group-by picker
 * (a rebuilt <select> would close under the user's pointer at every refresh). Keyed by title; whatever a render did
 * not use is dropped after it.
 */
import type { Chart } from 'chart.js';

export interface Kept {
  element: HTMLElement;
  chart?: Chart;
  picker?: HTMLSelectElement;
}

const kept = new Map<string, Kept>();
let usedThisRender = new Set<string>();

/** Runs one render: what it builds is kept, what it no longer uses is dropped (its chart destroyed). */
export function renderPass(draw: () => void): void {
  usedThisRender = new Set();
  draw();
  for (const [key, entry] of kept) {
    if (!usedThisRender.has(key)) {
      entry.chart?.destroy();
      kept.delete(key);
    }
  }
}

/** The entry of `key` from an earlier render, if any; marks it used by this one. */
export function reuse(key: string): Kept | undefined {
  usedThisRender.add(key);
  return kept.get(key);
}

/** Keeps `entry` under `key` for the next render. */
export function keep(key: string, entry: Kept): Kept {
  usedThisRender.add(key);
  kept.set(key, entry);
  return entry;
}
