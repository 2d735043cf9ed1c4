import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWebviewMessage } from '../../src/protocol';

describe('webview protocol', () => {
  it('accepts the messages the webview sends', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'selectRange', range: '7d' }), { type: 'selectRange', range: '7d' });
    assert.deepEqual(parseWebviewMessage({ type: 'run', action: 'startStack' }), { type: 'run', action: 'startStack' });
    assert.deepEqual(parseWebviewMessage({ type: 'run', action: 'writeStatusLineBridge' }), {
      type: 'run',
      action: 'writeStatusLineBridge',
    });
  });

  it('drops anything else', () => {
    for (const message of [
      null,
      'ready',
      { type: 'selectRange', range: '2y' },
      { type: 'run', action: 'rm -rf' },
      { type: 'eval' },
    ]) {
      assert.equal(parseWebviewMessage(message), undefined);
    }
  });
});
