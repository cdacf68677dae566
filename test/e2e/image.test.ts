/**
 * @module test/e2e/image
 * The appliance images as an administrator meets them (issue 9): `npm run image` builds the
 * qcow2 and the hybrid ISO once; the qcow2 boots under qemu (TCG), shows its URL and the
 * initial password of root on the serial console, signs in over HTTPS (the first sign-in forces
 * a new password), keeps what was created across a reboot, and the agent installed inside the
 * VM with the enrollment page's ready-to-paste command runs as a systemd service and calls
 * home. The ISO's live system boots under BIOS and UEFI to the same first page.
 *
 * Root only (debootstrap, loop devices, chroot): skipped otherwise with a line saying so.
 * Slow by nature (a few minutes); it prints the build time, the image sizes and the boot
 * times. MEDULLA_IMAGE_TEST_REUSE=1 reuses dist/medulla-amd64.{qcow2,iso} when present
 * (for working on this test; CI always builds).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { connect } from "node:tls";
import { HttpClient, root } from "./helpers.ts";
import { migrations } from "../../src/db/migrations/index.ts";
import { buildNewer, type ExtraMigration } from "./newer-build.ts";

/** The schema version the image's own build ends at (the newest migration in the tree). */
const CURRENT_SCHEMA = Math.max(...migrations.map((m) => m.version));
import { MENU, OVMF, Vm } from "./vm.ts";

const isRoot = process.getuid?.() === 0;
const tools = ["qemu-system-x86_64", "qemu-img", "debootstrap", "grub-mkrescue"].filter((t) => !Bun.which(t));
const why = !isRoot ? "not root" : tools.length ? `missing ${tools.join(", ")}` : "";
if (why) console.log(`image e2e tests skipped: ${why} (they need root, debootstrap, qemu and grub; see .ci/run)`);

const qcow2 = join(root, "dist", "medulla-amd64.qcow2");
const iso = join(root, "dist", "medulla-amd64.iso");
let work = "";

const mib = (file: string) => `${(statSync(file).size / 1048576).toFixed(1)} MiB`;

beforeAll(async () => {
  if (why) return;
  work = mkdtempSync(join(tmpdir(), "medulla-image-test-"));
  if (process.env.MEDULLA_IMAGE_TEST_REUSE === "1" && existsSync(qcow2) && existsSync(iso)) return;
  const started = performance.now();
  const build = Bun.spawn(["bash", "appliance/build-image.sh"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited]);
  if (code !== 0) throw new Error(`npm run image failed (${code}):\n${out}\n${err}`);
  console.log(`${out.trim()}\nimage build: ${((performance.now() - started) / 1000).toFixed(0)} s`);
}, 1_800_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A throwaway copy-on-write disk over the built qcow2, so the test never changes dist/. */
async function overlay(): Promise<string> {
  const file = join(work, `disk-${Date.now()}.qcow2`);
  const p = Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", qcow2, file]);
  if (p.exitCode !== 0) throw new Error(p.stderr.toString());
  return file;
}

/** The helpers' client, over HTTPS to the appliance, whose certificate comes from its own local CA. */
class ApplianceClient extends HttpClient {
  override async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(this.base + path, { ...init, headers, redirect: "manual", tls: { rejectUnauthorized: false } });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ""] = c.split(";");
      const eq = pair.indexOf("=");
      if (/max-age=0/i.test(c)) this.cookies.delete(pair.slice(0, eq).trim());
      else this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return res;
  }
}

/** Signs in as root over HTTPS; the first time with the initial password, which must be changed. */
async function signInFirstTime(vm: Vm, initial: string, chosen: string): Promise<HttpClient> {
  const web = insecure(vm);
  const signedIn = await web.signIn("root", initial);
  expect({ status: signedIn.status, location: signedIn.headers.get("location") }).toEqual({ status: 303, location: "/account/password" });
  const _csrf = await web.csrfFrom("/account/password");
  const changed = await web.postForm("/account/password", { _csrf, current: initial, password: chosen, confirm: chosen });
  expect({ status: changed.status, location: changed.headers.get("location") }).toEqual({ status: 303, location: "/" });
  return web;
}

/** The sign-in page over HTTPS (the appliance answers). */
async function after0(vm: Vm): Promise<Response> {
  const res = await insecure(vm).get("/login");
  await res.arrayBuffer();
  return res;
}

function insecure(vm: Vm): HttpClient {
  return new ApplianceClient(`https://127.0.0.1:${vm.httpsPort}`);
}

const GiB = 1024 ** 3;

/** Migrations of the newer test builds (test/e2e/newer-build.ts). */
const PROBE: ExtraMigration = { version: 9001, name: "upgrade_probe", sql: "CREATE TABLE upgrade_probe (id INTEGER PRIMARY KEY, note TEXT NOT NULL);\nINSERT INTO upgrade_probe (note) VALUES ('9001 applied');\n" };
const HALFWAY: ExtraMigration = {
  version: 9002, name: "fails_halfway",
  sql: "CREATE TABLE upgrade_half (id INTEGER PRIMARY KEY);\nINSERT INTO upgrade_half (id) VALUES (1);\nINSERT INTO no_such_table (id) VALUES (1);\n",
};

/** Inside the VM: the binaries' checksums, the database's schema and test rows, the newest upgrade copy's schema. */
const STATE = [
  `q() { runuser -u medulla -- sqlite3 -readonly -cmd '.timeout 5000' "$1" "$2" 2>&1; }`,
  `echo "bin=$(sha256sum /usr/lib/medulla/medulla | cut -c1-64)"`,
  `echo "previous=$(sha256sum /usr/lib/medulla/medulla.previous 2>/dev/null | cut -c1-64)"`,
  `echo "version=$(cat /usr/lib/medulla/VERSION)"`,
  `db=/var/lib/medulla/medulla.db`,
  `echo "schema=$(q $db 'PRAGMA user_version')"`,
  `echo "probe=$(q $db 'SELECT note FROM upgrade_probe')"`,
  `echo "half=$(q $db "SELECT count(*) FROM sqlite_schema WHERE name = 'upgrade_half'")"`,
  `echo "atelier=$(q $db "SELECT count(*) FROM entities WHERE name = 'Atelier'")"`,
  `echo "copy-schema=$(q "$(ls -1dt /var/lib/medulla/upgrade-* | head -1)/medulla.db" 'PRAGMA user_version')"`,
].join("; ");

/** Inside the VM: the network file the console wrote and what networkd applied. */
const NET_STATE = "cat /etc/systemd/network/80-medulla.network; ip -4 -o addr show scope global; ip -4 route show default";

function expectStatic(output: string): void {
  expect(output).toContain("Address=10.0.2.15/24\nGateway=10.0.2.2\nDNS=10.0.2.3");
  expect(output).toMatch(/inet 10\.0\.2\.15\/24 /);
  expect(output).not.toMatch(/inet 10\.0\.2\.15\/24 [^\n]*dynamic/);
  expect(output).toMatch(/default via 10\.0\.2\.2 [^\n]*proto static/);
}

/** Chooses `choice` in the console menu, then answers each prompt in turn. */
async function menu(vm: Vm, choice: string, dialogue: [RegExp, string][]): Promise<void> {
  vm.mark();
  vm.type(`${choice}\n`);
  for (const [prompt, answer] of dialogue) {
    await vm.next(prompt, 120_000);
    vm.type(`${answer}\n`);
  }
}

/** Has the console draw its banner twice (Enter at the menu) and returns the second one. */
async function freshBanner(vm: Vm): Promise<string> {
  vm.mark();
  vm.type("\n");
  await vm.next(/Choice: /, 120_000);
  vm.type("\n");
  const from = vm.cursor;
  await vm.next(/Choice: /, 120_000);
  const banner = vm.serial.slice(from, vm.cursor);
  expect(banner).toContain("Service medulla:");
  return banner;
}

/** The version the running appliance reports (its OpenAPI document's info.version). */
async function reportedVersion(vm: Vm): Promise<string> {
  await vm.waitHttp("/api/v1/openapi.json", 200, 300_000, true);
  const res = await insecure(vm).get("/api/v1/openapi.json");
  return ((await res.json()) as { info: { version: string } }).info.version;
}

/** The subjectAltName of the certificate the appliance serves on HTTPS. */
function certificateNames(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const names = String(socket.getPeerCertificate().subjectaltname ?? "");
      socket.end();
      resolve(names);
    });
    socket.on("error", reject);
  });
}

/** Serves `paths` by their base names on 127.0.0.1 (10.0.2.2 from inside the VM). */
function serveFiles(paths: string[]): { port: number; [Symbol.asyncDispose](): Promise<void> } {
  const byName = new Map(paths.map((p) => [basename(p), p]));
  const server = Bun.serve({
    hostname: "127.0.0.1", port: 0,
    fetch(req) {
      const file = byName.get(decodeURIComponent(new URL(req.url).pathname.slice(1)));
      return file ? new Response(Bun.file(file)) : new Response("not found", { status: 404 });
    },
  });
  return { port: server.port!, [Symbol.asyncDispose]: async () => void (await server.stop(true)) };
}

function sha256(file: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(file)).digest("hex");
}

/** Polls `check` until it gives a value (a real deadline; the VM's console tail in the error). */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, vm: Vm): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs / 1000} s; serial tail:\n${vm.serial.slice(-3000)}`);
    await Bun.sleep(2000);
  }
}

async function api(web: HttpClient, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const csrf = (await (await web.get("/enrollment")).text()).match(/name="csrf-token" content="([^"]+)"/)?.[1] ?? "";
  const res = await web.request(path, { method, headers: { "content-type": "application/json", "x-csrf-token": csrf }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

describe.skipIf(Boolean(why))("appliance images", () => {
  test("the qcow2: first boot, console menu, disk growth, agent, upgrades with migrations, reboot, shut down", async () => {
    // The newer builds compile while the VM boots: 0.1.1 adds a migration that creates a table,
    // 0.1.2 adds one more that fails half-way (after creating a table and a row).
    const newer = (async () => ({
      good: await buildNewer(work, "0.1.1", [PROBE]),
      bad: await buildNewer(work, "0.1.2", [PROBE, HALFWAY]),
    }))();
    newer.catch(() => {}); // awaited below; a build failure surfaces there

    // The hypervisor enlarged the 8 GiB disk before the first boot.
    const disk = await overlay();
    expect(Bun.spawnSync(["qemu-img", "resize", "-q", disk, "12G"]).exitCode).toBe(0);
    await using vm = await Vm.start({ disk });

    // --- First boot: URL and initial password on the console, HTTPS, forced password change.
    const [, initial] = await vm.waitSerial(/Initial password for root: (\S+)/, 900_000);
    await vm.waitSerial(/Open https:\/\/10\.0\.2\.15\//, 60_000);
    const up = await vm.waitHttp("/healthz", 200, 120_000);
    const login = await vm.waitHttp("/login", 200, 60_000, true);
    console.log(`qcow2 first boot: /healthz 200 at ${up.toFixed(1)} s, HTTPS /login 200 at ${login.toFixed(1)} s after qemu started (TCG)`);
    await vm.waitSerial(/Choice: /, 120_000);
    let web = await signInFirstTime(vm, initial!, "Appliance-pass-1");
    expect(await freshBanner(vm)).not.toContain("Initial password");

    // --- The root file system grew with the disk (systemd-repart, then systemd-growfs).
    vm.step("disk growth");
    const grown = await vm.shell("lsblk -bdno SIZE /dev/vda; df -B1 --output=size / | tail -1; systemctl is-active systemd-repart.service 'systemd-growfs@-.service'");
    const [diskBytes, fsBytes] = grown.output.trim().split(/\s+/).map(Number);
    expect(diskBytes).toBe(12 * GiB);
    expect(fsBytes!).toBeGreaterThan(11 * GiB);
    expect(grown.output).toContain("active\nactive");
    console.log(`disk growth: the root file system has ${(fsBytes! / GiB).toFixed(2)} GiB on the 12 GiB disk (built at 8 GiB)`);

    // --- An entity, an enrollment token, the page's Linux command run inside the VM.
    vm.step("entity, token, agent");
    const entity = await api(web, "POST", "/api/v1/entities", { name: "Atelier", parentId: 1 });
    expect(entity.status).toBe(201);
    const token = await api(web, "POST", "/api/v1/enrollment-tokens", { name: "image test", entityId: entity.json.id, validDays: 1 });
    expect(token.status).toBe(201);
    const install: string = token.json.commands["linux-x64"];
    expect(install).toContain("/agent/medulla-agent-linux-x64");
    const agent = await vm.shell(install.replaceAll("sudo ", ""), 240_000); // the console's shell is root
    expect(agent.output).toContain("medulla-agent: OK");
    expect(agent.code).toBe(0);
    const online = async (client: HttpClient) => {
      const list = await api(client, "GET", "/api/v1/machines");
      return list.json.items?.find((m: { online: boolean }) => m.online);
    };
    await until("the agent online", () => online(web), 180_000, vm);
    const service = await vm.shell("systemctl is-active medulla-agent.service; systemctl is-enabled medulla-agent.service; systemctl show medulla.service -p MemoryCurrent -p User; echo rss=$(ps -o rss= -C medulla | head -1)");
    expect(service.output).toContain("active\nenabled");
    expect(service.output).toContain("User=medulla");
    const rss = Number(service.output.match(/rss=\s*(\d+)/)?.[1]);
    console.log(`idle appliance: medulla RSS ${(rss / 1024).toFixed(0)} MiB (${service.output.match(/MemoryCurrent=(\d+)/)?.[1] ?? "?"} bytes in its cgroup)`);

    // --- Console 1: a static address (the one DHCP gave, so that the forwards keep working).
    vm.step("console 1: static address");
    await menu(vm, MENU.network, [
      [/d\) DHCP   s\) static address[^:]*: /, "s"],
      [/Address with prefix[^:]*: /, "10.0.2.15/24"],
      [/Gateway[^:]*: /, "10.0.2.2"],
      [/DNS servers[^:]*: /, "10.0.2.3"],
    ]);
    await vm.next(/network settings applied/, 120_000);
    await vm.next(/Choice: /, 300_000);
    const staticNet = await vm.shell(NET_STATE);
    expectStatic(staticNet.output);
    await vm.waitHttp("/login", 200, 120_000, true);

    // --- Console 2: host name and public name; the certificate names both, agents are told it.
    vm.step("console 2: host name and public name");
    // The agent inside the VM was told the old name "medulla": the site's DNS keeps it (here /etc/hosts).
    await vm.shell("printf '127.0.0.1\\tmedulla\\n' >> /etc/hosts");
    await menu(vm, MENU.names, [
      [/Host name \[medulla\]: /, "medulla-lab"],
      [/reach this appliance \[[^\]]*\]: /, "medulla.example.lan"],
    ]);
    await vm.next(/restarting medulla/, 60_000);
    await vm.next(/Choice: /, 600_000);
    await vm.waitHttp("/login", 200, 600_000, true);
    const san = (await certificateNames(vm.httpsPort)).split(/,\s*/);
    expect(san).toContain("DNS:medulla.example.lan");
    expect(san).toContain("DNS:medulla-lab");
    expect(san).toContain("DNS:medulla"); // the XMPP domain the agents enrolled with
    const names = await vm.shell("hostname; grep -h '^MEDULLA_' /etc/medulla/local.env");
    expect(names.output).toContain("medulla-lab\n");
    expect(names.output).toContain("MEDULLA_PUBLIC_URL=http://medulla.example.lan");
    expect(names.output).toContain("MEDULLA_XMPP_DOMAIN=medulla"); // kept for the agents already enrolled
    const token2 = await api(web, "POST", "/api/v1/enrollment-tokens", { name: "after rename", entityId: entity.json.id, validDays: 1 });
    expect(token2.json.commands["linux-x64"]).toContain("https://medulla.example.lan");
    await until("the agent back online after the rename", () => online(web), 300_000, vm);

    // --- Console 3: reset the root password; the one shown works once and must be changed.
    vm.step("console 3: reset the root password");
    await menu(vm, MENU.resetPassword, [[/\(yes\/no\) /, "yes"]]);
    const [, reset] = await vm.next(/Initial password for root: (\S+)/, 600_000);
    await vm.next(/Press Enter/, 30_000);
    vm.type("\n");
    await vm.next(/Choice: /, 60_000);
    expect((await insecure(vm).signIn("root", "Appliance-pass-1")).status).toBe(401);
    web = await signInFirstTime(vm, reset!, "Appliance-pass-2");
    expect(await freshBanner(vm)).not.toContain("Initial password");

    // --- Console 4: the logs (journalctl in less; q leaves it).
    vm.step("console 4: logs");
    await menu(vm, MENU.logs, []);
    await vm.next(/medulla\[\d+\]: /, 60_000);
    vm.type("q");
    await vm.next(/Choice: /, 60_000);

    // --- Upgrades. The binaries come from a server on the host (10.0.2.2 in user-mode networking).
    vm.step("upgrades");
    const { good, bad } = await newer;
    await using files = serveFiles([good, bad]);
    const fetchInVm = (name: string, to: string) => vm.shell(`curl -fsS -o ${to} http://10.0.2.2:${files.port}/${name} && sha256sum ${to} | cut -c1-64`, 300_000);
    expect((await fetchInVm("medulla-0.1.1", "/root/medulla-0.1.1")).output.trim()).toBe(sha256(good));
    const original = (await vm.shell("sha256sum /usr/lib/medulla/medulla | cut -c1-64")).output.trim();

    // Console 5: upgrade to 0.1.1, whose migration 9001 creates a table.
    await menu(vm, MENU.upgrade, [[/Path of the new medulla binary[^:]*: /, "/root/medulla-0.1.1"]]);
    const upgraded = await vm.next(/([\s\S]*?)Press Enter/, 1_500_000);
    vm.type("\n");
    await vm.next(/Choice: /, 60_000);
    expect(upgraded[1]).toContain("upgrading medulla 0.1.0 -> 0.1.1");
    expect(upgraded[1]).toContain("medulla 0.1.1 is running (previous binary kept as /usr/lib/medulla/medulla.previous");
    const after1 = await vm.shell(STATE);
    expect(after1.output).toBe(
      [`bin=${sha256(good)}`, `previous=${original}`, "version=0.1.1", "schema=9001", "probe=9001 applied", "half=0", "atelier=1", `copy-schema=${CURRENT_SCHEMA}`, ""].join("\n"),
    );
    expect(await reportedVersion(vm)).toBe("0.1.1");
    expect(JSON.stringify((await api(web, "GET", "/api/v1/entities")).json)).toContain("Atelier");

    // 0.1.2's migration 9002 fails: the start fails, 0.1.1 and the database from before come back.
    expect((await fetchInVm("medulla-0.1.2", "/root/medulla-0.1.2")).output.trim()).toBe(sha256(bad));
    const failed = await vm.shell("medulla-upgrade /root/medulla-0.1.2 --timeout 900; echo rc=$?", 1_500_000);
    expect(failed.output).toContain("upgrading medulla 0.1.1 -> 0.1.2");
    expect(failed.output).toContain("medulla exited while starting");
    expect(failed.output).toContain("migration 9002_fails_halfway failed, nothing was changed");
    expect(failed.output).toContain("rolled back: medulla 0.1.1 is running again");
    expect(failed.output).toMatch(/rc=1\s*$/);
    const after2 = await vm.shell(STATE);
    expect(after2.output).toMatch(new RegExp(`^bin=${sha256(good)}\nprevious=\nversion=0\\.1\\.1\nschema=9001\nprobe=9001 applied\nhalf=0\natelier=1\ncopy-schema=9001\n$`));
    expect(await reportedVersion(vm)).toBe("0.1.1");
    expect((await vm.shell("head -c 4096 /dev/urandom > /root/junk; medulla-upgrade /root/junk; echo rc=$?")).output).toMatch(/does not run here[\s\S]*rc=1/);

    // --- Console 8: reboot. Data, settings, the static address, the new version and the agent are back.
    vm.step("console 8: reboot");
    vm.mark();
    const rebootFrom = vm.cursor;
    vm.type(`${MENU.reboot}\n`);
    await vm.next(/reboot: Restarting system|SeaBIOS/, 300_000);
    const rebootedAt = vm.elapsed();
    await vm.next(/Choice: /, 900_000);
    const again = await vm.waitHttp("/login", 200, 300_000, true);
    console.log(`reboot: HTTPS /login 200 ${(again - rebootedAt).toFixed(1)} s after the reboot began`);
    expect(vm.serial.slice(rebootFrom)).not.toContain("Initial password");
    const after = insecure(vm);
    expect((await after.signIn("root", "Appliance-pass-1")).status).toBe(401);
    expect((await after.signIn("root", "Appliance-pass-2")).headers.get("location")).toBe("/");
    expect(JSON.stringify((await api(after, "GET", "/api/v1/entities")).json)).toContain("Atelier");
    expect((await api(after, "GET", "/api/v1/enrollment-tokens")).json.items.map((t: { name: string }) => t.name)).toContain("image test");
    expect(await reportedVersion(vm)).toBe("0.1.1");
    const rebooted = await vm.shell(`${NET_STATE}; hostname; df -B1 --output=size / | tail -1`);
    expectStatic(rebooted.output);
    expect(rebooted.output).toContain("medulla-lab\n");
    await until("the agent back online after the reboot", () => online(after), 300_000, vm);

    // --- Console 1 again: back to DHCP.
    vm.step("console 1: back to DHCP");
    await menu(vm, MENU.network, [[/d\) DHCP   s\) static address[^:]*: /, "d"]]);
    await vm.next(/network settings applied/, 120_000);
    await vm.next(/Choice: /, 300_000);
    const dhcp = await vm.shell(`for i in $(seq 60); do ip -4 route show default | grep -q 'proto dhcp' && break; sleep 1; done; ${NET_STATE}; journalctl -u systemd-networkd -n 12 --no-pager -o cat`, 180_000);
    expect(dhcp.output).toContain("DHCP=yes");
    expect(dhcp.output).toMatch(/default via 10\.0\.2\.2 [^\n]*proto dhcp/);
    expect(dhcp.output).toMatch(/inet 10\.0\.2\.15\/24 [^\n]*dynamic/);
    await vm.waitHttp("/login", 200, 120_000, true);

    // --- Console 9: shut down; qemu exits when the guest powers off.
    vm.step("console 9: shut down");
    vm.type(`${MENU.shutdown}\n`);
    await vm.waitExit(300_000);
  }, 5_400_000);

  test("the ISO's live system boots under UEFI to the sign-in page", async () => {
    if (!OVMF) throw new Error("no OVMF firmware (apt-get install ovmf)");
    await using vm = await Vm.start({ cdrom: iso, uefi: true });
    await vm.waitSerial(/Initial password for root: (\S+)/, 900_000);
    const login = await vm.waitHttp("/login", 200, 120_000, true);
    expect(vm.serial).toContain("LIVE SYSTEM");
    console.log(`iso UEFI: HTTPS /login 200 at ${login.toFixed(1)} s after qemu started (TCG); iso ${mib(iso)}, qcow2 ${mib(qcow2)}`);
  }, 1_200_000);

  // The BIOS side of the ISO: its live system, then its installer; the installed disk boots
  // under UEFI (the installer's EFI side, written from the live system, is what this adds to
  // the qcow2's tests).
  test("the ISO's live system boots under BIOS to the sign-in page, installs to a blank disk from the console menu, and the disk boots under UEFI", async () => {
    if (!OVMF) throw new Error("no OVMF firmware (apt-get install ovmf)");
    const blank = join(work, "blank.qcow2");
    expect(Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", blank, "8G"]).exitCode).toBe(0);
    {
      await using live = await Vm.start({ cdrom: iso, disk: blank });
      await live.waitSerial(/Initial password for root: (\S+)/, 900_000);
      const login = await live.waitHttp("/login", 200, 120_000, true);
      console.log(`iso BIOS: HTTPS /login 200 at ${login.toFixed(1)} s after qemu started (TCG)`);
      await live.waitSerial(/LIVE SYSTEM[\s\S]*Choice: /, 300_000);
      await menu(live, MENU.install, [
        [/Disk \(e\.g\. sda\): /, "vda"],
        [/Erase everything on \/dev\/vda and install Medulla\? Type yes: /, "yes"],
      ]);
      const done = await live.next(/([\s\S]*?)Press Enter/, 1_800_000);
      expect(done[1]).toContain("Medulla is installed on /dev/vda");
      live.type("\n");
      await live.next(/Choice: /, 60_000);
      const installedAt = live.elapsed();
      live.type(`${MENU.shutdown}\n`);
      await live.waitExit(300_000);
      console.log(`iso install: written ${installedAt.toFixed(0)} s after qemu started (TCG)`);
    }
    await using vm = await Vm.start({ disk: blank, uefi: true });
    await vm.waitSerial(/Initial password for root: (\S+)/, 900_000);
    const login = await vm.waitHttp("/login", 200, 300_000, true);
    expect(vm.serial).not.toContain("LIVE SYSTEM");
    console.log(`installed disk (UEFI): HTTPS /login 200 at ${login.toFixed(1)} s after qemu started (TCG)`);
  }, 3_600_000);
});
