/** Subagent calls, success rate and cost, by subagent where Claude Code names them; what brings them when it does not. */
import { NONE, count, percent, tokens, usd } from '../../format';
import type { SubagentSection } from '../../snapshot';
import { el, table, tokensCell } from '../dom';

export function subagentsView(subagents: SubagentSection, totalUsd: number): HTMLElement[] {
  const out: HTMLElement[] = [el('h3', {}, 'Subagents')];
  if (subagents.calls === 0 && subagents.costUsd === 0) {
    out.push(
      el(
        'p',
        { class: 'empty' },
        'No subagent ran in this range. Claude Code counts each call of its Agent (formerly Task) tool and marks a subagent’s cost query_source = subagent (measured with Claude Code 2.1.328).',
      ),
    );
    return out;
  }
  const succeeded = subagents.calls - subagents.failures;
  out.push(
    table(
      ['Figure', 'Value'],
      [
        ['Started', count(subagents.calls)],
        ['Succeeded', subagents.calls > 0 ? `${count(succeeded)} (${percent(succeeded / subagents.calls)})` : NONE],
        ['Their cost', `${usd(subagents.costUsd)} (${percent(totalUsd > 0 ? subagents.costUsd / totalUsd : null)})`],
        ['Their tokens', tokens(subagents.tokens)],
      ],
      '',
      [1],
    ),
  );
  const named = subagents.byAgent.filter((entry) => entry.agent !== '');
  out.push(
    named.length > 0
      ? table(
          ['Subagent', 'Cost', 'Tokens'],
          subagents.byAgent.map((entry) => [
            entry.agent || '(not named)',
            usd(entry.costUsd),
            tokensCell(entry.tokens),
          ]),
          '',
        )
      : el(
          'p',
          { class: 'empty' },
          'Claude Code 2.1.328 does not name the subagent on its cost; versions that put agent.name on cost points (its monitoring docs list it) show each subagent here.',
        ),
  );
  return out;
}
