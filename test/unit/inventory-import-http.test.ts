/**
 * The inventory's HTTP side, in process (`web.fetch`): `POST /inventory` as a GLPI server
 * answers FusionInventory and the GLPI agent (who may post, compression variants, bombs,
 * refusals in the agent's format), `POST /api/v1/agents/inventory` for our agent, the
 * "request inventory" action and the settings of who may post.
 */
import { describe, expect, test } from "bun:test";
import { deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import { createInventoryRequests } from "../../src/features/inventory/request.ts";
import { sha256Hex } from "../../src/features/inventory/service.ts";
import type { AgentChannel } from "../../src/protocol/channel.ts";
import { reply, type Envelope } from "../../src/protocol/envelope.ts";
import { fixtureBytes, fixtureText, inventoryDoc } from "../fixtures/inventory/factory.ts";
import { testApp } from "../support/app.ts";

const strong = "Correct-horse-7";
type Json = Record<string, any>;

async function setup() {
  const t = testApp();
  await t.addUser("boss", strong, { isSuper: true });
  const token = async (login: string) => ((await (await t.client().request("POST", "/api/v1/tokens", { json: { username: login, password: strong } })).json()) as { token: string }).token;
  const caller = (bearer: string) => async (method: string, path: string, json?: unknown) => {
    // Bearer calls speak the user's language: French for these users.
    const res = await t.client().request(method, path, { json, headers: { authorization: `Bearer ${bearer}` } });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Json };
  };
  const boss = caller(await token("boss"));
  /** A machine enrolled as our agent would: its id and its HTTPS credentials. */
  const enroll = async (facts: Json = {}) => {
    const tok = await boss("POST", "/api/v1/enrollment-tokens", {});
    const res = await t.client().request("POST", "/api/v1/agents/enroll", { json: { token: tok.body.token, hostname: "pc-01", os: "linux", arch: "x64", ...facts } });
    const body = (await res.json()) as { machineId: number; jid: string; password: string };
    return { ...body, auth: `Basic ${Buffer.from(`${body.jid}:${body.password}`).toString("base64")}` };
  };
  const post = (path: string, body: BodyInit, headers: Record<string, string> = {}, ip = "10.0.0.5") => t.client(ip, { https: true }).request("POST", path, { body, headers });
  const postPlain = (path: string, body: BodyInit, headers: Record<string, string> = {}, ip = "10.0.0.5") => t.client(ip).request("POST", path, { body, headers });
  const count = (sql: string) => (t.db.query(sql).get() as { n: number }).n;
  return { t, boss, caller, token, enroll, post, postPlain, count };
}

const zlib = { "content-type": "application/x-compress-zlib" };
const gzip = { "content-type": "application/x-compress-gzip" };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer());
const prolog = fixtureBytes("fusion-prolog.xml");

describe("POST /inventory: who may post", () => {
  test("over plain HTTP: allowed networks without credentials only; credentials are refused, never sent in clear", async () => {
    const s = await setup();
    expect((await s.postPlain("/inventory", prolog)).status).toBe(200);
    const agent = await s.enroll();
    const refused = await s.postPlain("/inventory", prolog, { authorization: agent.auth });
    expect([refused.status, await refused.text()]).toEqual([403, "credentials are refused over plain HTTP: post to the HTTPS address\n"]);
  });

  test("without credentials: loopback and private networks by default, nobody else", async () => {
    const s = await setup();
    for (const ip of ["127.0.0.1", "::1", "10.1.2.3", "172.20.0.9", "192.168.1.5", "::ffff:10.0.0.1", "fd12::5"]) {
      expect([ip, (await s.post("/inventory", prolog, {}, ip)).status]).toEqual([ip, 200]);
    }
    const refused = await s.post("/inventory", prolog, {}, "192.0.2.10");
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toBe('Basic realm="Medulla inventory"');
    expect(await refused.text()).toContain("credentials required: 192.0.2.10 is not in the networks allowed to post without them");
  });

  test("with the inventory key (any user name); a wrong key or no key set is refused even from an allowed network", async () => {
    const s = await setup();
    expect(await (await s.post("/inventory", prolog, { authorization: basic("glpi", "whatever-key-123") })).text()).toBe("no inventory key is set on the server\n");
    const set = await s.boss("PUT", "/api/v1/inventory/settings", { generateKey: true });
    expect(set.status).toBe(200);
    const key = set.body.key as string;
    expect(key.length).toBeGreaterThan(20);
    expect((await s.post("/inventory", prolog, { authorization: basic("anyone", key) }, "198.51.100.7")).status).toBe(200);
    const wrong = await s.post("/inventory", prolog, { authorization: basic("anyone", `${key}x`) }, "127.0.0.1");
    expect([wrong.status, await wrong.text()]).toEqual([401, "wrong inventory key\n"]);
    expect((await s.post("/inventory", prolog, { authorization: "Bearer abc" })).status).toBe(401);
    // The key is shown once: the settings only say that there is one.
    expect((await s.boss("GET", "/api/v1/inventory/settings")).body).toEqual({ hasKey: true, networks: expect.any(Array), entityId: 1 });
  });

  test("with an agent's own account: its machine, whatever the document says", async () => {
    const s = await setup();
    const agent = await s.enroll({ hostname: "pc-agent" });
    const doc = JSON.stringify(inventoryDoc({ hostname: "pc-agent", serial: "SOMETHING-ELSE" }));
    const res = await s.post("/inventory", deflateSync(doc), { ...zlib, authorization: agent.auth }, "198.51.100.7");
    expect(res.status).toBe(200);
    expect(s.t.db.query("SELECT machine_id, source, agent_name FROM inventories").all()).toEqual([{ machine_id: agent.machineId, source: "agent", agent_name: agent.jid }]);
    const wrong = await s.post("/inventory", prolog, { authorization: basic(agent.jid, "not-it") });
    expect([wrong.status, await wrong.text()]).toEqual([401, `wrong password for agent ${agent.jid.split("@")[0]}\n`]);
  });

  test("a banned machine, and browsers, are refused with 403", async () => {
    const s = await setup();
    const agent = await s.enroll();
    s.t.db.query("UPDATE machines SET banned = 1").run();
    const banned = await s.post("/inventory", prolog, { authorization: agent.auth });
    expect([banned.status, await banned.text()]).toEqual([403, "machine pc-01 is banned\n"]);
    const browser = await s.post("/inventory", prolog, { origin: "https://evil.example", "sec-fetch-site": "cross-site" });
    expect([browser.status, await browser.text()]).toEqual([403, "browsers may not post inventories\n"]);
  });

  test("the allowed networks follow the settings", async () => {
    const s = await setup();
    expect((await s.boss("PUT", "/api/v1/inventory/settings", { networks: ["203.0.113.0/24", "2001:db8::/32"] })).body.networks).toEqual(["203.0.113.0/24", "2001:db8::/32"]);
    expect((await s.post("/inventory", prolog, {}, "203.0.113.7")).status).toBe(200);
    expect((await s.post("/inventory", prolog, {}, "2001:db8::7")).status).toBe(200);
    expect((await s.post("/inventory", prolog, {}, "10.0.0.5")).status).toBe(401);
    await s.boss("PUT", "/api/v1/inventory/settings", { networks: [] });
    expect((await s.post("/inventory", prolog, {}, "127.0.0.1")).status).toBe(401);
  });
});

describe("POST /inventory: FusionInventory", () => {
  test("PROLOG is answered SEND, compressed like the request", async () => {
    const s = await setup();
    const expected = '<?xml version="1.0" encoding="UTF-8" ?>\n<REPLY><RESPONSE>SEND</RESPONSE><PROLOG_FREQ>24</PROLOG_FREQ></REPLY>';
    const z = await s.post("/inventory", deflateSync(prolog), zlib);
    const zBody = await bytesOf(z);
    expect([z.status, z.headers.get("content-type"), zBody[0], zBody[1], inflateSync(zBody).toString()]).toEqual([200, "application/x-compress-zlib", 0x78, 0x9c, expected]);
    const g = await s.post("/inventory", gzipSync(prolog), gzip);
    expect([g.headers.get("content-type"), gunzipSync(await bytesOf(g)).toString()]).toEqual(["application/x-compress-gzip", expected]);
    const p = await s.post("/inventory", prolog, { "content-type": "application/xml" });
    expect([p.headers.get("content-type"), await p.text()]).toEqual(["application/xml", expected]);
    // A compressed body without its Content-Type is recognised by its first bytes.
    expect(inflateSync(await bytesOf(await s.post("/inventory", deflateSync(prolog)))).toString()).toBe(expected);
    expect(s.count("SELECT count(*) AS n FROM machines")).toBe(0);
  });

  test("INVENTORY is stored and answered with an empty REPLY; the machine merges with the enrolled one", async () => {
    const s = await setup();
    const agent = await s.enroll({ hostname: "accueil-mairie", manufacturer: "LENOVO", serial: "MJ0FA1B2" });
    const res = await s.post("/inventory", deflateSync(fixtureBytes("fusion-windows-latin1.xml")), zlib);
    expect([res.status, inflateSync(await bytesOf(res)).toString()]).toEqual([200, '<?xml version="1.0" encoding="UTF-8" ?>\n<REPLY></REPLY>']);
    expect(s.t.db.query("SELECT machine_id, source, agent_name FROM inventories").all()).toEqual([{ machine_id: agent.machineId, source: "fusioninventory", agent_name: "ACCUEIL-MAIRIE-2021-10-19-09-14-55" }]);
    expect(s.t.db.query("SELECT name, publisher FROM inv_software ORDER BY id LIMIT 1").get()).toEqual({ name: "Logiciel État Civil", publisher: "Société Berger-Levrault" });
    expect(s.count("SELECT count(*) AS n FROM machines")).toBe(1);
  });

  test("a refused document is answered in XML, compressed, with the reason; nothing is stored", async () => {
    const s = await setup();
    for (const [file, status, reason] of [
      ["hostile-billion-laughs.xml", 400, "XML refused: DOCTYPE and DTDs are not accepted (no entity expansion, no external entities)"],
      ["hostile-xxe.xml", 400, "XML refused: DOCTYPE and DTDs are not accepted (no entity expansion, no external entities)"],
      ["hostile-wrong-root.xml", 422, "the root element must be &lt;REQUEST&gt;, not &lt;REPLY&gt;"],
    ] as const) {
      const res = await s.post("/inventory", deflateSync(fixtureBytes(file)), zlib);
      expect([file, res.status, inflateSync(await bytesOf(res)).toString()]).toEqual([file, status, `<?xml version="1.0" encoding="UTF-8" ?>\n<REPLY><ERROR>${reason}</ERROR></REPLY>`]);
    }
    const truncated = fixtureText("fusion-debian-vm.xml").slice(0, 5000);
    expect((await s.post("/inventory", truncated, { "content-type": "application/xml" })).status).toBe(400);
    expect(s.count("SELECT count(*) AS n FROM inventories")).toBe(0);
  });
});

describe("POST /inventory: the GLPI agent", () => {
  const contact = { action: "contact", deviceid: "PC-COMPTA-07-2024-03-11-09-12-44", name: "GLPI-Agent_v1.7.1", "installed-tasks": ["inventory", "netdiscovery", "deploy"], "enabled-tasks": ["inventory", "deploy"] };

  test("CONTACT: the inventory task, other tasks disabled, compressed per Content-Type", async () => {
    const s = await setup();
    for (const [headers, encode, decode, type] of [
      [zlib, deflateSync, inflateSync, "application/x-compress-zlib"],
      [gzip, gzipSync, gunzipSync, "application/x-compress-gzip"],
      [{ "content-type": "application/json" }, (b: string) => Buffer.from(b), (b: Uint8Array) => Buffer.from(b), "application/json"],
    ] as const) {
      const res = await s.post("/inventory", encode(JSON.stringify(contact)), { ...headers, "glpi-agent-id": "3a7b5c2e-8f1d-4e6a-9b0c-1d2e3f4a5b6c" });
      expect([res.status, res.headers.get("content-type")]).toEqual([200, type]);
      expect(JSON.parse(decode(await bytesOf(res)).toString())).toEqual({ status: "ok", expiration: 24, tasks: { inventory: { server: "glpi", version: expect.any(String) } }, disabled: ["deploy"] });
    }
  });

  test("an inventory is stored and answered ok, in every compression", async () => {
    const s = await setup();
    const text = fixtureText("glpi-windows-laptop.json");
    for (const [headers, body] of [[zlib, deflateSync(text)], [gzip, gzipSync(text)], [{ "content-type": "application/json" }, text]] as const) {
      const res = await s.post("/inventory", body, headers);
      expect(res.status).toBe(200);
      const answer = headers === zlib ? inflateSync(await bytesOf(res)) : headers === gzip ? gunzipSync(await bytesOf(res)) : Buffer.from(await bytesOf(res));
      expect(JSON.parse(answer.toString())).toEqual({ status: "ok", expiration: 24 });
    }
    expect(s.t.db.query("SELECT machine_id, source, hash FROM inventories").all()).toEqual([{ machine_id: 1, source: "glpi-agent", hash: sha256Hex(text) }]);
    expect(s.count("SELECT count(*) AS n FROM inv_software")).toBe(22);
  });

  test("refusals: bad JSON, other actions and item types", async () => {
    const s = await setup();
    const json = { "content-type": "application/json" };
    const bad = await s.post("/inventory", '{"action":"inventory","content":', json);
    expect([bad.status, (await bad.json()).status]).toEqual([400, "error"]);
    const net = await s.post("/inventory", JSON.stringify({ action: "netinventory", content: {} }), json);
    expect([net.status, await net.json()]).toEqual([415, { status: "error", message: "action netinventory is not supported: this server takes computer inventories", expiration: 24 }]);
    const printer = await s.post("/inventory", JSON.stringify({ ...inventoryDoc(), itemtype: "Printer" }), json);
    expect(printer.status).toBe(415);
    const many = inventoryDoc();
    many.content.softwares = Array.from({ length: 20_001 }, (_, i) => ({ name: `p${i}` }));
    const tooMany = await s.post("/inventory", gzipSync(JSON.stringify(many)), gzip);
    expect([tooMany.status, JSON.parse(gunzipSync(await bytesOf(tooMany)).toString()).message]).toEqual([422, "too many software entries: 20001, at most 20000"]);
  });
});

describe("POST /inventory: sizes and bombs", () => {
  test("a zlib bomb stops at 32 MiB, quickly", async () => {
    const s = await setup();
    const bomb = deflateSync(Buffer.alloc(200 << 20, 0x20), { level: 9 });
    expect(bomb.length).toBeLessThan(1 << 20);
    const started = performance.now();
    const res = await s.post("/inventory", bomb, zlib);
    expect([res.status, await res.text()]).toEqual([413, "the document is larger than 32 MiB once decompressed\n"]);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  test("a body past 8 MiB is refused before it is read; a corrupt stream is a 400", async () => {
    const s = await setup();
    const big = await s.post("/inventory", new Uint8Array(9 << 20), { ...zlib, "content-length": String(9 << 20) });
    expect(big.status).toBe(413);
    const corrupt = await s.post("/inventory", deflateSync(prolog).subarray(0, 20), zlib);
    expect([corrupt.status, await corrupt.text()]).toEqual([400, "the zlib body is corrupt or truncated (unexpected end of file)\n"]);
  });

  test("other routes keep the default 1 MiB limit", async () => {
    const s = await setup();
    const res = await s.post("/api/v1/tokens", new Uint8Array(2 << 20), { "content-type": "application/json", "content-length": String(2 << 20) });
    expect(res.status).toBe(413);
  });
});

describe("POST /api/v1/agents/inventory (our agent)", () => {
  const gz = (doc: unknown) => gzipSync(JSON.stringify(doc));
  const headers = (auth: string) => ({ "content-type": "application/json", "content-encoding": "gzip", authorization: auth, "accept-language": "en" });

  test("a full inventory, then `unchanged` with its hash", async () => {
    const s = await setup();
    const agent = await s.enroll({ hostname: "pc-07" });
    const text = JSON.stringify(inventoryDoc({ hostname: "pc-07", software: 12 }));
    const res = await s.post("/api/v1/agents/inventory", gzipSync(text), headers(agent.auth), "198.51.100.7");
    expect([res.status, await res.json()]).toEqual([200, { status: "ok", changes: 0 }]);
    expect(s.t.db.query("SELECT machine_id, source, hash FROM inventories").all()).toEqual([{ machine_id: agent.machineId, source: "agent", hash: sha256Hex(text) }]);
    s.t.clock.advance(3_600_000);
    const same = await s.post("/api/v1/agents/inventory", gz({ unchanged: sha256Hex(text) }), headers(agent.auth));
    expect([same.status, await same.json()]).toEqual([200, { status: "ok", changes: 0 }]);
    expect(s.t.db.query("SELECT received_at FROM inventories").get()).toEqual({ received_at: s.t.clock.now() });
    const stale = await s.post("/api/v1/agents/inventory", gz({ unchanged: "0".repeat(64) }), headers(agent.auth));
    expect([stale.status, (await stale.json()).error.code]).toEqual([409, "conflict"]);
    const changed = await s.post("/api/v1/agents/inventory", gz(inventoryDoc({ hostname: "pc-07", software: 13 })), headers(agent.auth));
    expect(await changed.json()).toEqual({ status: "ok", changes: 1 });
  });

  test("credentials: none, wrong, the inventory key, a banned machine", async () => {
    const s = await setup();
    const agent = await s.enroll();
    const body = gz(inventoryDoc());
    const none = await s.post("/api/v1/agents/inventory", body, { "content-encoding": "gzip" });
    expect([none.status, none.headers.get("www-authenticate"), (await none.json()).error.code]).toEqual([401, 'Basic realm="Medulla agents"', "unauthorized"]);
    expect((await s.post("/api/v1/agents/inventory", body, headers(basic(agent.jid, "nope")))).status).toBe(401);
    const key = (await s.boss("PUT", "/api/v1/inventory/settings", { key: "a-long-inventory-key" })).body;
    expect(key.hasKey).toBe(true);
    expect((await s.post("/api/v1/agents/inventory", body, headers(basic("glpi", "a-long-inventory-key")))).status).toBe(401);
    s.t.db.query("UPDATE machines SET banned = 1").run();
    const banned = await s.post("/api/v1/agents/inventory", body, headers(agent.auth));
    expect([banned.status, (await banned.json()).error]).toEqual([403, { code: "forbidden", message: "machine pc-01 is banned" }]);
  });

  test("a remembered password stops working as soon as the agent enrolls again", async () => {
    const s = await setup();
    const first = await s.enroll({ hostname: "pc-09", serial: "SN-0009", manufacturer: "HP" });
    expect((await s.post("/api/v1/agents/inventory", gz(inventoryDoc({ hostname: "pc-09" })), headers(first.auth))).status).toBe(200);
    const again = await s.enroll({ hostname: "pc-09", serial: "SN-0009", manufacturer: "HP" });
    expect(again.machineId).toBe(first.machineId);
    expect((await s.post("/api/v1/agents/inventory", gz(inventoryDoc({ hostname: "pc-09" })), headers(first.auth))).status).toBe(401);
    expect((await s.post("/api/v1/agents/inventory", gz(inventoryDoc({ hostname: "pc-09" })), headers(again.auth))).status).toBe(200);
  });

  test("a bad document is a JSON error in the caller's language, and the stored inventory stays", async () => {
    const s = await setup();
    const agent = await s.enroll();
    await s.post("/api/v1/agents/inventory", gz(inventoryDoc({ software: 3 })), headers(agent.auth));
    const before = s.t.db.query("SELECT hash, received_at FROM inventories").get();
    const res = await s.post("/api/v1/agents/inventory", gzipSync('{"content": {"hardware": "x"}}'), headers(agent.auth));
    expect([res.status, await res.json()]).toEqual([422, { error: { code: "inventory_invalid", message: "Inventory refused: content.hardware: expected an object" } }]);
    const fr = await s.post("/api/v1/agents/inventory", gzipSync("{"), { ...headers(agent.auth), "accept-language": "fr" });
    expect((await fr.json()).error.message).toStartWith("Inventaire refusé : not valid JSON");
    expect(s.t.db.query("SELECT hash, received_at FROM inventories").get()).toEqual(before);
    expect(s.count("SELECT count(*) AS n FROM inv_software")).toBe(3);
  });
});

describe("requesting an inventory", () => {
  test("an offline machine is a 409; without the right a 403; an unknown one a 404", async () => {
    const s = await setup();
    const agent = await s.enroll();
    const res = await s.boss("POST", `/api/v1/machines/${agent.machineId}/inventory-request`, { force: true });
    expect([res.status, res.body.error]).toEqual([409, { code: "conflict", message: "pc-01 n'est pas connectée : l'inventaire ne peut pas lui être demandé." }]);
    expect((await s.boss("POST", "/api/v1/machines/999/inventory-request", {})).status).toBe(404);
    await s.t.addUser("nobody", strong);
    const nobody = s.caller(await s.token("nobody"));
    expect((await nobody("POST", `/api/v1/machines/${agent.machineId}/inventory-request`, {})).status).toBe(403);
    expect(s.t.db.query("SELECT criterion, text FROM history WHERE action = 'inventory.history.requested'").all()).toEqual([]);
  });

  test("online: the agent's answer, and the request in the history", async () => {
    const s = await setup();
    await s.enroll();
    const sent: Envelope[] = [];
    let answer: (req: Envelope) => Envelope | Promise<Envelope> = (req) => reply(req, { accepted: true });
    const channel = {
      serverJid: "medulla@localhost", isOnline: () => true,
      request: async (_jid: string, req: Envelope) => (sent.push(req), answer(req)),
    } as unknown as AgentChannel;
    const machines = { get: () => ({ id: 1, hostname: "pc-01", jid: "m1@localhost" }) } as never;
    const requests = createInventoryRequests({ machines, channel, recorder: s.t.app.recorder });
    const viewer = { id: 1, login: "boss", isSuper: true };
    expect(await requests.request(viewer, 1, true, "10.0.0.9")).toEqual({ accepted: true });
    expect(sent.map((e) => [e.action, e.data])).toEqual([["inventory", { force: true }]]);
    answer = (req) => reply(req, { accepted: false, reason: "an inventory is already running" });
    expect(await requests.request(viewer, 1, false, "10.0.0.9")).toEqual({ accepted: false, reason: "an inventory is already running" });
    answer = () => Promise.reject(new Error("timeout"));
    expect(await requests.request(viewer, 1, false, "10.0.0.9")).toEqual({ accepted: false, reason: "no answer from the agent (timeout)" });
    expect(s.t.db.query("SELECT module, criterion, text, user_login, source_ip FROM history WHERE action = 'inventory.history.requested'").all()).toEqual(
      Array(3).fill({ module: "inventory", criterion: "requested", text: "Inventaire demandé à pc-01", user_login: "boss", source_ip: "10.0.0.9" }),
    );
  });
});

describe("the settings of who may post", () => {
  test("defaults, validation, key removal, history, rights", async () => {
    const s = await setup();
    expect((await s.boss("GET", "/api/v1/inventory/settings")).body).toEqual({
      hasKey: false, networks: ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10"], entityId: 1,
    });
    const bad = await s.boss("PUT", "/api/v1/inventory/settings", { key: "short", networks: ["10.0.0.0/33"], entityId: 42 });
    expect([bad.status, bad.body.error.fields]).toEqual([422, { key: "La clé doit compter de 16 à 256 caractères.", networks: "Réseaux : des adresses ou des plages CIDR (10.0.0.0/8, fd00::/8), 256 au plus.", entityId: "Cette entité n'existe pas." }]);
    expect((await s.boss("PUT", "/api/v1/inventory/settings", { key: "0123456789abcdef", networks: ["192.0.2.10"] })).body).toEqual({ hasKey: true, networks: ["192.0.2.10"], entityId: 1 });
    expect((await s.post("/inventory", prolog, {}, "192.0.2.10")).status).toBe(200);
    expect((await s.boss("PUT", "/api/v1/inventory/settings", { key: null })).body.hasKey).toBe(false);
    expect(s.t.db.query("SELECT text FROM history WHERE action = 'inventory.history.settings' ORDER BY id").all()).toEqual([
      { text: "Réglages de réception des inventaires modifiés (key, networks)" }, { text: "Réglages de réception des inventaires modifiés (key)" },
    ]);
    expect(s.t.db.query("SELECT value FROM settings WHERE key = 'inventory.key'").get()).toBeNull();
    await s.t.addUser("nobody", strong);
    const nobody = s.caller(await s.token("nobody"));
    expect((await nobody("GET", "/api/v1/inventory/settings")).status).toBe(403);
    expect((await nobody("PUT", "/api/v1/inventory/settings", { networks: [] })).status).toBe(403);
  });

  test("the key is stored hashed", async () => {
    const s = await setup();
    await s.boss("PUT", "/api/v1/inventory/settings", { key: "0123456789abcdef" });
    const stored = (s.t.db.query("SELECT value FROM settings WHERE key = 'inventory.key'").get() as { value: string }).value;
    expect(stored).toStartWith("$argon2id$");
    expect(stored).not.toContain("0123456789abcdef");
  });
});
