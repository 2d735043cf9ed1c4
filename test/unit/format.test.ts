// One formatter per kind of amount, for the status bar, notifications, the sidebar and a session's panel: the same
// amount reads the same everywhere. A missing amount reads '—' in every kind.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  NONE,
  PLAN_WINDOWS,
  ago,
  bucket,
  count,
  duration,
  exact,
  isFigure,
  multiple,
  percent,
  percentPoints,
  planReadings,
  planWindowName,
  shortId,
  tokens,
  updatedAt,
  usd,
  usdPerHour,
  when,
} from '../../src/format';

const MISSING = [null, undefined, Number.NaN, Number.POSITIVE_INFINITY];

describe('usd', () => {
  it('is to the cent, at any size', () => {
    assert.equal(usd(0), '$0.00');
    assert.equal(usd(0.004), '$0.00');
    assert.equal(usd(0.285), '$0.29');
    assert.equal(usd(0.999), '$1.00');
    assert.equal(usd(123.456), '$123.46');
    assert.equal(usd(1234.5), '$1,234.50');
    assert.equal(usd(2_345_678.9), '$2,345,678.90');
  });
  it('a rate of money is per hour', () => {
    assert.equal(usdPerHour(0.51), '$0.51/h');
    assert.equal(usdPerHour(0), '$0.00/h');
  });
  it('reads — for no amount', () => {
    for (const value of MISSING) {
      assert.equal(usd(value), NONE);
      assert.equal(usdPerHour(value), NONE);
    }
  });
});

describe('tokens', () => {
  it('are whole below a thousand, then compact to one decimal', () => {
    assert.equal(tokens(0), '0');
    assert.equal(tokens(0.4), '0');
    assert.equal(tokens(0.6), '1');
    assert.equal(tokens(999), '999');
    assert.equal(tokens(999.4), '999');
    assert.equal(tokens(999.6), '1.0k', 'what rounds to a thousand reads as one');
    assert.equal(tokens(1000), '1.0k');
    assert.equal(tokens(1500), '1.5k');
    assert.equal(tokens(800_000), '800.0k');
    assert.equal(tokens(999_949), '999.9k');
    assert.equal(tokens(999_950), '1.0M', 'never 1000.0k');
    assert.equal(tokens(2_300_000), '2.3M');
    assert.equal(tokens(4_200_000), '4.2M');
    assert.equal(tokens(999_999_999), '1.0B');
    assert.equal(tokens(1_234_000_000), '1.2B');
  });
  it('the exact number has thousands separators', () => {
    assert.equal(exact(0), '0');
    assert.equal(exact(999), '999');
    assert.equal(exact(1500), '1,500');
    assert.equal(exact(4_200_000.4), '4,200,000');
  });
  it('reads — for no amount', () => {
    for (const value of MISSING) {
      assert.equal(tokens(value), NONE);
      assert.equal(exact(value), NONE);
    }
  });
});

describe('count', () => {
  it('is exact up to four digits, then compact like tokens', () => {
    assert.equal(count(0), '0');
    assert.equal(count(2.9999), '3', 'a counter increase of 2.9999 is 3');
    assert.equal(count(999), '999');
    assert.equal(count(1000), '1,000');
    assert.equal(count(9999), '9,999');
    assert.equal(count(9999.6), '10.0k');
    assert.equal(count(12_345), '12.3k');
    assert.equal(count(1_500_000), '1.5M');
  });
  it('reads — for no amount', () => {
    for (const value of MISSING) assert.equal(count(value), NONE);
  });
});

describe('percent', () => {
  it('a ratio: whole percents, one decimal below 10 %, never 0 % for some', () => {
    assert.equal(percent(0), '0%');
    assert.equal(percent(0.0001), '<0.1%');
    assert.equal(percent(0.0006), '0.1%');
    assert.equal(percent(0.023), '2.3%');
    assert.equal(percent(0.085), '8.5%');
    assert.equal(percent(0.0996), '10%', 'what rounds to 10.0 reads whole');
    assert.equal(percent(0.1), '10%');
    assert.equal(percent(0.87), '87%');
    assert.equal(percent(0.996), '100%');
    assert.equal(percent(1), '100%');
    assert.equal(percent(1.25), '125%');
  });
  it("points (Claude Code's plan usage) read as the same ratio", () => {
    assert.equal(percentPoints(42.4), '42%');
    assert.equal(percentPoints(4.4), '4.4%');
    assert.equal(percentPoints(0), '0%');
    assert.equal(percentPoints(100), '100%');
  });
  it('reads — for no amount', () => {
    for (const value of MISSING) {
      assert.equal(percent(value), NONE);
      assert.equal(percentPoints(value), NONE);
    }
  });
});

describe('multiple', () => {
  it('is to one decimal', () => {
    assert.equal(multiple(3.2), '3.2×');
    assert.equal(multiple(0.25), '0.3×');
    assert.equal(multiple(0), '0.0×');
  });
  it('reads — for no amount, a price of zero among them', () => {
    assert.equal(multiple(320 / 0), NONE);
    for (const value of MISSING) assert.equal(multiple(value), NONE);
  });
});

describe('duration', () => {
  it('is to the minute, in hours and minutes from an hour', () => {
    assert.equal(duration(0), '0m');
    assert.equal(duration(1), '<1m');
    assert.equal(duration(29), '<1m');
    assert.equal(duration(30), '1m');
    assert.equal(duration(60), '1m');
    assert.equal(duration(1400), '23m');
    assert.equal(duration(3569), '59m');
    assert.equal(duration(3570), '1h 0m');
    assert.equal(duration(4000), '1h 7m');
    assert.equal(duration(5400), '1h 30m');
    assert.equal(duration(187_200), '52h 0m');
  });
  it('reads — for no amount', () => {
    for (const value of MISSING) assert.equal(duration(value), NONE);
  });
});

describe('times', () => {
  const now = new Date(2026, 10, 23, 12, 0).getTime();
  const at = (day: number, hour: number, minute: number): number => new Date(2026, 10, day, hour, minute).getTime();
  it("a moment today is its time of day; another day's has its date, past or to come", () => {
    assert.equal(
      when(at(23, 15, 0), now),
      new Date(at(23, 15, 0)).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }),
    );
    for (const other of [at(22, 23, 59), at(27, 9, 0)]) {
      assert.equal(
        when(other, now),
        new Date(other).toLocaleString(undefined, {
          month: 'short',
          day: 'numeric',
          hour: '2-digit',
          minute: '2-digit',
        }),
      );
    }
    assert.notEqual(when(at(27, 9, 0), now), when(at(23, 9, 0), now));
    assert.equal(when(null, now), NONE);
  });
  it('when figures were read is to the second', () => {
    const read = new Date(2026, 10, 23, 12, 0, 3).getTime();
    assert.equal(updatedAt(read), new Date(read).toLocaleTimeString());
    assert.equal(updatedAt(Number.NaN), NONE);
  });
  it('ages: now under a minute (or ahead of the clock), then minutes, hours, days', () => {
    assert.equal(ago(now, now), 'now');
    assert.equal(ago(now + 60_000, now), 'now');
    assert.equal(ago(now - 59_999, now), 'now');
    assert.equal(ago(now - 60_000, now), '1m ago');
    assert.equal(ago(now - 59 * 60_000, now), '59m ago');
    assert.equal(ago(now - 60 * 60_000, now), '1h ago');
    assert.equal(ago(now - 1439 * 60_000, now), '23h ago');
    assert.equal(ago(now - 1440 * 60_000, now), '1d ago');
    assert.equal(ago(null, now), NONE);
  });
  it('a chart bucket: its time of day over an hour or a day, its date over longer ranges', () => {
    const time = new Date(at(22, 15, 0)).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    const date = new Date(at(22, 15, 0)).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
    assert.equal(bucket(at(22, 15, 0), '1h'), time);
    assert.equal(bucket(at(22, 15, 0), '24h'), time);
    assert.equal(bucket(at(22, 15, 0), '7d'), date);
    assert.equal(bucket(at(22, 15, 0), '30d'), date);
  });
});

describe('figures', () => {
  it("every formatter's reading is a figure; text and times are not", () => {
    for (const text of [
      usd(1234.5),
      tokens(1500),
      tokens(999),
      count(9999),
      count(12_345),
      percent(0.0001),
      percent(0.87),
      duration(20),
      duration(4000),
      NONE,
      '-$1.00',
    ]) {
      assert.ok(isFigure(text), text);
    }
    for (const text of ['claude-sonnet-4-5', 'Bash', '631fe02f', 'now', '3h ago', '03:00 PM', 'Nov 27, 09:00 AM', ''])
      assert.ok(!isFigure(text), text);
  });
  it('a session id is its first eight characters', () => {
    assert.equal(shortId('631fe02f-77fd-4613-8db1-70ec003c74d0'), '631fe02f');
    assert.equal(shortId('short'), 'short');
  });
});

describe('the plan', () => {
  const now = new Date(2026, 10, 23, 12, 0).getTime();
  const usage = {
    fiveHour: {
      usedPercent: 42.4,
      resetsAtMs: new Date(2026, 10, 23, 15, 0).getTime(),
      limitAtMs: new Date(2026, 10, 23, 14, 20).getTime(),
    },
    sevenDay: { usedPercent: 17, resetsAtMs: null, limitAtMs: null },
    contextWindows: [
      { sessionId: '631fe02f-77fd-4613-8db1-70ec003c74d0', model: 'claude-opus-4-5', usedPercent: 37 },
      { sessionId: 'db2d98db-9ac8-44e4-a0a7-7a609ad65899', model: 'claude-sonnet-4-5', usedPercent: 5.5 },
    ],
  };
  it('its windows are listed once, with their names in the status bar, the sidebar and the stack', () => {
    assert.deepEqual(
      PLAN_WINDOWS.map(([key, short, name, stack]) => [key, short, name, stack]),
      [
        ['fiveHour', '5h', '5-hour', 'five_hour'],
        ['sevenDay', '7d', '7-day', 'seven_day'],
      ],
    );
    assert.equal(planWindowName('five_hour'), '5-hour');
    assert.equal(planWindowName('seven_day'), '7-day');
  });
  it('reads each window, then each context window: the lines the status bar and the sidebar both show', () => {
    assert.deepEqual(planReadings(usage, Infinity, now), [
      {
        name: '5-hour window',
        window: '5-hour',
        value: '42%',
        detail: `resets ${when(usage.fiveHour.resetsAtMs, now)} · limit at this pace ${when(usage.fiveHour.limitAtMs, now)}`,
        title: `resets ${when(usage.fiveHour.resetsAtMs, now)} · limit at this pace ${when(usage.fiveHour.limitAtMs, now)}`,
      },
      {
        name: '7-day window',
        window: '7-day',
        value: '17%',
        detail: 'no reset time given',
        title: 'no reset time given',
      },
      {
        name: 'Context window',
        value: '37%',
        detail: 'session 631fe02f · claude-opus-4-5',
        title: '631fe02f-77fd-4613-8db1-70ec003c74d0 (claude-opus-4-5)',
      },
      {
        name: 'Context window',
        value: '5.5%',
        detail: 'session db2d98db · claude-sonnet-4-5',
        title: 'db2d98db-9ac8-44e4-a0a7-7a609ad65899 (claude-sonnet-4-5)',
      },
    ]);
    assert.equal(planReadings(usage, 1, now).length, 3, 'at most one context window');
    assert.deepEqual(planReadings({ contextWindows: [] }, Infinity, now), []);
    assert.deepEqual(planReadings(undefined), []);
  });
});
