import { describe, expect, test } from "bun:test";
import { backoffCeiling, backoffDelay, seededRandom } from "../../agent/src/backoff.ts";

const o = { baseMs: 1_000, capMs: 300_000 };

describe("backoff with full jitter", () => {
  test("the ceiling doubles from the base and never passes the cap", () => {
    expect([0, 1, 2, 3, 8, 9, 10, 60, 5000].map((n) => backoffCeiling(n, o))).toEqual([1_000, 2_000, 4_000, 8_000, 256_000, 300_000, 300_000, 300_000, 300_000]);
    let prev = 0;
    for (let n = 0; n < 100; n++) {
      const c = backoffCeiling(n, o);
      expect(c).toBeGreaterThanOrEqual(prev);
      prev = c;
    }
  });

  test("every delay lies in [0, ceiling)", () => {
    const random = seededRandom(42);
    for (let n = 0; n < 40; n++) {
      for (let k = 0; k < 50; k++) {
        const d = backoffDelay(n, { ...o, random });
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(backoffCeiling(n, o));
      }
    }
    expect(backoffDelay(3, { ...o, random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { ...o, random: () => 1 })).toBe(7_999);
  });

  test("seeded: reproducible, and a thousand agents spread over the whole window", () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
    const random = seededRandom(1);
    const delays = Array.from({ length: 1000 }, () => backoffDelay(9, { ...o, random }));
    const buckets = Array(10).fill(0) as number[];
    for (const d of delays) buckets[Math.floor(d / 30_000)]!++;
    // Uniform over 300 s: each 30 s bucket holds about 100; none is empty or crowded.
    for (const n of buckets) expect(n).toBeGreaterThan(60);
    for (const n of buckets) expect(n).toBeLessThan(140);
  });
});
