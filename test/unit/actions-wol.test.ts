/**
 * Wake-on-LAN: MAC parsing (good and hostile input), the magic packet, subnet arithmetic,
 * the sender plan (appliance on the subnet, else one online agent on it, at most one sender
 * per subnet), the wakes table with `recentWake`, and real packets: sent from this process
 * to the directed broadcast of a veth network whose other end lives in a network namespace
 * the test creates, where a UDP socket on ports 9 and 7 captures them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { $ } from "bun";
import { join } from "node:path";
import { createEntitiesService } from "../../src/features/entities/service.ts";
import { createMachinesService } from "../../src/features/machines/service.ts";
import { createWol } from "../../src/features/actions/wol.ts";
import { magicPacket, normalizeMac, parseMagicPacket, prefixOf, sendMagicPackets, subnetOf } from "../../src/net/wol.ts";
import type { AgentChannel } from "../../src/protocol/channel.ts";
import { reply, type Envelope } from "../../src/protocol/envelope.ts";
import { handleBody } from "../../agent/src/handlers.ts";
import { testApp, type TestApp } from "../support/app.ts";

describe("MAC addresses and magic packets", () => {
  test.each([
    ["AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff"],
    ["aa-bb-cc-dd-ee-ff", "aa:bb:cc:dd:ee:ff"],
    ["aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff"],
    ["aabbccddeeff", "aa:bb:cc:dd:ee:ff"],
    [" 52:54:00:12:34:56 ", "52:54:00:12:34:56"],
  ])("%s is %s", (input, want) => expect(normalizeMac(input)).toBe(want));

  test.each(["", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "gg:bb:cc:dd:ee:ff", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "<script>", "a".repeat(5000), "aa:bb:cc:dd:ee:f\u0000"])("refuses %p", (bad) => {
    expect(normalizeMac(bad)).toBeNull();
    expect(() => magicPacket(bad)).toThrow();
  });

  test("6 × 0xFF then 16 × the MAC, 102 bytes", () => {
    const p = magicPacket("01:23:45:67:89:ab");
    expect(p.length).toBe(102);
    expect([...p.subarray(0, 6)]).toEqual([255, 255, 255, 255, 255, 255]);
    for (let i = 0; i < 16; i++) expect(p.subarray(6 + i * 6, 12 + i * 6).toString("hex")).toBe("0123456789ab");
    expect(parseMagicPacket(p)).toBe("01:23:45:67:89:ab");
    expect(parseMagicPacket(Buffer.alloc(102))).toBeNull();
    expect(parseMagicPacket(p.subarray(0, 50))).toBeNull();
  });

  test("subnets and broadcasts", () => {
    expect(subnetOf("192.168.1.37", "255.255.255.0")).toEqual({ cidr: "192.168.1.0/24", broadcast: "192.168.1.255" });
    expect(subnetOf("10.1.2.3", "255.255.240.0")).toEqual({ cidr: "10.1.0.0/20", broadcast: "10.1.15.255" });
    expect(subnetOf("10.1.2.3", "/16")?.broadcast).toBe("10.1.255.255");
    expect(subnetOf("10.1.2.3", "255.0.255.0")).toBeNull(); // not contiguous
    expect(subnetOf("10.1.2.3", "255.255.255.255")).toBeNull();
    expect(subnetOf("fe80::1", "64")).toBeNull();
    expect(subnetOf("300.1.1.1", "24")).toBeNull();
    expect(prefixOf("0.0.0.0")).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------

interface Sent { jid: string; env: Envelope }

function fakeChannel(online: Set<string>, answer: (jid: string, env: Envelope) => Envelope | Promise<Envelope>): AgentChannel & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    serverJid: "medulla@test", sent,
    send: (jid, env) => (sent.push({ jid, env }), online.has(jid)),
    request: async (jid, env) => {
      sent.push({ jid, env });
      if (!online.has(jid)) throw new Error("offline");
      return answer(jid, env);
    },
    onMessage: () => undefined, onPresence: () => undefined,
    isOnline: (jid) => online.has(jid), online: () => [...online], disconnect: () => undefined,
  };
}

function setup(t: TestApp, channel: AgentChannel, opts: { local: { address: string; netmask: string }[]; sent: { macs: string[]; broadcast: string }[] }) {
  const entities = createEntitiesService({ db: t.db, clock: t.clock, recorder: t.app.recorder });
  const machines = createMachinesService({ db: t.db, clock: t.clock, recorder: t.app.recorder, entities });
  const wol = createWol({
    db: t.db, clock: t.clock, channel, machines, recorder: t.app.recorder, localInterfaces: () => opts.local,
    send: async (macs, broadcast) => (opts.sent.push({ macs, broadcast }), { sent: macs.length * 2, errors: [] }),
  });
  return { wol, machines };
}

function addMachine(t: TestApp, m: { hostname: string; mac: string; ip?: string; netmask?: string; gateway?: string; online?: boolean }): number {
  const now = t.clock.now();
  const id = (t.db.query("INSERT INTO machines (hostname, os, jid, online, last_seen_at, created_at, updated_at) VALUES ($h, 'linux', $jid, $o, $now, $now, $now) RETURNING id")
    .get({ h: m.hostname, jid: `${m.hostname}@test`, o: m.online ? 1 : 0, now }) as { id: number }).id;
  t.db.query("INSERT INTO machine_macs (mac, machine_id) VALUES (?, ?)").run(m.mac, id);
  if (m.ip) t.db.query("INSERT INTO inv_networks (machine_id, description, mac, ip, netmask, gateway) VALUES (?, 'eth0', ?, ?, ?, ?)").run(id, m.mac, m.ip, m.netmask ?? "255.255.255.0", m.gateway ?? "");
  return id;
}

const admin = async (t: TestApp) => ({ id: await t.addUser("root", "Correct-horse-7", { isSuper: true }), login: "root", isSuper: true });

describe("the sender plan and the wakes table", () => {
  test("the appliance sends itself on its own subnet; an online agent relays elsewhere; one sender per subnet", async () => {
    const t = testApp();
    const online = new Set(["relay-b@test", "other-b@test"]);
    const channel = fakeChannel(online, (_jid, env) => reply(env, { sent: (env.data.macs as string[]).length * 2, errors: [] }));
    const sent: { macs: string[]; broadcast: string }[] = [];
    const { wol } = setup(t, channel, { local: [{ address: "192.168.1.2", netmask: "255.255.255.0" }], sent });
    const a1 = addMachine(t, { hostname: "a1", mac: "52:54:00:00:00:01", ip: "192.168.1.10" });
    const a2 = addMachine(t, { hostname: "a2", mac: "52:54:00:00:00:02", ip: "192.168.1.11" });
    const b1 = addMachine(t, { hostname: "b1", mac: "52:54:00:00:00:03", ip: "10.20.0.10", netmask: "255.255.0.0", gateway: "10.20.0.1" });
    const b2 = addMachine(t, { hostname: "b2", mac: "52:54:00:00:00:04", ip: "10.20.3.10", netmask: "255.255.0.0", gateway: "10.20.0.1" });
    addMachine(t, { hostname: "relay-b", mac: "52:54:00:00:00:05", ip: "10.20.9.9", netmask: "255.255.0.0", gateway: "10.20.0.1", online: true });
    addMachine(t, { hostname: "other-b", mac: "52:54:00:00:00:06", ip: "10.20.9.8", netmask: "255.255.0.0", gateway: "10.20.0.254", online: true });
    const c1 = addMachine(t, { hostname: "c1", mac: "52:54:00:00:00:07", ip: "172.16.5.5" }); // nobody there
    const out = await wol.wake(await admin(t), [a1, a2, b1, b2, c1], "192.0.2.1");
    // The appliance sent once to 192.168.1.255 with both MACs, and once (directed) to 172.16.5.255.
    expect(sent).toEqual([
      { macs: ["52:54:00:00:00:01", "52:54:00:00:00:02"], broadcast: "192.168.1.255" },
      { macs: ["52:54:00:00:00:07"], broadcast: "172.16.5.255" },
    ]);
    // One agent request for the 10.20/16 subnet: the one with the same gateway.
    const agentRequests = channel.sent.filter((s) => s.env.action === "wakeonlan");
    expect(agentRequests.map((s) => [s.jid, s.env.data])).toEqual([["relay-b@test", { macs: ["52:54:00:00:00:03", "52:54:00:00:00:04"], broadcast: "10.20.255.255" }]]);
    expect(out.find((o) => o.hostname === "b2")?.via).toBe("relay-b");
    const rows = t.db.query("SELECT machine_id, mac, broadcast, via, user_login FROM wakes ORDER BY mac").all() as { via: string; user_login: string }[];
    expect(rows.length).toBe(5);
    expect(rows.every((r) => r.user_login === "root")).toBe(true);
    expect(rows.filter((r) => r.via.startsWith("agent:")).length).toBe(2);
    // recentWake: what network boot asks.
    expect(wol.recentWake("52-54-00-00-00-03", 60_000)?.via).toMatch(/^agent:/);
    t.clock.advance(120_000);
    expect(wol.recentWake("52:54:00:00:00:03", 60_000)).toBeNull();
    expect(wol.recentWake("not a mac", 60_000)).toBeNull();
    const history = t.db.query("SELECT COUNT(*) AS n FROM history WHERE action = 'wol.history.sent'").get() as { n: number };
    expect(history.n).toBe(5);
  });

  test("no MAC: reported, nothing sent; empty selection refused", async () => {
    const t = testApp();
    const sent: { macs: string[]; broadcast: string }[] = [];
    const { wol } = setup(t, fakeChannel(new Set(), () => { throw new Error("unused"); }), { local: [], sent });
    const id = (t.db.query("INSERT INTO machines (hostname, created_at, updated_at) VALUES ('nomac', 0, 0) RETURNING id").get() as { id: number }).id;
    const root = await admin(t);
    const out = await wol.wake(root, [id], "");
    expect(out[0]?.error).toContain("no MAC");
    expect(sent).toEqual([]);
    expect(wol.wake(root, [], "")).rejects.toThrow();
  });
});

// ---------------------------------------------------------------------------------------
// Real packets through a network namespace.

const NS = "wa-wol";
const isRoot = process.getuid?.() === 0;
let nsReady = false;

async function sh(cmd: string[]): Promise<void> {
  const p = Bun.spawn(cmd, { stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`${cmd.join(" ")}: ${await new Response(p.stderr).text()}`);
}

describe.skipIf(!isRoot)("magic packets captured in a network namespace", () => {
  beforeAll(async () => {
    await $`ip netns del ${NS}`.quiet().nothrow();
    await $`ip link del wa-h0`.quiet().nothrow();
    await sh(["ip", "netns", "add", NS]);
    await sh(["ip", "link", "add", "wa-h0", "type", "veth", "peer", "name", "wa-n0"]);
    await sh(["ip", "link", "set", "wa-n0", "netns", NS]);
    await sh(["ip", "addr", "add", "10.231.7.1/24", "brd", "+", "dev", "wa-h0"]);
    await sh(["ip", "link", "set", "wa-h0", "up"]);
    await sh(["ip", "netns", "exec", NS, "ip", "addr", "add", "10.231.7.2/24", "brd", "+", "dev", "wa-n0"]);
    await sh(["ip", "netns", "exec", NS, "ip", "link", "set", "wa-n0", "up"]);
    await sh(["ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up"]);
    nsReady = true;
  });
  afterAll(async () => {
    await $`ip netns del ${NS}`.quiet().nothrow();
    await $`ip link del wa-h0`.quiet().nothrow();
  });

  /** A UDP listener on ports 9 and 7 inside the namespace; prints one line per datagram. */
  async function capture(expected: number, run: () => Promise<void>): Promise<{ port: number; mac: string | null; len: number }[]> {
    const script = join(import.meta.dir, "..", "fixtures", "wol-capture.ts");
    const proc = Bun.spawn(["ip", "netns", "exec", NS, process.execPath, script, String(expected)], { stdout: "pipe", stderr: "pipe" });
    const reader = proc.stdout.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    const deadline = Date.now() + 15_000;
    // Wait for "ready" before sending.
    while (!buf.includes("ready\n")) {
      if (Date.now() > deadline) throw new Error(`capture did not start: ${await new Response(proc.stderr).text()}`);
      const r = await Promise.race([reader.read(), Bun.sleep(15_000).then(() => ({ done: true, value: undefined }))]);
      if (r.done) break;
      buf += decoder.decode(r.value);
    }
    await run();
    const timer = setTimeout(() => proc.kill(), 10_000);
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      buf += decoder.decode(r.value);
    }
    clearTimeout(timer);
    await proc.exited;
    return buf.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  }

  test("the appliance's packets reach the subnet broadcast on ports 9 and 7", async () => {
    expect(nsReady).toBe(true);
    const got = await capture(4, async () => {
      const r = await sendMagicPackets(["52:54:00:aa:bb:01", "52-54-00-aa-bb-02"], "10.231.7.255");
      expect(r).toEqual({ sent: 4, errors: [] });
    });
    expect(got.map((g) => `${g.mac}:${g.port}:${g.len}`).sort()).toEqual(["52:54:00:aa:bb:01:7:102", "52:54:00:aa:bb:01:9:102", "52:54:00:aa:bb:02:7:102", "52:54:00:aa:bb:02:9:102"]);
  }, 30_000);

  test("the wake service picks the appliance for its own subnet and records the wake", async () => {
    const t = testApp();
    const entities = createEntitiesService({ db: t.db, clock: t.clock, recorder: t.app.recorder });
    const machines = createMachinesService({ db: t.db, clock: t.clock, recorder: t.app.recorder, entities });
    // The real interfaces of this host, which include wa-h0 (10.231.7.1/24), and the real sender.
    const wol = createWol({ db: t.db, clock: t.clock, channel: fakeChannel(new Set(), () => { throw new Error("no agent expected"); }), machines, recorder: t.app.recorder });
    const id = addMachine(t, { hostname: "sleeper", mac: "52:54:00:aa:bb:03", ip: "10.231.7.50" });
    const root = await admin(t);
    const got = await capture(2, async () => {
      const out = await wol.wake(root, [id], "192.0.2.1");
      expect(out).toEqual([{ machineId: id, hostname: "sleeper", via: "appliance", broadcast: "10.231.7.255", sent: 2, error: "" }]);
    });
    expect(got.map((g) => `${g.mac}:${g.port}`).sort()).toEqual(["52:54:00:aa:bb:03:7", "52:54:00:aa:bb:03:9"]);
    expect(wol.recentWake("52:54:00:aa:bb:03", 60_000)).toMatchObject({ via: "appliance", broadcast: "10.231.7.255", user_login: "root" });
  }, 30_000);

  test("an agent's wakeonlan handler sends the same packets", async () => {
    const got = await capture(2, async () => {
      const handled = await handleBody(JSON.stringify({ v: 1, action: "wakeonlan", sessionid: "s1", data: { macs: ["52:54:00:aa:bb:04"], broadcast: "10.231.7.255" } }), { facts: async () => ({}) as never, version: { version: "t", os: "linux", arch: "x64" }, now: () => 0 });
      expect(handled.kind).toBe("answer");
      if (handled.kind === "answer") expect(handled.envelope.data).toEqual({ sent: 2, errors: [] });
    });
    expect(got.map((g) => g.mac)).toEqual(["52:54:00:aa:bb:04", "52:54:00:aa:bb:04"]);
  }, 30_000);

  test("a malformed wakeonlan request is refused by the agent with a bad-data error", async () => {
    const handled = await handleBody(JSON.stringify({ v: 1, action: "wakeonlan", sessionid: "s2", data: { macs: ["zz"], broadcast: "10.231.7.255" } }), { facts: async () => ({}) as never, version: { version: "t", os: "linux", arch: "x64" }, now: () => 0 });
    expect(handled.kind).toBe("answer");
    if (handled.kind === "answer") expect(handled.envelope.ret).toBe(422);
  });
});
