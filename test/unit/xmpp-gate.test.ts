/**
 * The negotiation gate (src/net/xmpp/gate.ts) on a manual clock: slots, first come first
 * served, release on establishment, on departure and after the slot's time, the limit
 * changed or turned off while connections wait.
 */
import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { NegotiationGate, type GateLimits } from "../../src/net/xmpp/gate.ts";

function setup(limits: GateLimits) {
  const clock = new ManualClock();
  const gate = new NegotiationGate(() => limits, clock);
  const started: string[] = [];
  const enter = (name: string) => gate.enter(() => started.push(name));
  return { clock, gate, started, enter, limits };
}

describe("negotiation gate", () => {
  test("up to max start at once; the others wait and start in arrival order as slots free", () => {
    const { gate, started, enter } = setup({ maxConcurrentNegotiations: 2, negotiationSlotMs: 500 });
    const a = enter("a");
    const b = enter("b");
    enter("c");
    enter("d");
    expect(started).toEqual(["a", "b"]);
    expect({ active: gate.active, waiting: gate.waiting }).toEqual({ active: 2, waiting: 2 });
    b.release();
    expect(started).toEqual(["a", "b", "c"]);
    a.release();
    a.release(); // twice is once
    expect(started).toEqual(["a", "b", "c", "d"]);
    expect({ active: gate.active, waiting: gate.waiting }).toEqual({ active: 2, waiting: 0 });
  });

  test("a newcomer does not overtake those already waiting", () => {
    const { started, enter } = setup({ maxConcurrentNegotiations: 1, negotiationSlotMs: 500 });
    const a = enter("a");
    enter("b");
    a.release();
    enter("c");
    expect(started).toEqual(["a", "b"]);
  });

  test("a connection that leaves while waiting is skipped and frees nothing", () => {
    const { gate, started, enter } = setup({ maxConcurrentNegotiations: 1, negotiationSlotMs: 500 });
    const a = enter("a");
    const b = enter("b");
    enter("c");
    b.release();
    expect(gate.waiting).toBe(1);
    expect(started).toEqual(["a"]);
    a.release();
    expect(started).toEqual(["a", "c"]);
    expect(gate.active).toBe(1);
  });

  test("a slot is given back after negotiationSlotMs even if its holder never finishes (a slow-loris stalls no one)", () => {
    const { clock, gate, started, enter } = setup({ maxConcurrentNegotiations: 1, negotiationSlotMs: 500 });
    const stalled = enter("stalled");
    enter("b");
    clock.advance(499);
    expect(started).toEqual(["stalled"]);
    clock.advance(1);
    expect(started).toEqual(["stalled", "b"]);
    stalled.release(); // its late release does not free b's slot
    expect(gate.active).toBe(1);
    clock.advance(500);
    expect(gate.active).toBe(0);
  });

  test("0 turns the gate off; turning it off while some wait lets them all in", () => {
    const { gate, started, enter, limits } = setup({ maxConcurrentNegotiations: 0, negotiationSlotMs: 500 });
    enter("a");
    enter("b");
    expect(started).toEqual(["a", "b"]);
    expect(gate.active).toBe(0);
    limits.maxConcurrentNegotiations = 1;
    const c = enter("c");
    enter("d");
    enter("e");
    expect(started).toEqual(["a", "b", "c"]);
    limits.maxConcurrentNegotiations = 0;
    c.release();
    expect(started).toEqual(["a", "b", "c", "d", "e"]);
  });

  test("a start that throws gives its slot to the next one", () => {
    const { started, gate } = setup({ maxConcurrentNegotiations: 1, negotiationSlotMs: 500 });
    const a = gate.enter(() => started.push("a"));
    gate.enter(() => {
      throw new Error("socket gone");
    });
    gate.enter(() => started.push("c"));
    a.release();
    expect(started).toEqual(["a", "c"]);
    expect(gate.active).toBe(1);
  });

  test("a long queue is compacted as it drains, in order", () => {
    const { gate, started, enter } = setup({ maxConcurrentNegotiations: 1, negotiationSlotMs: 500 });
    const passes = Array.from({ length: 5000 }, (_, i) => enter(String(i)));
    for (const p of passes) p.release();
    expect(started).toEqual(Array.from({ length: 5000 }, (_, i) => String(i)));
    expect({ active: gate.active, waiting: gate.waiting }).toEqual({ active: 0, waiting: 0 });
  });
});
