// The price of an answer from its tokens: transcripts carry tokens, not dollars. Prices come from Pydantic's
// genai-prices (`@pydantic/genai-prices`): a kept, dated price table bundled in the package, read offline, with
// Claude's 5-minute and 1-hour cache writes and its long-context tiers. Plain Node: never import `vscode`.
import { calcPrice, type Usage } from '@pydantic/genai-prices';
import type { UsageEntry } from './transcripts';

export interface Pricing {
  /** USD, or undefined for a model the table does not know (shown as unpriced, never as $0). */
  price(entry: UsageEntry): number | undefined;
}

const DAY_MS = 86_400_000;
/** Tokens of one type the rates are measured with: below every long-context tier. */
const PROBE_TOKENS = 1000;

/** A model's price per token of each type on one day, and the input size from which its tiers apply. */
interface Rates {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  tierFrom: number;
}

/**
 * The bundled table, asked once per model and day: a price is linear in the tokens below the model's first tier, so
 * an answer below it is priced from that day's rates (the table takes ~35 µs an answer; a year of answers, seconds),
 * and one at or above it by the table itself.
 */
export function bundledPricing(): Pricing {
  const rates = new Map<string, Rates | null>();
  return {
    price(e) {
      const day = Math.floor(e.timeMs / DAY_MS);
      const key = `${e.model}\u0000${day}`;
      let r = rates.get(key);
      if (r === undefined) rates.set(key, (r = ratesOf(e.model, new Date(day * DAY_MS))));
      if (r === null) return undefined;
      if (e.input + e.cacheRead + e.cacheWrite5m + e.cacheWrite1h >= r.tierFrom) return tablePrice(e);
      return (
        e.input * r.input +
        e.output * r.output +
        e.cacheRead * r.cacheRead +
        e.cacheWrite5m * r.cacheWrite5m +
        e.cacheWrite1h * r.cacheWrite1h
      );
    },
  };
}

/** The table's own price of one answer's usage, at the answer's date. */
export function tablePrice(e: UsageEntry): number | undefined {
  return calcPrice(usageOf(e), e.model, { providerId: 'anthropic', timestamp: new Date(e.timeMs) })?.total_price;
}

function ratesOf(model: string, date: Date): Rates | null {
  const probe = (tokens: Partial<UsageEntry>) =>
    calcPrice(usageOf({ input: 0, output: 0, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0, ...tokens }), model, {
      providerId: 'anthropic',
      timestamp: date,
    });
  const input = probe({ input: PROBE_TOKENS });
  if (!input) return null;
  const rate = (tokens: Partial<UsageEntry>): number => (probe(tokens)?.total_price ?? NaN) / PROBE_TOKENS;
  const tierStarts = Object.values(input.model_price).flatMap((p) =>
    typeof p === 'object' && p !== null ? p.tiers.map((t) => t.start) : [],
  );
  return {
    input: input.total_price / PROBE_TOKENS,
    output: rate({ output: PROBE_TOKENS }),
    cacheRead: rate({ cacheRead: PROBE_TOKENS }),
    cacheWrite5m: rate({ cacheWrite5m: PROBE_TOKENS }),
    cacheWrite1h: rate({ cacheWrite1h: PROBE_TOKENS }),
    tierFrom: Math.min(Infinity, ...tierStarts),
  };
}

/** genai-prices' own Anthropic mapping of a Messages API usage: input_tokens is every input token, cached or not. */
function usageOf(e: Pick<UsageEntry, 'input' | 'output' | 'cacheRead' | 'cacheWrite5m' | 'cacheWrite1h'>): Usage {
  const cacheWrite = e.cacheWrite5m + e.cacheWrite1h;
  return {
    input_tokens: e.input + cacheWrite + e.cacheRead,
    output_tokens: e.output,
    cache_read_tokens: e.cacheRead,
    cache_write_tokens: cacheWrite,
    cache_write_5m_tokens: e.cacheWrite5m,
    cache_write_1h_tokens: e.cacheWrite1h,
  };
}
