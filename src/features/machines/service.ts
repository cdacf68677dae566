/**
 * @module machines/service
 * The machines feature owns the machines table. Enrollment, presence, announcements,
 * inventory posts and PXE registration all come through `upsert`, which applies the one
 * merge rule (./identity.ts): a match updates, no match creates; a reimaged machine that
 * enrolls again keeps its record and its history. Presence comes from the agent channel;
 * every change is pushed to open pages as a live event.
 */
import type { Database } from "bun:sqlite";
import type { Clock } from "../../clock.ts";
import { Forbidden, NotFound } from "../../errors.ts";
import type { MachineFacts } from "../../protocol/actions.ts";
import type { EntitiesService, Viewer } from "../entities/service.ts";
import type { Recorder } from "../history/service.ts";
import { isVirtualMac, normalizeMac, normalizeUuid, usableSerial } from "./identity.ts";
import { machinesRepo, type ListFilter, type MachineRow, type SortKey } from "./repo.ts";

export interface IncomingMachine {
  agentId?: string | null;
  jid?: string | null;
  hostname: string;
  os?: string;
  osName?: string;
  osVersion?: string;
  arch?: string;
  uuid?: string | null;
  manufacturer?: string;
  serial?: string;
  macs?: string[];
  ips?: string[];
  loggedUser?: string;
  uptimeSeconds?: number;
  agentVersion?: string;
}

export type MatchedBy = "agent" | "uuid" | "serial" | "mac" | null;

export interface ListOptions {
  state?: "all" | "online" | "offline";
  entity?: number | null;
  search?: string;
  sort?: SortKey;
  desc?: boolean;
  after?: { v: string | number; id: number } | null;
  limit?: number;
  notInventoried?: boolean;
}

/** Called after a machine's state or facts changed: live pages refresh what they show. */
export type MachineListener = (machine: MachineRow, change: "created" | "updated" | "online" | "offline" | "deleted") => void;

export function createMachinesService(deps: { db: Database; clock: Clock; recorder: Recorder; entities: EntitiesService }) {
  const repo = machinesRepo(deps.db);
  const listeners: MachineListener[] = [];
  const emit = (m: MachineRow, change: Parameters<MachineListener>[1]) => {
    for (const l of listeners) l(m, change);
  };

  function identify(m: IncomingMachine): { machine: MachineRow; by: MatchedBy } | null {
    if (m.agentId) {
      const hit = repo.findByAgentId(m.agentId);
      if (hit) return { machine: hit, by: "agent" };
    }
    const uuid = normalizeUuid(m.uuid);
    if (uuid) {
      const hit = repo.findByUuid(uuid);
      if (hit) return { machine: hit, by: "uuid" };
    }
    const serial = usableSerial(m.serial);
    if (serial && m.manufacturer) {
      const hit = repo.findBySerial(m.manufacturer.trim(), serial);
      if (hit) return { machine: hit, by: "serial" };
    }
    for (const raw of m.macs ?? []) {
      const mac = normalizeMac(raw);
      if (!mac || isVirtualMac(mac)) continue;
      const hit = repo.findByMac(mac);
      if (hit) return { machine: hit, by: "mac" };
    }
    return null;
  }

  function mustSee(viewer: Viewer, id: number): MachineRow {
    const m = repo.find(id);
    if (!m) throw new NotFound();
    if (!deps.entities.visibleIds(viewer).has(m.entity_id)) throw new Forbidden();
    return m;
  }

  return {
    identify,
    onChange(listener: MachineListener) {
      listeners.push(listener);
    },

    /**
     * The one way in for a machine's identity and facts. `knownId` skips identification:
     * an agent authenticated by its account speaks for the machine that account belongs to.
     */
    upsert(incoming: IncomingMachine, opts: { entityId?: number; source: string; ip?: string; knownId?: number }): { machine: MachineRow; created: boolean; matchedBy: MatchedBy } {
      const now = deps.clock.now();
      const result = deps.db.transaction(() => {
        const known = opts.knownId !== undefined ? repo.find(opts.knownId) : null;
        const found = known ? { machine: known, by: "agent" as const } : identify(incoming);
        const id = found?.machine.id ?? repo.insert(incoming.hostname.slice(0, 255) || "?", opts.entityId ?? 1, now);
        const fields: Partial<MachineRow> = { hostname: incoming.hostname.slice(0, 255) || found?.machine.hostname || "?" };
        if (incoming.os !== undefined) fields.os = incoming.os;
        if (incoming.osName !== undefined) fields.os_name = incoming.osName;
        if (incoming.osVersion !== undefined) fields.os_version = incoming.osVersion;
        if (incoming.arch !== undefined) fields.arch = incoming.arch;
        const uuid = normalizeUuid(incoming.uuid);
        if (uuid) fields.smbios_uuid = uuid;
        if (incoming.manufacturer !== undefined) fields.manufacturer = incoming.manufacturer.trim();
        if (incoming.serial !== undefined) fields.serial = incoming.serial.trim();
        if (incoming.ips !== undefined) fields.ips = JSON.stringify(incoming.ips.slice(0, 64));
        if (incoming.loggedUser !== undefined) fields.logged_user = incoming.loggedUser;
        if (incoming.uptimeSeconds !== undefined) fields.uptime_seconds = incoming.uptimeSeconds;
        if (incoming.agentVersion !== undefined) fields.agent_version = incoming.agentVersion;
        if (incoming.agentId) {
          // An agent id belongs to one machine: a reinstalled agent moves it here.
          const holder = repo.findByAgentId(incoming.agentId);
          if (holder && holder.id !== id) repo.update(holder.id, { agent_id: null }, now);
          fields.agent_id = incoming.agentId;
        }
        if (incoming.jid) {
          const holder = repo.findByJid(incoming.jid);
          if (holder && holder.id !== id) repo.update(holder.id, { jid: null }, now);
          fields.jid = incoming.jid;
        }
        repo.update(id, fields, now);
        if (incoming.macs) {
          const macs = [...new Set(incoming.macs.map(normalizeMac).filter((m): m is string => m !== null))].slice(0, 64);
          repo.setMacs(id, macs.map((mac) => ({ mac, virtual: isVirtualMac(mac) })));
        }
        if (!found) {
          deps.recorder.record({ module: "inventory", action: "machines.history.created", params: { name: fields.hostname!, source: opts.source }, criterion: "newmachine", who: opts.source, sourceIp: opts.ip, target: { type: "machine", id, name: fields.hostname! } });
        }
        return { machine: repo.find(id)!, created: !found, matchedBy: found?.by ?? null };
      })();
      emit(result.machine, result.created ? "created" : "updated");
      return result;
    },

    /** Facts announced by an agent over the channel. */
    announce(jid: string, facts: MachineFacts, ip: string): MachineRow | null {
      const known = repo.findByJid(jid);
      if (!known) return null;
      const { machine } = this.upsert(
        { agentId: facts.agentId, jid, hostname: facts.hostname, os: facts.os, osName: facts.osName, osVersion: facts.osVersion, arch: facts.arch, uuid: facts.uuid, manufacturer: facts.manufacturer, serial: facts.serial, macs: facts.macs, ips: facts.ips, loggedUser: facts.loggedUser, uptimeSeconds: facts.uptimeSeconds, agentVersion: facts.agentVersion },
        { source: "agent", ip, knownId: known.id },
      );
      return machine;
    },

    presence(jid: string, online: boolean, ip: string): void {
      const id = repo.setOnline(jid, online, ip, deps.clock.now());
      if (id !== null) emit(repo.find(id)!, online ? "online" : "offline");
    },

    /** At start nothing is connected yet, whatever the table said when the server stopped. */
    resetPresence(): void {
      repo.allOffline();
    },

    list(viewer: Viewer, o: ListOptions = {}) {
      const limit = Math.min(Math.max(o.limit ?? 50, 1), 500);
      const filter: ListFilter = {
        entities: [...deps.entities.visibleIds(viewer)], state: o.state ?? "all", entity: o.entity ?? null, search: (o.search ?? "").trim().slice(0, 100),
        notInventoried: o.notInventoried ?? false, staleBefore: deps.clock.now() - 10 * 86_400_000, sort: o.sort ?? "hostname", desc: o.desc ?? false, after: o.after ?? null, limit: limit + 1,
      };
      const rows = repo.list(filter);
      return { items: rows.slice(0, limit), hasMore: rows.length > limit };
    },

    counts: (viewer: Viewer) => {
      const c = repo.counts([...deps.entities.visibleIds(viewer)]);
      return { online: c.online ?? 0, total: c.total };
    },
    get: (viewer: Viewer, id: number) => mustSee(viewer, id),
    getById: (id: number) => repo.find(id),
    findByJid: (jid: string) => repo.findByJid(jid),
    macs: (id: number) => repo.macs(id),

    setBanned(viewer: Viewer, id: number, banned: boolean, ip: string): MachineRow {
      const m = mustSee(viewer, id);
      repo.setBanned(id, banned, deps.clock.now());
      deps.recorder.record({ module: "machines", action: banned ? "machines.history.banned" : "machines.history.unbanned", params: { name: m.hostname }, criterion: "machine", userId: viewer.id, userLogin: viewer.login, sourceIp: ip, target: { type: "machine", id, name: m.hostname } });
      const after = repo.find(id)!;
      emit(after, "updated");
      return after;
    },

    remove(viewer: Viewer, id: number, ip: string): MachineRow {
      const m = mustSee(viewer, id);
      deps.db.transaction(() => {
        repo.remove(id);
        deps.recorder.record({ module: "machines", action: "machines.history.deleted", params: { name: m.hostname }, criterion: "machine", userId: viewer.id, userLogin: viewer.login, sourceIp: ip, target: { type: "machine", id, name: m.hostname } });
      })();
      emit(m, "deleted");
      return m;
    },

    /** The machine's XMPP account, issued at enrollment (one JID, one machine). */
    bindJid(id: number, jid: string): void {
      const now = deps.clock.now();
      deps.db.transaction(() => {
        const holder = repo.findByJid(jid);
        if (holder && holder.id !== id) repo.update(holder.id, { jid: null }, now);
        repo.update(id, { jid }, now);
      })();
    },

    countInEntity: (entityId: number) => repo.countInEntity(entityId),

    markInventoried(id: number, at: number): void {
      repo.update(id, { inventoried_at: at }, deps.clock.now());
    },
  };
}

export type MachinesService = ReturnType<typeof createMachinesService>;
