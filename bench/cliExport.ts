// One developer's Claude Code as a team's terminal runs it, for the team bench: what the real CLI 2.1.328 sends (its
// resource, scopes, metric names and units, attribute keys and event records, read from the captured OTLP in
// ../shared/fixtures) with the temporality and intervals the extension's terminals set (cumulative: every export
// carries each of the session's series at its running total; metrics every second, events as they happen). The
// developer prompts every 10-50 s; a prompt makes one to three API requests (one in five on a second model) with a
// tool call between them; a session lasts `sessionSeconds` before the next one starts. What was spent and sent is
// kept as the truth the store is checked against.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDir } from '../test/support/paths';

interface Attribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
}
interface Point {
  attributes: Attribute[];
}
interface LogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  body: { stringValue: string };
  attributes: Attribute[];
}

const FIXTURE = join(sharedDir, 'fixtures', 'claude-code-2.1.328', 'tools-read-failure.otlp.jsonl');
const TOKEN_TYPES = ['input', 'output', 'cacheRead', 'cacheCreation'] as const;
const MODELS = ['claude-opus-5-5', 'claude-haiku-4-5'];

interface Templates {
  resource: Attribute[];
  metricScope: unknown;
  logScope: unknown;
  /** Metric name -> its unit and one point's attributes. */
  metrics: Map<string, { unit: string; point: Point }>;
  /** event.name -> one record of it. */
  events: Map<string, LogRecord>;
}

let cached: Templates | undefined;
function templates(): Templates {
  if (cached) return cached;
  const t: Templates = {
    resource: [],
    metricScope: undefined,
    logScope: undefined,
    metrics: new Map(),
    events: new Map(),
  };
  for (const line of readFileSync(FIXTURE, 'utf8').trim().split('\n')) {
    const body = JSON.parse((JSON.parse(line) as { body: string }).body) as {
      resourceMetrics?: Array<{
        resource: { attributes: Attribute[] };
        scopeMetrics: Array<{
          scope: unknown;
          metrics: Array<{ name: string; unit: string; sum: { dataPoints: Point[] } }>;
        }>;
      }>;
      resourceLogs?: Array<{
        resource: { attributes: Attribute[] };
        scopeLogs: Array<{ scope: unknown; logRecords: LogRecord[] }>;
      }>;
    };
    for (const rm of body.resourceMetrics ?? []) {
      t.resource = rm.resource.attributes;
      for (const sm of rm.scopeMetrics) {
        t.metricScope = sm.scope;
        for (const m of sm.metrics) {
          // One point of each metric, with a `type` where it has one: the types are set here.
          const point = m.sum.dataPoints[0]!;
          if (!t.metrics.has(m.name)) t.metrics.set(m.name, { unit: m.unit, point });
        }
      }
    }
    for (const rl of body.resourceLogs ?? []) {
      for (const sl of rl.scopeLogs) {
        t.logScope = sl.scope;
        for (const r of sl.logRecords) {
          const name = r.attributes.find((a) => a.key === 'event.name')?.value.stringValue;
          if (name && !t.events.has(name)) t.events.set(name, r);
        }
      }
    }
  }
  for (const name of [
    'claude_code.session.count',
    'claude_code.cost.usage',
    'claude_code.token.usage',
    'claude_code.active_time.total',
  ])
    if (!t.metrics.has(name)) throw new Error(`${FIXTURE} has no ${name}`);
  for (const name of ['user_prompt', 'api_request', 'tool_decision', 'tool_result'])
    if (!t.events.has(name)) throw new Error(`${FIXTURE} has no ${name} event`);
  cached = t;
  return t;
}

/** `attributes` with these keys' values replaced (or added). */
function withValues(attributes: Attribute[], values: Record<string, Attribute['value']>): Attribute[] {
  const out = attributes.filter((a) => !(a.key in values));
  for (const [key, value] of Object.entries(values)) out.push({ key, value });
  return out;
}

const nanos = (ms: number): string => String(BigInt(Math.round(ms)) * 1_000_000n);

interface Session {
  id: string;
  startMs: number;
  endMs: number;
  sequence: number;
  /** Series key (metric and its varying attributes) -> running total. */
  totals: Map<string, { metric: string; values: Record<string, string>; value: number }>;
}

export interface DeveloperTruth {
  costUsd: number;
  tokens: number;
  /** Event records the CLI made (each one exported, or lost as `eventsDropped` says). */
  events: number;
  sessions: number;
}

export class SimulatedDeveloper {
  readonly truth: DeveloperTruth = { costUsd: 0, tokens: 0, events: 0, sessions: 0 };
  private session: Session;
  /** A session that ended since the last export: its last export is still due. */
  private ended: Session | undefined;
  private nextPromptMs: number;
  private events: LogRecord[] = [];
  private readonly userId = randomUUID().replace(/-/g, '');

  constructor(
    readonly developer: string,
    private readonly project: string,
    private readonly rand: () => number,
    private readonly sessionSeconds: [number, number],
    nowMs: number,
  ) {
    this.session = this.newSession(nowMs);
    this.nextPromptMs = nowMs + rand() * 10_000;
  }

  private newSession(nowMs: number): Session {
    const [lo, hi] = this.sessionSeconds;
    const s: Session = {
      id: randomUUID(),
      startMs: nowMs,
      endMs: nowMs + (lo + this.rand() * (hi - lo)) * 1000,
      sequence: 0,
      totals: new Map(),
    };
    this.add(s, 'claude_code.session.count', { start_type: 'fresh' }, 1);
    this.truth.sessions++;
    return s;
  }

  private add(s: Session, metric: string, values: Record<string, string>, by: number): void {
    const key = `${metric}\0${JSON.stringify(values)}`;
    const t = s.totals.get(key) ?? { metric, values, value: 0 };
    t.value += by;
    s.totals.set(key, t);
  }

  private event(name: string, atMs: number, values: Record<string, Attribute['value']>): void {
    const t = templates().events.get(name)!;
    this.session.sequence++;
    this.events.push({
      ...t,
      timeUnixNano: nanos(atMs),
      observedTimeUnixNano: nanos(atMs),
      attributes: withValues(t.attributes, {
        'user.id': { stringValue: this.userId },
        'session.id': { stringValue: this.session.id },
        'event.timestamp': { stringValue: new Date(atMs).toISOString() },
        'event.sequence': { intValue: this.session.sequence },
        ...values,
      }),
    });
    this.truth.events++;
  }

  /** What happened up to `nowMs`: prompts due, and the session's end. */
  step(nowMs: number): void {
    while (this.nextPromptMs <= nowMs) {
      const at = this.nextPromptMs;
      if (at >= this.session.endMs) {
        this.ended = this.session;
        this.session = this.newSession(at);
      }
      const promptId = randomUUID();
      this.event('user_prompt', at, { 'prompt.id': { stringValue: promptId } });
      const requests = 1 + Math.floor(this.rand() * 3);
      for (let r = 0; r < requests; r++) {
        const model = this.rand() < 0.2 ? MODELS[1]! : MODELS[0]!;
        const cost = Math.round((0.001 + this.rand() * 0.2) * 1e6) / 1e6;
        const tokens = {
          input: Math.floor(200 + this.rand() * 4000),
          output: Math.floor(50 + this.rand() * 1500),
          cacheRead: Math.floor(this.rand() * 30_000),
          cacheCreation: Math.floor(this.rand() * 2000),
        };
        const ml = { model, query_source: 'main', effort: 'medium' };
        this.add(this.session, 'claude_code.cost.usage', ml, cost);
        for (const type of TOKEN_TYPES)
          this.add(this.session, 'claude_code.token.usage', { ...ml, type }, tokens[type]);
        this.add(this.session, 'claude_code.active_time.total', { type: 'cli' }, 2 + this.rand() * 20);
        this.truth.costUsd += cost;
        this.truth.tokens += TOKEN_TYPES.reduce((n, type) => n + tokens[type], 0);
        this.event('api_request', at + r * 10, {
          'prompt.id': { stringValue: promptId },
          model: { stringValue: model },
          cost_usd: { doubleValue: cost },
          cost_usd_micros: { intValue: Math.round(cost * 1e6) },
          input_tokens: { intValue: tokens.input },
          output_tokens: { intValue: tokens.output },
          cache_read_tokens: { intValue: tokens.cacheRead },
          cache_creation_tokens: { intValue: tokens.cacheCreation },
        });
        if (r + 1 < requests) {
          this.event('tool_decision', at + r * 10 + 1, { 'prompt.id': { stringValue: promptId } });
          this.event('tool_result', at + r * 10 + 2, { 'prompt.id': { stringValue: promptId } });
        }
      }
      this.add(this.session, 'claude_code.active_time.total', { type: 'user' }, 5 + this.rand() * 30);
      this.nextPromptMs = at + 10_000 + this.rand() * 40_000;
    }
  }

  /** The metrics export of `nowMs` (OTLP JSON): every series of the session, and of one just ended, at its total. */
  metricsRequest(nowMs: number): unknown {
    const t = templates();
    const byMetric = new Map<string, Array<Record<string, unknown>>>();
    for (const s of [this.ended, this.session]) {
      if (!s) continue;
      for (const total of s.totals.values()) {
        const template = t.metrics.get(total.metric)!;
        const values: Record<string, Attribute['value']> = {
          'user.id': { stringValue: this.userId },
          'session.id': { stringValue: s.id },
        };
        for (const [k, v] of Object.entries(total.values)) values[k] = { stringValue: v };
        const points = byMetric.get(total.metric) ?? [];
        points.push({
          attributes: withValues(
            template.point.attributes.filter((a) => a.key !== 'type' && a.key !== 'model'),
            values,
          ),
          startTimeUnixNano: nanos(s.startMs),
          timeUnixNano: nanos(nowMs),
          asDouble: total.value,
        });
        byMetric.set(total.metric, points);
      }
    }
    this.ended = undefined;
    return {
      resourceMetrics: [
        {
          resource: { attributes: this.resource() },
          scopeMetrics: [
            {
              scope: t.metricScope,
              metrics: [...byMetric].map(([name, dataPoints]) => ({
                name,
                unit: t.metrics.get(name)!.unit,
                // 2: cumulative, as the extension's terminals ask (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE).
                sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints },
              })),
            },
          ],
        },
      ],
    };
  }

  /** The events made since the last call, as one logs export (OTLP JSON), or undefined when there are none. */
  takeLogsRequest(): { request: unknown; records: number } | undefined {
    if (!this.events.length) return undefined;
    const logRecords = this.events;
    this.events = [];
    return {
      request: {
        resourceLogs: [
          { resource: { attributes: this.resource() }, scopeLogs: [{ scope: templates().logScope, logRecords }] },
        ],
      },
      records: logRecords.length,
    };
  }

  private resource(): Attribute[] {
    // What the extension's terminals add to the CLI's resource (OTEL_RESOURCE_ATTRIBUTES).
    return withValues(templates().resource, { 'vscode.workspace.name': { stringValue: this.project } });
  }
}
