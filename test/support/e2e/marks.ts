// What an end-to-end run prints as it goes: each step with the seconds since the run began.
const startedAt = Date.now();

export const seconds = (ms: number): string => (ms / 1000).toFixed(1);
export const mark = (what: string): void => console.log(`# e2e: ${what} at +${seconds(Date.now() - startedAt)}s`);
