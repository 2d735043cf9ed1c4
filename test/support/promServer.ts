// Real Prometheus (the version stack/compose.yaml pins, built from its Go module: test/support/components.ts) as a
// child process, loaded by backfilling:
// `promtool tsdb create-blocks-from openmetrics` into the storage dir, then Prometheus started on it with the
// stack's recording rules loaded (they evaluate live only, on the wall clock; the backfilled history holds their
// output too, computed by the test: `promtool tsdb create-blocks-from rules` cannot evaluate rules that read their
// own previous output, as stack/prometheus/rules/recording.yml's do).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { components } from './components';
import { repoRoot } from './paths';
import { freePort } from './ports';
import { startServerProcess } from './process';

const execFileP = promisify(execFile);

/** The stack's recording rules (loaded into the test Prometheus, which must accept them). */
export const RECORDING_RULES = join(repoRoot, 'stack', 'prometheus', 'rules', 'recording.yml');

export interface PrometheusInstance {
  url: string;
  dir: string;
  rulesFile: string;
  stop(): Promise<void>;
}

export interface LoadOptions {
  /** Raw series and recording-rule series, in OpenMetrics. */
  openMetrics: string;
  /** `--storage.tsdb.retention.time` in days (default 3650). It also caps the blocks Prometheus compacts to: 10 %. */
  retentionDays?: number;
  /** Load the stack's recording rules (default true): false is a store a team did not load them into. */
  rules?: boolean;
}

export async function startLoadedPrometheus(load: LoadOptions): Promise<PrometheusInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'cct-prom-'));
  const data = join(dir, 'data');
  mkdirSync(data);
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 15s',
      '  evaluation_interval: 10s',
      // As stack/prometheus/prometheus.yml: imported history is written as OTLP, out of order.
      'storage:',
      '  tsdb:',
      '    out_of_order_time_window: 3650d',
      'otlp:',
      '  translation_strategy: NoTranslation',
      ...(load.rules === false ? [] : ['rule_files:', `  - ${JSON.stringify(RECORDING_RULES)}`]),
      'scrape_configs: []',
      '',
    ].join('\n'),
  );
  const om = join(dir, 'series.om');
  writeFileSync(om, load.openMetrics);
  await execFileP(components().promtool, ['tsdb', 'create-blocks-from', 'openmetrics', '-q', om, data], {
    maxBuffer: 64 << 20,
  });
  rmSync(om);

  const proc = await launch(config, data, dir, load.retentionDays ?? 3650);
  const final = proc;
  return {
    url: final.url,
    dir,
    rulesFile: RECORDING_RULES,
    stop: async () => {
      await final.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function launch(
  config: string,
  data: string,
  dir: string,
  retentionDays: number,
): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startServerProcess({
    name: 'prometheus',
    command: components().prometheus,
    args: [
      `--config.file=${config}`,
      `--storage.tsdb.path=${data}`,
      `--storage.tsdb.retention.time=${retentionDays}d`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--web.enable-otlp-receiver',
      '--web.enable-admin-api',
      '--log.level=warn',
    ],
    cwd: dir,
    readyUrl: `${url}/-/ready`,
  });
  return { url, stop: () => server.stop() };
}
