// Issue 25: the history import (src/history) against ccusage, on one generated year of heavy Claude Code use.
//
// The corpus: a seeded generator writes `<config dir>/projects/<folder>/<session>.jsonl` as Claude Code 2.1.328 writes
// them (the line shapes, keys and key order of test/support/fixtures/claude-code-2.1.328-transcripts; its session
// header lines copied verbatim with ids, paths and times replaced): per turn a user prompt, per API request an
// `api-request` line, the answer (one line per content block when it has two, sharing message id, request id and
// usage, as the CLI writes it), then the tool result (a Read, numbered lines plus the file again in `toolUseResult`:
// most of the bytes). Some turns start a subagent (`<session>/subagents/agent-<id>.jsonl`, `isSidechain`), some
// sessions are resumed days later into the same file. Models: claude-opus-5-5, claude-sonnet-4-5-20250929 (some
// sessions past 200k input tokens), claude-haiku-4-5-20251001 (Explore subagents too); cache writes of 5 minutes or
// 1 hour. Kept under ~/.cache/claude-code-telemetry-tools/bench-corpus-<hash of its parameters>.
//
// Timed side by side, interleaved: (a) the import in a child Node process (its peak RSS from
// process.resourceUsage()), a HistoryImporter against a fresh real Prometheus (test/support/promServer.ts, the stack's
// OTLP receiver and out-of-order window); (b) the same child reading and planning only (what ccusage does: read and
// sum); (c) ccusage's native binary (`claude daily --json --offline --instances`, `claude session --json --offline`),
// its peak RSS from /usr/bin/time -v. Totals per day (UTC), project and model are compared between the plan and
// ccusage's JSON; the Prometheus written into is queried back to check the writes landed.
//
// Run as a script (`node out/bench/historyImport.js <import|read> ...`) it is that child.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { arch, homedir, platform } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { COUNTERS } from '../src/telemetry/counters';
import { PrometheusClient } from '../src/telemetry/prometheus';
import {
  bundledPricing,
  findTranscripts,
  HistoryImporter,
  planImport,
  SETTLE_MS,
  readTranscript,
  type ImportPlan,
  type UsageEntry,
} from '../src/history';
import { startLoadedPrometheus } from '../test/support/promServer';
import { mulberry32 } from '../test/support/sim';
import { TRANSCRIPTS } from '../test/support/transcripts';
import { fmtBytes, fmtMs, fmtRatio, median, table } from './table';

const DAY = 86_400_000;
const REACH_MS = 400 * DAY;
const CCUSAGE_VERSION = '20.0.24';
const OVERRIDE = join(TRANSCRIPTS, 'ccusage-20.0.24', 'opus-5-5-override.config.json');
const TOOLS = join(homedir(), '.cache', 'claude-code-telemetry-tools');

// ---------------------------------------------------------------------------------------------------------------
// The corpus.

interface CorpusParams {
  /** Bump when the generator changes: a new hash, a new corpus. */
  generator: number;
  seed: number;
  days: number;
  targetBytes: number;
}

const FULL: CorpusParams = { generator: 2, seed: 25, days: 365, targetBytes: 1e9 };
const QUICK: CorpusParams = { generator: 2, seed: 25, days: 30, targetBytes: 5e6 };

interface Corpus {
  /** The CLAUDE_CONFIG_DIR: `projects/` under it. */
  dir: string;
  params: CorpusParams;
  generatedAtMs: number;
  generateMs: number;
  bytes: number;
  files: number;
  subagentFiles: number;
  sessions: number;
  answers: number;
  /** Lines written (every kind) and the assistant lines among them. */
  lines: number;
  assistantLines: number;
  /** Project folder (ccusage's project) → cwd (whose last part is the import's project). */
  folders: Record<string, string>;
}

class Rand {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  weighted<T>(xs: ReadonlyArray<readonly [T, number]>): T {
    const total = xs.reduce((n, [, w]) => n + w, 0);
    let r = this.next() * total;
    for (const [x, w] of xs) if ((r -= w) < 0) return x;
    return xs[xs.length - 1]![0];
  }
  /** Log-normal around `med` (its median), clamped. */
  logNormal(med: number, sigma: number, lo: number, hi: number): number {
    const u = Math.max(1e-12, this.next());
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
    return Math.round(Math.min(hi, Math.max(lo, med * Math.exp(sigma * z))));
  }
  hex(n: number): string {
    let s = '';
    while (s.length < n)
      s += Math.floor(this.next() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    return s.slice(0, n);
  }
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  }
}

/** Claude Code's project folder: the cwd with every character but [A-Za-z0-9] made `-`. */
export function folderOf(cwd: string): string {
  return cwd.replace(/[^A-Za-z0-9]/g, '-');
}

/** The fixture session whose header lines (environment, listings, prompt snapshot, request shape) are copied. */
const FIXTURE_SESSION = '316eee41-6fd7-4980-8d49-4510e3dba9d2';
const FIXTURE_CWD = '/tmp/h25/home/project';
const FIXTURE_PROMPT = 'Read README.md and summarize it (transcript fixture, session 2)';

type Template = (v: Record<string, string>) => string;

/** A fixture line with its session, paths, times, ids and prompt made placeholders. */
function template(line: string): Template {
  const marked = line
    .replaceAll(FIXTURE_SESSION, '\u0001S\u0002')
    .replaceAll(FIXTURE_CWD, '\u0001C\u0002')
    .replaceAll(folderOf(FIXTURE_CWD), '\u0001F\u0002')
    .replaceAll(FIXTURE_PROMPT, '\u0001P\u0002')
    .replace(/"timestamp":"[^"]+"/g, '"timestamp":"\u0001T\u0002"')
    .replace(/2026-12-07/g, '\u0001D\u0002')
    .replace(/"id":"[0-9a-f-]{36}"/g, '"id":"\u0001I\u0002"');
  // Literal, key, literal, key, ... (split on the markers' characters: no control characters in a regular expression).
  const [first, ...rest] = marked.split('\u0001');
  const parts = [first!, ...rest.flatMap((p) => [p.slice(0, p.indexOf('\u0002')), p.slice(p.indexOf('\u0002') + 1)])];
  return (v) => parts.map((p, i) => (i % 2 ? (v[p] ?? '') : p)).join('');
}

interface Templates {
  /** From the session's start to its first request: queue operations, then (after the prompt) the attachments. */
  queue: Template[];
  attachments: Template[];
  apiRequest: Template;
  lastPrompt: Template;
  atisLatch: Template;
  costState: Template;
  agentLaunched: string;
}

function loadTemplates(): Templates {
  const dir = join(TRANSCRIPTS, 'projects', folderOf(FIXTURE_CWD));
  const lines = readFileSync(join(dir, `${FIXTURE_SESSION}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean);
  const typed = lines.map((l) => [JSON.parse(l) as { type: string }, l] as const);
  const firstAnswer = typed.findIndex(([o]) => o.type === 'assistant');
  const head = typed.slice(0, firstAnswer);
  const one = (type: string): Template => template(typed.find(([o]) => o.type === type)![1]);
  const agent = readFileSync(join(dir, '3f8aaa59-a33e-4df1-89ff-caea8ca0c4f5.jsonl'), 'utf8')
    .split('\n')
    .find((l) => l.includes('Async agent launched'))!;
  const launched = (JSON.parse(agent) as { message: { content: Array<{ content: Array<{ text: string }> }> } }).message
    .content[0]!.content[0]!.text;
  return {
    queue: head.filter(([o]) => o.type === 'queue-operation').map(([, l]) => template(l)),
    // Everything before the first answer but the prompt, the queue operations and the first request (written per request).
    attachments: head
      .filter(([o]) => !['queue-operation', 'user', 'api-request', 'tools-used'].includes(o.type))
      .map(([, l]) => template(l)),
    apiRequest: one('api-request'),
    lastPrompt: one('last-prompt'),
    atisLatch: one('atis-latch'),
    costState: one('cost-state'),
    agentLaunched: launched,
  };
}

const WORDS = (
  'the a of to in for on with from by value result error config state user session token cache request response ' +
  'handler client server query metric series label prometheus import history transcript file path line buffer parse ' +
  'json stream read write plan sample time count total cost model project folder window panel view status'
).split(' ');

/** Source-like lines (quotes, tabs and backslashes to escape), the stuff tool results are made of. */
function sourcePool(r: Rand): string[] {
  const out: string[] = [];
  for (let i = 0; i < 4000; i++) {
    const indent = '  '.repeat(r.int(0, 4));
    const w = (): string => r.pick(WORDS);
    const kind = r.int(0, 5);
    out.push(
      kind === 0
        ? `${indent}const ${w()}${r.int(0, 99)} = await ${w()}.${w()}("${w()} ${w()}", ${r.int(0, 9999)});`
        : kind === 1
          ? `${indent}// ${Array.from({ length: r.int(4, 14) }, w).join(' ')}`
          : kind === 2
            ? `${indent}if (${w()} === '${w()}\\t${w()}') return { ${w()}: ${w()}, ${w()}: [${r.int(0, 99)}] };`
            : kind === 3
              ? `${indent}${w()}.push(\`${w()} \${${w()}}\`);`
              : kind === 4
                ? ''
                : `${indent}export function ${w()}${w()}(${w()}: string, ${w()}: number): void {`,
    );
  }
  return out;
}

interface Project {
  cwd: string;
  folder: string;
  weight: number;
  branch: string;
}

const MODELS = {
  opus: 'claude-opus-5-5',
  sonnet: 'claude-sonnet-4-5-20250929',
  haiku: 'claude-haiku-4-5-20251001',
} as const;

interface Writer {
  add(path: string, line: string): void;
}

interface SessionStats {
  answers: number;
  assistantLines: number;
  lines: number;
  subagents: number;
}

/** One session (and its subagents), from startMs; returns when it ended. */
function session(
  r: Rand,
  t: Templates,
  pool: string[],
  project: Project,
  root: string,
  startMs: number,
  endLimitMs: number,
  out: Writer,
  stats: SessionStats,
): void {
  const sessionId = r.uuid();
  const file = join(root, project.folder, `${sessionId}.jsonl`);
  const model = r.weighted<string>([
    [MODELS.opus, 6],
    [MODELS.sonnet, 3],
    [MODELS.haiku, 1],
  ]);
  const entrypoint = r.weighted([
    ['cli', 7],
    ['claude-vscode', 3],
  ] as const);
  const ttl = r.next() < 0.3 ? '1h' : '5m';
  // Sonnet sessions with the long context: their requests go past 200k input tokens.
  const contextCap = model === MODELS.sonnet && r.next() < 0.15 ? 420_000 : 170_000;
  const common = { userType: 'external', entrypoint, cwd: project.cwd, sessionId, version: '2.1.328' };
  const tail = { ...common, gitBranch: project.branch };
  const iso = (ms: number): string => new Date(ms).toISOString();
  let now = startMs;
  let parent: string | null = null;
  let context = 0;
  let cachedAt = -Infinity;
  const add = (path: string, line: string): void => {
    out.add(path, line);
    stats.lines++;
  };
  const text = (bytes: number): string => {
    let s = '';
    for (let i = r.int(0, pool.length - 1); s.length < bytes; i = (i + 1) % pool.length) s += `${pool[i]} `;
    return s.slice(0, bytes);
  };

  /** The usage of one request: what the context gained is written to the cache, the rest read from it. */
  const usage = (gained: number, agentCap = contextCap): Record<string, unknown> => {
    const expired = now - cachedAt > (ttl === '1h' ? 3_600_000 : 300_000);
    if (context + gained > agentCap) context = r.int(25_000, 40_000); // compacted
    const write = expired ? context + gained : gained;
    const read = expired ? 0 : context;
    context += gained;
    cachedAt = now;
    const output = r.logNormal(350, 1.0, 5, 16_000);
    context += output;
    return {
      input_tokens: r.int(1, 12),
      cache_creation_input_tokens: write,
      cache_read_input_tokens: read,
      output_tokens: output,
      output_tokens_details: { thinking_tokens: 0 },
      server_tool_use: { web_search_requests: 0, web_fetch_requests: 0 },
      service_tier: 'standard',
      cache_creation: {
        ephemeral_1h_input_tokens: ttl === '1h' ? write : 0,
        ephemeral_5m_input_tokens: ttl === '1h' ? 0 : write,
      },
      inference_geo: '',
      iterations: [],
      speed: 'standard',
      fallback_credit: null,
    };
  };

  /** One request: its `api-request` line, then the answer's line(s); returns the uuid of the last. */
  const answer = (
    path: string,
    side: { agentId: string; agent: string } | undefined,
    answerModel: string,
    content: unknown[],
    stop: string,
    use: Record<string, unknown>,
  ): string => {
    const ref = r.uuid();
    add(
      path,
      t.apiRequest({
        S: sessionId,
        C: project.cwd,
        F: project.folder,
        T: iso(now),
        I: ref,
        P: '',
        D: iso(now).slice(0, 10),
      }),
    );
    const id = `msg_${r.hex(24)}`;
    const requestId = `req_${r.hex(24)}`;
    stats.answers++;
    content.forEach((block, i) => {
      const uuid = r.uuid();
      const isTool = (block as { type: string }).type === 'tool_use';
      add(
        path,
        JSON.stringify({
          parentUuid: parent,
          isSidechain: side !== undefined,
          ...(side ? { agentId: side.agentId } : {}),
          message: {
            id,
            type: 'message',
            role: 'assistant',
            model: answerModel,
            content: [block],
            stop_reason: stop,
            stop_sequence: null,
            usage: use,
            stop_details: null,
          },
          ...(isTool ? { toolInputStreamMs: r.int(1, 40) } : {}),
          apiBlockIndex: i,
          requestId,
          requestRef: ref,
          requestedModel: answerModel,
          promptCacheRequested: ttl,
          ...(side ? { attributionAgent: side.agent } : {}),
          type: 'assistant',
          uuid,
          timestamp: iso(now + i * 3),
          effort: 'medium',
          perTurnEffort: 'medium',
          madeBy: 'model',
          ...tail,
        }),
      );
      stats.assistantLines++;
      parent = uuid;
    });
    return parent!;
  };

  const readResult = (
    path: string,
    side: { agentId: string } | undefined,
    promptId: string,
    toolId: string,
    source: string,
    filePath: string,
  ): number => {
    // Mostly small results (edits, short commands), some whole files.
    const bytes = r.next() < 0.65 ? r.logNormal(400, 0.8, 40, 4000) : r.logNormal(4000, 0.9, 400, 120_000);
    const lines = text(bytes).split(/(?<=;|\}|\{) /);
    const start = r.int(1, 400);
    const uuid = r.uuid();
    add(
      path,
      JSON.stringify({
        parentUuid: parent,
        isSidechain: side !== undefined,
        promptId,
        ...(side ? { agentId: side.agentId } : {}),
        type: 'user',
        message: {
          role: 'user',
          content: [
            {
              tool_use_id: toolId,
              type: 'tool_result',
              content: lines.map((l, i) => `${start + i}\t${l}`).join('\n'),
            },
          ],
        },
        uuid,
        timestamp: iso(now),
        toolUseResult: {
          type: 'text',
          file: {
            filePath,
            content: lines.join('\n'),
            numLines: lines.length,
            startLine: start,
            totalLines: start + lines.length + r.int(0, 300),
          },
        },
        sourceToolAssistantUUID: source,
        permissionDecision: { decision: 'accept', source: 'config', reasonType: 'rule', ruleSource: 'cliArg' },
      }),
    );
    parent = uuid;
    return Math.round(bytes / 3.2);
  };

  const readCall = (
    path: string,
    side: { agentId: string; agent: string } | undefined,
    answerModel: string,
    promptId: string,
    gained: number,
    cap?: number,
  ): number => {
    const toolId = `toolu_${r.hex(24)}`;
    const filePath = `${project.cwd}/src/${r.pick(WORDS)}/${r.pick(WORDS)}.ts`;
    const blocks: unknown[] = [];
    if (r.next() < 0.45) blocks.push({ type: 'text', text: text(r.int(30, 300)) });
    blocks.push({ type: 'tool_use', id: toolId, name: 'Read', input: { file_path: filePath } });
    const source = answer(path, side, answerModel, blocks, 'tool_use', usage(gained, cap));
    now += r.int(200, 4000);
    return readResult(path, side, promptId, toolId, source, filePath);
  };

  /** A user line of the main conversation after `parent`: what every one carries, then its own fields. */
  const userLine = (
    promptId: string,
    content: unknown,
    uuid: string,
    atMs: number,
    own: Record<string, unknown>,
  ): string =>
    JSON.stringify({
      parentUuid: parent,
      isSidechain: false,
      promptId,
      type: 'user',
      message: { role: 'user', content },
      uuid,
      timestamp: iso(atMs),
      ...own,
      ...tail,
    });

  const header = (prompt: string, promptId: string): void => {
    const v = { S: sessionId, C: project.cwd, F: project.folder, T: iso(now), D: iso(now).slice(0, 10), P: '' };
    for (const q of t.queue) add(file, q({ ...v, P: JSON.stringify(prompt.slice(0, 200)).slice(1, -1) }));
    promptLine(prompt, promptId, 0);
    for (const a of t.attachments) add(file, a({ ...v, I: r.uuid() }));
    context += 18_000; // system prompt and tools
  };

  const promptLine = (prompt: string, promptId: string, index: number): void => {
    const uuid = r.uuid();
    add(
      file,
      userLine(promptId, prompt, uuid, now, {
        permissionMode: 'default',
        promptSource: 'sdk',
        turnOrigin: 'sdk',
        turnPosition: { promptIndex: index, turnIndex: 1 },
      }),
    );
    parent = uuid;
  };

  const turns = (count: number): void => {
    for (let turn = 0; turn < count && now < endLimitMs; turn++) {
      const prompt = text(r.logNormal(1500, 0.7, 80, 12_000));
      const promptId = r.uuid();
      if (turn === 0 && context === 0) header(prompt, promptId);
      else promptLine(prompt, promptId, turn);
      let gained = Math.round(prompt.length / 3.5);
      const calls = r.int(1, 12);
      for (let c = 0; c < calls; c++) {
        now += r.int(3_000, 40_000);
        if (c === 1 && r.next() < 0.12) gained = subagent(promptId, gained);
        else gained = readCall(file, undefined, model, promptId, gained);
      }
      now += r.int(3_000, 40_000);
      answer(file, undefined, model, [{ type: 'text', text: text(r.int(80, 1500)) }], 'end_turn', usage(gained));
      add(file, t.lastPrompt({ S: sessionId, P: JSON.stringify(prompt.slice(0, 200)).slice(1, -1) }));
      add(file, t.atisLatch({ S: sessionId }));
      now += r.logNormal(120_000, 1.2, 10_000, 3_600_000);
    }
  };

  /** An Agent call: launched in the background; its transcript under the session's folder. */
  const subagent = (promptId: string, gained: number): number => {
    const toolId = `toolu_${r.hex(24)}`;
    const agentId = `a${r.hex(16)}`;
    const agent = r.next() < 0.5 ? 'Explore' : 'general-purpose';
    const agentModel = agent === 'Explore' ? MODELS.haiku : model;
    const task = text(r.int(100, 800));
    const description = text(r.int(10, 30));
    const source = answer(
      file,
      undefined,
      model,
      [{ type: 'tool_use', id: toolId, name: 'Agent', input: { description, prompt: task, subagent_type: agent } }],
      'tool_use',
      usage(gained),
    );
    const mainParent = parent;
    const mainContext = context;
    const mainCachedAt = cachedAt;
    const path = join(root, project.folder, sessionId, 'subagents', `agent-${agentId}.jsonl`);
    const side = { agentId, agent };
    parent = null;
    context = 12_000;
    cachedAt = -Infinity;
    const start = now;
    const uuid = r.uuid();
    add(
      path,
      JSON.stringify({
        parentUuid: null,
        isSidechain: true,
        promptId,
        agentId,
        type: 'user',
        message: { role: 'user', content: task },
        uuid,
        timestamp: iso(now + 5),
        ...tail,
      }),
    );
    parent = uuid;
    let g = Math.round(task.length / 3.5);
    const calls = r.int(2, 10);
    for (let c = 0; c < calls; c++) {
      now += r.int(2_000, 20_000);
      g = readCall(path, side, agentModel, promptId, g, 150_000);
    }
    now += r.int(2_000, 20_000);
    answer(path, side, agentModel, [{ type: 'text', text: text(r.int(200, 2000)) }], 'end_turn', usage(g, 150_000));
    out.add(
      join(root, project.folder, sessionId, 'subagents', `agent-${agentId}.meta.json`),
      JSON.stringify({ agentType: agent, isBuiltIn: true, description, toolUseId: toolId, model: agentModel }),
    );
    stats.subagents++;
    // Back in the main loop: the launch's result (the fixture's text), written when the agent was launched.
    const subEnd = now;
    now = start;
    parent = mainParent;
    context = mainContext;
    cachedAt = mainCachedAt;
    const resultUuid = r.uuid();
    add(
      file,
      userLine(
        promptId,
        [{ tool_use_id: toolId, type: 'tool_result', content: [{ type: 'text', text: t.agentLaunched }] }],
        resultUuid,
        now + 30,
        {
          toolUseResult: {
            isAsync: true,
            status: 'async_launched',
            agentId,
            description,
            resolvedModel: agentModel,
            prompt: task,
            outputFile: `/tmp/claude-0/${project.folder}/${sessionId}/tasks/${agentId}.output`,
            canReadOutputFile: true,
            canContinueAgent: true,
          },
          sourceToolAssistantUUID: source,
          permissionDecision: { decision: 'accept', source: 'config', reasonType: 'rule', ruleSource: 'cliArg' },
        },
      ),
    );
    parent = resultUuid;
    now = Math.max(now + 1000, subEnd - r.int(0, 10_000));
    return Math.round(task.length / 3.5) + 300;
  };

  turns(r.int(1, 16));
  // Resumed (`--resume`, `--continue`) days later: the same file, the same session id.
  if (r.next() < 0.06) {
    now += r.int(1, 3) * DAY;
    turns(r.int(1, 4));
  }
  add(file, t.costState({ S: sessionId }));
}

/** The corpus for these parameters, generated (minutes for a GB) unless the cache holds it. */
export function corpus(params: CorpusParams, log: (s: string) => void): Corpus {
  const hash = createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 12);
  const dir = join(TOOLS, `bench-corpus-${hash}`);
  const infoFile = join(dir, 'corpus.json');
  if (existsSync(infoFile)) return { ...(JSON.parse(readFileSync(infoFile, 'utf8')) as Corpus), dir };
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const root = join(building, 'projects');
  mkdirSync(root, { recursive: true });
  log(`historyImport: generating a corpus of ~${fmtBytes(params.targetBytes)} into ${dir}`);
  const began = performance.now();
  const generatedAtMs = Math.floor(Date.now() / 60_000) * 60_000;
  const t = loadTemplates();
  const r = new Rand(mulberry32(params.seed));
  const pool = sourcePool(r);
  const names = [
    'api',
    'web-app',
    'infra',
    'ml-pipeline',
    'mobile',
    'docs-site',
    'cli-tools',
    'data-warehouse',
    'auth-service',
    'billing',
    'search',
    'design-system',
  ];
  const projects: Project[] = names.map((n, i) => {
    const cwd = `/home/dev/src/${n}`;
    return { cwd, folder: folderOf(cwd), weight: 1 / (i + 1), branch: r.pick(['main', 'HEAD', `feature/${n}`]) };
  });
  // Two folders with the same last part (the import's project is the last part, ccusage's the whole folder), and one
  // whose name has characters the folder encoding changes.
  for (const cwd of ['/home/dev/oss/api', '/home/dev/src/my_tool.v2'])
    projects.push({ cwd, folder: folderOf(cwd), weight: 0.15, branch: 'main' });

  // Files are written whole, per session: a map of path → lines, flushed after each session.
  const pending = new Map<string, string[]>();
  let bytes = 0;
  let files = 0;
  let subagentFiles = 0;
  const writer: Writer = {
    add(path, line) {
      let l = pending.get(path);
      if (!l) pending.set(path, (l = []));
      l.push(line);
    },
  };
  const flush = (): void => {
    for (const [path, lines] of pending) {
      const text = path.endsWith('.json') ? lines.join('\n') : `${lines.join('\n')}\n`;
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, text, { flag: 'a' });
      bytes += Buffer.byteLength(text);
      if (path.includes('/subagents/') && path.endsWith('.jsonl')) subagentFiles++;
    }
    pending.clear();
  };
  const stats: SessionStats = { answers: 0, assistantLines: 0, lines: 0, subagents: 0 };

  // Calibrate: the mean size of a session, from a separate stream of the same generator.
  const probe = new Rand(mulberry32(params.seed + 1));
  let probeBytes = 0;
  const probeOut: Writer = {
    add(_path, line) {
      probeBytes += line.length + 1;
    },
  };
  const probeStats: SessionStats = { answers: 0, assistantLines: 0, lines: 0, subagents: 0 };
  for (let i = 0; i < 60; i++) session(probe, t, pool, projects[0]!, root, 0, Infinity, probeOut, probeStats);
  const perDay = params.targetBytes / (probeBytes / 60) / params.days;

  const end = generatedAtMs - DAY;
  let sessions = 0;
  for (let d = params.days; d > 0; d--) {
    const dayStart = Math.floor((end - d * DAY) / DAY) * DAY;
    const weekend = [0, 6].includes(new Date(dayStart).getUTCDay());
    const mean = perDay * (weekend ? 0.4 : 1.24);
    let count = Math.floor(mean);
    if (r.next() < mean - count) count++;
    for (let s = 0; s < count; s++) {
      const project = r.weighted(projects.map((p) => [p, p.weight] as const));
      // Working hours, mostly (UTC here; some sessions cross midnight).
      const startMs = dayStart + r.logNormal(13 * 3_600_000, 0.35, 0, DAY - 60_000) + r.int(0, 59_999);
      session(r, t, pool, project, root, startMs, end, writer, stats);
      sessions++;
      flush();
    }
  }
  files = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.jsonl')) files++;
  };
  walk(root);
  const info: Corpus = {
    dir,
    params,
    generatedAtMs,
    generateMs: performance.now() - began,
    bytes,
    files,
    subagentFiles,
    sessions,
    answers: stats.answers,
    lines: stats.lines,
    assistantLines: stats.assistantLines,
    folders: Object.fromEntries(projects.map((p) => [p.folder, p.cwd])),
  };
  writeFileSync(join(building, 'corpus.json'), JSON.stringify(info, null, 1));
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  log(`historyImport: ${fmtBytes(bytes)} in ${files} files, ${stats.answers} answers, in ${fmtMs(info.generateMs)}`);
  return info;
}

// ---------------------------------------------------------------------------------------------------------------
// Totals, keyed alike on both sides.

interface Tally {
  cost: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  sessions: number;
}

const zero = (): Tally => ({ cost: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, sessions: 0 });

interface Totals {
  all: Tally;
  byDay: Record<string, Tally>;
  byProject: Record<string, Tally>;
  byModel: Record<string, Tally>;
}

function tallyIn(m: Record<string, Tally>, key: string): Tally {
  return (m[key] ??= zero());
}

const TOKEN_FIELD = { input: 'input', output: 'output', cacheRead: 'cacheRead', cacheCreation: 'cacheWrite' } as const;

/** The plan's totals, from its raw cumulative series (the per-answer increments at each answer's own time). */
function planTotals(plan: ImportPlan): Totals {
  const t: Totals = { all: zero(), byDay: {}, byProject: {}, byModel: {} };
  for (const s of plan.series()) {
    const counter =
      s.name === COUNTERS.cost.metric
        ? 'cost'
        : s.name === COUNTERS.tokens.metric
          ? 'tokens'
          : s.name === COUNTERS.sessions.metric
            ? 'sessions'
            : undefined;
    if (!counter) continue;
    const field: keyof Tally =
      counter === 'tokens' ? TOKEN_FIELD[s.labels['type'] as keyof typeof TOKEN_FIELD] : counter;
    let prev = 0;
    for (const p of s.samples) {
      const inc = p.value - prev;
      prev = p.value;
      const day = new Date(p.timeMs).toISOString().slice(0, 10);
      const keys: Array<Tally> = [
        t.all,
        tallyIn(t.byDay, day),
        tallyIn(t.byProject, s.labels['vscode_workspace_name']!),
      ];
      if (s.labels['model']) keys.push(tallyIn(t.byModel, s.labels['model']));
      for (const k of keys) k[field] += inc;
    }
  }
  return t;
}

interface CcusageTokens {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  totalCost?: number;
  cost?: number;
}
interface CcusageDaily {
  projects: Record<
    string,
    Array<CcusageTokens & { date: string; modelBreakdowns: Array<CcusageTokens & { modelName: string }> }>
  >;
}
interface CcusageSessions {
  sessions: Array<CcusageTokens & { sessionId: string; projectPath: string; firstActivity: string }>;
}

function addTokens(to: Tally, c: CcusageTokens, cost: number): void {
  to.cost += cost;
  to.input += c.inputTokens;
  to.output += c.outputTokens;
  to.cacheRead += c.cacheReadTokens;
  to.cacheWrite += c.cacheCreationTokens;
}

/** ccusage's totals, its projects (folders) named as the import names them (the cwd's last part). */
function ccusageTotals(daily: CcusageDaily, sessions: CcusageSessions, folders: Record<string, string>): Totals {
  const t: Totals = { all: zero(), byDay: {}, byProject: {}, byModel: {} };
  const project = (folder: string): string => (folders[folder] ?? folder).split('/').filter(Boolean).pop() ?? folder;
  for (const [folder, days] of Object.entries(daily.projects))
    for (const d of days) {
      const cost = d.totalCost ?? 0;
      addTokens(t.all, d, cost);
      addTokens(tallyIn(t.byDay, d.date), d, cost);
      addTokens(tallyIn(t.byProject, project(folder)), d, cost);
      for (const m of d.modelBreakdowns) addTokens(tallyIn(t.byModel, m.modelName), m, m.cost ?? 0);
    }
  for (const s of sessions.sessions) {
    t.all.sessions++;
    tallyIn(t.byDay, s.firstActivity.slice(0, 10)).sessions++;
    tallyIn(t.byProject, project(s.projectPath)).sessions++;
  }
  return t;
}

// ---------------------------------------------------------------------------------------------------------------
// The child: one import, or one read-and-plan pass; prints one JSON line.

interface ChildResult {
  mode: 'import' | 'read';
  totalMs: number;
  readingMs: number;
  planningMs: number;
  writingMs: number;
  samples: number;
  answers: number;
  duplicates: number;
  imported: number;
  sessions: number;
  problems: number;
  unpriced: Array<[string, number]>;
  maxRssKiB: number;
  totals?: Totals;
  /** Answers past 200k input tokens (input, cache reads and writes): the price table's long-context rates. */
  longContext?: { answers: number; cost: number };
}

async function child(mode: 'import' | 'read', root: string, promUrl: string | undefined): Promise<ChildResult> {
  const began = performance.now();
  const pricing = bundledPricing();
  if (mode === 'read') {
    const { files } = await findTranscripts([root]);
    const entries: UsageEntry[] = [];
    let problems = 0;
    for (const f of files) {
      const read = await readTranscript(f.path);
      for (const e of read.entries) entries.push(e);
      problems += read.problems?.count ?? 0;
    }
    const read = performance.now();
    const longContext = { answers: 0, cost: 0 };
    const price = (e: UsageEntry): number | undefined => {
      const usd = pricing.price(e);
      if (e.input + e.cacheRead + e.cacheWrite5m + e.cacheWrite1h > 200_000) {
        longContext.answers++;
        longContext.cost += usd ?? 0;
      }
      return usd;
    };
    const plan = planImport(
      entries,
      { sessions: new Set(), requests: new Map() },
      { nowMs: Date.now(), reachMs: REACH_MS, settleMs: SETTLE_MS, written: new Map(), price },
    );
    const planned = performance.now();
    const samples = plan.samples;
    const maxRssKiB = process.resourceUsage().maxRSS;
    return {
      mode,
      totalMs: planned - began,
      readingMs: read - began,
      planningMs: planned - read,
      writingMs: 0,
      samples,
      ...plan.counts,
      problems,
      unpriced: [...plan.unpriced],
      maxRssKiB,
      totals: planTotals(plan),
      longContext,
    };
  }
  const prometheus = new PrometheusClient({ baseUrl: promUrl!, timeoutMs: 60_000 });
  const marks = new Map<string, number>();
  const importer = new HistoryImporter({
    prometheus,
    loki: undefined,
    roots: [root],
    pricing,
    fallbackReachMs: REACH_MS,
    written: new Map(),
    saveWritten: () => Promise.resolve(),
  });
  const report = await importer.run(Date.now(), (p) => {
    if (!marks.has(p.phase)) marks.set(p.phase, performance.now());
  });
  const end = performance.now();
  const checking = marks.get('checking') ?? end;
  const writing = marks.get('writing') ?? end;
  return {
    mode,
    totalMs: end - began,
    readingMs: checking - began,
    planningMs: writing - checking,
    writingMs: end - writing,
    samples: report.samplesWritten,
    ...report.plan,
    problems: report.problems.length,
    unpriced: report.unpriced.map((u) => [u.model, u.answers]),
    maxRssKiB: process.resourceUsage().maxRSS,
  };
}

function runNode(args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [__filename, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) reject(new Error(`bench child ${args[0]} exited ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// ccusage.

function findCcusage(quick: boolean, log: (s: string) => void): { bin?: string; why: string } {
  const rel = join('node_modules', '@ccusage', 'ccusage-linux-x64', 'bin', 'ccusage');
  const cached = join(TOOLS, `ccusage-${CCUSAGE_VERSION}`);
  const candidates = [process.env['CCUSAGE_BIN'], join(cached, rel), join('/tmp/h25/ccusage', rel)].filter(
    (c): c is string => !!c,
  );
  for (const c of candidates) if (existsSync(c)) return { bin: c, why: '' };
  if (platform() !== 'linux' || arch() !== 'x64')
    return { why: `no native ccusage for ${platform()}-${arch()} here (the bench uses the linux-x64 binary)` };
  if (quick)
    return { why: `@ccusage/ccusage-linux-x64@${CCUSAGE_VERSION} is not installed (the quick mode installs nothing)` };
  try {
    log(`historyImport: installing @ccusage/ccusage-linux-x64@${CCUSAGE_VERSION} into ${cached}`);
    mkdirSync(cached, { recursive: true });
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        cached,
        '--no-save',
        '--no-audit',
        '--no-fund',
        `@ccusage/ccusage-linux-x64@${CCUSAGE_VERSION}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 },
    );
  } catch (e) {
    return { why: `installing @ccusage/ccusage-linux-x64@${CCUSAGE_VERSION} failed: ${String(e).slice(0, 200)}` };
  }
  return existsSync(join(cached, rel))
    ? { bin: join(cached, rel), why: '' }
    : { why: 'the installed package has no binary' };
}

interface Timed {
  ms: number;
  maxRssKiB: number;
  stdout: string;
}

/** Runs a command under /usr/bin/time -v when there is one (its peak RSS), else polls /proc/<pid>/status. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Timed> {
  const gnuTime = existsSync('/usr/bin/time');
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const p = gnuTime
      ? spawn('/usr/bin/time', ['-v', cmd, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    let hwm = 0;
    const poll = gnuTime
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
            if (m) hwm = Math.max(hwm, Number(m[1]));
          } catch {
            /* gone */
          }
        }, 5);
    p.stdout.on('data', (d: Buffer) => chunks.push(d));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const ms = performance.now() - began;
      if (poll) clearInterval(poll);
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
      resolve({ ms, maxRssKiB: m ? Number(m[1]) : hwm, stdout: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The section.

const fmtUsd = (n: number): string => `$${n.toFixed(2)}`;
const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtMiB = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
const fmtS = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : fmtMs(ms));
const pct = (a: number, b: number): string => {
  if (b === 0) return a === 0 ? '0' : 'n/a';
  const d = ((a - b) / b) * 100;
  // Float sums in another order: the same to 1e-9.
  if (Math.abs(d) < 1e-9) return d === 0 ? '0' : '0 (float)';
  return `${d > 0 ? '+' : ''}${Math.abs(d) < 0.01 ? d.toExponential(1) : d.toFixed(2)} %`;
};
const sameTokens = (a: Tally, b: Tally): boolean =>
  a.input === b.input && a.output === b.output && a.cacheRead === b.cacheRead && a.cacheWrite === b.cacheWrite;

export async function benchHistoryImport(quick: boolean): Promise<string> {
  const log = (s: string): void => {
    process.stderr.write(`${s}\n`);
  };
  const params = quick ? QUICK : FULL;
  const c = corpus(params, log);
  const root = join(c.dir, 'projects');
  const runs = quick ? 1 : Number(process.env['BENCH_IMPORT_RUNS'] ?? 3);
  const cc = findCcusage(quick, log);
  const ccEnv = { ...process.env, CLAUDE_CONFIG_DIR: c.dir, TZ: 'UTC', NO_COLOR: '1' };
  const dailyArgs = ['claude', 'daily', '--json', '--offline', '--instances', '--timezone', 'UTC'];
  const sessionArgs = ['claude', 'session', '--json', '--offline', '--timezone', 'UTC'];
  const override = ['--config', OVERRIDE];
  let ccVersion = '';
  let dailyPlain: CcusageDaily | undefined;
  if (cc.bin) {
    ccVersion = execFileSync(cc.bin, ['--version'], { encoding: 'utf8' }).trim();
    // Untimed: without the override (its $0 for claude-opus-5-5), and the page cache warmed for every side.
    log('historyImport: ccusage daily without the price override (warm-up)');
    dailyPlain = JSON.parse((await timed(cc.bin, dailyArgs, ccEnv, c.dir)).stdout) as CcusageDaily;
  }

  const imports: ChildResult[] = [];
  const reads: ChildResult[] = [];
  const daily: Timed[] = [];
  const sessions: Timed[] = [];
  let stored: { cost: number; tokens: number; sessions: number } | undefined;
  for (let i = 0; i < runs; i++) {
    log(`historyImport: run ${i + 1}/${runs}: import`);
    const t = Math.floor(Date.now() / 1000) - 3600;
    const prom = await startLoadedPrometheus({
      openMetrics: `# TYPE bench_dummy gauge\nbench_dummy 1 ${t}\n# EOF\n`,
      retentionDays: 400,
    });
    try {
      imports.push(await runNode(['import', root, prom.url]));
      if (i === 0) {
        // The writes landed: what the store now sums over the year.
        const client = new PrometheusClient({ baseUrl: prom.url, timeoutMs: 120_000 });
        const at = Date.now() / 1000;
        const one = async (q: string): Promise<number> => (await client.instant(q, at))[0]?.value ?? NaN;
        stored = {
          cost: await one(`sum(sum_over_time(${COUNTERS.cost.rule}{import="transcript"}[400d]))`),
          tokens: await one(`sum(sum_over_time(${COUNTERS.tokens.rule}{import="transcript"}[400d]))`),
          sessions: await one(`count(count by (session_id) (last_over_time(${COUNTERS.sessions.metric}[400d])))`),
        };
      }
    } finally {
      await prom.stop();
    }
    log(`historyImport: run ${i + 1}/${runs}: read and plan`);
    reads.push(await runNode(['read', root]));
    if (cc.bin) {
      log(`historyImport: run ${i + 1}/${runs}: ccusage`);
      daily.push(await timed(cc.bin, [...dailyArgs, ...override], ccEnv, c.dir));
      sessions.push(await timed(cc.bin, [...sessionArgs, ...override], ccEnv, c.dir));
    }
  }

  const med = (xs: number[]): number => median(xs);
  const imp = {
    total: med(imports.map((r) => r.totalMs)),
    reading: med(imports.map((r) => r.readingMs)),
    planning: med(imports.map((r) => r.planningMs)),
    writing: med(imports.map((r) => r.writingMs)),
    rss: Math.max(...imports.map((r) => r.maxRssKiB)),
  };
  const rd = {
    total: med(reads.map((r) => r.totalMs)),
    reading: med(reads.map((r) => r.readingMs)),
    planning: med(reads.map((r) => r.planningMs)),
    rss: Math.max(...reads.map((r) => r.maxRssKiB)),
  };
  const ccDaily = daily.length ? med(daily.map((d) => d.ms)) : NaN;
  const ccSession = sessions.length ? med(sessions.map((d) => d.ms)) : NaN;
  const first = imports[0]!;
  const samples = first.samples;
  const out: string[] = [];
  out.push('## Issue 25: history import against ccusage', '');
  out.push(
    `Corpus: ${fmtBytes(c.bytes)} of generated Claude Code 2.1.328 transcripts (seed ${params.seed}, generator ` +
      `v${params.generator}), ${params.days} days before ${new Date(c.generatedAtMs - DAY).toISOString().slice(0, 10)}: ` +
      `${c.files} files (${c.subagentFiles} subagent), ${fmtInt(c.lines)} lines, ${fmtInt(c.sessions)} sessions in ` +
      `${Object.keys(c.folders).length} project folders, ${fmtInt(c.answers)} API answers in ${fmtInt(c.assistantLines)} ` +
      `assistant lines. Tool results (a Read's numbered lines, and the file again in \`toolUseResult\`) and the session ` +
      `header lines copied from the real CLI's transcripts make most of the bytes. ${quick ? 'Quick mode: 1 run.' : `Median of ${runs} interleaved runs.`}`,
    '',
  );
  const rows: string[][] = [
    [
      'Import into Prometheus (read, check + plan, write)',
      fmtS(imp.total),
      fmtMiB(imp.rss),
      fmtRatio(imp.total / ccDaily),
      fmtRatio(imp.total / ccSession),
    ],
    [
      'Read + plan only (no store)',
      fmtS(rd.total),
      fmtMiB(rd.rss),
      fmtRatio(rd.total / ccDaily),
      fmtRatio(rd.total / ccSession),
    ],
  ];
  if (cc.bin) {
    rows.push(
      [
        '`ccusage claude daily --json --offline --instances`',
        fmtS(ccDaily),
        fmtMiB(Math.max(...daily.map((d) => d.maxRssKiB))),
        '1',
        fmtRatio(ccDaily / ccSession),
      ],
      [
        '`ccusage claude session --json --offline`',
        fmtS(ccSession),
        fmtMiB(Math.max(...sessions.map((d) => d.maxRssKiB))),
        fmtRatio(ccSession / ccDaily),
        '1',
      ],
    );
  }
  out.push(
    table(
      `Wall time and peak memory (${fmtBytes(c.bytes)}, ${params.days} days)`,
      ['Tool', 'Wall time', 'Peak RSS', 'vs ccusage daily', 'vs ccusage session'],
      rows,
      [
        cc.bin
          ? `ccusage: \`${ccVersion}\` (native @ccusage/ccusage-linux-x64), CLAUDE_CONFIG_DIR=<corpus>, TZ=UTC, ` +
            `\`--config opus-5-5-override.config.json\`; peak RSS from ${existsSync('/usr/bin/time') ? '`/usr/bin/time -v`' : '/proc/<pid>/status VmHWM'}.`
          : `ccusage: skipped: ${cc.why}.`,
        'Import and read: a child Node process each (`process.resourceUsage().maxRSS`), the import against a fresh ' +
          `Prometheus ${'(test/support/promServer.ts, retention 400 d)'} started before the clock starts.`,
      ],
    ),
  );
  out.push(
    table(
      'The import, phase by phase',
      ['Phase', 'Import', 'Read + plan only'],
      [
        ['Reading (find + read transcripts)', fmtS(imp.reading), fmtS(rd.reading)],
        ['Checking (store: retention, sessions) + planning', fmtS(imp.planning), fmtS(rd.planning)],
        ['Writing (OTLP JSON, gzip, POST)', fmtS(imp.writing), '-'],
        [
          'Samples written',
          `${fmtInt(samples)} (${fmtInt(samples / (imp.writing / 1000))}/s writing, ${fmtInt(samples / (imp.total / 1000))}/s overall)`,
          `${fmtInt(reads[0]!.samples)} planned`,
        ],
        [
          'Answers (duplicate lines)',
          `${fmtInt(first.answers)} (${fmtInt(first.duplicates)})`,
          `${fmtInt(reads[0]!.answers)} (${fmtInt(reads[0]!.duplicates)})`,
        ],
        [
          'Imported answers, sessions',
          `${fmtInt(first.imported)}, ${fmtInt(first.sessions)}`,
          `${fmtInt(reads[0]!.imported)}, ${fmtInt(reads[0]!.sessions)}`,
        ],
        ['Lines skipped (problems)', String(first.problems), String(reads[0]!.problems)],
        [
          'Read throughput',
          `${fmtBytes(c.bytes / (imp.reading / 1000))}/s`,
          `${fmtBytes(c.bytes / (rd.reading / 1000))}/s`,
        ],
      ],
      stored
        ? [
            `Queried back from the Prometheus imported into (\`sum_over_time(...[400d])\` of the rules' series): ` +
              `cost ${fmtUsd(stored.cost)} (plan ${fmtUsd(reads[0]!.totals!.all.cost)}), tokens ${fmtInt(stored.tokens)} ` +
              `(plan ${fmtInt(tokensOf(reads[0]!.totals!.all))}), sessions ${fmtInt(stored.sessions)}.`,
          ]
        : [],
    ),
  );

  if (cc.bin && daily.length && sessions.length) {
    const ours = reads[0]!.totals!;
    const sess = JSON.parse(sessions[0]!.stdout) as CcusageSessions;
    const theirs = ccusageTotals(JSON.parse(daily[0]!.stdout) as CcusageDaily, sess, c.folders);
    const plain = ccusageTotals(dailyPlain!, sess, c.folders);
    const a = ours.all;
    const b = theirs.all;
    const p = plain.all;
    const row = (name: string, x: number, y: number, z: number, f: (n: number) => string): string[] => [
      name,
      f(x),
      f(y),
      pct(x, y),
      f(z),
      pct(x, z),
    ];
    out.push(
      table(
        'Totals: the import against ccusage',
        ['', 'Import (plan)', 'ccusage, override', 'Δ', 'ccusage, no override', 'Δ'],
        [
          row('Cost', a.cost, b.cost, p.cost, fmtUsd),
          row('Input tokens', a.input, b.input, p.input, fmtInt),
          row('Output tokens', a.output, b.output, p.output, fmtInt),
          row('Cache read tokens', a.cacheRead, b.cacheRead, p.cacheRead, fmtInt),
          row('Cache write tokens', a.cacheWrite, b.cacheWrite, p.cacheWrite, fmtInt),
          row('Sessions', a.sessions, b.sessions, p.sessions, fmtInt),
        ],
        [
          `ccusage without the override prices \`claude-opus-5-5\` at $0 (missingPricing). Unpriced by the import: ` +
            `${reads[0]!.unpriced.length ? reads[0]!.unpriced.map(([m, n]) => `${m} (${n})`).join(', ') : 'none'}. ` +
            `Answers past 200k input tokens: ${reads[0]!.longContext!.answers}, ${fmtUsd(reads[0]!.longContext!.cost)} at ` +
            `the price table's long-context rates (the import, @pydantic/genai-prices); ccusage ${CCUSAGE_VERSION} prices ` +
            `them at the base rates, as Claude Code's own \`cost_usd\` did for the fixture's long request ($0.5805 ` +
            `against $1.1535): that is the cost difference. Both price 1-hour cache writes at twice the input rate.`,
        ],
      ),
    );
    const models = [...new Set([...Object.keys(ours.byModel), ...Object.keys(theirs.byModel)])].sort();
    out.push(
      table(
        'Per model',
        ['Model', 'Cost (import)', 'Cost (ccusage)', 'Δ', 'Tokens equal'],
        models.map((m) => {
          const x = ours.byModel[m] ?? zero();
          const y = theirs.byModel[m] ?? zero();
          return [m, fmtUsd(x.cost), fmtUsd(y.cost), pct(x.cost, y.cost), sameTokens(x, y) ? 'yes' : 'NO'];
        }),
      ),
    );
    const projects = [...new Set([...Object.keys(ours.byProject), ...Object.keys(theirs.byProject)])].sort();
    const foldersOf = (name: string): string =>
      Object.entries(c.folders)
        .filter(([, cwd]) => cwd.split('/').pop() === name)
        .map(([f]) => `\`${f}\``)
        .join(', ');
    out.push(
      table(
        "Per project (import: the cwd's last part; ccusage: the folder, mapped to it)",
        [
          'Project',
          'ccusage folders',
          'Sessions (import / ccusage)',
          'Cost (import)',
          'Cost (ccusage)',
          'Δ',
          'Tokens equal',
        ],
        projects.map((n) => {
          const x = ours.byProject[n] ?? zero();
          const y = theirs.byProject[n] ?? zero();
          return [
            n,
            foldersOf(n),
            `${x.sessions} / ${y.sessions}`,
            fmtUsd(x.cost),
            fmtUsd(y.cost),
            pct(x.cost, y.cost),
            sameTokens(x, y) ? 'yes' : 'NO',
          ];
        }),
      ),
    );
    const days = [...new Set([...Object.keys(ours.byDay), ...Object.keys(theirs.byDay)])].sort();
    const dayDeltas = days.map((d) => {
      const x = ours.byDay[d] ?? zero();
      const y = theirs.byDay[d] ?? zero();
      return { d, x, y, rel: y.cost ? Math.abs(x.cost - y.cost) / y.cost : x.cost ? Infinity : 0 };
    });
    const worst = [...dayDeltas].sort((u, v) => v.rel - u.rel).slice(0, 3);
    out.push(
      table(
        'Per day (UTC)',
        ['Days', 'Tokens equal', 'Sessions equal', 'Median Δ cost (abs)', 'Largest Δ cost (day: import / ccusage)'],
        [
          [
            `${days.length} (import ${Object.keys(ours.byDay).length}, ccusage ${Object.keys(theirs.byDay).length})`,
            `${dayDeltas.filter((u) => sameTokens(u.x, u.y)).length}`,
            `${dayDeltas.filter((u) => u.x.sessions === u.y.sessions).length}`,
            `${(median(dayDeltas.map((u) => u.rel)) * 100).toFixed(2)} %`,
            worst.map((u) => `${u.d}: ${fmtUsd(u.x.cost)} / ${fmtUsd(u.y.cost)}`).join('; '),
          ],
        ],
        [
          "Days: ccusage by `--timezone UTC`, the import by each answer's own UTC time (its raw series); a session " +
            'counts on the day of its first answer (ccusage: `firstActivity` of `claude session`).',
        ],
      ),
    );
  }
  out.push(
    'Method: `bench/historyImport.ts`. The import child builds a `HistoryImporter` (out/src/history) with ' +
      '`loki: undefined` and an empty written-state, runs `run(Date.now(), ...)` and splits its time at the progress ' +
      "phases. The read-only child runs the importer's reader (`findTranscripts`, `readTranscript`) and planner " +
      "(`planImport`, `bundledPricing`) with no store: what ccusage does too. Totals come from the read-only plan's raw " +
      "cumulative series, compared with ccusage's `daily --instances` (per day, folder, model) and `session` JSON.",
    '',
  );
  return out.join('\n');
}

function tokensOf(t: Tally): number {
  return t.input + t.output + t.cacheRead + t.cacheWrite;
}

if (require.main === module) {
  const [mode, root, url] = process.argv.slice(2);
  child(mode as 'import' | 'read', root!, url)
    .then((r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
    })
    .catch((e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 1;
    });
}
