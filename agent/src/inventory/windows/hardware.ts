/**
 * @module agent/inventory/windows/hardware
 * Hardware parts from the CIM classes the Windows script queries: the system and its
 * firmware (Win32_ComputerSystem, _ComputerSystemProduct, _BIOS, _BaseBoard,
 * _SystemEnclosure), processors, memory modules (Win32_PhysicalMemory, with SMBIOS type
 * and form-factor codes named), physical disks (Win32_DiskDrive, with the bus and media
 * type of MSFT_PhysicalDisk when the Storage module answers) and logical disks.
 */
import { cleanIdentity, cleanUuid } from "../../facts/identity.ts";
import type { Bios, Cpu, Drive, Memory, Storage } from "../format.ts";
import { assetTag, diskMaker, memoryMaker } from "../names.ts";
import { compact, mbDecimal, mib, str } from "../values.ts";
import { list, num, one, psDay, type Obj } from "./ps-json.ts";

export function windowsBios(doc: Obj, offsetMinutes: number): Bios {
  const [cs, p, b, m, e] = [doc.ComputerSystem, doc.Product, doc.Bios, doc.BaseBoard, doc.Enclosure].map(one) as Obj[];
  return compact<Bios>({
    bmanufacturer: cleanIdentity(str(b!.Manufacturer)),
    bversion: cleanIdentity(str(b!.SMBIOSBIOSVersion)),
    bdate: psDay(b!.ReleaseDate, offsetMinutes),
    biosserial: cleanIdentity(str(b!.SerialNumber)),
    smanufacturer: cleanIdentity(str(cs!.Manufacturer)) ?? cleanIdentity(str(p!.Vendor)),
    smodel: cleanIdentity(str(cs!.Model)) ?? cleanIdentity(str(p!.Name)),
    ssn: cleanIdentity(str(p!.IdentifyingNumber)) ?? cleanIdentity(str(b!.SerialNumber)),
    skunumber: cleanIdentity(str(cs!.SystemSKUNumber)),
    mmanufacturer: cleanIdentity(str(m!.Manufacturer)),
    mmodel: cleanIdentity(str(m!.Product)),
    msn: cleanIdentity(str(m!.SerialNumber)),
    assettag: assetTag(str(e!.SMBIOSAssetTag)),
    enclosureserial: cleanIdentity(str(e!.SerialNumber)),
  });
}

export const productUuid = (doc: Obj) => cleanUuid(str(one(doc.Product).UUID));

/** Win32_Processor.Architecture codes. */
const CPU_ARCH: Record<number, string> = { 0: "i686", 5: "armv7l", 9: "x86_64", 12: "aarch64" };
const CPU_VENDORS: Record<string, string> = { GenuineIntel: "Intel", AuthenticAMD: "AMD" };

export function windowsCpus(doc: Obj): Cpu[] {
  return list(doc.Processors).map((p) => {
    const d = /Family (\d+) Model (\d+) Stepping (\d+)/i.exec(str(p.Description) ?? "");
    const vendor = str(p.Manufacturer);
    return compact<Cpu>({
      name: str(p.Name)?.replace(/\s+/g, " "),
      manufacturer: vendor ? (CPU_VENDORS[vendor] ?? vendor) : undefined,
      arch: CPU_ARCH[num(p.Architecture) ?? -1],
      core: num(p.NumberOfCores),
      thread: num(p.NumberOfLogicalProcessors),
      speed: num(p.MaxClockSpeed),
      id: str(p.ProcessorId),
      familynumber: d?.[1],
      model: d?.[2],
      stepping: d ? Number(d[3]) : undefined,
      cache: num(p.L3CacheSize) ? String(num(p.L3CacheSize)) : undefined,
    });
  });
}

/** SMBIOS memory types (Win32_PhysicalMemory.SMBIOSMemoryType) and form factors. */
const MEMORY_TYPES: Record<number, string> = { 18: "DDR", 19: "DDR2", 20: "DDR", 21: "DDR2", 22: "DDR2 FB-DIMM", 24: "DDR3", 26: "DDR4", 27: "LPDDR", 28: "LPDDR2", 29: "LPDDR3", 30: "LPDDR4", 34: "DDR5", 35: "LPDDR5" };
const FORM_FACTORS: Record<number, string> = { 7: "SIMM", 8: "DIMM", 9: "TSOP", 11: "Row of chips", 12: "SODIMM", 13: "SRIMM", 14: "SMD", 15: "SSMP", 16: "QFP" };
const ECC: Record<number, string> = { 3: "None", 4: "Parity", 5: "Single-bit ECC", 6: "Multi-bit ECC", 7: "CRC" };

export function windowsMemories(doc: Obj): Memory[] {
  const ecc = ECC[num(one(doc.MemoryArray).MemoryErrorCorrection) ?? -1];
  return list(doc.Memory).map((m, i) =>
    compact<Memory>({
      capacity: mib(num(m.Capacity)),
      caption: str(m.DeviceLocator),
      description: FORM_FACTORS[num(m.FormFactor) ?? -1],
      type: MEMORY_TYPES[num(m.SMBIOSMemoryType) ?? -1],
      speed: num(m.Speed) ? String(num(m.Speed)) : undefined,
      manufacturer: memoryMaker(str(m.Manufacturer)),
      serialnumber: cleanIdentity(str(m.SerialNumber)),
      model: cleanIdentity(str(m.PartNumber)),
      numslots: i + 1,
      memorycorrection: ecc,
    }),
  );
}

/** MSFT_PhysicalDisk.BusType and MediaType codes. */
const BUS_TYPES: Record<number, string> = { 1: "SCSI", 2: "ATAPI", 3: "ATA", 4: "1394", 6: "FC", 7: "USB", 8: "RAID", 9: "iSCSI", 10: "SAS", 11: "SATA", 12: "SD", 13: "MMC", 15: "File Backed Virtual", 16: "Storage Spaces", 17: "NVMe" };
const MEDIA_TYPES: Record<number, string> = { 3: "HDD", 4: "SSD", 5: "SCM" };

export function windowsStorages(doc: Obj): Storage[] {
  const physical = new Map(list(doc.PhysicalDisks).map((p) => [String(p.DeviceId), p]));
  return list(doc.Disks)
    .sort((a, b) => (num(a.Index) ?? 0) - (num(b.Index) ?? 0))
    .map((d) => {
      const p = physical.get(String(num(d.Index) ?? ""));
      const model = str(d.Model);
      return compact<Storage>({
        name: str(d.DeviceID),
        model,
        manufacturer: diskMaker(model),
        serial: cleanIdentity(str(d.SerialNumber)),
        firmware: str(d.FirmwareRevision),
        interface: BUS_TYPES[num(p?.BusType) ?? -1] ?? str(d.InterfaceType),
        type: MEDIA_TYPES[num(p?.MediaType) ?? -1] ?? (/removable/i.test(str(d.MediaType) ?? "") ? "removable" : "disk"),
        disksize: mbDecimal(num(d.Size)),
      });
    });
}

const DRIVE_TYPES: Record<number, string> = { 2: "Removable Disk", 3: "Local Disk", 4: "Network Drive", 5: "Compact Disc", 6: "RAM Disk" };

export function windowsDrives(doc: Obj): Drive[] {
  const systemDrive = str(one(doc.OperatingSystem).SystemDrive)?.toUpperCase();
  return list(doc.LogicalDisks)
    .filter((d) => num(d.Size) !== undefined)
    .map((d) => {
      const letter = str(d.DeviceID);
      return compact<Drive>({
        letter,
        volumn: str(d.ProviderName) ?? str(d.VolumeName),
        label: str(d.VolumeName),
        type: DRIVE_TYPES[num(d.DriveType) ?? -1],
        description: str(d.Description),
        filesystem: str(d.FileSystem),
        serial: str(d.VolumeSerialNumber),
        total: mib(num(d.Size)),
        free: mib(num(d.FreeSpace)),
        systemdrive: letter !== undefined && letter.toUpperCase() === systemDrive,
      });
    });
}
