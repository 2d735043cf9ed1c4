// A session's events as its prompts: grouped by `prompt.id` (every event one prompt caused carries it), each prompt's
// steps in `event.sequence` order on one time axis, for the session panel's list and waterfall. Claude Code reports
// an API request, a tool call or a hook when it ends, with its duration: a step begins that long before its event.
// Plain Node: never import `vscode`.
import type { LogEntry } from './loki';
import { describeEvent, numOrNull } from './events';
import type { PromptRow, PromptStep } from '../snapshot';

/** Words of a prompt a row shows, when the user opted in to prompt logging. */
const PROMPT_WORDS = 12;
/** What Claude Code sends in place of a prompt's text when prompt logging is off. */
const REDACTED = '<REDACTED>';

/** The events' prompts in the order they began; `promptText`: whether the user opted in to see prompts' words. */
export function sessionPrompts(entries: readonly LogEntry[], options: { promptText: boolean }): PromptRow[] {
  const groups = new Map<string | null, LogEntry[]>();
  for (const e of entries) {
    const id = e.attributes['prompt_id'] || null;
    const group = groups.get(id);
    if (group) group.push(e);
    else groups.set(id, [e]);
  }
  return [...groups]
    .map(([id, events]) => promptRow(id, events, options.promptText))
    .sort((a, b) => a.startMs - b.startMs);
}

function promptRow(promptId: string | null, events: LogEntry[], promptText: boolean): PromptRow {
  // A tool's decision and its result are one step: the call, from asking to its answer.
  const decisions = new Map<string, LogEntry>();
  for (const e of events) {
    const toolUse = e.attributes['tool_use_id'];
    if (e.attributes['event_name'] === 'tool_decision' && toolUse) decisions.set(toolUse, e);
  }
  const decided = new Set<LogEntry>();
  const steps: PromptStep[] = [];
  for (const e of events) {
    const a = e.attributes;
    switch (a['event_name']) {
      case 'api_request':
        steps.push(apiRequestStep(e));
        break;
      case 'api_error':
        steps.push(apiErrorStep(e));
        break;
      case 'tool_result': {
        const decision = a['tool_use_id'] ? decisions.get(a['tool_use_id']) : undefined;
        if (decision) decided.add(decision);
        steps.push(toolStep(e, decision));
        break;
      }
      case 'tool_decision':
        if (!a['tool_use_id']) steps.push(eventStep(e));
        break;
      default:
        steps.push(eventStep(e));
    }
  }
  // A call refused (or never answered) has its decision only.
  for (const decision of decisions.values()) if (!decided.has(decision)) steps.push(toolStep(undefined, decision));
  steps.sort((x, y) => x.sequence - y.sequence || x.endMs - y.endMs);

  const prompt = events.find((e) => e.attributes['event_name'] === 'user_prompt')?.attributes;
  const words = prompt?.['prompt'];
  const sum = (of: (s: PromptStep) => number): number => steps.reduce((n, s) => n + of(s), 0);
  return {
    promptId,
    startMs: Math.min(...steps.map((s) => s.startMs)),
    endMs: Math.max(...steps.map((s) => s.endMs)),
    text: promptText ? promptWords(words) : null,
    length: numOrNull(prompt?.['prompt_length']),
    costUsd: sum((s) => s.costUsd),
    tokens: sum((s) => s.tokens),
    apiCalls: steps.filter((s) => s.kind === 'api' && !s.failed).length,
    toolCalls: steps.filter((s) => s.kind === 'tool').length,
    failures: steps.filter((s) => s.failed).length,
    steps,
  };
}

/** A step ending at its event, begun `durationMs` before it. */
function timed(e: LogEntry, durationMs: number | null): Pick<PromptStep, 'sequence' | 'startMs' | 'endMs'> {
  return {
    sequence: numOrNull(e.attributes['event_sequence']) ?? Number.MAX_SAFE_INTEGER,
    startMs: e.timeMs - Math.max(0, durationMs ?? 0),
    endMs: e.timeMs,
  };
}

const joined = (...parts: Array<string | false | undefined>): string => parts.filter(Boolean).join(' · ');

function apiRequestStep(e: LogEntry): PromptStep {
  const a = e.attributes;
  const n = (key: string): number => numOrNull(a[key]) ?? 0;
  const tokens = n('input_tokens') + n('output_tokens') + n('cache_read_tokens') + n('cache_creation_tokens');
  return {
    kind: 'api',
    ...timed(e, numOrNull(a['duration_ms'])),
    label: a['model'] ?? 'API request',
    detail: joined(
      `${n('input_tokens')} in, ${n('output_tokens')} out, ${n('cache_read_tokens')} cache read, ` +
        `${n('cache_creation_tokens')} cache write`,
      a['ttft_ms'] !== undefined && `first token after ${a['ttft_ms']} ms`,
      (numOrNull(a['attempt']) ?? 1) > 1 && `attempt ${a['attempt']}`,
      a['query_source'] && `from ${a['query_source']}`,
    ),
    costUsd: n('cost_usd'),
    tokens,
    failed: false,
  };
}

function apiErrorStep(e: LogEntry): PromptStep {
  const a = e.attributes;
  return {
    kind: 'api',
    ...timed(e, numOrNull(a['duration_ms'])),
    label: a['model'] ?? 'API request',
    detail: joined(
      `failed${a['status_code'] ? ` with ${a['status_code']}` : ''}`,
      a['error'],
      a['attempt'] !== undefined && `attempt ${a['attempt']}`,
    ),
    costUsd: 0,
    tokens: 0,
    failed: true,
  };
}

function toolStep(result: LogEntry | undefined, decision: LogEntry | undefined): PromptStep {
  const r = result?.attributes ?? {};
  const d = decision?.attributes ?? {};
  const refused = !result && d['decision'] === 'reject';
  const failed = refused || r['success'] === 'false';
  const outcome = !result
    ? refused
      ? 'not run'
      : 'no result'
    : r['success'] === 'false'
      ? `failed${r['error_type'] ? `: ${r['error_type']}` : ''}${r['error'] ? ` (${r['error']})` : ''}`
      : 'ok';
  const ended = (result ?? decision)!;
  const step = timed(ended, numOrNull(r['duration_ms']));
  return {
    kind: 'tool',
    ...step,
    // From the decision, when there was one: the wait for the user's answer is part of the call.
    startMs: decision ? Math.min(step.startMs, decision.timeMs) : step.startMs,
    label: r['tool_name'] ?? d['tool_name'] ?? 'tool',
    detail: joined(d['decision'] && `${d['decision']}${d['source'] ? ` (${d['source']})` : ''}`, outcome),
    costUsd: 0,
    tokens: 0,
    failed,
  };
}

function eventStep(e: LogEntry): PromptStep {
  const a = e.attributes;
  const { name, detail, failed } = describeEvent(e);
  return {
    kind: 'event',
    ...timed(e, numOrNull(a['duration_ms'] ?? a['total_duration_ms'] ?? a['total_retry_duration_ms'])),
    label: name,
    detail,
    costUsd: 0,
    tokens: 0,
    failed,
  };
}

/** A prompt's first words from its user_prompt event's `prompt`; null when Claude Code sent none or its placeholder. */
export function promptWords(text: string | undefined): string | null {
  if (!text || text === REDACTED) return null;
  const words = text.trim().split(/\s+/);
  return words.length > PROMPT_WORDS ? `${words.slice(0, PROMPT_WORDS).join(' ')}…` : words.join(' ');
}
