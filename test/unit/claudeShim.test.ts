import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { claudeShimScript } from '../../src/terminal/claudeShim';

describe('claude shim (Claude Code only mode)', () => {
  const root = mkdtempSync(join(tmpdir(), 'cct-shim-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  // A stand-in for the real CLI further down PATH: it prints the environment it was given and its arguments.
  const realDir = join(root, 'real');
  mkdirSync(realDir);
  writeFileSync(join(realDir, 'claude'), '#!/bin/sh\nenv | grep -E "^(OTEL_|CLAUDE_CODE_)" | sort\necho "args: $*"\n');
  chmodSync(join(realDir, 'claude'), 0o755);

  const shimDir = join(root, 'shim');
  mkdirSync(shimDir);
  writeFileSync(
    join(shimDir, 'claude'),
    claudeShimScript({
      CLAUDE_CODE_ENABLE_TELEMETRY: '1',
      OTEL_RESOURCE_ATTRIBUTES: "vscode.workspace.name=it's%20mine",
    }),
  );
  chmodSync(join(shimDir, 'claude'), 0o755);

  const run = (command: string, path: string) =>
    execFileSync('/bin/sh', ['-c', command], { env: { PATH: path, HOME: root }, encoding: 'utf8' });

  it('runs the real claude with the telemetry environment and the arguments', () => {
    const output = run('claude -p "hello world"', `${shimDir}:${realDir}:/usr/bin:/bin`);
    assert.match(output, /^CLAUDE_CODE_ENABLE_TELEMETRY=1$/m);
    assert.match(output, /^OTEL_RESOURCE_ATTRIBUTES=vscode\.workspace\.name=it's%20mine$/m);
    assert.match(output, /^args: -p hello world$/m);
  });

  it('leaves other programs in the terminal without the variables', () => {
    assert.equal(run('env | grep -c "^OTEL_" || true', `${shimDir}:${realDir}:/usr/bin:/bin`).trim(), '0');
  });

  it('says how to install Claude Code when there is no real claude', () => {
    assert.throws(
      () =>
        execFileSync('/bin/sh', ['-c', 'claude'], {
          env: { PATH: `${shimDir}:/usr/bin:/bin` },
          encoding: 'utf8',
          stdio: 'pipe',
        }),
      (error: { status: number; stderr: string }) =>
        error.status === 127 && /npm install -g @anthropic-ai\/claude-code/.test(error.stderr),
    );
  });
});
