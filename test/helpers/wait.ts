export interface WaitOptions {
  /** What is awaited, for the error message. */
  what: string;
  /** Give up after this many ms. @default 20_000 */
  deadlineMs?: number;
  /** Ms between polls. @default 10 */
  pollMs?: number;
}

/**
 * Polls `check` until it returns true, failing after the deadline. Used
 * instead of fixed sleeps: the wait ends as soon as the condition holds.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  { what, deadlineMs = 20_000, pollMs = 10 }: WaitOptions,
): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    if (await check()) return;
    if (performance.now() > deadline) {
      throw new Error(`Timed out after ${deadlineMs} ms waiting for ${what}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
