// Section 3: time to first chart in the dashboard webview, in real headless Chromium (as
// test/browser/webview.test.ts does), with 30 days of hourly points for five models against 24 points for scale.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { HostToWebview } from '../src/protocol';
import type { ChartSeries, Snapshot } from '../src/snapshot';
import { dashboardHtml } from '../src/views/dashboardHtml';
import { repoRoot } from '../test/support/paths';
import { fmtMs, fmtRatio, median, table } from './table';

const MODELS = ['claude-opus-5-5', 'claude-sonnet-5', 'claude-haiku-5', 'claude-opus-4-1', 'claude-sonnet-4-5'];
const TYPES = ['input', 'output', 'cacheRead', 'cacheCreation'];

function snapshotWith(points: number): Snapshot {
  const end = Date.UTC(2026, 10, 23, 12);
  const times = Array.from({ length: points }, (_, i) => end - (points - 1 - i) * 3_600_000);
  const series = (keys: string[], scale: number): ChartSeries[] =>
    keys.map((key, k) => ({
      key,
      points: times.map((t, i) => [t, scale * (1 + Math.sin(i / 7 + k)) * (1 + k / 3)] as [number, number]),
    }));
  const costSeries = series(MODELS, 0.4);
  const total = costSeries.reduce((a, s) => a + s.points.reduce((b, p) => b + p[1], 0), 0);
  return {
    range: points > 24 ? '30d' : '24h',
    startMs: times[0]! - 3_600_000,
    endMs: end,
    stepSeconds: 3600,
    fetchedAt: end,
    hasData: true,
    errors: {},
    metrics: {
      kpis: {
        costUsd: total,
        tokens: { input: 1e6, output: 5e5, cacheRead: 9e6, cacheCreation: 2e5, other: 0, total: 10.7e6 },
        sessions: 42,
        cacheHitRate: 0.88,
        toolCalls: 900,
        toolFailures: 40,
        toolErrorRate: 40 / 900,
        apiRequests: 3000,
        apiErrors: 12,
        activeSeconds: 86_400,
        activeCliSeconds: 4000,
        activeUserSeconds: 1400,
        linesAdded: 5000,
        linesRemoved: 1200,
        commits: 30,
        pullRequests: 4,
        editsAccepted: 9,
        editsRejected: 3,
      },
      costByModel: MODELS.map((model, i) => ({ model, usd: 100 - i * 10 })),
      costBy: {
        dimension: 'model',
        rows: MODELS.map((key, i) => ({ key, costUsd: 100 - i * 10, tokens: 1e6 })),
        available: ['model'],
      },
      costSeries,
      tokenSeries: series(TYPES, 20_000),
      tools: ['Bash', 'Read', 'Edit', 'Grep', 'Write'].map((tool, i) => ({
        tool,
        calls: 300 - i * 40,
        failures: 10 - i,
      })),
      toolErrors: [{ tool: 'Bash', errorType: 'ShellError', count: 30, firstSeenMs: times[0]!, lastSeenMs: end }],
      apiErrorsByStatus: [
        { statusCode: '429', model: MODELS[0]!, count: 8, firstSeenMs: times[0]!, lastSeenMs: end },
        { statusCode: '500', model: MODELS[1]!, count: 4, firstSeenMs: times[3]!, lastSeenMs: end },
      ],
      subagents: {
        calls: 40,
        failures: 3,
        costUsd: total / 5,
        tokens: 2e6,
        byAgent: [{ agent: '', costUsd: total / 5, tokens: 2e6 }],
      },
      sessions: Array.from({ length: 50 }, (_, i) => ({
        sessionId: `${String(i).padStart(8, '0')}-77fd-4613-8db1-70ec003c74d0`,
        costUsd: 50 - i,
        tokens: 1e6 - i * 1000,
        activeSeconds: 3600,
        apiErrors: i % 3,
        toolFailures: i % 4,
        models: [MODELS[i % 5]!],
        projects: ['api-server'],
        entrypoints: ['cli'],
        importedUsd: 0,
        imported: false,
      })),
    },
    events: { toolFailures: [], apiErrors: [], problems: [] },
  };
}

export async function benchWebview(runs: number, warmup: number): Promise<string> {
  const script = await readFile(join(repoRoot, 'dist', 'webview.js'));
  const style = await readFile(join(repoRoot, 'media', 'dashboard.css'));
  let origin = '';
  const server = createServer((request, response) => {
    if (request.url === '/webview.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else if (request.url === '/dashboard.css') response.writeHead(200, { 'content-type': 'text/css' }).end(style);
    else {
      const nonce = randomBytes(16).toString('base64');
      const host = `<script nonce="${nonce}">
        window.__posted = []; window.__state = undefined;
        window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => window.__state, setState: (s) => { window.__state = s; } });
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
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const results = new Map<number, { ms: number[]; canvases: number; bytes: number }>();
  try {
    for (const points of [24, 720]) {
      const snapshot = snapshotWith(points);
      const message: HostToWebview = { type: 'state', state: { kind: 'data', snapshot }, range: snapshot.range };
      const ms: number[] = [];
      let canvases = 0;
      for (let i = 0; i < warmup + runs; i++) {
        const page = await browser.newPage({ viewport: { width: 360, height: 1400 } });
        await page.goto(origin);
        await page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
        // In the page: post the state, then poll every animation frame until every chart canvas has paint.
        const r = await page.evaluate(
          (m) =>
            new Promise<{ ms: number; canvases: number }>((resolve, reject) => {
              const painted = (c: HTMLCanvasElement): boolean => {
                if (!c.width || !c.height) return false;
                const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
                let n = 0;
                for (let k = 3; k < d.length; k += 16) if (d[k]! > 0 && ++n > 100) return true;
                return false;
              };
              const t0 = performance.now();
              window.postMessage(m, '*');
              const tick = (): void => {
                const cs = [...document.querySelectorAll('canvas')];
                if (cs.length >= 3 && cs.every(painted)) {
                  resolve({ ms: performance.now() - t0, canvases: cs.length });
                  return;
                }
                if (performance.now() - t0 > 20_000) {
                  reject(new Error(`charts not painted: ${cs.length} canvases`));
                  return;
                }
                requestAnimationFrame(tick);
              };
              requestAnimationFrame(tick);
            }),
          message,
        );
        if (i >= warmup) ms.push(r.ms);
        canvases = r.canvases;
        await page.close();
      }
      results.set(points, { ms, canvases, bytes: JSON.stringify(message).length });
    }
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
  }
  const a = results.get(24)!;
  const b = results.get(720)!;
  let out = '## 3. Webview: time to first chart\n\n';
  out += table(
    'Post of a `state` message to every chart canvas painted (headless Chromium, 360 px wide sidebar)',
    ['data', 'message size', 'charts', 'median', 'min', 'max'],
    [
      [
        '24 hourly points x 5 models (+ 4 token types)',
        `${(a.bytes / 1024).toFixed(0)} KiB`,
        String(a.canvases),
        fmtMs(median(a.ms)),
        fmtMs(Math.min(...a.ms)),
        fmtMs(Math.max(...a.ms)),
      ],
      [
        '720 hourly points (30 d) x 5 models (+ 4 token types)',
        `${(b.bytes / 1024).toFixed(0)} KiB`,
        String(b.canvases),
        fmtMs(median(b.ms)),
        fmtMs(Math.min(...b.ms)),
        fmtMs(Math.max(...b.ms)),
      ],
      ['ratio 720 / 24', '', '', fmtRatio(median(b.ms) / median(a.ms)), '', ''],
    ],
    [
      'Measured in the page: from `window.postMessage` to the first animation frame where each canvas has painted pixels (polled every frame, so' +
        ' the figure is rounded up to a frame). A fresh page per run. The extension itself asks for at most ~60 buckets (chartStep: 30 d -> 12 h);' +
        ' 720 points is the stress case.',
    ],
  );
  return out;
}
