/**
 * The real Debian `fusioninventory-agent` (2.6) against the appliance's `/inventory`, served
 * in process on a loopback port: PROLOG then INVENTORY, zlib-compressed, as it does for a
 * GLPI server. The machine appears with this machine's dpkg packages and its network
 * addresses; a second run updates the same machine; with no network allowed, the agent
 * gets a 401, retries with the inventory key (HTTP basic auth) and is stored.
 *
 * The agent runs with an empty configuration file of its own (it would otherwise read
 * /etc/fusioninventory/agent.cfg) and keeps its state under /var/lib/fusioninventory-agent,
 * as Debian's package does; the per-server folder a run creates there is removed after.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCertificates } from "../../src/certs/index.ts";
import { testApp, type TestApp } from "../support/app.ts";

const AGENT = "/usr/bin/fusioninventory-agent";
const STATE = "/var/lib/fusioninventory-agent";
const dir = mkdtempSync(join(tmpdir(), "fusioninventory-"));
const config = join(dir, "agent.cfg");
writeFileSync(config, "");
const servers: { server: { stop(force?: boolean): void }; port: number }[] = [];

afterAll(() => {
  for (const s of servers) {
    s.server.stop(true);
    // The agent keeps per-server state in a folder named after the URL.
    for (const name of existsSync(STATE) ? readdirSync(STATE) : []) if (name.includes(`127.0.0.1:${s.port}_`)) rmSync(join(STATE, name), { recursive: true, force: true });
  }
  rmSync(dir, { recursive: true, force: true });
});

function serve(t: TestApp) {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req, srv) => t.app.web.fetch(req, { ip: srv.requestIP(req)?.address ?? "" }) });
  servers.push({ server, port: server.port! });
  return `http://127.0.0.1:${server.port}/inventory`;
}

/** The same over HTTPS with a local CA, which the agent is given with --ca-cert-file. */
async function serveTls(t: TestApp): Promise<{ url: string; caFile: string }> {
  const certs = await ensureCertificates(join(dir, "certs"), { dns: ["localhost"], ips: ["127.0.0.1"] });
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, certs.caCert);
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: certs.cert, key: certs.key }, fetch: (req, srv) => t.app.web.fetch(req, { ip: srv.requestIP(req)?.address ?? "", isHttps: true }) });
  servers.push({ server, port: server.port! });
  return { url: `https://127.0.0.1:${server.port}/inventory`, caFile };
}

async function runAgent(url: string, extra: string[] = []): Promise<{ code: number; log: string }> {
  const proc = Bun.spawn([AGENT, "--conf-file", config, "--server", url, "--tasks", "inventory", "--force", "--no-httpd", "--logger", "stderr", "--timeout", "60", ...extra], {
    stdout: "pipe", stderr: "pipe", env: { ...process.env, LANG: "C.UTF-8" },
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, log: out + err };
}

const dpkgPackages = () =>
  Bun.spawnSync(["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n"]).stdout.toString().split("\n").filter((l) => l.startsWith("ii")).map((l) => l.split(" ").at(-1)!).sort();

describe.skipIf(!existsSync(AGENT))("the Debian fusioninventory-agent", () => {
  test("posts PROLOG and INVENTORY; the machine appears with its packages and addresses; a second run updates it", async () => {
    const t = testApp();
    const url = serve(t);
    const first = await runAgent(url);
    expect([first.code, first.log.includes("[error]") ? first.log : ""]).toEqual([0, ""]);

    const machines = t.db.query("SELECT id, hostname, os, os_name, inventoried_at FROM machines").all() as { id: number; hostname: string; os: string; os_name: string; inventoried_at: number }[];
    expect(machines.length).toBe(1);
    const m = machines[0]!;
    expect([m.hostname, m.os, m.inventoried_at]).toEqual([hostname().split(".")[0]!, "linux", t.clock.now()]);
    expect(t.db.query("SELECT source, agent_name LIKE $prefix AS named FROM inventories").get({ prefix: `${hostname().split(".")[0]}-%` })).toEqual({ source: "fusioninventory", named: 1 });

    const software = (t.db.query("SELECT name FROM inv_software WHERE machine_id = $id AND source = 'deb' ORDER BY name").all({ id: m.id }) as { name: string }[]).map((r) => r.name);
    expect(software).toEqual(dpkgPackages());
    expect(t.db.query("SELECT count(*) AS n FROM inv_software WHERE version_key = '' AND version <> ''").get()).toEqual({ n: 0 });

    const stored = new Set((t.db.query("SELECT ip FROM inv_networks WHERE machine_id = $id").all({ id: m.id }) as { ip: string }[]).map((r) => r.ip));
    const ours = Object.values(networkInterfaces()).flat().filter((a) => a && a.family === "IPv4").map((a) => a!.address);
    expect(ours.length).toBeGreaterThan(0);
    for (const ip of ours) expect([ip, stored.has(ip)]).toEqual([ip, true]);
    expect(t.db.query("SELECT count(*) AS n FROM inv_os WHERE machine_id = $id AND name <> ''").get({ id: m.id })).toEqual({ n: 1 });
    expect((t.db.query("SELECT text FROM history WHERE criterion = 'inventory'").all() as { text: string }[]).map((r) => r.text)).toEqual([
      expect.stringMatching(new RegExp(`^Premier inventaire de ${m.hostname} reçu de FusionInventory-Agent_v2\\.6.* \\(${software.length} logiciels\\)$`)),
    ]);

    await t.clock.advance(86_400_000);
    const second = await runAgent(url);
    expect(second.code).toBe(0);
    expect(t.db.query("SELECT count(*) AS n FROM machines").get()).toEqual({ n: 1 });
    expect(t.db.query("SELECT machine_id, received_at FROM inventories").all()).toEqual([{ machine_id: m.id, received_at: t.clock.now() }]);
  }, 180_000);

  test("with no network allowed, the agent retries with the inventory key after the 401, over HTTPS", async () => {
    const t = testApp();
    const { url, caFile } = await serveTls(t);
    const settings = t.db.query("INSERT INTO settings (key, value, updated_at) VALUES ($key, $value, 0)");
    settings.run({ key: "inventory.networks", value: "[]" });
    const refused = await runAgent(url, ["--ca-cert-file", caFile]);
    expect(refused.log).toContain("authentication required, no credentials available");
    expect(t.db.query("SELECT count(*) AS n FROM inventories").get()).toEqual({ n: 0 });

    settings.run({ key: "inventory.key", value: await Bun.password.hash("fusion-key-0123456789", { algorithm: "argon2id" }) });
    const allowed = await runAgent(url, ["--ca-cert-file", caFile, "--user", "glpi", "--password", "fusion-key-0123456789"]);
    expect([allowed.code, allowed.log.includes("[error]") ? allowed.log : ""]).toEqual([0, ""]);
    expect(t.db.query("SELECT source FROM inventories").all()).toEqual([{ source: "fusioninventory" }]);
  }, 180_000);
});
