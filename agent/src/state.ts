/**
 * @module agent/state
 * The small state file that `run` keeps beside its config (`agent.state.json`) so that
 * `status` can say how the connection is doing: since when connected, the last error, the
 * last announce; and, under `inventory`, what the inventory schedule needs across
 * restarts (when the next run is due, the hashes of the last inventory the server
 * accepted). Not secret; written atomically; unreadable or foreign content reads as
 * "no state". The `inventory` section may also be written by `medulla-agent inventory`
 * while the service runs, so every write reads it back from the file first and a writer
 * replaces only the section it owns.
 */
import { readFile } from "node:fs/promises";
import { writeAtomic } from "../../src/fs/atomic.ts";

export interface InventoryState {
  /** When the next scheduled inventory is due (ISO time). */
  nextAt?: string;
  /** The last inventory the server accepted, full or unchanged. */
  lastAt?: string;
  /** The last full document the server accepted. */
  lastFullAt?: string;
  /** Content hash (agent/src/inventory/hash.ts) of the last accepted inventory. */
  contentHash?: string;
  /** SHA-256 of the JSON body last accepted in full: what the server stored. */
  bodyHash?: string;
  lastResult?: string;
  lastError?: string;
  lastErrorAt?: string;
}

export interface AgentState {
  pid: number;
  state: "connecting" | "connected" | "disconnected" | "stopped";
  updatedAt: string;
  connectedSince?: string;
  lastError?: string;
  lastErrorAt?: string;
  lastAnnounceAt?: string;
  machineId?: number;
  inventory?: InventoryState;
}

export async function readState(path: string): Promise<AgentState | null> {
  try {
    const v = JSON.parse(await readFile(path, "utf8")) as AgentState;
    return v && typeof v === "object" && typeof v.state === "string" && typeof v.updatedAt === "string" ? v : null;
  } catch {
    return null;
  }
}

const sectionOf = (s: AgentState | null): InventoryState => (s?.inventory && typeof s.inventory === "object" ? s.inventory : {});

/** Keeps the connection state in memory and writes it on every change (changes are rare). */
export class StateFile {
  #state: Omit<AgentState, "inventory">;
  #writing: Promise<void> = Promise.resolve();

  constructor(readonly path: string, now = new Date()) {
    this.#state = { pid: process.pid, state: "connecting", updatedAt: now.toISOString() };
  }

  get value(): AgentState {
    return this.#state;
  }

  update(patch: Partial<Omit<AgentState, "inventory">>, now = new Date()): Promise<void> {
    this.#state = { ...this.#state, ...patch, updatedAt: now.toISOString() };
    return this.#write();
  }

  /** The inventory section as the file holds it now. */
  async inventory(): Promise<InventoryState> {
    await this.#writing;
    return sectionOf(await readState(this.path));
  }

  updateInventory(patch: InventoryState): Promise<void> {
    return this.#write(patch);
  }

  #write(inventoryPatch?: InventoryState): Promise<void> {
    // Serialised, so an older snapshot never lands after a newer one.
    this.#writing = this.#writing
      .then(async () => {
        const inventory = { ...sectionOf(await readState(this.path)), ...inventoryPatch };
        const doc: AgentState = { ...this.#state, ...(Object.keys(inventory).length ? { inventory: dropUndefined(inventory) } : {}) };
        await writeAtomic(this.path, `${JSON.stringify(doc, null, 2)}\n`, 0o644);
      })
      .catch(() => undefined);
    return this.#writing;
  }
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Where an inventory run keeps its section: the running agent's StateFile, or the file alone. */
export interface InventoryStore {
  read(): Promise<InventoryState>;
  update(patch: InventoryState): Promise<void>;
}

export function stateFileStore(file: StateFile): InventoryStore {
  return { read: () => file.inventory(), update: (p) => file.updateInventory(p) };
}

/**
 * For a process that does not own the state file (`medulla-agent inventory` while the
 * service may run): only the inventory section changes, the rest is written back as read.
 */
export function detachedStore(path: string): InventoryStore {
  let writing: Promise<void> = Promise.resolve();
  return {
    read: async () => (await writing, sectionOf(await readState(path))),
    update(patch) {
      writing = writing
        .then(async () => {
          const current = await readState(path);
          const base: AgentState = current ?? { pid: process.pid, state: "stopped", updatedAt: new Date().toISOString() };
          const inventory = dropUndefined({ ...sectionOf(current), ...patch });
          await writeAtomic(path, `${JSON.stringify({ ...base, inventory }, null, 2)}\n`, 0o644);
        })
        .catch(() => undefined);
      return writing;
    },
  };
}
