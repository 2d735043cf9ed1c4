/**
 * Typed settings under `claudeTelemetry.*`. Pure: the caller hands in the configuration section, so this runs
 * (and is tested against package.json's defaults) in plain Node.
 */

import { ALERT_THRESHOLDS, type AlertThreshold, type AlertThresholds } from './telemetry/alerts';

/** What `vscode.workspace.getConfiguration('claudeTelemetry')` offers, and all this module needs of it. */
export interface SettingsSection {
  get<T>(key: string): T | undefined;
}

export type StackService = 'collector' | 'prometheus' | 'loki' | 'grafana';

export interface StackPorts {
  otlpGrpc: number;
  otlpHttp: number;
  collectorMetrics: number;
  prometheus: number;
  loki: number;
  grafana: number;
}

export type BackendAuth = 'none' | 'bearer' | 'basic';
export type TerminalScope = 'allTerminals' | 'claudeOnly';

/** Where the data is read from: empty URLs mean the local stack on the configured ports. */
export interface BackendConfig {
  prometheusUrl: string;
  lokiUrl: string;
  grafanaUrl: string;
  auth: BackendAuth;
  /** For basic auth; the password or token lives in SecretStorage. */
  username: string;
  /** Sent as X-Scope-OrgID to multi-tenant Loki and Mimir. */
  tenantId: string;
}

export interface Config {
  dockerHost: string;
  ports: StackPorts;
  /** Empty string: the version pinned in stack/compose.yaml. */
  images: Record<StackService, string>;
  retentionDays: number;
  refreshIntervalSeconds: number;
  /** 0 turns the budget off. */
  dailyBudgetUsd: number;
  /** Plan usage (either window) at which the status bar warns and one notification per window and reset says so. */
  planWarningPercent: number;
  /** What the plan costs a month (USD): the sidebar sets this month's API-equivalent cost against it. 0: not shown. */
  planMonthlyPriceUsd: number;
  alerts: {
    /** Show each alert that starts firing as a notification. */
    notify: boolean;
    /** Sent to the stack's alert rules (see src/telemetry/alerts.ts). */
    thresholds: AlertThresholds;
  };
  backend: BackendConfig;
  terminal: {
    enabled: boolean;
    /** allTerminals: every terminal gets the variables; claudeOnly: only `claude`, through a shim on PATH. */
    scope: TerminalScope;
    /** OTLP/HTTP address of a team collector; empty: the local stack. */
    endpoint: string;
    metricExportIntervalMs: number;
    logsExportIntervalMs: number;
    logUserPrompts: boolean;
    logToolDetails: boolean;
  };
}

export const DEFAULTS: Config = {
  dockerHost: '',
  ports: { otlpGrpc: 4317, otlpHttp: 4318, collectorMetrics: 8888, prometheus: 9090, loki: 3100, grafana: 3000 },
  images: { collector: '', prometheus: '', loki: '', grafana: '' },
  retentionDays: 30,
  refreshIntervalSeconds: 3,
  dailyBudgetUsd: 0,
  planWarningPercent: 80,
  planMonthlyPriceUsd: 0,
  alerts: {
    notify: true,
    thresholds: Object.fromEntries(
      Object.entries(ALERT_THRESHOLDS).map(([key, t]) => [key, t.default]),
    ) as AlertThresholds,
  },
  backend: { prometheusUrl: '', lokiUrl: '', grafanaUrl: '', auth: 'none', username: '', tenantId: '' },
  terminal: {
    enabled: true,
    scope: 'allTerminals',
    endpoint: '',
    metricExportIntervalMs: 1000,
    logsExportIntervalMs: 1000,
    logUserPrompts: false,
    logToolDetails: false,
  },
};

/** Setting key (below `claudeTelemetry.`) of each port, for messages that tell the user what to change. */
export const PORT_SETTING: Record<keyof StackPorts, string> = {
  otlpGrpc: 'claudeTelemetry.stack.ports.otlpGrpc',
  otlpHttp: 'claudeTelemetry.stack.ports.otlpHttp',
  collectorMetrics: 'claudeTelemetry.stack.ports.collectorMetrics',
  prometheus: 'claudeTelemetry.stack.ports.prometheus',
  loki: 'claudeTelemetry.stack.ports.loki',
  grafana: 'claudeTelemetry.stack.ports.grafana',
};

export interface ConfigReading {
  config: Config;
  /** One sentence per invalid value, beginning with the setting's id, then what is wrong and the value used instead. */
  problems: string[];
}

/** The id of the setting a problem of `readConfig` is about: the one it begins with. */
export function problemSetting(problem: string): string | undefined {
  return /^claudeTelemetry\.[\w.]*\w/.exec(problem)?.[0];
}

export function readConfig(section: SettingsSection): ConfigReading {
  const problems: string[] = [];

  const integer = (key: string, fallback: number, min: number, max: number): number => {
    const value = section.get<unknown>(key);
    if (value === undefined || value === null) {
      return fallback;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(
        `claudeTelemetry.${key}: ${JSON.stringify(value)} is not a whole number from ${min} to ${max}; using ${fallback}.`,
      );
      return fallback;
    }
    return value;
  };
  const number = (key: string, fallback: number, min: number): number => {
    const value = section.get<unknown>(key);
    if (value === undefined || value === null) {
      return fallback;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      problems.push(
        `claudeTelemetry.${key}: ${JSON.stringify(value)} is not a number of at least ${min}; using ${fallback}.`,
      );
      return fallback;
    }
    return value;
  };
  const text = (key: string, fallback: string): string => {
    const value = section.get<unknown>(key);
    if (value === undefined || value === null) {
      return fallback;
    }
    if (typeof value !== 'string') {
      problems.push(`claudeTelemetry.${key}: ${JSON.stringify(value)} is not text; using ${JSON.stringify(fallback)}.`);
      return fallback;
    }
    return value.trim();
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const value = section.get<unknown>(key);
    if (typeof value === 'boolean') {
      return value;
    }
    if (value !== undefined && value !== null) {
      problems.push(`claudeTelemetry.${key}: ${JSON.stringify(value)} is not true or false; using ${fallback}.`);
    }
    return fallback;
  };

  const url = (key: string): string => {
    const value = text(key, '');
    if (value && !(URL.canParse(value) && /^https?:$/.test(new URL(value).protocol))) {
      problems.push(
        `claudeTelemetry.${key}: ${JSON.stringify(value)} is not an http(s) URL; using the local stack instead.`,
      );
      return '';
    }
    return value;
  };
  const choice = <T extends string>(key: string, options: readonly T[], fallback: T): T => {
    const value = section.get<unknown>(key);
    if (value === undefined || value === null) {
      return fallback;
    }
    if (typeof value === 'string' && (options as readonly string[]).includes(value)) {
      return value as T;
    }
    problems.push(
      `claudeTelemetry.${key}: ${JSON.stringify(value)} is not one of ${options.join(', ')}; using ${fallback}.`,
    );
    return fallback;
  };

  const planWarningPercent = integer('plan.warningPercent', DEFAULTS.planWarningPercent, 1, 100);
  const ports = {} as StackPorts;
  for (const name of Object.keys(DEFAULTS.ports) as (keyof StackPorts)[]) {
    ports[name] = integer(`stack.ports.${name}`, DEFAULTS.ports[name], 1, 65535);
  }
  const seen = new Map<number, keyof StackPorts>();
  for (const name of Object.keys(ports) as (keyof StackPorts)[]) {
    const other = seen.get(ports[name]);
    if (other) {
      problems.push(
        `${PORT_SETTING[name]} and ${PORT_SETTING[other]} are both ${ports[name]}; each service needs its own port.`,
      );
    }
    seen.set(ports[name], name);
  }

  const images = {} as Record<StackService, string>;
  for (const service of Object.keys(DEFAULTS.images) as StackService[]) {
    images[service] = text(`stack.images.${service}`, DEFAULTS.images[service]);
  }

  return {
    config: {
      dockerHost: text('docker.host', DEFAULTS.dockerHost),
      ports,
      images,
      retentionDays: integer('stack.retentionDays', DEFAULTS.retentionDays, 1, 3650),
      refreshIntervalSeconds: integer('refreshIntervalSeconds', DEFAULTS.refreshIntervalSeconds, 2, 3600),
      dailyBudgetUsd: number('dailyBudgetUsd', DEFAULTS.dailyBudgetUsd, 0),
      planWarningPercent,
      planMonthlyPriceUsd: number('plan.monthlyPriceUsd', DEFAULTS.planMonthlyPriceUsd, 0),
      alerts: {
        notify: flag('alerts.notify', DEFAULTS.alerts.notify),
        thresholds: Object.fromEntries(
          (Object.keys(ALERT_THRESHOLDS) as AlertThreshold[]).map((key) => [
            key,
            key === 'planUsagePercent' ? planWarningPercent : number(`alerts.${key}`, ALERT_THRESHOLDS[key].default, 0),
          ]),
        ) as AlertThresholds,
      },
      backend: {
        prometheusUrl: url('backend.prometheusUrl'),
        lokiUrl: url('backend.lokiUrl'),
        grafanaUrl: url('backend.grafanaUrl'),
        auth: choice<BackendAuth>('backend.auth', ['none', 'bearer', 'basic'], DEFAULTS.backend.auth),
        username: text('backend.username', DEFAULTS.backend.username),
        tenantId: text('backend.tenantId', DEFAULTS.backend.tenantId),
      },
      terminal: {
        enabled: flag('terminal.enabled', DEFAULTS.terminal.enabled),
        scope: choice<TerminalScope>('terminal.scope', ['allTerminals', 'claudeOnly'], DEFAULTS.terminal.scope),
        endpoint: url('terminal.endpoint'),
        metricExportIntervalMs: integer(
          'terminal.metricExportIntervalMs',
          DEFAULTS.terminal.metricExportIntervalMs,
          500,
          600000,
        ),
        logsExportIntervalMs: integer(
          'terminal.logsExportIntervalMs',
          DEFAULTS.terminal.logsExportIntervalMs,
          200,
          600000,
        ),
        logUserPrompts: flag('terminal.logUserPrompts', DEFAULTS.terminal.logUserPrompts),
        logToolDetails: flag('terminal.logToolDetails', DEFAULTS.terminal.logToolDetails),
      },
    },
    problems,
  };
}

/** Where one kind of data is read from. */
export interface BackendAddress {
  url: string;
  /** The local stack's (no setting): no credentials go there, and its state follows the stack's. */
  local: boolean;
}

/** The addresses data is read from: each the team's when set, else the local stack's. */
export function backends(config: Config): {
  prometheus: BackendAddress;
  loki: BackendAddress;
  grafana: BackendAddress;
} {
  const pick = (url: string, port: number): BackendAddress =>
    url ? { url, local: false } : { url: `http://127.0.0.1:${port}`, local: true };
  return {
    prometheus: pick(config.backend.prometheusUrl, config.ports.prometheus),
    loki: pick(config.backend.lokiUrl, config.ports.loki),
    grafana: pick(config.backend.grafanaUrl, config.ports.grafana),
  };
}

const PORT_VARIABLE: Record<keyof StackPorts, string> = {
  otlpGrpc: 'CCT_OTLP_GRPC_PORT',
  otlpHttp: 'CCT_OTLP_HTTP_PORT',
  collectorMetrics: 'CCT_COLLECTOR_METRICS_PORT',
  prometheus: 'CCT_PROMETHEUS_PORT',
  loki: 'CCT_LOKI_PORT',
  grafana: 'CCT_GRAFANA_PORT',
};
const IMAGE_VARIABLE: Record<StackService, string> = {
  collector: 'CCT_COLLECTOR_IMAGE',
  prometheus: 'CCT_PROMETHEUS_IMAGE',
  loki: 'CCT_LOKI_IMAGE',
  grafana: 'CCT_GRAFANA_IMAGE',
};
const RETENTION_VARIABLE = 'CCT_RETENTION_DAYS';

/** Where terminals send telemetry: a team collector when set, else the local stack's OTLP/HTTP port. */
export function otlpEndpoint(config: Config): string {
  return config.terminal.endpoint || `http://127.0.0.1:${config.ports.otlpHttp}`;
}

/** The values stack/compose.yaml reads from its environment, for the same stack the settings describe. */
export function composeVariables(config: Config): Record<string, string> {
  const variables: Record<string, string> = { [RETENTION_VARIABLE]: String(config.retentionDays) };
  for (const name of Object.keys(PORT_VARIABLE) as (keyof StackPorts)[]) {
    variables[PORT_VARIABLE[name]] = String(config.ports[name]);
  }
  for (const service of Object.keys(IMAGE_VARIABLE) as StackService[]) {
    if (config.images[service]) {
      variables[IMAGE_VARIABLE[service]] = config.images[service];
    }
  }
  return variables;
}

/** Which setting moves each compose variable, so a message about a variable can name the setting instead. */
export function composeVariableSettings(): Record<string, string> {
  const settings: Record<string, string> = { [RETENTION_VARIABLE]: 'claudeTelemetry.stack.retentionDays' };
  for (const name of Object.keys(PORT_VARIABLE) as (keyof StackPorts)[]) {
    settings[PORT_VARIABLE[name]] = PORT_SETTING[name];
  }
  for (const service of Object.keys(IMAGE_VARIABLE) as StackService[]) {
    settings[IMAGE_VARIABLE[service]] = `claudeTelemetry.stack.images.${service}`;
  }
  return settings;
}

/** Where a setting is set, as `WorkspaceConfiguration.inspect` tells it (read with no resource, as the extension
 * reads its settings: no folder's value). `globalRemoteValue` (a remote window's Remote settings) is in what VS Code
 * hands the extension, not in its typed API. */
export interface SettingValues {
  globalValue?: unknown;
  globalRemoteValue?: unknown;
  workspaceValue?: unknown;
}

/** The tabs of the Settings UI a setting's value can be on. */
export type SettingsTab = 'user' | 'remote' | 'workspace';

/**
 * The tab that shows the value in effect: the most specific one set (the workspace's over the user's; in a remote
 * window the Remote settings over the local User settings). Not set anywhere: in a remote window the Remote tab, as
 * the stack runs on that machine; else the User tab.
 */
export function settingsTab(values: SettingValues | undefined, remoteWindow: boolean): SettingsTab {
  if (values?.workspaceValue !== undefined) return 'workspace';
  if (remoteWindow && values?.globalRemoteValue !== undefined) return 'remote';
  if (values?.globalValue !== undefined) return 'user';
  return remoteWindow ? 'remote' : 'user';
}
