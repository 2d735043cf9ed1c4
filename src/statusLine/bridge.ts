/**
 * The status line bridge, bundled as dist/statusLine.js: Claude Code's `statusLine` command while "Show Plan Usage in
 * Claude Code's Status Line…" is on. Claude Code pipes its status JSON to it on each update and shows what it prints.
 * It sends the plan usage and context window figures of that JSON to the collector as OTLP/HTTP JSON gauges, runs
 * the user's own status line command (if any) on the same input, and prints that command's output unchanged, or a
 * compact line of its own (`Opus 4.5 · $1.23 · ctx 37% · 5h 42% · 7d 17%`) when there is none, it fails (prints
 * nothing, cannot be started) or it takes too long. It always prints something and always exits 0; a collector
 * down or slow delays the line by the export timeout at most (the export and the command run side by side).
 *
 * Started as `ELECTRON_RUN_AS_NODE=1 '<editor executable>' '<extension>/dist/statusLine.js' [--name=value ...]`
 * (statusLine.ts builds and reads that line). Arguments, each optional, unknown ones skipped:
 *   --endpoint=<url>             OTLP/HTTP base of the collector; POST <url>/v1/metrics. Default http://127.0.0.1:4318.
 *   --previous=<base64url>       the user's own status line command: base64url of its UTF-8 JSON string form.
 *   --saved=<base64url>          the user's own `statusLine` value as settings.json held it (its JSON text, the same
 *                                encoding): read only by the extension, which writes it back when the bridge is removed.
 *   --export-timeout-ms=<n>      how long the export may take (default 300).
 *   --command-timeout-ms=<n>     how long the user's command may take before it is killed (default 5000).
 *
 * Only node built-ins and pure modules here: it starts on each status line update, so it must start fast.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_EXPORT_TIMEOUT_MS,
  defaultLine,
  INPUT_LIMIT_BYTES,
  metricsRequest,
  parseBridgeArguments,
  parseStatusLineInput,
  type OtlpMetricsRequest,
} from './statusLine';

/** Standard input up to `limit` bytes, or what came before `timeoutMs` (Claude Code closes it after the JSON). */
function readInput(limit: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      clearTimeout(timer);
      process.stdin.removeAllListeners('data').pause();
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(done, timeoutMs);
    process.stdin.on('data', (chunk: Buffer) => {
      chunks.push(chunk.subarray(0, limit - size));
      size += Math.min(chunk.length, limit - size);
      if (size >= limit) done();
    });
    process.stdin.once('end', done);
    process.stdin.once('error', done);
  });
}

/**
 * Silent whatever happens: the collector may be stopped, and the status line must not wait for it. node:http rather
 * than `fetch`: fetch's first call loads undici, which costs more than the rest of the bridge (docs/benchmarks.md).
 */
async function exportMetrics(endpoint: string, request: OtlpMetricsRequest, timeoutMs: number): Promise<void> {
  const url = new URL(`${endpoint.replace(/\/+$/, '')}/v1/metrics`);
  const body = JSON.stringify(request);
  // https (and TLS) loaded only for a team collector that asks for it.
  const { request: send } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  await new Promise<void>((done) => {
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const exporting = send(url, { method: 'POST', headers, signal: AbortSignal.timeout(timeoutMs) }, (response) => {
      response.resume();
      done();
    });
    // Down, refused or too slow (the signal aborts it): the next update sends fresh figures.
    exporting.once('error', () => done());
    exporting.end(body);
  });
}

/** What the user's command may print that is kept. */
const OUTPUT_LIMIT_BYTES = 1 << 20;

/** Ours, without the variable that only made the editor's executable run the bridge as Node. */
function commandEnvironment(): NodeJS.ProcessEnv {
  const environment = { ...process.env };
  delete environment.ELECTRON_RUN_AS_NODE;
  return environment;
}

/**
 * The command's standard output, run as Claude Code runs status line commands (sh; Git Bash on Windows) on the same
 * input; undefined when it cannot be started or outlives `timeoutMs` (then it is killed). Its standard error goes to
 * ours, which Claude Code logs. Every stream of it is a pipe of ours, so nothing it leaves behind holds Claude Code's.
 */
function runCommand(command: string, input: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(command, {
        shell: process.platform === 'win32' ? (process.env.CLAUDE_CODE_GIT_BASH_PATH ?? 'bash.exe') : true,
        env: commandEnvironment(),
        stdio: 'pipe',
        windowsHide: true,
      });
    } catch {
      // A command spawn refuses outright (a NUL character in it).
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    const finish = (output: Buffer | undefined) => {
      clearTimeout(timer);
      resolve(output);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(undefined);
    }, timeoutMs);
    let size = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      // A runaway command (`yes`) must not fill the memory before its timeout: a status line is a few lines.
      if (size < OUTPUT_LIMIT_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.once('error', () => finish(undefined));
    child.once('close', () => finish(Buffer.concat(chunks)));
    // A command that does not read its input may exit before it is written.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

async function statusLine(): Promise<string | Buffer> {
  const args = parseBridgeArguments(process.argv.slice(2));
  const commandTimeoutMs = args.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const input = await readInput(INPUT_LIMIT_BYTES, commandTimeoutMs);
  const status = parseStatusLineInput(input.toString('utf8'));
  const request = status && metricsRequest(status, Date.now());
  const [output] = await Promise.all([
    args.previousCommand === undefined ? undefined : runCommand(args.previousCommand, input, commandTimeoutMs),
    request && exportMetrics(args.endpoint, request, args.exportTimeoutMs ?? DEFAULT_EXPORT_TIMEOUT_MS),
  ]);
  // Claude Code shows nothing for an empty line: print ours rather than leave it blank.
  return output !== undefined && output.toString('utf8').trim() !== '' ? output : defaultLine(status);
}

// Claude Code may stop reading (a newer update replaces this one): a write error must not turn into a crash.
process.stdout.on('error', () => process.exit(0));
process.stderr.on('error', () => undefined);
statusLine()
  .catch(() => defaultLine(undefined))
  .then((line) => process.stdout.write(line, () => process.exit(0)));
