// Grafana's admin password, kept in step between the editor's secret storage and Grafana itself. Grafana applies
// GF_SECURITY_ADMIN_PASSWORD only when it creates its database and keeps that password on its volume; a window's
// secret storage may hold another (in code-server it belongs to the browser profile, so each profile has its own).
// The stack's record is the Grafana container's own value: the engine never recreates Grafana for a new one and
// carries it over when it recreates Grafana for another reason (FIRST_START_ENVIRONMENT), so it is the password
// Grafana was created with. The record stays on the user's machine, where `docker inspect` showed it already.
import { containerName } from './containerSpec';
import type { StackEngine } from './engine';

const GRAFANA_SERVICE = 'grafana';
const GRAFANA_CONTAINER_PORT = 3000;
const PASSWORD_VARIABLE = 'GF_SECURITY_ADMIN_PASSWORD';
const USER_VARIABLE = 'GF_SECURITY_ADMIN_USER';
/** Grafana's default admin login, when the compose file sets none. */
const DEFAULT_ADMIN_USER = 'admin';
const REQUEST_TIMEOUT_MS = 5000;

export type GrafanaAdminPassword =
  /** Grafana accepts it. */
  | { state: 'accepted'; password: string }
  /** Grafana did not answer (stopped): the stack's record, else the one the window stored. */
  | { state: 'unverified'; password: string }
  /** Grafana rejects both the stack's record and the stored one: changed in Grafana, or its container was removed
   * and made again over its old volume. `container`: Grafana's, to reset the password in. */
  | { state: 'rejected'; password: string; container: string }
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

  // Grafana locks a login out after a few failed attempts: each password is tried once.
  const knownAnswer = await grafana.userId(known);
  if (knownAnswer === 'unreachable') return { state: 'unverified', password: known };
  if (knownAnswer !== 'rejected') return { state: 'accepted', password: known };
  const rejected = { state: 'rejected', password: known, container: containerName(engine.project, GRAFANA_SERVICE) } as const;
  if (!record || !stored || stored === record) return rejected;
  const id = await grafana.userId(stored);
  if (id === 'unreachable') return { state: 'unverified', password: record };
  if (id === 'rejected') return rejected;
  await grafana.setPassword(id, stored, record);
  return { state: 'accepted', password: record };
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
