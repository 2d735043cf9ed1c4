import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWebviewMessage } from '../../src/protocol';

describe('webview protocol', () => {
  it('accepts the messages the webview sends', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'selectRange', range: '7d' }), { type: 'selectRange', range: '7d' });
    assert.deepEqual(parseWebviewMessage({ type: 'run', action: 'startStack' }), { type: 'run', action: 'startStack' });
    const sessionId = '631fe02f-77fd-4613-8db1-70ec003c74d0';
    const promptId = '1783e596-e80d-41ac-bfe8-44a6cdf4bcaa';
    assert.deepEqual(parseWebviewMessage({ type: 'openSession', sessionId }), { type: 'openSession', sessionId });
    assert.deepEqual(parseWebviewMessage({ type: 'openSession', sessionId, promptId }), {
      type: 'openSession',
      sessionId,
      promptId,
    });
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
      { type: 'openSession', sessionId: 'a b' },
      { type: 'openSession', sessionId: '631fe02f', promptId: '"); alert(1)' },
      { type: 'openSession', sessionId: '631fe02f', promptId: 42 },
      { type: 'eval' },
    ]) {
      assert.equal(parseWebviewMessage(message), undefined);
    }
  });
});
