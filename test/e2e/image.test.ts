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
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpClient, root } from "./helpers.ts";
import { OVMF, Vm } from "./vm.ts";

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

async function api(web: HttpClient, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const csrf = (await (await web.get("/enrollment")).text()).match(/name="csrf-token" content="([^"]+)"/)?.[1] ?? "";
  const res = await web.request(path, { method, headers: { "content-type": "application/json", "x-csrf-token": csrf }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

describe.skipIf(Boolean(why))("appliance images", () => {
  test("the qcow2 boots, signs in with the console's password, keeps its data across a reboot, and an agent installed inside calls home", async () => {
    await using vm = await Vm.start({ disk: await overlay() });
    const [, initial] = await vm.waitSerial(/Initial password for root: (\S+)/, 900_000);
    await vm.waitSerial(/Open https:\/\/10\.0\.2\.15\//, 60_000);
    const up = await vm.waitHttp("/healthz", 200, 120_000);
    const login = await vm.waitHttp("/login", 200, 60_000, true);
    console.log(`qcow2 first boot: /healthz 200 at ${up.toFixed(1)} s, HTTPS /login 200 at ${login.toFixed(1)} s after qemu started (TCG)`);

    const web = await signInFirstTime(vm, initial!, "Appliance-pass-1");
    const entity = await api(web, "POST", "/api/v1/entities", { name: "Atelier", parentId: 1 });
    expect(entity.status).toBe(201);
    const token = await api(web, "POST", "/api/v1/enrollment-tokens", { name: "image test", entityId: entity.json.id, validDays: 1 });
    expect(token.status).toBe(201);
    const install: string = token.json.commands["linux-x64"];
    expect(install).toContain("/agent/medulla-agent-linux-x64");

    // Inside the VM, as root: the page's command (no sudo there: the console shell is root).
    await vm.waitSerial(/Choice: /, 60_000);
    const agent = await vm.shell(install.replaceAll("sudo ", ""), 240_000);
    expect(agent.output).toContain("medulla-agent: OK");
    expect(agent.code).toBe(0);
    const online = async () => {
      const list = await api(web, "GET", "/api/v1/machines");
      return list.json.items?.find((m: { hostname: string; online: boolean }) => m.hostname === "medulla" && m.online);
    };
    const deadline = Date.now() + 120_000;
    while (!(await online())) {
      if (Date.now() > deadline) throw new Error(`the agent did not come online; serial tail:\n${vm.serial.slice(-3000)}`);
      await Bun.sleep(2000);
    }
    const service = await vm.shell("systemctl is-active medulla-agent.service; systemctl is-enabled medulla-agent.service; systemctl show medulla.service -p MemoryCurrent -p User; echo rss=$(ps -o rss= -C medulla | head -1)");
    expect(service.output).toContain("active\nenabled");
    expect(service.output).toContain("User=medulla");
    const rss = Number(service.output.match(/rss=\s*(\d+)/)?.[1]);
    console.log(`idle appliance: medulla RSS ${(rss / 1024).toFixed(0)} MiB (${service.output.match(/MemoryCurrent=(\d+)/)?.[1] ?? "?"} bytes in its cgroup)`);

    // An upgrade whose binary does not start is rolled back: old binary, database, service.
    const bad = "printf '#!/bin/sh\\n[ \"$1\" = version ] && { echo 9.9.9; exit 0; }\\nexit 3\\n' > /root/bad-medulla; chmod +x /root/bad-medulla";
    const upgrade = await vm.shell(`${bad}; medulla-upgrade /root/bad-medulla --timeout 20; echo "rc=$?"; cat /usr/lib/medulla/VERSION; systemctl is-active medulla.service`, 400_000);
    expect(upgrade.output).toContain("upgrading medulla 0.1.0 -> 9.9.9");
    expect(upgrade.output).toContain("rolling back to 0.1.0");
    expect(upgrade.output).toContain("rolled back: medulla 0.1.0 is running again");
    expect(upgrade.output).toMatch(/rc=1\n0\.1\.0\nactive/);
    expect((await vm.shell("head -c 4096 /dev/urandom > /root/junk; medulla-upgrade /root/junk; echo rc=$?")).output).toMatch(/does not run here[\s\S]*rc=1/);
    // A binary that starts is taken: the previous one kept beside, a copy of the database
    // made, the service back on the new binary (here a copy of the same build: the path an
    // upgrade takes, without a second build of the appliance).
    const good = await vm.shell(`cp /usr/lib/medulla/medulla /root/next-medulla; medulla-upgrade /root/next-medulla --timeout 600; echo "rc=$?"; ls /usr/lib/medulla/medulla.previous; ls -d /var/lib/medulla/upgrade-* | wc -l; systemctl is-active medulla.service`, 900_000);
    expect(good.output).toContain("upgrading medulla 0.1.0 -> 0.1.0");
    expect(good.output).toMatch(/medulla 0\.1\.0 is running \(previous binary kept as \/usr\/lib\/medulla\/medulla\.previous/);
    expect(good.output).toMatch(/rc=0\n\/usr\/lib\/medulla\/medulla\.previous\n[12]\nactive/);
    expect((await after0(vm)).status).toBe(200);

    // Reboot: everything is still there, and the console no longer shows the old password.
    const before = vm.serial.length;
    vm.type("7\n");
    await vm.waitSerial(/reboot: Restarting system|SeaBIOS/, 300_000, before);
    const rebootedAt = vm.elapsed();
    await vm.waitSerial(/Choice: /, 900_000, vm.serial.length);
    const again = await vm.waitHttp("/login", 200, 120_000, true);
    console.log(`reboot: HTTPS /login 200 ${(again - rebootedAt).toFixed(1)} s after the reboot began`);
    const after = insecure(vm);
    expect((await after.signIn("root", initial!)).status).toBe(401);
    expect((await after.signIn("root", "Appliance-pass-1")).headers.get("location")).toBe("/");
    const entities = await api(after, "GET", "/api/v1/entities");
    expect(JSON.stringify(entities.json)).toContain("Atelier");
    const tokens = await api(after, "GET", "/api/v1/enrollment-tokens");
    expect(tokens.json.items.map((t: { name: string }) => t.name)).toContain("image test");
    const back = Date.now() + 120_000;
    while (!(await online())) {
      if (Date.now() > back) throw new Error("the agent did not come back online after the reboot");
      await Bun.sleep(2000);
    }
  }, 3_000_000);

  test.each([
    { firmware: "BIOS", uefi: false },
    { firmware: "UEFI", uefi: true },
  ])("the ISO's live system boots under $firmware to the sign-in page", async ({ uefi }) => {
    if (uefi && !OVMF) throw new Error("no OVMF firmware (apt-get install ovmf)");
    await using vm = await Vm.start({ cdrom: iso, uefi });
    await vm.waitSerial(/Initial password for root: (\S+)/, 900_000);
    const login = await vm.waitHttp("/login", 200, 120_000, true);
    expect(vm.serial).toContain("LIVE SYSTEM");
    console.log(`iso ${uefi ? "UEFI" : "BIOS"}: HTTPS /login 200 at ${login.toFixed(1)} s after qemu started (TCG); iso ${mib(iso)}, qcow2 ${mib(qcow2)}`);
  }, 1_200_000);
});
