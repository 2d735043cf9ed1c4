/**
 * The dashboard webview's real bundle and stylesheet in real headless Chromium, under the CSP the extension
 * sets, with the host side played by the test: what a user sees for each state, and that telemetry text stays text.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { HostToWebview, WebviewToHost } from '../../src/protocol';
import type { SessionDetail, Snapshot } from '../../src/snapshot';
import { dashboardHtml } from '../../src/views/dashboardHtml';
import { repoRoot } from '../support/paths';
import { escapeRegExp } from '../support/regexp';

const XSS = '<img src=x onerror="window.__xss=1">';

const hours = Array.from({ length: 24 }, (_, hour) => Date.UTC(2026, 10, 22, 12 + hour));
const snapshot: Snapshot = {
  range: '24h',
  startMs: hours[0],
  endMs: Date.UTC(2026, 10, 23, 12),
  stepSeconds: 3600,
  fetchedAt: Date.UTC(2026, 10, 23, 12),
  hasData: true,
  errors: {},
  today: { costUsd: 4.5, project: { name: XSS, costUsd: 1.25 } },
  alerts: [
    {
      name: 'HighHourlyCost',
      state: 'firing',
      severity: 'warning',
      labels: {},
      summary: XSS,
      description: 'Spent $12.00 in the last hour.',
      activeAtMs: Date.UTC(2026, 10, 23, 11, 40),
    },
  ],
  plan: {
    usage: {
      fiveHour: {
        usedPercent: 42.4,
        resetsAtMs: Date.UTC(2026, 10, 23, 15),
        limitAtMs: Date.UTC(2026, 10, 23, 14, 20),
      },
      sevenDay: { usedPercent: 17, resetsAtMs: Date.UTC(2026, 10, 27, 9), limitAtMs: null },
      contextWindows: [
        { sessionId: '631fe02f-77fd-4613-8db1-70ec003c74d0', model: 'claude-opus-4-5', usedPercent: 37 },
      ],
    },
    atLimit: [{ window: 'five_hour', minutes: 35, lastAtMs: Date.UTC(2026, 10, 23, 10, 5) }],
    month: { startMs: Date.UTC(2026, 10, 1), costUsd: 320, priceUsd: 100 },
  },
  metrics: {
    kpis: {
      costUsd: 12.3456,
      tokens: {
        input: 120_000,
        output: 80_000,
        cacheRead: 3_900_000,
        cacheCreation: 100_000,
        other: 0,
        total: 4_200_000,
      },
      sessions: 7,
      cacheHitRate: 0.87,
      toolCalls: 100,
      toolFailures: 21,
      toolErrorRate: 0.21,
      apiRequests: 90,
      apiErrors: 3,
      activeSeconds: 5400,
      activeCliSeconds: 4000,
      activeUserSeconds: 1400,
      linesAdded: 120,
      linesRemoved: 30,
      commits: 2,
      pullRequests: 1,
      editsAccepted: 9,
      editsRejected: 3,
    },
    costByModel: [
      { model: 'claude-sonnet-4-5', usd: 10 },
      { model: XSS, usd: 2.3456 },
    ],
    costBy: {
      dimension: 'project',
      rows: [
        { key: 'api-server', costUsd: 10, tokens: 3_000_000 },
        { key: XSS, costUsd: 2.3456, tokens: 1_200_000 },
      ],
      available: ['model', 'project', 'source'],
    },
    costSeries: [
      { key: 'claude-sonnet-4-5', points: hours.map((hour, index) => [hour, 0.2 + (index % 5) * 0.1]) },
      // A model with fewer buckets: the chart must still line its bars up with the others'.
      { key: XSS, points: hours.filter((_, index) => index % 3 === 0).map((hour) => [hour, 0.1]) },
    ],
    tokenSeries: [],
    tools: [
      { tool: 'Bash', calls: 40, failures: 6 },
      { tool: 'Read', calls: 55, failures: 2 },
      { tool: XSS, calls: 5, failures: 5 },
    ],
    toolErrors: [
      {
        tool: 'Bash',
        errorType: 'ShellError',
        count: 6,
        firstSeenMs: Date.UTC(2026, 10, 23, 9),
        lastSeenMs: Date.UTC(2026, 10, 23, 12),
      },
      {
        tool: XSS,
        errorType: XSS,
        count: 5,
        firstSeenMs: Date.UTC(2026, 10, 23, 10),
        lastSeenMs: Date.UTC(2026, 10, 23, 11),
      },
    ],
    apiErrorsByStatus: [
      {
        statusCode: '400',
        model: 'claude-sonnet-4-5',
        count: 3,
        firstSeenMs: Date.UTC(2026, 10, 23, 11),
        lastSeenMs: Date.UTC(2026, 10, 23, 12),
      },
    ],
    subagents: {
      calls: 8,
      failures: 2,
      costUsd: 3.2,
      tokens: 800_000,
      byAgent: [
        { agent: 'code-reviewer', costUsd: 2, tokens: 500_000 },
        { agent: XSS, costUsd: 1, tokens: 200_000 },
        { agent: '', costUsd: 0.2, tokens: 100_000 },
      ],
    },
    sessions: [
      {
        sessionId: '631fe02f-77fd-4613-8db1-70ec003c74d0',
        costUsd: 9.5,
        tokens: 3_000_000,
        activeSeconds: 5400,
        apiErrors: 1,
        toolFailures: 3,
        models: ['claude-sonnet-4-5'],
        projects: [XSS, 'api-server'],
        entrypoints: ['claude-vscode', XSS],
        importedUsd: 2.5,
        imported: true,
      },
      {
        sessionId: '9e1d2c3b-0000-4000-8000-000000000001',
        costUsd: 0,
        tokens: 12_000,
        activeSeconds: 0,
        apiErrors: 0,
        toolFailures: 0,
        models: ['claude-future-9'],
        projects: ['api-server'],
        entrypoints: [],
        importedUsd: 0,
        imported: true,
      },
    ],
  },
  events: {
    toolFailures: [
      {
        time: Date.UTC(2026, 10, 23, 11, 59),
        tool: XSS,
        errorType: 'ShellError',
        sessionId: '631fe02f-77fd-4613-8db1-70ec003c74d0',
        durationMs: 33,
      },
      {
        time: Date.UTC(2026, 10, 23, 11, 58),
        tool: 'Grep',
        errorType: 'TelemetrySafeError',
        sessionId: 'db2d98db-9ac8-44e4-a0a7-7a609ad65899',
        durationMs: 4,
      },
    ],
    apiErrors: [
      {
        time: Date.UTC(2026, 10, 23, 11, 57),
        statusCode: '400',
        model: 'claude-sonnet-4-5',
        message: XSS,
        sessionId: '631fe02f-77fd-4613-8db1-70ec003c74d0',
        attempt: 1,
      },
    ],
    problems: [
      {
        time: Date.UTC(2026, 10, 23, 11, 56),
        kind: 'mcpFailed',
        summary: `The MCP server "${XSS}" failed to connect (stdio, ENOENT).`,
        nextStep: 'Its tools are missing from the session.',
        sessionId: '631fe02f-77fd-4613-8db1-70ec003c74d0',
      },
    ],
  },
  prompts: {
    top: [
      {
        sessionId: '631fe02f-77fd-4613-8db1-70ec003c74d0',
        promptId: '1783e596-e80d-41ac-bfe8-44a6cdf4bcaa',
        costUsd: 4.25,
        timeMs: Date.UTC(2026, 10, 23, 11, 40),
        length: 28,
        text: `fix ${XSS} now`,
      },
      {
        sessionId: 'db2d98db-9ac8-44e4-a0a7-7a609ad65899',
        promptId: 'b500733c-d773-4856-b744-59f90bd13e5f',
        costUsd: 0.004,
        timeMs: null,
        length: 11,
        text: null,
      },
    ],
  },
};

describe('dashboard webview in Chromium', () => {
  let server: Server;
  let origin: string;
  let browser: Browser;

  before(async () => {
    const script = await readFile(join(repoRoot, 'dist', 'webview.js'));
    const style = await readFile(join(repoRoot, 'media', 'dashboard.css'));
    server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', origin).pathname;
      if (path.startsWith('/codicons/')) {
        response
          .writeHead(200, { 'content-type': path.endsWith('.css') ? 'text/css' : 'font/ttf' })
          .end(readFileSync(join(repoRoot, 'dist', path)));
      } else if (request.url === '/webview.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      } else if (request.url === '/dashboard.css') {
        response.writeHead(200, { 'content-type': 'text/css' }).end(style);
      } else {
        const nonce = randomBytes(16).toString('base64');
        // The test plays VS Code: acquireVsCodeApi records what the page posts and keeps its state.
        const host = `<script nonce="${nonce}">
          window.__posted = []; window.__state = undefined;
          window.acquireVsCodeApi = () => ({
            postMessage: (message) => window.__posted.push(message),
            getState: () => window.__state,
            setState: (state) => { window.__state = state; },
          });
          window.__violations = [];
          document.addEventListener('securitypolicyviolation', (event) => window.__violations.push(event.violatedDirective + ' ' + event.blockedURI));
        </script>`;
        const html = dashboardHtml({
          cspSource: origin,
          nonce,
          scriptUri: `${origin}/webview.js`,
          styleUri: `${origin}/dashboard.css`,
          codiconsUri: `${origin}/codicons/codicon.css`,
        });
        response
          .writeHead(200, { 'content-type': 'text/html' })
          .end(html.replace('<script nonce=', `${host}\n<script nonce=`));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  async function open(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 360, height: 1400 } });
    await page.goto(origin);
    await page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
    return page;
  }

  const post = (page: Page, message: HostToWebview) => page.evaluate((m) => window.postMessage(m, '*'), message);
  const posted = (page: Page) => page.evaluate(() => (window as unknown as { __posted: WebviewToHost[] }).__posted);

  it('says ready before anything else, then draws the stopped state with a start button', async () => {
    const page = await open();
    assert.deepEqual((await posted(page))[0], { type: 'ready' });
    await post(page, { type: 'state', state: { kind: 'stopped' }, range: '24h' });
    await page.getByText('The telemetry stack is not running').waitFor();
    await page.getByRole('button', { name: 'Start Telemetry Stack' }).click();
    assert.deepEqual((await posted(page)).at(-1), { type: 'run', action: 'startStack' });
    await page.close();
  });

  it('draws KPIs, three charts and the lists, with telemetry text shown as text', async () => {
    const page = await open();
    await post(page, { type: 'state', state: { kind: 'data', snapshot }, range: '24h' });
    await page.getByText('Recent tool failures').waitFor();
    for (const text of ['$12.35', '4.2M', '87%', '21%', 'ShellError', '631fe02f', '1h 30m']) {
      assert.ok(await page.getByText(text, { exact: true }).first().isVisible(), `${text} is not shown`);
    }
    // Every figure the host sends is on the page: cost by the picked dimension, API errors by status, each session's model.
    const body = await page.evaluate(() => document.body.innerText);
    assert.match(body, /Project\tCost\tTokens\tShare/);
    assert.match(body, /Since [^\n]+ · updated /, "the window's start is said");
    for (const row of ['api-server\t$10.00\t3.0M\t81%', `${XSS}\t$2.35\t1.2M\t19%`])
      assert.ok(body.includes(row), `cost by project: ${row}`);
    // The group-by offers the dimensions the data carries, the picked one selected; a pick goes to the host.
    const picker = page.getByLabel('Group cost by');
    assert.deepEqual(await picker.locator('option').allTextContents(), ['Model', 'Project', 'Source']);
    assert.equal(await picker.inputValue(), 'project');
    await picker.selectOption('source');
    assert.deepEqual((await posted(page)).at(-1), { type: 'selectGroupBy', dimension: 'source' });
    // Productivity: every figure fetched is on the page. $12.3456 over 150 lines: $82.30 per 1,000.
    assert.match(body, /Lines added \/ removed\t120 \/ 30/);
    assert.match(body, /Commits \/ pull requests\t2 \/ 1/);
    assert.match(body, /Edits accepted\t9 of 12 \(75%\)/);
    assert.match(body, /Cost per 1,000 lines\t\$82\.30/);
    assert.match(body, /Active: Claude \/ you\t1h 7m \/ 23m/);
    assert.match(body, /API requests \/ errors\t90 \/ 3/);
    assert.ok(
      body.includes(`631fe02f\n${XSS}, api-server · VS Code panel, ${XSS} · imported\n\t$9.50\t3.0M\t1h 30m\t4`),
      'the session row: id, projects and where it ran, cost, tokens, active, errors',
    );
    // An imported session whose model has no price: its tokens, and no $0.00.
    assert.ok(body.includes('9e1d2c3b\napi-server · imported\n\tunpriced\t12.0k\t0m\t0'), body);
    assert.equal(
      await page.locator('td', { hasText: /^unpriced$/ }).getAttribute('title'),
      'No price for claude-future-9 in the bundled table: its tokens are counted, its cost is not',
    );
    assert.equal(
      await page.locator('td', { hasText: '$9.50' }).locator('xpath=following-sibling::td[3]').getAttribute('title'),
      '3 tool failures, 1 API errors',
    );
    // Today beside the range, and this window's project today.
    assert.match(body, /\$4\.50\nToday/);
    assert.ok(body.includes(`$1.25\nThis project today (${XSS})`), 'this project today');
    // The alerts firing, and the plan: both windows, the context window, the limit history, the month's value.
    assert.ok(
      body.includes(`Alerts\n\n${XSS}\nSpent $12.00 in the last hour.\nwarning · since Nov 23, 11:40 AM\n`),
      'the alert, what it means, its severity and since when',
    );
    assert.ok(
      body.includes(
        `What went wrong\n\nThe MCP server "${XSS}" failed to connect (stdio, ENOENT).\nIts tools are missing from the session.\nNov 23, 11:56 AM · session 631fe02f\n`,
      ),
      'what went wrong, what it means, when and in which session',
    );
    assert.match(
      body,
      /Plan\nFigure\tValue\n5-hour window\nresets Nov 23, 03:00 PM · limit at this pace Nov 23, 02:20 PM\n\t42%\n7-day window\nresets Nov 27, 09:00 AM\n\t17%\nContext window\nsession 631fe02f · claude-opus-4-5\n\t37%\nAt the 5-hour limit\nin the last 24h, last Nov 23, 10:05 AM\n\t35m\nThis month at API prices\n3\.2× your plan’s \$100\.00\n\t\$320\.00\n/,
    );
    // Errors by tool and error type, first and last seen; subagents: calls, success, cost, by subagent.
    // First and last seen: the buckets' ages at the snapshot's time (12:00).
    assert.match(
      body,
      /Tool failures by tool and error\nTool\tError\tCount\tFirst\tLast\nBash\tShellError\t6\t3h ago\tnow\n[^\n]+\t5\t2h ago\t1h ago\n/,
    );
    assert.match(
      body,
      /API errors by status\nStatus\tModel\tCount\tFirst\tLast\n400\tclaude-sonnet-4-5\t3\t1h ago\tnow\n/,
    );
    assert.match(
      body,
      /Subagents\nFigure\tValue\nStarted\t8\nSucceeded\t6 \(75%\)\nTheir cost\t\$3\.20 \(26%\)\nTheir tokens\t800\.0k/,
    );
    assert.match(
      body,
      /Subagent\tCost\tTokens\ncode-reviewer\t\$2\.00\t500\.0k\n[^\n]+\t\$1\.00\t200\.0k\n\(not named\)\t\$0\.20\t100\.0k/,
    );
    // Tokens read as in the status bar (compact), the exact number in the hover text.
    assert.equal(await page.locator('.kpi', { hasText: 'Tokens' }).getAttribute('title'), '4,200,000 tokens');
    assert.equal(await page.locator('td', { hasText: '500.0k' }).first().getAttribute('title'), '500,000 tokens');
    assert.equal(
      await page.locator('td', { hasText: '631fe02f' }).last().getAttribute('title'),
      `631fe02f-77fd-4613-8db1-70ec003c74d0\n${XSS}, api-server\nVS Code panel, ${XSS}\nclaude-sonnet-4-5\n` +
        "Imported from Claude Code's transcript: $2.50 priced from its tokens\nOpen the session in full",
    );
    // The most expensive prompts, each opening its session at it.
    assert.match(
      body,
      new RegExp(
        `Most expensive prompts\\nPrompt\\tCost\\nfix ${escapeRegExp(XSS)} now\\n[^\\n]+ · session 631fe02f\\n?\\t\\$4\\.25\\n` +
          'A prompt of 11 characters\\nsent before the range · session db2d98db\\n?\\t\\$0\\.00',
      ),
    );
    await page.getByRole('button', { name: 'A prompt of 11 characters' }).click();
    assert.deepEqual((await posted(page)).at(-1), {
      type: 'openSession',
      sessionId: 'db2d98db-9ac8-44e4-a0a7-7a609ad65899',
      promptId: 'b500733c-d773-4856-b744-59f90bd13e5f',
    });
    // A session of the list opens in full: the host gets its id.
    await page.getByRole('button', { name: '631fe02f', exact: true }).click();
    assert.deepEqual((await posted(page)).at(-1), {
      type: 'openSession',
      sessionId: '631fe02f-77fd-4613-8db1-70ec003c74d0',
    });
    // The hostile model and tool names are in the tables as text; nothing ran and no image element exists.
    // As table cells: cost by project, the tool failures' table (tool, error) and event, the API error's message, a
    // subagent (the alert's summary is checked above).
    assert.equal(await page.getByText(XSS, { exact: true }).count(), 6);
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);

    const drawn = await page.evaluate(() =>
      [...document.querySelectorAll('canvas')].map((canvas) => {
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let index = 3; index < pixels.length; index += 4) painted += pixels[index] > 0 ? 1 : 0;
        return painted;
      }),
    );
    assert.equal(drawn.length, 3);
    assert.ok(
      drawn.every((painted) => painted > 500),
      `a chart canvas is blank: ${drawn.join(', ')}`,
    );
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations), []);

    await mkdir(join(repoRoot, 'test-results', 'screenshots'), { recursive: true });
    await page.screenshot({
      path: join(repoRoot, 'test-results', 'screenshots', 'webview-dashboard.png'),
      fullPage: true,
    });
    await page.close();
  });

  it("the README's picture of the sidebar: the same snapshot with everyday names, every section at sidebar width", async () => {
    const page = await open();
    const m = snapshot.metrics!;
    const everyday: Snapshot = {
      ...snapshot,
      today: { costUsd: 4.5, project: { name: 'web-app', costUsd: 1.25 } },
      alerts: [{ ...snapshot.alerts![0]!, summary: 'Claude Code cost over the last hour exceeds $10.00' }],
      metrics: {
        ...m,
        costByModel: [
          { model: 'claude-sonnet-4-5', usd: 10 },
          { model: 'claude-haiku-4-5', usd: 2.3456 },
        ],
        costBy: {
          ...m.costBy,
          rows: [
            { key: 'api-server', costUsd: 10, tokens: 3_000_000 },
            { key: 'web-app', costUsd: 2.3456, tokens: 1_200_000 },
          ],
        },
        costSeries: m.costSeries.map((series, i) => ({
          ...series,
          key: i === 0 ? 'claude-sonnet-4-5' : 'claude-haiku-4-5',
        })),
        tools: m.tools.map((tool, i) => ({ ...tool, tool: ['Bash', 'Read', 'Grep'][i]! })),
        toolErrors: [m.toolErrors[0]!, { ...m.toolErrors[1]!, tool: 'Read', errorType: 'FileNotFound' }],
        subagents: {
          ...m.subagents,
          byAgent: m.subagents.byAgent.map((row, i) => ({ ...row, agent: ['code-reviewer', 'test-runner', ''][i]! })),
        },
        sessions: m.sessions.map((session) => ({ ...session, projects: ['api-server'], entrypoints: ['cli'] })),
      },
      events: {
        toolFailures: snapshot.events!.toolFailures.map((failure) => ({ ...failure, tool: 'Bash' })),
        apiErrors: snapshot.events!.apiErrors.map((error) => ({ ...error, message: 'Overloaded' })),
        problems: snapshot.events!.problems.map((problem) => ({
          ...problem,
          summary: 'The MCP server "github" failed to connect (stdio, ENOENT).',
        })),
      },
    };
    await post(page, { type: 'state', state: { kind: 'data', snapshot: everyday }, range: '24h' });
    await page.getByText('Recent tool failures').waitFor();
    const body = await page.evaluate(() => document.body.innerText);
    for (const section of [
      'Alerts',
      'Plan',
      'Subagents',
      'Tool failures by tool and error',
      'API errors by status',
      'Sessions',
    ]) {
      assert.match(body, new RegExp(`\\n${section}\\n`), `the ${section} section`);
    }
    assert.equal(
      await page.evaluate(() => document.documentElement.scrollWidth),
      360,
      'nothing wider than the sidebar',
    );
    await page.waitForFunction(() => document.querySelectorAll('canvas').length === 3);
    await page.screenshot({
      path: join(repoRoot, 'test-results', 'screenshots', 'webview-sidebar.png'),
      fullPage: true,
    });
    await page.close();
  });

  it('a refresh updates the charts and the picker in place: the same canvases, redrawn; the same <select>', async () => {
    const page = await open();
    await post(page, { type: 'state', state: { kind: 'data', snapshot }, range: '24h' });
    await page.getByText('Recent tool failures').waitFor();
    const pixels = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('canvas')].map((canvas) => {
          const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
          let sum = 0;
          for (let index = 3; index < data.length; index += 16) sum += data[index]!;
          return sum;
        }),
      );
    await page.waitForFunction(() => document.querySelectorAll('canvas').length === 3);
    await page.waitForTimeout(100);
    const before = await pixels();
    await page.evaluate(() => {
      document.querySelectorAll('canvas').forEach((canvas, index) => {
        (canvas as unknown as { __mark: number }).__mark = index + 1;
      });
      (document.querySelector('select') as unknown as { __mark: number }).__mark = 7;
    });
    // The next refresh: another range of costs, another tool mix.
    const metrics = snapshot.metrics!;
    const next: Snapshot = {
      ...snapshot,
      fetchedAt: snapshot.fetchedAt + 3000,
      metrics: {
        ...metrics,
        costSeries: metrics.costSeries.map((series) => ({
          ...series,
          points: series.points.map(([t, v], i) => [t, i % 2 ? v * 4 : v / 4]),
        })),
        tools: metrics.tools.map((tool) => ({ ...tool, failures: 0 })),
      },
    };
    delete next.plan;
    await post(page, { type: 'state', state: { kind: 'data', snapshot: next }, range: '24h' });
    await page.waitForTimeout(100);
    const marks = await page.evaluate(() => ({
      canvases: [...document.querySelectorAll('canvas')].map(
        (canvas) => (canvas as unknown as { __mark?: number }).__mark,
      ),
      select: (document.querySelector('select') as unknown as { __mark?: number }).__mark,
    }));
    assert.deepEqual(marks, { canvases: [1, 2, 3], select: 7 });
    // No plan usage any more: the section says what brings it, and offers the command.
    await page.getByRole('button', { name: 'Show Plan Usage in Claude Code’s Status Line…' }).click();
    assert.deepEqual((await posted(page)).at(-1), { type: 'run', action: 'writeStatusLineBridge' });
    const after = await pixels();
    assert.notEqual(after[0], before[0], 'the cost chart was redrawn with the new buckets');
    assert.notEqual(after[2], before[2], 'the tools chart was redrawn without failures');
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations), []);
    await page.close();
  });

  it("a session's panel: its figures, cost over time, tools, errors, prompts and a prompt's waterfall, telemetry text as text", async () => {
    const page = await open();
    const id = '631fe02f-77fd-4613-8db1-70ec003c74d0';
    const detail: SessionDetail = {
      sessionId: id,
      range: '24h',
      startMs: hours[0]!,
      endMs: snapshot.endMs,
      stepSeconds: 3600,
      fetchedAt: snapshot.fetchedAt,
      metrics: {
        costUsd: 9.5,
        costByModel: [{ model: 'claude-sonnet-4-5', usd: 9.5 }],
        tokens: { input: 1000, output: 500, cacheRead: 2_999_000, cacheCreation: 0, other: 0, total: 3_000_500 },
        costSeries: [{ key: 'claude-sonnet-4-5', points: hours.slice(0, 6).map((hour) => [hour, 1.5]) }],
        tools: [{ tool: 'Bash', calls: 10, failures: 3 }],
        apiErrorsByStatus: [{ statusCode: '429', model: 'claude-sonnet-4-5', count: 1 }],
        activeCliSeconds: 3000,
        activeUserSeconds: 600,
        projects: ['api-server'],
      },
      prompts: {
        events: 9,
        complete: true,
        prompts: [
          {
            promptId: 'p-cheap',
            startMs: Date.UTC(2026, 10, 23, 11, 50),
            endMs: Date.UTC(2026, 10, 23, 11, 50, 4),
            text: null,
            length: 11,
            costUsd: 0.00024,
            tokens: 20,
            apiCalls: 1,
            toolCalls: 0,
            failures: 0,
            steps: [
              {
                kind: 'api',
                sequence: 4,
                startMs: Date.UTC(2026, 10, 23, 11, 50),
                endMs: Date.UTC(2026, 10, 23, 11, 50, 4),
                label: 'claude-haiku-4-5',
                detail: '10 in, 10 out, 0 cache read, 0 cache write',
                costUsd: 0.00024,
                tokens: 20,
                failed: false,
              },
            ],
          },
          {
            promptId: 'p-dear',
            startMs: Date.UTC(2026, 10, 23, 11, 58),
            endMs: Date.UTC(2026, 10, 23, 11, 59),
            text: `fix the ${XSS} tests`,
            length: 48,
            costUsd: 0.12,
            tokens: 40_000,
            apiCalls: 1,
            toolCalls: 1,
            failures: 1,
            steps: [
              {
                kind: 'api',
                sequence: 9,
                startMs: Date.UTC(2026, 10, 23, 11, 58),
                endMs: Date.UTC(2026, 10, 23, 11, 58, 30),
                label: 'claude-sonnet-4-5',
                detail: '39000 in, 1000 out, 0 cache read, 0 cache write',
                costUsd: 0.12,
                tokens: 40_000,
                failed: false,
              },
              {
                kind: 'tool',
                sequence: 11,
                startMs: Date.UTC(2026, 10, 23, 11, 58, 30),
                endMs: Date.UTC(2026, 10, 23, 11, 59),
                label: 'Bash',
                detail: `accept (config) · failed: ShellError (${XSS})`,
                costUsd: 0,
                tokens: 0,
                failed: true,
              },
            ],
          },
        ],
      },
      errors: {},
    };
    await post(page, { type: 'session', sessionId: id, detail });
    await page.getByText('Waterfall:').waitFor();
    const body = await page.evaluate(() => document.body.innerText);
    assert.match(body, new RegExp(`Session ${id}`));
    assert.match(body, /\$9\.50\nCost/);
    assert.match(body, /Project: api-server/);
    // Tokens read as in the status bar and the sidebar: 1,000 is 1.0k, the exact number in the hover text.
    assert.match(body, /Tokens by type\nType\tTokens\ninput\t1\.0k\noutput\t500\ncacheRead\t3\.0M\n/);
    assert.equal(await page.locator('td', { hasText: '1.0k' }).getAttribute('title'), '1,000 tokens');
    assert.match(body, /3\.0M\nTokens/);
    assert.match(body, /Bash\t10\t3/);
    assert.match(body, /429\tclaude-sonnet-4-5\t1/);
    // Its prompts in order; the newest one's waterfall open, its steps on one time axis.
    assert.match(body, /Prompts\n+2 prompts and 9 events from .* 9m between its first and last event in this range\./);
    // Each prompt's name, then when it began (in the page's time zone), and which one's waterfall is open.
    const prompts = async (): Promise<string[]> =>
      (await page.locator('table').nth(4).locator('tbody tr td:first-child').allInnerTexts()).map((text) =>
        text.replace(/\nNov 23, \d\d:\d\d [AP]M/, '\n(time)'),
      );
    assert.deepEqual(await prompts(), [
      'A prompt of 11 characters\n(time)',
      `fix the ${XSS} tests\n(time) · its waterfall is below`,
    ]);
    assert.match(body, new RegExp(`Waterfall: fix the ${escapeRegExp(XSS)} tests \\(\\$0\\.12, 1m 00s\\)`));
    assert.match(body, /claude-sonnet-4-5\s+30\.0 s\t40\.0k\t\$0\.12\t39000 in/);
    assert.match(
      body,
      new RegExp(`✖ Bash\\s+30\\.0 s\\t\\t\\taccept \\(config\\) · failed: ShellError \\(${escapeRegExp(XSS)}\\)`),
    );
    // Each bar where its step lies on the prompt's axis: the tool's second half.
    const bars = await page
      .locator('.waterfall-bar')
      .evaluateAll((bars) =>
        bars.map((bar) => [(bar as HTMLElement).style.marginLeft, (bar as HTMLElement).style.width]),
      );
    assert.deepEqual(bars, [
      ['0%', '50%'],
      ['50%', '50%'],
    ]);
    // The most expensive first, and another prompt's waterfall opened from its row.
    await page.getByRole('button', { name: 'Most expensive first' }).click();
    assert.deepEqual(await prompts(), [
      `fix the ${XSS} tests\n(time) · its waterfall is below`,
      'A prompt of 11 characters\n(time)',
    ]);
    await page.getByRole('button', { name: 'A prompt of 11 characters' }).click();
    await page.getByText('Waterfall: A prompt of 11 characters ($0.00, 4.0 s)').waitFor();
    assert.equal(
      await page
        .locator('td', { hasText: /^\$0\.00$/ })
        .first()
        .getAttribute('title'),
      '$0.00024',
    );
    // Opened from the sidebar's most expensive prompts: at that prompt, whatever was open.
    await post(page, { type: 'session', sessionId: id, detail, openPrompt: 'p-dear' });
    await page.getByText(`Waterfall: fix the ${XSS} tests ($0.12, 1m 00s)`).waitFor();
    assert.equal(await page.locator('img').count(), 0);
    await page.waitForFunction(() => document.querySelectorAll('canvas').length === 1);
    await page.getByRole('button', { name: 'Open in Grafana' }).click();
    assert.deepEqual((await posted(page)).at(-1), { type: 'run', action: 'openGrafana' });
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations), []);
    await mkdir(join(repoRoot, 'test-results', 'screenshots'), { recursive: true });
    await page.screenshot({
      path: join(repoRoot, 'test-results', 'screenshots', 'webview-session.png'),
      fullPage: true,
    });
    // A host that could not load it says why, with a way forward.
    await post(page, {
      type: 'session',
      sessionId: id,
      detail: null,
      error: 'Prometheus at http://127.0.0.1:9090 is unreachable.',
    });
    await page.getByText('Could not load the session').waitFor();
    await page.close();
  });

  it('remembers the picked range across a reload and asks the host for it', async () => {
    const page = await open();
    await post(page, { type: 'state', state: { kind: 'noData', range: '24h' }, range: '24h' });
    await page.getByRole('radio', { name: '7d' }).click();
    assert.deepEqual((await posted(page)).at(-1), { type: 'selectRange', range: '7d' });
    const state = await page.evaluate(() => (window as unknown as { __state: { range: string } }).__state);
    assert.equal(state.range, '7d');
    await page.close();
  });

  it('shows what one backend answered while the other is down', async () => {
    const page = await open();
    const lokiDown =
      'Loki at http://127.0.0.1:3100 is unreachable (connection refused). Start the stack, or check claudeTelemetry settings.';
    await post(page, {
      type: 'state',
      state: {
        kind: 'data',
        snapshot: {
          ...snapshot,
          events: null,
          errors: { loki: { kind: 'unreachable', backend: 'Loki', url: 'http://127.0.0.1:3100', message: lokiDown } },
        },
      },
      range: '24h',
    });
    await page.getByText(lokiDown).waitFor();
    assert.ok(await page.getByText('$12.35', { exact: true }).isVisible());
    assert.equal(await page.getByText('Recent tool failures').count(), 0);
    await page.close();
  });

  it('shows an error with a way forward', async () => {
    const page = await open();
    await post(page, {
      type: 'state',
      state: { kind: 'error', message: 'Prometheus at http://127.0.0.1:9090 answered HTML, not JSON.' },
      range: '1h',
    });
    await page.getByText('Prometheus at http://127.0.0.1:9090 answered HTML, not JSON.').waitFor();
    await page.getByRole('button', { name: 'Show Logs' }).click();
    assert.deepEqual((await posted(page)).at(-1), { type: 'run', action: 'showLogs' });
    await page.close();
  });
});
