// Whether the local Prometheus still stores what it scrapes. A full volume does not make Prometheus unhealthy: it
// stays ready, answers every query from what it holds, and fails each scrape's commit ("write to WAL: … no space
// left on device", measured with Prometheus 3.16 on a 128 KiB tmpfs volume). Its newest sample then stops moving,
// while a working one stores a sample of every scrape (`up` at least): every 5 s in the stack.
/** Older than this, the newest sample says Prometheus stores nothing: twelve of the stack's scrape intervals. */
export const STORAGE_STALE_MS = 60_000;

/** Log lines of Prometheus' that name why a write failed, and how each reads to the user. */
const WRITE_FAILURES: readonly [RegExp, string][] = [
  [/no space left on device/i, 'its volume is full (no space left on device)'],
  [/disk quota exceeded/i, 'its volume is over its quota (disk quota exceeded)'],
  [/read-only file system/i, 'its volume is read-only'],
];

/** Whether the newest sample (`newestSampleMs`, from /api/v1/status/tsdb; null: Prometheus holds none) says
 * Prometheus stores nothing new. */
export function storageStale(newestSampleMs: number | null, nowMs: number): newestSampleMs is number {
  return newestSampleMs !== null && nowMs - newestSampleMs > STORAGE_STALE_MS;
}

/** What the user is told when the storage is stale: since when, why (from Prometheus' last `logLines`), what is
 * kept and what to do. */
export function storageProblem(newestSampleMs: number, logLines: readonly string[]): string {
  const cause = [...logLines]
    .reverse()
    .flatMap((line) => WRITE_FAILURES.filter(([pattern]) => pattern.test(line)).map(([, text]) => text))[0];
  return (
    `Prometheus has stored no new data since ${new Date(newestSampleMs).toLocaleTimeString()}${cause ? `: ${cause}` : ''}. ` +
    "What Claude Code reports meanwhile is not lost: the collector keeps every session's running total for a day and " +
    'Prometheus stores it at the first scrape that succeeds. Free space on the disk the container engine keeps its ' +
    "volumes on (Docker Desktop, Podman machine, Colima: the VM's disk), lower `claudeTelemetry.stack.retentionDays`, " +
    'or delete the telemetry data; "Show Stack Logs…" for prometheus says more.'
  );
}
