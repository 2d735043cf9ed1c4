// The pipeline doctor's check that Prometheus runs the recording rules every figure of the extension reads
// (src/telemetry/counters.ts), and ran them lately. A team store the rules were not loaded into fails here with the
// file to load. Plain Node.
import { COUNTERS, RULES_FILE, RULE_INTERVAL_MS } from '../telemetry/counters';
import type { PrometheusClient } from '../telemetry/prometheus';
import { RESTART, type Verdict } from './httpChecks';

export async function recordingRulesCheck(
  prom: PrometheusClient,
  nowMs: number,
  signal?: AbortSignal,
): Promise<Verdict> {
  let groups;
  try {
    groups = await prom.ruleGroups(signal ? { signal } : {});
  } catch (error) {
    if (signal?.aborted) throw error;
    return {
      status: 'fail',
      detail: `Prometheus did not list its rules: ${error instanceof Error ? error.message : String(error)}`,
      cause: 'Prometheus answered the checks above but not /api/v1/rules.',
      fix: 'Run this check again; a team store must serve the Prometheus rules API (Mimir and Thanos do).',
    };
  }
  const loaded = new Set(groups.flatMap((g) => g.rules));
  const missing = Object.values(COUNTERS)
    .flatMap((c) => [c.lastValue, c.rule])
    .filter((r) => !loaded.has(r));
  const load =
    `Load ${RULES_FILE} into Prometheus (rule_files in its config, or the ruler of a team store); for the local stack, ` +
    `restore stack/prometheus/prometheus.yml and run ${RESTART}.`;
  if (missing.length === Object.keys(COUNTERS).length * 2) {
    return {
      status: 'fail',
      detail: `Prometheus runs none of the recording rules (no ${COUNTERS.cost.rule}).`,
      cause:
        'Every figure of the status bar and the sidebar is a sum over these rules: without them they show an error.',
      fix: load,
    };
  }
  if (missing.length) {
    return {
      status: 'fail',
      detail: `Prometheus lacks ${missing.length} of the recording rules: ${missing.join(', ')}.`,
      cause: 'An older rules file is loaded: the figures read from the missing rules stay empty.',
      fix: load,
    };
  }
  const group = groups.find((g) => g.rules.includes(COUNTERS.cost.rule))!;
  if (group.lastEvaluationMs === null) {
    return {
      status: 'warn',
      detail: `The rule group "${group.name}" has not evaluated yet.`,
      cause: 'Prometheus has just started: the group runs every 10 s.',
      fix: 'Run this check again in a few seconds.',
    };
  }
  const ago = Math.max(0, Math.round((nowMs - group.lastEvaluationMs) / 1000));
  if (ago * 1000 > 3 * RULE_INTERVAL_MS) {
    return {
      status: 'warn',
      detail: `The rule group "${group.name}" last evaluated ${ago} s ago (it runs every ${RULE_INTERVAL_MS / 1000} s).`,
      cause: "Prometheus is overloaded, or its clock and this machine's differ.",
      fix: "Look at Prometheus's /rules page for the group's evaluation time and errors.",
    };
  }
  return { status: 'ok', detail: `${loaded.size} recording rules in "${group.name}", last evaluated ${ago} s ago.` };
}
