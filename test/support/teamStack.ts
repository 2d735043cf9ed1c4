// The team stack of stack/team on loopback, every part real but Loki: three Cortex nodes (built from the Go module by
// scripts/components.sh) with stack/team/cortex.yaml, the real collector as the gateway (stack/collector/config.yaml
// with stack/team/gateway.yaml over it), and the Loki double (Loki is AGPL) behind the gateway. The gateway writes, and
// readers query, through front doors over the three nodes (frontDoor.ts), as a team's Service stands before them.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { startLokiDouble, type LokiDouble } from '../doubles/loki';
import { telemetryEnvironment } from '../../src/terminal/environment';
import { components } from './components';
import { createClaudeHome, runClaude } from './e2e/claude';
import { startMessagesApi } from './e2e/messagesApi';
import { repoRoot } from './paths';
import { startFrontDoor, type FrontDoor } from './frontDoor';
import { freePort } from './ports';
import { startServerProcess, type ServerProcess } from './process';

const execFileP = promisify(execFile);

export const TEAM_TENANT = 'team-e2e';

export interface CortexNode {
  name: string;
  /** Its Prometheus API (queries, rules, alerts) and push endpoint, on http://127.0.0.1:<port>. */
  url: string;
  process: ServerProcess;
}

export interface TeamStack {
  nodes: CortexNode[];
  gateway: { url: string; process: ServerProcess };
  /** The distributors' address, where the gateway pushes. */
  writes: FrontDoor;
  /** The queriers' address: `${queries.url}/prometheus` is the Prometheus API the extension reads. */
  queries: FrontDoor;
  loki: LokiDouble;
  /** A developer's token, as the team's admin hands it out (`<developer>.<secret>`). */
  tokenOf(developer: string): string;
  /**
   * One real `claude -p` of `developer`, reporting through the gateway with their token (`environment`: what the
   * developer's own environment adds), against a scripted answer of `inputTokens`; resolves to the cost it reported.
   */
  runClaude(
    developer: string,
    options?: { inputTokens?: number; environment?: Record<string, string> },
  ): Promise<number>;
  /** Loads the stack's recording and alert rules into the tenant's ruler, as a team's admin does (scripts/team-rules.mjs). */
  loadRules(tenant?: string): Promise<void>;
  stop(): Promise<void>;
}

export interface TeamStackOptions {
  /** A history already in the store when it starts: TSDB blocks (each a folder in `dir`, moved from there) of `tenant`. */
  history?: { tenant: string; dir: string };
}

/** Starts the stack with a token for each developer named. */
export async function startTeamStack(developers: string[], options: TeamStackOptions = {}): Promise<TeamStack> {
  const dir = mkdtempSync(join(tmpdir(), 'cct-team-'));
  const shared = join(dir, 'shared');
  mkdirSync(shared);
  if (options.history) placeBlocks(options.history.dir, join(shared, 'blocks', options.history.tenant));
  const started: ServerProcess[] = [];
  const doors: FrontDoor[] = [];
  let loki: LokiDouble | undefined;
  try {
    const ports = await Promise.all(
      [0, 1, 2].map(async () => ({ http: await freePort(), grpc: await freePort(), gossip: await freePort() })),
    );
    const peers = ports.map((p) => `127.0.0.1:${p.gossip}`).join(', ');
    const nodes: CortexNode[] = [];
    // Together: each waits for the ring to have its peers before it says it is ready.
    await Promise.all(
      ports.map(async (p, i) => {
        const name = `cortex-${i + 1}`;
        const data = join(dir, name);
        mkdirSync(data);
        const url = `http://127.0.0.1:${p.http}`;
        const process_ = await startServerProcess({
          name,
          command: components().cortex,
          args: [`-config.file=${join(repoRoot, 'stack', 'team', 'cortex.yaml')}`, '-config.expand-env=true'],
          cwd: data,
          env: {
            ...process.env,
            CORTEX_NODE: name,
            CORTEX_ADDR: '127.0.0.1',
            CORTEX_LISTEN: '127.0.0.1',
            CORTEX_HTTP_PORT: String(p.http),
            CORTEX_GRPC_PORT: String(p.grpc),
            CORTEX_GOSSIP_PORT: String(p.gossip),
            CORTEX_JOIN: peers,
            CORTEX_DATA: data,
            CORTEX_SHARED: shared,
          },
          readyUrl: `${url}/ready`,
          readyTimeoutMs: 90_000,
        });
        started.push(process_);
        nodes[i] = { name, url, process: process_ };
      }),
    );

    for (let i = 0; i < 2; i++) doors.push(await startFrontDoor(nodes.map((n) => n.url)));
    const [writes, queries] = doors as [FrontDoor, FrontDoor];
    loki = await startLokiDouble({ port: 0, host: '127.0.0.1' });
    const secrets = new Map(developers.map((d) => [d, `${d}.${randomBytes(16).toString('hex')}`]));
    const tokensFile = join(dir, 'tokens');
    writeFileSync(tokensFile, [...secrets.values()].join('\n') + '\n');
    const gatewayPorts = { http: await freePort(), grpc: await freePort(), health: await freePort() };
    const telemetryPort = await freePort();
    // This host's ports and folders, over the stack's and the gateway's settings.
    const local = join(dir, 'gateway-local.yaml');
    const queue = join(dir, 'gateway-queue');
    mkdirSync(queue);
    writeFileSync(
      local,
      stringify({
        extensions: {
          health_check: { endpoint: `127.0.0.1:${gatewayPorts.health}` },
          'file_storage/queue': { directory: queue, compaction: { directory: queue } },
        },
        receivers: {
          otlp: {
            protocols: {
              grpc: { endpoint: `127.0.0.1:${gatewayPorts.grpc}` },
              http: { endpoint: `127.0.0.1:${gatewayPorts.http}` },
            },
          },
        },
        service: {
          telemetry: {
            metrics: { readers: [{ pull: { exporter: { prometheus: { host: '127.0.0.1', port: telemetryPort } } } }] },
          },
        },
      }),
    );
    const gatewayUrl = `http://127.0.0.1:${gatewayPorts.http}`;
    const gateway = await startServerProcess({
      name: 'gateway',
      command: components().collector,
      args: [
        `--config=${join(repoRoot, 'stack', 'collector', 'config.yaml')}`,
        `--config=${join(repoRoot, 'stack', 'team', 'gateway.yaml')}`,
        `--config=${local}`,
      ],
      cwd: dir,
      env: {
        ...process.env,
        GATEWAY_TOKENS_FILE: tokensFile,
        STORE_PUSH_URL: `${writes.url}/api/v1/push`,
        LOKI_OTLP_URL: `http://127.0.0.1:${loki.port}/otlp`,
        TEAM_TENANT,
      },
      readyUrl: `http://127.0.0.1:${gatewayPorts.health}/`,
    });
    started.push(gateway);

    const lokiDouble = loki;
    const tokenOf = (developer: string): string => {
      const token = secrets.get(developer);
      if (!token) throw new Error(`no token for ${developer}`);
      return token;
    };
    return {
      nodes,
      gateway: { url: gatewayUrl, process: gateway },
      writes,
      queries,
      loki: lokiDouble,
      tokenOf,
      runClaude: async (developer, options = {}) => {
        const home = createClaudeHome('cct-team-home-');
        const api = await startMessagesApi([
          {
            kind: 'text',
            text: `Hello, ${developer}.`,
            usage: { input_tokens: options.inputTokens ?? 30_000, output_tokens: 1_500 },
          },
        ]);
        try {
          const telemetry = {
            ...telemetryEnvironment({
              endpoint: gatewayUrl,
              metricExportIntervalMs: 1000,
              logsExportIntervalMs: 500,
              logUserPrompts: false,
              logToolDetails: false,
              workspaceName: 'team-project',
              repository: undefined,
              existingResourceAttributes: undefined,
              headers: `authorization=Bearer ${tokenOf(developer)}`,
            }),
            ...options.environment,
          };
          const run = await runClaude('say hello', {
            apiUrl: api.url,
            home,
            telemetry,
            args: ['--output-format', 'json'],
          });
          const usd =
            run.code === 0 ? (JSON.parse(run.stdout) as { total_cost_usd?: number }).total_cost_usd : undefined;
          if (!usd) throw new Error(`${developer}'s claude -p exited ${run.code}: ${run.stdout}\n${run.stderr}`);
          return usd;
        } finally {
          await api.close();
          home.remove();
        }
      },
      loadRules: async (tenant = TEAM_TENANT) => {
        await execFileP(process.execPath, [join(repoRoot, 'scripts', 'team-rules.mjs'), queries.url, tenant]);
      },
      stop: async () => {
        await Promise.all(started.map((p) => p.stop()));
        await Promise.all(doors.map((d) => d.close()));
        await lokiDouble.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(started.map((p) => p.stop()));
    await Promise.all(doors.map((d) => d.close()));
    await loki?.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Blocks in a tenant's bucket folder before the nodes start: the compactor's cleaner writes the bucket index as it
 * starts, and each store gateway loads them at its next sync (a minute). Each is marked not to compact: promtool's
 * blocks have no external labels, and the compactor's upload of a compacted one fails without them.
 */
function placeBlocks(from: string, tenantDir: string): void {
  mkdirSync(tenantDir, { recursive: true });
  for (const id of readdirSync(from)) {
    const mark = {
      id,
      version: 1,
      details: 'a history placed before the start',
      no_compact_time: Math.floor(Date.now() / 1000),
      reason: 'manual',
    };
    writeFileSync(join(from, id, 'no-compact-mark.json'), JSON.stringify(mark));
    // A rename: a block appears whole, never half-copied.
    renameSync(join(from, id), join(tenantDir, id));
  }
}
