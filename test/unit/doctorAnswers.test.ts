// What the pipeline doctor makes of the answers a real stack gives: Loki's OTLP errors are protobuf google.rpc.Status
// bodies (even to a JSON request), and Loki's refusals reach the doctor through the collector's log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lokiRefusal } from '../../src/doctor/collectorTelemetryCheck';
import { rpcStatusMessage } from '../../src/doctor/httpChecks';

/** google.rpc.Status{code, message} as protobuf bytes: field 1 varint, field 2 length-delimited. */
function status(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  const length = text.length < 0x80 ? [text.length] : [(text.length & 0x7f) | 0x80, text.length >> 7];
  return Buffer.concat([Buffer.from([0x08, code, 0x12, ...length]), text]);
}

describe('rpcStatusMessage', () => {
  it("reads the message of Loki's 422 to an empty push, not its bytes", () => {
    assert.equal(
      rpcStatusMessage(status(3, 'at least one valid stream is required for ingestion')),
      'at least one valid stream is required for ingestion',
    );
  });

  it('reads a message longer than 127 bytes (a two-byte length)', () => {
    const long = `entry for stream '{service_name="claude-code"}' has timestamp too old: ${'x'.repeat(150)}`;
    assert.equal(rpcStatusMessage(status(3, long)), long);
  });

  it('is undefined for what is not a Status (plain text, truncated bytes)', () => {
    assert.equal(rpcStatusMessage(Buffer.from('404 page not found\n')), undefined);
    assert.equal(rpcStatusMessage(status(3, 'cut short').subarray(0, 6)), undefined);
  });
});

describe('lokiRefusal', () => {
  const exporting = (words: string): string =>
    '2026-12-07T10:00:00.000Z\terror\tinternal/base_exporter.go:114\tExporting failed. Dropping data.\t' +
    `{"kind": "exporter", "data_type": "logs", "name": "otlp_http/loki", "error": "not retryable error: Permanent error: ` +
    `rpc error: code = InvalidArgument desc = error exporting items, request to http://loki:3100/otlp/v1/logs responded ` +
    `with HTTP Status Code 400, Message=${words}", "dropped_items": 3}`;

  it('names events older than Loki keeps, and that nothing is wrong with the stack', () => {
    const r = lokiRefusal(
      [exporting('entry for stream \'{service_name="claude-code"}\' has timestamp too old: 2026-11-01T00:00:00Z')],
      'otel-collector',
    );
    assert.match(r.cause, /older than it accepts .*retentionDays/);
    assert.match(r.fix, /Nothing is wrong with the stack/);
    assert.match(r.line ?? '', /timestamp too old/);
  });

  it('names events out of order behind their session', () => {
    const r = lokiRefusal(
      ['unrelated line', exporting('entry too far behind, entry timestamp is: 2026-12-07T06:00:00Z')],
      'otel-collector',
    );
    assert.match(r.cause, /out-of-order window behind the newest event of their session/);
    assert.match(r.fix, /max_chunk_age/);
  });

  it("without the collector's log, points at both logs", () => {
    const r = lokiRefusal([], 'otel-collector');
    assert.equal(r.line, undefined);
    assert.match(r.fix, /otel-collector, → loki/);
  });
});
