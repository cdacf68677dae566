/**
 * @module net/xmpp/gate
 * How many connections negotiate at once (TLS handshake, SASL, binding). A connection is
 * admitted and attached at once (limits, timers and `stop()` apply to it), but reads its
 * socket only once it holds a slot; it gives the slot back when its stream is established,
 * when it goes, or after `slotMs`, whichever comes first, and the oldest waiting connection
 * takes it (first come, first served).
 *
 * Why: after a restart of the appliance every agent comes back within seconds. Unbounded,
 * thousands of logins progress side by side, each holding its TLS handshake and parser
 * state while the CPU is saturated; every login is slow, the late ones hit their timeout,
 * and the memory they held stays with the process. Bounded, the logins that hold a slot
 * finish quickly and the others wait in the kernel's socket buffers. Measured with 5,000
 * agents (docs/benchmarks.md "xmpp"): about 3 KiB less per connection after the burst, and
 * the slowest logins (p99) in about 1 s instead of 5.7. HAProxy's `maxconn` queue works the
 * same way.
 *
 * The slot's time limit keeps the gate from becoming a way to stall logins: a connection
 * that dawdles (far away, or a slow-loris) negotiates on without its slot after `slotMs`,
 * so the queue moves at least `max` connections per `slotMs` whatever the clients do.
 */
import type { Clock } from "../../clock.ts";

export interface GateLimits {
  /** Connections negotiating at once; 0 turns the gate off. */
  maxConcurrentNegotiations: number;
  /** Longest a connection keeps its slot. */
  negotiationSlotMs: number;
}

/** A connection's place at the gate: waiting, holding a slot, or done with it. */
export interface GatePass {
  /** Gives the slot back, or leaves the queue; once, whatever the state. */
  release(): void;
}

interface Entry extends GatePass {
  start: () => void;
  state: "waiting" | "holding" | "done";
  cancelTimer: (() => void) | null;
}

export class NegotiationGate {
  #active = 0;
  #waiting = 0;
  #queue: Entry[] = [];
  #head = 0;

  constructor(
    readonly limits: () => GateLimits,
    readonly clock: Clock,
  ) {}

  /** Connections holding a slot now. */
  get active(): number {
    return this.#active;
  }

  /** Connections waiting for one. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Calls `start` now if a slot is free, else once one is; `release` gives it back. */
  enter(start: () => void): GatePass {
    const entry: Entry = {
      start,
      state: "waiting",
      cancelTimer: null,
      release: () => this.#release(entry),
    };
    const { maxConcurrentNegotiations: max } = this.limits();
    if (max <= 0) {
      entry.state = "done";
      start();
      return entry;
    }
    if (this.#active < max && this.#waiting === 0) this.#grant(entry);
    else {
      this.#queue.push(entry);
      this.#waiting++;
    }
    return entry;
  }

  #grant(entry: Entry): void {
    entry.state = "holding";
    this.#active++;
    entry.cancelTimer = this.clock.setTimer(this.limits().negotiationSlotMs, () => this.#release(entry));
    try {
      entry.start();
    } catch {
      // The connection went meanwhile; its slot goes to the next one.
      this.#release(entry);
    }
  }

  #release(entry: Entry): void {
    const was = entry.state;
    entry.state = "done";
    if (was === "waiting") {
      // Left in the queue, skipped when its turn comes (no search through the queue).
      this.#waiting--;
      return;
    }
    if (was !== "holding") return;
    entry.cancelTimer?.();
    entry.cancelTimer = null;
    this.#active--;
    this.#next();
  }

  #next(): void {
    const max = this.limits().maxConcurrentNegotiations;
    const cap = max > 0 ? max : Number.POSITIVE_INFINITY; // turned off meanwhile: everyone in
    while (this.#active < cap && this.#head < this.#queue.length) {
      const entry = this.#queue[this.#head++]!;
      if (entry.state !== "waiting") continue;
      this.#waiting--;
      this.#grant(entry);
    }
    // Compact once the consumed head is large (amortised O(1) per connection).
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}
