/**
 * Smoke test in a real VS Code: code-server runs the packaged extension, headless Chromium
 * shows it, and the test checks what a user would see. Needs no Docker: the stack is not
 * started, so the extension shows its "stopped" state.
 *
 * Cold, scripts/code-server.sh installs code-server first (a few minutes); that failing fails
 * the test. Screenshots go to test-results/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  ensureVsix,
  installCodeServer,
  listCommands,
  openWorkbench,
  runCommand,
  screenshot,
  startCodeServer,
  waitForFrameText,
  waitForStatusBarText,
  type CodeServer,
  type Workbench,
} from '../support/e2e/codeServer';

describe('extension in code-server (e2e smoke)', { timeout: 25 * 60_000 }, () => {
  let server: CodeServer | undefined;
  let workbench: Workbench | undefined;
  let workspace: string | undefined;
  const t0 = Date.now();
  const mark = (what: string): void => console.log(`# e2e: ${what} at +${((Date.now() - t0) / 1000).toFixed(1)}s`);

  // Setup is a test, not a before hook: when code-server cannot be installed or started,
  // the run counts a failed test (not "0 passed, 0 failed"), and every later test fails too.
  it('starts code-server with the packaged extension and opens the workbench', async () => {
    const [codeServer, vsix] = await Promise.all([installCodeServer(), ensureVsix()]);
    mark('code-server installed, vsix ready');
    workspace = mkdtempSync(join(tmpdir(), 'cct-e2e-workspace-'));
    writeFileSync(join(workspace, 'README.md'), '# e2e workspace\n');
    const startedAt = Date.now();
    server = await startCodeServer({
      codeServer,
      vsix,
      workspace,
      // Refresh slowly: no stack runs here, and nothing should hammer Docker.
      settings: { 'claudeTelemetry.refreshIntervalSeconds': 60 },
    });
    mark(`code-server answering on ${server.origin}`);
    workbench = await openWorkbench(server.url);
    mark(`workbench ready (${((Date.now() - startedAt) / 1000).toFixed(1)}s after code-server start)`);
    await screenshot(workbench.page, '01-workbench');
  });

  after(async () => {
    if (workbench) {
      await screenshot(workbench.page, '99-final').catch(() => undefined);
      if (workbench.errors.length) {
        console.log(`# e2e: page errors:\n${workbench.errors.slice(0, 20).join('\n')}`);
      }
      await workbench.stop();
    }
    await server?.stop();
    if (workspace) {
      rmSync(workspace, { recursive: true, force: true });
    }
    mark('stopped');
  });

  const page = () => {
    assert.ok(workbench, 'the workbench did not open (see the first test)');
    return workbench.page;
  };

  it('shows the Claude Telemetry item in the activity bar', async () => {
    const item = page().locator('.part.activitybar [aria-label^="Claude Telemetry"]');
    await item.first().waitFor({ state: 'visible', timeout: 30_000 });
    assert.ok((await item.count()) >= 1);
  });

  it('shows in the status bar that the stack is off', async () => {
    // A Docker Engine runs in the test setup and no stack does: the extension must say so, not "unreachable".
    const text = await waitForStatusBarText(page(), /Telemetry off/, 60_000);
    console.log(`# e2e: status bar item: ${text}`);
    await screenshot(page(), '02-status-bar');
  });

  it('lists "Claude Telemetry: Show Dashboard" in the Command Palette', async () => {
    const labels = await listCommands(page(), 'Claude Telemetry', '03-command-palette');
    assert.ok(
      labels.some((label) => label.includes('Claude Telemetry: Show Dashboard')),
      `Command Palette offered: ${JSON.stringify(labels)}`,
    );
  });

  it('reveals the dashboard webview with "Show Dashboard"', async () => {
    await runCommand(page(), 'Claude Telemetry: Show Dashboard');
    const { text } = await waitForFrameText(page(), /The telemetry stack is not running/, 60_000);
    console.log(`# e2e: dashboard shows: ${text}`);
    await screenshot(page(), '04-dashboard');
    const view = page()
      .locator('.part.sidebar .pane-header[aria-label*="Dashboard"], .part.sidebar .composite.title')
      .first();
    assert.ok(await view.isVisible(), 'the side bar with the dashboard view is not visible');
  });
});
