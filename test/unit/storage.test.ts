import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORAGE_STALE_MS, storageProblem, storageStale } from '../../src/telemetry/storage';

const NOW = Date.parse('2026-12-01T18:44:30Z');
// Prometheus 3.16's own line, on a full tmpfs volume.
const FULL =
  'time=2026-12-01T18:44:23.740Z level=ERROR source=scrape.go:1527 msg="Scrape commit failed" component="scrape manager" scrape_pool=claude-code target=http://otel-collector:8889/metrics err="write to WAL: log samples: write /prometheus/wal/00000000: no space left on device"';

describe('Prometheus storage', () => {
  it('says nothing while the newest sample is recent, or when Prometheus holds none', () => {
    assert.equal(storageStale(NOW - 5_000, NOW), false);
    assert.equal(storageStale(NOW - STORAGE_STALE_MS, NOW), false);
    assert.equal(storageStale(null, NOW), false);
    assert.equal(storageStale(NOW - STORAGE_STALE_MS - 1, NOW), true);
  });

  it("names a full volume from Prometheus' log, what is kept, and the next step", () => {
    const problem = storageProblem(NOW - STORAGE_STALE_MS - 1, [
      'level=INFO msg="Server is ready to receive web requests."',
      FULL,
      'level=INFO msg="x"',
    ]);
    assert.match(
      problem,
      /^Prometheus has stored no new data since .+: its volume is full \(no space left on device\)\./,
    );
    assert.match(problem, /the collector keeps every session's running total for a day/);
    assert.match(problem, /Free space on the disk the container engine keeps its volumes on/);
    assert.match(problem, /claudeTelemetry\.stack\.retentionDays/);
  });

  it('without a cause in the log, still says since when and what to do', () => {
    const problem = storageProblem(NOW - 10 * 60_000, ['level=INFO msg="nothing to see"']);
    assert.match(problem, /^Prometheus has stored no new data since [\d:]+( [AP]M)?\. What Claude Code reports/);
  });
});
