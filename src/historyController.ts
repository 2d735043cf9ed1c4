import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import writeFileAtomic from 'write-file-atomic';
import { CommandId } from './commands';
import { backends, type Config } from './config';
import { errorCode } from './errorCode';
import type { HistoryImporter, ImportReport } from './history/historyImport';
import { loadDeferred } from './lazy';
import type { Log } from './log';
import type { StackPhase } from './stackController';

/** The user's answer to importing history: asked once, on the first start of the stack. */
const IMPORT_CHOICE_KEY = 'claudeTelemetry.historyImport';
type ImportChoice = 'on' | 'off';
/** How often a window looks for transcripts that gained answers, while the import is on and the stack runs. */
const CONTINUOUS_EVERY_MS = 2 * 60_000;

/**
 * Claude Code's transcripts into the local stack: asked once on the first start, from a command, then every few
 * minutes for what telemetry did not report. Owns one importer per local Prometheus (it keeps what it read).
 */
export class HistoryController implements vscode.Disposable {
  private importer: { key: string; importer: HistoryImporter } | undefined;
  private running: Promise<ImportReport | undefined> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stackRunning = false;
  /** The question is on screen: a second start does not ask again. */
  private offering = false;

  constructor(
    private config: Config,
    private readonly memento: vscode.Memento,
    /** Where the import keeps what it wrote, per store. */
    private readonly directory: string,
    private readonly log: Log,
    /** The store's past changed (from a time on, or all of it): the readers' kept pieces of it are stale. */
    private readonly pastChanged: (sinceMs?: number) => Promise<void>,
  ) {}

  configure(config: Config): void {
    this.config = config;
  }

  setStackPhase(phase: StackPhase): void {
    const running = phase.state === 'healthy';
    if (running === this.stackRunning) return;
    this.stackRunning = running;
    clearInterval(this.timer);
    this.timer = undefined;
    if (running && this.memento.get<ImportChoice>(IMPORT_CHOICE_KEY) === 'on') this.continueQuietly();
  }

  /**
   * The user's start of the stack succeeded: the first one after Claude Code wrote transcripts asks, once, whether to
   * import them (a window opening on a running stack does not ask).
   */
  stackStarted(): void {
    if (this.memento.get<ImportChoice>(IMPORT_CHOICE_KEY) === undefined && !this.offering) {
      this.offering = true;
      void this.offer().finally(() => (this.offering = false));
    }
  }

  /** The command: says what it reads, then imports with progress and a cancel button. */
  async importNow(): Promise<void> {
    this.localPrometheus();
    const roots = loadDeferred().history.projectRoots();
    const answer = await vscode.window.showInformationMessage(
      'Import your Claude Code history?',
      {
        modal: true,
        detail:
          `Reads Claude Code's transcripts in ${roots.join(', ')} for their usage only: session and request ids, ` +
          'times, model, token counts and the project folder. Prompts, code and tool output are not read out of ' +
          'them. The cost of each answer is priced from its tokens and written to the local stack, marked as ' +
          'imported; answers telemetry already reported are not counted again. Afterwards new transcripts are ' +
          'imported every few minutes while the stack runs.',
      },
      'Import',
    );
    if (answer !== 'Import') return;
    await this.memento.update(IMPORT_CHOICE_KEY, 'on' satisfies ImportChoice);
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Importing Claude Code history', cancellable: true },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort(new vscode.CancellationError()));
        let last = 0;
        return this.run(abort.signal, (p) => {
          const percent = p.total ? Math.floor((100 * p.done) / p.total) : 0;
          const what =
            p.phase === 'reading'
              ? `reading transcripts: ${formatMb(p.done)} of ${formatMb(p.total)}`
              : p.phase === 'checking'
                ? 'asking the stack what telemetry already holds'
                : `writing ${p.done.toLocaleString('en-US')} of ${p.total.toLocaleString('en-US')} samples`;
          progress.report({ message: what, increment: percent - last });
          last = percent;
        });
      },
    );
    if (report) void this.showReport(report);
    if (this.stackRunning) this.continueQuietly();
  }

  /** The command: removes every imported series from the local store, after naming what goes. */
  async removeImported(): Promise<void> {
    const prometheus = this.localPrometheus();
    const answer = await vscode.window.showWarningMessage(
      'Remove the imported Claude Code history?',
      {
        modal: true,
        detail:
          `Deletes every series marked import="transcript" from the local Prometheus (${prometheus}): the cost, tokens ` +
          'and sessions imported from transcripts. Telemetry is kept, and so are the transcripts. The import is ' +
          'turned off until you run "Import Claude Code History…" again.',
      },
      'Remove',
    );
    if (answer !== 'Remove') return;
    await this.memento.update(IMPORT_CHOICE_KEY, 'off' satisfies ImportChoice);
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    const { history, telemetry } = loadDeferred();
    const client = new telemetry.PrometheusClient({ baseUrl: prometheus });
    let remaining: number;
    try {
      ({ remaining } = await history.removeImported(client, Date.now()));
    } finally {
      void client.close();
    }
    this.importer?.importer.forgetWritten();
    await rm(this.stateFile(prometheus), { force: true });
    await this.pastChanged();
    if (remaining === 0) {
      void vscode.window.showInformationMessage('The imported history was removed from the local stack.');
      return;
    }
    const message =
      `The imported history was removed, but for ${remaining} series that Prometheus still holds in memory: it ` +
      'cannot delete samples written out of order until it writes them to disk, within about three hours. Run ' +
      '"Remove Imported History…" again then. The import stays off.';
    this.log.warn(message);
    void vscode.window.showWarningMessage(message);
  }

  /** The local store's data was deleted: what the import wrote is gone with it, and is written again next time. */
  async dataDeleted(): Promise<void> {
    this.importer?.importer.forgetWritten();
    await rm(this.directory, { recursive: true, force: true });
  }

  dispose(): void {
    clearInterval(this.timer);
    void this.importer?.importer.close();
  }

  private async offer(): Promise<void> {
    // Nothing to import (Claude Code never ran here as this user): the command stays, the question waits.
    const { history } = loadDeferred();
    const { files } = await history.findTranscripts(history.projectRoots()).catch(() => ({ files: [] }));
    if (files.length === 0) return;
    const choice = await vscode.window.showInformationMessage(
      'The stack is running. Import your past Claude Code sessions from its transcripts, so the views show your ' +
        'history now?',
      'Import History…',
      'Not Now',
    );
    // Through the command: its failure is shown as every command's is.
    if (choice === 'Import History…') await vscode.commands.executeCommand(CommandId.importHistory);
    // Asked once: "Not Now" and a dismissed message both leave it to the command.
    else if (this.memento.get(IMPORT_CHOICE_KEY) === undefined)
      await this.memento.update(IMPORT_CHOICE_KEY, 'off' satisfies ImportChoice);
  }

  private continueQuietly(): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      void this.run(undefined, () => undefined).then(
        (report) => {
          if (report && report.samplesWritten > 0)
            this.log.info(`History import: ${loadDeferred().history.importSummary(report)}`);
        },
        (error: unknown) => this.log.warn('History import failed; it is tried again in a few minutes:', error),
      );
    }, CONTINUOUS_EVERY_MS);
  }

  /** One import at a time; a run already under way is what a second caller waits for. */
  private run(
    signal: AbortSignal | undefined,
    onProgress: Parameters<HistoryImporter['run']>[1],
  ): Promise<ImportReport | undefined> {
    if (this.running) return this.running;
    const running = (async () => {
      const importer = await this.importerFor(this.localPrometheus());
      const report = await importer.run(Date.now(), onProgress, signal);
      for (const p of report.problems) this.log.warn(`History import: ${p.path}: ${p.message}`);
      if (report.writtenFromMs !== null) await this.pastChanged(report.writtenFromMs);
      return report;
    })();
    this.running = running;
    void running.finally(() => {
      if (this.running === running) this.running = undefined;
    });
    return running;
  }

  private async importerFor(prometheusUrl: string): Promise<HistoryImporter> {
    const key = JSON.stringify([prometheusUrl, this.config.ports.loki]);
    if (this.importer?.key === key) return this.importer.importer;
    const { history, telemetry } = loadDeferred();
    const path = this.stateFile(prometheusUrl);
    const importer = new history.HistoryImporter({
      prometheus: new telemetry.PrometheusClient({ baseUrl: prometheusUrl, timeoutMs: 60_000 }),
      loki: new telemetry.LokiClient({ baseUrl: backends(this.config).loki.url }),
      roots: history.projectRoots(),
      pricing: history.bundledPricing(),
      fallbackReachMs: this.config.retentionDays * 86_400_000,
      written: await readWritten(path, this.log),
      saveWritten: async (written) => {
        await mkdir(this.directory, { recursive: true });
        await writeFileAtomic(path, JSON.stringify([...written]));
      },
    });
    // The settings moved the stack: the importer of the old ports goes (what it read is read again, once).
    void this.importer?.importer.close();
    this.importer = { key, importer };
    return importer;
  }

  private stateFile(prometheusUrl: string): string {
    return join(this.directory, `${createHash('sha256').update(prometheusUrl).digest('hex').slice(0, 16)}.json`);
  }

  /** The import writes to the local stack only: a team's store is written by its own collectors. */
  private localPrometheus(): string {
    const { prometheus, loki } = backends(this.config);
    if (!prometheus.local || !loki.local)
      throw new Error(
        `History import writes to the local stack, but the views read ${prometheus.url}: clear ` +
          'claudeTelemetry.backend.prometheusUrl and lokiUrl to import into the local stack.',
      );
    return prometheus.url;
  }

  private async showReport(report: ImportReport): Promise<void> {
    const text = loadDeferred().history.importSummary(report);
    this.log.info(`History import: ${text}`);
    const problems = report.problems.length
      ? ` ${report.problems.length} file(s) could not be read in full: see the logs.`
      : '';
    const choice = await vscode.window.showInformationMessage(
      `Claude Code history imported: ${text}${problems}`,
      'Show Logs',
    );
    if (choice === 'Show Logs') this.log.show(true);
  }
}

async function readWritten(path: string, log: Log): Promise<Map<string, number>> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (
      Array.isArray(parsed) &&
      parsed.every((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number')
    )
      return new Map(parsed as Array<[string, number]>);
    log.warn(`${path} is not what the history import writes: everything is written again (the store keeps it once).`);
  } catch (e) {
    if (errorCode(e) !== 'ENOENT') log.warn(`Could not read ${path}: everything is written again.`, e);
  }
  return new Map();
}

function formatMb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 1 : 0)} MB`;
}
