// Builds the bundles: the extension host (Node, CommonJS; its deferred part apart), the webview (browser, Chart.js
// inside) and the status line bridge (Node, run by Claude Code on each status line update).
import { copyFileSync, mkdirSync } from 'node:fs';
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  // jsonc-parser's `main` is a UMD build whose requires esbuild cannot follow: take ES module builds first.
  mainFields: ['module', 'main'],
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'info',
  legalComments: 'none',
};

const builds = [
  {
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // The deferred bundle is loaded on first use, so activation does not pay for dockerode and undici.
    external: ['vscode', './deferred.js'],
  },
  {
    ...common,
    entryPoints: ['src/deferred.ts'],
    outfile: 'dist/deferred.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // ssh2 (through docker-modem) loads these optional native modules in try/catch: leaving them out keeps
    // the bundle pure JavaScript, and ssh2 falls back to its JavaScript crypto.
    external: ['cpu-features', './crypto/build/Release/sshcrypto.node'],
  },
  {
    ...common,
    // Started on every status line update: node built-ins and the pure statusLine.ts only, so it starts fast.
    entryPoints: ['src/statusLine/bridge.ts'],
    outfile: 'dist/statusLine.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  {
    ...common,
    entryPoints: ['src/webview/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  },
];

// The webview's icons: VS Code's own codicon font, shipped with the extension (the webview loads nothing remote).
mkdirSync('dist/codicons', { recursive: true });
for (const file of ['codicon.css', 'codicon.ttf']) {
  copyFileSync(`node_modules/@vscode/codicons/dist/${file}`, `dist/codicons/${file}`);
}

if (watch) {
  for (const options of builds) {
    const context = await esbuild.context(options);
    await context.watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
