// One reading of a failure's `code`, for the stack engine's errors (dockerode, sockets) and the telemetry clients'
// (undici). Plain Node, imports nothing.

/** The `code` of a network error (ECONNREFUSED, UND_ERR_…), looked for in its causes and an AggregateError's errors. */
export function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    // AggregateError (happy eyeballs) carries the real errors in `errors`.
    const errs = (cur as { errors?: unknown }).errors;
    if (Array.isArray(errs) && errs.length > 0) {
      cur = errs[0];
      continue;
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}
