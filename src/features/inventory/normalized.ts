/**
 * @module inventory/normalized
 * What an inventory becomes before it is stored, whatever format it came in (our agent's
 * and the GLPI agent's JSON, FusionInventory's XML): one typed row per table of migration
 * 0004, with the columns' names and units (MB for memory, disks and partitions as GLPI
 * gives them, MHz, Mbit/s, KB for software), plus what identifies the machine for the
 * merge rule. Also the limits every importer applies, the one error they throw, and
 * `versionKey`, the sortable form of a version that SQL compares.
 */
import { AppError } from "../../errors.ts";

export const LIMITS = {
  /** Request body as sent (compressed or not). */
  compressedBytes: 8 << 20,
  /** The document once decompressed. */
  documentBytes: 32 << 20,
  /** JSON nesting, anywhere in the document (unknown parts included). */
  jsonDepth: 64,
  /** XML element nesting. */
  xmlDepth: 32,
  /** XML elements in one document (a 20,000-package inventory has ~150,000). */
  xmlElements: 2_000_000,
  software: 20_000,
  networks: 512,
  cpus: 256,
  memories: 512,
  disks: 512,
  partitions: 1024,
  users: 1024,
  /** Text columns are cut to this many characters. */
  text: 255,
} as const;

export type Section = "os" | "hardware" | "bios" | "cpus" | "memories" | "disks" | "partitions" | "networks" | "software" | "users";

export interface OsRow { name: string; version: string; full_name: string; kernel: string; arch: string; service_pack: string; install_date: string; timezone: string }
export interface HardwareRow { name: string; chassis: string; memory_mb: number | null; workgroup: string; last_user: string; uuid: string }
export interface BiosRow { manufacturer: string; model: string; serial: string; bios_vendor: string; bios_version: string; bios_date: string; board_serial: string; asset_tag: string }
export interface CpuRow { name: string; manufacturer: string; arch: string; cores: number | null; threads: number | null; speed_mhz: number | null }
export interface MemoryRow { slot: string; capacity_mb: number | null; type: string; speed_mhz: number | null; manufacturer: string; serial: string }
export interface DiskRow { name: string; model: string; manufacturer: string; serial: string; interface: string; type: string; size_mb: number | null }
export interface PartitionRow { mount: string; device: string; filesystem: string; label: string; total_mb: number | null; free_mb: number | null }
export interface NetworkRow { description: string; mac: string; ip: string; netmask: string; gateway: string; subnet: string; type: string; is_virtual: 0 | 1; speed_mbps: number | null; status: string }
export interface SoftwareRow { name: string; version: string; version_key: string; publisher: string; arch: string; source: string; install_date: string; size_kb: number | null }
export interface UserRow { login: string; domain: string }
export interface ChangeRow { section: string; change: "added" | "removed" | "changed"; item: string; before: string; after: string }

/** What the machines service's merge rule is given (DESIGN.md "Machines"). */
export interface InventoryIdentity {
  hostname: string;
  /** SMBIOS UUID as received; the machines service drops placeholders. */
  uuid: string;
  manufacturer: string;
  serial: string;
  /** Every MAC of the inventory (lower case, colons); the machines service tells virtual ones apart. */
  macs: string[];
  /** Our agent's id, when the document carries one (`content.medulla.agentId`). */
  agentId: string;
  /** The GLPI / FusionInventory agent's `deviceid` (hostname + first-run time), "" when none. */
  deviceId: string;
}

/**
 * One inventory, normalised. A part is `undefined` when the document did not carry it: a
 * full inventory then empties that table, a partial one (`partial: true`, GLPI agent and
 * ours) leaves it as it was.
 */
export interface NormalizedInventory {
  identity: InventoryIdentity;
  partial: boolean;
  /** `content.versionclient`, e.g. "FusionInventory-Agent_v2.6"; "" when absent. */
  agentVersion: string;
  /** Facts the machines table keeps (Computers view), from the same document. */
  machine: { os: "linux" | "windows" | "darwin" | "other"; osName: string; osVersion: string; arch: string; ips: string[]; lastUser: string };
  os?: OsRow;
  hardware?: HardwareRow;
  bios?: BiosRow;
  cpus?: CpuRow[];
  memories?: MemoryRow[];
  disks?: DiskRow[];
  partitions?: PartitionRow[];
  networks?: NetworkRow[];
  software?: SoftwareRow[];
  users?: UserRow[];
}

export type InventoryErrorCode = "too_large" | "malformed" | "invalid" | "too_many" | "restricted_xml" | "unsupported";

const STATUS: Record<InventoryErrorCode, number> = { too_large: 413, malformed: 400, invalid: 422, too_many: 422, restricted_xml: 400, unsupported: 415 };

/**
 * Why an inventory was refused. `reason` is a short English sentence for the agent's log
 * and ours (agents are read by administrators in English as often as in French); pages
 * and the API show it inside the translated "inventory.error.refused" message.
 */
export class InventoryError extends AppError {
  constructor(
    readonly kind: InventoryErrorCode,
    readonly reason: string,
  ) {
    super(STATUS[kind], `inventory_${kind}`, "inventory.error.refused", { reason });
    this.name = "InventoryError";
    this.message = reason;
  }
}

/**
 * The sortable form of a version: each run of digits left-padded to 10 digits, so that
 * plain string comparison in SQL puts "10.2" after "9.11" (`"23.01"` →
 * `"0000000023.0000000001"`). Stored in `inv_software.version_key`.
 */
export function versionKey(version: string): string {
  return version.trim().replace(/\d+/g, (digits) => digits.padStart(10, "0"));
}
