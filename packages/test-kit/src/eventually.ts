export interface EventuallyOptions {
  /** @default 10000 */
  timeoutMs?: number;
  /** @default 25 */
  intervalMs?: number;
}

/**
 * Polls until `probe` returns without throwing (and, if it returns a boolean, returns true). Tests wait
 * for conditions, never for fixed sleeps. On timeout the last failure is rethrown, so the test reports
 * what was still wrong.
 */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = new Error('condition never became true');
  for (;;) {
    try {
      const result = await probe();
      if (result !== false) return result;
      lastError = new Error('condition returned false');
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const message = lastError instanceof Error ? lastError.message : String(lastError);
      const wrapped = new Error(`eventually: still failing after ${timeoutMs} ms: ${message}`);
      if (lastError instanceof Error && lastError.stack) wrapped.stack = lastError.stack;
      throw wrapped;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
