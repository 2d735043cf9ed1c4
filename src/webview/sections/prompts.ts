/** The range's most expensive prompts (among its most expensive sessions): a click opens the session at the prompt. */
import { count, shortId, when } from '../../format';
import type { Snapshot } from '../../snapshot';
import { post } from '../host';
import { el, table, usdCell } from '../dom';

export function promptsView(prompts: Snapshot['prompts']): HTMLElement[] {
  if (!prompts) return [];
  const heading = el('h3', {}, 'Most expensive prompts');
  if ('error' in prompts) return [heading, el('p', { class: 'warning' }, prompts.error)];
  return [
    heading,
    table(
      ['Prompt', 'Cost'],
      prompts.top.map((p) => [
        {
          text: p.text ?? (p.length === null ? 'A prompt' : `A prompt of ${count(p.length)} characters`),
          title: `Prompt ${p.promptId} of session ${p.sessionId}: open the session at its waterfall`,
          open: () => post({ type: 'openSession', sessionId: p.sessionId, promptId: p.promptId }),
          sub: `${p.timeMs === null ? 'sent before the range' : when(p.timeMs)} · session ${shortId(p.sessionId)}`,
        },
        usdCell(p.costUsd),
      ]),
      'No prompt with a cost in this range (Loki keeps the events only while the stack runs).',
    ),
  ];
}
