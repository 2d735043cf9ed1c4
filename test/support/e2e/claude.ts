/**
 * Runs the real Claude Code CLI (the pinned devDependency `@anthropic-ai/claude-code`) offline: print mode, against a
 * scripted Messages API (./messagesApi.ts), with a throw-away HOME and config dir so nothing of this machine's user
 * (credentials, settings, history) is read or written.
 *
 *   const home = createClaudeHome();
 *   const result = await runClaude('do it', { apiUrl: api.url, home, telemetry: { CLAUDE_CODE_ENABLE_TELEMETRY: '1', ... } });
 *   // or, for a terminal: typeCommand(claudeCommandLine('do it', { apiUrl: api.url, home }))
 *   home.remove();
 *
 * Interactive, in a terminal whose HOME is `home.home` (a plan subscriber's session: an OAuth token, no API key):
 *
 *   prepareInteractiveConfig(home);                               // no onboarding screens
 *   typeCommand(claudeInteractiveSetupLine(api.url, home));       // export the variables, `claude` on PATH
 *   typeCommand('claude');                                        // then answer the trust prompt of a new folder
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellQuote } from '../../../src/shell';
import { repoRoot } from '../paths';

export const claudePackageDir = join(repoRoot, 'node_modules', '@anthropic-ai', 'claude-code');
export const claudeBin = join(repoRoot, 'node_modules', '.bin', 'claude');

/** The installed CLI's version; throws (the test fails) when it is not installed. */
export function claudeVersion(): string {
  const manifest = join(claudePackageDir, 'package.json');
  if (!existsSync(manifest) || !existsSync(claudeBin)) {
    throw new Error(`the Claude Code CLI is not installed at ${claudeBin}: it is a pinned devDependency (npm ci)`);
  }
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

export interface ClaudeHome {
  /** Used as HOME. */
  home: string;
  /** CLAUDE_CONFIG_DIR (inside home). */
  configDir: string;
  /** A working directory for the CLI (inside home), with a file it may read. */
  workDir: string;
  remove(): void;
}

/** A fresh HOME for the CLI with an empty config dir and a small project to work in. */
export function createClaudeHome(prefix = 'cct-claude-home-'): ClaudeHome {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const configDir = join(home, '.claude');
  const workDir = join(home, 'project');
  mkdirSync(configDir, { recursive: true });
  mkdirSync(workDir, { recursive: true });
  writeFileSync(join(workDir, 'README.md'), '# scratch project for the e2e test\n');
  return { home, configDir, workDir, remove: () => rmSync(home, { recursive: true, force: true, maxRetries: 3 }) };
}

export interface ClaudeRunOptions {
  /** The scripted Messages API, e.g. http://127.0.0.1:PORT. */
  apiUrl: string;
  home: ClaudeHome;
  /** Telemetry variables (CLAUDE_CODE_ENABLE_TELEMETRY, OTEL_*); none by default. */
  telemetry?: Record<string, string>;
  /** Tools allowed without asking (print mode cannot ask). Default Bash and Read. */
  allowedTools?: string[];
  /** Extra CLI arguments, e.g. ['--output-format', 'json']. */
  args?: string[];
  timeoutMs?: number;
}

/**
 * The CLI's own variables: the scripted API, a dummy key, the isolated HOME/config dir, no auto-update and no
 * traffic beyond the API (no error reporting, no feature flags). Telemetry variables are not among them.
 */
export function claudeOfflineEnv(apiUrl: string, home: ClaudeHome): Record<string, string> {
  return {
    HOME: home.home,
    CLAUDE_CONFIG_DIR: home.configDir,
    ANTHROPIC_BASE_URL: apiUrl,
    ANTHROPIC_API_KEY: 'sk-ant-e2e-test-key',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  };
}

/** Arguments after `claude`: print mode, the prompt, the tools allowed. */
export function claudeArgs(prompt: string, options: Pick<ClaudeRunOptions, 'allowedTools' | 'args'> = {}): string[] {
  // --dangerously-skip-permissions is refused as root (CI runs as root): allow the tools by name instead.
  return ['-p', prompt, '--allowedTools', ...(options.allowedTools ?? ['Bash', 'Read']), ...(options.args ?? [])];
}

/**
 * One shell command line that runs the CLI the way a user would in a terminal: the offline variables as an env
 * prefix (the terminal itself supplies the telemetry variables), run in the home's work dir.
 */
export function claudeCommandLine(prompt: string, options: Omit<ClaudeRunOptions, 'telemetry' | 'timeoutMs'>): string {
  const env = Object.entries(claudeOfflineEnv(options.apiUrl, options.home)).map(
    ([key, value]) => `${key}=${shellQuote(value)}`,
  );
  return [...env, shellQuote(claudeBin), ...claudeArgs(prompt, options).map(shellQuote)].join(' ');
}

export interface ClaudeResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  startedAt: number;
  endedAt: number;
}

/**
 * Runs `claude -p` as a child process with only PATH, the offline variables and `telemetry` in its environment
 * (nothing else from this process leaks in). Resolves when it exits; rejects when it outlives `timeoutMs`.
 */
export function runClaude(prompt: string, options: ClaudeRunOptions): Promise<ClaudeResult> {
  claudeVersion();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    ...claudeOfflineEnv(options.apiUrl, options.home),
    ...options.telemetry,
  };
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(claudeBin, claudeArgs(prompt, options), {
      cwd: options.home.workDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `claude -p did not exit within ${options.timeoutMs ?? 120_000} ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
        ),
      );
    }, options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, startedAt, endedAt: Date.now() });
    });
  });
}

// --- interactive sessions (a terminal in the workbench) --------------------------------------------------------

/** The folder holding `claude` (node_modules/.bin), for PATH. */
export const claudeBinDir = join(repoRoot, 'node_modules', '.bin');

/**
 * The config of an interactive first start (CLI 2.1.328): without `hasCompletedOnboarding` in
 * `$CLAUDE_CONFIG_DIR/.claude.json` the CLI runs its onboarding, whose connectivity check to api.anthropic.com fails
 * offline ("Unable to connect to Anthropic services") and exits; `theme` skips the theme picker. Written into a
 * config dir that already holds other files (settings.json), merged into a .claude.json already there.
 */
export function prepareInteractiveConfig(home: ClaudeHome): void {
  const file = join(home.configDir, '.claude.json');
  const existing = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(file, `${JSON.stringify({ ...existing, hasCompletedOnboarding: true, theme: 'dark' }, null, 2)}\n`);
}

/**
 * The variables of an interactive session against the stand-in as a Claude plan subscriber: signed in with
 * `CLAUDE_CODE_OAUTH_TOKEN` (any value: the stand-in checks none), and no ANTHROPIC_API_KEY (with both, the CLI may
 * prefer or ask about the key, and an API key session gets no plan figures). HOME is the terminal's own: the config
 * dir must be the one the settings under test are in.
 */
export function claudeInteractiveEnv(apiUrl: string, home: ClaudeHome): Record<string, string> {
  return {
    CLAUDE_CONFIG_DIR: home.configDir,
    ANTHROPIC_BASE_URL: apiUrl,
    CLAUDE_CODE_OAUTH_TOKEN: 'e2e-test-token',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    // In a VS Code terminal the CLI would install its IDE extension from the marketplace: not offline, not here.
    CLAUDE_CODE_IDE_SKIP_AUTO_INSTALL: '1',
  };
}

/**
 * One shell line that sets up a terminal for `claude`: the interactive variables exported and the pinned CLI first on
 * PATH, so that the user's next line is just `claude`.
 */
export function claudeInteractiveSetupLine(apiUrl: string, home: ClaudeHome): string {
  const env = Object.entries(claudeInteractiveEnv(apiUrl, home)).map(([key, value]) => `${key}=${shellQuote(value)}`);
  return `export ${env.join(' ')} PATH=${shellQuote(claudeBinDir)}:"$PATH"`;
}

// --- as Claude Code's apps run it (the VS Code panel, the desktop app) --------------------------------------------

export interface AppRun {
  /** The CLI's last stream-JSON message: `{ type: 'result', total_cost_usd, session_id, ... }`. */
  result: Record<string, unknown>;
  code: number | null;
  stderr: string;
}

/**
 * How each app starts the CLI. The desktop app's entrypoint is the one CLI 2.1.328 takes for the desktop (it names
 * its own Anthropic metrics `claude-code-desktop` under `claude-desktop` and `claude-desktop-3p`); the desktop's
 * sessions report `service.name=claude-code-desktop`, which the CLI takes from `OTEL_SERVICE_NAME`.
 */
const APPS = {
  panel: { CLAUDE_CODE_ENTRYPOINT: 'claude-vscode' },
  desktop: { CLAUDE_CODE_ENTRYPOINT: 'claude-desktop', OTEL_SERVICE_NAME: 'claude-code-desktop' },
} as const;

/**
 * Runs the CLI as one of Claude Code's apps does (through its SDK): stream JSON in and out, the app's entrypoint,
 * signed in with an OAuth token (under those entrypoints the CLI ignores ANTHROPIC_API_KEY). The environment holds no
 * telemetry variable but `appEnvironment` (for the panel, what `claudeCode.environmentVariables` would add): what
 * reports, reports from Claude Code's own settings. One user message; resolves once its result has come and the CLI
 * has exited.
 */
export function runClaudeAsApp(
  app: keyof typeof APPS,
  prompt: string,
  options: { apiUrl: string; home: ClaudeHome; appEnvironment?: Record<string, string>; timeoutMs?: number },
): Promise<AppRun> {
  claudeVersion();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: options.home.home,
    ...claudeInteractiveEnv(options.apiUrl, options.home),
    ...APPS[app],
    ...options.appEnvironment,
  };
  const args = ['--output-format', 'stream-json', '--input-format', 'stream-json', '--verbose'];
  return new Promise((resolve, reject) => {
    const child = spawn(claudeBin, args, { cwd: options.home.workDir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let result: Record<string, unknown> | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      for (let end = stdout.indexOf('\n'); end >= 0; end = stdout.indexOf('\n')) {
        const line = stdout.slice(0, end).trim();
        stdout = stdout.slice(end + 1);
        const message = line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : undefined;
        // The turn's end: the app would send the next message; this run ends its input instead.
        if (message?.['type'] === 'result') {
          result = message;
          child.stdin.end();
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`the ${app}'s CLI gave no result within ${options.timeoutMs ?? 120_000} ms\n--- stderr\n${stderr}`),
      );
    }, options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (result) resolve({ result, code, stderr });
      else reject(new Error(`the ${app}'s CLI exited (${code}) without a result\n--- stderr\n${stderr}`));
    });
    child.stdin.write(
      `${JSON.stringify({ type: 'user', session_id: '', parent_tool_use_id: null, message: { role: 'user', content: [{ type: 'text', text: prompt }] } })}\n`,
    );
  });
}
