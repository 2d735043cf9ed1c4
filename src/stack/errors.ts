// Typed errors of the stack engine. Each `message` is what the user is shown: the cause, then the next step.
// No `vscode` import: the UI layer reads `code` to choose buttons (e.g. "Open Settings" with `setting`).
import { errorCode } from '../errorCode';

export type StackErrorCode =
  | 'no-engine'
  | 'engine-not-running'
  | 'permission-denied'
  | 'engine-error'
  | 'pull-failed'
  | 'port-taken'
  | 'container-exited'
  | 'container-unhealthy'
  | 'health-timeout'
  | 'invalid-compose'
  | 'name-conflict'
  | 'missing-config-file'
  | 'cancelled';

export class StackError extends Error {
  /** The setting the user can change to fix this, when there is one (e.g. `claudeTelemetry.ports.prometheus`). */
  readonly setting: string | undefined;

  constructor(
    readonly code: StackErrorCode,
    message: string,
    options?: { cause?: unknown; setting?: string | undefined },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StackError';
    this.setting = options?.setting;
  }
}

export class NoEngineFoundError extends StackError {
  constructor(readonly lookedAt: readonly string[]) {
    super(
      'no-engine',
      'No container engine found. Looked at:\n' +
        lookedAt.map((l) => `  - ${l}`).join('\n') +
        '\nInstall and start Docker (Docker Desktop, Docker Engine, Podman with its Docker-compatible socket, or ' +
        'Colima), or point the `claudeTelemetry.docker.host` setting at your engine (e.g. unix:///path/to/docker.sock).',
      { setting: 'claudeTelemetry.docker.host' },
    );
  }
}

export class EngineNotRunningError extends StackError {
  constructor(
    readonly where: string,
    cause?: unknown,
  ) {
    super(
      'engine-not-running',
      `The container engine at ${where} is not running (${causeText(cause)}). ` +
        'Start Docker (or Podman / Colima) and try again; if your engine listens elsewhere, set ' +
        '`claudeTelemetry.docker.host`.',
      { cause, setting: 'claudeTelemetry.docker.host' },
    );
  }
}

export class PermissionDeniedError extends StackError {
  constructor(
    readonly where: string,
    cause?: unknown,
  ) {
    super(
      'permission-denied',
      `Permission denied on the Docker socket ${where} (${causeText(cause)}). ` +
        'On Linux, add your user to the `docker` group (`sudo usermod -aG docker $USER`), then log out and back in ' +
        '(or reboot) so the new group applies to VS Code, and try again.',
      { cause },
    );
  }
}

export class EngineError extends StackError {
  constructor(action: string, cause: unknown) {
    super('engine-error', `The container engine failed to ${action}: ${engineMessage(cause)}`, { cause });
  }
}

export class PullFailedError extends StackError {
  constructor(
    readonly image: string,
    readonly service: string,
    readonly engineMessage: string,
    setting: string | undefined,
    cause?: unknown,
  ) {
    const kind = classifyPullMessage(engineMessage);
    const why =
      kind === 'unreachable'
        ? 'the registry could not be reached'
        : kind === 'not-found'
          ? 'the image or tag does not exist (or needs a login)'
          : 'the pull failed';
    const where = setting ? `the \`${setting}\` setting` : 'the image setting';
    super(
      'pull-failed',
      `Could not pull image "${image}" for service "${service}": ${why}. The engine said: "${engineMessage}". ` +
        (kind === 'unreachable'
          ? 'Check your network or proxy; without registry access (air-gapped), load the image into your engine ' +
            `(docker load) and point ${where} at it.`
          : `Check the image name and tag, run \`docker login\` if it is private, or point ${where} at an image ` +
            'your engine has.'),
      { cause, setting },
    );
  }
}

export class PortTakenError extends StackError {
  constructor(
    readonly port: number,
    readonly hostIp: string,
    readonly service: string,
    readonly variable: string | undefined,
    setting: string | undefined,
    readonly holder: string | undefined,
  ) {
    const move =
      setting && variable
        ? `change the \`${setting}\` setting (variable ${variable})`
        : setting
          ? `change the \`${setting}\` setting`
          : variable
            ? `set the ${variable} variable to a free port`
            : 'free the port';
    super(
      'port-taken',
      `Port ${port} on ${hostIp}, wanted by service "${service}", is already in use` +
        (holder ? ` by ${holder}` : ' by another program') +
        `. Stop what uses it or ${move}, then start again.`,
      { setting },
    );
  }
}

export class ContainerFailedError extends StackError {
  constructor(
    code: 'container-exited' | 'container-unhealthy' | 'health-timeout',
    readonly service: string,
    readonly detail: string,
    readonly lastLogLines: readonly string[],
  ) {
    const logs = lastLogLines.length
      ? `\nLast ${lastLogLines.length} log lines of "${service}":\n` + lastLogLines.map((l) => `  ${l}`).join('\n')
      : `\n"${service}" wrote no log lines.`;
    const next =
      code === 'health-timeout'
        ? 'It may still be starting on a slow machine: try again, or run "Show Stack Logs" for this service.'
        : 'Run "Show Stack Logs" for this service for the full log; "Restart Telemetry Stack" retries.';
    super(code, `Service "${service}" ${detail}. ${next}${logs}`);
  }
}

export class InvalidComposeError extends StackError {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly line?: number,
    readonly col?: number,
    readonly keyPath?: string,
  ) {
    const at = line !== undefined ? `${file}:${line}${col !== undefined ? `:${col}` : ''}` : file;
    super(
      'invalid-compose',
      `The stack file ${at} is invalid: ${problem}. ` +
        'Fix or undo the edit (reinstalling the extension restores the original file), then start again.',
    );
  }
}

export class NameConflictError extends StackError {
  constructor(readonly name: string, readonly kind: 'container' | 'network' | 'volume', readonly project: string) {
    super(
      'name-conflict',
      `A ${kind} named "${name}" already exists and does not belong to the "${project}" stack. ` +
        `Remove or rename it (docker ${kind} rm ${name}) and start again.`,
    );
  }
}

export class MissingConfigFileError extends StackError {
  constructor(readonly service: string, readonly path: string) {
    super(
      'missing-config-file',
      `Service "${service}" mounts ${path}, which does not exist. Reinstall the extension to restore its stack files.`,
    );
  }
}

export class CancelledError extends StackError {
  constructor(what = 'Start') {
    super('cancelled', `${what} cancelled. Nothing was lost; start again when ready.`);
  }
}

/** Classify a registry error message from the engine. */
export function classifyPullMessage(message: string): 'unreachable' | 'not-found' | 'other' {
  const m = message.toLowerCase();
  if (
    /no such host|dial tcp|i\/o timeout|connection refused|network is unreachable|tls handshake timeout|temporary failure in name resolution|server misbehaving|timeout exceeded|proxyconnect|lookup /.test(
      m,
    )
  ) {
    return 'unreachable';
  }
  if (/manifest unknown|not found|does not exist|pull access denied|repository .* not found|unauthorized/.test(m)) {
    return 'not-found';
  }
  return 'other';
}

interface ErrnoLike {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  address?: unknown;
  statusCode?: unknown;
  json?: unknown;
  message?: unknown;
}

export function statusCode(err: unknown): number | undefined {
  const c = (err as ErrnoLike | undefined)?.statusCode;
  return typeof c === 'number' ? c : undefined;
}

/** The engine's own message of a dockerode error (the `message` of its JSON body), or the error's message. */
export function engineMessage(err: unknown): string {
  const e = err as ErrnoLike | undefined;
  const json = e?.json as { message?: unknown } | string | undefined;
  if (json && typeof json === 'object' && typeof json.message === 'string') return json.message.trim();
  if (typeof json === 'string' && json.trim()) return json.trim();
  if (Buffer.isBuffer(json)) {
    const s = json.toString().trim();
    if (s) return s;
  }
  // docker-modem prefixes "(HTTP code 500) server error - " to the engine's text
  if (typeof e?.message === 'string') return e.message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
  return String(err);
}

function causeText(cause: unknown): string {
  if (cause === undefined) return 'no answer';
  const code = errorCode(cause);
  const e = cause as ErrnoLike;
  const msg = typeof e?.message === 'string' ? e.message : String(cause);
  return code ? `${code}: ${msg}` : msg;
}

const CONNECT_CODES_NOT_RUNNING = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Turn an error from the engine connection into the user-facing error, when it is a connection problem
 * (`where` describes the engine's location). Anything else becomes an EngineError for `action`.
 */
export function mapEngineError(err: unknown, where: string, action: string): StackError {
  if (err instanceof StackError) return err;
  const code = errorCode(err);
  if (code === 'EACCES' || code === 'EPERM') return new PermissionDeniedError(where, err);
  if (code && CONNECT_CODES_NOT_RUNNING.has(code)) return new EngineNotRunningError(where, err);
  if (code === 'ABORT_ERR' || (err as Error | undefined)?.name === 'AbortError') return new CancelledError();
  return new EngineError(action, err);
}
