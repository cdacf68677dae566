/**
 * Enrollment with a pinned CA against a real TLS server (Bun.serve on port 0) that plays
 * the appliance's `POST /api/v1/agents/enroll`, with certificates made by src/certs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCertificates, fingerprint, type CertBundle } from "../../src/certs/index.ts";
import { loadConfig } from "../../agent/src/config.ts";
import { enroll, EnrollError } from "../../agent/src/enroll.ts";
import type { Facts } from "../../agent/src/facts/index.ts";
import { PinError, verifyPinnedChain } from "../../agent/src/pin.ts";

const dir = mkdtempSync(join(tmpdir(), "agent-enroll-"));
let ca1: CertBundle;
let ca2: CertBundle;
let other: CertBundle;
const received: unknown[] = [];
let answerFingerprint = "";

const facts = async (): Promise<Facts> => ({
  agentId: "", agentVersion: "0", hostname: "pc-01", os: "linux", osName: "Debian", osVersion: "12", arch: "x64",
  ips: ["10.0.0.5"], macs: ["3c:52:82:11:22:33"], loggedUser: "", uptimeSeconds: 1, uuid: "4c4c4544-0042-3510-8052-b7c04f4e3933", serial: "7B5RN93",
});

function fakeAppliance(bundle: CertBundle) {
  return Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    tls: { cert: bundle.cert, key: bundle.key },
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method !== "POST" || url.pathname !== "/api/v1/agents/enroll") return new Response("no", { status: 404 });
      const body = (await req.json()) as { token: string };
      received.push(body);
      if (body.token === "expired") return Response.json({ error: { code: "gone", message: "token expired" } }, { status: 410 });
      if (body.token !== "good") return Response.json({ error: { code: "unauthorized", message: "unknown token" } }, { status: 401 });
      return Response.json({ machineId: 42, jid: "m42@medulla.lan", password: "p#ss;w=rd", domain: "medulla.lan", serverJid: "medulla@medulla.lan", xmppHost: "127.0.0.1", xmppPort: 5222, caFingerprint: answerFingerprint || bundle.caFingerprint });
    },
  });
}

let server: ReturnType<typeof fakeAppliance>;
let url = "";
const pem = (p: string) => new Uint8Array(Buffer.from(p.split("-----BEGIN CERTIFICATE-----")[1]!.split("-----END")[0]!.replace(/\s+/g, ""), "base64"));
const chainOf = (b: CertBundle) => b.cert.split(/(?=-----BEGIN CERTIFICATE-----)/).map(pem);

beforeAll(async () => {
  ca1 = await ensureCertificates(join(dir, "ca1"), { dns: ["localhost"], ips: ["127.0.0.1"] });
  ca2 = await ensureCertificates(join(dir, "ca2"), { dns: ["localhost"], ips: ["127.0.0.1"] });
  other = await ensureCertificates(join(dir, "other"), { dns: ["other.example"], ips: [] });
  server = fakeAppliance(ca1);
  url = `https://127.0.0.1:${server.port}`;
});
afterAll(() => {
  server?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const configIn = (name: string) => join(dir, name, "agent.ini");

describe("enroll with a pinned CA", () => {
  test("success writes the config (0600) and the CA beside it", async () => {
    const path = configIn("ok");
    const c = await enroll({ server: url, token: "good", ca: ca1.caFingerprint, configPath: path }, { facts });
    expect(received.at(-1)).toEqual({ token: "good", hostname: "pc-01", os: "linux", arch: "x64", uuid: "4c4c4544-0042-3510-8052-b7c04f4e3933", serial: "7B5RN93", macs: ["3c:52:82:11:22:33"] });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(fingerprint(readFileSync(join(dir, "ok", "agent.ca.pem"), "utf8"))).toBe(ca1.caFingerprint);
    const load = await loadConfig(path);
    expect(load.kind === "ok" && load.config).toEqual(c);
    expect(c).toEqual({
      path,
      server: { url, caFingerprint: ca1.caFingerprint, caFile: join(dir, "ok", "agent.ca.pem") },
      xmpp: { jid: "m42@medulla.lan", password: "p#ss;w=rd", host: "127.0.0.1", port: 5222, domain: "medulla.lan", serverJid: "medulla@medulla.lan" },
      agent: { id: "42", logLevel: "info", heartbeatSeconds: 60, factsIntervalSeconds: 300 },
    });
  });

  test("a wrong pin is refused and nothing is written", async () => {
    const path = configIn("wrongpin");
    const e = await enroll({ server: url, token: "good", ca: ca2.caFingerprint, configPath: path }, { facts }).catch((x: Error) => x);
    expect(e).toBeInstanceOf(EnrollError);
    expect((e as Error).message).toContain(`does not contain the pinned CA ${ca2.caFingerprint}`);
    expect(existsSync(join(dir, "wrongpin"))).toBe(false);
  });

  test("a refused or expired token leaves an existing config untouched", async () => {
    const path = configIn("refused");
    await enroll({ server: url, token: "good", ca: ca1.caFingerprint, configPath: path }, { facts });
    writeFileSync(path, `${readFileSync(path, "utf8")}; hand edit\n`);
    const before = readFileSync(path, "utf8");
    const refused = await enroll({ server: url, token: "bad", ca: ca1.caFingerprint, configPath: path, force: true }, { facts }).catch((x: Error) => x);
    expect((refused as Error).message).toBe("the server refused the enrollment token (unknown token): it may be expired, used up or revoked");
    const expired = await enroll({ server: url, token: "expired", ca: ca1.caFingerprint, configPath: path, force: true }, { facts }).catch((x: Error) => x);
    expect((expired as Error).message).toBe("the enrollment token has expired (token expired)");
    expect(readFileSync(path, "utf8")).toBe(before);
  });

  test("an enrolled config is replaced only with --force", async () => {
    const path = configIn("ok");
    await expect(enroll({ server: url, token: "good", ca: ca1.caFingerprint, configPath: path }, { facts })).rejects.toThrow("add --force");
    await enroll({ server: url, token: "good", ca: ca1.caFingerprint, configPath: path, force: true }, { facts });
  });

  test("the server must confirm the pinned CA in its answer", async () => {
    answerFingerprint = ca2.caFingerprint;
    try {
      await expect(enroll({ server: url, token: "good", ca: ca1.caFingerprint, configPath: configIn("mismatch") }, { facts })).rejects.toThrow("not the pinned");
      expect(existsSync(configIn("mismatch"))).toBe(false);
    } finally {
      answerFingerprint = "";
    }
  });

  test("an unreachable server, bad arguments: one clear line", async () => {
    const free = createServer().listen(0, "127.0.0.1");
    await new Promise((r) => free.once("listening", r));
    const port = (free.address() as { port: number }).port;
    free.close();
    await expect(enroll({ server: `https://127.0.0.1:${port}`, token: "good", ca: ca1.caFingerprint, configPath: configIn("x") }, { facts })).rejects.toThrow(`cannot reach 127.0.0.1:${port}: connection refused`);
    await expect(enroll({ server: "http://127.0.0.1", token: "t", ca: ca1.caFingerprint, configPath: configIn("x") })).rejects.toThrow("https://");
    await expect(enroll({ server: url, token: "t", ca: "sha256:1234", configPath: configIn("x") })).rejects.toThrow("--ca must be sha256:");
    expect(existsSync(join(dir, "x"))).toBe(false);
  });
});

describe("pinned chain verification", () => {
  test("the presented leaf + CA chain passes and yields the CA", () => {
    const r = verifyPinnedChain(chainOf(ca1), ca1.caFingerprint, "127.0.0.1");
    expect(fingerprint(r.caPem)).toBe(ca1.caFingerprint);
    expect(verifyPinnedChain(chainOf(ca1), ca1.caFingerprint, "localhost").caFingerprint).toBe(ca1.caFingerprint);
  });

  test("a leaf from another CA with the pinned CA appended is refused", () => {
    const evil = [chainOf(ca2)[0]!, chainOf(ca1)[1]!];
    expect(() => verifyPinnedChain(evil, ca1.caFingerprint, "localhost")).toThrow("not signed by the pinned CA");
  });

  test("a leaf that does not name the host is refused", () => {
    expect(() => verifyPinnedChain(chainOf(other), other.caFingerprint, "medulla.lan")).toThrow("does not name medulla.lan");
  });

  test("expired or not yet valid certificates are refused", () => {
    expect(() => verifyPinnedChain(chainOf(ca1), ca1.caFingerprint, "localhost", new Date(Date.now() + 900 * 86_400_000))).toThrow("expired");
    expect(() => verifyPinnedChain(chainOf(ca1), ca1.caFingerprint, "localhost", new Date(Date.now() - 2 * 86_400_000))).toThrow("not valid before");
  });

  test("garbage and empty chains are refused with PinError", () => {
    expect(() => verifyPinnedChain([], ca1.caFingerprint, "localhost")).toThrow(PinError);
    expect(() => verifyPinnedChain([new Uint8Array([1, 2, 3])], ca1.caFingerprint, "localhost")).toThrow("cannot be read");
  });
});
