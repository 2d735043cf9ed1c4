// Sends the alert thresholds of the settings to the collector, where the stack's alert rules read them (see
// ./alerts.ts). Plain Node: never import `vscode`.
import { request } from 'undici';
import { thresholdsRequest, type AlertThresholds } from './alerts';

/**
 * The headers of an `OTEL_EXPORTER_OTLP_HEADERS` value (`key=value,key2=value2`) as Claude Code sends them: values
 * as written, not percent-decoded (CLI 2.1.328 sends `Bearer%20x` as is, measured), so that the extension's own
 * requests to a team collector succeed or fail as the terminals' do. Entries without a key or `=` are skipped.
 */
export function otlpHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of (text ?? '').split(',')) {
    const at = entry.indexOf('=');
    const key = entry.slice(0, Math.max(at, 0)).trim();
    if (key) headers[key.toLowerCase()] = entry.slice(at + 1).trim();
  }
  return headers;
}

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
