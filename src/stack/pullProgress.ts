// Aggregate the Engine's image pull stream (one JSON object per line) into bytes and percent. Pure; no `vscode`.

export interface PullStreamEvent {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

export interface PullSnapshot {
  image: string;
  /** Bytes downloaded so far over the layers seen. */
  currentBytes: number;
  /** Total bytes of the layers whose size is known. */
  totalBytes: number;
  /** 0-100 once any layer size is known. */
  percent: number | undefined;
  layers: number;
  layersDone: number;
  /** The engine's last status line, e.g. "Downloading" or "Extracting". */
  status: string;
}

interface Layer {
  current: number;
  total: number;
  done: boolean;
}

const DONE_STATUSES = new Set(['Download complete', 'Pull complete', 'Already exists']);

export class PullProgress {
  private readonly layers = new Map<string, Layer>();
  private status = 'Pulling';
  error: string | undefined;

  constructor(readonly image: string) {}

  /** Feed one event; returns the new snapshot. */
  push(ev: PullStreamEvent): PullSnapshot {
    if (ev.error || ev.errorDetail?.message) {
      this.error = (ev.errorDetail?.message ?? ev.error ?? '').trim();
      return this.snapshot();
    }
    const status = ev.status ?? '';
    if (status) this.status = status;
    const id = ev.id;
    // Layer ids are 12 hex digits; other ids (the tag in "Pulling from ...") are not layers.
    if (id && /^[0-9a-f]{12}$/.test(id)) {
      const layer = this.layers.get(id) ?? { current: 0, total: 0, done: false };
      this.layers.set(id, layer);
      if (status === 'Downloading' && ev.progressDetail) {
        if (ev.progressDetail.total && ev.progressDetail.total > 0) layer.total = ev.progressDetail.total;
        if (ev.progressDetail.current !== undefined) layer.current = ev.progressDetail.current;
      } else if (DONE_STATUSES.has(status)) {
        if (layer.total) layer.current = layer.total;
        if (status !== 'Download complete') layer.done = true;
      }
    }
    return this.snapshot();
  }

  snapshot(): PullSnapshot {
    let current = 0;
    let total = 0;
    let done = 0;
    for (const l of this.layers.values()) {
      current += Math.min(l.current, l.total || l.current);
      total += l.total;
      if (l.done) done++;
    }
    return {
      image: this.image,
      currentBytes: current,
      totalBytes: total,
      percent: total > 0 ? Math.min(100, Math.floor((current / total) * 100)) : undefined,
      layers: this.layers.size,
      layersDone: done,
      status: this.status,
    };
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
