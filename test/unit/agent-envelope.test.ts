import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { encodeEnvelope, request } from "../../src/protocol/envelope.ts";
import type { Facts } from "../../agent/src/facts/index.ts";
import { handleBody, type HandlerContext } from "../../agent/src/handlers.ts";
import { memoryLogger } from "../../agent/src/log.ts";
import { AgentSession } from "../../agent/src/session.ts";
import { xml, type Element, type XmppClient } from "../../agent/src/xmpp/client.ts";

const facts: Facts = { agentId: "42", agentVersion: "0.1.0", hostname: "pc-01", os: "linux", osName: "Debian", osVersion: "12", arch: "x64", ips: [], macs: [], loggedUser: "", uptimeSeconds: 5 };
const ctx: HandlerContext = { facts: async () => facts, version: { version: "0.1.0", os: "linux", arch: "x64" }, now: () => 1_700_000_000_000 };
const body = (o: unknown) => JSON.stringify(o);

describe("agent envelope handling", () => {
  test("ping, agentversion and machinefacts answer result<action> with the same sessionid", async () => {
    expect(await handleBody(body({ v: 1, action: "ping", sessionid: "s1", data: {}, ret: 0 }), ctx)).toEqual({
      kind: "answer",
      envelope: { v: 1, action: "resultping", sessionid: "s1", data: { time: 1_700_000_000_000 }, ret: 0 },
    });
    expect(await handleBody(body({ action: "agentversion", sessionid: "s2" }), ctx)).toEqual({
      kind: "answer",
      envelope: { v: 1, action: "resultagentversion", sessionid: "s2", data: { version: "0.1.0", os: "linux", arch: "x64" }, ret: 0 },
    });
    expect(await handleBody(body({ v: 1, action: "machinefacts", sessionid: "s3", data: {}, ret: 0 }), ctx)).toEqual({
      kind: "answer",
      envelope: { v: 1, action: "resultmachinefacts", sessionid: "s3", data: { ...facts }, ret: 0 },
    });
  });

  test("unknown actions and malformed bodies get an error reply and a log line", async () => {
    expect(await handleBody(body({ v: 1, action: "reboot", sessionid: "s4", data: {}, ret: 0 }), ctx)).toEqual({
      kind: "answer",
      envelope: { v: 1, action: "resultreboot", sessionid: "s4", data: { error: "unknown_action" }, ret: 404 },
      log: { level: "warn", msg: 'the agent does not handle action "reboot"' },
    });
    expect(await handleBody("{not json", ctx)).toEqual({
      kind: "answer",
      envelope: { v: 1, action: "resulterror", sessionid: "", data: { error: "not_json" }, ret: 400 },
      log: { level: "warn", msg: "answered a bad message with an error (not_json)" },
    });
    expect(await handleBody(body({ v: 1, action: "ping", sessionid: "s5", data: [], ret: 0 }), ctx)).toEqual({
      kind: "answer",
      envelope: { v: 1, action: "resultping", sessionid: "s5", data: { error: "bad_data", detail: "data must be an object" }, ret: 422 },
      log: { level: "warn", msg: "answered a bad message with an error (bad_data: data must be an object)" },
    });
    expect((await handleBody(body({ v: 9, action: "ping", sessionid: "s6" }), ctx)).kind).toBe("answer");
    expect((await handleBody("x".repeat(70_000), ctx)).kind).toBe("answer");
    expect((await handleBody("null", ctx)).kind).toBe("answer");
    // An action the agent sends but never answers.
    expect(await handleBody(body({ v: 1, action: "announce", sessionid: "s7", data: facts, ret: 0 }), ctx)).toMatchObject({ kind: "answer", envelope: { action: "resultannounce", ret: 404 } });
  });

  test("replies go back to the caller; malformed replies are never answered", async () => {
    expect(await handleBody(body({ v: 1, action: "resultannounce", sessionid: "a1", data: { machineId: 3 }, ret: 0 }), ctx)).toEqual({
      kind: "reply",
      envelope: { v: 1, action: "resultannounce", sessionid: "a1", data: { machineId: 3 }, ret: 0 },
    });
    expect((await handleBody(body({ v: 1, action: "resultping", sessionid: "a2", data: 5 }), ctx)).kind).toBe("ignore");
    expect((await handleBody(body({ v: 1, action: "resulterror", sessionid: "", data: { error: "not_json" }, ret: 400 }), ctx)).kind).toBe("ignore");
    // A reply to an action this side does not know still goes to its caller, and is never answered.
    expect((await handleBody(body({ v: 1, action: "resultunknownthing", sessionid: "a3" }), ctx)).kind).toBe("reply");
  });

  test("a failing handler answers ret 1 with the reason", async () => {
    const failing = { ...ctx, facts: async () => Promise.reject(new Error("WMI is broken")) };
    expect(await handleBody(body({ v: 1, action: "machinefacts", sessionid: "f", data: {} }), failing)).toMatchObject({
      kind: "answer",
      envelope: { action: "resultmachinefacts", sessionid: "f", data: { error: "failed", detail: "WMI is broken" }, ret: 1 },
    });
  });
});

/** A stand-in for the XMPP client: records what is sent, lets the test deliver stanzas. */
function fakeClient(opts: { pingFails?: boolean } = {}) {
  const entity = new EventEmitter() as EventEmitter & { send(e: Element): Promise<void> };
  const sent: Element[] = [];
  entity.send = async (e) => void sent.push(e);
  const client = { entity, ping: async () => (opts.pingFails ? Promise.reject(new Error("timeout")) : 1), stop: async () => undefined } as unknown as XmppClient;
  const deliver = (from: string, b: string) => entity.emit("stanza", xml("message", { from, type: "chat" }, xml("body", {}, b)));
  const bodies = () => sent.filter((e) => e.is("message")).map((e) => ({ to: e.attrs.to, ...JSON.parse(e.getChildText("body")!) }));
  return { client, sent, deliver, bodies };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 400 && !check(); i++) await Bun.sleep(5);
  expect(check()).toBe(true);
};

describe("agent session", () => {
  test("presence, announce, answers only to the server, and the announce reply is matched", async () => {
    const f = fakeClient();
    const log = memoryLogger();
    const session = new AgentSession({ client: f.client, serverJid: "medulla@m.lan", ctx, log, heartbeatMs: 0, factsIntervalMs: 0 });
    const begun = session.begin();
    await until(() => f.bodies().length === 1);
    expect(f.sent[0]!.is("presence")).toBe(true);
    const announce = f.bodies()[0]!;
    expect(announce).toMatchObject({ to: "medulla@m.lan", action: "announce", data: facts });
    f.deliver("medulla@m.lan/server", encodeEnvelope({ v: 1, action: "resultannounce", sessionid: announce.sessionid, data: { machineId: 9 }, ret: 0 }));
    await begun;
    expect(log.lines.some((l) => l.includes("announced machineId=9"))).toBe(true);

    f.deliver("intruder@m.lan/x", encodeEnvelope(request("machinefacts")));
    f.deliver("medulla@m.lan/server", encodeEnvelope(request("ping", {}, "p1")));
    await until(() => f.bodies().length === 2);
    expect(f.bodies()[1]).toEqual({ to: "medulla@m.lan/server", v: 1, action: "resultping", sessionid: "p1", data: { time: 1_700_000_000_000 }, ret: 0 });
    expect(log.lines.some((l) => l.includes("ignored a message from someone other than the server from=intruder@m.lan/x"))).toBe(true);
    session.close();
    expect(await session.closed).toBe("closed");
  });

  test("a heartbeat without answer ends the session", async () => {
    const f = fakeClient({ pingFails: true });
    const session = new AgentSession({ client: f.client, serverJid: "medulla@m.lan", ctx, log: memoryLogger(), heartbeatMs: 10, factsIntervalMs: 0, requestTimeoutMs: 50 });
    void session.begin();
    expect(await session.closed).toBe("heartbeat: no answer from the server");
  });

  test("a lost connection ends the session and fails pending requests", async () => {
    const f = fakeClient();
    const session = new AgentSession({ client: f.client, serverJid: "medulla@m.lan", ctx, log: memoryLogger(), heartbeatMs: 0, factsIntervalMs: 0 });
    const pending = session.request("ping", {});
    f.client.entity.emit("disconnect");
    await expect(pending).rejects.toThrow("session closed: the connection was closed");
    expect(await session.closed).toBe("the connection was closed");
  });
});
