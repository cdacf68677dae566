/**
 * The Linux inventory collector: each parser on captured outputs of three machines (a Dell
 * PowerEdge running Debian 12, a ThinkPad with Ubuntu 22.04, a RHEL 9 KVM guest without
 * dmidecode; test/fixtures/agent/inventory/linux/), bad input, the source gathering with
 * missing commands, and the real commands on this machine.
 */
import { describe, expect, test } from "bun:test";
import os from "node:os";
import { collectInventory } from "../../agent/src/inventory/collect.ts";
import { parseEdid } from "../../agent/src/inventory/edid.ts";
import { lsblkLabels, parseDf, parseLsblkStorages } from "../../agent/src/inventory/linux/block.ts";
import { parseBatteries, parseDrmMonitors } from "../../agent/src/inventory/linux/devices.ts";
import { dmidecodeBios, dmidecodeCpus, dmidecodeMemories, parseDmidecode, parseSysDmi, smbiosDate } from "../../agent/src/inventory/linux/dmi.ts";
import { buildLinuxInventory, LINUX_SOURCES } from "../../agent/src/inventory/linux/index.ts";
import { parseIpAddr, parseIpRoute, parseResolvConf } from "../../agent/src/inventory/linux/network.ts";
import { parseDpkg, parseFlatpak, parseRpm, parseSnap } from "../../agent/src/inventory/linux/packages.ts";
import { parseCpuinfo, parseMeminfo, parseUptime } from "../../agent/src/inventory/linux/proc.ts";
import { parsePasswd, signedInUsers } from "../../agent/src/inventory/linux/users.ts";
import { gatherSources, type SourceDeps } from "../../agent/src/inventory/sources.ts";
import { glpiSchemaErrors, loadMachine } from "../fixtures/agent/inventory/fixtures.ts";

const server = loadMachine("linux", "debian-server");
const laptop = loadMachine("linux", "ubuntu-laptop");
const vm = loadMachine("linux", "rhel-vm");
const NOW = new Date("2024-04-08T10:00:00Z");

function collecting() {
  const warnings: string[] = [];
  return { warnings, warn: (w: string) => void warnings.push(w) };
}

describe("/proc", () => {
  test("cpuinfo: one entry per package, speed from the model name, cpufreq, or cpu MHz", () => {
    const xeon = parseCpuinfo(server.cpuinfo!, "x86_64", server.cpufreq);
    expect(xeon).toHaveLength(2);
    expect(xeon[1]).toEqual({ name: "Intel(R) Xeon(R) Silver 4310 CPU @ 2.10GHz", manufacturer: "Intel", arch: "x86_64", core: 12, thread: 24, speed: 2100, familynumber: "6", model: "106", stepping: 6, cache: "18432" });
    // A hybrid laptop CPU has no "@ GHz" in its name: cpufreq's maximum, not the moving "cpu MHz".
    expect(parseCpuinfo(laptop.cpuinfo!, "x86_64", laptop.cpufreq)).toEqual([
      { name: "12th Gen Intel(R) Core(TM) i7-1260P", manufacturer: "Intel", arch: "x86_64", core: 12, thread: 16, speed: 4700, familynumber: "6", model: "154", stepping: 3, cache: "18432" },
    ]);
    // QEMU's default topology: four sockets of one core; no cpufreq in a guest.
    const guest = parseCpuinfo(vm.cpuinfo!, "x86_64");
    expect(guest.map((c) => [c.core, c.thread, c.speed])).toEqual([[1, 1, 2095], [1, 1, 2095], [1, 1, 2095], [1, 1, 2095]]);
  });

  test("cpuinfo on ARM: implementer and part named, the board's Model line ignored for the CPU", () => {
    const pi = ["0", "1", "2", "3"].map((n) => `processor\t: ${n}\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n`).join("\n");
    const text = `${pi}\nHardware\t: BCM2835\nRevision\t: c03114\nSerial\t\t: 10000000abcdef01\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n`;
    expect(parseCpuinfo(text, "aarch64", "1800000")).toEqual([{ name: "ARM Cortex-A72", manufacturer: "ARM", arch: "aarch64", core: 4, thread: 4, speed: 1800 }]);
  });

  test("meminfo and uptime", () => {
    expect(parseMeminfo(server.meminfo!)).toEqual({ memory: 128536, swap: 8191 });
    expect(parseMeminfo("MemTotal:        7864532 kB\n")).toEqual({ memory: 7680 });
    expect(parseUptime(server.uptime)).toBe(1843217);
    expect(parseUptime("nonsense")).toBeUndefined();
  });
});

describe("SMBIOS", () => {
  test("sysfs DMI: BIOS and identity, placeholders dropped, chassis and hypervisor named", () => {
    const { warn } = collecting();
    expect(parseSysDmi(server.dmi, warn)).toEqual({
      bios: {
        bmanufacturer: "Dell Inc.", bversion: "1.12.2", bdate: "2024-02-13", smanufacturer: "Dell Inc.", smodel: "PowerEdge R650xs", ssn: "8HQJKT3",
        skunumber: "SKU=0B1A;ModelName=PowerEdge R650xs", mmanufacturer: "Dell Inc.", mmodel: "0PYVT1", msn: ".8HQJKT3.CNFCP0022100G9.", assettag: "SRV-0042", enclosureserial: "8HQJKT3",
      },
      hardware: { uuid: "4c4c4544-0048-5110-804a-b8c04f4b5433", chassis_type: "Rack Mount Chassis", vmsystem: "Physical" },
    });
    expect(parseSysDmi(vm.dmi, warn).hardware).toEqual({ uuid: "2f6c8e4a-91b3-4d57-a0c2-7e5b1d9f3a64", chassis_type: "Other", vmsystem: "KVM" });
    // Lenovo's "No Asset Information" is a placeholder.
    expect(parseSysDmi(laptop.dmi, warn).bios.assettag).toBeUndefined();
    expect(smbiosDate("02/13/2024")).toBe("2024-02-13");
    expect(smbiosDate("13/02/2024")).toBeUndefined();
  });

  test("dmidecode: memory modules (populated slots only, JEDEC makers named), sockets, BIOS", () => {
    const records = parseDmidecode(server.dmidecode!);
    const modules = dmidecodeMemories(records);
    expect(modules).toHaveLength(8);
    expect(modules[4]).toEqual({ capacity: 16384, caption: "B1", description: "DIMM", type: "DDR4", speed: "3200", manufacturer: "SK Hynix", serialnumber: "35A1B3A0", model: "HMA82GR7DJR8N-XN", numslots: 9, memorycorrection: "Multi-bit ECC" });
    expect(dmidecodeCpus(records)).toEqual([
      { name: "Intel(R) Xeon(R) Silver 4310 CPU @ 2.10GHz", manufacturer: "Intel", familyname: "Xeon", id: "A6 06 06 00 FF FB EB BF", core: 12, thread: 24, speed: 2100 },
      { name: "Intel(R) Xeon(R) Silver 4310 CPU @ 2.10GHz", manufacturer: "Intel", familyname: "Xeon", id: "A6 06 06 00 FF FB EB BF", core: 12, thread: 24, speed: 2100 },
    ]);
    expect(dmidecodeBios(records)).toMatchObject({ bmanufacturer: "Dell Inc.", bdate: "2024-02-13", ssn: "8HQJKT3", assettag: "SRV-0042" });
    expect(dmidecodeMemories(parseDmidecode(laptop.dmidecode!))).toEqual([
      { capacity: 16384, caption: "Controller0-ChannelA-DIMM0", description: "Row Of Chips", type: "DDR4", speed: "3200", manufacturer: "Samsung", model: "M471A2G43CB2-CWE", numslots: 1, memorycorrection: "None" },
      { capacity: 16384, caption: "Controller1-ChannelA-DIMM0", description: "SODIMM", type: "DDR4", speed: "3200", manufacturer: "Crucial Technology", serialnumber: "E8F1A2B3", model: "CT16G4SFRA32A.M16FR", numslots: 2, memorycorrection: "None" },
    ]);
  });
});

describe("disks and file systems", () => {
  test("lsblk: disks only (no partitions, loops, zram), sizes in decimal MB, makers from models", () => {
    const { warn } = collecting();
    expect(parseLsblkStorages(server.lsblk, warn)).toEqual([
      { name: "sda", model: "MZ7L3480HCHQ0D3", manufacturer: "Samsung", serial: "S6JKNE0T123456", interface: "SATA", type: "disk", disksize: 480104 },
      { name: "sdb", model: "MZ7L3480HCHQ0D3", manufacturer: "Samsung", serial: "S6JKNE0T123457", interface: "SATA", type: "disk", disksize: 480104 },
      { name: "sdc", model: "PERC H755 Front", manufacturer: "DELL", serial: "6f4ee0806f2c1d002d7e1f3a0b5c6d7e", type: "disk", disksize: 7199125 },
    ]);
    expect(parseLsblkStorages(vm.lsblk, warn)).toEqual([
      { name: "sr0", model: "QEMU DVD-ROM", manufacturer: "QEMU", serial: "QM00002", interface: "IDE", type: "cdrom", disksize: 1074 },
      { name: "vda", manufacturer: "Virtio", interface: "virtio", type: "disk", disksize: 53687 },
      { name: "vdb", manufacturer: "Virtio", serial: "erp-data", interface: "virtio", type: "disk", disksize: 214748 },
    ]);
    expect(parseLsblkStorages(laptop.lsblk, warn).map((s) => [s.name, s.interface])).toEqual([["nvme0n1", "NVMe"], ["sda", "USB"]]);
  });

  test("lsblk before util-linux 2.33 prints every value as a string", () => {
    const old = JSON.stringify({ blockdevices: [{ name: "sda", size: "500107862016", type: "disk", model: "WDC WD5000AAKX-0", serial: "WD-WCC2E1234567", vendor: "ATA     ", tran: "sata", mountpoint: null, fstype: null, label: null }] });
    expect(parseLsblkStorages(old, () => {})).toEqual([{ name: "sda", model: "WDC WD5000AAKX-0", manufacturer: "Western Digital", serial: "WD-WCC2E1234567", interface: "SATA", type: "disk", disksize: 500108 }]);
  });

  test("df: real file systems with labels from lsblk, in MiB; pseudo ones, snaps and overlays left out", () => {
    const { warn, warnings } = collecting();
    expect(parseDf(server.df, lsblkLabels(server.lsblk), warn)).toEqual([
      { volumn: "/dev/mapper/vg0-root", type: "/", filesystem: "ext4", label: "root", total: 60167, free: 45514 },
      { volumn: "/dev/md0", type: "/boot", filesystem: "ext4", label: "boot", total: 975, free: 766 },
      { volumn: "/dev/mapper/vg0-var", type: "/var", filesystem: "ext4", total: 100220, free: 57177 },
      { volumn: "/dev/sda1", type: "/boot/efi", filesystem: "vfat", total: 510, free: 505 },
      { volumn: "/dev/sdc1", type: "/srv", filesystem: "xfs", label: "data", total: 6865617, free: 2848164 },
    ]);
    // A mount point with a space; NFS is kept.
    expect(parseDf(laptop.df, lsblkLabels(laptop.lsblk), warn).at(-1)).toEqual({ volumn: "/dev/sda1", type: "/media/claire/KEY 64", filesystem: "exfat", label: "KEY 64", total: 59828, free: 39888 });
    expect(parseDf(vm.df, lsblkLabels(vm.lsblk), warn).map((d) => d.type)).toEqual(["/", "/boot", "/var/lib/pgsql", "/mnt/backup"]);
    expect(warnings).toEqual([]);
  });
});

describe("network", () => {
  test("ip addr + ip route: one entry per address, loopback and temporary IPv6 left out, gateway on its interface", () => {
    const { warn } = collecting();
    const routes = parseIpRoute(laptop["ip-route"], warn);
    expect(routes.gateway).toBe("192.168.1.254");
    const nets = parseIpAddr(laptop["ip-addr"], routes.byDev, warn);
    expect(nets.map((n) => n.ipaddress ?? n.ipaddress6 ?? `(${n.description})`)).toEqual([
      "(enp0s31f6)", "192.168.1.34", "2a01:e0a:1b2:c3d0:a2b3:39ff:fe4d:7e12", "fe80::a2b3:39ff:fe4d:7e12", "100.101.102.103", "fd7a:115c:a1e0::e701:6667",
    ]);
    expect(nets[1]).toEqual({ description: "wlp0s20f3", mac: "a0:b3:39:4d:7e:12", type: "wifi", virtualdev: false, status: "up", mtu: 1500, ipaddress: "192.168.1.34", ipmask: "255.255.255.0", ipsubnet: "192.168.1.0", ipgateway: "192.168.1.254" });
    expect(nets[2]).toMatchObject({ ipmask6: "ffff:ffff:ffff:ffff::", ipsubnet6: "2a01:e0a:1b2:c3d0::" });
    expect(nets[4]).toMatchObject({ description: "tailscale0", virtualdev: true, status: "up" });
    const srv = parseIpAddr(server["ip-addr"], parseIpRoute(server["ip-route"], warn).byDev, warn);
    expect(srv.find((n) => n.description === "docker0")).toMatchObject({ type: "bridge", virtualdev: true, status: "down", ipsubnet: "172.17.0.0" });
    expect(parseResolvConf(server["resolv.conf"])).toBe("10.10.0.10/10.10.0.11");
  });
});

describe("software", () => {
  test("dpkg: installed packages only (removed-not-purged left out), sizes in bytes, maintainer without email", () => {
    const { warn } = collecting();
    const debs = parseDpkg(server.dpkg, warn);
    expect(debs).toHaveLength(30);
    expect(debs.find((d) => d.name.startsWith("linux-image-6.1.0-17"))).toBeUndefined();
    expect(debs.find((d) => d.name === "docker-ce")).toEqual({ name: "docker-ce", version: "5:25.0.4-1~debian.12~bookworm", publisher: "Docker", arch: "amd64", filesize: 106430464, from: "deb" });
    // The five columns of the plain format (no status column) are read too.
    expect(parseDpkg("bash\t5.2.15-2+b2\tMatthias Klose <doko@debian.org>\tamd64\t7164\n", warn)).toEqual([{ name: "bash", version: "5.2.15-2+b2", publisher: "Matthias Klose", arch: "amd64", filesize: 7335936, from: "deb" }]);
  });

  test("rpm: epoch, install date, summary; the imported gpg keys are not software", () => {
    const { warn } = collecting();
    const rpms = parseRpm(vm.rpm, warn);
    expect(rpms).toHaveLength(17);
    expect(rpms.find((r) => r.name === "java-17-openjdk-headless")).toEqual({
      name: "java-17-openjdk-headless", version: "1:17.0.10.0.7-2.el9", publisher: "Red Hat, Inc.", arch: "x86_64", filesize: 178906424, install_date: "2024-02-08", comments: "OpenJDK 17 Headless Runtime Environment", from: "rpm",
    });
    expect(rpms.filter((r) => r.name === "kernel").map((r) => r.version)).toEqual(["5.14.0-362.24.1.el9_3", "5.14.0-362.18.1.el9_3"]);
  });

  test("flatpak and snap", () => {
    expect(parseFlatpak(laptop.flatpak)).toEqual([
      { name: "GNU Image Manipulation Program", version: "2.10.36", arch: "x86_64", publisher: "flathub", guid: "org.gimp.GIMP", comments: "system installation", from: "flatpak" },
      { name: "Flatseal", version: "2.1.1", arch: "x86_64", publisher: "flathub", guid: "com.github.tchx84.Flatseal", comments: "user installation", from: "flatpak" },
      { name: "Freedesktop Platform", version: "23.08.15", arch: "x86_64", publisher: "flathub", guid: "org.freedesktop.Platform", comments: "system installation", from: "flatpak" },
      { name: "GNOME Application Platform version 45", version: "45", arch: "x86_64", publisher: "flathub", guid: "org.gnome.Platform", comments: "system installation", from: "flatpak" },
    ]);
    const snaps = parseSnap(laptop.snap);
    expect(snaps).toHaveLength(8);
    expect(snaps[2]).toEqual({ name: "firefox", version: "124.0.2-1", publisher: "mozilla", comments: "revision 4090", from: "snap" });
    expect(snaps[0]).toEqual({ name: "bare", version: "1.0", publisher: "canonical", comments: "revision 5", system_category: "base", from: "snap" });
  });
});

describe("people and devices", () => {
  test("who and /etc/passwd: people, not system accounts", () => {
    expect(signedInUsers(laptop.who)).toEqual([{ login: "claire" }]);
    expect(parsePasswd(server.passwd)).toEqual([
      { id: "0", login: "root", name: "root", home: "/root", shell: "/bin/bash" },
      { id: "1000", login: "admin", name: "Service informatique", home: "/home/admin", shell: "/bin/bash" },
      { id: "1001", login: "jmartin", name: "Julien Martin", home: "/home/jmartin", shell: "/bin/bash" },
    ]);
    expect(parsePasswd(laptop.passwd).map((u) => u.login)).toEqual(["root", "claire"]);
  });

  test("batteries from uevent (µWh → mWh), peripherals' batteries left out", () => {
    expect(parseBatteries(laptop.power_supply, () => {})).toEqual([
      { name: "5B10W51867", manufacturer: "SMP", serial: "856", chemistry: "lithium-polymer", capacity: 52500, real_capacity: 46220, voltage: 15440 },
    ]);
    const charge = JSON.stringify({ BAT1: "POWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_PRESENT=1\nPOWER_SUPPLY_VOLTAGE_MIN_DESIGN=11100000\nPOWER_SUPPLY_CHARGE_FULL_DESIGN=4400000\nPOWER_SUPPLY_CHARGE_FULL=4000000\n" });
    expect(parseBatteries(charge, () => {})).toEqual([{ name: "BAT1", capacity: 48840, real_capacity: 44400, voltage: 11100 }]);
  });

  test("monitors from EDID: maker, name and serial descriptors; a bad checksum is not an EDID", () => {
    const { warn, warnings } = collecting();
    expect(parseDrmMonitors(laptop.drm, warn)).toEqual([
      { name: "DELL U2723QE", caption: "DELL U2723QE", manufacturer: "Dell", serial: "9QKJ3H3", description: "12/2023", port: "DP-1" },
      { manufacturer: "BOE", description: "1/2022", port: "eDP-1" },
    ]);
    const edid = Buffer.from(JSON.parse(laptop.drm!)["card1-DP-1"], "base64");
    edid[20] = edid[20]! ^ 1;
    expect(parseEdid(edid)).toBeUndefined();
    expect(parseDrmMonitors(JSON.stringify({ "card0-HDMI-A-1": edid.toString("base64") }), warn)).toEqual([]);
    expect(warnings).toEqual(["drm: card0-HDMI-A-1: not an EDID"]);
  });
});

describe("the whole Linux collector on captured machines", () => {
  test("Debian server", () => {
    const { warn, warnings } = collecting();
    const c = buildLinuxInventory(server, NOW, warn);
    expect(warnings).toEqual([]);
    expect(c.hardware).toEqual({
      name: "srv-files-01", uuid: "4c4c4544-0048-5110-804a-b8c04f4b5433", chassis_type: "Rack Mount Chassis", vmsystem: "Physical",
      memory: 128536, swap: 8191, dns: "10.10.0.10/10.10.0.11", lastloggeduser: "admin", defaultgateway: "10.10.0.1",
    });
    expect(c.operatingsystem).toEqual({
      name: "Debian GNU/Linux", version: "12", full_name: "Debian GNU/Linux 12 (bookworm)", kernel_name: "linux", kernel_version: "6.1.0-18-amd64",
      arch: "x86_64", boot_time: "2024-03-18 01:59:43", timezone: { name: "CET", offset: "+0100" },
    });
    expect(c.cpus[0]).toEqual({ name: "Intel(R) Xeon(R) Silver 4310 CPU @ 2.10GHz", manufacturer: "Intel", arch: "x86_64", core: 12, thread: 24, speed: 2100, familynumber: "6", model: "106", stepping: 6, cache: "18432", familyname: "Xeon", id: "A6 06 06 00 FF FB EB BF" });
    expect([c.memories.length, c.storages.length, c.drives.length, c.networks.length, c.softwares.length]).toEqual([8, 3, 5, 5, 30]);
    expect([c.batteries, c.monitors, c.antivirus, c.printers]).toEqual([[], [], [], []]);
  });

  test("Ubuntu laptop: deb + snap + flatpak in one sorted list, battery, monitors", () => {
    const c = buildLinuxInventory(laptop, NOW, () => {});
    expect(c.softwares.length).toBe(20 + 8 + 4);
    expect(c.softwares.filter((s) => s.name === "firefox").map((s) => s.from)).toEqual(["snap", "deb"]);
    const names = c.softwares.map((s) => s.name.toLowerCase());
    expect(names).toEqual([...names].sort());
    expect(c.cpus).toEqual([{ name: "12th Gen Intel(R) Core(TM) i7-1260P", manufacturer: "Intel", arch: "x86_64", core: 12, thread: 16, speed: 2100, familynumber: "6", model: "154", stepping: 3, cache: "18432", familyname: "Core i7", id: "A3 06 09 00 FF FB EB BF" }]);
    expect(c.hardware).toMatchObject({ chassis_type: "Notebook", memory: 31745, lastloggeduser: "claire" });
    expect([c.batteries.length, c.monitors.length]).toEqual([1, 2]);
  });

  test("RHEL VM without dmidecode: no memory modules, the rest intact", () => {
    const { warn, warnings } = collecting();
    const c = buildLinuxInventory(vm, NOW, warn);
    expect(warnings).toEqual([]);
    expect(c.memories).toEqual([]);
    expect(c.bios).toEqual({ bmanufacturer: "SeaBIOS", bversion: "1.16.1-1.el9", bdate: "2014-04-01", smanufacturer: "Red Hat", smodel: "KVM", skunumber: "RHEL" });
    expect(c.operatingsystem).toMatchObject({ name: "Red Hat Enterprise Linux", version: "9.3", kernel_version: "5.14.0-362.24.1.el9_3.x86_64" });
    expect(c.cpus).toHaveLength(4);
    expect(c.softwares.every((s) => s.from === "rpm")).toBe(true);
  });

  test("nothing readable: every part empty, one warning per unreadable output, no throw", () => {
    const { warn, warnings } = collecting();
    const garbage = Object.fromEntries(Object.keys(LINUX_SOURCES).map((k) => [k, "\u0000{not: [what, was, expected"]));
    const c = buildLinuxInventory(garbage, NOW, warn);
    expect([c.cpus, c.memories, c.storages, c.drives, c.networks, c.softwares, c.users, c.local_users, c.batteries, c.monitors]).toEqual([[], [], [], [], [], [], [], [], [], []]);
    expect(warnings).toEqual([
      "dmi: not JSON (JSON Parse error: Unrecognized token '\u0000')",
      "dmidecode: no SMBIOS records in its output",
      "cpuinfo: no processor found",
      "lsblk: not JSON (JSON Parse error: Unrecognized token '\u0000')",
      "df: unexpected header, expected `df -P -k -T` output",
      "ip route: not JSON (JSON Parse error: Unrecognized token '\u0000')",
      "ip addr: not JSON (JSON Parse error: Unrecognized token '\u0000')",
      "dpkg: 1 unreadable line(s) skipped",
      "rpm: 1 unreadable line(s) skipped",
      "power_supply: not JSON (JSON Parse error: Unrecognized token '\u0000')",
      "drm: not JSON (JSON Parse error: Unrecognized token '\u0000')",
    ]);
    expect(buildLinuxInventory({}, NOW, warn).operatingsystem).toEqual({ name: "Linux", kernel_name: "linux" });
  });
});

describe("reading the sources", () => {
  test("a missing command warns unless its absence is normal; a failing one warns; folders become JSON", async () => {
    const files: Record<string, string> = { "/etc/os-release": "ID=debian\n", "/sys/class/dmi/id/sys_vendor": "QEMU\n", "/sys/class/dmi/id/product_name": "Standard PC\n" };
    const deps: SourceDeps = {
      run: async (argv) => (argv[0] === "df" ? { stdout: "", code: 1 } : argv[0] === "who" ? { stdout: "root pts/0 2024-01-01 10:00\n", code: 0 } : { stdout: "", code: 127, missing: true }),
      readFile: async (p) => (p in files ? Buffer.from(files[p]!) : undefined),
      listDir: async (p) => (p === "/sys/class/dmi/id" ? ["product_name", "sys_vendor", "power"] : undefined),
    };
    const { warn, warnings } = collecting();
    const raw = await gatherSources(LINUX_SOURCES, deps, warn);
    expect(raw["os-release"]).toBe("ID=debian\n");
    expect(JSON.parse(raw.dmi!)).toEqual({ product_name: "Standard PC\n", sys_vendor: "QEMU\n" });
    expect(raw.who).toBe("root pts/0 2024-01-01 10:00\n");
    expect([raw.dmidecode, raw.rpm, raw.df]).toEqual([undefined, undefined, undefined]);
    expect(warnings.sort()).toEqual([
      "cpuinfo: cannot read /proc/cpuinfo",
      "df: df -P -k -T failed (exit 1)",
      "dmidecode: dmidecode is not installed, so this part is empty",
      "hostname: cannot read /proc/sys/kernel/hostname",
      "ip-addr: ip is not installed, so this part is empty",
      "ip-route: ip is not installed, so this part is empty",
      "kernel: cannot read /proc/sys/kernel/osrelease",
      "lsblk: lsblk is not installed, so this part is empty",
      "meminfo: cannot read /proc/meminfo",
      "passwd: cannot read /etc/passwd",
      "timezone: date is not installed, so this part is empty",
      "uname-m: uname is not installed, so this part is empty",
      "uptime: cannot read /proc/uptime",
    ]);
    const c = buildLinuxInventory(raw, NOW, warn);
    expect(c.hardware).toEqual({ lastloggeduser: "root", vmsystem: "QEMU" });
    expect(c.bios).toEqual({ smanufacturer: "QEMU", smodel: "Standard PC" });
  });
});

describe("on this machine", () => {
  test.if(process.platform === "linux")(
    "the real commands give a sane inventory (parts whose command is missing stay empty)",
    async () => {
      const has = (cmd: string) => Bun.which(cmd) !== null;
      const { warn, warnings } = collecting();
      const started = performance.now();
      const doc = await collectInventory({ agentId: "7", warn });
      const ms = performance.now() - started;
      const c = doc.content;
      expect(glpiSchemaErrors(doc)).toEqual([]);
      expect(doc.deviceid).toBe(`${os.hostname().replace(/\..*$/, "").toLowerCase()}-7`);
      expect(c.hardware.name).toBe(os.hostname().replace(/\..*$/, ""));
      // MemTotal and os.totalmem() read the same counter.
      expect(Math.abs(c.hardware.memory! - os.totalmem() / 1048576)).toBeLessThan(2);
      expect(c.cpus.reduce((n, cpu) => n + (cpu.thread ?? 0), 0)).toBe(os.cpus().length);
      expect(c.operatingsystem).toMatchObject({ kernel_name: "linux", kernel_version: os.release() });
      if (has("ip")) {
        const ours = Object.entries(os.networkInterfaces()).flatMap(([name, addrs]) => (addrs ?? []).filter((a) => !a.internal && a.family === "IPv4").map((a) => `${name} ${a.address}`));
        expect(c.networks.filter((n) => n.ipaddress).map((n) => `${n.description} ${n.ipaddress}`).sort()).toEqual(ours.sort());
      }
      if (has("df")) expect(c.drives.some((d) => d.type === "/")).toBe(true);
      if (has("dpkg-query")) {
        const count = Bun.spawnSync(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}\n"]).stdout.toString().split("\n").filter((l) => /^[ih]i/.test(l)).length;
        expect(c.softwares.filter((s) => s.from === "deb").length).toBe(count);
        expect(c.softwares.find((s) => s.name === "dpkg")).toMatchObject({ from: "deb", publisher: "Dpkg Developers" });
      }
      if (has("who")) expect(c.users.length).toBe(new Set(Bun.spawnSync(["who"]).stdout.toString().split("\n").filter(Boolean).map((l) => l.split(/\s+/)[0])).size);
      // A container or a VM without SMBIOS tables: dmidecode runs and finds nothing.
      for (const w of warnings) expect(w).toMatch(/is not installed|cannot read|cannot list|no SMBIOS records/);
      console.log(`inventory of this machine: ${Math.round(ms)} ms, ${c.softwares.length} packages, ${c.networks.length} network entries; warnings: ${warnings.join("; ") || "none"}`);
    },
    60_000,
  );
});
