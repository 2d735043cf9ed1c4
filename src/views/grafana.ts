import * as vscode from 'vscode';
import { backends, type Config } from '../config';
import type { TimeRange } from '../snapshot';

const GRAFANA_DASHBOARD_UID = 'claude-code-telemetry';

/**
 * The provisioned dashboard's address for a range, as Grafana links it: `/d/<uid>?orgId=1&from=now-24h&to=now`, and
 * `&var-session=<id>` filtered to one session.
 */
export function grafanaDashboardUrl(baseUrl: string, range: TimeRange, sessionId?: string): string {
  const url = new URL(`d/${GRAFANA_DASHBOARD_UID}`, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('orgId', '1');
  url.searchParams.set('from', `now-${range}`);
  url.searchParams.set('to', 'now');
  if (sessionId !== undefined) url.searchParams.set('var-session', sessionId);
  return url.toString();
}

/** Opens Grafana (the team's when set) in the browser; for the local stack, `asExternalUri` forwards the port when the window is remote. */
export async function openGrafana(config: Config, range: TimeRange, sessionId?: string): Promise<void> {
  const { grafana } = backends(config);
  const uri = vscode.Uri.parse(grafanaDashboardUrl(grafana.url, range, sessionId));
  await vscode.env.openExternal(grafana.local ? await vscode.env.asExternalUri(uri) : uri);
}
