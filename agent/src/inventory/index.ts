/**
 * @module agent/inventory
 * The agent's hardware and software inventory (GLPI inventory format): `inventoryRunner`
 * wires the collector of this OS, the HTTPS post to the appliance with the agent's own
 * credentials and pinned CA, and the state file, into the runner that the run loop, the
 * `inventory` action, enrollment and `medulla-agent inventory` share.
 */
import { DEFAULTS, type AgentConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { statePath } from "../paths.ts";
import { detachedStore, type InventoryStore } from "../state.ts";
import { collectInventory } from "./collect.ts";
import { postInventory } from "./post.ts";
import { InventoryRunner, type RunnerDeps, type RunResult } from "./runner.ts";

export { collectInventory } from "./collect.ts";
export { InventoryRunner, type RunResult } from "./runner.ts";

export function intervalMs(config: AgentConfig): number {
  return (config.inventory?.intervalSeconds ?? DEFAULTS.inventoryIntervalSeconds) * 1000;
}

export interface InventoryOptions {
  config: AgentConfig;
  /** The pinned CA, PEM. */
  ca: string;
  log: Logger;
  store: InventoryStore;
  signal?: AbortSignal;
  /** Replaces parts of the wiring (tests). */
  overrides?: Partial<RunnerDeps>;
}

export function inventoryRunner(o: InventoryOptions): InventoryRunner {
  const target = { server: o.config.server.url, jid: o.config.xmpp.jid, password: o.config.xmpp.password, ca: o.ca };
  return new InventoryRunner({
    collect: (warn) => collectInventory({ agentId: o.config.agent.id, warn }),
    send: (json, signal) => postInventory(json, target, signal),
    store: o.store,
    log: o.log,
    intervalMs: intervalMs(o.config),
    signal: o.signal,
    ...o.overrides,
  });
}

/** Tries for a run started by hand (the command, enrollment): someone waits for it, so a few seconds, not minutes. */
export const INTERACTIVE_RETRY = { attempts: 3, backoff: { baseMs: 2_000, capMs: 10_000 } };

/** One inventory now, from a process that does not own the state file (the command line, enrollment). */
export function inventoryOnce(o: Omit<InventoryOptions, "store"> & { reason: string; force?: boolean }): Promise<RunResult> {
  const runner = inventoryRunner({ ...o, store: detachedStore(statePath(o.config.path)), overrides: { retry: INTERACTIVE_RETRY, ...o.overrides } });
  return runner.inventoryNow(o.reason, { force: o.force });
}

export function describeResult(r: RunResult): string {
  if (r.status === "sent") return `inventory sent${r.changes === undefined ? "" : ` (${r.changes} changes)`}`;
  if (r.status === "unchanged") return "inventory unchanged since the last one; the server was told so";
  return `inventory not sent: ${r.error}`;
}
