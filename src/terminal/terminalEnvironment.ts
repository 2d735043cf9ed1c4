import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import * as vscode from 'vscode';
import { otlpEndpoint, type Config } from '../config';
import type { Log } from '../log';
import { claudeShimScript } from './claudeShim';
import { repositoryFromGitConfig, telemetryEnvironment } from './environment';

/**
 * Gives every new VS Code terminal the Claude Code telemetry environment, following the settings: a changed
 * port changes the endpoint, turning it off removes the variables. VS Code itself marks terminals opened
 * before a change and offers to relaunch them.
 */
export class TerminalEnvironment implements vscode.Disposable {
  private applying: Promise<void> = Promise.resolve();

  constructor(
    private readonly collection: vscode.GlobalEnvironmentVariableCollection,
    /** Where the `claude` shim of the Claude Code only mode is written. */
    private readonly storageDir: string,
    /** OTLP headers for a team collector, from secret storage. */
    private readonly collectorHeaders: () => Promise<string | undefined>,
    private readonly log: Log,
  ) {
    collection.description = new vscode.MarkdownString(
      'Reports Claude Code sessions started here to the local telemetry stack (`CLAUDE_CODE_ENABLE_TELEMETRY`, `OTEL_*`). ' +
        'Turn off with the `claudeTelemetry.terminal.enabled` setting.',
    );
  }

  /** The directory of the `claude` shim when the Claude Code only mode is on, else undefined. */
  shimDirectory(config: Config): string | undefined {
    return config.terminal.enabled && config.terminal.scope === 'claudeOnly' && process.platform !== 'win32'
      ? join(this.storageDir, 'bin')
      : undefined;
  }

  /** Applies the settings; calls are serialised so the last settings win. */
  apply(config: Config): Promise<void> {
    this.applying = this.applying
      .then(() => this.write(config))
      .catch((error: unknown) => {
        this.log.error('Could not set the terminal environment:', error);
      });
    return this.applying;
  }

  dispose(): void {
    // The collection belongs to the extension context: VS Code keeps or drops it with the extension.
  }

  private async write(config: Config): Promise<void> {
    // The shim may carry the collector headers (secrets): written afresh for the current settings, or gone.
    const shim = join(this.storageDir, 'bin', 'claude');
    await rm(shim, { force: true });
    if (!config.terminal.enabled) {
      this.collection.clear();
      this.log.info('Terminal telemetry environment off.');
      return;
    }
    const environment = telemetryEnvironment({
      endpoint: otlpEndpoint(config),
      metricExportIntervalMs: config.terminal.metricExportIntervalMs,
      logsExportIntervalMs: config.terminal.logsExportIntervalMs,
      logUserPrompts: config.terminal.logUserPrompts,
      logToolDetails: config.terminal.logToolDetails,
      workspaceName: vscode.workspace.name,
      repository: await this.repository(),
      existingResourceAttributes: process.env.OTEL_RESOURCE_ATTRIBUTES,
      headers: config.terminal.endpoint ? await this.collectorHeaders() : undefined,
    });
    this.collection.clear();
    // Headers are secrets: a persistent collection would keep them in VS Code's state on disk.
    this.collection.persistent = environment.OTEL_EXPORTER_OTLP_HEADERS === undefined;
    const binDir = this.shimDirectory(config);
    if (binDir) {
      // Only the user may read or run it.
      await mkdir(binDir, { recursive: true, mode: 0o700 });
      await writeFile(shim, claudeShimScript(environment), { encoding: 'utf8', mode: 0o700 });
      this.collection.prepend('PATH', `${binDir}${delimiter}`);
      this.log.info(
        `Terminal telemetry for claude only: ${binDir}/claude first on PATH, endpoint ${environment.OTEL_EXPORTER_OTLP_ENDPOINT}.`,
      );
      return;
    }
    if (config.terminal.scope === 'claudeOnly') {
      this.log.warn(
        'claudeTelemetry.terminal.scope = claudeOnly needs a POSIX shell: on Windows every terminal gets the variables.',
      );
    }
    for (const [name, value] of Object.entries(environment)) {
      this.collection.replace(name, value);
    }
    this.log.info(`Terminal telemetry environment set: endpoint ${environment.OTEL_EXPORTER_OTLP_ENDPOINT}.`);
  }

  private async repository(): Promise<string | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder || folder.uri.scheme !== 'file') {
      return undefined;
    }
    try {
      return repositoryFromGitConfig(await readFile(vscode.Uri.joinPath(folder.uri, '.git', 'config').fsPath, 'utf8'));
    } catch {
      return undefined;
    }
  }
}
