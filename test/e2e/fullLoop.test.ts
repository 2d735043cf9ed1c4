// Its size: one user's whole path through the UI is one suite, its steps in the order a user takes them.
/**
 * The whole loop the way a user lives it, in a real VS Code (code-server) with the packaged extension, driven by
 * playwright-core in headless Chromium, with the real Claude Code CLI (pinned devDependency) in print mode against a
 * scripted Messages API on loopback (test/support/e2e/messagesApi.ts, a TEST FIXTURE).
 *
 * Real: Docker, the OpenTelemetry Collector and Prometheus (built from their Go modules, in locally built images),
 * VS Code, the browser, Claude Code. Test doubles: Loki and Grafana (test/doubles, see test/support/images.md).
 *
 * 1. Without the UI: two sessions of the CLI at once against the stand-in and a stack started from
 *    stack/compose.yaml under its own project name; each session's events reach Loki, its cost Prometheus, and the
 *    counts the collector derives from the events equal the events in Loki, session by session.
 * 2. Through the UI only: "Start Telemetry Stack" from the Command Palette, the status bar goes healthy; a new
 *    terminal has the telemetry variables (from the extension, not from the test); the CLI run in that terminal
 *    (a scripted usage, a failing Bash, a failing Read, an API error); the status bar shows the cost Claude Code
 *    reported (its api_request events' cost_usd, read from Loki); the sidebar shows the failing tools and the
 *    API error, the session's prompt among the most expensive, which opens the session at its waterfall; a second
 *    folder's session; the history import; the CLI run as Claude Code's VS Code panel and its desktop app run it; a session where
 *    everything goes wrong (a refusal, retries given up, a failing hook, an MCP server that cannot start, /compact):
 *    each in the sidebar as Loki holds it, the alerts notified, the prompt's waterfall; "Open Grafana Dashboard"
 *    opens the dashboard's URL; "Stop Telemetry Stack"; "Delete Telemetry Data…".
 *
 * Prints `# freshness: X s`: from the end of the CLI's last successful API response (the stand-in knows) to the
 * status bar showing its cost. Screenshots: test-results/screenshots/e2e-*.png.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { openStack, type StackEngine } from '../../src/stack';
import { toProblem } from '../../src/telemetry/events';
import { LokiClient } from '../../src/telemetry/loki';
import { PrometheusClient } from '../../src/telemetry/prometheus';
import { lokiLogs } from '../../src/telemetry/queries';
import type { ProblemEvent } from '../../src/snapshot';
import { TelemetryReader } from '../../src/telemetry/reader';
import { THRESHOLD_SERIES } from '../../src/telemetry/alerts';
import { publishThresholds } from '../../src/telemetry/thresholdPublisher';
import { DEFAULTS } from '../../src/config';
import { tokens as formatTokens } from '../../src/format';
import { telemetryEnvironment } from '../../src/terminal/environment';
import { FULL as STATUS_LINE_UPDATE } from '../support/claudeStatusLine';
import { connectDocker, ensureTestImages, removeProject, requireDocker, type TestImages } from '../support/docker';
import { getJson, promQuery } from '../support/http';
import { repoRoot } from '../support/paths';
import { freePort } from '../support/ports';
import { escapeRegExp } from '../support/regexp';
import { waitFor } from '../support/wait';
import {
  claudeCommandLine,
  claudeVersion,
  createClaudeHome,
  runClaude,
  runClaudeAsApp,
  type ClaudeHome,
  type AppRun,
} from '../support/e2e/claude';
import {
  answerDialog,
  closeWorkbench,
  dismissDialogs,
  ensureVsix,
  notificationTexts,
  notificationToast,
  installCodeServer,
  openWorkbench,
  readableTerminalSettings,
  runCommand,
  screenshot,
  startCodeServer,
  statusBarTexts,
  typeInTerminal,
  waitForDialog,
  waitForFrameText,
  waitForNotification,
  waitForStatusBarText,
  waitForTerminalText,
  type CodeServer,
  type Workbench,
} from '../support/e2e/codeServer';
import { mark, seconds } from '../support/e2e/marks';
import { bundledPricing } from '../../src/history/pricing';
import { startMessagesApi, type MessagesApi, type Turn } from '../support/e2e/messagesApi';
import { EXTENSION_PROJECT, PROJECT_LABEL, clearLeftoverTestStack, stackMachineSettings } from '../support/e2e/stack';

/** A failing Bash, a failing Read (each with known usage), then an API error the CLI gives up on. */
function failingSessionScript(): Turn[] {
  return [
    {
      kind: 'tool_use',
      name: 'Bash',
      text: 'Running the check.',
      input: { command: 'exit 3', description: 'Run the check that fails' },
      usage: {
        input_tokens: 30_000,
        output_tokens: 400,
        cache_creation_input_tokens: 5_000,
        cache_read_input_tokens: 20_000,
      },
    },
    {
      kind: 'tool_use',
      name: 'Read',
      input: { file_path: '/nonexistent/cct-e2e/missing-notes.md' },
      usage: {
        input_tokens: 31_000,
        output_tokens: 300,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 25_000,
      },
    },
    // Every later request fails: the CLI retries a 400 a few times before it reports the error (api_error event).
    {
      kind: 'error',
      status: 400,
      errorType: 'invalid_request_error',
      message: 'e2e scripted API error',
      times: Infinity,
    },
  ];
}
const PROMPT = 'Run the failing check, then read my notes.';

// --- reading the stack's APIs (to know what to expect; the UI assertions never use these to pass) -------------

interface LokiEvent {
  ts: number;
  line: string;
  meta: Record<string, string>;
}

/** Claude Code events of the last hour from Loki (structured metadata as a flat map). */
async function lokiEvents(lokiPort: number, filter: string): Promise<LokiEvent[]> {
  const end = BigInt(Date.now() + 60_000) * 1_000_000n;
  const start = BigInt(Date.now() - 3_600_000) * 1_000_000n;
  const query = `{service_name="claude-code"} ${filter}`;
  const url = `http://127.0.0.1:${lokiPort}/loki/api/v1/query_range?${new URLSearchParams({ query, start: String(start), end: String(end), limit: '1000', direction: 'backward' })}`;
  type Body = {
    data: {
      result: {
        stream: Record<string, string>;
        values: [string, string, { structuredMetadata?: Record<string, string> }?][];
      }[];
    };
  };
  const body = await getJson<Body>(url, { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' });
  return body.data.result
    .flatMap((stream) =>
      stream.values.map(([ts, line, extra]) => ({
        ts: Number(BigInt(ts) / 1_000_000n),
        line,
        meta: { ...stream.stream, ...extra?.structuredMetadata },
      })),
    )
    .sort((a, b) => a.ts - b.ts);
}

interface SessionEvents {
  apiRequests: LokiEvent[];
  toolFailures: LokiEvent[];
  apiErrors: LokiEvent[];
  /** Sum of the api_request events' cost_usd: what Claude Code says the session cost. */
  costUsd: number;
}

/** Waits for the events of `sessions` failing sessions (2 api_request, 2 failed tool_result, 1 api_error each) in Loki. */
async function waitForSessionEvents(lokiPort: number, sessions = 1, timeoutMs = 60_000): Promise<SessionEvents> {
  let seen = 'nothing';
  return waitFor(
    `the CLI's events in Loki (${sessions} session${sessions > 1 ? 's' : ''})`,
    async () => {
      const [apiRequests, toolFailures, apiErrors] = await Promise.all([
        lokiEvents(lokiPort, '| event_name="api_request"'),
        lokiEvents(lokiPort, '| event_name="tool_result" | success="false"'),
        lokiEvents(lokiPort, '| event_name="api_error"'),
      ]);
      seen = `${apiRequests.length} api_request, ${toolFailures.length} failed tool_result, ${apiErrors.length} api_error`;
      if (apiRequests.length < 2 * sessions || toolFailures.length < 2 * sessions || apiErrors.length < sessions)
        return undefined;
      const costUsd = apiRequests.reduce((sum, event) => sum + Number(event.meta.cost_usd), 0);
      return { apiRequests, toolFailures, apiErrors, costUsd };
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; Loki held ${seen}`);
  });
}

/** Records when each distinct status bar text was first seen, polling fast, until stopped. */
class StatusBarWatcher {
  readonly firstSeen = new Map<string, number>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly page: Page) {
    this.loop = (async () => {
      while (this.running) {
        for (const text of await statusBarTexts(this.page).catch(() => [])) {
          if (!this.firstSeen.has(text)) this.firstSeen.set(text, Date.now());
        }
        await sleep(100);
      }
    })();
  }

  /** When a status bar text matching `pattern` was first seen. */
  seen(pattern: RegExp): number | undefined {
    const times = [...this.firstSeen].filter(([text]) => pattern.test(text)).map(([, at]) => at);
    return times.length ? Math.min(...times) : undefined;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/** Hovers the status bar item showing `text` and returns its tooltip's text. */
async function statusBarTooltip(page: Page, text: string): Promise<string> {
  const item = page.locator('.part.statusbar .statusbar-item', { hasText: text }).first();
  const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'Claude Code Telemetry' }).first();
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.mouse.move(700, 300);
    await item.hover();
    if (
      await hover.waitFor({ state: 'visible', timeout: 5_000 }).then(
        () => true,
        () => false,
      )
    ) {
      return hover.innerText();
    }
  }
  throw new Error(`no tooltip appeared over the status bar item ${text}`);
}

// --- 1. the CLI and the stack, no UI ---------------------------------------------------------------------------

describe('Claude Code CLI -> scripted Messages API -> telemetry stack (no UI)', { timeout: 10 * 60_000 }, () => {
  it('the real CLI runs against the stand-in and its events, cost and errors reach Loki and Prometheus', async () => {
    const version = claudeVersion();
    mark(`Claude Code ${version}`);
    await requireDocker();
    const images = await ensureTestImages();
    mark('test images ready');
    const ports = {
      CCT_OTLP_GRPC_PORT: await freePort(),
      CCT_OTLP_HTTP_PORT: await freePort(),
      CCT_COLLECTOR_METRICS_PORT: await freePort(),
      CCT_PROMETHEUS_PORT: await freePort(),
      CCT_LOKI_PORT: await freePort(),
      CCT_GRAFANA_PORT: await freePort(),
    };
    const project = `cct-e2e-cli-${process.pid}`;
    const variables: Record<string, string> = {
      ...Object.fromEntries(Object.entries(ports).map(([key, value]) => [key, String(value)])),
      CCT_COLLECTOR_IMAGE: images.collector,
      CCT_PROMETHEUS_IMAGE: images.prometheus,
      CCT_LOKI_IMAGE: images.loki,
      CCT_GRAFANA_IMAGE: images.grafana,
      GRAFANA_ADMIN_PASSWORD: 'e2e-not-a-secret',
    };
    let engine: StackEngine | undefined;
    let apis: MessagesApi[] = [];
    let homes: ClaudeHome[] = [];
    try {
      engine = openStack({
        dockerHost: undefined,
        composeFile: join(repoRoot, 'stack', 'compose.yaml'),
        variables,
        projectName: project,
      }).engine;
      const startedAt = Date.now();
      await engine.start();
      mark(`stack ${project} healthy in ${seconds(Date.now() - startedAt)}s`);

      // Two sessions at once, each with its own stand-in and HOME, as two terminals would run them.
      apis = await Promise.all(
        [1, 2].map((n) => startMessagesApi(failingSessionScript(), { log: (line) => console.log(`# [${n}] ${line}`) })),
      );
      homes = [createClaudeHome(), createClaudeHome()];
      // The same variables the extension gives a terminal (src/terminal/environment.ts), at its default pace.
      const telemetry = telemetryEnvironment({
        endpoint: `http://127.0.0.1:${ports.CCT_OTLP_HTTP_PORT}`,
        metricExportIntervalMs: 2000,
        logsExportIntervalMs: 1000,
        logUserPrompts: false,
        logToolDetails: false,
        workspaceName: 'cct-e2e',
        repository: undefined,
        existingResourceAttributes: undefined,
      });
      // At the same moment: the two identical scripts emit the same events in the same milliseconds, which Loki keeps
      // apart only because the collector gives each session a stream of its own.
      const results = await Promise.all(
        apis.map((api, i) =>
          runClaude(PROMPT, {
            apiUrl: api.url,
            home: homes[i],
            telemetry,
            args: ['--output-format', 'json'],
            timeoutMs: 120_000,
          }),
        ),
      );
      let cliCost = 0;
      for (const [i, result] of results.entries()) {
        mark(`claude -p #${i + 1} exited ${result.code} after ${seconds(result.endedAt - result.startedAt)}s`);
        // The stand-in: the script was played, the failed tools came back as errors, nothing unknown was asked.
        const api = apis[i];
        const main = api.requests.filter((r) => r.role === 'main');
        assert.ok(
          main.length >= 3,
          `the CLI made ${main.length} main requests: ${JSON.stringify(api.requests.map((r) => [r.path, r.role, r.status]))}`,
        );
        assert.deepEqual(
          main.slice(0, 3).map((r) => r.status),
          [200, 200, 400],
        );
        assert.deepEqual(
          main[1].toolResults.map((t) => t.isError),
          [true],
          'the Bash `exit 3` result came back as an error',
        );
        assert.deepEqual(
          main[2].toolResults.map((t) => t.isError),
          [true],
          'the Read of a missing file came back as an error',
        );
        if (api.unknown.length) console.log(`# the CLI asked for unknown paths: ${api.unknown.join(', ')}`);
        // The CLI says what it spent: print mode's JSON result carries total_cost_usd, and is_error for the API error.
        const output = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as {
          total_cost_usd?: number;
          is_error?: boolean;
          result?: string;
        };
        assert.equal(output.is_error, true, `the run ends in the scripted API error: ${result.stdout.slice(0, 500)}`);
        assert.match(String(output.result), /400|e2e scripted API error/);
        assert.equal(result.code, 1);
        assert.ok(
          typeof output.total_cost_usd === 'number' && output.total_cost_usd > 0.01,
          `total_cost_usd: ${String(output.total_cost_usd)}`,
        );
        cliCost += output.total_cost_usd;
      }

      // Loki (double) has both sessions' events, with the attributes the dashboard shows.
      const events = await waitForSessionEvents(ports.CCT_LOKI_PORT, 2);
      assert.ok(
        Math.abs(events.costUsd - cliCost) < 1e-9,
        `api_request cost_usd sum ${events.costUsd} = the CLIs' total_cost_usd ${cliCost}`,
      );
      const sessions = [...new Set(events.apiRequests.map((e) => e.meta.session_id))].sort();
      assert.equal(sessions.length, 2, 'two sessions');
      const countBy = (list: LokiEvent[], key: (e: LokiEvent) => string): Record<string, number> => {
        const out: Record<string, number> = {};
        for (const e of list) out[key(e)] = (out[key(e)] ?? 0) + 1;
        return out;
      };
      const lokiFailures = countBy(
        events.toolFailures,
        (e) => `${e.meta.session_id} ${e.meta.tool_name} ${e.meta.error_type}`,
      );
      assert.deepEqual(Object.values(lokiFailures), [1, 1, 1, 1], JSON.stringify(lokiFailures));
      assert.deepEqual(
        events.apiErrors.map((e) => [e.meta.status_code, e.meta.error]),
        [
          ['400', 'e2e scripted API error'],
          ['400', 'e2e scripted API error'],
        ],
      );

      // Prometheus (real) has the cost through the collector (real): the same total, and the counts the collector
      // derives from the events equal Loki's events, session by session.
      const promCost = await waitFor(
        'the cost in Prometheus',
        async () => {
          const [sample] = await promQuery(ports.CCT_PROMETHEUS_PORT, 'sum(claude_code_cost_usage_USD_total)');
          return sample && Math.abs(sample.value - cliCost) < 1e-9 ? sample.value : undefined;
        },
        60_000,
      );
      const promFailures = await waitFor(
        'tool failures in Prometheus',
        async () => {
          const samples = await promQuery(
            ports.CCT_PROMETHEUS_PORT,
            'sum by (session_id, tool_name, error_type) (claude_code_tool_results_total{success="false"})',
          );
          return samples.length === 4
            ? Object.fromEntries(
                samples.map((s) => [`${s.metric.session_id} ${s.metric.tool_name} ${s.metric.error_type}`, s.value]),
              )
            : undefined;
        },
        60_000,
      );
      assert.deepEqual(promFailures, lokiFailures);
      const promApiErrors = await waitFor(
        'API errors in Prometheus',
        async () => {
          const samples = await promQuery(
            ports.CCT_PROMETHEUS_PORT,
            'sum by (session_id, status_code) (claude_code_api_errors_total)',
          );
          return samples.length === 2
            ? Object.fromEntries(samples.map((s) => [`${s.metric.session_id} ${s.metric.status_code}`, s.value]))
            : undefined;
        },
        60_000,
      );
      assert.deepEqual(
        promApiErrors,
        countBy(events.apiErrors, (e) => `${e.meta.session_id} ${e.meta.status_code}`),
      );
      const promRequests = await promQuery(
        ports.CCT_PROMETHEUS_PORT,
        'sum by (session_id) (claude_code_api_requests_total)',
      );
      assert.deepEqual(
        Object.fromEntries(promRequests.map((s) => [s.metric.session_id, s.value])),
        countBy(events.apiRequests, (e) => e.meta.session_id),
      );
      mark(
        `telemetry checked: cost $${promCost} in Prometheus = Loki events = CLI totals; sessions ${sessions.join(', ')}`,
      );

      // The status line bridge (the bundle Claude Code runs as its statusLine command), fed an update of the first
      // session: its plan usage and context window reach Prometheus through the real collector, and the reader hands
      // them to the status bar.
      const resetsS = Math.floor(Date.now() / 1000) + 3 * 3600;
      const update = {
        ...STATUS_LINE_UPDATE,
        session_id: sessions[0],
        rate_limits: {
          five_hour: { used_percentage: 42, resets_at: resetsS },
          seven_day: { used_percentage: 17, resets_at: resetsS + 4 * 86400 },
        },
      };
      const line = execFileSync(
        process.execPath,
        [join(repoRoot, 'dist', 'statusLine.js'), `--endpoint=http://127.0.0.1:${ports.CCT_OTLP_HTTP_PORT}`],
        { input: JSON.stringify(update), encoding: 'utf8' },
      );
      assert.match(line, /5h 42%/, 'the bridge prints its own line when the user had none');
      const prometheus = new PrometheusClient({ baseUrl: `http://127.0.0.1:${ports.CCT_PROMETHEUS_PORT}` });
      try {
        const reader = new TelemetryReader({ prometheus });
        const dayStart = new Date().setHours(0, 0, 0, 0);
        const plan = await waitFor(
          'the plan usage in Prometheus',
          async () => {
            const today = await reader.fetchToday(Date.now(), dayStart);
            return today.plan?.fiveHour && today.plan.contextWindows.length ? today.plan : undefined;
          },
          60_000,
        );
        assert.deepEqual(plan.fiveHour && { used: plan.fiveHour.usedPercent, resetsAtMs: plan.fiveHour.resetsAtMs }, {
          used: 42,
          resetsAtMs: resetsS * 1000,
        });
        assert.deepEqual(plan.sevenDay && { used: plan.sevenDay.usedPercent, resetsAtMs: plan.sevenDay.resetsAtMs }, {
          used: 17,
          resetsAtMs: (resetsS + 4 * 86400) * 1000,
        });
        assert.deepEqual(plan.contextWindows, [
          {
            sessionId: sessions[0],
            model: STATUS_LINE_UPDATE.model.id,
            usedPercent: STATUS_LINE_UPDATE.context_window.used_percentage,
          },
        ]);
        mark(`plan usage through the bridge: ${JSON.stringify(plan)}`);
        // A threshold from the settings reaches the stack's alert rules without editing them: at 40 %, the 5-hour
        // window's 42 % fires PlanUsageHigh, and Prometheus' alerts API (what the extension reads) says so.
        await publishThresholds(
          `http://127.0.0.1:${ports.CCT_OTLP_HTTP_PORT}`,
          { ...DEFAULTS.alerts.thresholds, planUsagePercent: 40 },
          Date.now(),
        );
        const alert = await waitFor(
          'PlanUsageHigh firing',
          async () => (await prometheus.alerts()).find((a) => a.name === 'PlanUsageHigh' && a.state === 'firing'),
          60_000,
        );
        assert.equal(alert.summary, 'Claude plan usage of the five_hour window is above 40%');
        assert.equal(alert.labels['window'], 'five_hour');
      } finally {
        await prometheus.close();
      }
    } finally {
      await Promise.all(apis.map((api) => api.close()));
      for (const home of homes) home.remove();
      if (engine)
        await engine
          .remove({ volumes: true })
          .catch((error: unknown) => console.log(`# removing ${project}: ${String(error)}`));
      await removeProject(project);
    }
  });
});

// --- 2. the user's path through the UI ---------------------------------------------------------------------------

describe('the full loop in code-server, through the UI only', { timeout: 25 * 60_000 }, () => {
  let server: CodeServer | undefined;
  let workbench: Workbench | undefined;
  let workspace: string | undefined;
  /** The folder the second session runs from. */
  let second: string | undefined;
  let api: MessagesApi | undefined;
  let home: ClaudeHome | undefined;
  let images: TestImages | undefined;
  const ports = { otlpGrpc: 0, otlpHttp: 0, collectorMetrics: 0, prometheus: 0, loki: 0, grafana: 0 };
  let stackStarted = false;
  /** Set once no foreign stack of the extension's project exists: only then does cleanup remove that project. */
  let ownsProject = false;
  /** The first session's cost, `$X.XX`, from Claude Code's own api_request events. */
  let expectedCost: string | undefined;
  /** What the status bar shows today: the first session's cost, then both sessions'. */
  let todayCost: string | undefined;
  /** The session's events in Loki: what the sidebar's counts from Prometheus must equal. */
  let sessionEvents: SessionEvents | undefined;
  /** The events of both sessions run in wired terminals (the second-folder test). */
  let wiredEvents: SessionEvents | undefined;
  const timings: Record<string, string> = {};

  const page = (): Page => {
    assert.ok(workbench, 'the workbench did not open (see the first test of this suite)');
    return workbench.page;
  };

  it('opens the workbench with the packaged extension and the stack settings pointing at the test images', async () => {
    claudeVersion();
    await requireDocker();
    // Terminals must get the telemetry variables from the extension alone.
    for (const key of Object.keys(process.env)) {
      if (/^(OTEL_|CLAUDE_CODE_|ANTHROPIC_)/.test(key) || key === 'CLAUDE_CONFIG_DIR') delete process.env[key];
    }
    const [codeServer, vsix, built] = await Promise.all([installCodeServer(), ensureVsix(), ensureTestImages()]);
    images = built;
    const leftover = await clearLeftoverTestStack();
    if (leftover.length) mark(`removed a leftover test stack: ${leftover.join(', ')}`);
    ownsProject = true;
    for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
    workspace = mkdtempSync(join(tmpdir(), 'cct-e2e-workspace-'));
    writeFileSync(join(workspace, 'README.md'), '# e2e workspace\n');
    // Claude Code's config folder of every CLI run here: the extension reads its transcripts (the history import).
    home = createClaudeHome();
    server = await startCodeServer({
      env: { CLAUDE_CONFIG_DIR: home.configDir },
      codeServer,
      vsix,
      workspace,
      settings: readableTerminalSettings,
      // The stack's settings, as a remote window's Machine (Remote) settings: where the stack runs.
      machineSettings: {
        ...stackMachineSettings(images, ports),
        // One refusal, one MCP server that cannot start, one compaction are alerts here (what goes wrong, below).
        'claudeTelemetry.alerts.refusalsPerHour': 0,
        'claudeTelemetry.alerts.mcpFailuresPerHour': 0,
        'claudeTelemetry.alerts.compactionsPerHour': 0,
      },
    });
    mark(`code-server on ${server.origin}`);
    workbench = await openWorkbench(server.url);
    await waitForStatusBarText(workbench.page, /Telemetry off/, 60_000);
    await screenshot(workbench.page, 'e2e-01-workbench-stack-off');
    mark('workbench ready, status bar says the stack is off');
  });

  after(async () => {
    if (workbench) await closeWorkbench(workbench, 'e2e-99-final');
    await server?.stop();
    await api?.close();
    home?.remove();
    for (const folder of [workspace, second]) if (folder) rmSync(folder, { recursive: true, force: true });
    if (ownsProject) {
      const removed = await removeProject(EXTENSION_PROJECT).catch((error: unknown) => [`failed: ${String(error)}`]);
      mark(`cleaned up ${removed.join(', ') || 'nothing'}`);
    }
    console.log(`# e2e timings: ${JSON.stringify(timings)}`);
  });

  it('"Start Telemetry Stack" from the Command Palette: progress, then the status bar goes healthy', async () => {
    const p = page();
    const clicked = Date.now();
    await runCommand(p, 'Claude Telemetry: Start Telemetry Stack');
    stackStarted = true;
    const progress = await waitForNotification(p, /Claude Telemetry/, 30_000);
    await screenshot(p, 'e2e-02-start-progress');
    mark(`progress notification: ${progress}`);
    await waitForStatusBarText(p, /Telemetry starting/, 30_000).catch(() => undefined); // may be brief
    // Healthy and no Claude Code data yet: $0.00.
    const healthy = await waitForStatusBarText(p, /\$0\.00/, 180_000);
    timings.stackStartToHealthyInUi = `${seconds(Date.now() - clicked)}s`;
    mark(`status bar healthy after ${timings.stackStartToHealthyInUi}: ${healthy}`);
    // The prices ($0.00) show once Prometheus answers; the start goes on until Grafana, made after Prometheus and
    // Loki are healthy, passes its own health check: on a loaded machine that takes as long as the engine's waits.
    const done = await waitForNotification(p, /telemetry stack is running/i, 180_000);
    timings.stackStartToRunningNotification = `${seconds(Date.now() - clicked)}s`;
    // The settings point at the local images: the user is told Loki and Grafana are test doubles.
    assert.match(done, /loki and grafana are TEST DOUBLES/);
    await screenshot(p, 'e2e-03-stack-running');
    mark(`notification: ${done}`);
  });

  it('a new terminal has the telemetry variables from the extension', async () => {
    const p = page();
    await runCommand(p, 'Terminal: Create New Terminal');
    await waitForTerminalText(p, /[$#]\s*$/m, 30_000); // the prompt
    await typeInTerminal(
      p,
      `printenv | grep -E '^(OTEL_|CLAUDE_CODE_)' | cut -c1-100 | sort; echo "ENV-END-$((40+2))"`,
    );
    const { text } = await waitForTerminalText(p, /^ENV-END-42$/m, 30_000);
    await screenshot(p, 'e2e-04-terminal-env');
    const variables = Object.fromEntries(
      text
        .split('\n')
        .map((line) => /^((?:OTEL|CLAUDE_CODE)_\w+)=(.*)$/.exec(line))
        .filter((match): match is RegExpExecArray => match !== null)
        .map((match) => [match[1], match[2]]),
    );
    mark(`terminal variables: ${Object.keys(variables).join(', ')}`);
    assert.equal(variables.CLAUDE_CODE_ENABLE_TELEMETRY, '1', text);
    assert.equal(variables.OTEL_EXPORTER_OTLP_ENDPOINT, `http://127.0.0.1:${ports.otlpHttp}`);
    assert.equal(variables.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/json');
    assert.equal(variables.OTEL_METRICS_EXPORTER, 'otlp');
    assert.equal(variables.OTEL_LOGS_EXPORTER, 'otlp');
    assert.equal(variables.OTEL_METRICS_INCLUDE_SESSION_ID, 'true');
    assert.equal(variables.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, 'cumulative');
    assert.match(variables.OTEL_METRIC_EXPORT_INTERVAL ?? '', /^\d+$/);
  });

  it('the real Claude Code CLI in that terminal: the status bar shows the cost it reported, the sidebar its failures', async () => {
    const p = page();
    api = await startMessagesApi(failingSessionScript(), { log: (line) => console.log(`# ${line}`) });
    assert.ok(home, 'the workbench step made the Claude home');
    const watcher = new StatusBarWatcher(p);
    let freshnessMs: number | undefined;
    try {
      const command = `cd ${home.workDir} && ${claudeCommandLine(PROMPT, { apiUrl: api.url, home })}; echo "CLAUDE-EXIT=$?"`;
      const typedAt = Date.now();
      await typeInTerminal(p, command);
      const enterAt = Date.now();
      const { match } = await waitForTerminalText(p, /^CLAUDE-EXIT=(\d+)$/m, 120_000);
      const exitSeenAt = Date.now();
      timings.cliRun = `${seconds(exitSeenAt - enterAt)}s (typing the command: ${seconds(enterAt - typedAt)}s)`;
      mark(`claude exited ${match[1]}; ${timings.cliRun}`);
      await screenshot(p, 'e2e-05-terminal-claude-run');
      assert.equal(match[1], '1', 'the CLI ends with the scripted API error');
      await api.waitForScriptDone(5_000);
      const main = api.requests.filter((r) => r.role === 'main');
      assert.deepEqual(
        main.slice(0, 3).map((r) => r.status),
        [200, 200, 400],
        JSON.stringify(api.requests.map((r) => [r.path, r.role, r.status])),
      );
      assert.deepEqual(
        [main[1].toolResults[0]?.isError, main[2].toolResults[0]?.isError],
        [true, true],
        'both tools failed',
      );
      await waitForTerminalText(p, /API Error: 400|e2e scripted API error/, 5_000);

      // What Claude Code says the usage cost: its api_request events' cost_usd (from Loki, not from the UI).
      const events = await waitForSessionEvents(ports.loki);
      sessionEvents = events;
      expectedCost = `$${events.costUsd.toFixed(2)}`;
      todayCost = expectedCost;
      assert.notEqual(expectedCost, '$0.00', 'the scripted usage costs at least a cent');
      mark(
        `Claude Code reported ${events.costUsd} USD (${events.apiRequests.length} api_request events) -> expect ${expectedCost}`,
      );

      const text = await waitForStatusBarText(p, new RegExp(`${escapeRegExp(expectedCost)}(?![\\d])`), 120_000);
      const shownAt = watcher.seen(new RegExp(`${escapeRegExp(expectedCost)}(?![\\d])`)) ?? Date.now();
      const lastResponse = api.lastUsageEndedAt();
      freshnessMs = shownAt - lastResponse;
      timings.freshness = `${seconds(freshnessMs)}s`;
      console.log(`# freshness: ${(freshnessMs / 1000).toFixed(2)} s`);
      console.log(
        `# freshness detail: last successful response ended ${new Date(lastResponse).toISOString()}, last response (error) ` +
          `${seconds(api.lastMessagesEndedAt() - lastResponse)}s later, CLI exit seen ${seconds(exitSeenAt - lastResponse)}s after, status bar ${expectedCost} ${seconds(freshnessMs)}s after`,
      );
      mark(`status bar: ${text}`);
      await screenshot(p, 'e2e-06-status-bar-cost');
      // The tooltip's token table: the usage the stand-in sent, as Claude Code counted it.
      const tooltip = await statusBarTooltip(p, expectedCost);
      await screenshot(p, 'e2e-07-status-bar-tooltip');
      await p.mouse.move(700, 300);
      const usage = api.totalUsage();
      for (const [type, tokens] of [
        ['input', usage.input_tokens],
        ['output', usage.output_tokens],
        ['cacheRead', usage.cache_read_input_tokens],
        ['cacheCreation', usage.cache_creation_input_tokens],
      ] as const) {
        assert.match(
          tooltip,
          new RegExp(`\\b${type}\\s+${escapeRegExp(formatTokens(tokens))}\\b`),
          `${type} tokens in the tooltip:\n${tooltip}`,
        );
      }
      // The terminal's resource attribute made the workspace a label of Claude Code's cost: all of it is this project's.
      assert.ok(workspace);
      assert.match(
        tooltip,
        new RegExp(`This project \\(${escapeRegExp(basename(workspace))}\\): ${escapeRegExp(expectedCost)}(?![\\d])`),
        tooltip,
      );
    } finally {
      await watcher.stop();
    }
  });

  it('the sidebar shows the failing tools and the API error', async () => {
    const p = page();
    await runCommand(p, 'Claude Telemetry: Show Dashboard');
    const failures = await waitForFrameText(p, /Recent tool failures[\s\S]*?Recent API errors/, 60_000);
    // Wait for both rows (the view refreshes on its own pace).
    const { frame } = await waitForFrameText(
      p,
      /Recent tool failures[\s\S]*Bash[\s\S]*Recent API errors[\s\S]*400/,
      60_000,
    );
    const body = await frame.evaluate(() => document.body.innerText);
    const toolSection = body.slice(body.indexOf('Recent tool failures'), body.indexOf('Recent API errors'));
    const errorSection = body.slice(body.indexOf('Recent API errors'));
    await screenshot(p, 'e2e-08-sidebar');
    mark(`sidebar: ${failures.text.replace(/\s+/g, ' ').slice(0, 200)}`);
    assert.match(toolSection, /\bBash\b/);
    assert.match(toolSection, /\bRead\b/);
    assert.match(toolSection, /ShellError/);
    assert.match(errorSection, /\b400\b/);
    assert.match(errorSection, /e2e scripted API error/);
    if (expectedCost) assert.ok(body.includes(expectedCost), `the dashboard shows the cost ${expectedCost}`);
    // Cost by project: the group-by offers the workspace the terminal's resource attribute names, and the table
    // shows its cost once picked.
    await frame.getByLabel('Group cost by').selectOption('project');
    assert.ok(workspace && expectedCost);
    await waitForFrameText(
      p,
      new RegExp(
        `Project\\tCost\\tTokens\\tShare\\s+${escapeRegExp(basename(workspace))}\\t${escapeRegExp(expectedCost)}\\t`,
      ),
      30_000,
    );
    await screenshot(p, 'e2e-08a-cost-by-project');
    // The sessions table's errors come from Prometheus (the collector's counts of the events): as many as Loki holds.
    assert.ok(sessionEvents, "the CLI test found the session's events");
    const sessionId = sessionEvents.apiRequests[0].meta.session_id.slice(0, 8);
    const inLoki = sessionEvents.toolFailures.length + sessionEvents.apiErrors.length;
    // Its row: the id, the project and where it ran (claude -p) under it, then cost, tokens, active time and errors.
    const list = await waitForFrameText(
      p,
      new RegExp(
        `^${sessionId}\\n${escapeRegExp(basename(workspace))} · claude -p or SDK\\n\\t${escapeRegExp(expectedCost)}\\t[^\\n]*\\t${inLoki}\\s*$`,
        'm',
      ),
      30_000,
    );
    // Its one prompt is the range's most expensive, with what its events cost; it opens the session in full at it: an
    // editor panel with its cost, its tools, its prompt and the prompt's waterfall.
    const prompt = new RegExp(
      `^Most expensive prompts\\nPrompt\\tCost\\n(A prompt of [\\d,]+ characters)\\n[^\\n]+ · session ${sessionId}\\n?\\t${escapeRegExp(expectedCost)}$`,
      'm',
    );
    const { text: top } = await waitForFrameText(p, prompt, 30_000);
    await list.frame.getByRole('button', { name: prompt.exec(top)![1]!, exact: true }).click();
    const fullId = sessionEvents.apiRequests[0].meta.session_id;
    const panel = await waitForFrameText(
      p,
      new RegExp(`Session ${escapeRegExp(fullId)}[\\s\\S]*Prompts[\\s\\S]*Waterfall: `),
      60_000,
    );
    const panelText = await panel.frame.evaluate(() => document.body.innerText);
    await screenshot(p, 'e2e-08d-session-panel');
    await panel.frame.getByText(/^Waterfall: /).scrollIntoViewIfNeeded();
    await screenshot(p, 'e2e-08d-prompt-waterfall');
    assert.ok(
      expectedCost && panelText.includes(expectedCost),
      `the session's cost ${expectedCost} in its panel:\n${panelText}`,
    );
    assert.match(panelText, /Bash\t\d+\t[1-9]/, 'the failed Bash call in its tools');
    // One prompt: its waterfall costs what its api_request events say, with both failed calls and the API error.
    assert.match(panelText, new RegExp(`Waterfall: A prompt of [\\d,]+ characters \\(${escapeRegExp(expectedCost)}, `));
    assert.match(panelText, /✖ Bash\s[\s\S]*✖ Read\s/, 'the failed Bash and Read calls, in order');
    assert.match(panelText, /✖ claude-\S+\s+[^\t]+\t0\t\$0\.00\tfailed with 400/, 'the API error in the waterfall');
    assert.ok(workspace);
    assert.match(panelText, new RegExp(`Project: ${escapeRegExp(basename(workspace))}`));
  });

  it('a session run from a second folder is that project\'s: each project shows its own cost, "this project" follows the window', async () => {
    assert.ok(
      server && workspace && expectedCost && sessionEvents && home,
      'the first session ran (see the tests above)',
    );
    const first = sessionEvents;
    second = mkdtempSync(join(tmpdir(), 'cct-e2e-second-'));
    writeFileSync(join(second, 'README.md'), '# the second e2e workspace\n');
    // The same browser window opens the other folder, as File > Open Folder does.
    const p = page();
    await p.goto(`${server.origin}/?folder=${encodeURIComponent(second)}`, { waitUntil: 'domcontentloaded' });
    await p.locator('.part.statusbar').waitFor({ state: 'visible', timeout: 90_000 });
    await dismissDialogs(p);
    await waitForStatusBarText(p, new RegExp(`${escapeRegExp(expectedCost)}(?![\\d])`), 60_000);
    await runCommand(p, 'Terminal: Create New Terminal');
    await waitForTerminalText(p, /[$#]\s*$/m, 30_000);
    await api?.close();
    api = await startMessagesApi(failingSessionScript(), { log: (line) => console.log(`# ${line}`) });
    await typeInTerminal(
      p,
      `cd ${home.workDir} && ${claudeCommandLine(PROMPT, { apiUrl: api.url, home })}; echo "CLAUDE-EXIT=$?"`,
    );
    await waitForTerminalText(p, /^CLAUDE-EXIT=\d+$/m, 120_000);
    const both = await waitForSessionEvents(ports.loki, 2);
    wiredEvents = both;
    const secondCost = `$${(both.costUsd - first.costUsd).toFixed(2)}`;
    const totalCost = `$${both.costUsd.toFixed(2)}`;
    todayCost = totalCost;
    mark(`second session from ${basename(second)}: ${secondCost}; both ${totalCost}`);
    await waitForStatusBarText(p, new RegExp(`${escapeRegExp(totalCost)}(?![\\d])`), 120_000);
    const tooltip = await statusBarTooltip(p, totalCost);
    await p.mouse.move(700, 300);
    assert.match(
      tooltip,
      new RegExp(`This project \\(${escapeRegExp(basename(second))}\\): ${escapeRegExp(secondCost)}(?![\\d])`),
      tooltip,
    );
    // The sidebar, by project: both folders, each with its own session's cost, and this window's project today.
    await runCommand(p, 'Claude Telemetry: Show Dashboard');
    const { frame } = await waitForFrameText(p, /Cost by/, 60_000);
    await frame.getByLabel('Group cost by').selectOption('project');
    const rows = [
      [basename(workspace), expectedCost],
      [basename(second), secondCost],
    ].sort((a, b) => Number(b[1]!.slice(1)) - Number(a[1]!.slice(1)) || a[0]!.localeCompare(b[0]!));
    const table = await waitForFrameText(
      p,
      new RegExp(
        `Project\\tCost\\tTokens\\tShare\\s+${rows.map(([name, cost]) => `${escapeRegExp(name!)}\\t${escapeRegExp(cost!)}\\t[^\\n]*`).join('\\n')}`,
      ),
      60_000,
    );
    const sidebar = await table.frame.evaluate(() => document.body.innerText);
    assert.ok(
      sidebar.includes(`${secondCost}\nThis project today (${basename(second)})`),
      `this project today in the sidebar:\n${sidebar}`,
    );
    await screenshot(p, 'e2e-08e-two-projects');
    // Where they ran: the terminal environment has Claude Code report its entrypoint, `claude -p` here.
    await frame.getByLabel('Group cost by').selectOption('entrypoint');
    const where = await waitForFrameText(
      p,
      new RegExp(`Where it ran\\tCost\\tTokens\\tShare\\s+claude -p or SDK\\t${escapeRegExp(totalCost)}\\t`),
      60_000,
    );
    const sessions = await where.frame.evaluate(() => document.body.innerText);
    assert.equal(
      sessions.match(/\n(?:[^\n]+) · claude -p or SDK\n/g)?.length,
      2,
      `each session's row says where it ran:\n${sessions}`,
    );
  });

  it('history: a session no telemetry reached is imported from its transcript when the user accepts, and the wired sessions count once', async () => {
    const p = page();
    assert.ok(home && wiredEvents && expectedCost && sessionEvents, 'the wired sessions ran (see the tests above)');
    // Claude Code run outside the extension's terminals (no telemetry), in the same config folder: only its
    // transcript knows it.
    const unwiredApi = await startMessagesApi(failingSessionScript(), { log: (line) => console.log(`# ${line}`) });
    let ranAt: number;
    try {
      const result = await runClaude(PROMPT, { apiUrl: unwiredApi.url, home });
      ranAt = Date.now();
      mark(`unwired claude -p exited ${result.code}`);
    } finally {
      await unwiredApi.close();
    }
    // What its transcript's answers cost, priced as the import prices them (equal to Claude Code's own cost_usd:
    // test/unit/historyImport.test.ts).
    const pricing = bundledPricing();
    const importedUsd = unwiredApi.requests
      .filter((r) => r.role === 'main' && r.usage && r.model)
      .reduce(
        (sum, r) =>
          sum +
          (pricing.price({
            timeMs: r.receivedAt,
            sessionId: '',
            messageId: '',
            requestId: '',
            model: r.model!,
            cwd: '',
            sidechain: false,
            agent: '',
            entrypoint: '',
            input: r.usage!.input_tokens,
            output: r.usage!.output_tokens,
            cacheRead: r.usage!.cache_read_input_tokens,
            cacheWrite5m: r.usage!.cache_creation_input_tokens,
            cacheWrite1h: 0,
          }) ?? NaN),
        0,
      );
    const wired = new Set(wiredEvents.apiRequests.map((e) => e.meta.session_id));
    const unwired = readdirSync(join(home.configDir, 'projects'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => basename(f, '.jsonl'))
      .filter((id) => !wired.has(id));
    assert.equal(unwired.length, 1, `one session without telemetry: ${JSON.stringify(unwired)}`);
    const unwiredId = unwired[0]!;
    // The import leaves answers younger than a minute to telemetry that may still be on its way.
    await sleep(Math.max(0, ranAt + 61_000 - Date.now()));

    // The user restarts the stack; now that transcripts are there, it offers their history, once.
    await runCommand(p, 'Claude Telemetry: Restart Telemetry Stack');
    const offer = /Import your past Claude Code sessions/;
    await waitForNotification(p, offer, 240_000);
    await screenshot(p, 'e2e-08f-history-offer');
    // A user reads it first: VS Code shows no toast for a fourth notification within 800 ms (Restart's progress, its
    // message and this offer came at once; the import's progress and its report would follow as a fourth and fifth).
    await sleep(1000);
    await notificationToast(p, offer).getByRole('button', { name: 'Import History…' }).click();
    const { text: question } = await waitForDialog(p);
    assert.ok(question.includes(home.configDir), `the question names where it reads: ${question}`);
    assert.match(question, /Prompts, code and tool output are not read/);
    await answerDialog(p, 'Import');
    const report = await waitForNotification(p, /Claude Code history imported/, 120_000);
    mark(`import: ${report}`);
    await screenshot(p, 'e2e-08g-history-imported');
    // Counted once: every answer of the wired sessions was reported by telemetry, the other session's imported.
    const answers = unwiredApi.requests.filter((r) => r.role === 'main' && r.usage && r.model).length;
    assert.match(report, new RegExp(`\\b${answers} answers in 1 session\\b`), report);
    assert.match(report, new RegExp(`\\b${wiredEvents.apiRequests.length} already reported by telemetry\\b`), report);

    // The sidebar lists it with its project, where it ran and its cost, marked as imported; the wired sessions'
    // rows keep the cost telemetry gave them.
    await runCommand(p, 'Claude Telemetry: Show Dashboard');
    const shownCost = `$${importedUsd.toFixed(2)}`;
    const row = `^${unwiredId.slice(0, 8)}\\n${escapeRegExp(basename(home.workDir))} · claude -p or SDK · imported\\n\\t${escapeRegExp(shownCost)}\\t`;
    const first = sessionEvents.apiRequests[0].meta.session_id.slice(0, 8);
    const { frame } = await waitForFrameText(p, new RegExp(row, 'm'), 120_000);
    const text = await frame.evaluate(() => document.body.innerText);
    assert.match(text, new RegExp(`^${first}\\n[^\\n]*\\n\\t${escapeRegExp(expectedCost)}\\t`, 'm'), text);
    await screenshot(p, 'e2e-08h-history-in-sidebar');
    // Today's cost in the status bar: the telemetry's and the imported, each once.
    todayCost = `$${(wiredEvents.costUsd + importedUsd).toFixed(2)}`;
    await waitForStatusBarText(p, new RegExp(`${escapeRegExp(todayCost)}(?![\\d])`), 60_000);
  });

  it("Claude Code's VS Code panel and desktop app, the CLI run as each runs it: its cost reaches the status bar, its row says where it ran", async () => {
    const p = page();
    assert.ok(home && todayCost, 'the sessions above ran');
    // The user writes the telemetry environment into Claude Code's settings: the file of CLAUDE_CONFIG_DIR, which the
    // CLI reads wherever it starts, the panel's too.
    await runCommand(p, 'Claude Telemetry: Write Telemetry Settings to Claude Code…');
    const { text: question } = await waitForDialog(p);
    const settingsFile = join(home.configDir, 'settings.json');
    assert.ok(question.includes(settingsFile), `the question names the file Claude Code reads: ${question}`);
    await answerDialog(p, 'Write');
    // No Claude Code extension in this code-server, so no setting of its to offer: only what was done.
    const said = await waitForNotification(p, /reports to the telemetry stack wherever it starts/, 30_000);
    assert.doesNotMatch(said, /claudeCode\.environmentVariables/);
    const written = JSON.parse(readFileSync(settingsFile, 'utf8')) as { env: Record<string, string> };
    assert.equal(written.env['OTEL_EXPORTER_OTLP_ENDPOINT'], `http://127.0.0.1:${ports.otlpHttp}`);

    // The panel's CLI (stream JSON, entrypoint claude-vscode, no telemetry variable in its environment), then the
    // desktop app's (entrypoint claude-desktop, service.name claude-code-desktop): each one's cost reaches the status
    // bar, and its row in the sessions list says where it ran.
    for (const [app, ranIn] of [
      ['panel', 'VS Code panel'],
      ['desktop', 'desktop app'],
    ] as const) {
      const api = await startMessagesApi(
        [{ kind: 'text', text: `Hello from the ${app}.`, usage: { input_tokens: 20_000, output_tokens: 2_000 } }],
        { log: (line) => console.log(`# ${app}: ${line}`) },
      );
      let run: AppRun;
      try {
        run = await runClaudeAsApp(app, 'say hello', { apiUrl: api.url, home });
      } finally {
        await api.close();
      }
      const usd = Number(run.result['total_cost_usd']);
      const session = String(run.result['session_id']);
      mark(`the ${app}'s CLI exited ${run.code}: ${usd} USD, session ${session}`);
      assert.ok(usd >= 0.01, `the scripted answer costs at least a cent: ${usd}`);
      todayCost = `$${(Number(todayCost.replace(/[$,]/g, '')) + usd).toFixed(2)}`;
      await waitForStatusBarText(p, new RegExp(`${escapeRegExp(todayCost)}(?![\\d])`), 120_000);
      await runCommand(p, 'Claude Telemetry: Show Dashboard');
      await waitForFrameText(
        p,
        new RegExp(`^${session.slice(0, 8)}\\n[^\\n]*${ranIn}\\n\\t${escapeRegExp(`$${usd.toFixed(2)}`)}\\t`, 'm'),
        120_000,
      );
      await screenshot(p, `e2e-08i-${app}-session`);
    }
  });

  it('"Verify Telemetry Pipeline" reports each hop and the round trip through the running stack', async () => {
    const p = page();
    await runCommand(p, 'Claude Telemetry: Verify Telemetry Pipeline');
    // The report opens as a Markdown preview (a webview): one row per check, the round trips with their hops.
    const { frame } = await waitForFrameText(
      p,
      /Round trip: probe event → collector → Loki[\s\S]*?\|?\s*(OK|ok)/,
      90_000,
    );
    const report = await frame.evaluate(() => document.body.innerText);
    await screenshot(p, 'e2e-08b-doctor');
    mark(`doctor: ${report.replace(/\s+/g, ' ').slice(0, 300)}`);
    for (const check of [
      'Docker engine reachable',
      'Collector accepting OTLP/HTTP',
      'Collector delivering (its own metrics)',
      'Loki accepting OTLP logs',
      'Round trip: probe metric → collector → Prometheus',
      'Round trip: probe event → collector → Loki',
    ]) {
      const row = report.split('\n').find((line) => line.includes(check));
      assert.ok(row, `the report has no row for ${check}:\n${report}`);
      assert.match(row, /\bOK\b/i, `${check} is not OK:\n${row}`);
    }
  });

  it('a container killed under the running stack shows in the status bar on its own, and Start brings it back', async () => {
    const p = page();
    assert.ok(todayCost, 'the CLI tests found the cost');
    const docker = connectDocker();
    const [loki] = await docker.listContainers({
      filters: JSON.stringify({ label: [`${PROJECT_LABEL}=${EXTENSION_PROJECT}`, 'com.docker.compose.service=loki'] }),
    });
    assert.ok(loki, "the stack's loki container runs");
    // A kill is a manual stop: the engine does not restart it. Nothing but the engine's events tells the extension.
    await docker.getContainer(loki.Id).kill();
    const degraded = await waitForStatusBarText(p, /Telemetry: loki/, 20_000);
    mark(`status bar after the kill: ${degraded}`);
    await screenshot(p, 'e2e-08c-container-killed');
    await runCommand(p, 'Claude Telemetry: Start Telemetry Stack');
    await waitForStatusBarText(p, new RegExp(`${escapeRegExp(todayCost)}(?![\\d])`), 120_000);
  });

  it('"Open Grafana Dashboard" opens the provisioned dashboard on the configured port', async () => {
    const p = page();
    assert.ok(workbench);
    const opened: string[] = [];
    await p.evaluate(() => {
      const w = window as unknown as { __cctOpened?: string[]; open: typeof window.open };
      w.__cctOpened = [];
      const original = window.open.bind(window);
      w.open = (url?: string | URL, ...rest: unknown[]) => {
        w.__cctOpened?.push(String(url));
        return original(url, ...(rest as [string?, string?]));
      };
    });
    const newPage = workbench.context.waitForEvent('page', { timeout: 20_000 }).then(
      (popup) => popup,
      () => undefined,
    );
    await runCommand(p, 'Claude Telemetry: Open Grafana Dashboard');
    const popup = await newPage;
    if (popup) {
      await popup.waitForLoadState('domcontentloaded', { timeout: 15_000 }).catch(() => undefined);
      opened.push(popup.url());
    }
    const spied = await p.evaluate(() => (window as unknown as { __cctOpened?: string[] }).__cctOpened ?? []);
    mark(`opened: page ${JSON.stringify(opened)}, window.open ${JSON.stringify(spied)}`);
    const urls = [...opened, ...spied].filter((url) => url && url !== 'about:blank');
    assert.ok(urls.length > 0, 'Open Grafana Dashboard opened nothing');
    const url = new URL(urls[0]);
    // The extension opens vscode.env.asExternalUri(http://127.0.0.1:<grafana port>/d/...): the address itself on a
    // desktop, and in code-server its port proxy, <code-server origin>/proxy/<grafana port>/d/...
    let path = url.pathname;
    const proxied = /^\/proxy\/(\d+)(\/.*)$/.exec(url.pathname);
    if (proxied) {
      assert.ok(server);
      assert.equal(url.origin, server.origin, "the proxy is code-server's own");
      assert.equal(Number(proxied[1]), ports.grafana, 'the proxied port is the Grafana port setting');
      path = proxied[2];
    } else {
      assert.equal(url.hostname, '127.0.0.1');
      assert.equal(Number(url.port), ports.grafana, 'the Grafana port setting');
    }
    assert.equal(path, '/d/claude-code-telemetry');
    assert.equal(url.searchParams.get('orgId'), '1');
    assert.equal(url.searchParams.get('from'), 'now-24h');
    assert.equal(url.searchParams.get('to'), 'now');
    // And it leads to the provisioned dashboard. As Grafana, the page is the app's shell for any uid: whether the
    // dashboard exists is the API's answer (anonymous Viewers may read it).
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const html = await response.text();
    assert.equal(response.status, 200, html.slice(0, 200));
    assert.match(html, /data-dashboard-uid="claude-code-telemetry"/);
    const provisioned = await fetch(`http://127.0.0.1:${ports.grafana}/api/dashboards/uid/claude-code-telemetry`, {
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(provisioned.status, 200, await provisioned.clone().text());
    assert.equal(
      ((await provisioned.json()) as { dashboard: { title: string } }).dashboard.title,
      'Claude Code Telemetry',
    );
    // In the browser the page asks Grafana's API relative to its <base href>: through code-server's proxy, which
    // strips /proxy/<port>, only a root_url under that path (CCT_GRAFANA_ROOT_URL, set by the window) brings it there.
    if (popup) {
      await popup
        .waitForFunction(() => document.title.startsWith('Claude Code Telemetry'), undefined, { timeout: 30_000 })
        .catch(async (error: unknown) => {
          throw new Error(
            `the Grafana page did not load its dashboard (title "${await popup.title()}"): ${String(error)}`,
          );
        });
    }
    if (popup) {
      await screenshot(popup, 'e2e-09-grafana-page');
      await popup.close();
    }
    await p.bringToFront();
  });

  it("an event older than the stack keeps: Loki refuses it, and the sidebar's Alerts and a notification say so", async () => {
    const p = page();
    // What a late replay of an old session would send (the stack keeps 30 days): Prometheus counts the event, Loki
    // refuses it, and the collector's count of events it could not deliver fires EventsRefusedByLoki.
    const old = BigInt(Date.now() - 40 * 86_400_000) * 1_000_000n;
    const response = await fetch(`http://127.0.0.1:${ports.otlpHttp}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
            scopeLogs: [
              {
                scope: { name: 'com.anthropic.claude_code.events' },
                logRecords: [
                  {
                    timeUnixNano: String(old),
                    body: { stringValue: 'claude_code.tool_result' },
                    attributes: [
                      { key: 'event.name', value: { stringValue: 'tool_result' } },
                      { key: 'session.id', value: { stringValue: `e2e-replayed-${Date.now()}` } },
                      { key: 'tool_name', value: { stringValue: 'Read' } },
                      { key: 'success', value: { stringValue: 'true' } },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    assert.equal(response.status, 200, await response.text());
    const notified = await waitForNotification(
      p,
      /Loki refused 1 of Claude Code's events in the last 15 minutes/,
      120_000,
    );
    mark(`notification: ${notified}`);
    await runCommand(p, 'Claude Telemetry: Show Dashboard');
    const { text } = await waitForFrameText(
      p,
      /Loki refused 1 of Claude Code's events in the last 15 minutes[\s\S]*Verify Telemetry Pipeline names the cause/,
      60_000,
    );
    await screenshot(p, 'e2e-09b-events-refused-alert');
    assert.match(text, /counts include them; Loki's event lists/);
  });

  it('what goes wrong, where the user looks: a refusal, retries given up, a failing hook, an MCP server that cannot start, a compaction', async () => {
    const p = page();
    assert.ok(home, 'the workbench step made the Claude home');
    // The thresholds of the settings are in force in the stack restarted by the history step (its collector starts
    // with none): the extension sends them again as the stack comes up, not minutes later.
    await waitFor(
      'the thresholds of the Machine settings in the restarted stack',
      async () => {
        const samples = await promQuery(
          ports.prometheus,
          `${THRESHOLD_SERIES}{name=~"refusals_per_hour|mcp_failures_per_hour|compactions_per_hour"} == 0`,
        );
        return samples.length === 3 || undefined;
      },
      30_000,
    );
    const claudeHome = home;
    // A hook that fails on every prompt, in the settings Claude Code reads.
    const settingsFile = join(home.configDir, 'settings.json');
    const userSettings = existsSync(settingsFile) ? (JSON.parse(readFileSync(settingsFile, 'utf8')) as object) : {};
    writeFileSync(
      settingsFile,
      JSON.stringify({
        ...userSettings,
        hooks: { UserPromptSubmit: [{ hooks: [{ type: 'command', command: 'exit 1' }] }] },
      }),
    );
    const telemetry = {
      ...telemetryEnvironment({
        endpoint: `http://127.0.0.1:${ports.otlpHttp}`,
        metricExportIntervalMs: 1000,
        logsExportIntervalMs: 500,
        logUserPrompts: false,
        logToolDetails: true,
        workspaceName: basename(home.workDir),
        repository: undefined,
        existingResourceAttributes: undefined,
      }),
      // Three attempts, then the CLI gives up.
      CLAUDE_CODE_MAX_RETRIES: '2',
    };
    /** One run of the CLI in the home's folder, against a stand-in of its own. */
    const runScripted = async (name: string, script: Turn[], prompt: string, args: string[]): Promise<void> => {
      const api = await startMessagesApi(script, { log: (line) => console.log(`# ${name}: ${line}`) });
      try {
        const run = await runClaude(prompt, { apiUrl: api.url, home: claudeHome, telemetry, args });
        mark(`${name}: the CLI exited ${run.code}: ${run.stdout.slice(0, 200)} ${run.stderr.slice(0, 200)}`);
      } finally {
        await api.close();
      }
    };
    // The session: the one transcript the run adds.
    const projects = join(home.configDir, 'projects');
    const transcripts = (): string[] =>
      readdirSync(projects, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.jsonl') && !f.includes('subagents'))
        .map((f) => basename(f, '.jsonl'));
    const before = new Set(transcripts());
    // The model refuses; the CLI asks again by itself and the API fails until the CLI gives up. An MCP server whose
    // command does not exist.
    await runScripted(
      'wrong',
      [
        { kind: 'text', text: 'I will not help with that.', stopReason: 'refusal', usage: { input_tokens: 2000 } },
        { kind: 'error', status: 500, times: Infinity },
      ],
      'please do something bad',
      ['--mcp-config', JSON.stringify({ mcpServers: { broken: { command: '/nonexistent/cct-mcp-server' } } })],
    );
    const added = transcripts().filter((id) => !before.has(id));
    assert.equal(added.length, 1, `one new session: ${JSON.stringify(added)}`);
    const sessionId = added[0]!;
    // Then /compact in the same session.
    await runScripted(
      'compact',
      [{ kind: 'text', text: 'Summary: the user asked for something refused.', usage: { input_tokens: 3000 } }],
      '/compact',
      ['--resume', sessionId],
    );

    // Loki holds each: the sidebar says every one of them, no more, no less.
    const loki = new LokiClient({ baseUrl: `http://127.0.0.1:${ports.loki}` });
    const want = ['retriesExhausted', 'refusal', 'hookFailed', 'mcpFailed', 'compaction'];
    let inLoki: ProblemEvent[] = [];
    try {
      inLoki = await waitFor(
        'the problems in Loki',
        async () => {
          const entries = await loki.queryLogs(lokiLogs.problems(), {
            startMs: Date.now() - 3_600_000,
            endMs: Date.now(),
            limit: 100,
          });
          const problems = entries.map(toProblem).filter((x) => x.sessionId === sessionId);
          return want.every((kind) => problems.some((x) => x.kind === kind)) ? problems : undefined;
        },
        60_000,
      );
    } finally {
      await loki.close();
    }
    mark(`Loki holds ${inLoki.length} problems of the session: ${inLoki.map((x) => x.kind).join(', ')}`);
    await runCommand(p, 'Claude Telemetry: Show Dashboard');
    const { frame } = await waitForFrameText(p, /The context was compacted/, 120_000);
    const said = await frame.locator('p.problem').allInnerTexts();
    for (const problem of inLoki)
      assert.ok(
        said.some((text) => text.startsWith(problem.summary)),
        `the sidebar says "${problem.summary}":\n${said.join('\n')}`,
      );
    assert.equal(said.length, inLoki.length, 'as many as Loki holds (the session is the only one that went wrong)');
    await frame.getByText('What went wrong').scrollIntoViewIfNeeded();
    await screenshot(p, 'e2e-10a-what-went-wrong');

    // The alerts, each said once: those that fired together in one notification (VS Code would show no toast for a
    // fourth at once), the later ones in their own.
    const alerts = [
      /Claude Code gave up on more than 0 API requests/,
      /The model refused to answer more than 0 times/,
      /MCP servers failed to connect more than 0 times/,
      /Claude Code compacted the context more than 0 times/,
    ];
    const shown = new Set<string>();
    await waitFor(
      'a notification of each alert',
      async () => {
        for (const text of await notificationTexts(p)) shown.add(text);
        return alerts.every((a) => [...shown].some((text) => a.test(text))) || undefined;
      },
      120_000,
    ).catch(async (error: Error) => {
      // What Prometheus had then: the thresholds, the counts the rules compare, the alerts.
      const had = async (query: string): Promise<string> =>
        JSON.stringify((await promQuery(ports.prometheus, query)).map((x) => [x.metric, x.value]));
      throw new Error(
        `${error.message}; shown: ${JSON.stringify([...shown])}; thresholds: ${await had(THRESHOLD_SERIES)}; ` +
          `problems: ${await had('sum by (event_name) (sum_over_time(claude_code:problems:increase10s[1h]))')}; ` +
          `alerts: ${await had('ALERTS')}`,
      );
    });
    for (const a of alerts) assert.equal([...shown].filter((text) => a.test(text)).length, 1, `${a} said once`);
    await screenshot(p, 'e2e-10b-alerts');

    // The session's prompt: its waterfall shows the refusal, the failed attempt and Claude Code giving up.
    await frame.getByRole('button', { name: sessionId.slice(0, 8), exact: true }).click();
    const panel = await waitForFrameText(
      p,
      new RegExp(`Session ${escapeRegExp(sessionId)}[\\s\\S]*Waterfall: `),
      60_000,
    );
    await panel.frame.getByRole('button', { name: /^A prompt of 23 characters$/ }).click();
    const waterfall = await panel.frame.evaluate(() => document.body.innerText);
    for (const step of [
      /✖ api_refusal/,
      /✖ claude-\S+\s+[^\n]*failed with 500/,
      /✖ api_retries_exhausted/,
      /✖ hook_execution_complete/,
    ])
      assert.match(waterfall, step, waterfall);
    await panel.frame.getByText(/^Waterfall: /).scrollIntoViewIfNeeded();
    await screenshot(p, 'e2e-10c-prompt-waterfall-what-went-wrong');
  });

  it('"Stop Telemetry Stack" stops it and the status bar says so', async () => {
    const p = page();
    assert.ok(stackStarted, 'the stack was not started');
    await runCommand(p, 'Claude Telemetry: Stop Telemetry Stack');
    await waitForNotification(p, /Stopping the telemetry stack/, 10_000)
      .then(() => screenshot(p, 'e2e-10-stopping'))
      .catch(() => undefined);
    await waitForStatusBarText(p, /Telemetry off/, 60_000);
    await screenshot(p, 'e2e-11-stack-stopped');
    const running = await connectDocker().listContainers({
      filters: JSON.stringify({ label: [`${PROJECT_LABEL}=${EXTENSION_PROJECT}`] }),
    });
    assert.deepEqual(
      running.map((c) => c.Names[0]),
      [],
      'no container of the stack still runs',
    );
  });

  it('"Delete Telemetry Data…" asks, naming the volumes, and removes them with the figures kept of their past', async () => {
    const p = page();
    assert.ok(server, 'code-server was started');
    // What the sidebar read of closed hours, kept across reloads in the extension's global storage.
    const cached = join(server.userDataDir, 'User', 'globalStorage', 'claude-code-telemetry.claude-code-telemetry');
    const figures = join(cached, 'cached-figures');
    const files = readdirSync(figures).filter((name) => name.endsWith('.json.gz'));
    assert.equal(files.length, 1, `one file of the one backend read: ${JSON.stringify(files)}`);
    const volumes = async (): Promise<string[]> =>
      (
        (
          await connectDocker().listVolumes({
            filters: JSON.stringify({ label: [`${PROJECT_LABEL}=${EXTENSION_PROJECT}`] }),
          })
        ).Volumes ?? []
      ).map((v) => v.Name);
    const before = await volumes();
    assert.ok(before.length > 0, 'the stopped stack kept its volumes');

    await runCommand(p, 'Claude Telemetry: Delete Telemetry Data…');
    const { text } = await waitForDialog(p);
    for (const name of before) assert.ok(text.includes(name), `the question names ${name}: ${text}`);
    await answerDialog(p, 'Delete Data');
    await waitForNotification(p, new RegExp(`Deleted the telemetry data \\(${before.length} volumes\\)`), 60_000);
    assert.deepEqual(await volumes(), [], 'no volume of the stack is left');
    await waitFor('the cached figures removed', async () => (existsSync(figures) ? undefined : true), 10_000);
  });
});
