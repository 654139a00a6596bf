/** Polls `read` until `ok(value)` holds; fails after the timeout with the last value seen. */
export async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met after ${timeoutMs} ms; last value: ${JSON.stringify(last)?.slice(0, 1000)}${lastError ? `; last error: ${String(lastError)}` : ''}`);
}
