// Sends the alert thresholds of the settings to the collector, where the stack's alert rules read them (see
// ./alerts.ts). Plain Node: never import `vscode`.
import { request } from 'undici';
import { thresholdsRequest, type AlertThresholds } from './alerts';

/**
 * POSTs the thresholds to `<otlpHttpBase>/v1/metrics`, with the team collector's headers when it needs them (as
 * the terminals send theirs); rejects with the collector's status or the network error.
 */
export async function publishThresholds(
  otlpHttpBase: string,
  thresholds: AlertThresholds,
  nowMs: number,
  options: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<void> {
  const { signal, headers = {} } = options;
  const response = await request(`${otlpHttpBase.replace(/\/+$/, '')}/v1/metrics`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(thresholdsRequest(thresholds, nowMs)),
    headersTimeout: 5_000,
    bodyTimeout: 5_000,
    ...(signal ? { signal } : {}),
  });
  await response.body.dump();
  if (response.statusCode >= 300)
    throw new Error(`the collector at ${otlpHttpBase} answered HTTP ${response.statusCode}`);
}
