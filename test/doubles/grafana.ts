// TEST DOUBLE of Grafana 12.4 (never shipped; Grafana is AGPL, so nothing of it is copied here: the behaviour below
// is written from the facts in ../shared/docs/telemetry-facts.md and the research notes, in our own code). Enough for
// the extension's "Open Grafana" link, its health checks and the admin password it keeps in step with Grafana, with
// Grafana's own answers where the extension reads them, including the unkind ones (lockouts, a page for any uid).
//
//   GET  /api/health                    Grafana's health JSON (no auth, nothing logged or counted)
//   GET  /api/user                      the signed-in user; 401 for anonymous or no user
//   PUT  /api/admin/users/<id>/password {"password": "..."}: sets a password (the admin), resets its login attempts
//   GET  /api/dashboards/uid/<uid>      the provisioned dashboard (a Viewer may read it), 404 otherwise
//   POST /api/dashboards/db             403 for the anonymous Viewer; the double saves nothing (501 for the admin)
//   POST /login                         the login form (same counter as basic auth; no session cookie is made)
//   GET  /, /d/<uid>[/<slug>], ...      the app's HTML shell, 200 for any uid (the browser script says "not found");
//                                       302 to /login when nobody is signed in and anonymous access is off
//   anything else                       404: `{"message":"Not found"}` under /api, the shell with 404 elsewhere
//
// Sign-in as Grafana's authn: basic auth goes through the password client, which refuses a login with 5 (or
// GF_SECURITY_BRUTE_FORCE_LOGIN_PROTECTION_MAX_ATTEMPTS) failures in a rolling 5 minutes BEFORE looking at the
// password (the right one too), without counting that refusal; a successful sign-in does not clear the count;
// PUT /api/admin/users/<id>/password does. Each failure is logged as Grafana's authn.service does (logfmt on stdout).
// With GF_AUTH_ANONYMOUS_ENABLED a failed sign-in falls back to the anonymous Viewer: /api/user answers 401
// {"message":"Unauthorized"} to a wrong password and to a lockout alike, Viewer routes answer as to anybody, and
// only the log line tells the two apart.
//
// As Grafana, it makes its admin user from GF_SECURITY_ADMIN_USER / GF_SECURITY_ADMIN_PASSWORD only when it creates
// its database (with a data directory: files there, so the stack's volume keeps them, login attempts included), and
// keeps that password on later starts whatever the variable says. Like a deploy that forgot GRAFANA_ADMIN_PASSWORD,
// it refuses to start without GF_SECURITY_ADMIN_PASSWORD (Grafana itself would fall back to admin/admin).
import { createHash, randomBytes, randomInt, scryptSync, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { closeServer, createServer, envInt, exitOnSignals, listen, readBody } from './common';

export const GRAFANA_DOUBLE_VERSION = '12.4.0';
/** What /api/health reports as the build's commit: not a real one, so nobody mistakes the double for a build. */
const DOUBLE_COMMIT = 'cct-test-double';
/** The dashboards of an in-process double given neither `dashboards` nor `provisioningDir`. */
export const DASHBOARDS: Record<string, string> = { 'claude-code-telemetry': 'Claude Code Telemetry' };
/** The id Grafana gives the admin user it creates with its database. */
const ADMIN_USER_ID = 1;
/** Grafana's password policy: at least 4 characters (the strong-password policy is off by default). */
const MIN_PASSWORD_LENGTH = 4;
/** Grafana's `loginAttemptsWindow`: fixed, no setting changes it. */
export const LOGIN_ATTEMPTS_WINDOW_MS = 5 * 60_000;
/** Grafana's cleanup job deletes attempts older than this (every 10 minutes). */
const LOGIN_ATTEMPTS_KEPT_MS = 10 * 60_000;
const DEFAULT_MAX_ATTEMPTS = 5;
/** Grafana's home path in its image: where relative provisioning paths resolve. */
const GRAFANA_HOME = '/usr/share/grafana';

export interface GrafanaDoubleOptions {
  port?: number;
  host?: string;
  adminUser?: string;
  adminPassword: string | undefined;
  /** Where the "database" is kept across starts (Grafana's /var/lib/grafana); none: made anew at each start. */
  dataDir?: string;
  /** Dashboards by uid (title), for in-process use; with `provisioningDir` these come on top of the provisioned. */
  dashboards?: Record<string, string>;
  /** Grafana's provisioning directory (/etc/grafana/provisioning in the image), read as Grafana reads it: the
   * dashboards/*.yaml providers of type file, their `options.path`, the *.json files there. A path in the
   * container's terms, read under `fsRoot`. */
  provisioningDir?: string;
  /** Where the container's `/` is on this machine, for absolute paths (provisioningDir, the providers' paths). */
  fsRoot?: string;
  /** [auth.anonymous] enabled (GF_AUTH_ANONYMOUS_ENABLED). Grafana's default: false. */
  anonymous?: boolean;
  /** [auth.anonymous] org_role: only Viewer (the default) is modelled. */
  anonymousOrgRole?: string;
  /** [auth.anonymous] hide_version: /api/health leaves out version and commit. */
  hideVersion?: boolean;
  /** [security] disable_brute_force_login_protection: failures are no longer recorded. */
  disableBruteForceLoginProtection?: boolean;
  /** [security] brute_force_login_protection_max_attempts (5; 0 or less counts as 1). */
  bruteForceLoginProtectionMaxAttempts?: number;
  /** [security] disable_username_login_protection: logins are never refused for their count. */
  disableUsernameLoginProtection?: boolean;
  /** [security] disable_ip_address_login_protection: Grafana's default true (per-IP counting off). */
  disableIpAddressLoginProtection?: boolean;
  /** [server] root_url (GF_SERVER_ROOT_URL): the address the browser reaches Grafana at. Its path is the app's sub
   * path (AppSubURL): the page's `<base href>` and the redirects start with it, as behind a proxy that strips it. */
  rootUrl?: string;
  /** The clock (ms since the epoch), for tests that cannot wait 5 minutes; the image uses the real one. */
  now?: () => number;
  /** Each line Grafana would print on stdout (no newline); the double also keeps them in `logs`. */
  onLog?: (line: string) => void;
}

export interface GrafanaDouble {
  port: number;
  /** Every line logged since the start, as Grafana prints them on stdout. */
  logs: string[];
  close(): Promise<void>;
}

export class MissingAdminPasswordError extends Error {
  constructor() {
    super('GF_SECURITY_ADMIN_PASSWORD is not set (or empty): refusing to start with the default admin password');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Logging: Grafana's console logger writes logfmt (go-kit/go-logfmt) on stdout when stdout is not a terminal:
// `logger=<name> t=<RFC3339Nano> level=<level> msg=<msg> <key>=<value>...`.

/** A logfmt value as go-logfmt writes it: bare unless it holds a space, a control character, `=` or `"`. */
function logfmtValue(value: string): string {
  if (value === 'null') return '"null"';
  const needsQuotes = [...value].some((c) => c <= ' ' || c === '=' || c === '"' || c === '\u007f' || c === '\ufffd');
  if (!needsQuotes) return value;
  let quoted = '"';
  for (const c of value) {
    if (c === '\\' || c === '"') quoted += `\\${c}`;
    else if (c === '\n') quoted += '\\n';
    else if (c === '\r') quoted += '\\r';
    else if (c === '\t') quoted += '\\t';
    else if (c < ' ') quoted += `\\u00${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else quoted += c;
  }
  return `${quoted}"`;
}

/** Go's time.RFC3339Nano in UTC (the container's zone): nanoseconds with trailing zeros dropped. */
export function rfc3339Nano(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${base}${fraction ? `.${fraction}` : ''}Z`;
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP answers, in the two ways Grafana writes JSON: its request context's JSON (errors from the auth middleware, the
// not-found handler, access denied: charset and a trailing newline) and its handlers' responses (no charset, no
// newline). Go escapes <, > and & in JSON strings. Every answer has Grafana's default security headers.

const goJson = (value: unknown, indent?: string): string =>
  JSON.stringify(value, null, indent).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

function send(
  res: http.ServerResponse,
  status: number,
  contentType: string,
  body: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Cache-Control': 'no-store',
    'Content-Type': contentType,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'deny',
    'X-Xss-Protection': '1; mode=block',
    ...extra,
    'Content-Length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}
/** The request context's JSON (c.JSON): the keys of a Go map come out sorted. */
const contextJson = (res: http.ServerResponse, status: number, body: Record<string, unknown>): void =>
  send(res, status, 'application/json; charset=UTF-8', `${goJson(sortKeys(body))}\n`);
/** A handler's response (response.JSON / response.Error / response.Success). */
const responseJson = (res: http.ServerResponse, status: number, body: unknown): void =>
  send(res, status, 'application/json', goJson(body));

/** A Go map marshalled: keys sorted, at every depth (simplejson dashboards too). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The app's HTML shell (Grafana's index template renders the same page for every route; the browser does the rest). */
function shell(subUrl: string, attributes: Record<string, string>, script = ''): string {
  const attrs = Object.entries(attributes)
    .map(([k, v]) => ` ${k}="${escapeHtml(v)}"`)
    .join('');
  return [
    '<!DOCTYPE html>',
    '<html lang="en-US">',
    '  <head>',
    '    <meta charset="utf-8" />',
    `    <base href="${escapeHtml(subUrl)}/" />`,
    '    <title>Grafana</title>',
    '  </head>',
    '  <body class="theme-dark app-grafana">',
    `    <div id="reactRoot" data-cct-test-double="grafana"${attrs}></div>`,
    '    <p>Grafana TEST DOUBLE (test/doubles/grafana.ts)</p>',
    script ? `    <script>${script}</script>` : '',
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}

/** What Grafana's app does in the browser on /d/<uid>: asks the API for the dashboard (relative to <base href>, as the
 * app's requests resolve), then shows its title, or "Dashboard not found". */
const DASHBOARD_PAGE_SCRIPT = [
  "var root = document.getElementById('reactRoot');",
  "var uid = root.getAttribute('data-dashboard-uid');",
  "var show = function (text) { var h = document.createElement('h1'); h.textContent = text; root.appendChild(h); };",
  "fetch('api/dashboards/uid/' + encodeURIComponent(uid), { credentials: 'same-origin' })",
  '  .then(function (r) { return r.ok ? r.json() : null; })',
  "  .then(function (d) { if (d && d.dashboard) { document.title = d.dashboard.title + ' - Dashboards - Grafana'; show(d.dashboard.title); } else { show('Dashboard not found'); } },",
  "    function () { show('Dashboard not found'); });",
].join(' ');

/**
 * Grafana's AppSubURL: the path of root_url once `%(protocol)s`, `%(domain)s` and `%(http_port)s` are filled in,
 * without its trailing slash ('' at the root).
 */
export function appSubUrl(rootUrl: string | undefined): string {
  if (!rootUrl) return '';
  const filled = rootUrl
    .replace('%(protocol)s', 'http')
    .replace('%(domain)s', 'localhost')
    .replace('%(http_port)s', '3000');
  return new URL(filled).pathname.replace(/\/+$/, '');
}

/** Go's http.Redirect for a GET. */
function redirect(res: http.ServerResponse, location: string): void {
  send(res, 302, 'text/html; charset=utf-8', `<a href="${escapeHtml(location)}">Found</a>.\n\n`, {
    Location: location,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The "database": the admin user and the login attempts, in files of the data directory.

/** The admin user: a salted hash of its password, as Grafana keeps its users' passwords. */
interface StoredUser {
  id: number;
  uid: string;
  login: string;
  email: string;
  salt: string;
  hash: string;
  /** RFC 3339, seconds (as Grafana's database gives them back). */
  created: string;
  updated: string;
}

interface LoginAttempt {
  username: string;
  ip: string;
  /** Unix seconds, as Grafana's login_attempt table. */
  created: number;
}

/** Grafana's short uids: a letter, then 13 lower-case letters or digits. */
function shortUid(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const all = `${letters}0123456789`;
  let uid = letters[randomInt(letters.length)];
  while (uid.length < 14) uid += all[randomInt(all.length)];
  return uid;
}

const isoSeconds = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;

function withPassword(user: Omit<StoredUser, 'salt' | 'hash'>, password: string): StoredUser {
  const salt = randomBytes(16).toString('hex');
  return { ...user, salt, hash: scryptSync(password, salt, 32).toString('hex') };
}

function passwordMatches(user: StoredUser, password: string): boolean {
  return timingSafeEqual(Buffer.from(user.hash, 'hex'), scryptSync(password, user.salt, 32));
}

class Database {
  private readonly userFile?: string;
  private readonly attemptsFile?: string;
  readonly created: boolean;
  admin: StoredUser;
  private attempts: LoginAttempt[] = [];

  constructor(dataDir: string | undefined, login: string, password: string, nowMs: number) {
    this.userFile = dataDir ? path.join(dataDir, 'admin-user.json') : undefined;
    this.attemptsFile = dataDir ? path.join(dataDir, 'login-attempts.json') : undefined;
    if (this.userFile && fs.existsSync(this.userFile)) {
      const kept = JSON.parse(fs.readFileSync(this.userFile, 'utf8')) as Partial<StoredUser> &
        Pick<StoredUser, 'login' | 'salt' | 'hash'>;
      // A file written by an earlier double has no uid, email or times: Grafana's would have had them.
      const at = isoSeconds(nowMs);
      this.admin = { id: ADMIN_USER_ID, uid: shortUid(), email: 'admin@localhost', created: at, updated: at, ...kept };
      this.created = false;
      if (this.attemptsFile && fs.existsSync(this.attemptsFile))
        this.attempts = JSON.parse(fs.readFileSync(this.attemptsFile, 'utf8')) as LoginAttempt[];
    } else {
      const at = isoSeconds(nowMs);
      this.admin = withPassword(
        { id: ADMIN_USER_ID, uid: shortUid(), login, email: 'admin@localhost', created: at, updated: at },
        password,
      );
      this.created = true;
    }
    this.saveUser();
  }

  saveUser(): void {
    if (this.userFile) fs.writeFileSync(this.userFile, JSON.stringify(this.admin), { mode: 0o600 });
  }

  /** The user a login names: its login (case-insensitive, as Grafana's default) or its e-mail. */
  findUser(loginOrEmail: string): StoredUser | undefined {
    const wanted = loginOrEmail.toLowerCase();
    return this.admin.login.toLowerCase() === wanted || this.admin.email.toLowerCase() === wanted
      ? this.admin
      : undefined;
  }

  addAttempt(username: string, ip: string, nowMs: number): void {
    const created = Math.floor(nowMs / 1000);
    // What Grafana's cleanup job would have deleted by now.
    this.attempts = this.attempts.filter((a) => a.created >= Math.floor((nowMs - LOGIN_ATTEMPTS_KEPT_MS) / 1000));
    this.attempts.push({ username: username.toLowerCase(), ip, created });
    this.saveAttempts();
  }

  /** Attempts since `sinceMs` (Grafana compares whole seconds: `created >= since`). */
  countAttempts(match: (a: LoginAttempt) => boolean, sinceMs: number): number {
    const since = Math.floor(sinceMs / 1000);
    return this.attempts.filter((a) => match(a) && a.created >= since).length;
  }

  resetAttempts(username: string): void {
    const name = username.toLowerCase();
    this.attempts = this.attempts.filter((a) => a.username !== name);
    this.saveAttempts();
  }

  private saveAttempts(): void {
    if (this.attemptsFile) fs.writeFileSync(this.attemptsFile, JSON.stringify(this.attempts), { mode: 0o600 });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Provisioned dashboards, read as Grafana's file provider reads them.

interface Dashboard {
  uid: string;
  title: string;
  /** The JSON as provisioned (or a minimal one for `dashboards` titles). */
  json: Record<string, unknown>;
  /** The provisioning file's name relative to the provider's path. */
  file?: string;
  folder?: string;
}

/** `$VAR` / `${VAR}` in provisioning values, as Grafana expands them. */
function expandEnv(value: unknown): unknown {
  if (typeof value === 'string')
    return value.replace(
      /\$\{(\w+)\}|\$(\w+)/g,
      (_, a: string | undefined, b: string | undefined) => process.env[a ?? b ?? ''] ?? '',
    );
  if (Array.isArray(value)) return value.map(expandEnv);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v)]));
  return value;
}

function jsonFilesUnder(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return jsonFilesUnder(full);
      return e.name.endsWith('.json') && fs.statSync(full).isFile() ? [full] : [];
    });
}

interface ProvisioningResult {
  dashboards: Map<string, Dashboard>;
  /** The shortest updateIntervalSeconds among the providers (Grafana's default: 10). */
  intervalMs: number;
}

function readProvisionedDashboards(
  provisioningDir: string,
  fsRoot: string,
  log: (logger: string, level: string, msg: string, ...kv: string[]) => void,
): ProvisioningResult {
  const inRoot = (p: string): string => path.join(fsRoot, path.isAbsolute(p) ? p : path.join(GRAFANA_HOME, p));
  const dir = path.join(inRoot(provisioningDir), 'dashboards');
  const dashboards = new Map<string, Dashboard>();
  let intervalMs = Infinity;
  let files: string[];
  try {
    files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
      .sort();
  } catch {
    return { dashboards, intervalMs: 10_000 };
  }
  for (const file of files) {
    let config: unknown;
    try {
      config = expandEnv(parseYaml(fs.readFileSync(path.join(dir, file), 'utf8')));
    } catch (err) {
      log(
        'provisioning.dashboard',
        'error',
        'Failed to read dashboard provisioning config',
        'file',
        file,
        'error',
        (err as Error).message,
      );
      continue;
    }
    const providers = Array.isArray(config) ? config : ((config as { providers?: unknown[] } | null)?.providers ?? []);
    for (const provider of providers as {
      type?: string;
      folder?: string;
      updateIntervalSeconds?: number;
      options?: { path?: string };
    }[]) {
      if ((provider.type ?? 'file') !== 'file' || !provider.options?.path) continue;
      intervalMs = Math.min(intervalMs, (provider.updateIntervalSeconds ?? 10) * 1000);
      const root = inRoot(provider.options.path);
      for (const jsonFile of jsonFilesUnder(root)) {
        let json: Record<string, unknown>;
        try {
          json = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as Record<string, unknown>;
        } catch (err) {
          log(
            'provisioning.dashboard',
            'error',
            'failed to load dashboard from ',
            'file',
            jsonFile,
            'error',
            (err as Error).message,
          );
          continue;
        }
        const title = typeof json.title === 'string' ? json.title : '';
        if (!title) continue;
        // A dashboard without a uid gets one from Grafana; nothing links to such a uid, so the double skips it.
        const uid = typeof json.uid === 'string' && json.uid ? json.uid : undefined;
        if (!uid || dashboards.has(uid)) continue;
        dashboards.set(uid, { uid, title, json, file: path.relative(root, jsonFile), folder: provider.folder });
      }
    }
  }
  return { dashboards, intervalMs: Number.isFinite(intervalMs) ? intervalMs : 10_000 };
}

/** Grafana's slugify of a title: lower-case words joined by '-'. */
const slugify = (title: string): string =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

// ---------------------------------------------------------------------------------------------------------------
// Sign-in, as Grafana's authn service runs its clients.

/** A Grafana errutil error as its Error() reads: `[messageId] message`; public: what the 401 body says. */
interface AuthError {
  messageId: string;
  publicMessage: string;
  text: string;
}
const passwordAuthFailed = (message: string): AuthError => ({
  messageId: 'password-auth.failed',
  publicMessage: 'Invalid username or password',
  text: `[password-auth.failed] ${message}`,
});
const ipBlocked = (): AuthError => ({
  messageId: 'passwordless.invalid.login-attempt',
  publicMessage: 'Login temporarily blocked',
  text: '[passwordless.invalid.login-attempt] too many consecutive incorrect login attempts for IP address - login for IP address temporarily blocked',
});
const NO_CREDENTIALS: AuthError = {
  messageId: 'auth.unauthorized',
  publicMessage: 'Unauthorized',
  text: '[auth.unauthorized] cannot authenticate request',
};

type Identity = { kind: 'user'; user: StoredUser } | { kind: 'anonymous' } | { kind: 'none'; error: AuthError };

/** Go's Request.BasicAuth: "Basic " (any case), standard base64, a colon. */
function basicAuth(req: http.IncomingMessage): { username: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (!header || header.length < 6 || header.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const encoded = header.slice(6);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function remoteIp(req: http.IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** An integer setting; anything else leaves Grafana's default. */
function intOrUndefined(value: string | undefined): number | undefined {
  return value !== undefined && /^\s*-?\d+\s*$/.test(value) ? Number.parseInt(value, 10) : undefined;
}

function truthy(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return /^(1|t|true|y|yes|on)$/i.test(value.trim());
}

// ---------------------------------------------------------------------------------------------------------------

export async function startGrafanaDouble(opts: GrafanaDoubleOptions): Promise<GrafanaDouble> {
  if (!opts.adminPassword) throw new MissingAdminPasswordError();
  const subUrl = appSubUrl(opts.rootUrl);
  const wallStartNs = BigInt(Date.now()) * 1_000_000n;
  const hrStart = process.hrtime.bigint();
  const msToNs = (ms: number): bigint =>
    BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms - Math.floor(ms)) * 1e6));
  const injected = opts.now;
  const nowNs = injected
    ? (): bigint => msToNs(injected())
    : (): bigint => wallStartNs + (process.hrtime.bigint() - hrStart);
  const nowMs = (): number => Number(nowNs() / 1_000_000n);

  const logs: string[] = [];
  const log = (logger: string, level: string, msg: string, ...kv: string[]): void => {
    const pairs = [
      `logger=${logfmtValue(logger)}`,
      `t=${rfc3339Nano(nowNs())}`,
      `level=${level}`,
      `msg=${logfmtValue(msg)}`,
    ];
    for (let i = 0; i + 1 < kv.length; i += 2) pairs.push(`${kv[i]}=${logfmtValue(kv[i + 1])}`);
    const line = pairs.join(' ');
    logs.push(line);
    opts.onLog?.(line);
  };

  const anonymous = opts.anonymous ?? false;
  const anonymousRole = opts.anonymousOrgRole || 'Viewer';
  const maxAttempts = Math.max(1, opts.bruteForceLoginProtectionMaxAttempts ?? DEFAULT_MAX_ATTEMPTS);
  const db = new Database(opts.dataDir, opts.adminUser || 'admin', opts.adminPassword, nowMs());
  if (db.created) {
    log('sqlstore', 'info', 'Created default admin', 'user', db.admin.login);
    log('sqlstore', 'info', 'Created default organization');
  }

  const fixed = new Map<string, Dashboard>(
    Object.entries(opts.dashboards ?? (opts.provisioningDir ? {} : DASHBOARDS)).map(([uid, title]) => [
      uid,
      { uid, title, json: { uid, title } },
    ]),
  );
  let provisioned: ProvisioningResult = { dashboards: new Map(), intervalMs: Infinity };
  let provisionedAt = -Infinity;
  const dashboard = (uid: string): Dashboard | undefined => {
    if (opts.provisioningDir && Date.now() - provisionedAt >= provisioned.intervalMs) {
      provisioned = readProvisionedDashboards(opts.provisioningDir, opts.fsRoot ?? '/', log);
      provisionedAt = Date.now();
    }
    return fixed.get(uid) ?? provisioned.dashboards.get(uid);
  };
  dashboard('');

  /** Grafana's password client: the user's count first, then the IP's, then the password; failures counted. */
  const authenticatePassword = (
    req: http.IncomingMessage,
    client: string,
    username: string,
    password: string,
  ): StoredUser | AuthError => {
    const fail = (error: AuthError): AuthError => {
      log('authn.service', 'info', 'Failed to authenticate request', 'client', client, 'error', error.text);
      return error;
    };
    const since = nowMs() - LOGIN_ATTEMPTS_WINDOW_MS;
    const name = username.toLowerCase();
    if (!opts.disableUsernameLoginProtection && db.countAttempts((a) => a.username === name, since) >= maxAttempts) {
      return fail(
        passwordAuthFailed(
          'too many consecutive incorrect login attempts for user - login for user temporarily blocked',
        ),
      );
    }
    const ip = remoteIp(req);
    if (opts.disableIpAddressLoginProtection === false && db.countAttempts((a) => a.ip === ip, since) >= maxAttempts)
      return fail(ipBlocked());
    if (password.length === 0) return fail(passwordAuthFailed('no password provided'));
    const user = db.findUser(username);
    if (user && passwordMatches(user, password)) return user;
    if (!opts.disableBruteForceLoginProtection) db.addAttempt(username, ip, nowMs());
    const cause = user
      ? '[password-auth.invalid] invalid password'
      : '[identity.not-found] no user found: user not found';
    return fail(passwordAuthFailed(`failed to authenticate identity: ${cause}`));
  };

  /** Grafana's authn service: basic auth when the request has it, else (or when it fails) the anonymous client. */
  const authenticate = (req: http.IncomingMessage): Identity => {
    const basic = basicAuth(req);
    let error = NO_CREDENTIALS;
    if (basic) {
      const result = authenticatePassword(req, 'auth.client.basic', basic.username, basic.password);
      if (!('messageId' in result)) return { kind: 'user', user: result };
      error = result;
    }
    return anonymous ? { kind: 'anonymous' } : { kind: 'none', error };
  };

  /** The auth middleware's 401 on the API (its request context writes the Grafana error). */
  const unauthorized = (res: http.ServerResponse, identity: Identity): void => {
    if (identity.kind === 'none') {
      const { error } = identity;
      return contextJson(res, 401, {
        extra: null,
        message: error.publicMessage,
        messageId: error.messageId,
        statusCode: 401,
        traceID: '',
      });
    }
    return contextJson(res, 401, { message: 'Unauthorized' });
  };
  /** Access control's 403: a new access error id each time. */
  const accessDenied = (res: http.ServerResponse, permissions: string): void =>
    contextJson(res, 403, {
      accessErrorId: `ACE${String(randomInt(0, 1e10)).padStart(10, '0')}`,
      message: `You'll need additional permissions to perform this action. Permissions needed: ${permissions}`,
      title: 'Access denied',
    });
  const notFound = (res: http.ServerResponse, apiPath: boolean, pagePath: string): void =>
    apiPath
      ? contextJson(res, 404, { message: 'Not found' })
      : send(res, 404, 'text/html; charset=UTF-8', shell(subUrl, { 'data-path': pagePath }));

  const server = createServer('grafana-double', async (req, res, url) => {
    const pathname = url.pathname;
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    if (pathname === '/api/health' && method === 'GET') {
      // Ahead of the sign-in middleware: basic auth is not looked at. Struct order, two-space indent, no newline.
      const health = opts.hideVersion
        ? { database: 'ok' }
        : { database: 'ok', version: GRAFANA_DOUBLE_VERSION, commit: DOUBLE_COMMIT };
      return send(res, 200, 'application/json; charset=UTF-8', goJson(health, '  '));
    }
    const identity = authenticate(req);
    const api = pathname.startsWith('/api');

    if (pathname === '/api/user' && method === 'GET') {
      if (identity.kind !== 'user') return unauthorized(res, identity);
      const u = identity.user;
      return responseJson(res, 200, {
        id: u.id,
        uid: u.uid,
        email: u.email,
        name: '',
        login: u.login,
        theme: '',
        orgId: 1,
        isGrafanaAdmin: true,
        isDisabled: false,
        isExternal: false,
        isExternallySynced: false,
        isGrafanaAdminExternallySynced: false,
        authLabels: [],
        updatedAt: u.updated,
        createdAt: u.created,
        avatarUrl: `/avatar/${createHash('md5').update(u.email.trim().toLowerCase()).digest('hex')}`,
      });
    }

    const passwordRoute = /^\/api\/admin\/users\/([^/]+)\/password$/.exec(pathname);
    if (passwordRoute && method === 'PUT') {
      if (identity.kind === 'none') return unauthorized(res, identity);
      if (identity.kind === 'anonymous') return accessDenied(res, 'users.password:update');
      let form: { password?: unknown };
      try {
        form = JSON.parse((await readBody(req)).toString('utf8')) as { password?: unknown };
        if (!form || typeof form !== 'object' || (form.password !== undefined && typeof form.password !== 'string'))
          throw new Error('not a form');
      } catch {
        return responseJson(res, 400, { message: 'bad request data' });
      }
      if (!/^-?\d+$/.test(passwordRoute[1])) return responseJson(res, 400, { message: 'id is invalid' });
      const password = (form.password as string | undefined) ?? '';
      // Grafana updates the user first (its password policy refuses fewer than 4 characters, an unknown id fails
      // the same way): both answer 500.
      if (Number(passwordRoute[1]) !== db.admin.id || password.length < MIN_PASSWORD_LENGTH) {
        return responseJson(res, 500, { message: 'Failed to update user password' });
      }
      db.admin = { ...withPassword(db.admin, password), updated: isoSeconds(nowMs()) };
      db.saveUser();
      db.resetAttempts(db.admin.login);
      return responseJson(res, 200, { message: 'User password updated' });
    }

    const dashboardRoute = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(pathname);
    if (dashboardRoute && method === 'GET') {
      if (identity.kind === 'none') return unauthorized(res, identity);
      const found = dashboard(safeDecode(dashboardRoute[1]));
      if (!found) return responseJson(res, 404, { message: 'Dashboard not found' });
      const admin = identity.kind === 'user';
      const slug = slugify(found.title);
      const ids = [...new Set([...fixed.keys(), ...provisioned.dashboards.keys()])];
      return responseJson(res, 200, {
        meta: {
          type: 'db',
          canSave: admin,
          canEdit: admin,
          canAdmin: admin,
          canStar: admin,
          canDelete: admin,
          slug,
          url: `/d/${found.uid}/${slug}`,
          version: 1,
          ...(found.folder ? { folderTitle: found.folder } : {}),
          provisioned: found.file !== undefined,
          provisionedExternalId: found.file ?? '',
        },
        dashboard: sortKeys({ ...found.json, id: ids.indexOf(found.uid) + 1, uid: found.uid, version: 1 }),
      });
    }

    if (pathname === '/api/dashboards/db' && method === 'POST') {
      if (identity.kind === 'none') return unauthorized(res, identity);
      if (identity.kind === 'anonymous' && anonymousRole === 'Viewer')
        return accessDenied(res, 'any of dashboards:create, dashboards:write');
      return send(res, 501, 'text/plain; charset=utf-8', 'the Grafana TEST DOUBLE does not save dashboards\n');
    }

    if (pathname === '/login' && method === 'POST') {
      let form: { user?: unknown; password?: unknown };
      try {
        form = JSON.parse((await readBody(req)).toString('utf8')) as typeof form;
      } catch {
        return responseJson(res, 400, { message: 'bad login data' });
      }
      const result = authenticatePassword(
        req,
        'auth.client.form',
        String(form?.user ?? ''),
        String(form?.password ?? ''),
      );
      // response.Err: the public error struct, in its field order.
      if ('messageId' in result)
        return responseJson(res, 401, { statusCode: 401, messageId: result.messageId, message: result.publicMessage });
      return responseJson(res, 200, { message: 'Logged in', redirectUrl: '/' });
    }
    if (pathname === '/login' && method === 'GET')
      return send(res, 200, 'text/html; charset=UTF-8', shell(subUrl, { 'data-path': pathname }));

    if (!api && method === 'GET' && isAppPage(pathname)) {
      // Pages need a signed-in user or the anonymous one; else Grafana sends the browser to its login page.
      if (identity.kind === 'none') return redirect(res, `${subUrl}/login`);
      const d = /^\/d\/([^/]+)(?:\/[^/]*)?$/.exec(pathname);
      if (!d) return send(res, 200, 'text/html; charset=UTF-8', shell(subUrl, { 'data-path': pathname }));
      // The page is the same for every uid: it names the one asked for, the browser finds out whether it exists.
      return send(
        res,
        200,
        'text/html; charset=UTF-8',
        shell(subUrl, { 'data-path': pathname, 'data-dashboard-uid': safeDecode(d[1]) }, DASHBOARD_PAGE_SCRIPT),
      );
    }
    return notFound(res, api, pathname);
  });
  const port = await listen(server, opts.port ?? 3000, opts.host);
  const host =
    !opts.host || opts.host === '::' || opts.host === '0.0.0.0'
      ? '[::]'
      : opts.host.includes(':')
        ? `[${opts.host}]`
        : opts.host;
  log(
    'http.server',
    'info',
    'HTTP Server Listen',
    'address',
    `${host}:${port}`,
    'protocol',
    'http',
    'subUrl',
    '',
    'socket',
    '',
  );
  return { port, logs, close: () => closeServer(server) };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The app routes the double serves its shell on (Grafana has many more; the rest are its not-found page). */
function isAppPage(pathname: string): boolean {
  return (
    pathname === '/' || /^\/(d|dashboard|dashboards|explore|alerting|connections|admin|profile)(\/|$)/.test(pathname)
  );
}

/** Entry point of the cct-test/grafana-double image: Grafana's settings from its GF_* variables. */
export async function main(): Promise<void> {
  const env = process.env;
  let double: GrafanaDouble;
  try {
    double = await startGrafanaDouble({
      port: envInt('GF_SERVER_HTTP_PORT', 3000),
      adminUser: env.GF_SECURITY_ADMIN_USER,
      adminPassword: env.GF_SECURITY_ADMIN_PASSWORD,
      dataDir: env.DOUBLE_DATA_DIR || undefined,
      provisioningDir: env.GF_PATHS_PROVISIONING || '/etc/grafana/provisioning',
      anonymous: truthy(env.GF_AUTH_ANONYMOUS_ENABLED) ?? false,
      anonymousOrgRole: env.GF_AUTH_ANONYMOUS_ORG_ROLE || undefined,
      hideVersion: truthy(env.GF_AUTH_ANONYMOUS_HIDE_VERSION) ?? false,
      disableBruteForceLoginProtection: truthy(env.GF_SECURITY_DISABLE_BRUTE_FORCE_LOGIN_PROTECTION) ?? false,
      bruteForceLoginProtectionMaxAttempts: intOrUndefined(env.GF_SECURITY_BRUTE_FORCE_LOGIN_PROTECTION_MAX_ATTEMPTS),
      disableUsernameLoginProtection: truthy(env.GF_SECURITY_DISABLE_USERNAME_LOGIN_PROTECTION) ?? false,
      disableIpAddressLoginProtection: truthy(env.GF_SECURITY_DISABLE_IP_ADDRESS_LOGIN_PROTECTION) ?? true,
      ...(env.GF_SERVER_ROOT_URL ? { rootUrl: env.GF_SERVER_ROOT_URL } : {}),
      onLog: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (err) {
    if (err instanceof MissingAdminPasswordError) {
      console.error(`grafana-double: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  exitOnSignals(() => double.close());
}
