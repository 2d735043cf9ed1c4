// The doctor's check of the collector's own telemetry, against a real Prometheus (the pinned 3.x) holding the
// series the real collector serves on :8888 (names as collector 0.161 writes them, and with the `_total` older
// releases wrote), for each state the user can meet.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectorTelemetryCheck } from '../../src/doctor/collectorTelemetryCheck';
import { PrometheusClient } from '../../src/telemetry/prometheus';
import { startLoadedPrometheus } from '../support/promServer';

const STEP = 5;
const SPAN = 20 * 60;

interface Series {
  name: string;
  labels: string;
  /** The value at `ago` seconds before now. */
  value: (ago: number) => number;
  /** OpenMetrics counters carry `_total`; a gauge keeps the bare name, as collector 0.161 serves it. */
  type?: 'counter' | 'gauge';
  /** Born this many seconds ago (the collector creates some counters at their first increment). */
  since?: number;
}

function openMetrics(series: Series[], now: number): string {
  const lines: string[] = [];
  for (const s of series) {
    const type = s.type ?? 'gauge';
    lines.push(`# TYPE ${s.name} ${type}`);
    for (let ago = s.since ?? SPAN; ago >= STEP; ago -= STEP) {
      lines.push(`${s.name}${type === 'counter' ? '_total' : ''}{${s.labels}} ${s.value(ago)} ${now - ago}`);
    }
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

const JOB = 'job="otel-collector",instance="otel-collector:8888"';
const up = (v: number): Series => ({ name: 'up', labels: JOB, value: () => v });
const accepted: Series[] = [
  { name: 'otelcol_process_uptime', labels: JOB, value: (ago) => SPAN + 60 - ago },
  {
    name: 'otelcol_receiver_accepted_metric_points',
    labels: `${JOB},receiver="otlp",transport="http"`,
    value: (ago) => 4000 - ago,
  },
  {
    name: 'otelcol_receiver_accepted_log_records',
    labels: `${JOB},receiver="otlp",transport="http"`,
    value: (ago) => 2000 - ago,
    type: 'counter',
  },
];
const queue = (v: (ago: number) => number): Series => ({
  name: 'otelcol_exporter_queue_size',
  labels: `${JOB},exporter="otlp_http/loki"`,
  value: v,
});

async function verdict(series: Series[]): Promise<Awaited<ReturnType<typeof collectorTelemetryCheck>>> {
  const now = Math.floor(Date.now() / 1000);
  const prometheus = await startLoadedPrometheus({ openMetrics: openMetrics(series, now) });
  const prom = new PrometheusClient({ baseUrl: prometheus.url });
  try {
    return await collectorTelemetryCheck({ prom, collectorService: 'otel-collector' });
  } finally {
    await prom.close();
    await prometheus.stop();
  }
}

describe("doctor: the collector's own telemetry (real Prometheus)", () => {
  it('just started, nothing received yet: ok', async () => {
    const v = await verdict([up(1), accepted[0]]);
    assert.equal(v.status, 'ok', JSON.stringify(v));
    assert.match(v.detail, /^It accepted 0 metric points and 0 events since it started/);
  });

  it('refusals of both kinds add up: warn', async () => {
    const refused = (name: string, n: number): Series => ({
      name,
      labels: `${JOB},receiver="otlp",transport="http"`,
      value: () => n,
      type: 'counter',
      since: 120,
    });
    const v = await verdict([
      up(1),
      ...accepted,
      refused('otelcol_receiver_refused_metric_points', 5),
      refused('otelcol_receiver_refused_log_records', 3),
    ]);
    assert.equal(v.status, 'warn', JSON.stringify(v));
    assert.match(v.detail, /it refused 8 metric points or events in the last 15m/);
  });

  it('all delivered: ok, with what it accepted', async () => {
    const v = await verdict([up(1), ...accepted, queue(() => 0)]);
    assert.equal(v.status, 'ok', JSON.stringify(v));
    assert.match(
      v.detail,
      /^It accepted 3995 metric points and 1995 events since it started; none failed to reach Loki/,
    );
  });

  it('events waiting for Loki all of the last minute: warn, nothing lost', async () => {
    const v = await verdict([up(1), ...accepted, queue((ago) => (ago <= 120 ? 7 : 0))]);
    assert.equal(v.status, 'warn', JSON.stringify(v));
    assert.match(v.detail, /7 batches of events have waited for Loki all of the last minute/);
    assert.match(v.fix ?? '', /kept on disk and retried, nothing is lost/);
  });

  it("a moment's queue is no warning", async () => {
    const v = await verdict([up(1), ...accepted, queue((ago) => (ago === 30 ? 2 : 0))]);
    assert.equal(v.status, 'ok', JSON.stringify(v));
  });

  it("events Loki refused, counted from the failure counter's birth: warn", async () => {
    const failed: Series = {
      name: 'otelcol_exporter_send_failed_log_records',
      labels: `${JOB},exporter="otlp_http/loki"`,
      value: () => 12,
      type: 'counter',
      since: 300,
    };
    const v = await verdict([up(1), ...accepted, queue(() => 0), failed]);
    assert.equal(v.status, 'warn', JSON.stringify(v));
    assert.match(v.detail, /12 events failed to reach Loki in the last 15m/);
  });

  it('metrics under other names: warn, naming the setting that brings back the pinned collector', async () => {
    const v = await verdict([up(1), { name: 'otelcol_process_uptime_seconds', labels: JOB, value: () => 1 }]);
    assert.equal(v.status, 'warn', JSON.stringify(v));
    assert.match(v.fix ?? '', /claudeTelemetry\.stack\.images\.collector/);
  });

  it('not scraped at all, or not answering: fail with the file or the log to look at', async () => {
    const none = await verdict([
      { name: 'up', labels: 'job="claude-code",instance="otel-collector:8889"', value: () => 1 },
    ]);
    assert.equal(none.status, 'fail');
    assert.match(none.fix ?? '', /stack\/prometheus\/prometheus\.yml with the "otel-collector" job/);
    const down = await verdict([up(0)]);
    assert.equal(down.status, 'fail');
    assert.match(down.detail, /= 0: Prometheus cannot read otel-collector:8888/);
  });
});
