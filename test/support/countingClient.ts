// A Prometheus client that records the requests it sends, by API, with how long each took: for the tests' and the
// bench's request counts of a refresh. The requests still go to the real Prometheus.
import { PrometheusClient } from '../../src/telemetry/prometheus';

export type RequestKind = 'range' | 'instant' | 'labels';

export class CountingPrometheusClient extends PrometheusClient {
  /** Milliseconds of each request sent since the last `take()`, by API. */
  sent: Record<RequestKind, number[]> = { range: [], instant: [], labels: [] };

  private async timed<T>(kind: RequestKind, p: Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await p;
    } finally {
      this.sent[kind].push(performance.now() - t0);
    }
  }

  override range(...args: Parameters<PrometheusClient['range']>): ReturnType<PrometheusClient['range']> {
    return this.timed('range', super.range(...args));
  }

  override instant(...args: Parameters<PrometheusClient['instant']>): ReturnType<PrometheusClient['instant']> {
    return this.timed('instant', super.instant(...args));
  }

  override labelNames(...args: Parameters<PrometheusClient['labelNames']>): ReturnType<PrometheusClient['labelNames']> {
    return this.timed('labels', super.labelNames(...args));
  }

  /** What was sent since the last call, and starts counting again. */
  take(): Record<RequestKind, number[]> {
    const sent = this.sent;
    this.sent = { range: [], instant: [], labels: [] };
    return sent;
  }
}
