// The price of an answer from its tokens: transcripts carry tokens, not dollars. Prices come from Pydantic's
// genai-prices (`@pydantic/genai-prices`): a kept, dated price table bundled in the package, read offline, with
// Claude's 5-minute and 1-hour cache writes and its long-context tiers. Plain Node: never import `vscode`.
import { calcPrice, type Usage } from '@pydantic/genai-prices';
import type { UsageEntry } from './transcripts';

export interface Pricing {
  /** USD, or undefined for a model the table does not know (shown as unpriced, never as $0). */
  price(entry: UsageEntry): number | undefined;
}

/** The bundled table: one answer's usage as the Messages API reports it, priced at the answer's date. */
export function bundledPricing(): Pricing {
  return {
    price(e) {
      const cacheWrite = e.cacheWrite5m + e.cacheWrite1h;
      // genai-prices' own Anthropic mapping: input_tokens is every input token, cached or not.
      const usage: Usage = {
        input_tokens: e.input + cacheWrite + e.cacheRead,
        output_tokens: e.output,
        cache_read_tokens: e.cacheRead,
        cache_write_tokens: cacheWrite,
        cache_write_5m_tokens: e.cacheWrite5m,
        cache_write_1h_tokens: e.cacheWrite1h,
      };
      return calcPrice(usage, e.model, { providerId: 'anthropic', timestamp: new Date(e.timeMs) })?.total_price;
    },
  };
}
