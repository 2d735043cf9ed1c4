// Section 2: bundle sizes and activation work (issue 6). Each measurement in a fresh Node process, so nothing is
// cached in `require.cache` from an earlier one.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../test/support/paths';
import { fmtBytes, fmtMs, fmtRatio, median, table } from './table';

const VSIX = join(repoRoot, 'dist-vsix', 'claude-code-telemetry.vsix');

interface ExtRun {
  requireMs: number;
  activateMs: number;
  statusMs: number | null;
  statusText: string;
  commands: number;
  views: number;
  afterActivate: { dockerode: boolean; stack: boolean; chart: boolean; modules: number };
  later: { dockerode: boolean; stack: boolean; chart: boolean; modules: number };
}
interface StackRun {
  requireMs: number;
}

function child<T>(what: string): T {
  const r = spawnSync(process.execPath, [join(__dirname, 'activationChild.js'), what, repoRoot], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`activation child (${what}) failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

export async function benchActivation(runs: number): Promise<string> {
  if (!existsSync(VSIX)) execFileSync('npm', ['run', 'package'], { cwd: repoRoot, stdio: 'ignore' });
  // node alone, for scale: the cost of a process that requires nothing.
  const baseline = (): number => {
    const r = spawnSync(
      process.execPath,
      ['-e', 'const t=performance.now();require("node:path");process.stdout.write(String(performance.now()-t))'],
      { encoding: 'utf8' },
    );
    return Number(r.stdout);
  };
  void baseline;
  const ext: ExtRun[] = [];
  const stack: StackRun[] = [];
  child<ExtRun>('extension');
  child<StackRun>('stack'); // warm the OS file cache
  for (let i = 0; i < runs; i++) {
    ext.push(child<ExtRun>('extension'));
    stack.push(child<StackRun>('stack'));
  }
  const size = (p: string): number => statSync(join(repoRoot, p)).size;
  let vsixList = '';
  try {
    vsixList = execFileSync('unzip', ['-l', VSIX], { encoding: 'utf8' });
  } catch {
    /* no unzip */
  }
  const inVsix = (name: string): string => {
    const m = vsixList.split('\n').find((l) => l.trim().endsWith(`extension/dist/${name}`));
    return m ? fmtBytes(Number(m.trim().split(/\s+/)[0])) : 'n/a';
  };
  const req = median(ext.map((r) => r.requireMs));
  const act = median(ext.map((r) => r.activateMs));
  const status = median(ext.map((r) => r.statusMs ?? NaN));
  const stackReq = median(stack.map((r) => r.requireMs));
  const last = ext[ext.length - 1]!;
  let out = '## 2. Activation and bundles (issue 6)\n\n';
  out += table(
    'Bundles',
    ['file', 'size (npm run build)', 'size in the .vsix', 'loaded'],
    [
      ['dist/extension.js', fmtBytes(size('dist/extension.js')), inVsix('extension.js'), 'at activation'],
      [
        'dist/deferred.js (dockerode, undici, compose model, queries)',
        fmtBytes(size('dist/deferred.js')),
        inVsix('deferred.js'),
        'after activation, on the first refresh',
      ],
      [
        'dist/webview.js (Chart.js)',
        fmtBytes(size('dist/webview.js')),
        inVsix('webview.js'),
        'in the webview, when the view is opened',
      ],
      ['dist-vsix/claude-code-telemetry.vsix', fmtBytes(statSync(VSIX).size), '', ''],
    ],
  );
  out += '\n';
  out += table(
    'Activation work (fresh Node process each run, `vscode` replaced by a minimal stand-in)',
    ['measure', 'median', 'note'],
    [
      ['require(dist/extension.js)', fmtMs(req), ''],
      ['activate()', fmtMs(act), `${last.commands} commands and ${last.views} webview view registered`],
      ['require + activate (aim < 50 ms)', fmtMs(req + act), req + act < 50 ? 'met' : 'NOT met'],
      [
        'until the status bar shows a value',
        fmtMs(status),
        `from require; shows "${last.statusText}" (no stack running here)`,
      ],
      [
        'require(dist/deferred.js), the deferred part',
        fmtMs(stackReq),
        `laziness saves it at activation: ${fmtRatio(stackReq / (req + act))} of the activation work`,
      ],
      [
        'dockerode / deferred.js in require.cache after activate()',
        `${last.afterActivate.dockerode || last.afterActivate.stack ? 'LOADED' : 'not loaded'}`,
        `300 ms after the status bar: ${last.later.dockerode || last.later.stack ? 'LOADED' : 'not loaded'}; modules in cache: ${last.afterActivate.modules}`,
      ],
      [
        'chart.js in the extension host',
        last.afterActivate.chart || last.later.chart ? 'LOADED' : 'not loaded',
        'bundled in dist/webview.js only',
      ],
    ],
  );
  return out;
}
