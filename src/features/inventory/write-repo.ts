/**
 * @module inventory/write-repo
 * SQL of the import: the stored document of each machine (`inventories`), its normalised
 * parts (`inv_*`, replaced section by section) and its change history (`inv_changes`).
 * Column lists are the normalised row types' keys, so a row goes in as it is. Replacing a
 * section writes only the rows that differ: an unchanged row keeps its id, and a daily
 * inventory that changed little rewrites little (each software row written touches a page
 * of the fleet-wide name index, the bulk of an import's cost).
 */
import type { Database } from "bun:sqlite";
import type { BiosRow, ChangeRow, CpuRow, DiskRow, HardwareRow, MemoryRow, NetworkRow, OsRow, PartitionRow, Section, SoftwareRow, UserRow } from "./normalized.ts";

export type InventorySource = "agent" | "fusioninventory" | "glpi-agent" | "import";

export interface StoredInventory {
  machine_id: number;
  received_at: number;
  source: InventorySource;
  agent_name: string;
  hash: string;
  size: number;
}

interface Rows {
  os: OsRow;
  hardware: HardwareRow;
  bios: BiosRow;
  cpus: CpuRow;
  memories: MemoryRow;
  disks: DiskRow;
  partitions: PartitionRow;
  networks: NetworkRow;
  software: SoftwareRow;
  users: UserRow;
}

const COLUMNS: { [S in Section]: { table: string; columns: (keyof Rows[S])[] } } = {
  os: { table: "inv_os", columns: ["name", "version", "full_name", "kernel", "arch", "service_pack", "install_date", "timezone"] },
  hardware: { table: "inv_hardware", columns: ["name", "chassis", "memory_mb", "workgroup", "last_user", "uuid"] },
  bios: { table: "inv_bios", columns: ["manufacturer", "model", "serial", "bios_vendor", "bios_version", "bios_date", "board_serial", "asset_tag"] },
  cpus: { table: "inv_cpus", columns: ["name", "manufacturer", "arch", "cores", "threads", "speed_mhz"] },
  memories: { table: "inv_memories", columns: ["slot", "capacity_mb", "type", "speed_mhz", "manufacturer", "serial"] },
  disks: { table: "inv_disks", columns: ["name", "model", "manufacturer", "serial", "interface", "type", "size_mb"] },
  partitions: { table: "inv_partitions", columns: ["mount", "device", "filesystem", "label", "total_mb", "free_mb"] },
  networks: { table: "inv_networks", columns: ["description", "mac", "ip", "netmask", "gateway", "subnet", "type", "is_virtual", "speed_mbps", "status"] },
  software: { table: "inv_software", columns: ["name", "version", "version_key", "publisher", "arch", "source", "install_date", "size_kb"] },
  users: { table: "inv_users", columns: ["login", "domain"] },
};

export const SECTIONS = Object.keys(COLUMNS) as Section[];

export function inventoryWriteRepo(db: Database) {
  const q = {
    find: db.query("SELECT machine_id, received_at, source, agent_name, hash, size FROM inventories WHERE machine_id = $id"),
    document: db.query("SELECT document FROM inventories WHERE machine_id = $id"),
    byDevice: db.query("SELECT machine_id FROM inventories WHERE agent_name = $deviceId AND source IN ('fusioninventory', 'glpi-agent') ORDER BY received_at DESC LIMIT 1"),
    save: db.query(
      `INSERT INTO inventories (machine_id, received_at, source, agent_name, hash, document, size) VALUES ($id, $at, $source, $agentName, $hash, $document, $size)
       ON CONFLICT (machine_id) DO UPDATE SET received_at = $at, source = $source, agent_name = $agentName, hash = $hash, document = $document, size = $size`,
    ),
    touch: db.query("UPDATE inventories SET received_at = $at WHERE machine_id = $id"),
    change: db.query("INSERT INTO inv_changes (machine_id, at, section, change, item, before, after) VALUES ($id, $at, $section, $change, $item, $before, $after)"),
  };
  const sections = Object.fromEntries(
    SECTIONS.map((s) => {
      const { table, columns } = COLUMNS[s];
      const cols = columns as string[];
      return [s, {
        select: db.query(`SELECT ${table === "inv_os" || table === "inv_hardware" || table === "inv_bios" ? "machine_id AS id" : "id"}, ${cols.join(", ")} FROM ${table} WHERE machine_id = $id ORDER BY id`),
        clear: db.query(`DELETE FROM ${table} WHERE machine_id = $id`),
        remove: db.query(`DELETE FROM ${table} WHERE ${table === "inv_os" || table === "inv_hardware" || table === "inv_bios" ? "machine_id" : "id"} = $id`),
        insert: db.query(`INSERT INTO ${table} (machine_id, ${cols.join(", ")}) VALUES ($machine_id, ${cols.map((c) => `$${c}`).join(", ")})`),
      }];
    }),
  ) as Record<Section, Record<"select" | "clear" | "remove" | "insert", ReturnType<Database["query"]>>>;
  const keyOf = (section: Section, row: object) => JSON.stringify(COLUMNS[section].columns.map((c) => (row as Record<string, unknown>)[c as string]));

  return {
    find: (id: number) => q.find.get({ id }) as StoredInventory | null,
    document: (id: number) => (q.document.get({ id }) as { document: Uint8Array } | null)?.document ?? null,
    machineByDeviceId: (deviceId: string) => (q.byDevice.get({ deviceId }) as { machine_id: number } | null)?.machine_id ?? null,
    save: (v: { id: number; at: number; source: InventorySource; agentName: string; hash: string; document: Uint8Array; size: number }) => q.save.run(v),
    touch: (id: number, at: number) => q.touch.run({ id, at }),
    /** The machine's rows of a section, each with its row id. */
    rows<S extends Section>(section: S, id: number): (Rows[S] & { id: number })[] {
      return sections[section].select.all({ id }) as (Rows[S] & { id: number })[];
    },
    /** Makes the machine's rows of `section` be `rows`; `previous` (from `rows`) lets unchanged rows stay. */
    replace<S extends Section>(section: S, id: number, rows: readonly Rows[S][], previous?: readonly (Rows[S] & { id: number })[]): void {
      const st = sections[section];
      let added: readonly Rows[S][] = rows;
      if (previous === undefined) st.clear.run({ id });
      else {
        const kept = new Map<string, number[]>();
        for (const old of previous) kept.set(keyOf(section, old), [...(kept.get(keyOf(section, old)) ?? []), old.id]);
        added = rows.filter((row) => {
          const ids = kept.get(keyOf(section, row));
          return !ids?.pop();
        });
        for (const ids of kept.values()) for (const rowId of ids) st.remove.run({ id: rowId });
      }
      for (const row of added) st.insert.run({ ...(row as unknown as Record<string, string | number | null>), machine_id: id });
    },
    addChanges(id: number, at: number, rows: ChangeRow[]): void {
      for (const r of rows) q.change.run({ id, at, ...r });
    },
  };
}

export type InventoryWriteRepo = ReturnType<typeof inventoryWriteRepo>;
