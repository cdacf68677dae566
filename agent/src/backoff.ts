/**
 * @module agent/backoff
 * Reconnection delays: exponential backoff with full jitter (AWS architecture blog,
 * "Exponential Backoff And Jitter"): the n-th retry waits a uniformly random time in
 * [0, min(cap, base·2^n)). Spread this way, a thousand agents that lose the server at the
 * same moment do not come back at the same moment. `random` is injectable for tests.
 * `sleep` waits such a delay and ends early when the agent stops.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, capMs: 5 * 60_000 };

/** The ceiling of the n-th retry's delay (n from 0): base·2^n, never above cap. */
export function backoffCeiling(attempt: number, o: BackoffOptions = DEFAULT_BACKOFF): number {
  const n = Math.max(0, Math.min(attempt, 52));
  return Math.min(o.capMs, o.baseMs * 2 ** n);
}

export function backoffDelay(attempt: number, o: BackoffOptions = DEFAULT_BACKOFF): number {
  const r = (o.random ?? Math.random)();
  return Math.floor(Math.min(Math.max(r, 0), 0.999999) * backoffCeiling(attempt, o));
}

/** A deterministic generator (mulberry32) for reproducible jitter in tests and simulations. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sleeps up to `ms`, or less when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
