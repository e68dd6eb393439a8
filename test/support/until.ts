/**
 * Calls `check` until it returns a value other than undefined (or stops throwing) and returns that;
 * fails with the last problem after `timeoutMs`.
 */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, stepMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let problem: unknown = 'no result';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      problem = error;
    }
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${problem instanceof Error ? problem.message : String(problem)}`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
