/**
 * @module inventory/glpi
 * The GLPI inventory format (glpi-project/inventory_format), as far as we store it: the
 * TypeBox schema of the parts that become rows (`hardware`, `operatingsystem`, `bios`,
 * `cpus`, `memories`, `storages`, `drives`, `networks`, `softwares`, `users`), checked
 * compiled; every other part (`antivirus`, `batteries`, `monitors`, `printers`,
 * `local_users`, unknown ones) is kept in the stored document as received. Real agents
 * disagree on scalar types (FusionInventory's numbers are strings, GLPI's network speed
 * is a string), so a scalar field takes any scalar and `normalize` reads it; what is
 * refused is a wrong shape (an object where a list belongs, a list where text belongs).
 * `parseGlpiJson` turns bytes into a checked document; `normalize` is pure.
 */
import { Type, type Static, type TObject, type TOptional, type TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ValueErrorType } from "@sinclair/typebox/errors";
import { normalizeMac } from "../machines/identity.ts";
import {
  InventoryError, LIMITS, versionKey, type BiosRow, type CpuRow, type DiskRow, type HardwareRow, type MemoryRow, type NetworkRow,
  type NormalizedInventory, type OsRow, type PartitionRow, type SoftwareRow, type UserRow,
} from "./normalized.ts";

const Scalar = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);
type Scalar = Static<typeof Scalar>;

/** An object of optional scalar fields (and optional `extra` ones) that may carry more fields than we read. */
function Part<K extends string, E extends Record<string, TSchema> = {}>(fields: readonly K[], extra?: E) {
  const props: Record<string, TSchema> = {};
  for (const f of fields) props[f] = Type.Optional(Scalar);
  for (const [k, v] of Object.entries(extra ?? {})) props[k] = Type.Optional(v);
  return Type.Object(props, { additionalProperties: true }) as unknown as TObject<{ [P in K]: TOptional<typeof Scalar> } & { [P in keyof E]: TOptional<E[P]> }>;
}

const List = <T extends TSchema>(item: T, maxItems: number) => Type.Optional(Type.Array(item, { maxItems }));

export const GlpiContent = Type.Object(
  {
    hardware: Type.Optional(Part(["name", "chassis_type", "memory", "workgroup", "lastloggeduser", "uuid", "vmsystem"] as const)),
    operatingsystem: Type.Optional(
      Part(["name", "version", "full_name", "kernel_name", "kernel_version", "arch", "service_pack", "install_date", "fqdn"] as const, {
        timezone: Type.Union([Scalar, Part(["name", "offset"] as const)]),
      }),
    ),
    bios: Type.Optional(Part(["smanufacturer", "smodel", "ssn", "bmanufacturer", "bversion", "bdate", "msn", "assettag"] as const)),
    cpus: List(Part(["name", "manufacturer", "arch", "core", "corecount", "thread", "speed"] as const), LIMITS.cpus),
    memories: List(Part(["caption", "description", "numslots", "capacity", "type", "speed", "manufacturer", "serialnumber"] as const), LIMITS.memories),
    storages: List(Part(["name", "model", "manufacturer", "serial", "interface", "type", "disksize"] as const), LIMITS.disks),
    drives: List(Part(["letter", "type", "volumn", "filesystem", "label", "total", "free"] as const), LIMITS.partitions),
    networks: List(
      Part(["description", "mac", "ipaddress", "ipaddress6", "ipmask", "ipmask6", "ipgateway", "ipsubnet", "ipsubnet6", "type", "virtualdev", "speed", "status"] as const),
      LIMITS.networks,
    ),
    softwares: List(Part(["name", "version", "publisher", "arch", "from", "install_date", "filesize"] as const), LIMITS.software),
    users: List(Part(["login", "domain"] as const), LIMITS.users),
    versionclient: Type.Optional(Scalar),
    medulla: Type.Optional(Part(["agentId"] as const)),
  },
  { additionalProperties: true },
);

export const GlpiInventory = Type.Object(
  { deviceid: Type.Optional(Scalar), action: Type.Optional(Scalar), itemtype: Type.Optional(Scalar), partial: Type.Optional(Scalar), content: GlpiContent },
  { additionalProperties: true },
);
export type GlpiInventory = Static<typeof GlpiInventory>;
type Content = GlpiInventory["content"];

const checker = TypeCompiler.Compile(GlpiInventory);

const NAMES: Record<string, string> = { cpus: "CPUs", memories: "memory modules", storages: "disks", drives: "partitions", networks: "network entries", softwares: "software entries", users: "users" };

/** Checks a parsed JSON value against the schema; the first fault becomes a clear error. */
export function checkGlpi(value: unknown): GlpiInventory {
  if (checker.Check(value)) return value;
  const first = checker.Errors(value).First();
  const where = (first?.path ?? "").split("/").filter(Boolean).map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i ? `.${p}` : p)).join("") || "document";
  if (first?.type === ValueErrorType.ArrayMaxItems) {
    const section = first.path.split("/").at(-1) ?? "";
    throw new InventoryError("too_many", `too many ${NAMES[section] ?? section}: ${(first.value as unknown[]).length}, at most ${(first.schema as unknown as { maxItems: number }).maxItems}`);
  }
  if (first?.type === ValueErrorType.ObjectRequiredProperty) throw new InventoryError("invalid", `${where} is missing`);
  const expected = first?.schema.type === "array" ? "a list" : first?.schema.type === "object" ? "an object" : "text or a number";
  throw new InventoryError("invalid", `${where}: expected ${expected}`);
}

/** A JSON object, parsed and bounded in depth (not yet checked against the schema). */
export function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InventoryError("malformed", `not valid JSON (${(err as Error).message.slice(0, 120)})`);
  }
  assertDepth(value, LIMITS.jsonDepth);
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new InventoryError("invalid", "the document must be a JSON object");
  return value as Record<string, unknown>;
}

/** Parses and checks a GLPI-format JSON document (bytes already decompressed). */
export function parseGlpiJson(text: string): GlpiInventory {
  return checkGlpi(parseJsonObject(text));
}

/** Refuses documents nested deeper than `max`, without recursion (a deep document must not blow our stack either). */
function assertDepth(value: unknown, max: number): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (!v || typeof v !== "object") continue;
    if (depth > max) throw new InventoryError("invalid", `nested deeper than ${max} levels`);
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child && typeof child === "object") stack.push([child, depth + 1]);
  }
}

// ---------------------------------------------------------------------------------------
// Reading scalars

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

export function text(v: Scalar | undefined, max: number = LIMITS.text): string {
  if (v === null || v === undefined) return "";
  return String(v).replace(CONTROL, "").trim().slice(0, max);
}

/** A non-negative integer, from a number or the number a string starts with; null otherwise. */
export function count(v: Scalar | undefined): number | null {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(/^\s*\d+(?:[.,]\d+)?/.exec(v)?.[0].replace(",", ".") ?? Number.NaN) : Number.NaN;
  return Number.isFinite(n) && n >= 0 && n <= Number.MAX_SAFE_INTEGER ? Math.round(n) : null;
}

const UNIT_MB: Record<string, number> = { b: 1 / 1048576, kb: 1 / 1024, kib: 1 / 1024, mb: 1, mib: 1, gb: 1024, gib: 1024, tb: 1048576, tib: 1048576 };

/** Megabytes, from a number (already MB, as GLPI gives them) or a string with an optional unit ("8 GB"). */
export function megabytes(v: Scalar | undefined): number | null {
  if (typeof v !== "string") return count(v);
  const m = /^\s*(\d+(?:[.,]\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(v);
  if (!m) return null;
  const n = Number(m[1]!.replace(",", ".")) * (m[2] ? UNIT_MB[m[2].toLowerCase()]! : 1);
  return Number.isFinite(n) && n <= Number.MAX_SAFE_INTEGER ? Math.round(n) : null;
}

/** A positive integer (speeds): 0 and negative values mean "unknown" to the agents. */
const positive = (v: Scalar | undefined) => {
  const n = count(v);
  return n && n > 0 ? n : null;
};

export function bool(v: Scalar | undefined): boolean {
  return v === true || v === 1 || (typeof v === "string" && /^(1|true|yes|y)$/i.test(v.trim()));
}

const macOf = (v: Scalar | undefined) => normalizeMac(text(v)) ?? "";

// ---------------------------------------------------------------------------------------
// Normalising

function osKind(os: Content["operatingsystem"]): NormalizedInventory["machine"]["os"] {
  const k = `${text(os?.kernel_name)} ${text(os?.name)} ${text(os?.full_name)}`.toLowerCase();
  if (/windows|mswin/.test(k)) return "windows";
  if (/darwin|mac ?os|os x/.test(k)) return "darwin";
  if (/linux/.test(k)) return "linux";
  return "other";
}

const ARCH: Record<string, string> = { x86_64: "x64", amd64: "x64", "64-bit": "x64", x64: "x64", aarch64: "arm64", arm64: "arm64", i386: "ia32", i686: "ia32", x86: "ia32", "32-bit": "ia32" };

/** "vm-2026-11-28-16-43-27" → "vm": what a deviceid says of the host name. */
const hostOfDeviceId = (id: string) => id.replace(/-\d{4}(-\d{2}){5}$/, "");

function timezoneOf(tz: unknown): string {
  if (tz && typeof tz === "object") {
    const { name, offset } = tz as { name?: Scalar; offset?: Scalar };
    return [...new Set([text(name), text(offset)].filter(Boolean))].join(" ");
  }
  return text(tz as Scalar);
}

function dedupe<T>(rows: T[], key: (r: T) => string): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(key(r)) && Boolean(seen.add(key(r))));
}

/** The GLPI document as rows of our tables, plus the machine's identity and facts. Pure. */
export function normalize(doc: GlpiInventory): NormalizedInventory {
  const c = doc.content;
  const o = c.operatingsystem;
  const h = c.hardware;
  const b = c.bios;
  const deviceId = text(doc.deviceid);
  const has = (k: keyof Content) => c[k] !== undefined && c[k] !== null;

  const os: OsRow | undefined = o && {
    name: text(o.name), version: text(o.version), full_name: text(o.full_name), kernel: text(o.kernel_version), arch: text(o.arch),
    service_pack: text(o.service_pack), install_date: text(o.install_date), timezone: timezoneOf(o.timezone),
  };
  const hardware: HardwareRow | undefined = h && {
    name: text(h.name), chassis: text(h.chassis_type), memory_mb: megabytes(h.memory), workgroup: text(h.workgroup), last_user: text(h.lastloggeduser), uuid: text(h.uuid),
  };
  const bios: BiosRow | undefined = b && {
    manufacturer: text(b.smanufacturer), model: text(b.smodel), serial: text(b.ssn), bios_vendor: text(b.bmanufacturer), bios_version: text(b.bversion),
    bios_date: text(b.bdate), board_serial: text(b.msn), asset_tag: text(b.assettag),
  };
  const cpus: CpuRow[] | undefined = c.cpus?.map((x) => ({
    name: text(x.name), manufacturer: text(x.manufacturer), arch: text(x.arch), cores: count(x.core ?? x.corecount), threads: count(x.thread), speed_mhz: positive(x.speed),
  }));
  const memories: MemoryRow[] | undefined = c.memories?.map((x) => ({
    slot: x.numslots !== undefined && x.numslots !== null && text(x.numslots) !== "" ? text(x.numslots) : text(x.caption) || text(x.description),
    capacity_mb: megabytes(x.capacity), type: text(x.type), speed_mhz: positive(x.speed), manufacturer: text(x.manufacturer), serial: text(x.serialnumber),
  }));
  const disks: DiskRow[] | undefined = c.storages?.map((x) => ({
    name: text(x.name), model: text(x.model), manufacturer: text(x.manufacturer), serial: text(x.serial), interface: text(x.interface), type: text(x.type), size_mb: megabytes(x.disksize),
  }));
  // GLPI's drives: on Windows `letter` is the mount and `volumn` the volume's label; elsewhere
  // `type` holds the mount point and `volumn` the device.
  const partitions: PartitionRow[] | undefined = c.drives?.map((x) => {
    const letter = text(x.letter);
    return {
      mount: letter || text(x.type), device: letter ? "" : text(x.volumn), filesystem: text(x.filesystem), label: text(x.label) || (letter ? text(x.volumn) : ""),
      total_mb: megabytes(x.total), free_mb: megabytes(x.free),
    };
  });
  const networks: NetworkRow[] | undefined = c.networks?.flatMap((x) => {
    const base = {
      description: text(x.description), mac: macOf(x.mac), gateway: text(x.ipgateway), type: text(x.type), is_virtual: (bool(x.virtualdev) ? 1 : 0) as 0 | 1,
      speed_mbps: positive(x.speed), status: text(x.status).toLowerCase(),
    };
    const v4 = text(x.ipaddress);
    const v6 = text(x.ipaddress6);
    const rows: NetworkRow[] = [];
    if (v4) rows.push({ ...base, ip: v4, netmask: text(x.ipmask), subnet: text(x.ipsubnet) });
    if (v6) rows.push({ ...base, ip: v6, netmask: text(x.ipmask6), subnet: text(x.ipsubnet6) });
    return rows.length ? rows : [{ ...base, ip: "", netmask: "", subnet: "" }];
  });
  const software: SoftwareRow[] | undefined = c.softwares && dedupe(
    c.softwares
      .map((x) => {
        const version = text(x.version, 100);
        const size = count(x.filesize);
        return {
          name: text(x.name), version, version_key: versionKey(version), publisher: text(x.publisher), arch: text(x.arch, 32), source: text(x.from, 32),
          install_date: text(x.install_date, 32), size_kb: size === null ? null : Math.round(size / 1024),
        };
      })
      .filter((s) => s.name !== ""),
    (s) => `${s.name}\u0000${s.version}\u0000${s.arch}\u0000${s.publisher}`,
  );
  const users: UserRow[] | undefined = c.users && dedupe(
    c.users.map((u) => ({ login: text(u.login), domain: text(u.domain) })).filter((u) => u.login !== ""),
    (u) => `${u.domain}\\${u.login}`.toLowerCase(),
  );

  // Interfaces the agent flags virtual (bridges, bonds, taps, veths) copy or invent MACs: they identify nothing.
  const macs = [...new Set((networks ?? []).filter((n) => n.type !== "loopback" && !n.is_virtual && n.mac).map((n) => n.mac))];
  const ips = [...new Set((networks ?? []).filter((n) => n.type !== "loopback" && !n.is_virtual).map((n) => n.ip))]
    .filter((ip) => ip && !/^(127\.|::1$|fe80:)/i.test(ip))
    .slice(0, 64);
  const hostname = text(h?.name) || text(o?.fqdn).split(".")[0] || hostOfDeviceId(deviceId) || "?";
  const rawArch = text(o?.arch);

  return {
    identity: { hostname, uuid: text(h?.uuid), manufacturer: text(b?.smanufacturer), serial: text(b?.ssn), macs, agentId: text(c.medulla?.agentId, 64), deviceId },
    partial: bool(doc.partial),
    agentVersion: text(c.versionclient),
    machine: { os: osKind(o), osName: text(o?.name) || text(o?.full_name), osVersion: text(o?.version, 100), arch: ARCH[rawArch.toLowerCase()] ?? rawArch.slice(0, 32), ips, lastUser: text(h?.lastloggeduser) },
    ...(has("operatingsystem") && { os }),
    ...(has("hardware") && { hardware }),
    ...(has("bios") && { bios }),
    ...(has("cpus") && { cpus }),
    ...(has("memories") && { memories }),
    ...(has("storages") && { disks }),
    ...(has("drives") && { partitions }),
    ...(has("networks") && { networks }),
    ...(has("softwares") && { software }),
    ...(has("users") && { users }),
  };
}
