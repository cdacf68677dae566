/**
 * @module netboot/service
 * Network boot's data (SPEC I3, I4, I10, I7's network part): boot services, the default
 * menu (and a machine's own menu when it has one), the network-boot settings kept in the
 * settings table (a value a flag or variable sets wins and is shown locked, DESIGN.md
 * "Configuration contract"), the log of boot requests, and the registration of unknown
 * machines through the machines service. Admin changes are recorded in the history
 * (module "imaging"); so are menus served, registrations and TFTP transfers.
 */
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../clock.ts";
import { Invalid, NotFound, type FieldErrors } from "../../errors.ts";
import type { Recorder } from "../history/service.ts";
import type { Viewer } from "../entities/service.ts";
import type { MachinesService } from "../machines/service.ts";
import { normalizeMac, normalizeUuid } from "../machines/identity.ts";

export interface BootServiceRow {
  id: number;
  code: string;
  label: string;
  description: string;
  script: string;
  builtin: number;
  enabled: number;
  position: number;
  requires: string;
  created_at: number;
  updated_at: number;
}

export interface BootMenuRow {
  id: number;
  machine_id: number | null;
  default_service: string;
  wol_service: string;
  wol_window_minutes: number;
  timeout_seconds: number;
  hidden: number;
  updated_at: number;
}

export interface BootRequestRow {
  id: number;
  at: number;
  kind: "dhcp" | "tftp" | "menu" | "register" | "file";
  mac: string;
  ip: string;
  arch: string;
  what: string;
  outcome: string;
  detail: string;
  machine_id: number | null;
  hostname?: string | null;
}

/** What the configuration (flags, variables) says; a non-null value locks the page's field. */
export interface BootEnvironment {
  /** data/tftp, or null when the appliance runs without a data directory (in-process tests). */
  tftpRoot: string | null;
  httpPort: number;
  tftpPort: number;
  proxyDhcp: boolean | null;
  bootAddress: string | null;
}

export interface NetbootSettings {
  serverAddress: string;
  nextServer: string;
  proxyDhcp: boolean;
}

export interface EffectiveSettings extends NetbootSettings {
  locked: { serverAddress: boolean; proxyDhcp: boolean };
  /** The address actually used: the setting, else guessed from the host's interfaces. */
  address: string;
  guessed: boolean;
  /** http://<address>:<http port>, what iPXE is sent to; null when plain HTTP is off. */
  bootUrl: string | null;
}

/** Files the setup copies from Debian's `ipxe` package into data/tftp. */
export const IPXE_FILES = ["undionly.kpxe", "snponly.efi", "ipxe.efi", "ipxe.pxe", "ipxe.lkrn"] as const;
export const IPXE_SOURCE = "/usr/lib/ipxe";
const LOG_KEEP = 5000;

/** Records the appliance's own wake-ups: the WOL feature provides it; until then, none. */
export type RecentWake = (mac: string, withinMs: number) => boolean;

function firstAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return null;
}

export function createNetbootService(deps: { db: Database; clock: Clock; recorder: Recorder; machines: MachinesService; env: BootEnvironment; recentWake?: RecentWake }) {
  const { db } = deps;
  const q = {
    services: db.query("SELECT * FROM boot_services ORDER BY position, id"),
    service: db.query("SELECT * FROM boot_services WHERE id = ?1"),
    serviceByCode: db.query("SELECT * FROM boot_services WHERE code = ?1"),
    menuFor: db.query("SELECT * FROM boot_menus WHERE machine_id = ?1"),
    defaultMenu: db.query("SELECT * FROM boot_menus WHERE machine_id IS NULL"),
    getSetting: db.query("SELECT value FROM settings WHERE key = ?1"),
    setSetting: db.query("INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO UPDATE SET value = ?2, updated_at = ?3"),
    log: db.query("INSERT INTO boot_requests (at, kind, mac, ip, arch, what, outcome, detail, machine_id) VALUES ($at, $kind, $mac, $ip, $arch, $what, $outcome, $detail, $machine) RETURNING id"),
    prune: db.query("DELETE FROM boot_requests WHERE id <= ?1"),
    recent: db.query("SELECT r.*, m.hostname FROM boot_requests r LEFT JOIN machines m ON m.id = r.machine_id ORDER BY r.id DESC LIMIT ?1"),
    machineByMac: db.query("SELECT machine_id AS id FROM machine_macs WHERE mac = ?1 ORDER BY machine_id LIMIT 1"),
  };
  const logListeners: ((row: BootRequestRow) => void)[] = [];
  const setting = (key: string) => (q.getSetting.get(key) as { value: string } | null)?.value ?? null;
  let logCount = 0;

  function settings(): EffectiveSettings {
    const env = deps.env;
    const stored = setting("netboot.serverAddress") ?? "";
    const serverAddress = env.bootAddress ?? stored;
    const guess = serverAddress || firstAddress() || "127.0.0.1";
    const nextServer = setting("netboot.nextServer") ?? "";
    const proxyStored = setting("netboot.proxyDhcp");
    const proxyDhcp = env.proxyDhcp ?? proxyStored === "on";
    return {
      serverAddress, nextServer, proxyDhcp,
      locked: { serverAddress: env.bootAddress !== null, proxyDhcp: env.proxyDhcp !== null },
      address: guess, guessed: !serverAddress,
      bootUrl: env.httpPort > 0 ? `http://${guess}:${env.httpPort}` : null,
    };
  }

  function fileExists(name: string): boolean {
    return deps.env.tftpRoot !== null && existsSync(join(deps.env.tftpRoot, name));
  }

  /** Whether a service's required files are there (memtest is offered only when shipped). */
  const available = (s: BootServiceRow) => s.requires === "" || s.requires.split("|").some(fileExists);

  const allServices = () => q.services.all() as BootServiceRow[];

  function log(entry: Omit<BootRequestRow, "id" | "at" | "hostname"> & { at?: number }): void {
    const row = q.log.get({
      at: entry.at ?? deps.clock.now(), kind: entry.kind, mac: entry.mac.slice(0, 17), ip: entry.ip.slice(0, 45), arch: entry.arch.slice(0, 40),
      what: entry.what.slice(0, 300), outcome: entry.outcome.slice(0, 40), detail: entry.detail.slice(0, 300), machine: entry.machine_id,
    }) as { id: number };
    if (++logCount % 500 === 0) q.prune.run(row.id - LOG_KEEP);
    const full = { ...entry, id: row.id, at: entry.at ?? deps.clock.now(), hostname: null } as BootRequestRow;
    for (const l of logListeners) {
      try {
        l(full);
      } catch {
        // a live page problem never stops boot
      }
    }
  }

  const machineIdByMac = (mac: string): number | null => {
    const m = normalizeMac(mac);
    return m ? ((q.machineByMac.get(m) as { id: number } | null)?.id ?? null) : null;
  };

  const audit = (viewer: Viewer, ip: string, action: Parameters<Recorder["record"]>[0]["action"], params: Record<string, string | number>) =>
    deps.recorder.record({ module: "imaging", action, params, criterion: "user", userId: viewer.id, userLogin: viewer.login, sourceIp: ip });

  function validateService(input: { label: unknown; description: unknown; script: unknown }, builtin: boolean): { label: string; description: string; script: string } {
    const errors: FieldErrors = {};
    const label = typeof input.label === "string" ? input.label.trim() : "";
    const description = typeof input.description === "string" ? input.description.trim() : "";
    const script = typeof input.script === "string" ? input.script.replace(/\r\n?/g, "\n").trim() : "";
    if (!builtin && label === "") errors.label = "error.field.required";
    if (label.length > 60) errors.label = "error.field.tooLong";
    if (/[${}#"\\]/.test(label)) errors.label = "netboot.error.labelChars";
    if (description.length > 300) errors.description = "error.field.tooLong";
    if (script === "") errors.script = "error.field.required";
    if (script.length > 4000) errors.script = "error.field.tooLong";
    if (Object.keys(errors).length) throw new Invalid(errors);
    return { label, description, script };
  }

  return {
    env: deps.env,
    settings,
    fileExists,
    available,
    services: allServices,
    service(id: number): BootServiceRow {
      const row = q.service.get(id) as BootServiceRow | null;
      if (!row) throw new NotFound();
      return row;
    },
    /** Enabled entries whose files are present, in menu order. */
    menuServices: () => allServices().filter((s) => s.enabled === 1 && available(s)),

    setEnabled(viewer: Viewer, id: number, enabled: boolean, ip: string): BootServiceRow {
      const s = this.service(id);
      db.query("UPDATE boot_services SET enabled = ?2, updated_at = ?3 WHERE id = ?1").run(id, enabled ? 1 : 0, deps.clock.now());
      audit(viewer, ip, enabled ? "netboot.history.serviceEnabled" : "netboot.history.serviceDisabled", { name: s.label || s.code });
      return this.service(id);
    },

    saveService(viewer: Viewer, id: number | null, input: { label: unknown; description: unknown; script: unknown; position: unknown }, ip: string): BootServiceRow {
      const existing = id === null ? null : this.service(id);
      const v = validateService(input, existing?.builtin === 1);
      const position = typeof input.position === "string" && /^\d{1,4}$/.test(input.position) ? Number(input.position) : (existing?.position ?? 100);
      const now = deps.clock.now();
      let newId = id;
      if (existing) {
        db.query("UPDATE boot_services SET label = ?2, description = ?3, script = ?4, position = ?5, updated_at = ?6 WHERE id = ?1").run(existing.id, v.label, v.description, v.script, position, now);
      } else {
        const row = db.query("INSERT INTO boot_services (code, label, description, script, builtin, enabled, position, created_at, updated_at) VALUES ('new', ?1, ?2, ?3, 0, 1, ?4, ?5, ?5) RETURNING id").get(v.label, v.description, v.script, position, now) as { id: number };
        db.query("UPDATE boot_services SET code = 'custom-' || id WHERE id = ?1").run(row.id);
        newId = row.id;
      }
      audit(viewer, ip, existing ? "netboot.history.serviceSaved" : "netboot.history.serviceCreated", { name: v.label || existing?.code || "" });
      return this.service(newId!);
    },

    removeService(viewer: Viewer, id: number, ip: string): void {
      const s = this.service(id);
      if (s.builtin === 1) throw new Invalid({ service: "netboot.error.builtin" });
      db.query("DELETE FROM boot_services WHERE id = ?1").run(id);
      audit(viewer, ip, "netboot.history.serviceDeleted", { name: s.label || s.code });
    },

    defaultMenu: () => q.defaultMenu.get() as BootMenuRow,
    menuOf: (machineId: number | null) => (machineId === null ? null : (q.menuFor.get(machineId) as BootMenuRow | null)) ?? (q.defaultMenu.get() as BootMenuRow),

    saveDefaultMenu(viewer: Viewer, input: { defaultService: unknown; wolService: unknown; timeout: unknown; wolWindow: unknown; hidden: unknown }, ip: string): BootMenuRow {
      return this.saveMenu(viewer, null, input, ip);
    },

    /** Saves the default menu (machine null) or a machine's own menu (created on first save). */
    saveMenu(viewer: Viewer, machine: { id: number; hostname: string } | null, input: { defaultService: unknown; wolService: unknown; timeout: unknown; wolWindow: unknown; hidden: unknown }, ip: string): BootMenuRow {
      const codes = new Set(allServices().map((s) => s.code));
      const errors: FieldErrors = {};
      const str = (v: unknown) => (typeof v === "string" ? v.trim() : "");
      const def = str(input.defaultService);
      const wol = str(input.wolService);
      const timeout = Number(str(input.timeout));
      const window = Number(str(input.wolWindow));
      if (!codes.has(def)) errors.defaultService = "netboot.error.service";
      if (!codes.has(wol)) errors.wolService = "netboot.error.service";
      if (!/^\d{1,4}$/.test(str(input.timeout)) || timeout > 3600) errors.timeout = "netboot.error.timeout";
      if (!/^\d{1,4}$/.test(str(input.wolWindow)) || window < 1 || window > 1440) errors.wolWindow = "netboot.error.wolWindow";
      if (Object.keys(errors).length) throw new Invalid(errors);
      const hidden = input.hidden === "on" || input.hidden === true ? 1 : 0;
      if (machine === null) {
        db.query("UPDATE boot_menus SET default_service = ?1, wol_service = ?2, timeout_seconds = ?3, wol_window_minutes = ?4, hidden = ?5, updated_at = ?6 WHERE machine_id IS NULL").run(def, wol, timeout, window, hidden, deps.clock.now());
        audit(viewer, ip, "netboot.history.menuSaved", { service: def, wol, timeout });
        return this.defaultMenu();
      }
      db.query(
        `INSERT INTO boot_menus (machine_id, default_service, wol_service, timeout_seconds, wol_window_minutes, hidden, updated_at) VALUES (?7, ?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (machine_id) DO UPDATE SET default_service = ?1, wol_service = ?2, timeout_seconds = ?3, wol_window_minutes = ?4, hidden = ?5, updated_at = ?6`,
      ).run(def, wol, timeout, window, hidden, deps.clock.now(), machine.id);
      audit(viewer, ip, "netboot.history.machineMenuSaved", { name: machine.hostname, service: def, wol, timeout });
      return q.menuFor.get(machine.id) as BootMenuRow;
    },

    /** A machine's own menu, or null when it follows the default one. */
    ownMenu: (machineId: number) => q.menuFor.get(machineId) as BootMenuRow | null,

    /** Back to the default menu. */
    dropMenu(viewer: Viewer, machine: { id: number; hostname: string }, ip: string): void {
      db.query("DELETE FROM boot_menus WHERE machine_id = ?1").run(machine.id);
      audit(viewer, ip, "netboot.history.machineMenuDropped", { name: machine.hostname });
    },

    saveSettings(viewer: Viewer, input: { serverAddress: unknown; nextServer: unknown; proxyDhcp: unknown }, ip: string): EffectiveSettings {
      const errors: FieldErrors = {};
      const str = (v: unknown) => (typeof v === "string" ? v.trim() : "");
      const current = settings();
      const server = current.locked.serverAddress ? current.serverAddress : str(input.serverAddress);
      const next = str(input.nextServer);
      if (server !== "" && isIP(server) !== 4) errors.serverAddress = "netboot.error.ipv4";
      if (next !== "" && isIP(next) !== 4) errors.nextServer = "netboot.error.ipv4";
      if (Object.keys(errors).length) throw new Invalid(errors);
      const now = deps.clock.now();
      db.transaction(() => {
        if (!current.locked.serverAddress) q.setSetting.run("netboot.serverAddress", server, now);
        q.setSetting.run("netboot.nextServer", next, now);
        if (!current.locked.proxyDhcp) q.setSetting.run("netboot.proxyDhcp", input.proxyDhcp === "on" || input.proxyDhcp === true ? "on" : "off", now);
      })();
      const after = settings();
      audit(viewer, ip, "netboot.history.settingsSaved", { address: after.serverAddress || "-", nextServer: after.nextServer || "-", proxy: after.proxyDhcp ? "on" : "off" });
      return after;
    },

    /** The appliance woke this MAC within the menu's window (I4). */
    woke(mac: string, menu: BootMenuRow): boolean {
      try {
        return deps.recentWake?.(mac, menu.wol_window_minutes * 60_000) ?? false;
      } catch {
        return false;
      }
    },

    /** The machine a boot client is, by UUID then by MAC (the machines merge rule). */
    identify(mac: string, uuid: string) {
      const m = normalizeMac(mac);
      const found = deps.machines.identify({ hostname: "", uuid: normalizeUuid(uuid), macs: m ? [m] : [] });
      return found?.machine ?? null;
    },

    /** Registers a machine that PXE-booted (I10), through the machines service's one merge rule. */
    register(input: { mac: string; uuid: string; name: string; entityId: number; arch: string; ip: string }) {
      const mac = normalizeMac(input.mac);
      if (!mac) throw new Invalid({ mac: "netboot.error.mac" });
      const name = input.name.trim().replace(/[^\w.-]/g, "-").slice(0, 63);
      if (!name) throw new Invalid({ name: "error.field.required" });
      const result = deps.machines.upsert({ hostname: name, uuid: normalizeUuid(input.uuid), macs: [mac], ips: input.ip ? [input.ip] : undefined, arch: input.arch || undefined }, { entityId: input.entityId, source: "pxe", ip: input.ip });
      deps.recorder.record({ module: "imaging", action: "netboot.history.registered", params: { name, mac }, criterion: "newmachine", who: name, sourceIp: input.ip, target: { type: "machine", id: result.machine.id, name } });
      return result;
    },

    log,
    machineIdByMac,
    onLog(listener: (row: BootRequestRow) => void) {
      logListeners.push(listener);
    },
    recentRequests: (limit = 100) => q.recent.all(Math.min(Math.max(limit, 1), 500)) as BootRequestRow[],
  };
}

export type NetbootService = ReturnType<typeof createNetbootService>;
