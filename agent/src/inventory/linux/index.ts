/**
 * @module agent/inventory/linux
 * The Linux collector: what it reads (`LINUX_SOURCES`, files and commands under the keys
 * that name the fixture files) and `buildLinuxInventory`, which turns those outputs into
 * the GLPI parts with the parsers beside this module and no I/O of its own. sysfs DMI is
 * the first source for the BIOS and system identity; `dmidecode` (root) fills the gaps and
 * alone knows memory modules. A missing source leaves its part empty.
 */
import { osReleaseValues } from "../../facts/linux.ts";
import { emptyContent, type CollectedContent, type Cpu, type Software, type Warn } from "../format.ts";
import type { Raw, Source } from "../sources.ts";
import { speedFromName, unameArch } from "../names.ts";
import { bootTime, compact, parseTimezone, sortSoftwares, str } from "../values.ts";
import { lsblkLabels, parseDf, parseLsblkStorages } from "./block.ts";
import { parseBatteries, parseDrmMonitors } from "./devices.ts";
import { dmidecodeBios, dmidecodeCpus, dmidecodeHardware, dmidecodeMemories, parseDmidecode, parseSysDmi } from "./dmi.ts";
import { parseIpAddr, parseIpRoute, parseResolvConf } from "./network.ts";
import { parseDpkg, parseFlatpak, parseRpm, parseSnap } from "./packages.ts";
import { parseCpuinfo, parseMeminfo, parseUptime } from "./proc.ts";
import { parsePasswd, signedInUsers } from "./users.ts";

export const LINUX_SOURCES: Record<string, Source> = {
  "os-release": { file: ["/etc/os-release", "/usr/lib/os-release"] },
  hostname: { file: ["/proc/sys/kernel/hostname"] },
  kernel: { file: ["/proc/sys/kernel/osrelease"] },
  "uname-m": { cmd: ["uname", "-m"] },
  uptime: { file: ["/proc/uptime"] },
  timezone: { cmd: ["date", "+%Z %z"] },
  cpuinfo: { file: ["/proc/cpuinfo"] },
  cpufreq: { file: ["/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"], quiet: true },
  meminfo: { file: ["/proc/meminfo"] },
  dmi: { dir: "/sys/class/dmi/id", entryFile: "" },
  dmidecode: { cmd: ["dmidecode", "-t", "0,1,2,3,4,16,17"] },
  lsblk: { cmd: ["lsblk", "-J", "-b", "-o", "NAME,SIZE,TYPE,MODEL,SERIAL,VENDOR,TRAN,MOUNTPOINT,FSTYPE,LABEL"] },
  df: { cmd: ["df", "-P", "-k", "-T"], timeoutMs: 20_000 },
  "ip-addr": { cmd: ["ip", "-j", "addr"] },
  "ip-route": { cmd: ["ip", "-j", "route"] },
  "resolv.conf": { file: ["/etc/resolv.conf"], quiet: true },
  dpkg: { cmd: ["dpkg-query", "-W", "-f", "${Package}\\t${Version}\\t${Maintainer}\\t${Architecture}\\t${Installed-Size}\\t${db:Status-Abbrev}\\n"], quiet: true },
  rpm: { cmd: ["rpm", "-qa", "--qf", "%{NAME}\\t%{EPOCH}\\t%{VERSION}-%{RELEASE}\\t%{VENDOR}\\t%{ARCH}\\t%{SIZE}\\t%{INSTALLTIME}\\t%{SUMMARY}\\n"], quiet: true },
  flatpak: { cmd: ["flatpak", "list", "--columns=application,name,version,branch,arch,origin,installation"], quiet: true },
  snap: { cmd: ["snap", "list"], quiet: true },
  who: { cmd: ["who"] },
  passwd: { file: ["/etc/passwd"] },
  power_supply: { dir: "/sys/class/power_supply", entryFile: "uevent", quiet: true },
  drm: { dir: "/sys/class/drm", entryFile: "edid", binary: true, quiet: true },
};

function mergeCpu(cpu: Cpu, socket: Cpu): Cpu {
  const speed = speedFromName(cpu.name) ?? socket.speed ?? cpu.speed;
  return compact({ ...cpu, familyname: socket.familyname, id: socket.id, speed });
}

export function buildLinuxInventory(raw: Raw, now: Date, warn: Warn): CollectedContent {
  const c = emptyContent();
  const rel = osReleaseValues(raw["os-release"] ?? "");
  const arch = unameArch(str(raw["uname-m"]));
  c.operatingsystem = compact({
    name: rel.NAME || "Linux",
    version: rel.VERSION_ID || rel.BUILD_ID,
    full_name: rel.PRETTY_NAME,
    kernel_name: "linux",
    kernel_version: str(raw.kernel),
    arch,
    boot_time: bootTime(now, parseUptime(raw.uptime)),
    timezone: parseTimezone(raw.timezone),
  });

  const hypervisor = /^flags\s*:.*\bhypervisor\b/m.test(raw.cpuinfo ?? "");
  const sys = parseSysDmi(raw.dmi, warn, hypervisor);
  const dmi = parseDmidecode(raw.dmidecode ?? "");
  if (raw.dmidecode?.trim() && !dmi.length) warn("dmidecode: no SMBIOS records in its output");
  c.bios = { ...dmidecodeBios(dmi), ...sys.bios };
  c.memories = dmidecodeMemories(dmi);

  const who = signedInUsers(raw.who);
  c.hardware = compact({
    name: str(raw.hostname),
    ...dmidecodeHardware(dmi),
    ...sys.hardware,
    ...parseMeminfo(raw.meminfo ?? ""),
    dns: parseResolvConf(raw["resolv.conf"]),
    lastloggeduser: who[0]?.login,
  });

  const sockets = dmidecodeCpus(dmi);
  const cpus = parseCpuinfo(raw.cpuinfo ?? "", arch, raw.cpufreq);
  if (raw.cpuinfo && !cpus.length) warn("cpuinfo: no processor found");
  // dmidecode knows the family, the CPUID and a fixed speed; /proc/cpuinfo the rest. Merged when they agree on the count.
  c.cpus = cpus.length && cpus.length === sockets.length ? cpus.map((cpu, i) => mergeCpu(cpu, sockets[i]!)) : cpus.length ? cpus : sockets;

  c.storages = parseLsblkStorages(raw.lsblk, warn);
  c.drives = parseDf(raw.df, lsblkLabels(raw.lsblk), warn);

  const routes = parseIpRoute(raw["ip-route"], warn);
  c.networks = parseIpAddr(raw["ip-addr"], routes.byDev, warn);
  if (routes.gateway) c.hardware.defaultgateway = routes.gateway;

  if (raw.dpkg === undefined && raw.rpm === undefined) warn("software: neither dpkg-query nor rpm is available; only flatpak and snap packages are listed");
  const softwares: Software[] = [...parseDpkg(raw.dpkg, warn), ...parseRpm(raw.rpm, warn), ...parseFlatpak(raw.flatpak), ...parseSnap(raw.snap)];
  c.softwares = sortSoftwares(softwares);

  c.users = who;
  c.local_users = parsePasswd(raw.passwd);
  c.batteries = parseBatteries(raw.power_supply, warn);
  c.monitors = parseDrmMonitors(raw.drm, warn);
  return c;
}
