// Section 5: what the status line bridge adds to each Claude Code status line update. A realistic status line
// command is run as Claude Code runs it (`/bin/sh -c`, the status JSON on stdin) directly, and through the bridge's
// command line as settings.json holds it (dist/statusLine.js on this Node; VS Code runs it on its Electron as Node),
// interleaved, each run a fresh process, against a local stand-in for the collector's OTLP/HTTP receiver.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { shellQuote } from '../src/shell';
import { BRIDGE_SCRIPT, bridgeCommand, type BridgeArguments } from '../src/statusLine/statusLine';
import { FULL } from '../test/support/claudeStatusLine';
import { repoRoot } from '../test/support/paths';
import { fmtMs, median, percentile, table } from './table';

const PREVIOUS_COMMAND = 'cat >/dev/null; echo hi';
const INPUT = JSON.stringify(FULL);

/** Wall time of one `/bin/sh -c <command>` with the status JSON on stdin, to its exit; throws on a wrong line. */
function timeCommand(command: string, expected: RegExp): Promise<number> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'pipe' });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.once('error', fail);
    child.once('close', (status) => {
      const elapsed = performance.now() - started;
      if (status !== 0 || !expected.test(stdout))
        fail(new Error(`${command}: exit ${status}, printed ${JSON.stringify(stdout)}`));
      else done(elapsed);
    });
    child.stdin.end(INPUT);
  });
}

/** Answers 200 to every export, counting them. */
async function otlpStandIn(): Promise<{ endpoint: string; exports: () => number; server: Server }> {
  let exports = 0;
  const server = createServer((request, response) => {
    request.resume().on('end', () => {
      exports++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, exports: () => exports, server };
}

export async function benchStatusLine(runs: number, warmup: number): Promise<string> {
  const collector = await otlpStandIn();
  const down = await otlpStandIn();
  await new Promise((closed) => down.server.close(closed));
  const bridged = (args: BridgeArguments) =>
    bridgeCommand(
      { executable: process.execPath, script: join(repoRoot, BRIDGE_SCRIPT), platform: process.platform },
      args,
    );
  const variants = [
    { name: `direct: \`${PREVIOUS_COMMAND}\``, command: PREVIOUS_COMMAND, expected: /^hi\n$/ },
    {
      name: 'through the bridge, collector answering',
      command: bridged({ endpoint: collector.endpoint, previousCommand: PREVIOUS_COMMAND }),
      expected: /^hi\n$/,
    },
    {
      name: 'through the bridge, collector down (port closed)',
      command: bridged({ endpoint: down.endpoint, previousCommand: PREVIOUS_COMMAND }),
      expected: /^hi\n$/,
    },
    {
      name: 'the bridge alone (its own line), collector answering',
      command: bridged({ endpoint: collector.endpoint }),
      expected: /^Opus 4\.5 · /,
    },
    // For scale: what of that is Node starting, and what one export would cost with fetch, which the bridge avoids.
    {
      name: 'for scale: Node starting and exiting (`node -e 0`)',
      command: `${shellQuote(process.execPath)} -e 0`,
      expected: /^$/,
    },
    {
      name: 'for scale: Node posting one export with `fetch`',
      command: `${shellQuote(process.execPath)} -e ${shellQuote(`fetch('${collector.endpoint}/v1/metrics', { method: 'POST', body: '{}' }).then(() => process.exit(0))`)}`,
      expected: /^$/,
    },
  ];
  const times = variants.map((): number[] => []);
  try {
    for (let i = 0; i < warmup + runs; i++) {
      // Interleaved, in an order that turns each round, so a drift of the machine weighs on every variant alike.
      for (let k = 0; k < variants.length; k++) {
        const v = (i + k) % variants.length;
        const elapsed = await timeCommand(variants[v]!.command, variants[v]!.expected);
        if (i >= warmup) times[v]!.push(elapsed);
      }
    }
  } finally {
    await new Promise((closed) => collector.server.close(closed));
  }
  const direct = times[0]!;
  const rows = variants.map((variant, v) => {
    // Added latency of round i: that round's run minus the direct run of the same round.
    const added = times[v]!.map((elapsed, i) => elapsed - direct[i]!);
    return [
      variant.name,
      fmtMs(median(times[v]!)),
      fmtMs(percentile(times[v]!, 99)),
      v === 0 ? '' : fmtMs(median(added)),
      v === 0 ? '' : fmtMs(percentile(added, 99)),
    ];
  });
  return `## 5. Status line bridge (issue 14)\n\n${table(
    `Status line bridge: one status line update, ${runs} runs per variant after ${warmup} warm-ups, interleaved`,
    ['status line command', 'median', 'p99', 'added, median', 'added, p99'],
    rows,
    [
      `Each run is \`/bin/sh -c <command>\` with Claude Code's status JSON (${INPUT.length} bytes) on stdin, timed to its exit, as Claude Code runs it. ` +
        "The bridge runs the same command on the same input, beside its export to the collector. Added: per round, the run minus that round's direct run. " +
        `The stand-in collector received ${collector.exports()} exports.`,
    ],
  )}`;
}
