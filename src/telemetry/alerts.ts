// The stack's alerts: the thresholds the user sets, how they reach the alert rules, and the firing alerts as the
// extension shows them. Plain Node: never import `vscode`.
//
// Prometheus reads rule files it cannot be told to rewrite, so the thresholds travel as data: the extension sends
// each as a point of the gauge `claude_code_telemetry.alert_threshold{name}` to the collector (OTLP/HTTP JSON),
// and every rule of stack/prometheus/rules/alerts.yml compares against `max(claude_code_telemetry_alert_threshold
// {name="…"})`, falling back to the default written in the rule when no extension has sent one (a team's Prometheus).

import type { StackAlert } from '../snapshot';

/** Each threshold: its setting (`claudeTelemetry.alerts.<key>`, or the one named), its name on the gauge, its default. */
export const ALERT_THRESHOLDS = {
  hourlyCostUsd: { name: 'hourly_cost_usd', default: 10, rule: 'HighHourlyCost' },
  dailyCostUsd: { name: 'daily_cost_usd', default: 100, rule: 'DailyCostThreshold' },
  toolErrorRatePercent: { name: 'tool_error_rate_percent', default: 15, rule: 'HighToolErrorRate' },
  subagentFailuresPer10Minutes: { name: 'subagent_failures_per_10m', default: 5, rule: 'SubagentFailureSpike' },
  apiErrorsPer5Minutes: { name: 'api_errors_per_5m', default: 10, rule: 'APIErrorSpike' },
  retriesExhaustedPer15Minutes: { name: 'retries_exhausted_per_15m', default: 0, rule: 'APIRetriesExhausted' },
  refusalsPerHour: { name: 'refusals_per_hour', default: 2, rule: 'RepeatedRefusals' },
  mcpFailuresPerHour: { name: 'mcp_failures_per_hour', default: 2, rule: 'MCPServerFailing' },
  compactionsPerHour: { name: 'compactions_per_hour', default: 4, rule: 'CompactionStorm' },
  /** Set by `claudeTelemetry.plan.warningPercent`. */
  planUsagePercent: { name: 'plan_usage_percent', default: 80, rule: 'PlanUsageHigh' },
  /** The 5-hour window's usage at its reset, at the last half hour's pace. */
  planProjectedPercent: { name: 'plan_projected_percent', default: 100, rule: 'PlanLimitBeforeReset' },
} as const;
export type AlertThreshold = keyof typeof ALERT_THRESHOLDS;
export type AlertThresholds = Record<AlertThreshold, number>;

/** The gauge as the extension sends it, and as the collector's exporter names it in Prometheus. */
export const THRESHOLD_METRIC = 'claude_code_telemetry.alert_threshold';
export const THRESHOLD_SERIES = 'claude_code_telemetry_alert_threshold';

/** The OTLP/HTTP JSON request that sets every threshold, stamped `nowMs`. */
export function thresholdsRequest(thresholds: AlertThresholds, nowMs: number): unknown {
  const timeUnixNano = (BigInt(Math.round(nowMs)) * 1_000_000n).toString();
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code-telemetry' } }] },
        scopeMetrics: [
          {
            scope: { name: 'claude-code-telemetry/alerts' },
            metrics: [
              {
                name: THRESHOLD_METRIC,
                description:
                  'Alert thresholds of the Claude Code Telemetry extension, from its settings (not Claude Code data).',
                gauge: {
                  dataPoints: (Object.keys(ALERT_THRESHOLDS) as AlertThreshold[]).map((key) => ({
                    attributes: [{ key: 'name', value: { stringValue: ALERT_THRESHOLDS[key].name } }],
                    timeUnixNano,
                    asDouble: thresholds[key],
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

/**
 * The one notification for the alerts that fired since the last look: one alert in its own words; several in one
 * message naming them, as critical as the most critical of them. VS Code shows no toast for a fourth notification within 800 ms
 * (it goes to the notification center only), and alerts fire together (one session's failures).
 */
export function alertNotification(fresh: readonly StackAlert[]): { critical: boolean; text: string } | undefined {
  const said = (alert: StackAlert): string =>
    `${alert.summary || alert.name}${alert.description ? `: ${alert.description}` : ''}`;
  const [first, ...more] = fresh;
  if (!first) return undefined;
  const critical = fresh.some((alert) => alert.severity === 'critical');
  if (more.length === 0) return { critical, text: said(first) };
  // Their summaries only: what each means and what to do are in the sidebar's alerts.
  return {
    critical,
    text: `${fresh.length} alerts fired: ${fresh.map((alert) => alert.summary || alert.name).join('; ')}. The dashboard says what each means.`,
  };
}
