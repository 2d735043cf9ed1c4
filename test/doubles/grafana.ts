// TEST DOUBLE of Grafana (never shipped): enough for the extension's "Open Grafana" link, health checks and the
// admin password the extension keeps in step with it.
//   GET /api/health                      Grafana's health JSON (no auth)
//   GET /d/<uid>[/<slug>]                200 (HTML) for the dashboards it knows, 404 otherwise
//   GET /api/dashboards/uid/<uid>        a minimal dashboard JSON for the same uids, 404 otherwise
//   GET /login                           200
//   GET /api/user                        the signed-in user (basic auth), 401 without it
//   PUT /api/admin/users/<id>/password   {"password": "..."}: sets a user's password (basic auth of the admin)
// As Grafana, it makes its admin user from GF_SECURITY_ADMIN_USER / GF_SECURITY_ADMIN_PASSWORD only when it creates
// its database (with a data directory: a file there, so the stack's volume keeps it), and keeps that password on
// later starts whatever the variable says; a request with basic auth whose password is wrong is answered 401.
// Like a deploy that forgot GRAFANA_ADMIN_PASSWORD, it refuses to start without GF_SECURITY_ADMIN_PASSWORD.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { join } from 'node:path';
import { HttpError, closeServer, createServer, decodeJson, envInt, exitOnSignals, listen, readBody, sendJson } from './common';

export const GRAFANA_DOUBLE_VERSION = '11.5.2';
export const DASHBOARDS: Record<string, string> = { 'claude-code-telemetry': 'Claude Code Telemetry' };
/** The id Grafana gives the admin user it creates with its database. */
const ADMIN_USER_ID = 1;
/** Grafana's shortest accepted password. */
const MIN_PASSWORD_LENGTH = 4;

export interface GrafanaDoubleOptions {
  port?: number;
  host?: string;
  adminUser?: string;
  adminPassword: string | undefined;
  /** Where the admin user is kept across starts (Grafana's /var/lib/grafana); none: made anew at each start. */
  dataDir?: string;
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

/** The admin user as the double's "database" keeps it: a salted hash, as Grafana keeps its users' passwords. */
interface StoredUser {
  id: number;
  login: string;
  salt: string;
  hash: string;
}

function hashed(login: string, password: string, salt = randomBytes(16).toString('hex')): StoredUser {
  return { id: ADMIN_USER_ID, login, salt, hash: scryptSync(password, salt, 32).toString('hex') };
}

function matches(user: StoredUser, password: string): boolean {
  return timingSafeEqual(Buffer.from(user.hash, 'hex'), scryptSync(password, user.salt, 32));
}

/** The admin user of the database in `dataDir`, created with `login` and `password` when there is none yet. */
function openAdminStore(dataDir: string | undefined, login: string, password: string): { user: StoredUser; save(user: StoredUser): void } {
  const file = dataDir ? join(dataDir, 'admin-user.json') : undefined;
  const save = (user: StoredUser): void => {
    if (file) fs.writeFileSync(file, JSON.stringify(user), { mode: 0o600 });
  };
  if (file && fs.existsSync(file)) return { user: JSON.parse(fs.readFileSync(file, 'utf8')) as StoredUser, save };
  const user = hashed(login, password);
  save(user);
  return { user, save };
}

/** The user a request's basic auth signs in: undefined without basic auth, 'rejected' when it does not match. */
function signedIn(req: http.IncomingMessage, admin: StoredUser): StoredUser | 'rejected' | undefined {
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon !== -1 && decoded.slice(0, colon) === admin.login && matches(admin, decoded.slice(colon + 1))) return admin;
  return 'rejected';
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startGrafanaDouble(opts: GrafanaDoubleOptions): Promise<GrafanaDouble> {
  if (!opts.adminPassword) throw new MissingAdminPasswordError();
  const dashboards = opts.dashboards ?? DASHBOARDS;
  const store = openAdminStore(opts.dataDir, opts.adminUser || 'admin', opts.adminPassword);
  let admin = store.user;
  const server = createServer('grafana-double', async (req, res, url) => {
    const path = url.pathname;
    if (path === '/api/health') {
      // Grafana answers pretty-printed JSON with sorted keys.
      return sendJson(res, 200, { commit: 'cct-test-double', database: 'ok', version: GRAFANA_DOUBLE_VERSION }, true);
    }
    const user = signedIn(req, admin);
    if (user === 'rejected') return sendJson(res, 401, { message: 'Invalid username or password' });
    if (path === '/api/user' && req.method === 'GET') {
      if (!user) return sendJson(res, 401, { message: 'Unauthorized' });
      return sendJson(res, 200, { id: user.id, login: user.login, isGrafanaAdmin: true });
    }
    const password = /^\/api\/admin\/users\/(\d+)\/password$/.exec(path);
    if (password && req.method === 'PUT') {
      if (!user) return sendJson(res, 401, { message: 'Unauthorized' });
      if (Number(password[1]) !== admin.id) return sendJson(res, 404, { message: 'user not found' });
      const body = decodeJson<{ password?: unknown }>(await readBody(req), 'password');
      if (typeof body.password !== 'string' || body.password.length < MIN_PASSWORD_LENGTH) {
        return sendJson(res, 400, { message: 'New password is too short' });
      }
      admin = hashed(admin.login, body.password);
      store.save(admin);
      return sendJson(res, 200, { message: 'User password updated' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed');
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
    double = await startGrafanaDouble({
      port: envInt('GF_SERVER_HTTP_PORT', 3000),
      adminUser: process.env.GF_SECURITY_ADMIN_USER,
      adminPassword: process.env.GF_SECURITY_ADMIN_PASSWORD,
      dataDir: process.env.DOUBLE_DATA_DIR || undefined,
    });
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
