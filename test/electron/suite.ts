/**
 * Runs inside the extension host (see runTest.ts): activation, the contributed commands, the settings schema.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { readConfig } from '../../src/config';

const EXTENSION_ID = 'claude-code-telemetry.claude-code-telemetry';

async function check(name: string, body: () => Promise<void>): Promise<boolean> {
  try {
    await body();
    console.log(`ok - ${name}`);
    return true;
  } catch (error) {
    console.error(`not ok - ${name}\n${error instanceof Error ? error.stack : String(error)}`);
    return false;
  }
}

export async function run(): Promise<void> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not installed in the test instance`);
  const manifest = extension.packageJSON as {
    contributes: { commands: { command: string }[]; configuration: { properties: Record<string, unknown> } };
  };
  const results = [
    await check('activates', async () => {
      await extension.activate();
      assert.equal(extension.isActive, true);
    }),
    await check('registers every contributed command', async () => {
      const registered = new Set(await vscode.commands.getCommands(true));
      const missing = manifest.contributes.commands.map((entry) => entry.command).filter((id) => !registered.has(id));
      assert.deepEqual(missing, []);
    }),
    await check('reads the settings schema with no problem', async () => {
      const { problems } = readConfig(vscode.workspace.getConfiguration('claudeTelemetry'));
      assert.deepEqual(problems, []);
      for (const key of Object.keys(manifest.contributes.configuration.properties)) {
        assert.notEqual(vscode.workspace.getConfiguration().inspect(key), undefined, `${key} is not in the schema`);
      }
    }),
    await check('the dashboard view opens', async () => {
      await vscode.commands.executeCommand('claudeTelemetry.showDashboard');
    }),
  ];
  const failed = results.filter((passed) => !passed).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  if (failed > 0) {
    throw new Error(`${failed} extension-host checks failed`);
  }
}
