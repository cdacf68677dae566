/**
 * @module agent/inventory/windows
 * The Windows collector: one PowerShell run (`WINDOWS_INVENTORY_SCRIPT`, printed as JSON)
 * and `buildWindowsInventory`, which turns that JSON into the GLPI parts without any I/O.
 * Unparseable output leaves every part empty with one warning; a part whose query failed
 * (null or absent in the JSON) is simply empty.
 */
import { emptyContent, type CollectedContent, type Warn } from "../format.ts";
import type { Raw, Source } from "../sources.ts";
import { chassisName, unameArch, vmSystem } from "../names.ts";
import { compact, mib, parseJsonOr, sortSoftwares, str } from "../values.ts";
import { windowsBatteries, windowsLocalUsers, windowsMonitors, windowsPrinters, windowsUsers } from "./devices.ts";
import { productUuid, windowsBios, windowsCpus, windowsDrives, windowsMemories, windowsStorages } from "./hardware.ts";
import { windowsDnsAndGateway, windowsNetworks } from "./network.ts";
import { list, num, one, psDateTime, strings, type Obj } from "./ps-json.ts";
import { encodedCommand } from "./script.ts";
import { windowsAntivirus, windowsHotfixes, windowsPrograms } from "./software.ts";

export const WINDOWS_SOURCES: Record<string, Source> = {
  powershell: { cmd: ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand", encodedCommand()], timeoutMs: 300_000 },
};

/** "+0100" from minutes east of UTC. */
function offsetText(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? "-" : "+"}${String(Math.floor(a / 60)).padStart(2, "0")}${String(a % 60).padStart(2, "0")}`;
}

export function buildWindowsInventory(raw: Raw, now: Date, warn: Warn): CollectedContent {
  const c = emptyContent();
  const doc = parseJsonOr<Obj>(raw.powershell, {}, warn, "powershell");
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    warn("powershell: the inventory script printed something other than one JSON object");
    return c;
  }
  const cs = one(doc.ComputerSystem);
  const os = one(doc.OperatingSystem);
  const nt = one(doc.WindowsNT);
  const offset = num(os.CurrentTimeZone) ?? 0;
  const cpuArch = list(doc.Processors)[0]?.Architecture;
  const bits = str(os.OSArchitecture) ?? "";
  const ubr = num(nt.UBR);

  c.operatingsystem = compact({
    name: "Windows",
    full_name: str(os.Caption)?.replace(/\s+/g, " "),
    version: str(nt.DisplayVersion) ?? str(nt.ReleaseId),
    kernel_name: "MSWin32",
    kernel_version: str(os.Version) && (ubr !== undefined ? `${str(os.Version)}.${ubr}` : str(os.Version)),
    arch: cpuArch === 12 ? "aarch64" : /64/.test(bits) ? "x86_64" : /32/.test(bits) ? "i686" : unameArch(bits),
    service_pack: str(os.CSDVersion),
    install_date: psDateTime(os.InstallDate),
    boot_time: psDateTime(os.LastBootUpTime),
    fqdn: cs.PartOfDomain === true && str(cs.Name) && str(cs.Domain) ? `${str(cs.Name)!.toLowerCase()}.${str(cs.Domain)}` : undefined,
    dns_domain: cs.PartOfDomain === true ? str(cs.Domain) : undefined,
    timezone: str(doc.TimeZone) && num(os.CurrentTimeZone) !== undefined ? { name: str(doc.TimeZone)!, offset: offsetText(offset) } : undefined,
  });

  c.bios = windowsBios(doc, offset);
  const swap = list(doc.PageFiles).reduce((sum, p) => sum + (num(p.AllocatedBaseSize) ?? 0), 0);
  const userName = str(cs.UserName);
  c.hardware = compact({
    name: str(cs.Name),
    uuid: productUuid(doc),
    memory: mib(num(cs.TotalPhysicalMemory)),
    swap: list(doc.PageFiles).length ? swap : undefined,
    chassis_type: chassisName(strings(one(doc.Enclosure).ChassisTypes).map(Number)[0]),
    vmsystem: vmSystem(c.bios.smanufacturer, c.bios.smodel),
    workgroup: cs.PartOfDomain === true ? str(cs.Domain) : str(cs.Workgroup),
    lastloggeduser: userName?.replace(/^.*\\/, ""),
    winowner: str(os.RegisteredUser),
    wincompany: str(os.Organization),
    winprodid: str(os.SerialNumber),
    winlang: num(os.OSLanguage) !== undefined ? String(num(os.OSLanguage)) : undefined,
    ...windowsDnsAndGateway(doc),
  });

  c.cpus = windowsCpus(doc);
  c.memories = windowsMemories(doc);
  c.storages = windowsStorages(doc);
  c.drives = windowsDrives(doc);
  c.networks = windowsNetworks(doc);
  c.softwares = sortSoftwares([...windowsPrograms(doc, offset), ...windowsHotfixes(doc, offset)]);
  c.antivirus = windowsAntivirus(doc, now);
  c.batteries = windowsBatteries(doc);
  c.monitors = windowsMonitors(doc);
  c.printers = windowsPrinters(doc);
  c.users = windowsUsers(doc);
  c.local_users = windowsLocalUsers(doc);
  if (!list(doc.Software).length) warn("powershell: no installed programs found in the uninstall registry keys");
  return c;
}
