/**
 * @module inventory/changes
 * What changed between a machine's previous inventory and the new one, as rows of
 * `inv_changes` (pure). Per section, what is compared, and how an item is named:
 * - software: by name and architecture; a version set that differs is a change;
 * - disks: by serial (else name); model or size;
 * - partitions: by mount point (else device); filesystem, or a total size that moved by
 *   5 % or more (free space moves every day and is not history);
 * - memories: by slot, installed modules only; capacity, type or serial;
 * - cpus: by position; name, cores or threads;
 * - networks: by interface name, physical ones only (bridges and veths come and go); MAC
 *   and the set of addresses;
 * - os: name, version and service pack as one item, the kernel as another;
 * - bios: version and date.
 * Only sections the new inventory carries are compared (a partial one carries some).
 */
import type { BiosRow, ChangeRow, CpuRow, DiskRow, MemoryRow, NetworkRow, OsRow, PartitionRow, Section, SoftwareRow } from "./normalized.ts";

export interface Snapshot {
  os?: OsRow | null;
  bios?: BiosRow | null;
  cpus?: CpuRow[];
  memories?: MemoryRow[];
  disks?: DiskRow[];
  partitions?: PartitionRow[];
  networks?: NetworkRow[];
  software?: SoftwareRow[];
}

/** A partition's total size must move by this fraction to count as a change. */
export const PARTITION_THRESHOLD = 0.05;

const cut = (s: string) => (s.length > 255 ? `${s.slice(0, 254)}…` : s);
const mb = (n: number | null) => (n === null ? "" : `${n} MB`);
const words = (...parts: (string | number | null | undefined | false)[]) => parts.filter((p) => p !== null && p !== undefined && p !== false && p !== "").join(" ");

/** Compares two keyed collections; `describe` is what before/after show, `same` decides "changed". */
function keyed<T>(
  section: Section, before: T[], after: T[], key: (x: T, i: number) => string, item: (x: T) => string,
  describe: (x: T) => string, same: (a: T, b: T) => boolean = (a, b) => describe(a) === describe(b),
): ChangeRow[] {
  // Two items with the same key (two slots both called "System Board Memory") are told apart by their rank.
  const index = (rows: T[]) => {
    const seen = new Map<string, number>();
    return new Map(rows.map((x, i) => {
      const k = key(x, i);
      const n = seen.get(k) ?? 0;
      seen.set(k, n + 1);
      return [`${k}\u0000${n}`, x] as const;
    }));
  };
  const old = index(before);
  const now = index(after);
  const out: ChangeRow[] = [];
  for (const [k, x] of now) {
    const was = old.get(k);
    if (!was) out.push({ section, change: "added", item: cut(item(x)), before: "", after: cut(describe(x)) });
    else if (!same(was, x)) out.push({ section, change: "changed", item: cut(item(x)), before: cut(describe(was)), after: cut(describe(x)) });
  }
  for (const [k, x] of old) if (!now.has(k)) out.push({ section, change: "removed", item: cut(item(x)), before: cut(describe(x)), after: "" });
  return out;
}

function software(before: SoftwareRow[], after: SoftwareRow[]): ChangeRow[] {
  const group = (rows: SoftwareRow[]) => {
    const m = new Map<string, { name: string; versions: Set<string> }>();
    for (const s of rows) {
      const k = `${s.name.toLowerCase()}\u0000${s.arch}`;
      const g = m.get(k) ?? { name: s.name, versions: new Set<string>() };
      g.versions.add(s.version);
      m.set(k, g);
    }
    return [...m].map(([k, g]) => ({ k, name: g.name, versions: [...g.versions].sort().join(", ") }));
  };
  return keyed("software", group(before), group(after), (g) => g.k, (g) => g.name, (g) => g.versions).sort((a, b) => a.item.localeCompare(b.item));
}

function networks(before: NetworkRow[], after: NetworkRow[]): ChangeRow[] {
  const group = (rows: NetworkRow[]) => {
    const m = new Map<string, { name: string; mac: string; ips: Set<string> }>();
    for (const n of rows) {
      if (n.is_virtual || n.type === "loopback") continue;
      const g = m.get(n.description) ?? { name: n.description, mac: n.mac, ips: new Set<string>() };
      if (n.ip) g.ips.add(n.ip);
      m.set(n.description, g);
    }
    return [...m.values()].map((g) => ({ name: g.name, mac: g.mac, ips: [...g.ips].sort().join(", ") }));
  };
  const old = new Map(group(before).map((g) => [g.name, g]));
  const out: ChangeRow[] = [];
  for (const g of group(after)) {
    const was = old.get(g.name);
    old.delete(g.name);
    if (!was) out.push({ section: "networks", change: "added", item: cut(g.name), before: "", after: cut(words(g.mac, g.ips)) });
    else {
      if (was.mac !== g.mac) out.push({ section: "networks", change: "changed", item: cut(`${g.name} MAC`), before: was.mac, after: g.mac });
      if (was.ips !== g.ips) out.push({ section: "networks", change: "changed", item: cut(`${g.name} IP`), before: cut(was.ips), after: cut(g.ips) });
    }
  }
  for (const g of old.values()) out.push({ section: "networks", change: "removed", item: cut(g.name), before: cut(words(g.mac, g.ips)), after: "" });
  return out;
}

function single<T>(section: Section, before: T | null | undefined, after: T | null | undefined, items: [string, (x: T) => string][]): ChangeRow[] {
  if (!before || !after) return [];
  return items
    .filter(([, read]) => read(before) !== read(after))
    .map(([item, read]) => ({ section, change: "changed" as const, item, before: cut(read(before)), after: cut(read(after)) }));
}

/** The change rows from `before` to `after`, in a stable order (section, then item). */
export function diffInventories(before: Snapshot, after: Snapshot): ChangeRow[] {
  const out: ChangeRow[] = [];
  if (after.os !== undefined) {
    out.push(...single("os", before.os, after.os, [["version", (o) => words(o.full_name || o.name, o.version, o.service_pack)], ["kernel", (o) => o.kernel]]));
  }
  if (after.bios !== undefined) out.push(...single("bios", before.bios, after.bios, [["version", (b) => words(b.bios_version, b.bios_date && `(${b.bios_date})`)]]));
  if (after.cpus) {
    out.push(...keyed("cpus", before.cpus ?? [], after.cpus, (_c, i) => String(i), (c) => c.name || "CPU", (c) => words(c.name, c.cores !== null && `${c.cores}C`, c.threads !== null && `${c.threads}T`)));
  }
  if (after.memories) {
    const installed = (rows: MemoryRow[]) => rows.filter((m) => m.capacity_mb);
    out.push(...keyed("memories", installed(before.memories ?? []), installed(after.memories), (m, i) => m.slot || String(i), (m) => m.slot, (m) => words(mb(m.capacity_mb), m.type, m.serial)));
  }
  if (after.disks) {
    out.push(...keyed("disks", before.disks ?? [], after.disks, (d) => d.serial || d.name, (d) => d.name || d.model, (d) => words(d.model, mb(d.size_mb))));
  }
  if (after.partitions) {
    const moved = (a: number | null, b: number | null) => a !== b && (a === null || b === null || Math.abs(a - b) >= PARTITION_THRESHOLD * Math.max(a, b));
    out.push(...keyed("partitions", before.partitions ?? [], after.partitions, (p) => p.mount || p.device, (p) => p.mount || p.device, (p) => words(p.filesystem, mb(p.total_mb)), (a, b) => a.filesystem === b.filesystem && !moved(a.total_mb, b.total_mb)));
  }
  if (after.networks) out.push(...networks(before.networks ?? [], after.networks));
  if (after.software) out.push(...software(before.software ?? [], after.software));
  return out;
}
