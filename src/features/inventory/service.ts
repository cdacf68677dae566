/**
 * @module inventory/service
 * Storing an inventory, whatever agent sent it: one transaction that finds the machine
 * (our agent's own machine, else the machines service's merge rule, else the machine the
 * same GLPI/FusionInventory `deviceid` inventoried last), updates its facts through
 * `machines.upsert`, replaces its rows in every `inv_*` table the inventory carries,
 * writes what changed since the previous one into `inv_changes`, keeps the document
 * (gzip-compressed JSON, GLPI format, with the hash of the body as received), marks the
 * machine inventoried and writes the history. Everything that can refuse an inventory
 * (parsing, checking, a banned machine) happens before the first write, so a refused one
 * leaves the previous intact. An inventory whose hash is the stored one only moves dates.
 */
import type { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import type { Clock } from "../../clock.ts";
import { Conflict, Forbidden } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { Recorder } from "../history/service.ts";
import { isVirtualMac, normalizeMac, normalizeUuid, usableSerial } from "../machines/identity.ts";
import type { IncomingMachine, MachinesService } from "../machines/service.ts";
import { diffInventories, type Snapshot } from "./changes.ts";
import type { NormalizedInventory, Section } from "./normalized.ts";
import { inventoryWriteRepo, SECTIONS, type InventorySource } from "./write-repo.ts";

export interface ImportRequest {
  normalized: NormalizedInventory;
  /** The document to keep, GLPI-format JSON text (what was received, or FusionInventory's XML converted). */
  document: string;
  /** SHA-256 (hex) of the body as received, decompressed; computed from `document` when absent. */
  hash?: string;
  source: InventorySource;
  /** Who sent it, stored with the inventory: the GLPI/FusionInventory deviceid, or our agent's JID. */
  agentName: string;
  ip: string;
  /** Our agent's machine, known from its credentials: no identification. */
  knownMachineId?: number;
}

export interface ImportResult {
  machineId: number;
  hostname: string;
  created: boolean;
  /** The stored hash was the same: only the dates moved. */
  unchanged: boolean;
  changes: number;
  software: number;
}

const SOURCE_LABEL: Record<InventorySource, string> = { agent: "Medulla agent", fusioninventory: "FusionInventory", "glpi-agent": "GLPI agent", import: "import" };

export const sha256Hex = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

export function createInventoryImport(deps: { db: Database; clock: Clock; log: Logger; recorder: Recorder; machines: MachinesService; newMachineEntity?: () => number }) {
  const repo = inventoryWriteRepo(deps.db);
  /** Told after commit that a machine's inventory was stored (machine groups re-evaluate). */
  const stored: ((machineId: number) => void)[] = [];
  const tellStored = (machineId: number) => {
    for (const l of stored) l(machineId);
  };
  const countSoftware = deps.db.query("SELECT count(*) AS n FROM inv_software WHERE machine_id = $id");

  /**
   * The machine an inventory belongs to, or undefined when it is a new one. The deviceid
   * is the last resort, for machines with nothing else that identifies them (containers,
   * bare VMs): it is copied with a cloned VM's disk, so it never outranks the merge rule.
   */
  function target(req: ImportRequest, incoming: IncomingMachine): number | undefined {
    if (req.knownMachineId !== undefined) return req.knownMachineId;
    const found = deps.machines.identify(incoming);
    if (found) return found.machine.id;
    const device = req.normalized.identity.deviceId;
    if (!device || req.source === "agent" || hasIdentity(incoming)) return undefined;
    return repo.machineByDeviceId(device) ?? undefined;
  }

  function incomingOf(req: ImportRequest, isKnown: boolean): IncomingMachine {
    const n = req.normalized;
    const id = n.identity;
    return {
      // A document's own agent id is believed only when our agent's credentials came with it.
      agentId: req.source === "agent" && id.agentId ? id.agentId : undefined,
      // A partial inventory without <hardware> keeps the name the machine has.
      hostname: (n.hardware || !isKnown) ? id.hostname : "",
      // Blank identity never erases what enrollment or an earlier inventory knew.
      uuid: id.uuid || null,
      ...(id.serial && { manufacturer: id.manufacturer, serial: id.serial }),
      ...(id.macs.length && { macs: id.macs }),
      ...(n.networks && { ips: n.machine.ips }),
      ...(n.os && { os: n.machine.os, osName: n.machine.osName, osVersion: n.machine.osVersion, arch: n.machine.arch }),
      // Our agent reports who is logged in now over XMPP; others tell the last one.
      ...(n.hardware && req.source !== "agent" && { loggedUser: n.machine.lastUser }),
    };
  }

  /** The stored document: a partial inventory's parts laid over the previous document's. */
  function documentToStore(req: ImportRequest, machineId: number): string {
    if (!req.normalized.partial) return req.document;
    const previous = repo.document(machineId);
    if (!previous) return req.document;
    const old = JSON.parse(new TextDecoder().decode(Bun.gunzipSync(previous as Uint8Array<ArrayBuffer>))) as { content?: Record<string, unknown> };
    const doc = JSON.parse(req.document) as { content: Record<string, unknown>; partial?: unknown };
    delete doc.partial;
    return JSON.stringify({ ...doc, content: { ...old.content, ...doc.content } });
  }

  function record(machine: { id: number; hostname: string }, req: ImportRequest, changes: number | null, software: number) {
    const agent = req.normalized.agentVersion || SOURCE_LABEL[req.source];
    deps.recorder.record({
      module: "inventory", action: changes === null ? "inventory.history.first" : "inventory.history.received",
      params: { name: machine.hostname, agent, software, changes: changes ?? 0 },
      criterion: "inventory", who: req.agentName || agent, sourceIp: req.ip, target: { type: "machine", id: machine.id, name: machine.hostname },
    });
  }

  return {
    importInventory(req: ImportRequest): ImportResult {
      const hash = req.hash ?? sha256Hex(req.document);
      const now = deps.clock.now();
      const n = req.normalized;
      const result = deps.db.transaction((): ImportResult => {
        const probe = incomingOf(req, false);
        const known = target(req, probe);
        const existing = known !== undefined ? deps.machines.getById(known) : null;
        if (existing?.banned) throw new Forbidden();
        const previous = existing ? repo.find(existing.id) : null;
        if (existing && previous?.hash === hash) {
          repo.touch(existing.id, now);
          deps.machines.markInventoried(existing.id, now);
          return { machineId: existing.id, hostname: existing.hostname, created: false, unchanged: true, changes: 0, software: (countSoftware.get({ id: existing.id }) as { n: number }).n };
        }
        const { machine, created } = deps.machines.upsert(existing ? incomingOf(req, true) : probe, {
          source: req.source, ip: req.ip, knownId: existing?.id, entityId: deps.newMachineEntity?.() ?? 1,
        });
        const before: Snapshot = {};
        const after: Snapshot = {};
        for (const s of SECTIONS) {
          const rows = n[s] === undefined ? (n.partial ? undefined : []) : Array.isArray(n[s]) ? n[s] : [n[s]];
          if (rows === undefined) continue;
          const old = previous || existing ? repo.rows(s, machine.id) : undefined;
          if (previous) setSnapshot(before, s, old!);
          setSnapshot(after, s, rows as never[]);
          repo.replace(s, machine.id, rows as never[], old as never[] | undefined);
        }
        const changes = previous ? diffInventories(before, after) : [];
        repo.addChanges(machine.id, now, changes);
        const text = documentToStore(req, machine.id);
        const bytes = new TextEncoder().encode(text);
        repo.save({ id: machine.id, at: now, source: req.source, agentName: req.agentName.slice(0, 255), hash, document: Bun.gzipSync(bytes), size: bytes.length });
        deps.machines.markInventoried(machine.id, now);
        const software = n.software?.length ?? (countSoftware.get({ id: machine.id }) as { n: number }).n;
        record(machine, req, previous ? changes.length : null, software);
        return { machineId: machine.id, hostname: machine.hostname, created, unchanged: false, changes: changes.length, software };
      })();
      deps.log.info({ machine: result.machineId, source: req.source, agent: req.agentName, changes: result.changes, unchanged: result.unchanged, created: result.created }, "inventory stored");
      tellStored(result.machineId);
      return result;
    },

    /**
     * Our agent's inventory did not change since the one whose hash it names: only the dates
     * move. A hash that is not the stored one is a Conflict: the agent then sends it whole.
     */
    onStored(listener: (machineId: number) => void): void {
      stored.push(listener);
    },

    touchUnchanged(machineId: number, hash: string, ip: string): ImportResult {
      const now = deps.clock.now();
      const result = deps.db.transaction((): ImportResult => {
        const machine = deps.machines.getById(machineId);
        if (!machine) throw new Conflict("inventory.error.unknownHash");
        if (machine.banned) throw new Forbidden();
        const stored = repo.find(machineId);
        if (!stored || stored.hash !== hash.toLowerCase()) throw new Conflict("inventory.error.unknownHash");
        repo.touch(machineId, now);
        deps.machines.markInventoried(machineId, now);
        deps.log.info({ machine: machineId, ip }, "inventory unchanged");
        return { machineId, hostname: machine.hostname, created: false, unchanged: true, changes: 0, software: (countSoftware.get({ id: machineId }) as { n: number }).n };
      })();
      tellStored(machineId);
      return result;
    },
  };
}

/** Whether the merge rule has something to match on: a real UUID, a serial, a burnt-in MAC. */
function hasIdentity(m: IncomingMachine): boolean {
  return normalizeUuid(m.uuid) !== null || usableSerial(m.serial) !== null || (m.macs ?? []).some((mac) => !isVirtualMac(normalizeMac(mac) ?? "00:00:00:00:00:00"));
}

/** One section of a snapshot, from rows shaped like its table's. */
function setSnapshot(snap: Snapshot, section: Section, rows: unknown[]): void {
  if (section === "os" || section === "bios") (snap as Record<string, unknown>)[section] = rows[0] ?? null;
  else if (section !== "hardware" && section !== "users") (snap as Record<string, unknown>)[section] = rows;
}

export type InventoryImport = ReturnType<typeof createInventoryImport>;
