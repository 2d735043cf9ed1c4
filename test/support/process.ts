// A real server run as a child process for a test: started, waited for until an HTTP path answers 2xx, stopped (or
// killed, as a crash) and started again with the same command.
import { spawn, type ChildProcess } from 'node:child_process';

export interface ServerProcessOptions {
  /** Named in errors. */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** A URL that answers 2xx once the server is ready. */
  readyUrl: string;
  readyTimeoutMs?: number;
}

export interface ServerProcess {
  /** SIGTERM, then SIGKILL after 10 s; resolves once it exited. */
  stop(): Promise<void>;
  /** SIGKILL: as a crash or a node lost. */
  kill(): Promise<void>;
  /** Starts it again with the same command, and waits until it is ready. */
  restart(): Promise<void>;
  /** The last lines it wrote to stderr. */
  readonly stderr: string;
  /** The running process's id (undefined once it exited): for its CPU and memory. */
  readonly pid: number | undefined;
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  let child: ChildProcess;
  let exited = true;
  let stderr = '';
  const launch = async (): Promise<void> => {
    child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    exited = false;
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    for (;;) {
      if (exited) throw new Error(`${options.name} exited during start-up: ${stderr}`);
      try {
        const res = await fetch(options.readyUrl);
        if (res.ok) return;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) {
        await signal('SIGKILL');
        throw new Error(`${options.name} not ready after ${options.readyTimeoutMs ?? 30_000} ms: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const signal = async (name: NodeJS.Signals): Promise<void> => {
    if (exited) return;
    await new Promise<void>((res) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(t);
        res();
      });
      child.kill(name);
    });
  };
  await launch();
  return {
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    restart: launch,
    get stderr() {
      return stderr;
    },
    get pid() {
      return exited ? undefined : child.pid;
    },
  };
}
