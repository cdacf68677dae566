/**
 * @module agent/state
 * The small state file that `run` keeps beside its config (`agent.state.json`) so that
 * `status` can say how the connection is doing: since when connected, the last error, the
 * last announce. Not secret; written atomically; unreadable or foreign content reads as
 * "no state".
 */
import { readFile } from "node:fs/promises";
import { writeAtomic } from "../../src/fs/atomic.ts";

export interface AgentState {
  pid: number;
  state: "connecting" | "connected" | "disconnected" | "stopped";
  updatedAt: string;
  connectedSince?: string;
  lastError?: string;
  lastErrorAt?: string;
  lastAnnounceAt?: string;
  machineId?: number;
}

export async function readState(path: string): Promise<AgentState | null> {
  try {
    const v = JSON.parse(await readFile(path, "utf8")) as AgentState;
    return v && typeof v === "object" && typeof v.state === "string" && typeof v.updatedAt === "string" ? v : null;
  } catch {
    return null;
  }
}

/** Keeps the state in memory and writes it on every change (changes are rare). */
export class StateFile {
  #state: AgentState;
  #writing: Promise<void> = Promise.resolve();

  constructor(readonly path: string, now = new Date()) {
    this.#state = { pid: process.pid, state: "connecting", updatedAt: now.toISOString() };
  }

  get value(): AgentState {
    return this.#state;
  }

  update(patch: Partial<AgentState>, now = new Date()): Promise<void> {
    this.#state = { ...this.#state, ...patch, updatedAt: now.toISOString() };
    const snapshot = JSON.stringify(this.#state, null, 2);
    // Serialised, so an older snapshot never lands after a newer one.
    this.#writing = this.#writing.then(() => writeAtomic(this.path, `${snapshot}\n`, 0o644)).catch(() => undefined);
    return this.#writing;
  }
}
