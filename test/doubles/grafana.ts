// TEST DOUBLE of Grafana (never shipped): enough for the extension's "Open Grafana" link and health checks.
//   GET /api/health                      Grafana's health JSON
//   GET /d/<uid>[/<slug>]                200 (HTML) for the dashboards it knows, 404 otherwise
//   GET /api/dashboards/uid/<uid>        a minimal dashboard JSON for the same uids, 404 otherwise
//   GET /login                           200
// Like a deploy that forgot GRAFANA_ADMIN_PASSWORD, it refuses to start without GF_SECURITY_ADMIN_PASSWORD.
import { HttpError, closeServer, createServer, envInt, exitOnSignals, listen, sendJson } from './common';

export const GRAFANA_DOUBLE_VERSION = '11.5.2';
export const DASHBOARDS: Record<string, string> = { 'claude-code-telemetry': 'Claude Code Telemetry' };

export interface GrafanaDoubleOptions {
  port?: number;
  host?: string;
  adminPassword: string | undefined;
  dashboards?: Record<string, string>;
}

export interface GrafanaDouble {
  port: number;
  close(): Promise<void>;
}

export class MissingAdminPasswordError extends Error {
  constructor() {
    super('GF_SECURITY_ADMIN_PASSWORD is not set (or empty): refusing to start with the default admin password');
  }
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startGrafanaDouble(opts: GrafanaDoubleOptions): Promise<GrafanaDouble> {
  if (!opts.adminPassword) throw new MissingAdminPasswordError();
  const dashboards = opts.dashboards ?? DASHBOARDS;
  const server = createServer('grafana-double', (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed');
    const path = url.pathname;
    if (path === '/api/health') {
      // Grafana answers pretty-printed JSON with sorted keys.
      return sendJson(res, 200, { commit: 'cct-test-double', database: 'ok', version: GRAFANA_DOUBLE_VERSION }, true);
    }
    if (path === '/login' || path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8' });
      return res.end('<!doctype html><title>Grafana</title><p>Grafana test double</p>');
    }
    const d = /^\/d\/([^/]+)(?:\/[^/]*)?$/.exec(path);
    if (d) {
      const uid = decodeURIComponent(d[1]);
      const title = dashboards[uid];
      res.writeHead(title ? 200 : 404, { 'Content-Type': 'text/html; charset=UTF-8' });
      return res.end(
        title
          ? `<!doctype html><title>${escapeHtml(title)} - Dashboards - Grafana</title><h1 data-dashboard-uid="${escapeHtml(uid)}">${escapeHtml(title)}</h1>`
          : `<!doctype html><title>Grafana</title><p>Dashboard not found</p>`,
      );
    }
    const api = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path);
    if (api) {
      const uid = decodeURIComponent(api[1]);
      const title = dashboards[uid];
      if (!title) return sendJson(res, 404, { message: 'Dashboard not found' });
      return sendJson(res, 200, { dashboard: { uid, title, version: 1 }, meta: { slug: uid, url: `/d/${uid}/${uid}` } });
    }
    return sendJson(res, 404, { message: 'Not found' });
  });
  const port = await listen(server, opts.port ?? 3000, opts.host);
  return { port, close: () => closeServer(server) };
}

/** Entry point of the cct-test/grafana-double image. */
export async function main(): Promise<void> {
  let double: GrafanaDouble;
  try {
    double = await startGrafanaDouble({ port: envInt('GF_SERVER_HTTP_PORT', 3000), adminPassword: process.env.GF_SECURITY_ADMIN_PASSWORD });
  } catch (err) {
    if (err instanceof MissingAdminPasswordError) {
      console.error(`grafana-double: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  console.log(`grafana-double ${GRAFANA_DOUBLE_VERSION}: listening on :${double.port}`);
  exitOnSignals(() => double.close());
}
