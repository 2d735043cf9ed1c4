// Grafana's admin password, kept in step between the editor's secret storage and Grafana itself. Grafana applies
// GF_SECURITY_ADMIN_PASSWORD only when it creates its database and keeps that password on its volume; a window's
// secret storage may hold another (in code-server it belongs to the browser profile, so each profile has its own).
// The stack's record is the Grafana container's own value: the engine never recreates Grafana for a new one and
// carries it over when it recreates Grafana for another reason (FIRST_START_ENVIRONMENT), so it is the password
// Grafana was created with. The record stays on the user's machine, where `docker inspect` showed it already.
//
// Grafana locks a login after 5 wrong passwords within 5 minutes: for those minutes it refuses every sign-in, the
// right password too, with the same 401, and a successful sign-in does not clear the count. Windows and browser
// profiles holding an older password can reach 5 between them. So each try is weighed first against the wrong
// passwords Grafana logged in the window (its log is the one record every window shares), and a 401 is read as a
// lockout when that count says so, never as a wrong password.
import { containerName } from './containerSpec';
import type { StackEngine } from './engine';

const GRAFANA_SERVICE = 'grafana';
const GRAFANA_CONTAINER_PORT = 3000;
const PASSWORD_VARIABLE = 'GF_SECURITY_ADMIN_PASSWORD';
const USER_VARIABLE = 'GF_SECURITY_ADMIN_USER';
/** Grafana's default admin login, when the compose file sets none. */
const DEFAULT_ADMIN_USER = 'admin';
const REQUEST_TIMEOUT_MS = 5000;
/** Grafana's brute-force protection: its defaults, and the variables that change them. */
const LOCKOUT_WINDOW_MS = 5 * 60_000;
const DEFAULT_LOCKOUT_ATTEMPTS = 5;
const ATTEMPTS_VARIABLE = 'GF_SECURITY_BRUTE_FORCE_LOGIN_PROTECTION_MAX_ATTEMPTS';
const PROTECTION_OFF_VARIABLE = 'GF_SECURITY_DISABLE_BRUTE_FORCE_LOGIN_PROTECTION';
/** What Grafana 12 logs for a sign-in with a wrong password (counted towards a lockout; a refusal while locked is
 * logged with other words, and not counted). */
const WRONG_PASSWORD_LINE = /msg="Failed to authenticate request".*\[password-auth\.invalid\] invalid password/;

export type GrafanaAdminPassword =
  /** Grafana accepts it. */
  | { state: 'accepted'; password: string }
  /** Grafana did not answer (stopped): the stack's record, else the one the window stored. */
  | { state: 'unverified'; password: string }
  /** Grafana rejects both the stack's record and the stored one: changed in Grafana, or its container was removed
   * and made again over its old volume. `container`: Grafana's, to reset the password in. */
  | { state: 'rejected'; password: string; container: string }
  /** Grafana refuses every sign-in of the admin until `untilMs` (too many wrong passwords lately, from any window,
   * profile or browser); nothing was tried meanwhile. `password`: the stack's, which Grafana takes again then. */
  | { state: 'locked'; password: string; untilMs: number; wrongAttempts: number }
  /** No Grafana container and none stored: the next start gives Grafana the one the window makes. */
  | { state: 'none' };

/**
 * The admin password Grafana holds, to keep in the window's secret storage: the stack's record when Grafana accepts
 * it; when Grafana accepts only the window's stored password (a stack made before the record was kept), Grafana is
 * set to the record with that password, so that every window and profile reads back the same one.
 */
export async function grafanaAdminPassword(engine: StackEngine, stored: string | undefined): Promise<GrafanaAdminPassword> {
  const environment = await engine.serviceEnvironment(GRAFANA_SERVICE);
  const record = environment?.[PASSWORD_VARIABLE] || undefined;
  const known = record ?? stored;
  if (!known) return { state: 'none' };
  const running = (await engine.status()).some((s) => s.service === GRAFANA_SERVICE && s.engineState === 'running');
  const port = engine.model.services.find((s) => s.name === GRAFANA_SERVICE)?.ports.find((p) => p.containerPort === GRAFANA_CONTAINER_PORT);
  if (!running || !port) return { state: 'unverified', password: known };
  const grafana = new GrafanaAdminApi(`http://${port.hostIp}:${port.hostPort}`, environment?.[USER_VARIABLE] || DEFAULT_ADMIN_USER);
  const lockout = new LockoutWatch(engine, environment ?? {});

  // Each password is tried once, and only while Grafana's count of wrong ones leaves room for it.
  const before = await lockout.read();
  if (before.locked) return { state: 'locked', password: known, untilMs: before.untilMs, wrongAttempts: before.wrong };
  const knownAnswer = await grafana.userId(known);
  if (knownAnswer === 'unreachable') return { state: 'unverified', password: known };
  if (knownAnswer !== 'rejected') return { state: 'accepted', password: known };
  // Our own wrong password counts even before its line reaches the engine's log.
  const after = await lockout.read(Date.now(), before.wrong + 1);
  if (after.locked) return { state: 'locked', password: known, untilMs: after.untilMs, wrongAttempts: after.wrong };
  const rejected = { state: 'rejected', password: known, container: containerName(engine.project, GRAFANA_SERVICE) } as const;
  if (!record || !stored || stored === record) return rejected;
  // A second guess, only while a wrong one would not lock the login.
  if (!after.roomFor(1)) return rejected;
  const id = await grafana.userId(stored);
  if (id === 'unreachable') return { state: 'unverified', password: record };
  if (id === 'rejected') return rejected;
  await grafana.setPassword(id, stored, record);
  return { state: 'accepted', password: record };
}

interface LockoutReading {
  locked: boolean;
  /** Wrong passwords Grafana counts now. */
  wrong: number;
  /** When the count falls below the limit again (meaningful when locked). */
  untilMs: number;
  /** Whether `n` more wrong passwords would leave the login unlocked. */
  roomFor(n: number): boolean;
}

/** Grafana's count of wrong passwords in its window, read from its log. */
class LockoutWatch {
  private readonly attempts: number;
  private readonly off: boolean;

  constructor(
    private readonly engine: StackEngine,
    environment: Record<string, string>,
  ) {
    const configured = Number.parseInt(environment[ATTEMPTS_VARIABLE] ?? '', 10);
    // Grafana takes a value of 0 or less as 1.
    this.attempts = Number.isFinite(configured) ? Math.max(1, configured) : DEFAULT_LOCKOUT_ATTEMPTS;
    this.off = environment[PROTECTION_OFF_VARIABLE] === 'true';
  }

  /** Grafana's count now; `atLeast`: what the caller knows it is at least (a sign-in it just made). */
  async read(now = Date.now(), atLeast = 0): Promise<LockoutReading> {
    const wrongAt = this.off
      ? []
      : (await this.engine.logLinesSince(GRAFANA_SERVICE, now - LOCKOUT_WINDOW_MS))
          .filter((l) => WRONG_PASSWORD_LINE.test(l.line))
          .map((l) => l.atMs)
          .sort((a, b) => a - b);
    while (!this.off && wrongAt.length < atLeast) wrongAt.push(now);
    const wrong = wrongAt.length;
    // Locked while `attempts` or more lie in the window: until the oldest of the newest `attempts` leaves it.
    const untilMs = wrong >= this.attempts ? wrongAt[wrong - this.attempts] + LOCKOUT_WINDOW_MS : now;
    return { locked: wrong >= this.attempts, wrong, untilMs, roomFor: (n) => wrong + n < this.attempts };
  }
}

/** The two calls of Grafana's HTTP API this needs, with basic auth of the admin login. */
class GrafanaAdminApi {
  constructor(
    private readonly url: string,
    private readonly user: string,
  ) {}

  /** The admin's user id when Grafana accepts the password. */
  async userId(password: string): Promise<number | 'rejected' | 'unreachable'> {
    let response: Response;
    try {
      response = await this.request('GET', '/api/user', password);
    } catch {
      return 'unreachable';
    }
    if (response.status === 401) return 'rejected';
    if (!response.ok) throw new Error(`Grafana answered GET /api/user with ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { id: number }).id;
  }

  async setPassword(id: number, current: string, password: string): Promise<void> {
    const response = await this.request('PUT', `/api/admin/users/${id}/password`, current, { password });
    if (!response.ok) throw new Error(`Grafana did not take the stack's admin password (${response.status}: ${await response.text()})`);
  }

  private request(method: string, path: string, password: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Basic ${Buffer.from(`${this.user}:${password}`).toString('base64')}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(`${this.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  }
}
