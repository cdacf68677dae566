/**
 * The macOS inventory collector on captured outputs of a MacBook Air M2 (Sonoma) and an
 * Intel iMac (Ventura) (test/fixtures/agent/inventory/macos/): system_profiler's JSON,
 * sw_vers, sysctl, ifconfig, route, pkgutil, who, dscl. macOS itself does not run here.
 */
import { describe, expect, test } from "bun:test";
import { macCpus, macMemories, parseSysctl } from "../../agent/src/inventory/macos/hardware.ts";
import { buildMacInventory, MACOS_SOURCES, parseSpUptime, SP_TYPES } from "../../agent/src/inventory/macos/index.ts";
import { macNetworks, parseIfconfig, parseRouteDefault } from "../../agent/src/inventory/macos/network.ts";
import { macApplications, parseDsclUsers, parsePkgutil } from "../../agent/src/inventory/macos/software.ts";
import { loadMachine } from "../fixtures/agent/inventory/fixtures.ts";

const air = loadMachine("macos", "macbook-air-m2");
const imac = loadMachine("macos", "imac-intel");
const NOW = new Date("2024-04-08T10:00:00Z");

function build(raw: Record<string, string>) {
  const warnings: string[] = [];
  return { c: buildMacInventory(raw, NOW, (w) => warnings.push(w)), warnings };
}

describe("parsers", () => {
  test("system_profiler runs once with every data type the collector reads", () => {
    expect((MACOS_SOURCES.system_profiler as { cmd: string[] }).cmd).toEqual(["system_profiler", "-json", ...SP_TYPES]);
    for (const t of ["SPHardwareDataType", "SPSoftwareDataType", "SPMemoryDataType", "SPStorageDataType", "SPNetworkDataType", "SPApplicationsDataType"]) expect(SP_TYPES).toContain(t);
    expect(parseSpUptime("up 2:3:41:12")).toBe(((2 * 24 + 3) * 60 + 41) * 60 + 12);
    expect(parseSpUptime("3 days")).toBeUndefined();
  });

  test("CPU: the chip on Apple silicon, the brand string and threads from sysctl on Intel", () => {
    const sp = (raw: Record<string, string>) => JSON.parse(raw.system_profiler!);
    expect(macCpus(sp(air), parseSysctl(air.sysctl), "aarch64")).toEqual([{ name: "Apple M2", manufacturer: "Apple", arch: "aarch64", core: 8, thread: 8 }]);
    expect(macCpus(sp(imac), parseSysctl(imac.sysctl), "x86_64")).toEqual([{ name: "Intel(R) Core(TM) i9-9900K CPU @ 3.60GHz", manufacturer: "Intel", arch: "x86_64", core: 8, thread: 16, speed: 3600 }]);
    // Without sysctl, system_profiler's own figures (the speed written "3,6 GHz" in French).
    expect(macCpus(sp(imac), {}, "x86_64")).toEqual([{ name: "Intel Core i9", manufacturer: "Intel", arch: "x86_64", core: 8, thread: 8, speed: 3600 }]);
  });

  test("memory: unified on Apple silicon; DIMM slots on Intel, empty slots skipped, hex part numbers decoded", () => {
    expect(macMemories(JSON.parse(air.system_profiler!))).toEqual([{ capacity: 16384, caption: "Unified memory", description: "Built-in", type: "LPDDR5", manufacturer: "Hynix", numslots: 1 }]);
    expect(macMemories(JSON.parse(imac.system_profiler!))).toEqual([
      { capacity: 16384, caption: "BANK 0/ChannelA-DIMM0", description: "SODIMM", type: "DDR4", speed: "2667", manufacturer: "Micron", serialnumber: "0x1F2E3D4C", model: "16ATF1G64HS1-2G6E1", numslots: 1 },
      { capacity: 16384, caption: "BANK 1/ChannelB-DIMM0", description: "SODIMM", type: "DDR4", speed: "2667", manufacturer: "Micron", serialnumber: "0x1F2E3D5A", model: "16ATF1G64HS1-2G6E1", numslots: 3 },
    ]);
  });

  test("ifconfig: hex netmasks, prefix lengths, temporary IPv6 dropped, status and media", () => {
    const en0 = parseIfconfig(air.ifconfig).find((i) => i.name === "en0")!;
    expect(en0).toEqual({
      name: "en0", flags: ["UP", "BROADCAST", "SMART", "RUNNING", "SIMPLEX", "MULTICAST"], mtu: 1500, mac: "a4:83:e7:12:34:56",
      v4: [{ ip: "192.168.1.23", mask: "255.255.255.0" }],
      v6: [{ ip: "fe80::1c2d:3e4f:5a6b:7c8d", prefix: 64 }, { ip: "2a01:e0a:1b2:c3d0:1c2d:3e4f:5a6b:7c8d", prefix: 64 }],
      status: "active", media: "autoselect",
    });
    expect(parseRouteDefault(imac.route)).toEqual({ gateway: "10.10.0.1", interface: "en0" });
    const nets = macNetworks(imac.ifconfig, JSON.parse(imac.system_profiler!), parseRouteDefault(imac.route));
    expect(nets[0]).toEqual({ description: "en0", mac: "38:f9:d3:2a:1b:0c", type: "ethernet", virtualdev: false, status: "up", mtu: 1500, speed: "1000", ipaddress: "10.10.0.77", ipmask: "255.255.255.0", ipsubnet: "10.10.0.0", ipgateway: "10.10.0.1" });
    expect(nets.map((n) => [n.description, n.type ?? "", n.virtualdev, n.status])).toEqual([
      ["en0", "ethernet", false, "up"], ["en0", "ethernet", false, "up"], ["en1", "wifi", false, "down"], ["utun0", "", true, "up"],
    ]);
  });

  test("applications: publisher from the signature, helpers and nested bundles left out; receipts without Apple's", () => {
    const apps = macApplications(JSON.parse(air.system_profiler!));
    expect(apps.map((a) => a.name)).toEqual(["Safari", "Google Chrome", "Microsoft Word", "Slack", "Zoom.us", "Calculator", "OldTool"]);
    expect(apps[1]).toEqual({
      name: "Google Chrome", version: "123.0.6312.106", publisher: "Google LLC", arch: "universal", install_date: "2024-04-02", folder: "/Applications/Google Chrome.app",
      comments: "Google Chrome 123.0.6312.106, Copyright 2024 Google LLC. All rights reserved.", from: "system_profiler",
    });
    expect(apps[3]!.publisher).toBeUndefined();
    expect(parsePkgutil(air.pkgutil).map((p) => p.name)).toEqual([
      "com.microsoft.package.Microsoft_Word.app", "com.microsoft.package.Microsoft_AutoUpdate.app", "com.microsoft.pkg.licensing", "com.googlecode.munki.core", "com.googlecode.munki.app", "us.zoom.pkg.videomeeting",
    ]);
    expect(parseDsclUsers(air.dscl)).toEqual([{ id: "501", login: "claire" }, { id: "502", login: "itadmin" }, { id: "0", login: "root" }]);
  });
});

describe("whole machines", () => {
  test("MacBook Air M2", () => {
    const { c, warnings } = build(air);
    expect(warnings).toEqual([]);
    expect(c.hardware).toEqual({ name: "MacBook-Air-de-Claire", uuid: "3f1d2c4b-8a9e-5b7c-9d0e-1f2a3b4c5d6e", memory: 16384, chassis_type: "Laptop", vmsystem: "Physical", dns: "192.168.1.254", defaultgateway: "192.168.1.254", lastloggeduser: "claire" });
    expect(c.operatingsystem).toEqual({ name: "macOS", version: "14.4.1", full_name: "macOS 14.4.1 (23E224)", kernel_name: "darwin", kernel_version: "23.4.0", arch: "aarch64", boot_time: "2024-04-06 06:18:48", timezone: { name: "CEST", offset: "+0200" } });
    expect(c.bios).toEqual({ smanufacturer: "Apple Inc.", smodel: "MacBook Air (Mac14,2)", ssn: "LX4QW7HJ2P", skunumber: "MLY33FN/A", bmanufacturer: "Apple Inc.", bversion: "10151.101.3" });
    expect(c.storages).toEqual([{ name: "disk0", model: "APPLE SSD AP0512Z", manufacturer: "Apple", serial: "0ba0162c41a83e1f", firmware: "532.100.", interface: "NVMe", type: "SSD", disksize: 500278 }]);
    expect(c.drives.map((d) => [d.type, d.filesystem, d.total, d.free])).toEqual([["/System/Volumes/Data", "APFS", 471482, 297876], ["/", "APFS", 471482, 297876]]);
    expect(c.batteries).toEqual([{ name: "bq40z651", manufacturer: "SMP", serial: "F8Y2345ABCD1XYZ7", chemistry: "lithium-ion" }]);
    expect(c.monitors).toEqual([
      { name: "Color LCD", caption: "Color LCD", manufacturer: "Apple", serial: "fd626d62", port: "internal" },
      { name: "DELL U2723QE", caption: "DELL U2723QE", manufacturer: "Dell", serial: "4c4b4a33", description: "12/2023", port: "displayport_dongletype_dp" },
    ]);
    expect(c.printers).toEqual([{ name: "HP LaserJet Pro M404dn", driver: "HP LaserJet Pro M404-M405", port: "ipp://hp-m404.local.:631/ipp/print", network: true, shared: false }]);
    expect(c.softwares).toHaveLength(7 + 6);
    expect(c.users).toEqual([{ login: "claire" }]);
  });

  test("iMac (Intel, Fusion Drive, an external USB disk)", () => {
    const { c } = build(imac);
    expect(c.storages.map((s) => [s.name, s.interface, s.type, s.serial, s.disksize])).toEqual([["disk0", "NVMe", "SSD", "C0781234A01PPJT1A", 28000], ["disk1", "SATA", "HDD", "Z4Z1ABCD", 2000399]]);
    expect(c.drives.at(-1)).toEqual({ volumn: "/dev/disk5s2", type: "/Volumes/Sauvegardes", label: "Sauvegardes", filesystem: "HFS+", serial: "7E6D5C4B-3A29-4817-8695-A4B3C2D1E0F9", total: 953541, free: 774713 });
    expect(c.hardware).toMatchObject({ chassis_type: "All in One", memory: 32768, dns: "10.10.0.10/10.10.0.11" });
    expect(c.operatingsystem).toMatchObject({ version: "13.6.6", arch: "x86_64", boot_time: "2024-04-08 08:47:20" });
    expect(c.monitors).toEqual([{ name: "iMac", caption: "iMac", manufacturer: "Apple", port: "internal" }]);
    expect(c.batteries).toEqual([]);
    expect(c.printers).toEqual([]);
  });

  test("bad output: system_profiler truncated or missing, other commands garbage", () => {
    const truncated = build({ ...air, system_profiler: air.system_profiler!.slice(0, 4000) });
    expect(truncated.warnings).toHaveLength(1);
    expect(truncated.warnings[0]).toStartWith("system_profiler: not JSON");
    expect(truncated.c.softwares.every((s) => s.from === "pkgutil")).toBe(true);
    expect(truncated.c.networks.length).toBeGreaterThan(0);
    expect(build({ system_profiler: '{"SPSoftwareDataType": []}' }).warnings).toEqual(["system_profiler: no SPHardwareDataType in its output"]);
    const garbage = build(Object.fromEntries(Object.keys(MACOS_SOURCES).map((k) => [k, "\u0000 ???"])));
    expect([garbage.c.cpus, garbage.c.networks, garbage.c.softwares, garbage.c.users, garbage.c.local_users]).toEqual([[], [], [], [], []]);
    expect(build({}).c.operatingsystem).toEqual({ kernel_name: "darwin" });
  });
});
