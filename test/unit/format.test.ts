// One money formatter for the status bar, notifications and the sidebar: the same amount reads the same everywhere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { usd } from '../../src/format';

describe('usd', () => {
  it('is to the cent, at any size', () => {
    assert.equal(usd(0), '$0.00');
    assert.equal(usd(0.285), '$0.29');
    assert.equal(usd(123.456), '$123.46');
    assert.equal(usd(1234.5), '$1,234.50');
  });
});
