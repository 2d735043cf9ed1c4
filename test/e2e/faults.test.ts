// Its size: one suite of thirty faults on one code-server and one stack, each case set up, seen and undone in turn.
/**
 * Issue 15's fault suite, through the UI: a real VS Code (code-server) running the packaged extension, driven by
 * playwright-core in headless Chromium, one stack (real collector and Prometheus, Loki and Grafana test doubles,
 * local images) and the real Claude Code CLI against the scripted Messages API. Each case sets up a fault where a
 * user meets it, asserts what the user sees (status bar text and tooltip, notification, sidebar, Settings editor),
 * that the extension still answers a command afterwards, and that nothing is lost (today's cost in the status bar
 * the same before and after; Loki's events where a Loki container goes), and undoes the fault in a `finally`.
 *
 * One code-server and one stack serve every case; its Remote (Machine) settings file is written whole per case (the
 * stack's ports and test images are set there, as on the machine the stack runs on); the User settings.json is edited
 * in the workbench's editor, since code-server does not read an outside write of it. code-server runs without the
 * capabilities that let root ignore file permissions (setpriv), so that a socket of mode 000 denies the extension
 * as /var/run/docker.sock denies a user outside the `docker` group. The engine cases stop the dockerd this run uses
 * and start it again with scripts/ci/start-dockerd.sh, as CI started it; the suite leaves it running.
 *
 * README.md's "Fault suite: what you see" lists every case with its message, cause and fix.
 * Screenshots: test-results/screenshots/faults-*.png.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Frame, Locator, Page } from 'playwright-core';
import { DEFAULTS } from '../../src/config';
import { usd } from '../../src/format';
import { telemetryEnvironment } from '../../src/terminal/environment';
import { connectDocker, ensureTestImages, removeProject, requireDocker, type TestImages } from '../support/docker';
import { freePort, holdPort } from '../support/ports';
import { escapeRegExp } from '../support/regexp';
import { waitFor } from '../support/wait';
import { claudeVersion, createClaudeHome, runClaude, type ClaudeHome } from '../support/e2e/claude';
import {
  clearNotifications,
  closeWorkbench,
  dismissDialogs,
  ensureVsix,
  hoverStatusBarItem,
  installCodeServer,
  notificationTexts,
  notificationToast,
  openWorkbench,
  openWorkbenchWindow,
  runCommand,
  screenshot,
  startCodeServer,
  statusBarTexts,
  waitForFrameText,
  waitForNotification,
  waitForStatusBarText,
  waitForWorkbench,
  type CodeServer,
  type Workbench,
} from '../support/e2e/codeServer';
import {
  HTML_ERROR,
  SettingsFile,
  closeModalEditor,
  collectorAcceptedPoints,
  editUserSettingsJson,
  WITHOUT_FILE_PERMISSION_OVERRIDE,
  engineProcess,
  ensureEngine,
  extensionHostPids,
  extensionLogTail,
  installedComposeFile,
  lokiEventCount,
  lokiReportedCost,
  notificationCenterTexts,
  recordStatusBar,
  startBackendStandIn,
  startEngine,
  startRegistryStandIn,
  statusBarCost,
  stopEngine,
  unreadableSocket,
  until,
  type BackendMode,
  type BackendStandIn,
  type EngineProcess,
  type RegistryStandIn,
} from '../support/e2e/faults';
import { mark, seconds } from '../support/e2e/marks';
import { startMessagesApi, type MessagesApi, type Turn } from '../support/e2e/messagesApi';
import {
  EXTENSION_PROJECT,
  PROJECT_LABEL,
  clearLeftoverTestStack,
  stackContainer,
  stackMachineSettings,
} from '../support/e2e/stack';

const START = 'Claude Telemetry: Start Telemetry Stack';
const STOP = 'Claude Telemetry: Stop Telemetry Stack';
const REFRESH = 'Claude Telemetry: Refresh Dashboard';
const DASHBOARD = 'Claude Telemetry: Show Dashboard';
const WRITE_CLAUDE_SETTINGS = 'Claude Telemetry: Write Telemetry Settings to Claude Code…';
const PROMETHEUS_URL = 'claudeTelemetry.backend.prometheusUrl';

const costPattern = (cost: string): RegExp => new RegExp(`${escapeRegExp(cost)}(?!\\d)`);
const dollars = (cost: string): number => Number(cost.replace(/[$,]/g, ''));
/** Prints what the user was shown, for the README's table. */
const said = (text: string): void => mark(`shown: ${text.replace(/\s+/g, ' ').slice(0, 600)}`);

/** The extension's services and the test image each runs. */
const SERVICE_ROLE = {
  'otel-collector': 'collector',
  prometheus: 'prometheus',
  loki: 'loki',
  grafana: 'grafana',
} as const;

/** What the suite's first test opens, for every case. */
interface Opened {
  server: CodeServer;
  workbench: Workbench;
  /** The extension host's HOME, and the CLI's. */
  home: ClaudeHome;
  /** Between the extension and the stack's Prometheus when claudeTelemetry.backend.prometheusUrl points at it. */
  backend: BackendStandIn;
  registry: RegistryStandIn;
  /** code-server's Remote (Machine) settings: the stack's settings and each case's. */
  settings: SettingsFile;
  images: TestImages;
}

describe('fault suite (issue 15): every fault where a user meets it, in code-server', { timeout: 20 * 60_000 }, () => {
  let opened: Opened | undefined;
  /** What to close after the suite, in reverse order, as the first test opens it. */
  const closing: (() => unknown)[] = [];
  /** The dockerd this run stops and starts again; found when an engine case first needs it. */
  let engine: EngineProcess | undefined;
  const ports = { otlpGrpc: 0, otlpHttp: 0, collectorMetrics: 0, prometheus: 0, loki: 0, grafana: 0 };
  /** Today's cost as the status bar shows it once the first session reported: what every case keeps. */
  let today: string | undefined;
  /** What a case saw that a later check of it asserts on. */
  const seen: Record<string, string> = {};
  const timings: Record<string, string> = {};

  const the = (): Opened => {
    assert.ok(opened, 'code-server did not open (see the first test of this suite)');
    return opened;
  };
  const page = (): Page => the().workbench.page;
  const standIn = (): BackendStandIn => the().backend;
  const userSettings = (): SettingsFile => the().settings;
  /** The running dockerd, read afresh (a restart changes its pid); the last one read is kept to start it again. */
  const theEngine = (): EngineProcess => (engine = engineProcess());
  const todayCost = (): string => {
    assert.ok(today, 'no session reported a cost yet (see the seed case)');
    return today;
  };
  const waitForCost = (p: Page, timeoutMs = 60_000): Promise<string> =>
    waitForStatusBarText(p, costPattern(todayCost()), timeoutMs);

  /** Every container of the stack runs the image of the baseline settings and none is down or unhealthy. */
  const stackHealthy = async (): Promise<boolean> => {
    const containers = await connectDocker().listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${PROJECT_LABEL}=${EXTENSION_PROJECT}`] }),
    });
    return (
      containers.length === 4 &&
      containers.every((c) => {
        const role = SERVICE_ROLE[c.Labels['com.docker.compose.service'] as keyof typeof SERVICE_ROLE];
        return c.State === 'running' && !/unhealthy|starting/.test(c.Status) && c.Image === the().images[role];
      })
    );
  };

  /** Back to the baseline: the settings, the engine, the stand-in, every container of the stack, today's cost shown. */
  const restoreStack = async (): Promise<void> => {
    const p = page();
    standIn().mode = 'proxy';
    userSettings().write();
    engine = await ensureEngine(engine);
    await dismissDialogs(p);
    await closeModalEditor(p);
    await p.keyboard.press('Escape');
    const shown = (timeoutMs: number): Promise<boolean> =>
      waitForStatusBarText(p, today ? costPattern(today) : /\$\d+\.\d\d/, timeoutMs).then(
        () => true,
        () => false,
      );
    if (await stackHealthy()) {
      if (await shown(5_000)) return;
      await runCommand(p, REFRESH);
      if (await shown(20_000)) return;
    }
    await runCommand(p, START);
    if (!(await shown(150_000))) throw new Error("the stack did not come back to today's cost after Start");
  };

  /**
   * One case: notifications cleared first (unless `keepNotifications`), a screenshot when it fails, `restore`
   * (default: the whole baseline) always after, its time printed.
   */
  const fault = (
    title: string,
    body: (p: Page) => Promise<void>,
    options: { restore?: () => Promise<void>; keepNotifications?: boolean } = {},
  ): void => {
    it(title, { timeout: 5 * 60_000 }, async () => {
      const p = page();
      const startedAt = Date.now();
      const number = /^\d+\w?/.exec(title)?.[0] ?? title.slice(0, 12);
      if (!options.keepNotifications) await clearNotifications(p).catch(() => undefined);
      let failure: unknown;
      try {
        await body(p);
      } catch (error) {
        failure = error;
        await screenshot(p, `faults-${number}-failed`).catch(() => undefined);
        // In the error itself: the run's summary repeats each failure at its end, which is what a CI log keeps.
        if (error instanceof Error) {
          const log = `\nthe extension's log, its end:\n${extensionLogTail(the().server.userDataDir, 30)}`;
          error.message += log;
          // An assertion's stack is made with its message: the run's summary prints the stack.
          if (!error.stack?.includes(log)) error.stack = `${error.stack ?? ''}${log}`;
        }
      }
      try {
        await (options.restore ?? restoreStack)();
      } catch (error) {
        console.log(`# faults: restoring after case ${number} failed: ${String(error)}`);
        await screenshot(p, `faults-${number}-restore-failed`).catch(() => undefined);
        failure ??= error;
      }
      timings[number] = `${seconds(Date.now() - startedAt)}s`;
      mark(`case ${number} in ${timings[number]}`);
      if (failure) throw failure;
    });
  };

  /** Runs the real CLI once (print mode) against a scripted API, reporting to the stack; returns what it says it cost. */
  const runSession = async (
    script: Turn[],
    prompt: string,
    whileRunning?: (api: MessagesApi) => Promise<void>,
  ): Promise<number> => {
    const { home } = the();
    const api = await startMessagesApi(script, { log: (line) => console.log(`# ${line}`) });
    try {
      // The variables the extension gives a terminal (src/terminal/environment.ts), at its default pace.
      const { metricExportIntervalMs, logsExportIntervalMs, logUserPrompts, logToolDetails } = DEFAULTS.terminal;
      const telemetry = telemetryEnvironment({
        endpoint: `http://127.0.0.1:${ports.otlpHttp}`,
        metricExportIntervalMs,
        logsExportIntervalMs,
        logUserPrompts,
        logToolDetails,
        workspaceName: 'cct-e2e-faults',
        repository: undefined,
        existingResourceAttributes: undefined,
      });
      const run = runClaude(prompt, {
        apiUrl: api.url,
        home,
        telemetry,
        args: ['--output-format', 'json'],
        timeoutMs: 150_000,
      });
      try {
        await whileRunning?.(api);
      } catch (error) {
        await run.catch(() => undefined);
        throw error;
      }
      const result = await run;
      const output = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as {
        total_cost_usd?: number;
        is_error?: boolean;
      };
      assert.equal(result.code, 0, `claude -p failed:\n${result.stdout}\n${result.stderr}`);
      assert.ok(
        typeof output.total_cost_usd === 'number' && output.total_cost_usd > 0,
        `total_cost_usd: ${result.stdout.slice(0, 300)}`,
      );
      return output.total_cost_usd;
    } finally {
      await api.close();
    }
  };

  /** Presses "Open Settings" on the toast matching `text`: the Settings editor shows `setting` on the tab `tab` names
   * (by default the Remote tab, where the suite sets the stack's settings). */
  const openSettingsFrom = async (
    p: Page,
    text: RegExp,
    setting: string,
    tab = /^Remote/,
    notification = notificationToast(p, text),
  ): Promise<void> => {
    await notification.getByRole('button', { name: 'Open Settings' }).click();
    const editor = p.locator('.settings-editor').first();
    await editor
      .locator(`.setting-item-contents[data-key="${setting}"]`)
      .first()
      .waitFor({ state: 'visible', timeout: 20_000 });
    await screenshot(p, `faults-settings-${setting}`);
    assert.match(
      await editor.locator('.settings-tabs-widget .action-label.checked').first().innerText(),
      tab,
      'the tab where the value is set',
    );
    await closeModalEditor(p);
  };

  /** The status bar's item matching `item` hovered: its tooltip's text. */
  const tooltip = async (p: Page, item: RegExp, text: RegExp): Promise<string> => {
    const hover = await hoverStatusBarItem(p, item, text);
    const shown = await hover.innerText();
    said(shown);
    await p.mouse.move(700, 300);
    return shown;
  };

  /** The sidebar open; waits until it shows `pattern`. */
  const sidebarShows = async (
    p: Page,
    pattern: RegExp,
    timeoutMs = 40_000,
  ): Promise<{ frame: Frame; text: string }> => {
    await runCommand(p, DASHBOARD);
    const { frame } = await waitForFrameText(p, pattern, timeoutMs);
    return { frame, text: await frame.evaluate(() => document.body.innerText) };
  };

  /** The Loki of the stack answers with the events it holds. */
  const lokiEvents = (): Promise<number> => waitFor("Loki's events", () => lokiEventCount(ports.loki), 60_000);

  it('opens code-server (stack settings in Remote settings, no root file-permission override) with the stack off', async () => {
    claudeVersion();
    await requireDocker();
    assert.ok(
      existsSync('/usr/bin/setpriv') || existsSync('/bin/setpriv'),
      "setpriv (util-linux) runs code-server without root's file-permission override",
    );
    for (const key of Object.keys(process.env)) {
      if (/^(OTEL_|CLAUDE_CODE_|ANTHROPIC_)/.test(key) || key === 'CLAUDE_CONFIG_DIR') delete process.env[key];
    }
    const [codeServer, vsix, images] = await Promise.all([installCodeServer(), ensureVsix(), ensureTestImages()]);
    const leftover = await clearLeftoverTestStack();
    if (leftover.length) mark(`removed a leftover test stack: ${leftover.join(', ')}`);
    closing.push(async () =>
      mark(
        `cleaned up ${(await removeProject(EXTENSION_PROJECT).catch((error: unknown) => [`failed: ${String(error)}`])).join(', ') || 'nothing'}`,
      ),
    );
    for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
    const home = createClaudeHome('cct-e2e-faults-home-');
    closing.push(() => home.remove());
    const [backend, registry] = await Promise.all([
      startBackendStandIn(`http://127.0.0.1:${ports.prometheus}`),
      startRegistryStandIn(),
    ]);
    closing.push(
      () => backend.close(),
      () => registry.close(),
    );
    const stack = stackMachineSettings(images, ports);
    const server = await startCodeServer({
      codeServer,
      vsix,
      workspace: home.workDir,
      env: { HOME: home.home },
      machineSettings: stack,
      launchPrefix: WITHOUT_FILE_PERMISSION_OVERRIDE,
    });
    closing.push(() => server.stop());
    mark(
      `code-server on ${server.origin}, HOME ${home.home}, Prometheus stand-in ${backend.url}, registry stand-in ${registry.host}`,
    );
    const workbench = await openWorkbench(server.url);
    closing.push(() => closeWorkbench(workbench, 'faults-99-final'));
    await waitForStatusBarText(workbench.page, /Telemetry off/, 60_000);
    opened = {
      server,
      workbench,
      home,
      backend,
      registry,
      settings: new SettingsFile(join(server.userDataDir, 'Machine', 'settings.json'), stack),
      images,
    };
  });

  after(async () => {
    await ensureEngine(engine).catch((error: unknown) =>
      console.log(`# faults: the engine could not be started again: ${String(error)}`),
    );
    for (const close of closing.reverse())
      await Promise.resolve(close()).catch((error: unknown) => console.log(`# faults: cleanup: ${String(error)}`));
    console.log(`# faults timings: ${JSON.stringify(timings)}`);
  });

  // --- starting: ports, the first session -------------------------------------------------------------------------

  fault(
    '1. a port taken by another program at Start: the message names the port, the service and the setting; Open Settings shows it',
    async (p) => {
      const holder = await holdPort(ports.loki);
      try {
        await runCommand(p, START);
        const text = new RegExp(
          `Port ${ports.loki} on 127\\.0\\.0\\.1, wanted by service "loki", is already in use by another program`,
        );
        const shown = await waitForNotification(p, text, 60_000);
        said(shown);
        assert.match(
          shown,
          /Stop what uses it or change the .?claudeTelemetry\.stack\.ports\.loki.? setting \(variable CCT_LOKI_PORT\), then start again/,
        );
        await screenshot(p, 'faults-01-port-taken');
        await waitForStatusBarText(p, /Telemetry off/, 10_000);
        // The start stopped before it made anything: no container of the stack exists.
        const made = await connectDocker().listContainers({
          all: true,
          filters: JSON.stringify({ label: [`${PROJECT_LABEL}=${EXTENSION_PROJECT}`] }),
        });
        assert.deepEqual(
          made.map((c) => c.Names[0]),
          [],
        );
        await openSettingsFrom(p, text, 'claudeTelemetry.stack.ports.loki');
      } finally {
        await holder.close();
      }
      // The program gone, the same Start works.
      await runCommand(p, START);
      await waitForStatusBarText(p, /\$0\.00/, 180_000);
    },
  );

  fault('seed: a session of the real CLI reaches the status bar (the cost every case keeps)', async (p) => {
    const cost = await runSession(
      [{ kind: 'text', text: 'Hello from the scripted API.', usage: { input_tokens: 60_000, output_tokens: 800 } }],
      'Say hello.',
    );
    today = usd(cost);
    mark(`the CLI says the session cost ${cost} -> ${today}`);
    await waitForCost(p, 120_000);
    await sidebarShows(p, new RegExp(`${escapeRegExp(today)}[\\s\\S]*Today|Today[\\s\\S]*${escapeRegExp(today)}`));
  });

  // --- containers down ----------------------------------------------------------------------------------------

  fault(
    '3. a container killed (docker kill loki): the status bar names it on its own; Start brings it back with its events',
    async (p) => {
      const events = await lokiEvents();
      await (await stackContainer('loki')).kill();
      await waitForStatusBarText(p, /Telemetry: loki/, 30_000);
      assert.match(
        await tooltip(p, /Telemetry: loki/, /is not healthy/),
        /loki is not healthy: Telemetry stack degraded: loki exited/,
      );
      await screenshot(p, 'faults-03-loki-killed');
      await runCommand(p, START);
      await waitForCost(p, 120_000);
      assert.equal(await lokiEvents(), events, 'Loki keeps its events on its volume');
    },
  );

  fault(
    "23. Loki down and back (docker stop, docker start): named while down, today's cost again by itself",
    async (p) => {
      const events = await lokiEvents();
      const loki = await stackContainer('loki');
      await loki.stop();
      await waitForStatusBarText(p, /Telemetry: loki/, 30_000);
      await loki.start();
      await waitForCost(p, 90_000);
      assert.equal(await lokiEvents(), events);
    },
  );

  fault(
    '24. the collector down and back: the status bar names otel-collector, then returns to the cost by itself',
    async (p) => {
      const collector = await stackContainer('otel-collector');
      await collector.stop();
      await waitForStatusBarText(p, /Telemetry: otel-collector/, 30_000);
      assert.match(await tooltip(p, /Telemetry: otel-collector/, /is not healthy/), /otel-collector is not healthy/);
      await collector.start();
      await waitForCost(p, 90_000);
    },
  );

  fault(
    '4. Prometheus stopped: the status bar and the sidebar name prometheus; Start brings it back with its data',
    async (p) => {
      await (await stackContainer('prometheus')).stop();
      await waitForStatusBarText(p, /Telemetry: prometheus/, 30_000);
      assert.match(
        await tooltip(p, /Telemetry: prometheus/, /is not healthy/),
        /prometheus is not healthy: Telemetry stack degraded: prometheus exited/,
      );
      await sidebarShows(p, /The telemetry stack is degraded \(prometheus\)/);
      await screenshot(p, 'faults-04-prometheus-stopped');
      await runCommand(p, START);
      await waitForCost(p, 120_000);
    },
  );

  // --- files and settings -------------------------------------------------------------------------------------

  fault(
    '5. a broken ~/.claude/settings.json at "Write Telemetry Settings to Claude Code…": where it is broken, and the file untouched',
    async (p) => {
      const file = join(the().home.configDir, 'settings.json');
      // An edit that lost the brace closing "env".
      const broken = '{\n  "env": {\n    "DISABLE_TELEMETRY": "0"\n\n  "model": "opus"\n}\n';
      writeFileSync(file, broken);
      try {
        await runCommand(p, WRITE_CLAUDE_SETTINGS);
        const shown = await waitForNotification(p, /is not valid JSON/, 20_000);
        said(shown);
        assert.match(
          shown,
          new RegExp(
            `${escapeRegExp(file)} is not valid JSON \\(CommaExpected at line 5, column 3\\)\\. Fix the file and try again; it was not changed\\.`,
          ),
        );
        assert.equal(readFileSync(file, 'utf8'), broken, 'the file is unchanged');
        assert.ok(!existsSync(`${file}.bak`), 'no backup: nothing was written');
        await runCommand(p, REFRESH);
        await waitForCost(p, 30_000);
      } finally {
        rmSync(file, { force: true });
      }
    },
  );

  fault(
    '6. an invalid setting (stack.ports.prometheus "abc" in the Remote settings): one warning naming it; Open Settings shows it',
    async (p) => {
      userSettings().write({ 'claudeTelemetry.stack.ports.prometheus': 'abc' });
      const text =
        /claudeTelemetry\.stack\.ports\.prometheus: "abc" is not a whole number from 1 to 65535; using 9090\./;
      await waitForNotification(p, text, 30_000);
      await openSettingsFrom(p, text, 'claudeTelemetry.stack.ports.prometheus');
      // Refreshes go on meanwhile: the warning (gone with its Open Settings) does not come again.
      await sleep(6_000);
      assert.deepEqual(
        (await notificationCenterTexts(p)).filter((t) => text.test(t)),
        [],
        'one warning',
      );
      userSettings().write();
      await waitForCost(p, 60_000);
      await runCommand(p, REFRESH);
      await waitForCost(p, 30_000);
    },
  );

  // The Remote settings hold the ports here, and win over User settings as VS Code orders them: a stack setting
  // they do not hold is set in User settings.
  fault(
    '6b. an invalid stack setting in User settings of code-server (stack.retentionDays -1, edited in settings.json): the warning, Open Settings on the User tab',
    async (p) => {
      const file = join(the().server.userDataDir, 'User', 'settings.json');
      const before = await editUserSettingsJson(p, file, (user) => ({
        ...user,
        'claudeTelemetry.stack.retentionDays': -1,
      }));
      try {
        const text = /claudeTelemetry\.stack\.retentionDays: -1 is not a whole number from 1 to 3650; using 30\./;
        // The Escape that closes settings.json hides the toasts on screen: a warning shown before it is in the
        // notification center, where the user finds it, with its button.
        const toast = await waitForNotification(p, text, 5_000).catch(() => undefined);
        let notification = notificationToast(p, text);
        if (toast === undefined) {
          assert.ok(
            (await notificationCenterTexts(p)).some((t) => text.test(t)),
            'the warning, in the notification center',
          );
          await runCommand(p, 'Notifications: Show Notifications');
          notification = p.locator('.notifications-center .notification-list-item').filter({ hasText: text }).first();
          await notification.waitFor({ state: 'visible', timeout: 5_000 });
          const button = notification.getByRole('button', { name: 'Open Settings' });
          // A collapsed entry shows its buttons once expanded.
          if (!(await button.isVisible().catch(() => false))) await notification.click();
        }
        await openSettingsFrom(p, text, 'claudeTelemetry.stack.retentionDays', /^User/, notification);
      } finally {
        await editUserSettingsJson(p, file, () => before);
      }
    },
  );

  // --- the engine's address -----------------------------------------------------------------------------------

  /**
   * docker.host set to `host`: Start's message matches `expected`. The stack the extension reads runs on meanwhile, so
   * the status bar keeps today's cost; with the setting undone, the extension answers again.
   */
  const engineAt = async (p: Page, host: string, expected: RegExp): Promise<string> => {
    userSettings().write({ 'claudeTelemetry.docker.host': host });
    await sleep(1_000);
    await runCommand(p, START);
    const shown = await waitForNotification(p, expected, 30_000);
    said(shown);
    assert.ok(
      await notificationToast(p, expected).getByRole('button', { name: 'Show Logs' }).isVisible(),
      'the message offers the logs',
    );
    // What the status bar says after the failed start (16b asserts on it).
    await sleep(3_000);
    seen.afterFailedStart = (await statusBarTexts(p)).find((t) => /Telemetry|\$\d|engine/.test(t)) ?? '';
    userSettings().write();
    await runCommand(p, REFRESH);
    await waitForCost(p, 30_000);
    return shown;
  };

  fault(
    '16. the engine\'s socket missing (docker.host unix:///nonexistent.sock): "not running", where, and the setting',
    async (p) => {
      const shown = await engineAt(
        p,
        'unix:///nonexistent.sock',
        /The container engine at unix:\/\/\/nonexistent\.sock/,
      );
      assert.match(
        shown,
        /at unix:\/\/\/nonexistent\.sock \(the claudeTelemetry\.docker\.host setting\) is not running \(ENOENT: connect ENOENT \/nonexistent\.sock\)\. Start Docker \(or Podman \/ Colima\) and try again/,
      );
      assert.match(shown, /Open Settings/);
    },
  );

  it('16b. after a Start that found no engine, the status bar is not left on "Telemetry starting"', () => {
    assert.ok(seen.afterFailedStart !== undefined, 'case 16 ran');
    assert.doesNotMatch(seen.afterFailedStart, /Telemetry starting/, seen.afterFailedStart);
  });

  fault(
    "17. Podman's socket missing (docker.host at a Podman socket path): the message names the socket and Podman",
    async (p) => {
      const socket = '/run/user/4242/podman/podman.sock';
      assert.ok(!existsSync(socket), `${socket} must not exist for this case`);
      const shown = await engineAt(p, `unix://${socket}`, /podman\.sock/);
      assert.match(
        shown,
        new RegExp(
          `The container engine at unix://${escapeRegExp(socket)} \\(the claudeTelemetry\\.docker\\.host setting\\) is not running \\(ENOENT[^)]*\\)\\. Start Docker \\(or Podman / Colima\\)`,
        ),
      );
    },
  );

  fault(
    '15. permission denied on the engine\'s socket (mode 000, no root override): "Permission denied" and the docker group',
    async (p) => {
      const socket = await unreadableSocket();
      try {
        const shown = await engineAt(p, `unix://${socket.path}`, /Permission denied on the Docker socket/);
        assert.match(
          shown,
          new RegExp(
            `Permission denied on the Docker socket unix://${escapeRegExp(socket.path)} \\(the claudeTelemetry\\.docker\\.host setting\\) \\(EACCES`,
          ),
        );
        assert.match(shown, /sudo usermod -aG docker \$USER/);
      } finally {
        await socket.close();
      }
    },
  );

  fault(
    "15b. permission denied and no stack to read (a user outside the docker group): the status bar's tooltip names it",
    async (p) => {
      const socket = await unreadableSocket();
      try {
        // Nothing answers on the Prometheus port, as before the user could ever start the stack.
        userSettings().write({
          'claudeTelemetry.docker.host': `unix://${socket.path}`,
          'claudeTelemetry.stack.ports.prometheus': await freePort(),
        });
        const item = /Container engine: permission denied/;
        await waitForStatusBarText(p, item, 30_000);
        const tip = await tooltip(p, item, /Claude Code Telemetry/);
        assert.match(
          tip,
          new RegExp(`Permission denied on the Docker socket unix://${escapeRegExp(socket.path)}`),
          `the tooltip:\n${tip}`,
        );
        assert.match(tip, /add your user to the .?docker.? group/, `the tooltip:\n${tip}`);
        assert.doesNotMatch(tip, /does not answer/);
        await sidebarShows(p, /The container engine refuses this user/);
      } finally {
        await socket.close();
      }
    },
  );

  // --- images -------------------------------------------------------------------------------------------------

  /** images.loki set to `image`: Start's message matches `expected`; the running stack is untouched. */
  const lokiImage = async (p: Page, image: string, expected: RegExp): Promise<string> => {
    const before = (await (await stackContainer('loki')).inspect()).Id;
    userSettings().write({ 'claudeTelemetry.stack.images.loki': image });
    await runCommand(p, START);
    const shown = await waitForNotification(p, expected, 90_000);
    said(shown);
    await screenshot(p, 'faults-image-missing');
    assert.match(shown, /point the .?claudeTelemetry\.stack\.images\.loki.? setting/);
    const after = await (await stackContainer('loki')).inspect();
    assert.equal(after.Id, before, 'the loki container is the same');
    assert.equal(after.State.Running, true);
    await waitForCost(p, 30_000);
    return shown;
  };

  fault(
    '18. an image missing, no registry reachable: "could not be reached", load the image, the setting',
    async (p) => {
      // A registry address where nothing answers, as on an air-gapped machine.
      const image = `127.0.0.1:${await freePort()}/cct-faults/loki:3.4.6`;
      const shown = await lokiImage(p, image, /Could not pull image/);
      assert.match(
        shown,
        new RegExp(
          `Could not pull image "${escapeRegExp(image)}" for service "loki": the registry could not be reached\\.`,
        ),
      );
      assert.match(shown, /load the image into your engine \(docker load\)/);
    },
  );

  fault(
    '19. an image missing from a registry that answers: "does not exist (or needs a login)" with the engine\'s words',
    async (p) => {
      const { registry } = the();
      const image = `${registry.host}/cct-faults/loki:missing`;
      const shown = await lokiImage(p, image, /Could not pull image/);
      assert.match(
        shown,
        new RegExp(
          `Could not pull image "${escapeRegExp(image)}" for service "loki": the image or tag does not exist \\(or needs a login\\)\\. The engine said: "[^"]*manifest unknown`,
        ),
      );
      assert.match(shown, /run .?docker login.? if it is private/);
      assert.ok(
        registry.requests.some((r) => r.includes('/manifests/missing')),
        `the engine asked the registry: ${registry.requests.join(', ')}`,
      );
    },
  );

  fault(
    "20. a container exiting at start (loki's image a program that refuses to run): the service, the exit and its log",
    async (p) => {
      const events = await lokiEvents();
      // The Grafana double in loki's place exits at once: it has no admin password.
      userSettings().write({ 'claudeTelemetry.stack.images.loki': the().images.grafana });
      await runCommand(p, START);
      const shown = await waitForNotification(p, /Service "loki" (exited with code|keeps exiting)/, 90_000);
      said(shown);
      assert.match(shown, /Last \d+ log lines of "loki":.*GF_SECURITY_ADMIN_PASSWORD is not set/);
      assert.match(shown, /"Restart Telemetry Stack" retries/);
      await waitForStatusBarText(p, /Telemetry: loki/, 30_000);
      await screenshot(p, 'faults-20-exited');
      userSettings().write();
      await runCommand(p, START);
      await waitForCost(p, 120_000);
      assert.equal(await lokiEvents(), events, 'the recreated loki has its events: the volume was kept');
    },
  );

  // --- a backend that answers wrongly, slowly or not at all (claudeTelemetry.backend.prometheusUrl) --------------
  // Grafana stays unhealthy meanwhile (case 21): its start waits for 20 failed health checks, while these run. Their
  // settings drop 21a's image, so the stack the window follows is replaced mid-start: 21b needs the start's end to
  // read the state of the stack the settings name now.

  let unhealthyStartAt = 0;
  fault(
    '21a. a container staying unhealthy: Start waits on grafana (the Loki double in its place answers no health check)',
    async (p) => {
      userSettings().write({ 'claudeTelemetry.stack.images.grafana': the().images.loki });
      await runCommand(p, START);
      unhealthyStartAt = Date.now();
      await waitForStatusBarText(p, /Telemetry starting/, 30_000);
      assert.match(await tooltip(p, /Telemetry starting/, /Starting the stack/), /Starting the stack/);
    },
    { restore: async () => undefined },
  );

  /** The extension reads Prometheus at the stand-in, which passes everything on; the sidebar open; today's cost. */
  const useStandIn = async (p: Page): Promise<void> => {
    standIn().mode = 'proxy';
    userSettings().write({ [PROMETHEUS_URL]: standIn().url });
    await runCommand(p, DASHBOARD);
    await runCommand(p, REFRESH);
    await waitForCost(p, 60_000);
  };
  const backToStandIn = async (): Promise<void> => {
    const p = page();
    await dismissDialogs(p);
    await closeModalEditor(p);
    await p.keyboard.press('Escape');
    await useStandIn(p);
  };

  /**
   * The stand-in answers as `mode`: the status bar says `status`, its tooltip and the sidebar say `cause`; `inspect`
   * looks at the tooltip and the sidebar while they show it. Then the stand-in answers again and Refresh brings the
   * cost back.
   */
  const badBackend = async (
    p: Page,
    mode: BackendMode,
    status: RegExp,
    cause: RegExp,
    inspect?: (hover: Locator, sidebar: Frame) => Promise<void>,
  ): Promise<void> => {
    await useStandIn(p);
    standIn().mode = mode;
    await runCommand(p, REFRESH);
    await waitForStatusBarText(p, status, 40_000);
    const hover = await hoverStatusBarItem(p, status, cause);
    const tip = await hover.innerText();
    said(tip);
    const { frame } = await waitForFrameText(p, new RegExp(`Could not load telemetry[\\s\\S]*${cause.source}`), 40_000);
    await inspect?.(hover, frame);
    await screenshot(p, `faults-backend-${mode}`);
    await p.mouse.move(700, 300);
    assert.match(
      tip,
      new RegExp(`Prometheus at ${escapeRegExp(standIn().url)}/api/v1/\\w+`),
      `the tooltip names where:\n${tip}`,
    );
    standIn().mode = 'proxy';
    await runCommand(p, REFRESH);
    await waitForCost(p, 40_000);
  };
  const backendCase = (title: string, body: (p: Page) => Promise<void>): void =>
    fault(title, body, { restore: backToStandIn, keepNotifications: true });

  backendCase(
    '28. settings.json edited in the editor while the extension runs (refreshIntervalSeconds 8): applied, no error',
    async (p) => {
      await useStandIn(p);
      const file = join(the().server.userDataDir, 'User', 'settings.json');
      const before = await editUserSettingsJson(p, file, (user) => ({
        ...user,
        'claudeTelemetry.refreshIntervalSeconds': 8,
      }));
      try {
        const savedAt = Date.now();
        // The refreshes' pace: each reads /api/v1/rules once; two in a row are 8 s apart now.
        const rules = (): number[] =>
          standIn()
            .requests.filter((r) => r.path === '/api/v1/rules' && r.at > savedAt + 500)
            .map((r) => r.at);
        await until('two refreshes at the new pace', () => rules().length >= 2, 30_000);
        const [first, second] = rules();
        mark(`refreshes ${seconds(second! - first!)} s apart`);
        assert.ok(second! - first! >= 7_000, `refreshes ${second! - first!} ms apart`);
        assert.deepEqual(
          (await notificationTexts(p)).filter((t) => /claudeTelemetry/.test(t)),
          [],
          'no warning',
        );
        await waitForCost(p, 10_000);
      } finally {
        await editUserSettingsJson(p, file, () => before);
      }
    },
  );

  backendCase(
    '7. a backend answering an HTML page: "Prometheus: bad answer", the login page named as the cause',
    async (p) => {
      await badBackend(p, 'html', /Prometheus: bad answer/, /answered with an HTML page instead of JSON/);
    },
  );

  backendCase('8. a backend answering garbage: "Prometheus: bad answer", "not valid JSON"', async (p) => {
    await badBackend(p, 'garbage', /Prometheus: bad answer/, /answered with a body that is not valid JSON/);
  });

  backendCase('9. a backend answering JSON of the wrong shape: "Prometheus: bad answer", what was off', async (p) => {
    await badBackend(p, 'shape', /Prometheus: bad answer/, /sent an unexpected response \(/);
  });

  backendCase(
    '10. a backend answering a body over 16 MiB: "Prometheus: bad answer", "larger than 16 MiB"',
    async (p) => {
      await badBackend(p, 'huge', /Prometheus: bad answer/, /sent a response larger than 16 MiB/);
    },
  );

  backendCase('11a. a backend accepting the connection and closing it: "Prometheus unreachable"', async (p) => {
    await badBackend(p, 'close', /Prometheus unreachable/, /is unreachable \(connection failed/);
  });

  backendCase('11b. a backend never answering: "Prometheus unreachable", "did not answer within 10 s"', async (p) => {
    await badBackend(p, 'hang', /Prometheus unreachable/, /did not answer within 10 s/);
  });

  backendCase('12. a backend answering HTTP 500: "Prometheus: bad answer", its error and the next step', async (p) => {
    await badBackend(
      p,
      'http500',
      /Prometheus: bad answer/,
      /answered HTTP 500: unexpected error: the storage is closing\. Next: Prometheus had an internal problem/,
    );
  });

  backendCase(
    '14. HTML in an error message is shown as text: no element, no script, in the tooltip or the sidebar',
    async (p) => {
      const shownAs = escapeRegExp(HTML_ERROR);
      await badBackend(
        p,
        'htmlInError',
        /Prometheus: bad answer/,
        new RegExp(`answered HTTP 500: ${shownAs}`),
        async (hover, sidebar) => {
          for (const [where, root] of [
            ['tooltip', hover],
            ['sidebar', sidebar.locator('main')],
          ] as const) {
            assert.equal(await root.locator('img').count(), 0, `no image from the message in the ${where}`);
            assert.equal(
              await root.getByText('injected', { exact: true }).count(),
              0,
              `no element from the message in the ${where}`,
            );
          }
          for (const frame of p.frames()) {
            assert.equal(
              await frame
                .evaluate(() => (window as unknown as { __cctInjected?: number }).__cctInjected)
                .catch(() => undefined),
              undefined,
              'no script ran',
            );
          }
        },
      );
    },
  );

  backendCase('27. a slow backend (5 s an answer): no error, one refresh at a time, Refresh answers', async (p) => {
    await useStandIn(p);
    const backendStandIn = standIn();
    backendStandIn.mode = 'slow';
    backendStandIn.resetCounts();
    const from = Date.now();
    const bar = recordStatusBar(p);
    try {
      await sleep(8_000);
      // A user pressing Refresh twice while it is slow.
      await runCommand(p, REFRESH);
      await runCommand(p, REFRESH);
      await sleep(12_000);
    } finally {
      await bar.stop();
    }
    const got = backendStandIn.requests.filter((r) => r.at >= from);
    const refreshes = got.filter((r) => r.path === '/api/v1/rules').length;
    mark(
      `slow backend: ${got.length} requests in ${seconds(Date.now() - from)} s, ${refreshes} refreshes, at most ${backendStandIn.maxInFlight} requests and ${backendStandIn.maxRefreshesInFlight} refreshes at once`,
    );
    assert.ok(backendStandIn.maxRefreshesInFlight <= 1, 'one refresh at a time');
    assert.ok(refreshes >= 1 && refreshes <= 4, `${refreshes} refreshes in 20 s`);
    assert.deepEqual(
      bar.texts().filter((t) => /bad answer|unreachable|engine down/.test(t)),
      [],
      'no error shown',
    );
    await waitForCost(p, 20_000);
  });

  fault(
    '21b. …the start ends after the failed health checks: "Service "grafana" is unhealthy", the last check, the status bar',
    async (p) => {
      // Back to the stack's own Prometheus, which the degraded state is shown for; a code-server that has not applied
      // the Remote settings yet is told as such, not as a status bar without the state.
      const readsOwn = `Reading telemetry from Prometheus at http://127.0.0.1:${ports.prometheus} `;
      const connections = (): number => extensionLogTail(the().server.userDataDir, Infinity).split(readsOwn).length;
      const before = connections();
      userSettings().write();
      await until(
        "the window reads the stack's own Prometheus again (the Remote settings applied)",
        () => connections() > before,
        30_000,
      );
      const pattern =
        /Service "grafana" (is unhealthy: its health check failed \d+ times|did not become healthy within)/;
      // On screen, or (once the toast has left the screen) in the notification center.
      let looked = 0;
      const shown = await waitFor(
        "the start's end",
        async () => {
          const hit = (await notificationTexts(p)).find((t) => pattern.test(t));
          if (hit || Date.now() - looked < 5_000) return hit;
          looked = Date.now();
          return (await notificationCenterTexts(p)).find((t) => pattern.test(t));
        },
        Math.max(30_000, unhealthyStartAt + 180_000 - Date.now()),
      );
      mark(`grafana given up after ${seconds(Date.now() - unhealthyStartAt)} s`);
      assert.match(shown, /last check: "[^"]*(Connection refused|can't connect)/);
      await waitForStatusBarText(p, /Telemetry: grafana/, 30_000);
      assert.match(
        await tooltip(p, /Telemetry: grafana/, /is not healthy/),
        /grafana is not healthy: Telemetry stack degraded: grafana unhealthy/,
      );
      await screenshot(p, 'faults-21-unhealthy');
    },
    { keepNotifications: true },
  );

  // --- the collector restarted under a session; the extension host paused ------------------------------------

  /**
   * A session of the real CLI whose first answer is followed by an 18 s tool call, during which `restart` restarts
   * the collector; then the status bar must add exactly what the CLI says the session cost.
   */
  const collectorRestartedMidSession = async (
    p: Page,
    restart: (firstAnswered: () => boolean, sessionStart: number) => Promise<void>,
  ): Promise<void> => {
    const before = todayCost();
    const sessionStart = Date.now();
    let ran = false;
    try {
      const cost = await runSession(
        [
          // As Claude Code's turns go: the first writes the prompt cache, the next reads it (and costs less).
          {
            kind: 'tool_use',
            name: 'Bash',
            text: 'Running the slow build.',
            input: { command: 'sleep 18', description: 'Run the slow build' },
            usage: { input_tokens: 30_000, cache_creation_input_tokens: 20_000, output_tokens: 600 },
          },
          {
            kind: 'text',
            text: 'The build finished.',
            usage: { input_tokens: 2_000, cache_read_input_tokens: 50_000, output_tokens: 900 },
          },
        ],
        'Run the slow build.',
        (api) => {
          ran = true;
          return restart(
            () => api.requests.some((r) => r.role === 'main' && r.turn === 0 && r.endedAt !== undefined),
            sessionStart,
          );
        },
      );
      const expected = dollars(before) + cost;
      mark(`the CLI says the session cost ${cost}: expect ${usd(expected)} (${before} before)`);
      await waitFor(
        "today's cost with the session",
        async () => {
          const now = await statusBarCost(p);
          return now !== undefined && Math.abs(dollars(now) - expected) <= 0.0101 ? now : undefined;
        },
        60_000,
      ).catch(async (error: Error) => {
        throw new Error(
          `${error.message}: the status bar shows ${await statusBarCost(p)}, ${usd(expected)} expected (${before} + ${cost}); Claude Code's api_request events say ${await lokiReportedCost(ports.loki, sessionStart)}`,
        );
      });
    } finally {
      // Whatever the status bar shows now is what the next cases keep.
      await sleep(ran ? 5_000 : 0);
      today = (await statusBarCost(p)) ?? today;
    }
  };

  fault(
    '26. the collector restarted mid-session (between two answers) with the real CLI running: the status bar adds exactly what the CLI reports',
    async (p) => {
      await collectorRestartedMidSession(p, async (firstAnswered, sessionStart) => {
        // The first answer's cost, as Claude Code reports it, is in the status bar; the collector restarts while the tool runs.
        await until(
          'the first answer in the status bar',
          async () => {
            if (!firstAnswered()) return false;
            const reported = await lokiReportedCost(ports.loki, sessionStart);
            const shown = await statusBarCost(p);
            return (
              reported > 0.05 &&
              shown !== undefined &&
              Math.abs(dollars(shown) - dollars(todayCost()) - reported) <= 0.0101
            );
          },
          40_000,
        );
        await (await stackContainer('otel-collector')).restart({ t: 10 });
        mark('collector restarted');
      });
    },
  );

  fault(
    "26b. the collector restarted right after Claude Code's export, before Prometheus scraped it: the status bar still adds all the CLI reports",
    async (p) => {
      await collectorRestartedMidSession(p, async (firstAnswered) => {
        // Prometheus paused from the first answer on, so that it cannot scrape the export before the restart.
        await until('the first answer', firstAnswered, 40_000);
        const prometheus = await stackContainer('prometheus');
        await prometheus.pause();
        try {
          // An export that arrives from here on is never scraped before the restart.
          const accepted = await collectorAcceptedPoints(ports.collectorMetrics);
          const arrived = await waitFor(
            'an export of the session at the collector',
            async () => ((await collectorAcceptedPoints(ports.collectorMetrics)) > accepted ? Date.now() : undefined),
            15_000,
          );
          await (await stackContainer('otel-collector')).restart({ t: 10 });
          mark(
            `collector restarted ${seconds(Date.now() - arrived)} s after the export arrived, Prometheus paused meanwhile`,
          );
        } finally {
          await prometheus.unpause();
        }
      });
    },
  );

  fault(
    '31. a sleep/wake gap (the extension host stopped 30 s, then continued): the refresh recovers, no error, Refresh answers',
    async (p) => {
      const before = await tooltip(p, costPattern(todayCost()), /Updated /);
      const hosts = extensionHostPids(the().server.pid);
      assert.ok(hosts.length >= 1, "the window's extension host");
      const bar = recordStatusBar(p);
      hosts.forEach((pid) => process.kill(pid, 'SIGSTOP'));
      try {
        await sleep(30_000);
      } finally {
        hosts.forEach((pid) => process.kill(pid, 'SIGCONT'));
      }
      await runCommand(p, REFRESH);
      await waitForCost(p, 30_000);
      const after = await tooltip(p, costPattern(todayCost()), /Updated /);
      await bar.stop();
      assert.notEqual(
        /Updated (.*)/.exec(after)?.[1],
        /Updated (.*)/.exec(before)?.[1],
        'the tooltip shows a refresh after the gap',
      );
      assert.deepEqual(
        bar.texts().filter((t) => /bad answer|unreachable|engine down|Telemetry: /.test(t)),
        [],
        'no error shown',
      );
      const notes = await notificationTexts(p);
      mark(`notifications after the gap: ${JSON.stringify(notes)}`);
      assert.deepEqual(
        notes.filter((t) => /terminated|crashed/i.test(t)),
        [],
      );
    },
  );

  fault(
    '32. a new browser profile (code-server keeps secrets per profile): Start leaves Grafana as it is, Copy Grafana Admin Password copies the one Grafana accepts',
    async () => {
      const { workbench, server } = the();
      const grafanaBefore = (await (await stackContainer('grafana')).inspect()).Id;
      // Another profile: its own storage, so no Grafana password of this window's.
      const profile = await workbench.browser.newContext({
        viewport: { width: 1440, height: 900 },
        permissions: ['clipboard-read', 'clipboard-write'],
      });
      try {
        const other = await openWorkbenchWindow(profile, server.url, { errors: workbench.errors });
        await waitForCost(other, 60_000);
        await runCommand(other, START);
        await waitForNotification(other, /telemetry stack is running/, 90_000);
        assert.equal(
          (await (await stackContainer('grafana')).inspect()).Id,
          grafanaBefore,
          'Grafana is the same container',
        );
        // VS Code shows no toast for a fourth notification within 800 ms (its spam protection: it goes to the
        // notification center only). Start's progress, its message and the history offer came at once; a user's next
        // command comes later than that, and so does this one.
        await sleep(1000);
        await runCommand(other, 'Claude Telemetry: Copy Grafana Admin Password');
        await waitForNotification(other, /admin password is on the clipboard/, 20_000);
        const password = await other.evaluate(() => navigator.clipboard.readText());
        assert.ok(password.length >= 16, 'a generated password');
        const signedIn = await fetch(`http://127.0.0.1:${ports.grafana}/api/user`, {
          headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` },
        });
        assert.equal(signedIn.status, 200, 'Grafana accepts the copied password');
        await screenshot(other, 'faults-32-new-profile');
      } finally {
        await profile.close();
      }
    },
  );

  // --- starts that meet each other, a reload, the engine --------------------------------------------------------

  /** Sends a signal to a process that may have ended already. */
  const signal = (pid: number, name: NodeJS.Signals): void => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  /** Mid-start: Prometheus runs, Grafana (which waits for its health) not yet. */
  const prometheusStarted = (): Promise<true> =>
    until(
      'prometheus started',
      async () => (await (await stackContainer('prometheus')).inspect()).State.Running,
      60_000,
    );

  /** Stops the stack from the UI and waits until the status bar says so. */
  const stopStack = async (p: Page): Promise<void> => {
    await runCommand(p, STOP);
    await waitForStatusBarText(p, /Telemetry off/, 60_000);
    await clearNotifications(p);
  };

  fault(
    '13. two windows starting at once (Start in both within a second): both end healthy, no port message',
    async (p) => {
      const { workbench, server } = the();
      await stopStack(p);
      const second = await openWorkbenchWindow(workbench.context, server.url, { errors: workbench.errors });
      try {
        await waitForStatusBarText(second, /Telemetry off/, 60_000);
        await Promise.all([runCommand(p, START), runCommand(second, START)]);
        await Promise.all([waitForCost(p, 150_000), waitForCost(second, 150_000)]);
        for (const window of [p, second]) {
          await waitForNotification(window, /telemetry stack is running/, 30_000);
          assert.deepEqual(
            (await notificationTexts(window)).filter((t) => /already in use|Port \d+|failed/.test(t)),
            [],
          );
        }
        await screenshot(second, 'faults-13-second-window');
      } finally {
        await second.close();
      }
    },
  );

  fault(
    '30. the window reloaded while Start is under way: the reloaded window takes the start up, then the cost, no error',
    async (p) => {
      await stopStack(p);
      const hostsBefore = extensionHostPids(the().server.pid);
      await runCommand(p, START);
      await prometheusStarted();
      // The old window's host frozen while its start waits for Prometheus to be healthy (its first check comes 3 s
      // after its start), so that start cannot reach Grafana before the reload; on a busy machine it otherwise could,
      // and leave the new window nothing to take up. Then the reload, and the old host ends (killed), as when a
      // window closes (code-server may keep it a little while for a reconnection).
      for (const pid of hostsBefore) signal(pid, 'SIGSTOP');
      try {
        assert.equal(
          (await (await stackContainer('grafana')).inspect()).State.Running,
          false,
          'Grafana not started when the old host froze',
        );
        await p.reload({ waitUntil: 'domcontentloaded' });
      } finally {
        for (const pid of hostsBefore) signal(pid, 'SIGKILL');
      }
      const endedAt = Date.now();
      await waitForWorkbench(p);
      const bar = recordStatusBar(p);
      try {
        // The start taken up ends (the cost may show before, from the Prometheus the old start left running).
        await waitForNotification(p, /telemetry stack is running/, 120_000);
        await waitForCost(p, 30_000).catch(async (error: Error) => {
          throw new Error(`${error.message}; after the reload the status bar showed ${JSON.stringify(bar.texts())}`);
        });
      } finally {
        await bar.stop();
      }
      const grafana = (await (await stackContainer('grafana')).inspect()).State;
      assert.ok(
        grafana.Running && Date.parse(grafana.StartedAt) > endedAt,
        `grafana started after the old window's start ended (running: ${grafana.Running}, started at ${grafana.StartedAt})`,
      );
      assert.deepEqual(
        bar.texts().filter((t) => /bad answer|unreachable|engine down|Telemetry: /.test(t)),
        [],
        'no error after the reload',
      );
    },
  );

  fault(
    '22. the engine restarted mid-start: Start says the engine is not running; with the engine back, Start ends healthy',
    async (p) => {
      const dockerd = theEngine();
      await stopStack(p);
      await runCommand(p, START);
      await prometheusStarted();
      await stopEngine(dockerd);
      // The start fails (see 22b for what it blames), the status bar names the engine while it is away.
      seen['22'] = await waitForNotification(
        p,
        /container engine|Service "[\w-]+" (exited|keeps exiting|is unhealthy)/i,
        60_000,
      );
      said(seen['22']);
      await waitForStatusBarText(p, /Container engine down/, 30_000);
      await screenshot(p, 'faults-22-engine-gone-mid-start');
      engine = await startEngine(dockerd);
      await clearNotifications(p);
      await runCommand(p, START);
      await waitForCost(p, 150_000);
    },
  );

  it("22b. the engine restarted mid-start: Start's message names the engine, not a service it stopped", () => {
    assert.ok(seen['22'] !== undefined, 'case 22 ran');
    assert.match(seen['22'], /container engine/i, seen['22']);
  });

  fault(
    '2. the engine killed and restarted: "Container engine down" (status bar, tooltip, sidebar), then the cost by itself',
    async (p) => {
      const dockerd = theEngine();
      await stopEngine(dockerd);
      await waitForStatusBarText(p, /Container engine down/, 30_000);
      assert.match(
        await tooltip(p, /Container engine down/, /does not answer/),
        /The container engine \(Docker, Podman or Colima\) does not answer, so the telemetry stack cannot run\. Start the engine/,
      );
      await sidebarShows(
        p,
        /Could not load telemetry[\s\S]*container engine \(Docker, Podman or Colima\) does not answer/,
      );
      await screenshot(p, 'faults-02-engine-down');
      engine = await startEngine(dockerd);
      // The containers come back with the engine (restart: unless-stopped), and the status bar with them.
      await waitForCost(p, 120_000);
      await runCommand(p, REFRESH);
      await waitForCost(p, 30_000);
    },
  );

  // --- the stack file -----------------------------------------------------------------------------------------

  fault(
    '29. the stack file with an unknown key (loki: cpus, in the installed compose.yaml), after a reload: Start names file, line and key',
    async (p) => {
      const file = installedComposeFile(the().server.extensionsDir);
      const original = readFileSync(file, 'utf8');
      const at = original.indexOf('    mem_limit: 1g\n\n  grafana:');
      assert.ok(at > 0, "loki's mem_limit in compose.yaml");
      const line = original.slice(0, at).split('\n').length + 1;
      const loki = (await (await stackContainer('loki')).inspect()).Id;
      writeFileSync(
        file,
        `${original.slice(0, at)}    mem_limit: 1g\n    cpus: 0.5\n${original.slice(at + '    mem_limit: 1g\n'.length)}`,
      );
      try {
        await p.reload({ waitUntil: 'domcontentloaded' });
        await waitForWorkbench(p);
        await sleep(3_000);
        await runCommand(p, START);
        const shown = await waitForNotification(p, /is invalid/, 30_000);
        said(shown);
        assert.match(
          shown,
          new RegExp(
            `The stack file ${escapeRegExp(file)}:${line}:\\d+ is invalid: services\\.loki\\.cpus: the key "cpus" is not one the extension maps onto the Engine API`,
          ),
        );
        assert.match(shown, /Fix or undo the edit \(reinstalling the extension restores the original file\)/);
        await screenshot(p, 'faults-29-compose');
        // The stack it runs is untouched, and the status bar reads it as before.
        await waitForCost(p, 10_000);
        assert.equal((await (await stackContainer('loki')).inspect()).Id, loki, 'the running stack is untouched');
      } finally {
        writeFileSync(file, original);
      }
      await p.reload({ waitUntil: 'domcontentloaded' });
      await waitForWorkbench(p);
      await waitForCost(p, 60_000);
    },
  );

  // Last: it gives Prometheus an empty volume in place of the one the suite's cost is in.
  fault(
    "25. a full disk for Prometheus' volume (a 64 KiB tmpfs): the status bar and a warning say it stores nothing, and why",
    async (p) => {
      await stopStack(p);
      // The disk of the engine full, as far as Prometheus can tell: its volume, made again as a tiny tmpfs with the
      // labels the extension gave the real one (an existing volume is used as it is).
      const docker = connectDocker();
      const name = `${EXTENSION_PROJECT}_prometheus-data`;
      const labels = (await docker.getVolume(name).inspect()).Labels ?? {};
      await (await stackContainer('prometheus')).remove({ force: true });
      await docker.getVolume(name).remove();
      await docker.createVolume({
        Name: name,
        Driver: 'local',
        DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=64k' },
        Labels: labels,
      });
      const startedAt = Date.now();
      await runCommand(p, START);
      await waitForNotification(p, /telemetry stack is running/, 150_000);
      const problem = /Prometheus has stored no new data since .+: its volume is full \(no space left on device\)/;
      const shown = await waitForNotification(p, problem, 240_000);
      mark(`the full volume told ${seconds(Date.now() - startedAt)} s after Start`);
      said(shown);
      assert.match(shown, /Free space on the disk the container engine keeps its volumes on/);
      assert.ok(
        await notificationToast(p, problem).getByRole('button', { name: 'Show Stack Logs…' }).isVisible(),
        "the warning offers the stack's logs",
      );
      await waitForStatusBarText(p, /Telemetry: prometheus/, 40_000);
      assert.match(await tooltip(p, /Telemetry: prometheus/, /stored no new data/), /no space left on device/);
      // In the Alerts section, or (nothing stored at all) as why the sidebar is empty.
      const { text } = await sidebarShows(p, /Prometheus stores no new data|Prometheus has stored no new data/);
      assert.match(text, /its volume is full \(no space left on device\)/);
      await screenshot(p, 'faults-25-full-disk');
      // The extension still answers, and says the same.
      await runCommand(p, REFRESH);
      await sleep(3_000);
      assert.ok(
        (await statusBarTexts(p)).some((t) => /Telemetry: prometheus/.test(t)),
        'the status bar after Refresh',
      );
    },
    { restore: async () => undefined },
  );
});
