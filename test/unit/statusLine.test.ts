// The status line bridge: its pure part (what it reads of Claude Code's status JSON, the OTLP request, its own line,
// its arguments and command line), then the real bundle, dist/statusLine.js, run as Claude Code runs it, against a
// stand-in for the collector's OTLP/HTTP receiver. The bundle is what ships: `npm run test:unit` builds it first.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  BRIDGE_SCRIPT,
  bridgeCommand,
  decodeArgument,
  defaultLine,
  encodeArgument,
  formatBridgeArguments,
  metricsRequest,
  parseBridgeArguments,
  parseBridgeCommand,
  parseStatusLineInput,
  type BridgeArguments,
  type OtlpMetricsRequest,
} from '../../src/statusLine/statusLine';
import { API_KEY, FIRST, FULL } from '../support/claudeStatusLine';
import { repoRoot } from '../support/paths';

const FULL_LINE = 'Opus 4.5 · $1.23 · ctx 37% · 5h 42% · 7d 17%\n';

type Gauge = OtlpMetricsRequest['resourceMetrics'][number]['scopeMetrics'][number]['metrics'][number];

function gauges(
  request: OtlpMetricsRequest | undefined,
): Record<string, { unit: string; points: { attributes: Record<string, string>; value: number; time: string }[] }> {
  const metrics: Gauge[] =
    request?.resourceMetrics.flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics)) ?? [];
  return Object.fromEntries(
    metrics.map((metric) => [
      metric.name,
      {
        unit: metric.unit,
        points: metric.gauge.dataPoints.map((point) => ({
          attributes: Object.fromEntries(
            point.attributes.map((attribute) => [attribute.key, attribute.value.stringValue]),
          ),
          value: point.asDouble,
          time: point.timeUnixNano,
        })),
      },
    ]),
  );
}

describe('status line bridge: Claude Code status JSON to OTLP gauges', () => {
  const now = Date.UTC(2026, 11, 1, 12, 0, 0, 123);
  const stamp = `${now}000000`;

  it('sends plan usage, reset times and context usage, with the session, the model and the service', () => {
    const request = metricsRequest(parseStatusLineInput(JSON.stringify(FULL))!, now);
    assert.deepEqual(gauges(request), {
      'claude_code.plan.usage': {
        unit: '%',
        points: [
          { attributes: { window: 'five_hour' }, value: 42, time: stamp },
          { attributes: { window: 'seven_day' }, value: 17.2, time: stamp },
        ],
      },
      'claude_code.plan.resets_at': {
        unit: 's',
        points: [
          { attributes: { window: 'five_hour' }, value: 1796400000, time: stamp },
          { attributes: { window: 'seven_day' }, value: 1796900000, time: stamp },
        ],
      },
      'claude_code.context_window.usage': {
        unit: '%',
        points: [{ attributes: { 'session.id': FULL.session_id, model: FULL.model.id }, value: 37.4, time: stamp }],
      },
    });
    assert.deepEqual(request?.resourceMetrics[0]?.resource.attributes, [
      { key: 'service.name', value: { stringValue: 'claude-code' } },
      { key: 'service.version', value: { stringValue: '2.1.328' } },
    ]);
  });

  it('sends only what is there: nothing before the first API answer, no plan figures for an API key', () => {
    assert.equal(metricsRequest(parseStatusLineInput(JSON.stringify(FIRST))!, now), undefined);
    assert.deepEqual(Object.keys(gauges(metricsRequest(parseStatusLineInput(JSON.stringify(API_KEY))!, now))), [
      'claude_code.context_window.usage',
    ]);
    const onlyFiveHour = { rate_limits: { five_hour: { used_percentage: 5 } } };
    assert.deepEqual(gauges(metricsRequest(parseStatusLineInput(JSON.stringify(onlyFiveHour))!, now)), {
      'claude_code.plan.usage': { unit: '%', points: [{ attributes: { window: 'five_hour' }, value: 5, time: stamp }] },
    });
    // No session or model: the context figure goes without those attributes; no version: no service.version.
    const bare = metricsRequest(parseStatusLineInput('{"context_window": {"used_percentage": 3}}')!, now);
    assert.deepEqual(gauges(bare)['claude_code.context_window.usage']?.points[0]?.attributes, {});
    assert.deepEqual(bare?.resourceMetrics[0]?.resource.attributes, [
      { key: 'service.name', value: { stringValue: 'claude-code' } },
    ]);
  });

  it('takes fields of the wrong type as absent', () => {
    const odd = {
      model: 'opus',
      cost: { total_cost_usd: '1.5' },
      context_window: [],
      rate_limits: { five_hour: { used_percentage: '42', resets_at: true }, seven_day: null },
    };
    const input = parseStatusLineInput(JSON.stringify(odd));
    assert.ok(input);
    assert.equal(metricsRequest(input, now), undefined);
    assert.equal(defaultLine(input), 'Claude Code\n');
  });

  it('reads no metrics from input that is not a JSON object', () => {
    for (const raw of ['', '{"model": ', 'not json', '[1, 2]', 'null', '42']) {
      assert.equal(parseStatusLineInput(raw), undefined, raw);
    }
  });
});

describe('status line bridge: its own line', () => {
  it('shows model, cost, context and both plan windows, leaving out what is absent', () => {
    assert.equal(defaultLine(parseStatusLineInput(JSON.stringify(FULL))), FULL_LINE);
    assert.equal(defaultLine(parseStatusLineInput(JSON.stringify(FIRST))), 'Opus 4.5 · $0.00\n');
    assert.equal(defaultLine(parseStatusLineInput(JSON.stringify(API_KEY))), 'Opus 4.5 · $1.23 · ctx 37%\n');
    assert.equal(defaultLine(parseStatusLineInput('{"model": {"id": "claude-sonnet-4-5"}}')), 'claude-sonnet-4-5\n');
    assert.equal(defaultLine(undefined), 'Claude Code\n');
  });
});

describe('status line bridge: arguments and command line', () => {
  const previousCommands = [
    '~/.claude/statusline.sh',
    `printf '%s\\n' "it's \\"quoted\\"" && echo $((1 + 1)) | tr 2 3`,
    'echo one\necho two\r\n',
    'echo "Ünïcødé ✓ 🚀 日本語"',
    'echo \\\\ back\\slash `date` $(whoami) ; exit 0 #',
    'lone \ud800 surrogate',
  ];

  it('round-trips any previous command and saved status line', () => {
    for (const previousCommand of previousCommands) {
      const args: BridgeArguments = {
        endpoint: 'https://otel.example.com:4318/base',
        previousCommand,
        savedStatusLine: `{\r\n  // mine\r\n  "type": "command", "command": ${JSON.stringify(previousCommand)}\r\n}`,
        exportTimeoutMs: 250,
        commandTimeoutMs: 4000,
      };
      const argv = formatBridgeArguments(args);
      assert.ok(
        argv.every((argument) => /^--[a-z-]+=[A-Za-z0-9_:/.-]*$/.test(argument)),
        `needs quoting: ${argv.join(' ')}`,
      );
      assert.deepEqual(parseBridgeArguments(argv), args);
      assert.equal(decodeArgument(encodeArgument(previousCommand)), previousCommand);
    }
  });

  it('reads what sh passes: the command line runs the script with those arguments, as Node', () => {
    const root = mkdtempSync(join(tmpdir(), "cct it's a dir "));
    try {
      const script = join(root, 'dist', 'statusLine.js');
      mkdirSync(dirname(script));
      writeFileSync(
        script,
        'process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), asNode: process.env.ELECTRON_RUN_AS_NODE }))',
      );
      for (const previousCommand of previousCommands) {
        const args = { endpoint: 'http://127.0.0.1:4318', previousCommand, savedStatusLine: 'null' };
        const command = bridgeCommand({ executable: process.execPath, script, platform: 'linux' }, args);
        assert.deepEqual(JSON.parse(execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8' })), {
          argv: formatBridgeArguments(args),
          asNode: '1',
        });
        assert.deepEqual(parseBridgeCommand(command), args);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('gives Windows the same line with forward slashes, for Git Bash', () => {
    const command = bridgeCommand(
      {
        executable: 'C:\\Program Files\\Microsoft VS Code\\Code.exe',
        script: 'c:\\Users\\me\\.vscode\\extensions\\cct-0.1.0\\dist\\statusLine.js',
        platform: 'win32',
      },
      { endpoint: 'http://127.0.0.1:4318' },
    );
    assert.equal(
      command,
      "ELECTRON_RUN_AS_NODE=1 'C:/Program Files/Microsoft VS Code/Code.exe' 'c:/Users/me/.vscode/extensions/cct-0.1.0/dist/statusLine.js' '--endpoint=http://127.0.0.1:4318'",
    );
    assert.deepEqual(parseBridgeCommand(command), { endpoint: 'http://127.0.0.1:4318' });
  });

  it('recognises only its own command line', () => {
    for (const command of [
      '~/.claude/statusline.sh',
      'node /ext/dist/statusLine.js --endpoint=http://x',
      "ELECTRON_RUN_AS_NODE=1 '/usr/bin/code' '/ext/dist/other.js'",
      "ELECTRON_RUN_AS_NODE=1 '/usr/bin/code' '/ext/dist/statusLine.js' && rm -rf ~",
      `ELECTRON_RUN_AS_NODE=1 "/usr/bin/code" '/ext/dist/statusLine.js'`,
      "ELECTRON_RUN_AS_NODE=1 '/usr/bin/code' '/ext/dist/statusLine.js",
    ]) {
      assert.equal(parseBridgeCommand(command), undefined, command);
    }
  });

  it('is tolerant: unknown arguments are skipped, bad values leave the defaults', () => {
    assert.deepEqual(parseBridgeArguments([]), { endpoint: 'http://127.0.0.1:4318' });
    assert.deepEqual(
      parseBridgeArguments([
        '--endpoint=ftp://x',
        '--previous=%%%',
        '--saved=' + Buffer.from('{}').toString('base64url'),
        '--export-timeout-ms=0',
        '--command-timeout-ms=5s',
        '--colour=yes',
        'stray',
      ]),
      {
        endpoint: 'http://127.0.0.1:4318',
        previousCommand: undefined,
        savedStatusLine: undefined,
        exportTimeoutMs: undefined,
        commandTimeoutMs: undefined,
      },
    );
  });
});

// The bundle as Claude Code runs it. Tests never assert tight wall times: a bound far above the timeouts under test
// (KILL_AFTER_MS) tells a bridge that waits for them from one that does not.
const BUNDLE = join(repoRoot, BRIDGE_SCRIPT);
const KILL_AFTER_MS = 10_000;

interface BridgeRun {
  stdout: Buffer;
  stderr: string;
  status: number | null;
  /** Set when the bridge did not finish within KILL_AFTER_MS. */
  killed: boolean;
}

function runBridge(
  args: readonly string[],
  input: string | Buffer,
  command: readonly string[] = [process.execPath, BUNDLE],
): Promise<BridgeRun> {
  return new Promise((done, fail) => {
    const child = spawn(command[0]!, [...command.slice(1), ...args], { stdio: 'pipe' });
    const stdout: Buffer[] = [];
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, KILL_AFTER_MS);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', fail);
    child.once('close', (status) => {
      clearTimeout(timer);
      done({ stdout: Buffer.concat(stdout), stderr, status, killed });
    });
    child.stdin.end(input);
  });
}

const previous = (command: string) => `--previous=${encodeArgument(command)}`;

interface Received {
  method: string | undefined;
  url: string | undefined;
  contentType: string | undefined;
  body: OtlpMetricsRequest;
}

/** A stand-in for the collector's OTLP/HTTP receiver: answers 200 and keeps what it was sent, or never answers. */
async function collector(answer: boolean): Promise<{ endpoint: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        method: request.method,
        url: request.url,
        contentType: request.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpMetricsRequest,
      });
      if (answer) {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((closed) => server.close(() => closed()));
}

describe('status line bridge: the bundle, run as Claude Code runs it', () => {
  const input = JSON.stringify(FULL);
  let up: Awaited<ReturnType<typeof collector>>;

  before(async () => {
    assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run npm run build first`);
    // The sources its (development) source map lists: the bundle must not be older than any of them.
    const map = `${BUNDLE}.map`;
    if (existsSync(map)) {
      const sources = (JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }).sources.map((source) =>
        resolve(dirname(map), source),
      );
      const stale = sources.filter(
        (source) => existsSync(source) && statSync(source).mtimeMs > statSync(BUNDLE).mtimeMs,
      );
      assert.deepEqual(stale, [], `${BUNDLE} is older than its sources: run npm run build first`);
    }
    up = await collector(true);
  });
  beforeEach(() => up.received.splice(0));
  after(() => close(up.server));

  it("exports the gauges as OTLP/HTTP JSON while the user's command runs, and prints its output", async () => {
    const run = await runBridge([`--endpoint=${up.endpoint}`, previous('cat >/dev/null; echo mine')], input);
    assert.equal(run.stdout.toString(), 'mine\n');
    assert.equal(run.status, 0);
    const sent = up.received;
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.method, 'POST');
    assert.equal(sent[0]?.url, '/v1/metrics');
    assert.equal(sent[0]?.contentType, 'application/json');
    const received = gauges(sent[0]?.body);
    assert.deepEqual(
      received['claude_code.plan.usage']?.points.map((point) => [point.attributes.window, point.value]),
      [
        ['five_hour', 42],
        ['seven_day', 17.2],
      ],
    );
    assert.deepEqual(
      received['claude_code.plan.resets_at']?.points.map((point) => [point.attributes.window, point.value]),
      [
        ['five_hour', 1796400000],
        ['seven_day', 1796900000],
      ],
    );
    assert.deepEqual(
      received['claude_code.context_window.usage']?.points.map((point) => [point.attributes, point.value]),
      [[{ 'session.id': FULL.session_id, model: FULL.model.id }, 37.4]],
    );
    const stamp = Number(BigInt(received['claude_code.plan.usage']!.points[0]!.time) / 1_000_000n);
    assert.ok(Math.abs(stamp - Date.now()) < 60_000, `timeUnixNano ${stamp} is not now`);
    assert.deepEqual(
      sent[0]?.body.resourceMetrics[0]?.resource.attributes.map((attribute) => [
        attribute.key,
        attribute.value.stringValue,
      ]),
      [
        ['service.name', 'claude-code'],
        ['service.version', '2.1.328'],
      ],
    );
  });

  it('prints its own line when there is no previous command; sends nothing for input without figures', async () => {
    const run = await runBridge([`--endpoint=${up.endpoint}`], input);
    assert.deepEqual([run.stdout.toString(), run.status], [FULL_LINE, 0]);
    assert.equal(up.received.length, 1);
    const first = await runBridge([`--endpoint=${up.endpoint}`], JSON.stringify(FIRST));
    assert.deepEqual([first.stdout.toString(), first.status], ['Opus 4.5 · $0.00\n', 0]);
    assert.equal(up.received.length, 1, 'the first run only');
  });

  it('prints the line, silently, when no collector listens', async () => {
    const closed = await collector(true);
    await close(closed.server);
    const run = await runBridge([`--endpoint=${closed.endpoint}`], input);
    assert.deepEqual(
      { stdout: run.stdout.toString(), stderr: run.stderr, status: run.status, killed: run.killed },
      { stdout: FULL_LINE, stderr: '', status: 0, killed: false },
    );
  });

  it('prints the line after the export timeout when the collector never answers', async () => {
    const silent = await collector(false);
    try {
      const run = await runBridge(
        [`--endpoint=${silent.endpoint}`, '--export-timeout-ms=300', previous('cat >/dev/null; echo mine')],
        input,
      );
      assert.deepEqual(
        { stdout: run.stdout.toString(), stderr: run.stderr, status: run.status, killed: run.killed },
        { stdout: 'mine\n', stderr: '', status: 0, killed: false },
      );
      assert.equal(silent.received.length, 1, 'the request reached the collector');
    } finally {
      await close(silent.server);
    }
  });

  it('passes the same input to the previous command and prints its output byte for byte', async () => {
    const echoed = await runBridge([`--endpoint=${up.endpoint}`, previous('cat')], input);
    assert.equal(echoed.stdout.toString(), input);
    const coloured = await runBridge(
      [`--endpoint=${up.endpoint}`, previous(`cat >/dev/null; printf '\\033[1;31mred\\033[0m · ü\\n\\n'`)],
      input,
    );
    assert.deepEqual(coloured.stdout, Buffer.from('\x1b[1;31mred\x1b[0m · ü\n\n'));
    const unterminated = await runBridge(
      [`--endpoint=${up.endpoint}`, previous("cat >/dev/null; printf 'no newline'")],
      input,
    );
    assert.deepEqual(unterminated.stdout, Buffer.from('no newline'));
    // A failing command that printed something: what it printed (Claude Code would have shown nothing).
    const partial = await runBridge([`--endpoint=${up.endpoint}`, previous('echo partial; exit 1')], input);
    assert.deepEqual([partial.stdout.toString(), partial.status], ['partial\n', 0]);
  });

  it('prints its own line when the previous command is slow, fails, prints nothing or does not exist', async () => {
    for (const command of [
      'sleep 5; echo late',
      'echo broken >&2; exit 3',
      'cat >/dev/null',
      '/nonexistent/status-line-command',
    ]) {
      const run = await runBridge([`--endpoint=${up.endpoint}`, '--command-timeout-ms=500', previous(command)], input);
      assert.deepEqual(
        { stdout: run.stdout.toString(), status: run.status, killed: run.killed },
        { stdout: FULL_LINE, status: 0, killed: false },
        command,
      );
    }
  });

  it('passes malformed input on as it came, and sends nothing for it', async () => {
    const malformed = '{"model": {"display_name": "Opus 4.5"}, oops\n';
    const echoed = await runBridge([`--endpoint=${up.endpoint}`, previous('cat')], malformed);
    assert.deepEqual([echoed.stdout.toString(), echoed.status], [malformed, 0]);
    const own = await runBridge([`--endpoint=${up.endpoint}`], malformed);
    assert.deepEqual([own.stdout.toString(), own.status], ['Claude Code\n', 0]);
    assert.equal(up.received.length, 0);
  });

  it('runs from the command line written to settings.json, through sh, with a previous command full of quotes', async () => {
    const command = bridgeCommand(
      { executable: process.execPath, script: BUNDLE, platform: process.platform },
      {
        endpoint: up.endpoint,
        previousCommand: `input=$(cat)\nprintf '%s|%s|%s\\n' "it's \\"ü\\"" "\${#input}" "\${ELECTRON_RUN_AS_NODE-unset}"`,
      },
    );
    const run = await runBridge([], input, ['/bin/sh', '-c', command]);
    // The variable that runs the editor as Node is the bridge's own: the user's command does not get it.
    assert.deepEqual([run.stdout.toString(), run.status], [`it's "ü"|${input.length}|unset\n`, 0]);
    assert.equal(up.received.length, 1);
  });
});
