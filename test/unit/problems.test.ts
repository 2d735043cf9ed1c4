// What went wrong, from the real CLI's events: OTLP that Claude Code 2.1.328 sent in runs made to go wrong against a
// scripted Messages API (test/support/fixtures/claude-code-2.1.328-events, described in docs/architecture.md), pushed
// to the Loki double as the collector forwards it, read with the sidebar's query and said by toProblem.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { toProblem } from '../../src/telemetry/events';
import { LokiClient } from '../../src/telemetry/loki';
import { sessionPrompts } from '../../src/telemetry/prompts';
import { PROBLEM_EVENTS, PROBLEM_WHEN, lokiLogs, type ProblemCondition } from '../../src/telemetry/queries';
import type { ProblemEvent } from '../../src/snapshot';
import type { LokiDouble } from '../doubles/loki';
import { attribute, lokiWithRuns, records, type Run } from '../support/cliEvents';
import { repoRoot } from '../support/paths';

describe("what went wrong, from the real CLI's events", () => {
  let loki: LokiDouble;
  let problems: ProblemEvent[];
  let firstMs: number;
  let clock: number;

  before(async () => {
    ({ loki, firstMs, clock } = await lokiWithRuns());
    const client = new LokiClient({ baseUrl: `http://127.0.0.1:${loki.port}` });
    try {
      const entries = await client.queryLogs(lokiLogs.problems(), {
        startMs: firstMs - 1000,
        endMs: clock,
        limit: 100,
        direction: 'backward',
      });
      problems = entries.map(toProblem);
    } finally {
      await client.close();
    }
  });
  after(async () => loki?.close());

  it('lists each run that went wrong and a slow hook, and nothing of the ordinary run or a quick hook without error', () => {
    const failedHooks = records('hooks').filter(
      (r) => attribute(r, 'event.name') === 'hook_execution_complete' && attribute(r, 'num_non_blocking_error') !== '0',
    );
    assert.equal(failedHooks.length, 3, 'the hooks run: SessionStart, UserPromptSubmit and Stop exit 1');
    const counts: Record<string, number> = {};
    for (const p of problems) counts[p.kind] = (counts[p.kind] ?? 0) + 1;
    assert.deepEqual(counts, {
      retriesExhausted: 2,
      refusal: 1,
      compaction: 1,
      hookFailed: 3,
      hookSlow: 1,
      mcpFailed: 3,
    });
    const sessionOf = (run: Run): string | undefined => attribute(records(run)[0]!, 'session.id');
    assert.ok(
      problems.filter((p) => p.kind === 'hookFailed').every((p) => p.sessionId === sessionOf('hooks')),
      'each with its session',
    );
    assert.deepEqual(
      problems.map((p) => p.time),
      [...problems.map((p) => p.time)].sort((a, b) => b - a),
      'newest first',
    );
  });

  it("marks them in their session's prompts, in the same words; a slow hook is said but not failed, a quick one is a plain step", async () => {
    const session = attribute(records('hooks')[0]!, 'session.id')!;
    const client = new LokiClient({ baseUrl: `http://127.0.0.1:${loki.port}` });
    try {
      const { entries } = await client.queryAllLogs(lokiLogs.sessionEvents(session), {
        startMs: firstMs,
        endMs: clock,
        max: 500,
      });
      const steps = sessionPrompts(entries, { promptText: false }).flatMap((p) => p.steps);
      const hooks = steps.filter((s) => s.label === 'hook_execution_complete');
      assert.equal(hooks.length, 5);
      assert.deepEqual(
        hooks.filter((s) => s.failed).map((s) => s.detail),
        // The sidebar's newest first; a session's steps in order.
        problems
          .filter((p) => p.kind === 'hookFailed')
          .map((p) => p.summary)
          .reverse(),
      );
      assert.deepEqual(
        hooks.filter((s) => !s.failed).map((s) => s.detail),
        [
          // Slow (3 s) without error: what went wrong, not a failure.
          problems.find((p) => p.kind === 'hookSlow')?.summary,
          'PostToolUse:Bash · 1 blocked · 3 ms',
        ],
        'PreToolUse (slow, no error) and PostToolUse',
      );
    } finally {
      await client.close();
    }
  });

  it('says what happened with the figures the events carry, and what to do', () => {
    const said = (kind: ProblemEvent['kind']): string[] =>
      problems.filter((p) => p.kind === kind).map((p) => `${p.summary} | ${p.nextStep}`);
    // The 529's has no status code (measured): its error says it.
    assert.deepEqual(
      said('retriesExhausted')
        .map((s) => s.split(' | ')[0])
        .sort(),
      [
        'An API request to claude-opus-5-5 failed 3 times and Claude Code gave up (Repeated 529 Overloaded errors).',
        'An API request to claude-opus-5-5 failed 3 times and Claude Code gave up (status 500, scripted 500).',
      ],
    );
    for (const line of said('retriesExhausted')) assert.match(line, / \| That prompt got no answer\. /);
    assert.match(
      said('refusal')[0]!,
      /^claude-opus-5-5 declined to answer \(stop reason "refusal"\)\. \| The turn ended/,
    );
    assert.match(
      said('compaction')[0]!,
      /^The context was compacted: 2794 → 2556 tokens \(manual\)\. \| The conversation/,
    );
    assert.ok(
      said('hookFailed').some((s) => s.startsWith('1 of 1 SessionStart hook failed (SessionStart:startup, 15 ms).')),
      said('hookFailed').join('\n'),
    );
    assert.deepEqual(said('hookSlow'), [
      'The PreToolUse hook took 3.0 s (PreToolUse:Bash). | Claude Code waits for its hooks, and these took more than 2 s. ' +
        'Make the command faster, or remove it from your settings\' "hooks" (/hooks lists them).',
    ]);
    assert.deepEqual(
      said('mcpFailed')
        .map((s) => s.split(' | ')[0])
        .sort(),
      [
        'The MCP server "broken" failed to connect (stdio, ENOENT, ENOENT: no such file or directory, posix_spawn \'stdio\').',
        'The MCP server "crashes" failed to connect (stdio, CONNECTION_CLOSED, Connection closed).',
        'The MCP server "unreachable" failed to connect (http, ECONNREFUSED, ECONNREFUSED: Unable to connect. Is the computer able to access the url?).',
      ],
    );
  });

  it('the collector counts the same events for the alert rules, on the same conditions', () => {
    const config = parse(readFileSync(join(repoRoot, 'stack', 'collector', 'config.yaml'), 'utf8')) as {
      connectors: { count: { logs: Record<string, { conditions: string[] }> } };
    };
    // OTTL reads a missing attribute as nil: `nil != "0"` holds and `nil > 2000` does not, as Loki reads it.
    const ottl = (c: ProblemCondition): string =>
      'not' in c
        ? `log.attributes["${c.label}"] != "${c.not}"`
        : `Double(log.attributes["${c.label}"]) > ${String(c.above)}`;
    assert.deepEqual(
      config.connectors.count.logs['claude_code.problems']?.conditions,
      PROBLEM_EVENTS.map((event) => {
        const when = (PROBLEM_WHEN[event] ?? []).map(ottl);
        const all = when.length > 1 ? `(${when.join(' or ')})` : when[0];
        return `log.attributes["event.name"] == "${event}"` + (all ? ` and ${all}` : '');
      }),
    );
  });
});
