/**
 * @module agent/inventory/names
 * Names for what firmware and drivers give as codes or leave implicit: disk and memory
 * makers from model names and JEDEC ids, SMBIOS chassis types, the hypervisor a machine runs
 * under, architectures spelt as `uname -m` does, CPU speeds written in model names, and asset
 * tags that are placeholders.
 */
import { cleanIdentity } from "../facts/identity.ts";

const DISK_MAKERS: [RegExp, string][] = [
  [/^(samsung|mz[-_ ]?[0-9a-z]{4})/i, "Samsung"],
  [/^(wdc|wd[ _-]|western digital)/i, "Western Digital"],
  [/^(st\d|seagate)/i, "Seagate"],
  [/^(intel|ssdpe|ssdsc)/i, "Intel"],
  [/^kingston/i, "Kingston"],
  [/^(ct\d|crucial)/i, "Crucial"],
  [/^micron/i, "Micron"],
  [/^(toshiba|kioxia)/i, "Toshiba"],
  [/^(sk ?hynix|hfs|hfm)/i, "SK hynix"],
  [/^(hgst|hitachi)/i, "Hitachi"],
  [/^sandisk/i, "SanDisk"],
  [/^apple/i, "Apple"],
  [/^(vmware|virtual disk)/i, "VMware"],
  [/^qemu/i, "QEMU"],
  [/^(msft|microsoft)/i, "Microsoft"],
  [/^hpe?\s/i, "HPE"],
  [/^dell\s/i, "Dell"],
];

/** The maker of a disk from its model name, when the name says it. */
export function diskMaker(model: string | undefined): string | undefined {
  return model ? DISK_MAKERS.find(([re]) => re.test(model.trim()))?.[1] : undefined;
}

/** SMBIOS chassis types (DSP0134 7.4.1), as /sys/class/dmi/id/chassis_type and Win32_SystemEnclosure give them. */
const CHASSIS = [
  "", "Other", "Unknown", "Desktop", "Low Profile Desktop", "Pizza Box", "Mini Tower", "Tower", "Portable", "Laptop", "Notebook",
  "Hand Held", "Docking Station", "All in One", "Sub Notebook", "Space-saving", "Lunch Box", "Main Server Chassis", "Expansion Chassis",
  "SubChassis", "Bus Expansion Chassis", "Peripheral Chassis", "RAID Chassis", "Rack Mount Chassis", "Sealed-case PC", "Multi-system chassis",
  "Compact PCI", "Advanced TCA", "Blade", "Blade Enclosure", "Tablet", "Convertible", "Detachable", "IoT Gateway", "Embedded PC", "Mini PC", "Stick PC",
];

export function chassisName(code: number | undefined): string | undefined {
  return code !== undefined && code > 0 ? CHASSIS[code] || undefined : undefined;
}

/** The hypervisor a machine runs under, from its SMBIOS maker and model; "Physical" otherwise. */
export function vmSystem(manufacturer = "", model = "", hasHypervisorFlag = false): string | undefined {
  const s = `${manufacturer} ${model}`;
  if (/qemu/i.test(s)) return "QEMU";
  if (/\bkvm\b/i.test(s)) return "KVM";
  if (/vmware/i.test(s)) return "VMware";
  if (/virtualbox|innotek/i.test(s)) return "VirtualBox";
  if (/microsoft/i.test(manufacturer) && /virtual/i.test(model)) return "Hyper-V";
  if (/\bxen\b/i.test(s)) return "Xen";
  if (/parallels/i.test(s)) return "Parallels";
  if (/amazon ec2/i.test(s)) return "KVM";
  if (/google compute engine/i.test(s)) return "KVM";
  if (hasHypervisorFlag) return undefined;
  return manufacturer || model ? "Physical" : undefined;
}

/** Architecture names as `uname -m` spells them (x86_64, aarch64, i686, armv7l). */
export function unameArch(arch: string | undefined): string | undefined {
  const a = (arch ?? "").trim().toLowerCase();
  if (!a) return undefined;
  if (["x64", "amd64", "x86_64", "64-bit", "x86-64"].includes(a)) return "x86_64";
  if (["arm64", "aarch64"].includes(a)) return "aarch64";
  if (["x86", "ia32", "i386", "i686", "32-bit"].includes(a)) return "i686";
  if (a === "arm") return "armv7l";
  return a;
}

/** JEDEC manufacturer codes that dmidecode prints raw on many servers ("00AD063200AD"). */
const JEDEC: [RegExp, string][] = [
  [/^(00|80)ad/i, "SK Hynix"],
  [/^(00|80)ce/i, "Samsung"],
  [/^(00|80)2c/i, "Micron"],
  [/^(01|04)98|^9801/i, "Kingston"],
  [/^859b|^9b85/i, "Crucial"],
  [/^(00|80)4f/i, "Transcend"],
];

export function memoryMaker(v: string | undefined): string | undefined {
  const s = cleanIdentity(v);
  if (!s || /^(unknown|not specified|undefined)$/i.test(s)) return undefined;
  const hex = s.replace(/^0x/i, "");
  if (/^[0-9a-f]{4,}$/i.test(hex)) return JEDEC.find(([re]) => re.test(hex))?.[1] ?? s;
  return s;
}

/** Asset tags that firmware leaves as placeholders ("No Asset Information", "Not Available"). */
export function assetTag(v: string | undefined): string | undefined {
  const s = cleanIdentity(v);
  return s && !/^(no asset (information|tag)|not available|asset tag:?|none|unknown|0+)$/i.test(s) ? s : undefined;
}

/** The speed in MHz written in a model name: "… CPU @ 2.30GHz" → 2300. */
export function speedFromName(name: string | undefined): number | undefined {
  const m = /@\s*([\d.]+)\s*([GM])Hz/i.exec(name ?? "");
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (m[2]!.toUpperCase() === "G" ? 1000 : 1));
}
