// Run in a fresh Node process by activation.ts: `node activationChild.js extension|stack <repo>`. Prints one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installVscodeStub, type StubRecord } from './vscodeStub';

async function main(): Promise<void> {
  const [what, repo] = process.argv.slice(2) as [string, string];
  const dist = (f: string): string => join(repo, 'dist', f);
  const loaded = (): { dockerode: boolean; stack: boolean; chart: boolean; modules: number } => {
    const keys = Object.keys(require.cache);
    return {
      dockerode:
        keys.some((k) => /[\\/]dockerode[\\/]/.test(k)) || keys.some((k) => k.endsWith(`${'dist'}/deferred.js`)),
      stack: keys.some((k) => k === dist('deferred.js')),
      chart: keys.some((k) => /chart\.js/.test(k)),
      modules: keys.length,
    };
  };
  if (what === 'stack') {
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- what is measured is require() itself
    require(dist('deferred.js'));
    const requireMs = performance.now() - t0;
    process.stdout.write(`${JSON.stringify({ requireMs, after: loaded() })}\n`);
    return;
  }
  const record: StubRecord = { statusShownAt: null, statusText: '', commands: [], views: [] };
  const storage = mkdtempSync(join(tmpdir(), 'cct-act-'));
  const context = installVscodeStub(record, storage);
  const t0 = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- what is measured is require() itself
  const ext = require(dist('extension.js')) as { activate(c: unknown): unknown; deactivate(): unknown };
  const t1 = performance.now();
  await ext.activate(context);
  const t2 = performance.now();
  const afterActivate = loaded();
  // Until the status bar shows a value (no stack runs here: it shows the state it finds), at most 5 s.
  while (record.statusShownAt === null && performance.now() - t2 < 5000) await new Promise((r) => setTimeout(r, 1));
  const statusMs = record.statusShownAt === null ? null : record.statusShownAt - t0;
  await new Promise((r) => setTimeout(r, 300));
  const later = loaded();
  for (const d of context.subscriptions) {
    try {
      d.dispose();
    } catch {
      /* ignore */
    }
  }
  process.stdout.write(
    `${JSON.stringify({
      requireMs: t1 - t0,
      activateMs: t2 - t1,
      statusMs,
      statusText: record.statusText,
      commands: record.commands.length,
      views: record.views.length,
      afterActivate,
      later,
    })}\n`,
  );
  rmSync(storage, { recursive: true, force: true });
  process.exit(0);
}

void main().catch((e: unknown) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e));
  process.exit(1);
});
