/**
 * Issue 14, plan usage through Claude Code's status line, the way a user lives it: a real VS Code (code-server) with
 * the packaged extension, driven by playwright-core in headless Chromium; the real Claude Code CLI (pinned
 * devDependency) **interactive** in the workbench's terminal, signed in as a plan subscriber (CLAUDE_CODE_OAUTH_TOKEN)
 * against the scripted Messages API on loopback, whose answers carry the unified rate limit headers (5-hour window
 * 42 % used, 7-day 17 %); the stack started from the Command Palette (real collector and Prometheus, Loki and Grafana
 * test doubles, local images).
 *
 * The extension host's HOME is a throw-away folder whose ~/.claude/settings.json holds the user's own status line (a
 * command that reads Claude Code's JSON and prints `USER-LINE <model>`), written with CRLF line ends, tabs and odd
 * spacing; the CLI in the terminal reads that same file (same HOME, CLAUDE_CONFIG_DIR = that ~/.claude).
 *
 * 1. "Start Telemetry Stack"; "Show Plan Usage in Claude Code's Status Line…": the diff opens, the modal is
 *    confirmed, the file's status line is the bridge, which carries the user's command.
 * 2. `claude` in a new terminal: the trust prompt is answered, a prompt typed; after the scripted answer the status
 *    line under the prompt is the user's own line, passed through unchanged by the bridge.
 * 3. The status bar shows `5h 42%`, its tooltip the plan's windows, and Prometheus holds the bridge's gauges.
 * 4. `claudeTelemetry.plan.warningPercent` set to 40 in the Settings editor: the extension's own warning, the stack's
 *    PlanUsageHigh alert as a notification, the status bar in the warning colour.
 * 5. `/exit`, "Remove the Status Line Bridge from Claude Code…": the file is byte for byte what the user had.
 *
 * Screenshots: test-results/screenshots/sl-*.png; the status bar with its tooltip is also
 * docs/images/status-bar-plan.png with CCT_UPDATE_DOCS_IMAGES=1.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { ensureTestImages, removeProject, requireDocker } from '../support/docker';
import { promQuery } from '../support/http';
import { repoRoot } from '../support/paths';
import { freePort } from '../support/ports';
import { escapeRegExp } from '../support/regexp';
import { waitFor } from '../support/wait';
import { when } from '../../src/format';
import {
  claudeInteractiveSetupLine,
  claudeVersion,
  createClaudeHome,
  prepareInteractiveConfig,
  type ClaudeHome,
} from '../support/e2e/claude';
import {
  closeWorkbench,
  answerDialog,
  clearNotifications,
  clipAround,
  ensureVsix,
  hoverStatusBarItem,
  installCodeServer,
  notificationTexts,
  notificationToast,
  openWorkbench,
  readableTerminalSettings,
  runCommand,
  screenshot,
  setSettingInUi,
  startCodeServer,
  statusBarItem,
  terminalText,
  typeInTerminal,
  waitForDialog,
  waitForNotification,
  waitForStatusBarText,
  waitForTerminalText,
  waitForWorkbench,
  type CodeServer,
  type Workbench,
} from '../support/e2e/codeServer';
import { mark, seconds } from '../support/e2e/marks';
import { rateLimitHeaders, startMessagesApi, type MessagesApi } from '../support/e2e/messagesApi';
import { EXTENSION_PROJECT, clearLeftoverTestStack, stackMachineSettings } from '../support/e2e/stack';

/**
 * The user's own status line: it reads the JSON Claude Code pipes to it and prints a marker with the model's name
 * from it, so the line under the prompt shows both that the bridge ran it and that it got Claude Code's input.
 */
const USER_COMMAND = `printf 'USER-LINE %s' "$(sed -E 's/.*"display_name":"([^"]*)".*/\\1/')"`;
/** The user's `statusLine` value exactly as their file holds it (tabs, CRLF). */
const USER_STATUS_LINE = `{\r\n\t\t"type": "command",\r\n\t\t"command": ${JSON.stringify(USER_COMMAND)},\r\n\t\t"padding": 0\r\n\t}`;
/**
 * The user's ~/.claude/settings.json: CRLF line ends, tabs, a space before a colon, another key after the status
 * line. No comments: Claude Code 2.1.328 refuses a settings file with comments ("Invalid or malformed JSON") and
 * skips all of it.
 */
const USER_SETTINGS = `{\r\n\t"cleanupPeriodDays" :  30,\r\n\t"statusLine": ${USER_STATUS_LINE},\r\n\t"includeCoAuthoredBy": false\r\n}\r\n`;

const PROMPT = 'Say hello.';
const ANSWER = 'Hello from the scripted API.';

// --- the stack's project and Prometheus (to know what to expect and to clean up; the UI assertions never use these)

/** The value of `--name=` of the bridge's command line, decoded (base64url of a JSON string). */
function bridgeArgument(command: string, name: string): string | undefined {
  const encoded = new RegExp(`--${name}=([A-Za-z0-9_-]+)`).exec(command)?.[1];
  return encoded === undefined ? undefined : (JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as string);
}

/** Whether the status bar item matching `pattern` has the warning background (VS Code marks it `warning-kind`). */
async function statusBarWarning(page: Page, pattern: RegExp): Promise<{ warning: boolean; background: string }> {
  return statusBarItem(page, pattern).evaluate((element) => ({
    warning: element.classList.contains('warning-kind'),
    background: getComputedStyle(element).backgroundColor,
  }));
}

describe(
  "plan usage through Claude Code's status line, in code-server, through the UI",
  { timeout: 10 * 60_000 },
  () => {
    let server: CodeServer | undefined;
    let workbench: Workbench | undefined;
    /** The extension host's (and the terminal's) HOME; its project folder is the workspace. */
    let home: ClaudeHome | undefined;
    let api: MessagesApi | undefined;
    const ports = { otlpGrpc: 0, otlpHttp: 0, collectorMetrics: 0, prometheus: 0, loki: 0, grafana: 0 };
    /** Set once no foreign stack of the extension's project exists: only then does cleanup remove that project. */
    let ownsProject = false;
    /** Epoch seconds of the windows' resets, as the stand-in's headers say. */
    const resets = {
      fiveHour: Math.floor(Date.now() / 1000) + 3 * 3600,
      sevenDay: Math.floor(Date.now() / 1000) + 4 * 86400,
    };
    let claudeRunning = false;
    /** settings.json as "Show Plan Usage…" wrote it, and the bridge script its command runs. */
    let bridgeWritten: { text: string; script: string } | undefined;
    const timings: Record<string, string> = {};

    const page = (): Page => {
      assert.ok(workbench, 'the workbench did not open (see the first test of this suite)');
      return workbench.page;
    };
    const settingsFile = (): string => {
      assert.ok(home, 'the HOME was not made (see the first test of this suite)');
      return join(home.configDir, 'settings.json');
    };

    it("opens the workbench with a HOME whose ~/.claude/settings.json has the user's own status line", async () => {
      claudeVersion();
      await requireDocker();
      // Terminals get the telemetry variables from the extension alone, and no API key: the session is a subscriber's.
      for (const key of Object.keys(process.env)) {
        if (/^(OTEL_|CLAUDE_CODE_|ANTHROPIC_)/.test(key) || key === 'CLAUDE_CONFIG_DIR') delete process.env[key];
      }
      const [codeServer, vsix, images] = await Promise.all([installCodeServer(), ensureVsix(), ensureTestImages()]);
      const leftover = await clearLeftoverTestStack();
      if (leftover.length) mark(`removed a leftover test stack: ${leftover.join(', ')}`);
      ownsProject = true;
      for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
      home = createClaudeHome('cct-e2e-status-line-home-');
      writeFileSync(settingsFile(), USER_SETTINGS);
      prepareInteractiveConfig(home);
      api = await startMessagesApi(
        [{ kind: 'text', text: ANSWER, usage: { input_tokens: 12_000, output_tokens: 300 } }],
        {
          responseHeaders: rateLimitHeaders({
            fiveHour: { utilization: 0.42, resetsAt: resets.fiveHour },
            sevenDay: { utilization: 0.17, resetsAt: resets.sevenDay },
          }),
          log: (line) => console.log(`# ${line}`),
        },
      );
      server = await startCodeServer({
        codeServer,
        vsix,
        workspace: home.workDir,
        // The extension host's os.homedir(), and so the ~/.claude/settings.json the commands edit; the terminal's too.
        env: { HOME: home.home },
        settings: readableTerminalSettings,
        machineSettings: stackMachineSettings(images, ports),
      });
      mark(`code-server on ${server.origin}, HOME ${home.home}`);
      workbench = await openWorkbench(server.url);
      await waitForStatusBarText(workbench.page, /Telemetry off/, 60_000);
      mark('workbench ready');
    });

    after(async () => {
      if (workbench) await closeWorkbench(workbench, 'sl-99-final');
      await server?.stop();
      await api?.close();
      home?.remove();
      if (ownsProject) {
        const removed = await removeProject(EXTENSION_PROJECT).catch((error: unknown) => [`failed: ${String(error)}`]);
        mark(`cleaned up ${removed.join(', ') || 'nothing'}`);
      }
      console.log(`# e2e timings: ${JSON.stringify(timings)}`);
    });

    it('"Start Telemetry Stack" from the Command Palette: the status bar goes healthy', async () => {
      const p = page();
      const clicked = Date.now();
      await runCommand(p, 'Claude Telemetry: Start Telemetry Stack');
      await waitForStatusBarText(p, /\$0\.00/, 180_000);
      // Until Grafana, made last, passes its health check: as long as the engine's waits on a loaded machine.
      await waitForNotification(p, /telemetry stack is running/i, 180_000);
      timings.stackStart = `${seconds(Date.now() - clicked)}s`;
      mark(`stack healthy after ${timings.stackStart}`);
    });

    it('"Show Plan Usage in Claude Code\'s Status Line…": a diff, a confirm, and the status line is the bridge carrying the user\'s command', async () => {
      const p = page();
      await clearNotifications(p);
      await runCommand(p, "Claude Telemetry: Show Plan Usage in Claude Code's Status Line…");
      const { text: question } = await waitForDialog(p);
      assert.match(
        question,
        new RegExp(
          `Show plan usage in Claude Code's status line\\? The status line command in ${escapeRegExp(settingsFile())} becomes the extension's bridge`,
        ),
      );
      assert.match(question, new RegExp(`reports to http://127\\.0\\.0\\.1:${ports.otlpHttp}\\b`));
      // Behind the modal: the diff of the user's file and the proposal.
      const diff = p.locator('.monaco-diff-editor').first();
      await diff.waitFor({ state: 'visible', timeout: 10_000 });
      await p
        .locator('.tabs-container .tab', { hasText: '↔ proposed' })
        .first()
        .waitFor({ state: 'visible', timeout: 10_000 });
      const original = await diff.locator('.editor.original .view-lines').innerText();
      const modified = await diff.locator('.editor.modified .view-lines').innerText();
      assert.match(original, /USER-LINE/, `the diff's left side is the user's file:\n${original}`);
      assert.match(modified, /dist\/statusLine\.js/, `the diff's right side runs the bridge:\n${modified}`);
      assert.doesNotMatch(original, /statusLine\.js/);
      await screenshot(p, 'sl-01-write-diff-and-confirm');
      assert.equal(readFileSync(settingsFile(), 'utf8'), USER_SETTINGS, 'nothing is written before the user confirms');
      await answerDialog(p, 'Write');
      await waitForNotification(p, /reports its plan usage from its next status line update/, 15_000);

      const written = await waitFor(
        'the bridge in settings.json',
        async () => {
          const text = readFileSync(settingsFile(), 'utf8');
          return text.includes('statusLine.js') ? text : undefined;
        },
        10_000,
      );
      const settings = JSON.parse(written) as {
        statusLine?: { type?: string; command?: string };
        cleanupPeriodDays?: number;
        includeCoAuthoredBy?: boolean;
      };
      const command = settings.statusLine?.command ?? '';
      mark(`statusLine.command: ${command.slice(0, 300)}`);
      assert.equal(settings.statusLine?.type, 'command');
      // ELECTRON_RUN_AS_NODE=1 '<the editor's runtime>' '<the extension>/dist/statusLine.js' --endpoint=... --previous=... --saved=...
      const [, runtime, script] =
        /^ELECTRON_RUN_AS_NODE=1 '([^']+)' '([^']+\/dist\/statusLine\.js)'/.exec(command) ?? [];
      assert.ok(runtime && script, `the command runs the bridge on the editor's runtime: ${command}`);
      assert.ok(existsSync(runtime) && existsSync(script), `${runtime} and ${script} exist`);
      bridgeWritten = { text: written, script };
      assert.match(
        command,
        new RegExp(`--endpoint=http://127\\.0\\.0\\.1:${ports.otlpHttp}(?!\\d)`),
        "the bridge reports to the stack's collector",
      );
      assert.equal(bridgeArgument(command, 'previous'), USER_COMMAND, "the user's own command is what the bridge runs");
      assert.equal(
        bridgeArgument(command, 'saved'),
        USER_STATUS_LINE,
        "the user's statusLine, as the file held it, is kept for the removal",
      );
      // The rest of the file is untouched: its other keys, CRLF line ends and tabs.
      assert.equal(settings.cleanupPeriodDays, 30);
      assert.equal(settings.includeCoAuthoredBy, false);
      assert.ok(
        written.startsWith('{\r\n\t"cleanupPeriodDays" :  30,\r\n\t"statusLine": ') &&
          written.endsWith(',\r\n\t"includeCoAuthoredBy": false\r\n}\r\n'),
        JSON.stringify(written),
      );
      assert.equal(
        readFileSync(`${settingsFile()}.bak`, 'utf8'),
        USER_SETTINGS,
        "the backup beside the file is the user's file",
      );
      await runCommand(p, 'View: Close All Editors');
    });

    it("`claude` in a terminal: trust the folder, a prompt, the scripted answer, and the user's own status line under the prompt", async () => {
      const p = page();
      assert.ok(api && home);
      await clearNotifications(p);
      assert.match(
        readFileSync(settingsFile(), 'utf8'),
        /dist\/statusLine\.js/,
        'the status line Claude Code is about to read is the bridge',
      );
      await runCommand(p, 'Terminal: Create New Terminal');
      await waitForTerminalText(p, /[$#]\s*$/m, 30_000);
      // A taller terminal: Claude Code draws its prompt box and status line at the bottom of the screen.
      await runCommand(p, 'View: Toggle Maximized Panel');
      await typeInTerminal(p, claudeInteractiveSetupLine(api.url, home));
      await typeInTerminal(p, 'cd ~/project && clear && claude');
      claudeRunning = true;
      const startedAt = Date.now();

      // A first start in a new folder asks whether to trust it; the choice starts on "No, exit".
      await waitForTerminalText(p, /Yes, I trust this folder/, 60_000);
      await screenshot(p, 'sl-02-claude-trust-prompt');
      for (let attempt = 0; ; attempt++) {
        if (/❯\s*(\d\.\s*)?Yes, I trust this folder/.test(await terminalText(p))) break;
        assert.ok(attempt < 4, `the trust prompt's "Yes" could not be selected:\n${await terminalText(p)}`);
        await p.keyboard.press('ArrowDown');
        await new Promise((r) => setTimeout(r, 300));
      }
      await p.keyboard.press('Enter');
      // The session is up once its status line shows (before any answer: no plan figures yet).
      const ready = await waitForTerminalText(p, /^\s*USER-LINE \S/m, 60_000);
      timings.claudeStart = `${seconds(Date.now() - startedAt)}s`;
      mark(`claude ready after ${timings.claudeStart}`);
      assert.equal(api.requests.filter((r) => r.path === '/v1/messages').length, 0, 'no API request before the prompt');
      assert.doesNotMatch(ready.text, /Settings Error|Invalid or malformed/, 'Claude Code read the settings file');

      await p.keyboard.type(PROMPT);
      await p.keyboard.press('Enter');
      const asked = Date.now();
      const answered = await waitForTerminalText(p, new RegExp(escapeRegExp(ANSWER)), 60_000);
      timings.answer = `${seconds(Date.now() - asked)}s`;
      const main = api.requests.filter((r) => r.role === 'main');
      assert.deepEqual(
        main.map((r) => r.status),
        [200],
        JSON.stringify(api.requests.map((r) => [r.path, r.role, r.status])),
      );
      if (api.unknown.length) console.log(`# the CLI asked for unknown paths: ${api.unknown.join(', ')}`);

      // The status line under the prompt is the user's own line, unchanged: the marker with the model's name from
      // Claude Code's JSON (the bridge gave the command its input), not the bridge's own line.
      const { text } = await waitForTerminalText(p, /❯[^\n]*\n(?:[^\n]*\n){0,2}\s*USER-LINE \S/, 15_000);
      const rows = text.split('\n');
      const promptRow = rows.map((row) => /^❯/.test(row.trim())).lastIndexOf(true);
      const markerRow = rows.findIndex((row, i) => i > promptRow && /^\s*USER-LINE \S/.test(row));
      assert.ok(
        promptRow >= 0 && markerRow > promptRow && markerRow - promptRow <= 3,
        `the user's status line right under the prompt:\n${text}`,
      );
      const model = /USER-LINE (.+)$/.exec(rows[markerRow] ?? '')?.[1]?.trim() ?? '';
      mark(`status line under the prompt: ${JSON.stringify(rows[markerRow])}`);
      assert.match(
        model,
        /^[A-Z][\w.]*( [\w.]+)*$/,
        `the model's display name from Claude Code's JSON, not the JSON itself: ${model}`,
      );
      assert.ok(
        answered.text.includes(model) || text.includes(`${model} ·`),
        `Claude Code's banner names the model ${model} too:\n${text}`,
      );
      assert.doesNotMatch(text, /5h 42%|7d 17%/, "the bridge printed the user's line, not its own");
      await screenshot(p, 'sl-03-terminal-status-line');
    });

    it('the status bar shows "5h 42%", its tooltip the plan\'s windows, and Prometheus the bridge\'s gauges', async () => {
      const p = page();
      // The panel out of the way: the tooltip over an empty editor area, for the picture.
      await runCommand(p, 'View: Toggle Maximized Panel');
      await runCommand(p, 'View: Hide Panel');
      const text = await waitForStatusBarText(p, /\$\d+\.\d\d · 5h 42%/, 60_000);
      mark(`status bar: ${text}`);
      const hover = await hoverStatusBarItem(p, /5h 42%/, /Plan 5-hour usage/);
      const tooltip = await hover.innerText();
      const clip = await clipAround(p, [hover, statusBarItem(p, /5h 42%/)], 12);
      const shot = await screenshot(p, 'sl-04-status-bar-plan-tooltip', { clip });
      // The README's picture, renewed on request only (it shows times and a session id, so every run differs).
      if (process.env['CCT_UPDATE_DOCS_IMAGES'] === '1')
        copyFileSync(shot, join(repoRoot, 'docs', 'images', 'status-bar-plan.png'));
      await screenshot(p, 'sl-04a-status-bar-plan-full');
      await p.mouse.move(700, 300);
      assert.match(tooltip, /Plan 7-day usage: 17%, resets \S/, tooltip);
      // The Markdown is rendered: the figures are bold, no asterisks.
      assert.doesNotMatch(tooltip, /\*\*/, tooltip);
      const bold = await hover
        .locator('strong, b')
        .allInnerTexts()
        .catch(() => [] as string[]);
      assert.ok(bold.includes('42%') && bold.includes('17%'), `bold figures in the tooltip: ${JSON.stringify(bold)}`);
      // The 5-hour reset (the stand-in's header, three hours from now) as the extension writes a moment everywhere: the
      // clock today, the date too when it is tomorrow (a run late in the evening). The extension host runs in this
      // process' environment (TZ, LANG).
      const resetText = when(resets.fiveHour * 1000);
      assert.ok(
        tooltip.includes(`Plan 5-hour usage: 42%, resets ${resetText}`),
        `the 5-hour reset ${resetText} in the tooltip:\n${tooltip}`,
      );

      const usage = await waitFor(
        'the plan usage in Prometheus',
        async () => {
          const samples = await promQuery(ports.prometheus, 'claude_code_plan_usage_percent');
          return samples.length === 2 ? Object.fromEntries(samples.map((s) => [s.metric.window, s.value])) : undefined;
        },
        30_000,
      );
      assert.deepEqual(usage, { five_hour: 42, seven_day: 17 });
      const resetsAt = Object.fromEntries(
        (await promQuery(ports.prometheus, 'claude_code_plan_resets_at_seconds')).map((s) => [
          s.metric.window,
          s.value,
        ]),
      );
      assert.deepEqual(resetsAt, { five_hour: resets.fiveHour, seven_day: resets.sevenDay });
      const contexts = await promQuery(ports.prometheus, 'claude_code_context_window_usage_percent');
      assert.equal(contexts.length, 1, `one session's context window: ${JSON.stringify(contexts)}`);
      assert.match(contexts[0].metric.session_id ?? '', /^[0-9a-f-]{36}$/);
      // No warning yet: 42 % is under the default 80 %.
      assert.equal(
        (await statusBarWarning(p, /5h 42%/)).warning,
        false,
        'no warning colour under the default threshold',
      );
    });

    it("plan.warningPercent 40 in the Settings editor: the extension's warning, the PlanUsageHigh alert, the warning colour", async () => {
      const p = page();
      await clearNotifications(p);
      const before = await statusBarWarning(p, /5h 42%/);
      const changedAt = Date.now();
      await setSettingInUi(p, 'claudeTelemetry.plan.warningPercent', '40');
      await screenshot(p, 'sl-05-setting-warning-percent');
      const [own, alert] = await Promise.all([
        waitForNotification(
          p,
          /Claude Code has used 42% of your plan's 5-hour limit, past your 40% warning\. It resets at /,
          60_000,
        ),
        waitForNotification(p, /Claude plan usage of the five_hour window is above 40%/, 90_000).then(async (text) => {
          timings.alertNotification = `${seconds(Date.now() - changedAt)}s`;
          await screenshot(p, 'sl-06-plan-notifications');
          return text;
        }),
      ]);
      mark(`notifications: ${own} | ${alert}`);
      assert.match(alert, /42% of the five_hour limit used/);
      assert.equal(
        (await notificationTexts(p)).filter((t) => /7-day limit|seven_day window/.test(t)).length,
        0,
        'the 7-day window (17 %) is under 40 %',
      );
      // The bell: an alert fires; the warning colour: past the plan warning.
      const bar = await waitForStatusBarText(p, /\$\d+\.\d\d · 5h 42%/, 10_000);
      const look = await waitFor(
        'the warning colour',
        async () => {
          const now = await statusBarWarning(p, /5h 42%/);
          return now.warning ? now : undefined;
        },
        15_000,
      );
      assert.notEqual(look.background, before.background, `the background changed from ${before.background}`);
      mark(`status bar: ${bar}, background ${look.background}`);
      await p.keyboard.press('Escape');
      await runCommand(p, 'View: Close All Editors');
      await screenshot(p, 'sl-07-status-bar-warning');
    });

    it('`/exit`, then "Remove the Status Line Bridge from Claude Code…": the settings file is byte for byte the user\'s', async () => {
      const p = page();
      assert.ok(claudeRunning, 'claude was started (see above)');
      await runCommand(p, 'Terminal: Focus Terminal');
      await typeInTerminal(p, '/exit');
      await waitForTerminalText(p, /claude --resume [0-9a-f-]{36}/, 30_000);
      await typeInTerminal(p, 'echo "CLAUDE-EXIT=$?"');
      const { match } = await waitForTerminalText(p, /^CLAUDE-EXIT=(\d+)$/m, 15_000);
      assert.equal(match[1], '0', 'claude exited cleanly');
      claudeRunning = false;

      await clearNotifications(p);
      await runCommand(p, 'Claude Telemetry: Remove the Status Line Bridge from Claude Code…');
      const { text: question } = await waitForDialog(p);
      assert.match(
        question,
        new RegExp(
          `Remove the status line bridge from ${escapeRegExp(settingsFile())}\\? Your own status line, if you had one, comes back as it was\\.`,
        ),
      );
      const diff = p.locator('.monaco-diff-editor').first();
      await diff.waitFor({ state: 'visible', timeout: 10_000 });
      assert.match(
        await diff.locator('.editor.modified .view-lines').innerText(),
        /USER-LINE/,
        "the proposal has the user's command back",
      );
      await screenshot(p, 'sl-08-remove-diff-and-confirm');
      await answerDialog(p, 'Remove');
      const restored = await waitFor(
        'settings.json without the bridge',
        async () => {
          const bytes = readFileSync(settingsFile());
          return bytes.includes('statusLine.js') ? undefined : bytes;
        },
        10_000,
      );
      assert.equal(
        Buffer.compare(restored, Buffer.from(USER_SETTINGS, 'utf8')),
        0,
        `byte for byte the user's file:\n${JSON.stringify(restored.toString('utf8'))}`,
      );
      await runCommand(p, 'View: Close All Editors');
      await screenshot(p, 'sl-09-removed');
    });

    it('a bridge an update moved (its script gone): the next window says so, and "Update Status Line…" points it at this install after a diff and a confirm', async () => {
      const p = page();
      assert.ok(bridgeWritten, 'the bridge was written (see above)');
      // The folder of an older version of the extension, which the editor removes after an update.
      const goneScript = bridgeWritten.script.replace(
        /[^/]+(?=\/dist\/statusLine\.js$)/,
        'claude-code-telemetry.claude-code-telemetry-0.0.1',
      );
      assert.ok(goneScript !== bridgeWritten.script && !existsSync(goneScript), goneScript);
      const stale = bridgeWritten.text.replace(`'${bridgeWritten.script}'`, `'${goneScript}'`);
      assert.notEqual(stale, bridgeWritten.text);
      writeFileSync(settingsFile(), stale);
      await clearNotifications(p);
      await p.reload({ waitUntil: 'domcontentloaded' });
      await waitForWorkbench(p);
      const warning = await waitForNotification(p, /runs the plan usage bridge from/, 60_000);
      mark(`shown: ${warning}`);
      assert.match(
        warning,
        new RegExp(
          `from ${escapeRegExp(goneScript)}, which no longer exists .*Claude Code shows no status line, your own included`,
        ),
      );
      await screenshot(p, 'sl-10-bridge-gone-warning');
      await notificationToast(p, /plan usage bridge/)
        .getByRole('button', { name: 'Update Status Line…' })
        .click();
      const { text: question } = await waitForDialog(p);
      assert.match(question, /Show plan usage in Claude Code's status line\?/);
      assert.equal(readFileSync(settingsFile(), 'utf8'), stale, 'nothing is written before the user confirms');
      await answerDialog(p, 'Write');
      const updated = await waitFor(
        'the bridge of this install in settings.json',
        async () => {
          const text = readFileSync(settingsFile(), 'utf8');
          return text.includes(bridgeWritten!.script) ? text : undefined;
        },
        10_000,
      );
      // This install's bridge, the user's own status line still saved in it for the removal: the file as first written.
      assert.equal(updated, bridgeWritten.text);
      assert.equal(readFileSync(`${settingsFile()}.bak`, 'utf8'), stale, 'the backup is the file as it was');
      await runCommand(p, 'View: Close All Editors');
    });
  },
);
