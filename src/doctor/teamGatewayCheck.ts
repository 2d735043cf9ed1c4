// The pipeline doctor in team mode (claudeTelemetry.terminal.endpoint is the team's gateway, the backends are the
// team's): the hop from this developer's terminals to the gateway and on to the team's store. A probe point goes to
// the gateway with the headers terminals send (is the token accepted?), is looked up in the team's store as the
// dashboard reads it (written, readable back, under the developer the token names), and the store's recording rules
// are checked as the local stack's are. Plain Node.
import type { AuthConfig } from '../telemetry/http';
import { TelemetryError } from '../telemetry/http';
import { PrometheusClient } from '../telemetry/prometheus';
import type { CheckResult } from './checks';
import { NetError, http, short, type Verdict } from './httpChecks';
import { probeMetricRequest, waitForProbeMetric } from './probeRoundTrip';
import { recordingRulesCheck } from './recordingRulesCheck';

export interface TeamHop {
  /** The gateway's OTLP/HTTP address (claudeTelemetry.terminal.endpoint). */
  gateway: string;
  /** What terminals send it: the collector headers from secret storage, parsed. */
  headers: Record<string, string>;
  /** The developer the token names (`<developer>.<secret>`), as the gateway stamps it; undefined: it names none. */
  developer: string | undefined;
  /** The team's Prometheus API as the dashboard reads it. */
  store: { baseUrl: string; auth: AuthConfig; tenant: string };
}

export interface TeamCheckRun {
  runId: string;
  timeoutMs: number;
  roundTripMs: number;
  pollMs: number;
  signal: AbortSignal | undefined;
  timed(name: string, fn: () => Promise<Omit<CheckResult, 'ms'>>): Promise<CheckResult>;
}

const SET_HEADERS = '"Claude Telemetry: Set Collector Headers…"';

/** The gateway's answer to the probe: accepted, or why not. */
async function tokenCheck(run: TeamCheckRun, hop: TeamHop): Promise<Verdict> {
  const where = hop.gateway.replace(/\/+$/, '');
  if (!Object.keys(hop.headers).some((h) => h.toLowerCase() === 'authorization')) {
    return {
      status: 'fail',
      detail: `Terminals send the team's gateway (${where}) no token.`,
      cause: 'No collector headers are set: the gateway refuses every request without a token it lists.',
      fix: `Run ${SET_HEADERS} with authorization=Bearer <your token>, the token your team's admin gave you.`,
    };
  }
  let answer;
  try {
    answer = await http(
      'POST',
      `${where}/v1/metrics`,
      probeMetricRequest(run.runId, Date.now()),
      run.timeoutMs,
      run.signal,
      hop.headers,
    );
  } catch (error) {
    if (!(error instanceof NetError)) throw error;
    return {
      status: 'fail',
      detail: `The team's gateway at ${where} does not answer: ${error.message}.`,
      cause: 'claudeTelemetry.terminal.endpoint is not the gateway, or the gateway is down or out of reach.',
      fix: "Check the address your team's admin gave you (claudeTelemetry.terminal.endpoint); ask them whether the gateway runs.",
    };
  }
  if (answer.status === 401 || answer.status === 403) {
    return {
      status: 'fail',
      detail: `The team's gateway refused your token (HTTP ${answer.status}): ${short(answer.text)}`,
      cause: "The token is not in the gateway's list: mistyped, revoked, or another team's.",
      fix: `Run ${SET_HEADERS} with the token your team's admin gave you (authorization=Bearer <token>).`,
    };
  }
  if (answer.status < 200 || answer.status >= 300) {
    return {
      status: 'fail',
      detail: `The team's gateway answered HTTP ${answer.status}: ${short(answer.text)}`,
      cause: 'The address answers, but not as an OpenTelemetry collector accepting OTLP/HTTP does.',
      fix: "Check claudeTelemetry.terminal.endpoint against the address your team's admin gave you.",
    };
  }
  return hop.developer
    ? { status: 'ok', detail: `The gateway at ${where} accepted the probe: your token names you ${hop.developer}.` }
    : {
        status: 'warn',
        detail: `The gateway at ${where} accepted the probe, but your token names no developer.`,
        cause:
          'A token of the team stack is <developer>.<secret>: without the developer, your figures cannot be told from the team’s.',
        fix: "Ask your team's admin for a token of that form, and set it with " + `${SET_HEADERS}.`,
      };
}

/** The probe in the team's store, read as the dashboard reads it. */
async function storeCheck(run: TeamCheckRun, hop: TeamHop, store: PrometheusClient): Promise<Verdict> {
  const found = await waitForProbeMetric(store, run.runId, {
    timeoutMs: run.roundTripMs,
    pollMs: run.pollMs,
    signal: run.signal,
  });
  const tenant = hop.store.tenant ? `tenant "${hop.store.tenant}"` : 'no tenant';
  if (found.labels) {
    const stamped = found.labels['user_email'];
    return hop.developer && stamped !== hop.developer
      ? {
          status: 'warn',
          detail: `The probe is in the team's store after ${found.ms} ms, but under ${stamped ? `"${stamped}"` : 'no developer'}, not ${hop.developer}.`,
          cause: 'The gateway does not stamp the developer its token names (an older gateway.yaml).',
          fix: "Ask your team's admin to deploy the gateway from stack/team/gateway.yaml.",
        }
      : { status: 'ok', detail: `Written to the team's store and read back after ${found.ms} ms (${tenant}).` };
  }
  const error = found.lastError;
  if (error instanceof TelemetryError && error.kind === 'auth') {
    return /org ?id/i.test(error.bodyExcerpt ?? '')
      ? {
          status: 'fail',
          detail: `The team's store wants a tenant: ${error.message}`,
          cause: 'A multi-tenant store (Cortex, Mimir) answers only requests that name their tenant (X-Scope-OrgID).',
          fix: "Set claudeTelemetry.backend.tenantId to your team's tenant, as your team's admin gave it.",
        }
      : {
          status: 'fail',
          detail: `The team's store refused the dashboard's credentials: ${error.message}`,
          cause: 'claudeTelemetry.backend.auth, or the credentials in secret storage, are not what the store takes.',
          fix: 'Run "Claude Telemetry: Set Backend Credentials…" with the credentials your team\'s admin gave you.',
        };
  }
  if (error) {
    return {
      status: 'fail',
      detail: `The team's store did not answer: ${error instanceof Error ? error.message : String(error)}`,
      cause: 'claudeTelemetry.backend.prometheusUrl is not the store, or the store is down.',
      fix: 'Check claudeTelemetry.backend.prometheusUrl (a path prefix such as /prometheus included).',
    };
  }
  return {
    status: 'fail',
    detail: `The gateway accepted the probe, but it is not in the team's store (${tenant}) after ${Math.round(found.ms / 1000)} s.`,
    cause:
      'The gateway cannot write to the store (its log says why), or it writes another tenant than the one the dashboard reads.',
    fix: "Ask your team's admin for the gateway's log and its tenant (TEAM_TENANT); set claudeTelemetry.backend.tenantId to it.",
  };
}

/** The team hop's checks, in order; a later one is skipped when the hop before it failed. */
export async function teamGatewayChecks(run: TeamCheckRun, hop: TeamHop): Promise<void> {
  const store = new PrometheusClient({
    baseUrl: hop.store.baseUrl,
    auth: hop.store.auth,
    timeoutMs: run.timeoutMs,
    ...(hop.store.tenant ? { headers: { 'X-Scope-OrgID': hop.store.tenant } } : {}),
  });
  try {
    const token = await run.timed('Team gateway takes your token', async () => ({
      id: 'gateway-token',
      name: 'Team gateway takes your token',
      ...(await tokenCheck(run, hop)),
    }));
    const name = "Your probe in the team's store";
    await run.timed(name, async () =>
      token.status === 'fail'
        ? { id: 'gateway-roundtrip', name, status: 'skipped', detail: 'The gateway did not take the probe.' }
        : { id: 'gateway-roundtrip', name, ...(await storeCheck(run, hop, store)) },
    );
    const rules = "Recording rules in the team's store";
    await run.timed(rules, async () => ({
      id: 'recording-rules',
      name: rules,
      ...(await recordingRulesCheck(store, Date.now(), run.signal)),
    }));
  } finally {
    await store.close();
  }
}
