import * as vscode from 'vscode';
import type { Config } from '../config';
import type { TimeRange } from '../protocol';

export const GRAFANA_DASHBOARD_UID = 'claude-code-telemetry';

/** The provisioned dashboard's address for a range, as Grafana links it: `/d/<uid>?orgId=1&from=now-24h&to=now`. */
export function grafanaDashboardUrl(baseUrl: string, range: TimeRange): string {
  const url = new URL(`d/${GRAFANA_DASHBOARD_UID}`, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('orgId', '1');
  url.searchParams.set('from', `now-${range}`);
  url.searchParams.set('to', 'now');
  return url.toString();
}

/** Opens Grafana in the browser; `asExternalUri` forwards the port when the window is remote. */
export async function openGrafana(config: Config, range: TimeRange): Promise<void> {
  const local = vscode.Uri.parse(grafanaDashboardUrl(`http://127.0.0.1:${config.ports.grafana}`, range));
  const external = await vscode.env.asExternalUri(local);
  await vscode.env.openExternal(external);
}
