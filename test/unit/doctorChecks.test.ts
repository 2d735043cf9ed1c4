// The pipeline doctor's environment checks (active terminal, ~/.claude/settings.json under a temporary HOME), the
// probe-name diagnosis and the Markdown report. No Docker needed.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkClaudeSettings } from '../../src/doctor/claudeSettingsCheck';
import { renderDoctorReport } from '../../src/doctor/doctorReport';
import type { DoctorResult } from '../../src/doctor/checks';
import { classifyProbeMetricName, PROBE_PROMETHEUS_NAME } from '../../src/doctor/probeRoundTrip';
import { checkTerminalEnvironment, environmentFindings } from '../../src/doctor/terminalEnvironmentCheck';
import { telemetryEnvironment } from '../../src/terminal/environment';

const expect = { otlpHttpPort: 4318, otlpGrpcPort: 4317 };

function extensionEnv(port = 4318): Record<string, string> {
  return telemetryEnvironment({
    endpoint: `http://127.0.0.1:${port}`,
    metricExportIntervalMs: 2000,
    logsExportIntervalMs: 1000,
    logUserPrompts: false,
    logToolDetails: false,
    workspaceName: 'demo',
    repository: undefined,
    existingResourceAttributes: undefined,
  });
}

describe('doctor: active terminal environment', () => {
  it('passes for a terminal with the environment the extension sets', () => {
    const r = checkTerminalEnvironment({ name: 'zsh', env: { PATH: '/usr/bin', ...extensionEnv() } }, expect);
    assert.equal(r.status, 'ok', JSON.stringify(r));
    assert.match(r.detail, /"zsh": telemetry on, OTLP http\/json to http:\/\/127\.0\.0\.1:4318/);
  });

  it('a terminal without the environment: fail, open a new terminal / relaunch', () => {
    const r = checkTerminalEnvironment({ name: 'bash', env: { PATH: '/usr/bin', HOME: '/home/u' } }, expect);
    assert.equal(r.status, 'fail');
    assert.match(r.detail, /"bash" has no CLAUDE_CODE_ENABLE_TELEMETRY/);
    assert.match(r.cause ?? '', /opened before the extension set the telemetry environment/);
    assert.match(r.fix ?? '', /Open a new terminal, or relaunch this one/);
    assert.match(r.fix ?? '', /Write Telemetry Settings to Claude Code/);
  });

  it('with the terminal setting off, the cause names the setting', () => {
    const r = checkTerminalEnvironment({ name: 'bash', env: {} }, expect, { enabled: false });
    assert.equal(r.status, 'fail');
    assert.match(r.cause ?? '', /claudeTelemetry\.terminal\.enabled/);
    assert.match(r.fix ?? '', /Turn on `claudeTelemetry\.terminal\.enabled`/);
  });

  it('a terminal pointing at an old port: fail naming both ports, relaunch', () => {
    const r = checkTerminalEnvironment(
      { name: 'bash', env: extensionEnv(4319) },
      { otlpHttpPort: 14318, otlpGrpcPort: 14317 },
    );
    assert.equal(r.status, 'fail');
    assert.match(r.detail, /go to http:\/\/127\.0\.0\.1:4319 .*collector takes OTLP\/HTTP on 127\.0\.0\.1:14318/);
    assert.match(r.cause ?? '', /OTEL_EXPORTER_OTLP_ENDPOINT/);
    assert.match(r.fix ?? '', /Relaunch the terminal/);
  });

  it('a signal-specific endpoint inherited from a shell profile wins over ours: fail naming it', () => {
    const r = checkTerminalEnvironment(
      {
        name: 'bash',
        env: { ...extensionEnv(), OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://localhost:9999/v1/metrics' },
      },
      expect,
    );
    assert.equal(r.status, 'fail');
    assert.match(r.detail, /Metrics go to http:\/\/localhost:9999 \(OTEL_EXPORTER_OTLP_METRICS_ENDPOINT/);
    assert.doesNotMatch(r.detail, /Events go to/);
  });

  it('a remote endpoint (team collector) is a warning, not a failure', () => {
    const r = checkTerminalEnvironment(
      { name: 'bash', env: { ...extensionEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com' } },
      expect,
    );
    assert.equal(r.status, 'warn');
    assert.match(r.detail, /go to https:\/\/otel\.example\.com .*local dashboard will not show them/);
  });

  it('no terminal: skipped with how to get one', () => {
    const r = checkTerminalEnvironment(undefined, expect);
    assert.equal(r.status, 'skipped');
    assert.match(r.fix ?? '', /Open a new terminal/);
  });

  it('"Claude Code only" mode: the shim on PATH is enough; without it, relaunch', () => {
    const ok = checkTerminalEnvironment({ name: 'sh', env: { PATH: '/shim:/usr/bin' } }, expect, {
      claudeShimDirectory: '/shim',
    });
    assert.equal(ok.status, 'ok');
    assert.match(ok.detail, /Claude Code only/);
    const bad = checkTerminalEnvironment({ name: 'sh', env: { PATH: '/usr/bin' } }, expect, {
      claudeShimDirectory: '/shim',
    });
    assert.equal(bad.status, 'fail');
    assert.match(bad.fix ?? '', /Open a new terminal, or relaunch/);
  });

  it('grpc to the HTTP port, and session ids off, are each named', () => {
    const f = environmentFindings(
      { ...extensionEnv(), OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_METRICS_INCLUDE_SESSION_ID: 'false' },
      expect,
    );
    const texts = f.map((x) => x.text).join('\n');
    assert.match(
      texts,
      /protocol grpc to http:\/\/127\.0\.0\.1:4318, which is the collector's OTLP\/HTTP port: use 127\.0\.0\.1:4317/,
    );
    assert.match(texts, /OTEL_METRICS_INCLUDE_SESSION_ID=false: .*explode/);
    // grpc to the gRPC port is fine
    assert.deepEqual(
      environmentFindings(
        {
          ...extensionEnv(),
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317',
        },
        expect,
      ),
      [],
    );
  });
});

describe('doctor: ~/.claude/settings.json (temporary HOME)', () => {
  let home: string;
  let savedHome: string | undefined;
  const settingsPath = (): string => path.join(os.homedir(), '.claude', 'settings.json');
  const write = (text: string): void => {
    fs.mkdirSync(path.dirname(settingsPath()), { recursive: true });
    fs.writeFileSync(settingsPath(), text);
  };

  before(() => {
    savedHome = process.env.HOME;
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'cct-doctor-home-'));
    process.env.HOME = home;
    assert.equal(os.homedir(), home);
  });
  after(() => {
    process.env.HOME = savedHome;
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('no file: ok, and says Claude Code started elsewhere does not report', async () => {
    const r = await checkClaudeSettings(settingsPath(), expect);
    assert.equal(r.status, 'ok');
    assert.match(r.detail, /does not exist: nothing overrides the terminal environment/);
    assert.match(r.detail, /Write Telemetry Settings to Claude Code/);
  });

  it('a real-world file with comments and matching telemetry env: ok', async () => {
    write(`{
  // my settings
  "model": "opus",
  "permissions": { "allow": ["Bash(npm test)"] },
  "env": {
    "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318", // the local stack
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
    "DISABLE_AUTOUPDATER": "1",
  },
}
`);
    const r = await checkClaudeSettings(settingsPath(), expect);
    assert.equal(r.status, 'ok', JSON.stringify(r));
    assert.match(r.detail, /consistent with the stack/);
  });

  it('conflicts: telemetry off, another endpoint, grpc, session ids off: each named, with the fix', async () => {
    write(`{
  /* team defaults */
  "env": {
    "CLAUDE_CODE_ENABLE_TELEMETRY": 0,
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4999",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
    "OTEL_METRICS_INCLUDE_SESSION_ID": "false"
  }
}
`);
    const r = await checkClaudeSettings(settingsPath(), expect);
    assert.equal(r.status, 'fail');
    assert.match(r.detail, /CLAUDE_CODE_ENABLE_TELEMETRY="0" turns Claude Code's telemetry off/);
    assert.match(
      r.detail,
      /go to http:\/\/127\.0\.0\.1:4999 \(OTEL_EXPORTER_OTLP_ENDPOINT, grpc\), but the stack's collector takes OTLP\/gRPC on 127\.0\.0\.1:4317/,
    );
    assert.match(r.detail, /OTEL_METRICS_INCLUDE_SESSION_ID=false/);
    assert.match(r.cause ?? '', /applies the `env` block .* over the environment it starts with/);
    assert.match(r.fix ?? '', /Write Telemetry Settings to Claude Code/);
  });

  it('only a protocol that does not fit the terminal endpoint is a conflict too', async () => {
    write('{ "env": { "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc" } }');
    const r = await checkClaudeSettings(settingsPath(), expect);
    assert.equal(r.status, 'fail');
    assert.match(r.detail, /protocol grpc to http:\/\/127\.0\.0\.1:4318, which is the collector's OTLP\/HTTP port/);
  });

  it('an unparseable file: warning, never overwritten', async () => {
    write('{ "env": { "CLAUDE_CODE_ENABLE_TELEMETRY": "1", }');
    const r = await checkClaudeSettings(settingsPath(), expect);
    assert.equal(r.status, 'warn');
    assert.match(r.detail, /is not valid JSON/);
    assert.match(r.cause ?? '', /cannot use a settings file it cannot parse/);
    assert.equal(fs.readFileSync(settingsPath(), 'utf8'), '{ "env": { "CLAUDE_CODE_ENABLE_TELEMETRY": "1", }');
  });
});

describe('doctor: probe name diagnosis', () => {
  it('the expected name is fine', () => {
    assert.equal(classifyProbeMetricName(PROBE_PROMETHEUS_NAME).status, 'ok');
  });
  it('the double prefix is named as such, with the fix', () => {
    const v = classifyProbeMetricName('claude_code_claude_code_doctor_probe_total');
    assert.equal(v.status, 'fail');
    assert.match(v.cause ?? '', /Double metric prefix/);
    assert.match(v.cause ?? '', /namespace: claude_code/);
    assert.match(v.fix ?? '', /Remove `namespace: claude_code`/);
  });
  it('another namespace, missing suffixes, UTF-8 names', () => {
    assert.match(
      classifyProbeMetricName('otel_claude_code_doctor_probe_total').cause ?? '',
      /adds the namespace `otel`/,
    );
    assert.match(classifyProbeMetricName('claude_code_doctor_probe').cause ?? '', /without the `_total` suffix/);
    assert.match(classifyProbeMetricName('claude_code.doctor.probe').cause ?? '', /UTF-8/);
  });
});

describe('doctor: Markdown report', () => {
  it('a table row per check with times, then cause and fix per problem', () => {
    const result: DoctorResult = {
      runId: 'r1',
      startedAt: '2026-01-01T00:00:00.000Z',
      ms: 4321,
      endpoints: {
        otlpHttp: 'http://127.0.0.1:4318',
        otlpGrpcPort: 4317,
        prometheus: 'http://127.0.0.1:9090',
        loki: 'http://127.0.0.1:3100',
      },
      checks: [
        {
          id: 'docker',
          name: 'Docker engine reachable',
          status: 'ok',
          ms: 12,
          detail: 'The container engine answers.',
        },
        {
          id: 'roundtrip-metric',
          name: 'Round trip: probe metric',
          status: 'ok',
          ms: 4100,
          detail: 'in Prometheus',
          hops: [
            { name: 'collector accepted', ms: 9 },
            { name: 'in Prometheus', ms: 4100 },
          ],
        },
        {
          id: 'loki-otlp',
          name: 'Loki accepting OTLP logs',
          status: 'fail',
          ms: 3,
          detail: 'POST → HTTP 404 | x',
          cause: 'Loki does not accept OTLP',
          fix: 'Use Loki 3.x',
        },
        { id: 'roundtrip-event', name: 'Round trip: probe event', status: 'skipped', ms: 0, detail: 'Skipped' },
      ],
      counts: { ok: 2, warn: 0, fail: 1, skipped: 1 },
      summary: '1 problem: Loki accepting OTLP logs',
      notes: [],
    };
    const md = renderDoctorReport(result);
    assert.match(md, /^# Telemetry pipeline check/);
    assert.match(md, /❌ \*\*1 problem: Loki accepting OTLP logs\.\*\*/);
    assert.match(md, /\| ✅ \| Docker engine reachable \| OK \| 12 ms \|/);
    assert.match(md, /collector accepted: 9 ms → in Prometheus: 4\.10 s/);
    assert.match(md, /HTTP 404 \\\| x/, 'a pipe in a cell is escaped');
    assert.match(
      md,
      /### ❌ Loki accepting OTLP logs\n\n\*\*Seen:\*\*.*\n\n\*\*Likely cause:\*\* Loki does not accept OTLP\n\n\*\*Fix:\*\* Use Loki 3\.x/,
    );
    assert.match(md, /\| ⏭️ \| Round trip: probe event \| Skipped \| {2}\|/);
  });
});
