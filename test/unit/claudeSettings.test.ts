import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'jsonc-parser';
import { bridgeCommand, bridgeFiles, parseBridgeCommand, type BridgeArguments } from '../../src/statusLine/statusLine';
import {
  SettingsFileError,
  claudeSettingsPath,
  statusLineBridgeCommand,
  telemetryEnvironmentIn,
  withoutStatusLineBridge,
  withoutTelemetryEnvironment,
  withStatusLineBridge,
  withTelemetryEnvironment,
  type SavedStatusLine,
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
  it('is the one Claude Code reads: in CLAUDE_CONFIG_DIR when it is set, else in ~/.claude', () => {
    assert.equal(claudeSettingsPath({}, '/home/dev'), '/home/dev/.claude/settings.json');
    assert.equal(claudeSettingsPath({ CLAUDE_CONFIG_DIR: '' }, '/home/dev'), '/home/dev/.claude/settings.json');
    assert.equal(claudeSettingsPath({ CLAUDE_CONFIG_DIR: '/work/claude' }, '/home/dev'), '/work/claude/settings.json');
  });

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
    const twice = withTelemetryEnvironment(
      once,
      { ...telemetry, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:14318' },
      PATH,
    );
    assert.equal(twice.match(/OTEL_EXPORTER_OTLP_ENDPOINT/g)?.length, 1);
    assert.deepEqual(telemetryEnvironmentIn(twice, Object.keys(telemetry), PATH), {
      ...telemetry,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:14318',
    });
  });

  it('removes exactly what it added', () => {
    const removed = withoutTelemetryEnvironment(
      withTelemetryEnvironment(realWorld, telemetry, PATH),
      Object.keys(telemetry),
      PATH,
    );
    assert.deepEqual(parse(removed), parse(realWorld));
    assert.ok(removed.includes('// pinned'));
    const onlyOurs = withoutTelemetryEnvironment(
      withTelemetryEnvironment('{}', telemetry, PATH),
      Object.keys(telemetry),
      PATH,
    );
    assert.deepEqual(parse(onlyOurs), {});
  });

  it('refuses a file it cannot parse, saying where', () => {
    assert.throws(
      () => withTelemetryEnvironment('{\n  "model": "opus"\n  "env": {}\n}', telemetry, PATH),
      (error: unknown) => {
        assert.ok(error instanceof SettingsFileError);
        assert.match(
          error.message,
          /not valid JSON \(CommaExpected at line 3, column 3\)\. Fix the file and try again; it was not changed\./,
        );
        return true;
      },
    );
    assert.throws(() => withTelemetryEnvironment('{"env": "x"}', telemetry, PATH), /"env" entry .* is not an object/);
    assert.throws(() => withTelemetryEnvironment('[1]', telemetry, PATH), /does not hold a JSON object/);
  });
});

describe("Claude Code's settings.json: the status line bridge", () => {
  const runtime = {
    executable: '/usr/share/code/code',
    script: '/home/me/.vscode/extensions/cct/dist/statusLine.js',
    platform: 'linux' as const,
  };
  const bridge =
    (endpoint = 'http://127.0.0.1:4318') =>
    (saved: SavedStatusLine | undefined) =>
      bridgeCommand(runtime, { endpoint, previousCommand: saved?.command, savedStatusLine: saved?.text });
  const statusLineOf = (text: string) =>
    (parse(text) as { statusLine?: { type: string; command: string; padding?: number } }).statusLine;
  const bridgeIn = (text: string): BridgeArguments => {
    const args = parseBridgeCommand(statusLineOf(text)?.command ?? '');
    assert.ok(args, `no bridge in ${text}`);
    return args;
  };

  const ownStatusLine = `{
  "model": "opus",
  "statusLine": {
    "type": "command", // mine
    "command": "~/.claude/statusline.sh --color 'always'",
    "padding": 1
  },
  "env": { "A": "1" }
}
`;

  it("runs the user's own command through the bridge, keeping its padding, and gives the file back byte for byte", () => {
    const variants = {
      comments: ownStatusLine,
      crlf: ownStatusLine.replace(/\n/g, '\r\n'),
      oneLine: '{"statusLine":{"type":"command","command":"echo hi"},"model":"opus"}',
      tabs: '{\n\t"statusLine":\t{ "type" : "command" ,\n\t\t"command": "echo \\"hi\\"" },\n\t"model": "opus",\n}',
      last: realWorld.replace(
        /\n}\n$/,
        ',\n  "statusLine": {"type": "command", "command": "printf x", "refreshInterval": 5}\n}\n',
      ),
    };
    for (const [name, text] of Object.entries(variants)) {
      const written = withStatusLineBridge(text, bridge(), PATH);
      const own = (parse(text) as { statusLine: { command: string } }).statusLine;
      const args = bridgeIn(written);
      assert.equal(args.previousCommand, own.command, name);
      assert.equal(args.endpoint, 'http://127.0.0.1:4318', name);
      assert.deepEqual(
        { ...(parse(written) as object), statusLine: undefined },
        { ...(parse(text) as object), statusLine: undefined },
        `${name}: other keys changed`,
      );
      assert.equal(withoutStatusLineBridge(written, PATH), text, `${name}: not restored exactly`);
    }
    const written = withStatusLineBridge(ownStatusLine, bridge(), PATH);
    assert.equal(statusLineOf(written)?.padding, 1);
    assert.ok(
      written.includes('"env": { "A": "1" }') &&
        written.startsWith('{\n  "model": "opus",\n  "statusLine": { "type": "command"'),
    );
    const refresh = withStatusLineBridge(variants.last, bridge(), PATH);
    assert.equal((statusLineOf(refresh) as { refreshInterval?: number }).refreshInterval, 5);
  });

  it('adds a status line where there was none, and removing it gives the file back byte for byte', () => {
    const variants = {
      realWorld,
      crlf: realWorld.replace(/\n/g, '\r\n'),
      trailingComma: '{\n  "model": "opus",\n}\n',
      oneLine: '{"model":"opus"}',
      commentAfterLast: '{\n    "model": "opus" // the best\n}',
      empty: '{}',
      emptyWithSpace: '{ }\n',
      emptyOnLines: '{\n}\n',
    };
    for (const [name, text] of Object.entries(variants)) {
      const written = withStatusLineBridge(text, bridge(), PATH);
      const args = bridgeIn(written);
      assert.equal(args.previousCommand, undefined, name);
      assert.equal(args.savedStatusLine, undefined, name);
      assert.deepEqual(
        { ...(parse(written) as object), statusLine: undefined },
        { ...(parse(text) as object), statusLine: undefined },
        name,
      );
      assert.equal(withoutStatusLineBridge(written, PATH), text, `${name}: not restored exactly`);
    }
    assert.match(
      withStatusLineBridge(variants.crlf, bridge(), PATH),
      /"hooks": \{[^\n]*\},\r\n {2}"statusLine": \{ "type": "command", "command": "[^\n]*" \}\r\n\}\r\n$/,
    );
    assert.match(
      withStatusLineBridge(variants.oneLine, bridge(), PATH),
      /^\{"model":"opus", "statusLine": \{ "type": "command", "command": ".*" \}\}$/,
    );
    // A new file: created with the status line alone; removing the bridge leaves an empty object.
    const created = withStatusLineBridge('', bridge(), PATH);
    assert.equal(statusLineOf(created)?.type, 'command');
    assert.equal(withoutStatusLineBridge(created, PATH), '{}\n');
  });

  it('keeps a status line it cannot run (not a command) to put it back', () => {
    const text = '{ "statusLine": null, "model": "opus" }';
    const written = withStatusLineBridge(text, bridge(), PATH);
    assert.deepEqual(
      { previous: bridgeIn(written).previousCommand, saved: bridgeIn(written).savedStatusLine },
      { previous: undefined, saved: 'null' },
    );
    assert.equal(withoutStatusLineBridge(written, PATH), text);
  });

  it('writing again updates the bridge rather than wrapping it in itself', () => {
    for (const text of [ownStatusLine, realWorld]) {
      const once = withStatusLineBridge(text, bridge(), PATH);
      const twice = withStatusLineBridge(once, bridge('http://127.0.0.1:14318'), PATH);
      assert.equal(withStatusLineBridge(once, bridge(), PATH), once);
      assert.equal(twice.match(/statusLine/g)?.length, 2, 'one key and the script path');
      const args = bridgeIn(twice);
      assert.equal(args.endpoint, 'http://127.0.0.1:14318');
      assert.equal(parseBridgeCommand(args.previousCommand ?? ''), undefined, 'the bridge runs itself');
      assert.equal(
        args.previousCommand,
        text === ownStatusLine ? "~/.claude/statusline.sh --color 'always'" : undefined,
      );
      assert.equal(withoutStatusLineBridge(twice, PATH), text);
    }
  });

  it('restores the status line when other keys changed in between', () => {
    const written = withStatusLineBridge(ownStatusLine, bridge(), PATH);
    const edited = withTelemetryEnvironment(written, telemetry, PATH);
    const removed = withoutStatusLineBridge(edited, PATH);
    assert.deepEqual(parse(removed), parse(withTelemetryEnvironment(ownStatusLine, telemetry, PATH)));
    assert.ok(removed.includes('"type": "command", // mine'));
    // A comment put beside the added status line: removed cleanly all the same.
    const commented = withStatusLineBridge(realWorld, bridge(), PATH).replace(
      '"statusLine"',
      '/* note */ "statusLine"',
    );
    assert.deepEqual(parse(withoutStatusLineBridge(commented, PATH)), parse(realWorld));
  });

  it('finds the editor and the script the bridge runs, to tell one an update removed', () => {
    for (const text of [ownStatusLine, realWorld, '']) {
      const command = statusLineBridgeCommand(withStatusLineBridge(text, bridge(), PATH), PATH);
      assert.deepEqual(bridgeFiles(command ?? ''), { executable: runtime.executable, script: runtime.script });
      assert.equal(statusLineBridgeCommand(text, PATH), undefined, 'no bridge before it is written');
    }
    assert.equal(
      statusLineBridgeCommand('{"statusLine": {"type": "command", "command": "node dist/statusLine.js"}}', PATH),
      undefined,
    );
    assert.equal(bridgeFiles('~/.claude/statusline.sh'), undefined);
    assert.throws(() => statusLineBridgeCommand('{ "statusLine": ', PATH), SettingsFileError);
  });

  it('leaves a status line that is not the bridge, and a file without one, alone', () => {
    for (const text of [
      ownStatusLine,
      realWorld,
      '',
      '{"statusLine": {"type": "command", "command": "node dist/statusLine.js"}}',
    ]) {
      assert.equal(withoutStatusLineBridge(text, PATH), text);
    }
  });

  it('refuses a file it cannot parse, saying where; an odd env block is no concern of the status line', () => {
    for (const edit of [
      (text: string) => withStatusLineBridge(text, bridge(), PATH),
      (text: string) => withoutStatusLineBridge(text, PATH),
    ]) {
      assert.throws(
        () => edit('{\n  "model": "opus"\n  "statusLine": {}\n}'),
        (error: unknown) => {
          assert.ok(error instanceof SettingsFileError);
          assert.match(
            error.message,
            /not valid JSON \(CommaExpected at line 3, column 3\)\. Fix the file and try again; it was not changed\./,
          );
          return true;
        },
      );
      assert.throws(() => edit('[1]'), /does not hold a JSON object/);
    }
    assert.equal(statusLineOf(withStatusLineBridge('{"env": "x"}', bridge(), PATH))?.type, 'command');
  });
});
