/**
 * @module agent/inventory/macos
 * The macOS collector: one `system_profiler -json` run over the data types below, plus
 * `sw_vers`, `sysctl`, `ifconfig`, `route`, `pkgutil --pkgs`, `who`, `dscl` and
 * `date`, and `buildMacInventory`, which turns their outputs into the GLPI parts without
 * I/O. system_profiler is slow (SPApplicationsDataType walks every app bundle): it gets
 * three minutes. Unparseable system_profiler output leaves its parts empty with a warning.
 */
import { parseSwVers } from "../../facts/darwin.ts";
import { emptyContent, type CollectedContent, type Warn } from "../format.ts";
import { signedInUsers } from "../linux/users.ts";
import type { Raw, Source } from "../sources.ts";
import { unameArch } from "../names.ts";
import { bootTime, compact, parseJsonOr, parseTimezone, sortSoftwares, str } from "../values.ts";
import { macCpus, macDrives, macHardware, macMemories, macStorages, parseSysctl, spList, type Sp } from "./hardware.ts";
import { macDns, macNetworks, parseRouteDefault } from "./network.ts";
import { macApplications, macBatteries, macMonitors, macPrinters, parseDsclUsers, parsePkgutil } from "./software.ts";

export const SP_TYPES = [
  "SPHardwareDataType", "SPSoftwareDataType", "SPMemoryDataType", "SPStorageDataType", "SPNVMeDataType", "SPSerialATADataType",
  "SPNetworkDataType", "SPApplicationsDataType", "SPPowerDataType", "SPDisplaysDataType", "SPPrintersDataType",
];

export const MACOS_SOURCES: Record<string, Source> = {
  system_profiler: { cmd: ["system_profiler", "-json", ...SP_TYPES], timeoutMs: 180_000 },
  sw_vers: { cmd: ["sw_vers"] },
  sysctl: { cmd: ["sysctl", "machdep.cpu.brand_string", "hw.physicalcpu", "hw.logicalcpu", "hw.packages"] },
  hostname: { cmd: ["hostname", "-s"] },
  "uname-m": { cmd: ["uname", "-m"] },
  timezone: { cmd: ["date", "+%Z %z"] },
  ifconfig: { cmd: ["ifconfig"] },
  route: { cmd: ["route", "-n", "get", "default"], quiet: true },
  pkgutil: { cmd: ["pkgutil", "--pkgs"] },
  who: { cmd: ["who"] },
  dscl: { cmd: ["dscl", ".", "-list", "/Users", "UniqueID"] },
};

/** SPSoftwareDataType's "up 2:3:41:12" (days:hours:minutes:seconds) → seconds. */
export function parseSpUptime(v: string | undefined): number | undefined {
  const m = /^up (\d+):(\d+):(\d+):(\d+)$/.exec((v ?? "").trim());
  return m ? ((Number(m[1]) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60 + Number(m[4]) : undefined;
}

export function buildMacInventory(raw: Raw, now: Date, warn: Warn): CollectedContent {
  const c = emptyContent();
  const parsed = parseJsonOr<Sp | null>(raw.system_profiler, null, warn, "system_profiler");
  const isObject = !!parsed && typeof parsed === "object" && !Array.isArray(parsed);
  if (parsed !== null && !isObject) warn("system_profiler: not one JSON object");
  const doc: Sp = isObject ? parsed : {};
  const sw = parseSwVers(raw.sw_vers ?? "");
  const os = spList(doc, "SPSoftwareDataType")[0] ?? {};
  const arch = unameArch(str(raw["uname-m"]));
  c.operatingsystem = compact({
    name: sw.version ? sw.name.replace(` ${sw.version}`, "") : str(os.os_version)?.replace(/\s.*$/, ""),
    version: sw.version,
    full_name: sw.version ? `${sw.name} (${sw.build})` : str(os.os_version),
    kernel_name: "darwin",
    kernel_version: str(os.kernel_version)?.replace(/^Darwin\s+/, ""),
    arch,
    boot_time: bootTime(now, parseSpUptime(str(os.uptime))),
    timezone: parseTimezone(raw.timezone),
  });

  const { bios, hardware } = macHardware(doc);
  const route = parseRouteDefault(raw.route);
  const users = signedInUsers(raw.who);
  c.bios = bios;
  c.hardware = compact({ name: str(raw.hostname) ?? str(os.local_host_name), ...hardware, dns: macDns(doc), defaultgateway: route.gateway, lastloggeduser: users[0]?.login });
  c.cpus = macCpus(doc, parseSysctl(raw.sysctl), arch);
  c.memories = macMemories(doc);
  c.storages = macStorages(doc);
  c.drives = macDrives(doc);
  c.networks = macNetworks(raw.ifconfig, doc, route);
  c.softwares = sortSoftwares([...macApplications(doc), ...parsePkgutil(raw.pkgutil)]);
  c.users = users;
  c.local_users = parseDsclUsers(raw.dscl);
  c.batteries = macBatteries(doc);
  c.monitors = macMonitors(doc);
  c.printers = macPrinters(doc);
  if (isObject && !spList(doc, "SPHardwareDataType").length) warn("system_profiler: no SPHardwareDataType in its output");
  return c;
}
