// "Claude Telemetry: Verify Telemetry Pipeline": the editor side of the pipeline doctor. Runs the checks with a
// progress notification, writes the result to the output channel and shows it as a read-only Markdown preview
// (a virtual document: nothing is written to disk).
import * as vscode from 'vscode';
import { backends, type Config } from '../config';
import type { AuthConfig } from '../telemetry/http';
import { otlpHeaders, tokenDeveloper } from '../telemetry/collectorHeaders';
import type { Log } from '../log';
import { loadDeferred } from '../lazy';
import type { DoctorEngine, DoctorResult, TerminalInput } from './checks';
import type { TeamHop } from './teamGatewayCheck';

const DOCTOR_SCHEME = 'claude-telemetry-doctor';
const REPORT_URI = vscode.Uri.from({ scheme: DOCTOR_SCHEME, path: '/Telemetry Pipeline Check.md' });

export interface PipelineDoctorCommandOptions {
  /**
   * What the extension adds to new terminals (`context.environmentVariableCollection`): the active terminal's
   * environment is the window's plus this collection plus the terminal's own `creationOptions.env`.
   */
  environmentCollection?: vscode.EnvironmentVariableCollection;
  /** The `claude` shim directory when the "Claude Code only" terminal mode is on. */
  claudeShimDirectory?: () => string | undefined;
  /** Team mode's secrets: the collector headers terminals send, and the team store's credentials. */
  teamAccess?: () => Promise<{ collectorHeaders: string | undefined; storeAuth: AuthConfig }>;
}

export class PipelineDoctorCommand implements vscode.Disposable {
  private report = '# Telemetry pipeline check\n\nNot run yet: run "Claude Telemetry: Verify Telemetry Pipeline".\n';
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly registration: vscode.Disposable;
  private running: Promise<void> | undefined;

  constructor(
    private readonly log: Log,
    private readonly getConfig: () => Config,
    private readonly openEngine: () => Promise<DoctorEngine>,
    private readonly options: PipelineDoctorCommandOptions = {},
  ) {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(DOCTOR_SCHEME, {
      onDidChange: this.changed.event,
      provideTextDocumentContent: () => this.report,
    });
  }

  /** Runs the checks (a second call while one runs joins it) and shows the report. */
  run(): Promise<void> {
    this.running ??= this.doRun().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }

  private async doRun(): Promise<void> {
    const config = this.getConfig();
    const team = await this.teamHop(config);
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Verifying the telemetry pipeline', cancellable: true },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        const notes: string[] = [];
        if (team) {
          notes.push(
            "Team mode: terminals report to the team's gateway and the dashboard reads the team's store, so this " +
              "checks that hop: your token, your probe written and read back, the store's rules.",
          );
        } else if (config.backend.prometheusUrl || config.backend.lokiUrl) {
          notes.push(
            'A team backend is configured for the dashboard (claudeTelemetry.backend.*). This check verifies the local ' +
              "stack, which is where terminals send Claude Code's telemetry.",
          );
        }
        const { prometheus, loki } = backends(config);
        return loadDeferred().runPipelineDoctor({
          openEngine: this.openEngine,
          endpoints: {
            otlpHttp: team ? team.gateway : `http://127.0.0.1:${config.ports.otlpHttp}`,
            otlpGrpcPort: config.ports.otlpGrpc,
            prometheus: team ? prometheus.url : `http://127.0.0.1:${config.ports.prometheus}`,
            loki: team ? loki.url : `http://127.0.0.1:${config.ports.loki}`,
          },
          ...(team ? { team } : {}),
          terminal: this.activeTerminal(),
          terminalEnvironmentEnabled: config.terminal.enabled,
          claudeShimDirectory: this.options.claudeShimDirectory?.(),
          signal: abort.signal,
          notes,
          onCheckStart: (name) => progress.report({ message: `${name}…` }),
        });
      },
    );
    this.show(result);
  }

  /** Team mode (a team's gateway for terminals and a team's store for the dashboard): the hop the doctor checks. */
  private async teamHop(config: Config): Promise<TeamHop | undefined> {
    const { prometheus } = backends(config);
    if (!config.terminal.endpoint || prometheus.local || !this.options.teamAccess) return undefined;
    const { collectorHeaders, storeAuth } = await this.options.teamAccess();
    return {
      gateway: config.terminal.endpoint,
      headers: otlpHeaders(collectorHeaders),
      developer: tokenDeveloper(collectorHeaders),
      store: { baseUrl: prometheus.url, auth: storeAuth, tenant: config.backend.tenantId },
    };
  }

  private show(result: DoctorResult): void {
    const { doctorLogLines, renderDoctorReport } = loadDeferred();
    const lines = doctorLogLines(result);
    const failed = result.counts.fail > 0;
    for (const line of lines) {
      if (failed && /^\s+\[Failed\]|^\s+(cause|fix):/.test(line)) this.log.warn(line);
      else this.log.info(line);
    }
    this.report = renderDoctorReport(result);
    this.changed.fire(REPORT_URI);
    void vscode.commands.executeCommand('markdown.showPreview', REPORT_URI);
    const message = `Telemetry pipeline: ${result.summary}.`;
    if (failed) {
      void vscode.window.showWarningMessage(message, 'Show Report', 'Show Logs').then((choice) => {
        if (choice === 'Show Report') void vscode.commands.executeCommand('markdown.showPreview', REPORT_URI);
        else if (choice === 'Show Logs') this.log.show(true);
      });
    } else {
      void vscode.window.showInformationMessage(message);
    }
  }

  /**
   * The environment Claude Code started in the active terminal would see, as far as the editor knows it: the
   * window's environment, with the extension's collection applied, then the terminal's own `env`. (A terminal opened
   * before the collection changed keeps its old environment: VS Code marks it and offers a relaunch.)
   */
  private activeTerminal(): TerminalInput | undefined {
    const terminal = vscode.window.activeTerminal;
    if (!terminal) return undefined;
    const env: Record<string, string | undefined> = { ...process.env };
    this.options.environmentCollection?.forEach((variable, mutator) => {
      const current = env[variable] ?? '';
      switch (mutator.type) {
        case vscode.EnvironmentVariableMutatorType.Replace:
          env[variable] = mutator.value;
          break;
        case vscode.EnvironmentVariableMutatorType.Append:
          env[variable] = current + mutator.value;
          break;
        case vscode.EnvironmentVariableMutatorType.Prepend:
          env[variable] = mutator.value + current;
          break;
      }
    });
    const own = 'env' in terminal.creationOptions ? terminal.creationOptions.env : undefined;
    for (const [key, value] of Object.entries(own ?? {})) {
      if (value === null) delete env[key];
      else if (value !== undefined) env[key] = value;
    }
    return { name: terminal.name, env };
  }
}
