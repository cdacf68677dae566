/**
 * @module net/xmpp/watchdog
 * A connection's timers, on the injected clock: a deadline to finish negotiation (a slow
 * or silent client cannot hold a slot), then an idle check that pings a quiet client
 * (XEP-0199) and gives up if the ping meets silence too. Activity only records a
 * timestamp; one timer at a time re-arms itself from it, so a busy connection costs no
 * timer churn.
 */
import type { Clock } from "../../clock.ts";

export interface WatchdogOptions {
  clock: Clock;
  negotiationTimeoutMs: number;
  idleTimeoutMs: number;
  pingTimeoutMs: number;
  onPing(): void;
  onTimeout(phase: "negotiation" | "idle"): void;
}

export interface Watchdog {
  /** Input arrived. */
  activity(): void;
  /** Negotiation finished: from now on, idle checks. */
  established(): void;
  stop(): void;
}

/**
 * A class rather than closures: one object and one timer callback per connection, where the
 * closure version kept eight functions and their scopes alive for each of thousands.
 */
class ConnectionWatchdog implements Watchdog {
  #last: number;
  // Counted, not timed: a reply in the same millisecond as the ping still counts.
  #inputs = 0;
  #inputsAtPing: number | null = null;
  #isStopped = false;
  #cancel: () => void;
  readonly #onTimer = () => this.#check();

  constructor(readonly o: WatchdogOptions) {
    this.#last = o.clock.now();
    this.#cancel = o.clock.setTimer(o.negotiationTimeoutMs, () => {
      if (!this.#isStopped) o.onTimeout("negotiation");
    });
  }

  #arm(ms: number): void {
    this.#cancel();
    this.#cancel = this.o.clock.setTimer(ms, this.#onTimer);
  }

  #check(): void {
    if (this.#isStopped) return;
    const { o } = this;
    const now = o.clock.now();
    if (this.#inputsAtPing !== null) {
      if (this.#inputs === this.#inputsAtPing) return o.onTimeout("idle");
      this.#inputsAtPing = null;
    }
    const quiet = now - this.#last;
    if (quiet < o.idleTimeoutMs) return this.#arm(o.idleTimeoutMs - quiet);
    this.#inputsAtPing = this.#inputs;
    o.onPing();
    this.#arm(o.pingTimeoutMs);
  }

  activity(): void {
    this.#last = this.o.clock.now();
    this.#inputs++;
  }

  established(): void {
    if (this.#isStopped) return;
    this.#last = this.o.clock.now();
    this.#arm(this.o.idleTimeoutMs);
  }

  stop(): void {
    this.#isStopped = true;
    this.#cancel();
  }
}

export function startWatchdog(o: WatchdogOptions): Watchdog {
  return new ConnectionWatchdog(o);
}
