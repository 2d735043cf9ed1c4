// A session's prompts and each one's waterfall, from the real CLI's events read back from the Loki double with the
// session panel's query, page by page.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LokiClient, LOKI_PAGE, type LogEntry } from '../../src/telemetry/loki';
import { sessionPrompts } from '../../src/telemetry/prompts';
import { lokiLogs, promptCostsQuery } from '../../src/telemetry/queries';
import type { PromptRow } from '../../src/snapshot';
import { startLokiDouble, type LokiDouble } from '../doubles/loki';
import { RUNS, attribute, lokiWithRuns, records, type Run } from '../support/cliEvents';

describe("a session's prompts, from the real CLI's events", () => {
  let loki: LokiDouble;
  let client: LokiClient;
  let clock: number;
  let firstMs: number;
  /** From the first run's events to the clock: the runs were recorded hours apart. */
  const rangeSeconds = (): number => Math.ceil((clock - firstMs) / 1000);
  const sessionOf = (run: Run): string => attribute(records(run)[0]!, 'session.id')!;
  const read = async (run: Run, promptText = false): Promise<PromptRow[]> => {
    const { entries, complete } = await client.queryAllLogs(lokiLogs.sessionEvents(sessionOf(run)), {
      startMs: firstMs,
      endMs: clock,
      max: 20_000,
    });
    assert.ok(complete);
    return sessionPrompts(entries, { promptText });
  };

  before(async () => {
    ({ loki, clock, firstMs } = await lokiWithRuns());
    client = new LokiClient({ baseUrl: `http://127.0.0.1:${loki.port}` });
  });
  after(async () => {
    await client?.close();
    await loki?.close();
  });

  it("a prompt's cost is the sum of its api_request events, and the prompts add up to the session's", async () => {
    for (const run of RUNS) {
      const requests = records(run).filter((r) => attribute(r, 'event.name') === 'api_request');
      const costOf = (id: string | null): number =>
        requests
          .filter((r) => (attribute(r, 'prompt.id') ?? null) === id)
          .reduce((n, r) => n + Number(attribute(r, 'cost_usd')), 0);
      const prompts = await read(run);
      for (const p of prompts) assert.equal(p.costUsd, costOf(p.promptId), `${run}, prompt ${p.promptId}`);
      const total = requests.reduce((n, r) => n + Number(attribute(r, 'cost_usd')), 0);
      assert.ok(Math.abs(prompts.reduce((n, p) => n + p.costUsd, 0) - total) < 1e-12, run);
      // Every event Loki keeps is a step of one prompt (Loki keeps one of the plugin_loaded events a run sends in
      // one millisecond with the same line).
      const kept = new Set(records(run).map((r) => `${r.timeUnixNano} ${attribute(r, 'event.name')}`)).size;
      const decisions = records(run).filter((r) => attribute(r, 'event.name') === 'tool_decision').length;
      assert.equal(
        prompts.reduce((n, p) => n + p.steps.length, 0),
        kept - decisions,
        `${run}: every event a step (a tool's decision and result are one)`,
      );
    }
  });

  it("the sidebar's queries: each prompt's cost in one metric query, its user_prompt event by its id", async () => {
    const truth = new Map<string, number>();
    for (const run of RUNS)
      for (const r of records(run).filter((x) => attribute(x, 'event.name') === 'api_request')) {
        const key = `${attribute(r, 'session.id')} ${attribute(r, 'prompt.id')}`;
        truth.set(key, (truth.get(key) ?? 0) + Number(attribute(r, 'cost_usd')));
      }
    const costs = await client.instant(promptCostsQuery(RUNS.map(sessionOf), rangeSeconds()), clock);
    assert.equal(costs.length, truth.size);
    for (const s of costs) {
      const want = truth.get(`${s.labels['session_id']} ${s.labels['prompt_id']}`);
      assert.ok(want !== undefined && Math.abs(s.value! - want) < 1e-12, JSON.stringify(s));
    }
    const ids = costs.map((s) => s.labels['prompt_id']!);
    const sent = await client.queryLogs(lokiLogs.userPrompts(...ids), {
      startMs: firstMs,
      endMs: clock,
      limit: 100,
    });
    assert.deepEqual(sent.map((e) => e.attributes['prompt_id']).sort(), [...ids].sort(), 'one user_prompt each');
    // Two sessions only: the answer holds theirs alone.
    const two = await client.instant(
      promptCostsQuery([sessionOf('ordinary'), sessionOf('refusal')], rangeSeconds()),
      clock,
    );
    assert.deepEqual(
      new Set(two.map((s) => s.labels['session_id'])),
      new Set([sessionOf('ordinary'), sessionOf('refusal')]),
    );
  });

  it('the ordinary run: the startup apart, then the prompt with its requests and tool calls in order', async () => {
    const [startup, prompt, ...more] = await read('ordinary');
    assert.equal(more.length, 0);
    assert.equal(startup?.promptId, null, 'the events before the first prompt');
    assert.ok(startup.steps.some((s) => s.label === 'plugin_loaded'));
    assert.ok(prompt);
    assert.equal(prompt.text, null, 'no words without the opt-in');
    assert.equal(prompt.length, 28);
    assert.deepEqual(
      prompt.steps.map((s) => `${s.kind} ${s.label}: ${s.detail}${s.failed ? ' ✖' : ''}`),
      [
        'event user_prompt: 28 characters',
        'api claude-opus-5-5: 10 in, 10 out, 0 cache read, 0 cache write · first token after 14 ms · from sdk',
        'tool Bash: accept (config) · ok',
        'api claude-opus-5-5: 10 in, 10 out, 0 cache read, 0 cache write · first token after 4 ms · from sdk',
        'tool Read: accept (config) · failed: TelemetrySafeError (File does not exist. Note: your current working ' +
          `directory is ${/directory is (\S+)\./.exec(prompt.steps.find((s) => s.label === 'Read')!.detail)?.[1]}.) ✖`,
        'api claude-opus-5-5: 10 in, 10 out, 0 cache read, 0 cache write · first token after 5 ms · from sdk',
        'event assistant_response: claude-opus-5-5',
      ],
    );
    assert.deepEqual(
      [prompt.apiCalls, prompt.toolCalls, prompt.failures, prompt.tokens],
      [3, 2, 1, 60],
      'API calls, tool calls, failures, tokens',
    );
    const bash = prompt.steps.find((s) => s.label === 'Bash')!;
    // From its decision to its result: 49.838 to 49.871.
    assert.equal(bash.endMs - bash.startMs, 33);
    assert.ok(prompt.steps.every((s) => s.startMs >= prompt.startMs && s.endMs <= prompt.endMs));
  });

  it("shows a prompt's first words only when the user opted in, and never Claude Code's placeholder", async () => {
    const prompt = (await read('ordinary', true)).find((p) => p.promptId !== null);
    assert.equal(prompt?.text, 'run echo hi then read a file');
    const redacted: LogEntry = {
      timeNs: '1000000',
      timeMs: 1,
      line: 'claude_code.user_prompt',
      stream: {},
      structuredMetadata: {},
      parsed: {},
      attributes: { event_name: 'user_prompt', prompt_id: 'p', prompt: '<REDACTED>', prompt_length: '11' },
    };
    assert.equal(sessionPrompts([redacted], { promptText: true })[0]?.text, null);
    const long = { ...redacted, attributes: { ...redacted.attributes, prompt: Array(20).fill('word').join(' ') } };
    assert.equal(sessionPrompts([long], { promptText: true })[0]?.text, `${Array(12).fill('word').join(' ')}…`);
  });

  it("a request retried until Claude Code gave up: the failed attempt and the problem in the prompt's steps", async () => {
    const prompt = (await read('retry-500')).find((p) => p.promptId !== null)!;
    assert.deepEqual(
      prompt.steps.filter((s) => s.failed).map((s) => `${s.kind} ${s.label}: ${s.detail}`),
      [
        'api claude-opus-5-5: failed with 500 · scripted 500 · attempt 3',
        'event api_retries_exhausted: An API request to claude-opus-5-5 failed 3 times and Claude Code gave up (status 500, scripted 500).',
      ],
    );
    assert.deepEqual([prompt.apiCalls, prompt.costUsd, prompt.failures], [0, 0, 2]);
  });

  it('what ran: the skill, the subagent and the plugins, in words', async () => {
    const said = async (run: Run, name: string): Promise<string[]> =>
      (await read(run)).flatMap((p) => p.steps.filter((s) => s.label === name).map((s) => s.detail));
    assert.deepEqual(await said('skill', 'skill_activated'), ['skill greet · claude-proactive']);
    assert.deepEqual(await said('subagent', 'subagent_completed'), [
      'subagent general-purpose · claude-opus-5-5 · 20 tokens · 0 tool uses · 0.1 s',
    ]);
    const plugins = await said('ordinary', 'plugin_loaded');
    assert.ok(plugins.length > 0 && plugins.every((d) => / · from builtin · default-bundle$/.test(d)), `${plugins}`);
    assert.deepEqual(await said('hooks', 'hook_registered'), [
      'UserPromptSubmit · command · from userSettings',
      'PreToolUse · command · from userSettings',
    ]);
  });
});

describe('every entry of a log query, page by page', () => {
  let loki: LokiDouble;
  let client: LokiClient;
  const base = Date.UTC(2026, 11, 7, 12);
  const count = 2 * LOKI_PAGE + 123;

  before(async () => {
    loki = await startLokiDouble({ port: 0, host: '127.0.0.1', now: () => base + 600_000 });
    client = new LokiClient({ baseUrl: `http://127.0.0.1:${loki.port}` });
    // Ten events in each millisecond (their sequence tells them apart): pages end inside a millisecond's events.
    // Session s2: more than a page in one nanosecond.
    const record = (session: string, i: number, ns: bigint) => ({
      timeUnixNano: String(ns),
      // Loki keeps one of two entries with the same stream, time and line.
      body: { stringValue: `claude_code.tool_result ${i}` },
      attributes: [
        { key: 'session.id', value: { stringValue: session } },
        { key: 'event.name', value: { stringValue: 'tool_result' } },
        { key: 'event.sequence', value: { intValue: String(i) } },
      ],
    });
    const logRecords = [
      ...Array.from({ length: count }, (_, i) => record('s1', i, BigInt(base + Math.floor(i / 10)) * 1_000_000n)),
      ...Array.from({ length: LOKI_PAGE + 10 }, (_, i) => record('s2', i, BigInt(base) * 1_000_000n + 7n)),
    ];
    const res = await fetch(`http://127.0.0.1:${loki.port}/otlp/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
            scopeLogs: [{ logRecords }],
          },
        ],
      }),
    });
    assert.equal(res.status, 204, await res.text());
  });
  after(async () => {
    await client?.close();
    await loki?.close();
  });

  it('reads each entry once, newest first, and says when `max` cut them', async () => {
    const range = { startMs: base - 1000, endMs: base + 600_000 };
    const all = await client.queryAllLogs(lokiLogs.sessionEvents('s1'), { ...range, max: Infinity });
    assert.equal(all.complete, true);
    const sequences = all.entries.map((e) => Number(e.attributes['event_sequence']));
    assert.equal(new Set(sequences).size, count, 'no entry twice');
    assert.equal(sequences.length, count, 'none missing');
    assert.ok(
      all.entries.every((e, i) => i === 0 || e.timeMs <= all.entries[i - 1]!.timeMs),
      'newest first',
    );

    const cut = await client.queryAllLogs(lokiLogs.sessionEvents('s1'), { ...range, max: LOKI_PAGE + 7 });
    assert.equal(cut.complete, false);
    assert.equal(cut.entries.length, LOKI_PAGE + 7);
    assert.deepEqual(
      cut.entries.map((e) => e.attributes['event_sequence']),
      all.entries.slice(0, LOKI_PAGE + 7).map((e) => e.attributes['event_sequence']),
      'the newest',
    );
    // Exactly `max`, on whole pages and a part: all of them.
    const exact = await client.queryAllLogs(lokiLogs.sessionEvents('s1'), { ...range, max: count });
    assert.deepEqual([exact.entries.length, exact.complete], [count, true]);
    // A page of one nanosecond cannot be paged past inside it: said, not hidden.
    const instant = await client.queryAllLogs(lokiLogs.sessionEvents('s2'), { ...range, max: Infinity });
    assert.deepEqual([instant.entries.length, instant.complete], [LOKI_PAGE, false]);
  });
});
