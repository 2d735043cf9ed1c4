import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'jsonc-parser';
import {
  SettingsFileError,
  telemetryEnvironmentIn,
  withoutTelemetryEnvironment,
  withTelemetryEnvironment,
} from '../../src/terminal/claudeSettings';

const PATH = '~/.claude/settings.json';
const telemetry = { CLAUDE_CODE_ENABLE_TELEMETRY: '1', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };

// The shape of a real user's file: comments, permissions, hooks, an env block of their own, a trailing comma.
const realWorld = `{
  // my model
  "model": "opus",
  "permissions": {
    "allow": ["Bash(npm run test:*)", "Read(~/.zshrc)"],
    "deny": ["Read(./.env)"]
  },
  "env": {
    "ANTHROPIC_MODEL": "claude-opus-4-1", // pinned
    "BASH_DEFAULT_TIMEOUT_MS": "60000",
  },
  /* hooks */
  "hooks": { "PostToolUse": [{ "matcher": "Edit", "hooks": [{ "type": "command", "command": "prettier --write" }] }] }
}
`;

describe("Claude Code's settings.json", () => {
  it('adds the telemetry variables to the env block, keeping other keys and comments', () => {
    const edited = withTelemetryEnvironment(realWorld, telemetry, PATH);
    for (const kept of ['// my model', '// pinned', '/* hooks */', '"Bash(npm run test:*)"', '"prettier --write"']) {
      assert.ok(edited.includes(kept), `lost ${kept}`);
    }
    const env = (parse(edited) as { env: Record<string, string> }).env;
    assert.equal(env.ANTHROPIC_MODEL, 'claude-opus-4-1');
    assert.equal(env.CLAUDE_CODE_ENABLE_TELEMETRY, '1');
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://127.0.0.1:4318');
  });

  it('creates the env block in an empty or new file', () => {
    for (const text of ['', '{}', '{\n  "model": "sonnet"\n}\n']) {
      const env = (parse(withTelemetryEnvironment(text, telemetry, PATH)) as { env: Record<string, string> }).env;
      assert.deepEqual(env, telemetry);
    }
  });

  it('updates a changed value rather than adding a second key', () => {
    const once = withTelemetryEnvironment(realWorld, telemetry, PATH);
    const twice = withTelemetryEnvironment(once, { ...telemetry, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:14318' }, PATH);
    assert.equal(twice.match(/OTEL_EXPORTER_OTLP_ENDPOINT/g)?.length, 1);
    assert.deepEqual(telemetryEnvironmentIn(twice, Object.keys(telemetry), PATH), { ...telemetry, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:14318' });
  });

  it('removes exactly what it added', () => {
    const removed = withoutTelemetryEnvironment(withTelemetryEnvironment(realWorld, telemetry, PATH), Object.keys(telemetry), PATH);
    assert.deepEqual(parse(removed), parse(realWorld));
    assert.ok(removed.includes('// pinned'));
    const onlyOurs = withoutTelemetryEnvironment(withTelemetryEnvironment('{}', telemetry, PATH), Object.keys(telemetry), PATH);
    assert.deepEqual(parse(onlyOurs), {});
  });

  it('refuses a file it cannot parse, saying where', () => {
    assert.throws(() => withTelemetryEnvironment('{\n  "model": "opus"\n  "env": {}\n}', telemetry, PATH), (error: unknown) => {
      assert.ok(error instanceof SettingsFileError);
      assert.match(error.message, /not valid JSON \(CommaExpected at line 3, column 3\)\. Fix the file and try again; it was not changed\./);
      return true;
    });
    assert.throws(() => withTelemetryEnvironment('{"env": "x"}', telemetry, PATH), /"env" entry .* is not an object/);
    assert.throws(() => withTelemetryEnvironment('[1]', telemetry, PATH), /does not hold a JSON object/);
  });
});
