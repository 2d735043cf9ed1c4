import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  repositoryFromGitConfig,
  TELEMETRY_VARIABLE_NAMES,
  telemetryEnvironment,
  type TelemetryEnvironmentOptions,
} from '../../src/terminal/environment';

const base: TelemetryEnvironmentOptions = {
  endpoint: 'http://127.0.0.1:4318/',
  metricExportIntervalMs: 2000,
  logsExportIntervalMs: 1000,
  logUserPrompts: false,
  logToolDetails: false,
  workspaceName: 'my app',
  repository: 'acme/my-app',
  existingResourceAttributes: undefined,
};

describe('terminal telemetry environment', () => {
  it('turns telemetry on and points both signals at the collector', () => {
    const environment = telemetryEnvironment(base);
    assert.equal(environment.CLAUDE_CODE_ENABLE_TELEMETRY, '1');
    assert.equal(environment.OTEL_METRICS_EXPORTER, 'otlp');
    assert.equal(environment.OTEL_LOGS_EXPORTER, 'otlp');
    assert.equal(environment.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://127.0.0.1:4318');
    assert.equal(environment.OTEL_METRIC_EXPORT_INTERVAL, '2000');
    assert.equal(environment.OTEL_LOGS_EXPORT_INTERVAL, '1000');
    assert.equal(environment.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, 'cumulative');
    assert.equal(
      environment.OTEL_RESOURCE_ATTRIBUTES,
      'vscode.workspace.name=my%20app,vcs.repository.name=acme%2Fmy-app',
    );
  });

  it('names every variable it can set, so a removal finds them all', () => {
    const everything = telemetryEnvironment({
      ...base,
      logUserPrompts: true,
      logToolDetails: true,
      headers: 'authorization=Bearer x',
    });
    assert.deepEqual(Object.keys(everything).sort(), [...TELEMETRY_VARIABLE_NAMES].sort());
  });

  it('sends prompts and tool details only when the user opts in', () => {
    assert.equal(telemetryEnvironment(base).OTEL_LOG_USER_PROMPTS, undefined);
    assert.equal(telemetryEnvironment(base).OTEL_LOG_TOOL_DETAILS, undefined);
    const optedIn = telemetryEnvironment({ ...base, logUserPrompts: true, logToolDetails: true });
    assert.equal(optedIn.OTEL_LOG_USER_PROMPTS, '1');
    assert.equal(optedIn.OTEL_LOG_TOOL_DETAILS, '1');
  });

  it('extends the user’s own resource attributes instead of replacing them', () => {
    const environment = telemetryEnvironment({ ...base, existingResourceAttributes: 'team=core,' });
    assert.equal(
      environment.OTEL_RESOURCE_ATTRIBUTES,
      'team=core,vscode.workspace.name=my%20app,vcs.repository.name=acme%2Fmy-app',
    );
    const bare = telemetryEnvironment({ ...base, workspaceName: undefined, repository: undefined });
    assert.equal(bare.OTEL_RESOURCE_ATTRIBUTES, undefined);
  });

  it('reads owner/name of the origin remote from .git/config', () => {
    const config = (url: string) =>
      `[core]\n\tbare = false\n[remote "origin"]\n\turl = ${url}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[branch "main"]\n`;
    assert.equal(repositoryFromGitConfig(config('git@github.com:acme/my-app.git')), 'acme/my-app');
    assert.equal(repositoryFromGitConfig(config('https://gitlab.example.com/group/sub/my-app.git')), 'sub/my-app');
    assert.equal(repositoryFromGitConfig('[core]\n\tbare = false\n'), undefined);
  });
});
