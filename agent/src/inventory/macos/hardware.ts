/**
 * @module agent/inventory/macos/hardware
 * Hardware parts from `system_profiler -json`: SPHardwareDataType (model, serial, UUID,
 * chip or CPU, memory size), SPMemoryDataType (one unified block on Apple silicon, DIMM
 * slots on Intel Macs, where part numbers may come hex-encoded), SPNVMeDataType and
 * SPSerialATADataType (disks), SPStorageDataType (mounted volumes). `sysctl` gives the CPU
 * brand string and thread count that system_profiler leaves out on Intel Macs.
 */
import type { Bios, Cpu, Drive, Hardware, Memory, Storage } from "../format.ts";
import { cleanIdentity, cleanUuid } from "../../facts/identity.ts";
import { diskMaker, memoryMaker, speedFromName } from "../names.ts";
import { compact, int, mbDecimal, mib, sizeToMib, str } from "../values.ts";

export type Sp = Record<string, unknown>;
const items = (v: unknown): Sp[] => (Array.isArray(v) ? v.filter((x): x is Sp => !!x && typeof x === "object") : []);
/** The entries of a data type, and the `_items` of each entry (controllers list their disks there). */
export const spList = (doc: Sp, type: string) => items(doc[type]);
const spItems = (doc: Sp, type: string) => spList(doc, type).flatMap((e) => items(e._items));

export function parseSysctl(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (text ?? "").split(/\r?\n/)) {
    const m = /^([\w.]+):\s*(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

function chassis(machineName: string | undefined): string | undefined {
  if (!machineName) return undefined;
  if (/book/i.test(machineName)) return "Laptop";
  if (/imac/i.test(machineName)) return "All in One";
  if (/mac mini/i.test(machineName)) return "Mini PC";
  return "Desktop";
}

export function macHardware(doc: Sp): { bios: Bios; hardware: Hardware } {
  const hw = spList(doc, "SPHardwareDataType")[0] ?? {};
  const name = str(hw.machine_name);
  const model = str(hw.machine_model);
  const virtual = /^(VirtualMac|VMware|Parallels)/i.test(model ?? "");
  return {
    bios: compact<Bios>({
      smanufacturer: "Apple Inc.",
      smodel: [name, model && `(${model})`].filter(Boolean).join(" ") || undefined,
      ssn: cleanIdentity(str(hw.serial_number)),
      skunumber: str(hw.model_number),
      bmanufacturer: "Apple Inc.",
      bversion: str(hw.boot_rom_version),
    }),
    hardware: compact<Hardware>({
      uuid: cleanUuid(str(hw.platform_UUID)),
      memory: sizeToMib(str(hw.physical_memory)),
      chassis_type: chassis(name),
      vmsystem: virtual ? (/^VMware/i.test(model!) ? "VMware" : /^Parallels/i.test(model!) ? "Parallels" : "Apple Virtualization") : "Physical",
    }),
  };
}

/** "3,6 GHz" or "3.6 GHz" (system_profiler follows the system language) → 3600. */
function ghz(v: string | undefined): number | undefined {
  const m = /^([\d.,]+)\s*GHz/i.exec(v ?? "");
  return m ? Math.round(Number(m[1]!.replace(",", ".")) * 1000) : undefined;
}

export function macCpus(doc: Sp, sysctl: Record<string, string>, arch: string | undefined): Cpu[] {
  const hw = spList(doc, "SPHardwareDataType")[0] ?? {};
  const chip = str(hw.chip_type);
  const brand = sysctl["machdep.cpu.brand_string"];
  const name = chip ?? brand ?? str(hw.cpu_type)?.replace(/^\d+-Core\s+/i, "");
  if (!name) return [];
  // Apple silicon: "proc 8:4:4" is total:performance:efficiency; Intel: a count.
  const procs = /^proc (\d+)/.exec(String(hw.number_processors ?? ""))?.[1];
  const cores = int(procs) ?? int(hw.number_processors) ?? int(sysctl["hw.physicalcpu"]);
  const packages = int(hw.packages) ?? int(sysctl["hw.packages"]) ?? 1;
  const threads = int(sysctl["hw.logicalcpu"]) ?? cores;
  const per = (n: number | undefined) => (n === undefined ? undefined : Math.max(1, Math.round(n / packages)));
  const cpu = compact<Cpu>({
    name,
    manufacturer: /apple/i.test(name) ? "Apple" : /intel/i.test(name) ? "Intel" : undefined,
    arch,
    core: per(cores),
    thread: per(threads),
    speed: speedFromName(brand) ?? ghz(str(hw.current_processor_speed)),
  });
  return Array.from({ length: packages }, () => ({ ...cpu }));
}

/** "0x3136415446..." (a hex-encoded ASCII part number, as some Intel Macs print it) → "16ATF...". */
function hexText(v: string | undefined): string | undefined {
  if (!v || !/^0x([0-9a-f]{2})+$/i.test(v) || v.length < 10) return str(v);
  const s = Buffer.from(v.slice(2), "hex").toString("latin1").replace(/[^\x20-\x7e]/g, "").trim();
  return s || undefined;
}

export function macMemories(doc: Sp): Memory[] {
  const blocks = spList(doc, "SPMemoryDataType");
  const slots = blocks.flatMap((b) => items(b._items));
  if (!slots.length) {
    // Apple silicon: one block of unified memory in the package.
    const b = blocks[0];
    const size = sizeToMib(str(b?.SPMemoryDataType));
    return size ? [compact<Memory>({ capacity: size, caption: "Unified memory", description: "Built-in", type: str(b!.dimm_type), manufacturer: str(b!.dimm_manufacturer), numslots: 1 })] : [];
  }
  const ecc = /enabled/i.test(String(blocks[0]?.global_ecc_state ?? "")) ? "ECC" : undefined;
  const out: Memory[] = [];
  slots.forEach((s, i) => {
    const capacity = sizeToMib(str(s.dimm_size));
    if (!capacity) return;
    out.push(
      compact<Memory>({
        capacity,
        caption: str(s._name),
        description: "SODIMM",
        type: str(s.dimm_type),
        speed: str(/^(\d+)/.exec(str(s.dimm_speed) ?? "")?.[1]),
        manufacturer: memoryMaker(str(s.dimm_manufacturer)),
        serialnumber: cleanIdentity(str(s.dimm_serial_number)),
        model: hexText(str(s.dimm_part_number)),
        numslots: i + 1,
        memorycorrection: ecc,
      }),
    );
  });
  return out;
}

export function macStorages(doc: Sp): Storage[] {
  const disk = (d: Sp, iface: string): Storage => {
    const model = str(d.device_model) ?? str(d._name);
    const rotational = /rotational/i.test(String(d.spsata_medium_type ?? ""));
    return compact<Storage>({
      name: str(d.bsd_name),
      model,
      manufacturer: diskMaker(model),
      serial: cleanIdentity(str(d.device_serial)),
      firmware: str(d.device_revision),
      interface: iface,
      type: rotational ? "HDD" : "SSD",
      disksize: mbDecimal(int(d.size_in_bytes)),
    });
  };
  return [...spItems(doc, "SPNVMeDataType").map((d) => disk(d, "NVMe")), ...spItems(doc, "SPSerialATADataType").map((d) => disk(d, "SATA"))].sort((a, b) =>
    (a.name ?? "").localeCompare(b.name ?? ""),
  );
}

export function macDrives(doc: Sp): Drive[] {
  return spList(doc, "SPStorageDataType")
    .filter((v) => str(v.mount_point) && int(v.size_in_bytes))
    .map((v) =>
      compact<Drive>({
        volumn: str(v.bsd_name) && `/dev/${str(v.bsd_name)}`,
        type: str(v.mount_point),
        label: str(v._name),
        filesystem: str(v.file_system),
        serial: str(v.volume_uuid),
        total: mib(int(v.size_in_bytes)),
        free: mib(int(v.free_space_in_bytes)),
      }),
    );
}
