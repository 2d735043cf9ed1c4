/**
 * The extension-host suite, run by @vscode/test-electron in a downloaded VS Code: `npm run test:electron`.
 * It needs a machine that can download VS Code; where none can (as on CI here), the code-server suite in
 * test/e2e is the one that runs the extension in a real editor.
 */
import { resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = resolve(__dirname, '..', '..', '..');
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: resolve(__dirname, 'suite.js'),
    launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
