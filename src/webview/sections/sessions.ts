/** Every session of the range with its project and where it ran, most expensive first: a click opens one in full. */
import { NONE, count, duration, exact, shortId, usd } from '../../format';
import { dimensionValueName, type SessionRow } from '../../snapshot';
import { post } from '../host';
import { el, table, tokensCell } from '../dom';

export function sessionsView(sessions: readonly SessionRow[]): HTMLElement[] {
  return [
    el('h3', {}, 'Sessions'),
    table(
      ['Session', 'Cost', 'Tokens', 'Active', 'Errors'],
      sessions.map((session) => {
        const ranIn = session.entrypoints.map((e) => dimensionValueName('entrypoint', e)).join(', ');
        // What its transcript gave (no telemetry reached the stack for it): told apart, and how much of the cost.
        const imported = session.imported
          ? `Imported from Claude Code's transcript: ${usd(session.importedUsd)} priced from its tokens\n`
          : '';
        // Five columns fill a sidebar's width: project and where it ran are under the id; models and errors by kind
        // in hover texts.
        return [
          {
            text: shortId(session.sessionId),
            title: `${session.sessionId}\n${session.projects.join(', ') || 'no project recorded'}\n${ranIn || 'where it ran not reported'}\n${session.models.join(', ') || 'no model'}\n${imported}Open the session in full`,
            open: () => post({ type: 'openSession', sessionId: session.sessionId }),
            sub: [
              session.projects.join(', ') || NONE,
              ...(ranIn ? [ranIn] : []),
              ...(imported ? ['imported'] : []),
            ].join(' · '),
          },
          // Tokens without a cost are an import whose model the bundled price table does not know: never $0.00.
          session.imported && session.costUsd === 0 && session.tokens > 0
            ? {
                text: 'unpriced',
                title: `No price for ${session.models.join(', ') || 'its model'} in the bundled table: its tokens are counted, its cost is not`,
              }
            : usd(session.costUsd),
          tokensCell(session.tokens),
          duration(session.activeSeconds),
          {
            text: count(session.apiErrors + session.toolFailures),
            title: `${exact(session.toolFailures)} tool failures, ${exact(session.apiErrors)} API errors`,
          },
        ];
      }),
      'No sessions in this range.',
      [0],
    ),
  ];
}
