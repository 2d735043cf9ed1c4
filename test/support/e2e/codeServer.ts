// Its size: every way the end-to-end tests drive the workbench (commands, terminal, status bar, notifications,
// webview frames) is here, once, for every suite to share.
/**
 * End-to-end harness: a real VS Code (code-server, installed by scripts/code-server.sh)
 * running the packaged extension, driven by playwright-core in Debian's headless Chromium.
 *
 *   const server = await startCodeServer({ vsix, workspace });
 *   const wb = await openWorkbench(server.url);
 *   await runCommand(wb.page, 'Claude Telemetry: Show Dashboard');
 *   ...
 *   await wb.stop(); await server.stop();
 *
 * Nothing here skips: a missing code-server or browser is an error, so the tests fail.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type BrowserContext, type Frame, type Locator, type Page } from 'playwright-core';
import { repoRoot } from '../paths';
import { freePort } from '../ports';
import { escapeRegExp } from '../regexp';
import { waitFor } from '../wait';

export const defaultVsixPath = join(repoRoot, 'dist-vsix', 'claude-code-telemetry.vsix');
export const screenshotDir = join(repoRoot, 'test-results', 'screenshots');

/** Settings that keep the workbench quiet and predictable for a test. */
export const quietSettings: Readonly<Record<string, unknown>> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'extensions.ignoreRecommendations': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'git.openRepositoryInParentFolders': 'never',
};

function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd ?? repoRoot,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 0,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(
              `${command} ${args.join(' ')} failed: ${error.message}\n--- stdout\n${tail(stdout)}\n--- stderr\n${tail(stderr)}`,
            ),
          );
        } else {
          resolvePromise({ stdout, stderr });
        }
      },
    );
  });
}

const tail = (text: string, lines = 60): string => text.split('\n').slice(-lines).join('\n');

/**
 * Installs code-server if needed (scripts/code-server.sh; several minutes cold, instant warm)
 * and returns the launcher's path. `CCT_CODE_SERVER` names an existing launcher instead.
 */
export async function installCodeServer(): Promise<string> {
  const given = process.env.CCT_CODE_SERVER;
  if (given) {
    if (!existsSync(given)) {
      throw new Error(`CCT_CODE_SERVER=${given} does not exist`);
    }
    return given;
  }
  const { stdout } = await run('bash', [join(repoRoot, 'scripts', 'code-server.sh')], { timeoutMs: 20 * 60_000 });
  const launcher = stdout.trim().split('\n').pop() ?? '';
  if (!launcher || !existsSync(launcher)) {
    throw new Error(`scripts/code-server.sh printed no launcher (stdout: ${JSON.stringify(stdout)})`);
  }
  return launcher;
}

/** Newest modification time (ms) of the files under `paths`, which may be files or folders. */
function newestMtime(paths: string[]): number {
  let newest = 0;
  const visit = (path: string): void => {
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return;
    }
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) {
        visit(join(path, entry));
      }
    } else {
      newest = Math.max(newest, stat.mtimeMs);
    }
  };
  paths.forEach(visit);
  return newest;
}

/**
 * The packaged extension at `vsix`; runs `npm run package` when it is missing, older than the
 * sources it is built from (package.json, src/, media/, stack/), or `rebuild` is set.
 */
export async function ensureVsix(vsix: string = defaultVsixPath, rebuild = false): Promise<string> {
  const inputs = ['package.json', '.vscodeignore', 'src', 'media', 'stack'].map((name) => join(repoRoot, name));
  const stale = existsSync(vsix) && vsix === defaultVsixPath && newestMtime(inputs) > statSync(vsix).mtimeMs;
  if (rebuild || stale || !existsSync(vsix)) {
    await run('npm', ['run', 'package'], { timeoutMs: 10 * 60_000 });
    if (!existsSync(vsix)) {
      throw new Error(`npm run package did not produce ${vsix}`);
    }
  }
  return vsix;
}

/** Whether `promise` settles within `ms`; the timer never outlives the answer (it would hold the test process open). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface StartCodeServerOptions {
  /** The .vsix to install; default dist-vsix/claude-code-telemetry.vsix, built if missing. `false`: install none. */
  vsix?: string | false;
  /** Folder to open; default the repository. */
  workspace?: string;
  /** User settings, written to settings.json before start, over `quietSettings`. */
  settings?: Record<string, unknown>;
  /**
   * Machine settings (`<user-data-dir>/Machine/settings.json`). code-server runs extensions as in a remote window,
   * where settings of `"scope": "machine"` are read from here and ignored in the user settings.
   */
  machineSettings?: Record<string, unknown>;
  /** Extra environment for code-server and so the extension host. */
  env?: Record<string, string>;
  /** Launcher to use; default from installCodeServer(). */
  codeServer?: string;
  /** How long to wait for HTTP readiness. */
  readyTimeoutMs?: number;
  /** Keep the temporary user-data and extensions dirs after stop() (for debugging). */
  keepDirs?: boolean;
  /**
   * A command that runs code-server (and so the extension host) in its place: e.g. `setpriv` with capabilities
   * dropped, so that root meets a socket's permissions as a user does. Not used for installing the vsix.
   */
  launchPrefix?: string[];
}

export interface CodeServer {
  /** Workbench URL with the workspace folder already in the query. */
  url: string;
  /** http://127.0.0.1:PORT */
  origin: string;
  port: number;
  workspace: string;
  userDataDir: string;
  extensionsDir: string;
  /** code-server's stdout+stderr so far. */
  output(): string;
  /** Path of the file code-server's output is written to. */
  logFile: string;
  /** The launcher's process id: the extension hosts are among its descendants. */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts code-server on a free loopback port with a fresh user-data and extensions dir,
 * the given settings and the vsix installed, and waits until it answers HTTP.
 */
export async function startCodeServer(options: StartCodeServerOptions = {}): Promise<CodeServer> {
  const launcher = options.codeServer ?? (await installCodeServer());
  const workspace = resolve(options.workspace ?? repoRoot);
  const base = mkdtempSync(join(tmpdir(), 'cct-code-server-'));
  const userDataDir = join(base, 'user-data');
  const extensionsDir = join(base, 'extensions');
  const configFile = join(base, 'config.yaml');
  const logFile = join(base, 'code-server.log');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  // auth none: bound to 127.0.0.1 only, for a test on this machine.
  writeFileSync(configFile, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...quietSettings, ...options.settings }, null, 2),
  );
  if (options.machineSettings) {
    mkdirSync(join(userDataDir, 'Machine'), { recursive: true });
    writeFileSync(join(userDataDir, 'Machine', 'settings.json'), JSON.stringify(options.machineSettings, null, 2));
  }

  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  // Variables of an enclosing VS Code/code-server would make the CLI talk to that one.
  for (const key of Object.keys(env)) {
    if (
      key.startsWith('VSCODE_') ||
      key === 'ELECTRON_RUN_AS_NODE' ||
      key === 'PASSWORD' ||
      key === 'HASHED_PASSWORD'
    ) {
      delete env[key];
    }
  }
  delete env.PORT;
  const common = ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  if (options.vsix !== false) {
    const vsix = await ensureVsix(options.vsix ?? defaultVsixPath);
    const { stdout, stderr } = await run(launcher, [...common, '--force', '--install-extension', vsix], {
      env,
      timeoutMs: 3 * 60_000,
    });
    if (!/successfully installed/i.test(stdout + stderr)) {
      throw new Error(`installing ${vsix} into code-server failed:\n${stdout}\n${stderr}`);
    }
  }

  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    let output = '';
    const log = createWriteStream(logFile, { flags: 'a' });
    const [command, ...prefix] = [...(options.launchPrefix ?? []), launcher];
    const child = spawn(
      command,
      [
        ...prefix,
        ...common,
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--auth',
        'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        '--ignore-last-opened',
        workspace,
      ],
      { env, cwd: workspace, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      log.write(chunk);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const exitPromise = new Promise<void>((r) =>
      child.once('exit', (code, signal) => ((exited = { code, signal }), r())),
    );

    const stop = async (): Promise<void> => {
      if (!exited) {
        killGroup(child, 'SIGTERM');
        if (!(await within(exitPromise, 10_000))) {
          killGroup(child, 'SIGKILL');
          await within(exitPromise, 5_000);
        }
      }
      // The extension host and other helpers share the process group.
      killGroup(child, 'SIGKILL');
      log.end();
      if (!options.keepDirs) {
        rmSync(base, { recursive: true, force: true, maxRetries: 3 });
      }
    };

    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    while (Date.now() < deadline && !exited) {
      if (await httpOk(`${origin}/healthz`)) {
        return {
          url: `${origin}/?folder=${encodeURIComponent(workspace)}`,
          origin,
          port,
          workspace,
          userDataDir,
          extensionsDir,
          logFile,
          pid: child.pid ?? 0,
          output: () => output,
          stop,
        };
      }
      await sleep(250);
    }
    const why = exited ? `exited (${exited.code ?? exited.signal})` : 'did not answer /healthz in time';
    lastError = new Error(`code-server ${why} on port ${port}:\n${tail(output)}`);
    await stop().catch(() => undefined);
    if (!/EADDRINUSE/.test(output)) {
      break;
    }
  }
  throw lastError ?? new Error('code-server did not start');
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) {
    return;
  }
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

export interface Workbench {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far, for failure messages. */
  errors: string[];
  stop(): Promise<void>;
}

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Opens the workbench in headless Chromium and waits until it is loaded and the extensions are up. */
export async function openWorkbench(url: string, options: { timeoutMs?: number } = {}): Promise<Workbench> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no Chromium at ${chromiumPath}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  const timeout = options.timeoutMs ?? 90_000;
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const errors: string[] = [];
    const page = await openWorkbenchWindow(context, url, { timeoutMs: timeout, errors });
    return {
      browser,
      context,
      page,
      errors,
      stop: async () => {
        await browser.close().catch(() => undefined);
      },
    };
  } catch (error) {
    await browser.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Another window of the workbench in the same browser profile (`context`), as a second tab of code-server: a page
 * with its own extension host. Waits until it is loaded and the extensions are up; its console errors go to `errors`.
 */
export async function openWorkbenchWindow(
  context: BrowserContext,
  url: string,
  options: { timeoutMs?: number; errors?: string[] } = {},
): Promise<Page> {
  const timeout = options.timeoutMs ?? 90_000;
  const errors = options.errors ?? [];
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') {
      errors.push(`console: ${message.text()}`);
    }
  });
  page.setDefaultTimeout(30_000);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout });
  await waitForWorkbench(page, timeout);
  return page;
}

/** Waits until the workbench of `page` is drawn and its extensions are up (after a load or a reload). */
export async function waitForWorkbench(page: Page, timeoutMs = 90_000): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('.part.statusbar').waitFor({ state: 'visible', timeout: timeoutMs });
  // The activity bar is drawn once the extension host has registered the view containers.
  await page.locator('.part.activitybar').waitFor({ state: 'visible', timeout: timeoutMs });
  await dismissDialogs(page);
}

/** Closes a modal dialog (such as workspace trust) if one is up. */
export async function dismissDialogs(page: Page): Promise<void> {
  const dialog = page.locator('.monaco-dialog-box');
  if (await dialog.isVisible().catch(() => false)) {
    console.log(
      `# e2e: closing a dialog: ${(await dialog.innerText().catch(() => '')).replace(/\s+/g, ' ').slice(0, 300)}`,
    );
    const trust = dialog.getByRole('button', { name: /Yes, I trust/i });
    if (await trust.isVisible().catch(() => false)) {
      await trust.click();
    } else {
      await page.keyboard.press('Escape');
    }
    await dialog.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
  }
}

/** Opens the Command Palette (F1) and types `text`; returns the quick input's locator. */
export async function openCommandPalette(page: Page, text: string): Promise<ReturnType<Page['locator']>> {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input.input');
  for (let attempt = 0; ; attempt++) {
    // A dialog left up makes the rest of the workbench inert.
    await dismissDialogs(page);
    await page
      .locator('.monaco-workbench')
      .focus()
      .catch(() => undefined);
    await page.keyboard.press('F1');
    try {
      await widget.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(`>${text}`, { timeout: 10_000 });
      return widget;
    } catch (error) {
      if (attempt === 2) throw error;
      // Focus may have been in a webview, which swallows keys: click the editor area and retry.
      await page.keyboard.press('Escape').catch(() => undefined);
      await page
        .locator('.part.editor')
        .click({ position: { x: 10, y: 10 } })
        .catch(() => undefined);
    }
  }
}

/** Labels of the commands the Command Palette offers for `text`; `screenshotName` shots the open palette. */
export async function listCommands(page: Page, text: string, screenshotName?: string): Promise<string[]> {
  const widget = await openCommandPalette(page, text);
  const rows = widget.locator('.monaco-list-row');
  await rows
    .first()
    .waitFor({ state: 'visible', timeout: 10_000 })
    .catch(() => undefined);
  await sleep(300); // let filtering settle
  const labels = await rows.evaluateAll((elements) =>
    elements.map((element) => element.getAttribute('aria-label') ?? (element as HTMLElement).innerText),
  );
  if (screenshotName) {
    await screenshot(page, screenshotName);
  }
  await page.keyboard.press('Escape');
  await widget.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
  return labels;
}

/** Runs a command by its full title (e.g. "Claude Telemetry: Show Dashboard") through the Command Palette. */
export async function runCommand(page: Page, title: string): Promise<void> {
  const widget = await chooseCommand(page, title);
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** Runs a command that asks for a line of text (an input box, in the palette's place), and answers `value`. */
export async function runCommandWithInput(page: Page, title: string, value: string): Promise<void> {
  const widget = await chooseCommand(page, title);
  const input = widget.locator('input.input');
  // The input box takes the palette's place: its field no longer holds the palette's ">" text.
  await waitFor(
    "the command's input box",
    async () => !(await input.inputValue()).startsWith('>') || undefined,
    10_000,
  );
  await input.fill(value);
  await input.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
}

async function chooseCommand(page: Page, title: string): Promise<Locator> {
  const widget = await openCommandPalette(page, title);
  const row = widget
    .locator('.monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) });
  await row.first().waitFor({ state: 'visible', timeout: 15_000 });
  await row.first().click();
  return widget;
}

/** Text of every status bar item. */
export async function statusBarTexts(page: Page): Promise<string[]> {
  return page
    .locator('.part.statusbar .statusbar-item')
    .evaluateAll((elements) =>
      elements.map((element) =>
        [(element as HTMLElement).innerText.trim(), element.getAttribute('aria-label') ?? ''].join(' | '),
      ),
    );
}

/** Waits until a status bar item's text (or accessible label) matches; returns that text. */
export async function waitForStatusBarText(page: Page, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = await statusBarTexts(page).catch(() => []);
    const hit = seen.find((text) => pattern.test(text));
    if (hit !== undefined) {
      return hit;
    }
    await sleep(250);
  }
  throw new Error(`no status bar item matched ${pattern} within ${timeoutMs} ms; items: ${JSON.stringify(seen)}`);
}

/**
 * Waits until some frame of the page (webviews are iframes inside iframes) shows text
 * matching `pattern`; returns that frame and the matching text.
 */
export async function waitForFrameText(
  page: Page,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<{ frame: Frame; text: string }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) {
        continue;
      }
      const text = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
      const match = pattern.exec(text);
      if (match) {
        return { frame, text: match[0] };
      }
    }
    await sleep(300);
  }
  const urls = page.frames().map((frame) => frame.url());
  throw new Error(`no frame showed ${pattern} within ${timeoutMs} ms; frames: ${JSON.stringify(urls)}`);
}

/** A rectangle of the page, in CSS pixels (playwright's `clip`). */
export interface Clip {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Saves a PNG of the page (or of `clip` of it) to test-results/screenshots/NAME.png and returns its path. */
export async function screenshot(page: Page, name: string, options: { clip?: Clip } = {}): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = join(screenshotDir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path: file, ...(options.clip ? { clip: options.clip } : {}) });
  return file;
}

/** The smallest rectangle holding every element of `locators`, grown by `margin` and kept inside the viewport. */
export async function clipAround(page: Page, locators: Locator[], margin = 8): Promise<Clip> {
  const boxes = (await Promise.all(locators.map((locator) => locator.boundingBox()))).filter(
    (box): box is Clip => box !== null,
  );
  if (boxes.length === 0) {
    throw new Error('none of the elements to clip around is on screen');
  }
  const viewport = page.viewportSize() ?? { width: 1440, height: 900 };
  const x = Math.max(0, Math.min(...boxes.map((b) => b.x)) - margin);
  const y = Math.max(0, Math.min(...boxes.map((b) => b.y)) - margin);
  const right = Math.min(viewport.width, Math.max(...boxes.map((b) => b.x + b.width)) + margin);
  const bottom = Math.min(viewport.height, Math.max(...boxes.map((b) => b.y + b.height)) + margin);
  return { x, y, width: right - x, height: bottom - y };
}

/** Settings that make the integrated terminal render its rows as DOM text (readable by terminalText()). */
export const readableTerminalSettings: Readonly<Record<string, unknown>> = {
  // The DOM renderer: rows are elements with text, not pixels on a canvas.
  'terminal.integrated.gpuAcceleration': 'off',
  'terminal.integrated.defaultProfile.linux': 'bash',
  'terminal.integrated.enablePersistentSessions': false,
  'terminal.integrated.hideOnStartup': 'always',
};

/**
 * The visible text of the active terminal, one line per row (xterm's `.xterm-rows`, drawn by the DOM renderer:
 * start code-server with `readableTerminalSettings`). A long line that wraps spans several rows.
 */
export async function terminalText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const terminals = [...document.querySelectorAll('.part.panel .terminal-wrapper')].filter(
      (element) => (element as HTMLElement).offsetParent !== null,
    );
    const wrapper = terminals.find((element) => element.classList.contains('active')) ?? terminals.at(-1);
    const rows = wrapper?.querySelector('.xterm-rows');
    if (!rows) {
      return '';
    }
    return [...rows.children].map((row) => (row.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).join('\n');
  });
}

/** Waits until the active terminal shows text matching `pattern`; returns the match and the whole text. */
export async function waitForTerminalText(
  page: Page,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<{ match: RegExpExecArray; text: string }> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = await terminalText(page).catch(() => '');
    const match = pattern.exec(text);
    if (match) {
      return { match, text };
    }
    await sleep(200);
  }
  throw new Error(`the terminal did not show ${pattern} within ${timeoutMs} ms; it shows:\n${text}`);
}

/** Focuses the active terminal and types `line` followed by Enter. */
export async function typeInTerminal(page: Page, line: string): Promise<void> {
  const terminal = page
    .locator('.part.panel .terminal-wrapper.active .xterm, .part.panel .terminal-wrapper .xterm')
    .first();
  await terminal.waitFor({ state: 'visible', timeout: 30_000 });
  await terminal.click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

const TOASTS = '.notifications-toasts .notification-toast';

/** The notification toast on screen whose text matches `text`, to press its buttons. */
export function notificationToast(page: Page, text: RegExp): Locator {
  return page.locator(TOASTS).filter({ hasText: text }).first();
}

/** Texts of the notification toasts on screen. */
export async function notificationTexts(page: Page): Promise<string[]> {
  return page
    .locator(TOASTS)
    .evaluateAll((elements) =>
      elements.map((element) => (element as HTMLElement).innerText.replace(/\s+/g, ' ').trim()),
    );
}

/** Waits until a notification toast's text matches `pattern`; returns that text. */
export async function waitForNotification(page: Page, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    seen = await notificationTexts(page).catch(() => []);
    const hit = seen.find((text) => pattern.test(text));
    if (hit !== undefined) {
      return hit;
    }
    await sleep(100);
  }
  throw new Error(`no notification matched ${pattern} within ${timeoutMs} ms; notifications: ${JSON.stringify(seen)}`);
}

/** Closes every notification (toasts and the notification center's), as "Notifications: Clear All Notifications". */
export async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications');
  await page
    .locator(TOASTS)
    .first()
    .waitFor({ state: 'hidden', timeout: 5_000 })
    .catch(() => undefined);
}

/** Waits for a modal dialog (`showWarningMessage(..., { modal: true })`); returns it and its text. */
export async function waitForDialog(page: Page, timeoutMs = 30_000): Promise<{ dialog: Locator; text: string }> {
  const dialog = page.locator('.monaco-dialog-box').first();
  await dialog.waitFor({ state: 'visible', timeout: timeoutMs });
  return { dialog, text: (await dialog.innerText()).replace(/\s+/g, ' ').trim() };
}

/** Presses the button `name` of the modal dialog on screen and waits for the dialog to close. */
export async function answerDialog(page: Page, name: string): Promise<void> {
  const { dialog } = await waitForDialog(page);
  await dialog.getByRole('button', { name, exact: true }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** The status bar item whose text matches `pattern`. */
export function statusBarItem(page: Page, pattern: RegExp): Locator {
  return page.locator('.part.statusbar .statusbar-item').filter({ hasText: pattern }).first();
}

/**
 * Hovers the status bar item whose text matches `item` until its tooltip (a hover whose text matches `hoverText`)
 * shows; returns the hover.
 */
export async function hoverStatusBarItem(page: Page, item: RegExp, hoverText: RegExp): Promise<Locator> {
  const target = statusBarItem(page, item);
  const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: hoverText }).first();
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.mouse.move(700, 300);
    await target.hover();
    if (
      await hover.waitFor({ state: 'visible', timeout: 5_000 }).then(
        () => true,
        () => false,
      )
    ) {
      return hover;
    }
  }
  throw new Error(`no tooltip matching ${hoverText} appeared over the status bar item ${item}`);
}

/**
 * Sets a User setting the way a user does: "Preferences: Open User Settings", its id in the search box, the value
 * typed into its field (text and number settings). The Settings editor stays open.
 */
export async function setSettingInUi(page: Page, id: string, value: string): Promise<void> {
  await runCommand(page, 'Preferences: Open User Settings');
  const search = page.locator('.settings-editor .settings-header .suggest-input-container').first();
  await search.waitFor({ state: 'visible', timeout: 30_000 });
  await search.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(id);
  const field = page.locator(`.settings-editor .setting-item-contents[data-key="${id}"] input`).first();
  await field.waitFor({ state: 'visible', timeout: 30_000 });
  await field.fill(value);
  // The editor writes the value on change: leave the field so nothing is pending.
  await field.press('Tab');
}

/** The end of a UI test: a last screenshot, the page's errors printed, the browser closed. */
export async function closeWorkbench(workbench: Workbench, finalScreenshot: string): Promise<void> {
  await screenshot(workbench.page, finalScreenshot).catch(() => undefined);
  if (workbench.errors.length) console.log(`# e2e: page errors:\n${workbench.errors.slice(0, 20).join('\n')}`);
  await workbench.stop();
}
