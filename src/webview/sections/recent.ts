/** What went wrong lately, the recent tool failures and API errors, from Loki's events, newest first. */
import { shortId, when } from '../../format';
import type { EventsSection } from '../../snapshot';
import { el, table } from '../dom';

export function recentView(events: EventsSection): HTMLElement[] {
  return [
    el('h3', {}, 'What went wrong'),
    ...(events.problems.length === 0
      ? [
          el(
            'p',
            { class: 'empty' },
            'No retries given up, refusals, failed or slow hooks, MCP servers that did not connect, or compactions in this range.',
          ),
        ]
      : events.problems.map((problem) =>
          el(
            'p',
            { class: `problem ${problem.kind === 'compaction' ? '' : 'warning'}`.trim(), title: problem.sessionId },
            problem.summary,
            el('span', { class: 'sub' }, problem.nextStep),
            el('span', { class: 'sub' }, `${when(problem.time)} · session ${shortId(problem.sessionId)}`),
          ),
        )),
    el('h3', {}, 'Recent tool failures'),
    table(
      ['Time', 'Tool', 'Error', 'Session'],
      events.toolFailures.map((failure) => [
        when(failure.time),
        failure.tool,
        failure.errorType,
        { text: shortId(failure.sessionId), title: failure.sessionId },
      ]),
      'No tool failures in this range.',
      [3],
    ),
    el('h3', {}, 'Recent API errors'),
    table(
      ['Time', 'Status', 'Model', 'Message'],
      events.apiErrors.map((error) => [when(error.time), error.statusCode, error.model, error.message]),
      'No API errors in this range.',
    ),
  ];
}
