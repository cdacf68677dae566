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

export function startWatchdog(o: WatchdogOptions): Watchdog {
  let last = o.clock.now();
  // Counted, not timed: a reply in the same millisecond as the ping still counts.
  let inputs = 0;
  let inputsAtPing: number | null = null;
  let isStopped = false;
  let cancel = o.clock.setTimer(o.negotiationTimeoutMs, () => {
    if (!isStopped) o.onTimeout("negotiation");
  });

  const arm = (ms: number) => {
    cancel();
    cancel = o.clock.setTimer(ms, check);
  };

  function check(): void {
    if (isStopped) return;
    const now = o.clock.now();
    if (inputsAtPing !== null) {
      if (inputs === inputsAtPing) return o.onTimeout("idle");
      inputsAtPing = null;
    }
    const quiet = now - last;
    if (quiet < o.idleTimeoutMs) return arm(o.idleTimeoutMs - quiet);
    inputsAtPing = inputs;
    o.onPing();
    arm(o.pingTimeoutMs);
  }

  return {
    activity() {
      last = o.clock.now();
      inputs++;
    },
    established() {
      if (isStopped) return;
      last = o.clock.now();
      arm(o.idleTimeoutMs);
    },
    stop() {
      isStopped = true;
      cancel();
    },
  };
}
