// The alert thresholds: the settings' table, the gauge the extension sends, and the stack's alert rules that read it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { DEFAULTS, readConfig } from '../../src/config';
import {
  ALERT_THRESHOLDS,
  THRESHOLD_METRIC,
  THRESHOLD_SERIES,
  alertNotification,
  thresholdsRequest,
  type AlertThreshold,
} from '../../src/telemetry/alerts';
import { otlpHeaders, TOKEN_DEVELOPER, tokenDeveloper } from '../../src/telemetry/collectorHeaders';
import { publishThresholds } from '../../src/telemetry/thresholdPublisher';
import type { StackAlert } from '../../src/snapshot';
import { readText, repoRoot } from '../support/paths';

const rules = (
  parse(readFileSync(join(repoRoot, 'stack', 'prometheus', 'rules', 'alerts.yml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string; annotations: Record<string, string> }> }>;
  }
).groups.flatMap((g) => g.rules);

describe('alert thresholds', () => {
  it("every threshold has its rule, which reads the gauge with the table's default as fallback and names it in its summary", () => {
    for (const [key, t] of Object.entries(ALERT_THRESHOLDS)) {
      const rule = rules.find((r) => r.alert === t.rule);
      assert.ok(rule, `${key}: no rule ${t.rule} in alerts.yml`);
      const read = `(max(${THRESHOLD_SERIES}{name="${t.name}"}) or vector(${t.default}))`;
      assert.ok(rule.expr.includes(read), `${t.rule} does not compare against ${read}:\n${rule.expr}`);
      assert.ok(
        rule.annotations['summary']?.includes(`{name=\\"${t.name}\\"}) or vector(${t.default})`),
        `${t.rule}'s summary does not name the threshold in force`,
      );
    }
  });

  it('the settings set them: each alerts.<key>, the plan usage by plan.warningPercent; a bad value is said and the default kept', () => {
    const values: Record<string, unknown> = {
      'alerts.hourlyCostUsd': 25,
      'alerts.toolErrorRatePercent': -3,
      'plan.warningPercent': 90,
      'alerts.notify': false,
    };
    const reading = readConfig({ get: <T>(key: string) => values[key] as T | undefined });
    assert.deepEqual(reading.config.alerts, {
      notify: false,
      thresholds: { ...DEFAULTS.alerts.thresholds, hourlyCostUsd: 25, planUsagePercent: 90 },
    });
    assert.deepEqual(reading.problems, [
      'claudeTelemetry.alerts.toolErrorRatePercent: -3 is not a number of at least 0; using 15.',
    ]);
  });

  it('the gauge carries one point per threshold, named as the rules read it', () => {
    const body = thresholdsRequest({ ...DEFAULTS.alerts.thresholds, dailyCostUsd: 42 }, 1_700_000_000_123) as {
      resourceMetrics: Array<{
        resource: { attributes: unknown[] };
        scopeMetrics: Array<{
          metrics: Array<{
            name: string;
            gauge: {
              dataPoints: Array<{
                attributes: Array<{ value: { stringValue: string } }>;
                asDouble: number;
                timeUnixNano: string;
              }>;
            };
          }>;
        }>;
      }>;
    };
    const [metric] = body.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    assert.equal(metric!.name, THRESHOLD_METRIC);
    const points = Object.fromEntries(
      metric!.gauge.dataPoints.map((p) => [p.attributes[0]!.value.stringValue, p.asDouble]),
    );
    assert.deepEqual(
      points,
      Object.fromEntries(
        (Object.keys(ALERT_THRESHOLDS) as AlertThreshold[]).map((k) => [
          ALERT_THRESHOLDS[k].name,
          k === 'dailyCostUsd' ? 42 : ALERT_THRESHOLDS[k].default,
        ]),
      ),
    );
    assert.equal(metric!.gauge.dataPoints[0]!.timeUnixNano, '1700000000123000000');
  });

  it("reads a team collector's headers as OTEL_EXPORTER_OTLP_HEADERS has them, as Claude Code sends them (not decoded)", () => {
    assert.deepEqual(otlpHeaders('Authorization=Bearer abc==, x-scope-orgid = team-1 ,=nokey,novalue,pct=a%20b'), {
      authorization: 'Bearer abc==',
      'x-scope-orgid': 'team-1',
      pct: 'a%20b',
    });
    assert.deepEqual(otlpHeaders(undefined), {});
    assert.deepEqual(otlpHeaders(''), {});
  });

  it("names the developer a team gateway's token names, with the gateway's own pattern", () => {
    assert.equal(tokenDeveloper('Authorization=Bearer alice@example.com.0f3a9c'), 'alice@example.com');
    assert.equal(tokenDeveloper('x-scope-orgid=t,authorization=Bearer bob.k-_9'), 'bob');
    for (const other of [undefined, '', 'authorization=Bearer opaque-token', 'authorization=Basic YWxpY2U6cA=='])
      assert.equal(tokenDeveloper(other), undefined, String(other));
    // The gateway reads the token with the same expression (Go's named group is (?P<name>...)).
    assert.ok(
      readText('stack', 'team', 'gateway.yaml').includes(
        JSON.stringify(TOKEN_DEVELOPER.source.replace('(?<developer>', '(?P<developer>')),
      ),
    );
  });

  it('sends the thresholds with those headers, and says what the collector answered', async () => {
    const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    let status = 200;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await publishThresholds(base, DEFAULTS.alerts.thresholds, 1_700_000_000_000, {
        headers: otlpHeaders('authorization=Bearer t0ken'),
      });
      assert.equal(received[0]!.headers.authorization, 'Bearer t0ken');
      assert.equal(received[0]!.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(received[0]!.body), thresholdsRequest(DEFAULTS.alerts.thresholds, 1_700_000_000_000));
      status = 401;
      await assert.rejects(
        publishThresholds(base, DEFAULTS.alerts.thresholds, 1_700_000_000_000),
        new RegExp(`the collector at ${base} answered HTTP 401`),
      );
      assert.equal(received[1]!.headers.authorization, undefined, 'no headers unless given');
    } finally {
      server.close();
    }
  });

  it('alerts that fired together are one notification, as critical as the most critical (VS Code drops a fourth toast)', () => {
    const alert = (name: string, severity: string, description = ''): StackAlert => ({
      name,
      state: 'firing',
      severity,
      labels: {},
      summary: `${name} summary`,
      description,
      activeAtMs: null,
    });
    assert.equal(alertNotification([]), undefined);
    assert.deepEqual(alertNotification([alert('APIRetriesExhausted', 'warning', 'Given up: 1')]), {
      critical: false,
      text: 'APIRetriesExhausted summary: Given up: 1',
    });
    assert.deepEqual(
      alertNotification([
        alert('APIRetriesExhausted', 'warning', 'Given up: 1'),
        alert('DailyCostThreshold', 'critical'),
        alert('MCPServerFailing', 'warning'),
        alert('CompactionStorm', 'warning', 'Start a new session.'),
      ]),
      {
        critical: true,
        text:
          '4 alerts fired: APIRetriesExhausted summary; DailyCostThreshold summary; MCPServerFailing summary; ' +
          'CompactionStorm summary. The dashboard says what each means.',
      },
    );
  });
});
