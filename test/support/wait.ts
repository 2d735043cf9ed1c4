/**
 * Calls `fn` every 250 ms until it returns a value other than `undefined`, and returns that value. Errors `fn` throws
 * count as "not yet"; after `timeoutMs` it throws "timed out waiting for WHAT", with the last such error.
 */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}
