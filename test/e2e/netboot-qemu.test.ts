/**
 * Network boot with real PXE clients (issue 8): a qemu VM (TCG) boots on a bridge in a
 * network namespace where Debian's dnsmasq hands out addresses only, and our proxyDHCP,
 * TFTP and HTTP menus (medulla serve, from the sources) do the rest; once with SeaBIOS and
 * qemu's iPXE ROM, once with UEFI (OVMF: its own PXE client fetches snponly.efi over our
 * TFTP). The test reads the serial console, sees our registration menu, types a name,
 * sees the machine's own menu, and finds the machine in the database.
 *
 *   netns nbq:  bridge nbbr0 10.77.0.1/24 ── tap nbtap0 (qemu) ── veth nbv0
 *   netns nbd:  veth nbv1 10.77.0.2/24, dnsmasq (addresses only, no DNS)
 *
 * Root only (namespaces, ports 67/69/4011); skipped with a message otherwise. Every
 * namespace, process and file the test creates is removed at the end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bun, root, waitFor } from "./helpers.ts";

const NS = "nbq";
const DNS_NS = "nbd";
const OVMF_CODE = ["/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_CODE.fd"].find((f) => existsSync(f));
const OVMF_VARS = OVMF_CODE?.includes("_4M") ? "/usr/share/OVMF/OVMF_VARS_4M.fd" : "/usr/share/OVMF/OVMF_VARS.fd";
const isRoot = process.getuid?.() === 0;
const missing = [
  ["qemu-system-x86_64", "/usr/bin/qemu-system-x86_64", "qemu-system-x86"],
  ["dnsmasq", "/usr/sbin/dnsmasq", "dnsmasq-base"],
  ["iPXE", "/usr/lib/ipxe/undionly.kpxe", "ipxe"],
  ["OVMF", OVMF_CODE ?? "/usr/share/OVMF/OVMF_CODE_4M.fd", "ovmf"],
].filter(([, path]) => !existsSync(path!));
const skip = !isRoot || missing.length > 0;
if (!isRoot) console.warn("netboot-qemu: skipped: needs root (network namespaces, UDP ports 67, 69 and 4011)");
else if (missing.length) console.warn(`netboot-qemu: skipped: missing ${missing.map(([n, , pkg]) => `${n} (apt install ${pkg})`).join(", ")}`);

function sh(cmd: string[], allowFail = false): string {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0 && !allowFail) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}
const inNs = (ns: string, ...cmd: string[]) => ["ip", "netns", "exec", ns, ...cmd];

function teardown(): void {
  for (const ns of [NS, DNS_NS]) sh(["ip", "netns", "del", ns], true);
}

function setup(): void {
  teardown();
  sh(["ip", "netns", "add", NS]);
  sh(["ip", "netns", "add", DNS_NS]);
  sh(inNs(NS, "ip", "link", "set", "lo", "up"));
  sh(inNs(DNS_NS, "ip", "link", "set", "lo", "up"));
  sh(inNs(NS, "ip", "link", "add", "nbbr0", "type", "bridge"));
  sh(inNs(NS, "ip", "addr", "add", "10.77.0.1/24", "brd", "+", "dev", "nbbr0"));
  sh(inNs(NS, "ip", "link", "set", "nbbr0", "up"));
  sh(inNs(NS, "ip", "tuntap", "add", "dev", "nbtap0", "mode", "tap"));
  sh(inNs(NS, "ip", "link", "set", "nbtap0", "master", "nbbr0"));
  sh(inNs(NS, "ip", "link", "set", "nbtap0", "up"));
  sh(inNs(NS, "ip", "link", "add", "nbv0", "type", "veth", "peer", "name", "nbv1", "netns", DNS_NS));
  sh(inNs(NS, "ip", "link", "set", "nbv0", "master", "nbbr0"));
  sh(inNs(NS, "ip", "link", "set", "nbv0", "up"));
  sh(inNs(DNS_NS, "ip", "addr", "add", "10.77.0.2/24", "brd", "+", "dev", "nbv1"));
  sh(inNs(DNS_NS, "ip", "link", "set", "nbv1", "up"));
  // Broadcasts to 255.255.255.255 need a route (FIELD-NOTES "Network boot").
  sh(inNs(NS, "ip", "route", "add", "default", "dev", "nbbr0"));
  sh(inNs(DNS_NS, "ip", "route", "add", "default", "dev", "nbv1"));
}

type Proc = ReturnType<typeof Bun.spawn>;
let dir = "";
let medulla: Proc | null = null;
let dnsmasq: Proc | null = null;
let medullaOut = "";

async function pump(stream: ReadableStream<Uint8Array>, add: (s: string) => void) {
  const dec = new TextDecoder();
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    add(dec.decode(value, { stream: true }));
  }
}

async function stopProc(p: Proc | null) {
  if (!p || p.exitCode !== null) return;
  p.kill("SIGTERM");
  const done = await Promise.race([p.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
  if (!done) p.kill("SIGKILL");
}

describe.skipIf(skip)("PXE boot of qemu VMs in network namespaces", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "nb-e2e-"));
    setup();
    dnsmasq = Bun.spawn(inNs(DNS_NS, "/usr/sbin/dnsmasq", "--keep-in-foreground", "--port=0", "--interface=nbv1", "--bind-interfaces", "--dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,10m", `--dhcp-leasefile=${join(dir, "leases")}`, "--log-dhcp", "--log-facility=-", `--pid-file=${join(dir, "dnsmasq.pid")}`), { stdout: "pipe", stderr: "pipe" });
    medulla = Bun.spawn(inNs(NS, bun, join(root, "src/main.ts"), "serve", "--data-dir", join(dir, "data"), "--http-port", "8080", "--https-port", "0", "--xmpp-port", "0", "--tftp-port", "69", "--proxydhcp", "on", "--boot-address", "10.77.0.1", "--admin-password", "correct horse battery"), { stdout: "pipe", stderr: "pipe", cwd: root });
    void pump(medulla.stdout as ReadableStream<Uint8Array>, (s) => (medullaOut += s));
    void pump(medulla.stderr as ReadableStream<Uint8Array>, (s) => (medullaOut += s));
    await waitFor("medulla's boot services", () => /listening on udp .*proxydhcp/.test(medullaOut) && /listening on udp .*tftp/.test(medullaOut) && /listening on http/.test(medullaOut), 30_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${medullaOut}`);
    });
  }, 60_000);

  afterAll(async () => {
    await stopProc(medulla);
    await stopProc(dnsmasq);
    teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function bootVm(name: string, mac: string, firmware: string[], nicRom?: string): Promise<void> {
    let out = "";
    const qemu = Bun.spawn(
      inNs(NS, "qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-nographic", "-vga", "none", "-monitor", "none", "-no-reboot", "-boot", "n", ...firmware,
        "-netdev", "tap,id=n0,ifname=nbtap0,script=no,downscript=no", "-device", `virtio-net-pci,netdev=n0,mac=${mac}${nicRom === undefined ? "" : `,romfile=${nicRom}`}`),
      { stdin: "pipe", stdout: "pipe", stderr: "pipe" },
    );
    void pump(qemu.stdout as ReadableStream<Uint8Array>, (s) => (out += s));
    void pump(qemu.stderr as ReadableStream<Uint8Array>, (s) => (out += s));
    const tail = () => `\n--- serial (last 3000 chars) ---\n${out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").slice(-3000)}\n--- medulla ---\n${medullaOut.slice(-2000)}`;
    const see = (what: string, re: RegExp, ms: number) => waitFor(what, () => re.test(out), ms).catch((err) => { throw new Error(`${(err as Error).message}${tail()}`); });
    const type = async (text: string) => {
      for (const ch of text) {
        (qemu.stdin as import("bun").FileSink).write(ch);
        (qemu.stdin as import("bun").FileSink).flush();
        await Bun.sleep(60);
      }
    };
    try {
      await see("the registration menu on the serial console", /Medulla - machine inconnue/, 120_000);
      await Bun.sleep(1500);
      await type("\r");
      await see("the name prompt", /Nom de la machine:/, 30_000);
      await Bun.sleep(500);
      await type(`${name}\r`);
      await see("the machine's own menu", new RegExp(`Medulla - ${name}`), 30_000);
      const db = new Database(join(dir, "data", "medulla.db"), { readonly: true });
      try {
        const row = db.query("SELECT m.hostname, mm.mac FROM machines m JOIN machine_macs mm ON mm.machine_id = m.id WHERE m.hostname = ?1").get(name);
        expect(row).toEqual({ hostname: name, mac });
      } finally {
        db.close();
      }
    } finally {
      qemu.kill("SIGKILL");
      await qemu.exited;
    }
  }

  test("BIOS: qemu's iPXE ROM gets our menu URL from the proxyDHCP, registers, gets its menu", async () => {
    await bootVm("nb-bios", "52:54:00:77:00:01", []);
  }, 200_000);

  test("UEFI: OVMF's PXE client loads snponly.efi over our TFTP, then iPXE registers", async () => {
    const vars = join(dir, "OVMF_VARS.fd");
    copyFileSync(OVMF_VARS, vars);
    await bootVm("nb-uefi", "52:54:00:77:00:02", ["-machine", "q35", "-drive", `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`, "-drive", `if=pflash,format=raw,file=${vars}`], "");
    const db = new Database(join(dir, "data", "medulla.db"), { readonly: true });
    try {
      const tftp = db.query("SELECT what, outcome FROM boot_requests WHERE kind = 'tftp' AND outcome = 'done'").all();
      expect(tftp).toContainEqual({ what: "snponly.efi", outcome: "done" });
      const dhcp = db.query("SELECT what FROM boot_requests WHERE kind = 'dhcp' AND outcome = 'answered' AND mac = '52:54:00:77:00:02'").all().map((r) => (r as { what: string }).what);
      expect(dhcp).toContain("snponly.efi");
      expect(dhcp).toContain("http://10.77.0.1:8080/boot/menu.ipxe");
    } finally {
      db.close();
    }
  }, 200_000);
});
