/**
 * The inventory over HTTPS, against a real TLS server (Bun.serve on port 0, certificates
 * from src/certs) that plays `POST /api/v1/agents/inventory` the way the appliance answers
 * it: basic auth with the agent's JID and password, a gzip body, `{ status, changes }`, 409
 * for an `unchanged` it does not hold. Then the runner end to end, and the command line:
 * `medulla-agent inventory [--print] [--force]` and the first inventory at enrollment.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCertificates, type CertBundle } from "../../src/certs/index.ts";
import { configToIni, type AgentConfig } from "../../agent/src/config.ts";
import { inventoryRunner } from "../../agent/src/inventory/index.ts";
import { runAgent } from "../../agent/src/run.ts";
import type { XmppClient } from "../../agent/src/xmpp/client.ts";
import { postInventory, type PostTarget } from "../../agent/src/inventory/post.ts";
import { memoryLogger } from "../../agent/src/log.ts";
import { readState, StateFile, stateFileStore } from "../../agent/src/state.ts";
import { glpiSchemaErrors } from "../fixtures/agent/inventory/fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "agent-inv-post-"));
const JID = "m42@medulla.lan";
const PASSWORD = "p#ss:w=rd";
let certs: CertBundle;
let other: CertBundle;

interface Received {
  auth: string | null;
  encoding: string | null;
  type: string | null;
  body: unknown;
  raw: string;
}
const received: Received[] = [];
/** What the fake appliance has stored: the SHA-256 of the last full body, as the server keeps it. */
let storedHash = "";
let next: ((r: Received) => Response | undefined) | undefined;

/** `sink` is where the requests go: a test whose schedule may still be posting when it stops gives its own. */
function fakeAppliance(bundle: CertBundle, sink: Received[] = received) {
  return Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    tls: { cert: bundle.cert, key: bundle.key },
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/api/v1/agents/enroll") {
        return Response.json({ machineId: 42, jid: JID, password: PASSWORD, domain: "medulla.lan", serverJid: "medulla@medulla.lan", xmppHost: "127.0.0.1", xmppPort: 5222, caFingerprint: bundle.caFingerprint });
      }
      if (req.method !== "POST" || url.pathname !== "/api/v1/agents/inventory") return new Response("no", { status: 404 });
      const bytes = new Uint8Array(await req.arrayBuffer());
      const raw = req.headers.get("content-encoding") === "gzip" ? new TextDecoder().decode(Bun.gunzipSync(bytes)) : new TextDecoder().decode(bytes);
      const r: Received = { auth: req.headers.get("authorization"), encoding: req.headers.get("content-encoding"), type: req.headers.get("content-type"), body: JSON.parse(raw), raw };
      sink.push(r);
      const scripted = next?.(r);
      if (scripted) return scripted;
      if (r.auth !== `Basic ${Buffer.from(`${JID}:${PASSWORD}`).toString("base64")}`) return Response.json({ error: { code: "unauthorized", message: `wrong password for agent m42` } }, { status: 401 });
      const body = r.body as { unchanged?: string };
      if (typeof body.unchanged === "string") {
        if (body.unchanged !== storedHash) return Response.json({ error: { code: "conflict", message: "This unchanged inventory does not match the last one received: send the full inventory." } }, { status: 409 });
        return Response.json({ status: "ok", changes: 0 });
      }
      const changes = storedHash ? 1 : 57;
      storedHash = createHash("sha256").update(raw).digest("hex");
      return Response.json({ status: "ok", changes });
    },
  });
}

let server: ReturnType<typeof fakeAppliance>;
let wrongServer: ReturnType<typeof fakeAppliance>;
let target: PostTarget;

beforeAll(async () => {
  certs = await ensureCertificates(join(dir, "certs"), { dns: ["localhost"], ips: ["127.0.0.1"] });
  other = await ensureCertificates(join(dir, "other"), { dns: ["localhost"], ips: ["127.0.0.1"] });
  server = fakeAppliance(certs);
  wrongServer = fakeAppliance(other);
  target = { server: `https://127.0.0.1:${server.port}`, jid: JID, password: PASSWORD, ca: certs.caCert };
});
afterAll(() => {
  server?.stop(true);
  wrongServer?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  received.length = 0;
  storedHash = "";
  next = undefined;
});

const DOC = { deviceid: "pc-01-42", itemtype: "Computer", content: { versionclient: "Medulla-Agent_v0.1.0", hardware: { name: "pc-01" }, softwares: [{ name: "é-accented", version: "1" }] } };

describe("POST /api/v1/agents/inventory", () => {
  test("gzip JSON with basic auth over TLS trusting the pinned CA; the answer's change count", async () => {
    const json = JSON.stringify(DOC);
    expect(await postInventory(json, target)).toEqual({ kind: "accepted", changes: 57 });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ auth: `Basic ${Buffer.from(`${JID}:${PASSWORD}`).toString("base64")}`, encoding: "gzip", type: "application/json", body: DOC, raw: json });
  });

  test("the answers the runner acts on: 401 refused, 409 conflict, 503 and 429 failed (retried), network failed", async () => {
    expect(await postInventory("{}", { ...target, password: "wrong" })).toEqual({ kind: "refused", status: 401, message: "wrong password for agent m42" });
    expect(await postInventory(JSON.stringify({ unchanged: "f".repeat(64) }), target)).toMatchObject({ kind: "conflict", status: 409 });
    next = () => new Response("restarting", { status: 503 });
    expect(await postInventory("{}", target)).toEqual({ kind: "failed", message: "HTTP 503: restarting" });
    next = () => new Response("slow down", { status: 429 });
    expect(await postInventory("{}", target)).toEqual({ kind: "failed", message: "HTTP 429: slow down" });
    next = () => Response.json({ error: { code: "too_large", message: "the document is larger than 32 MiB" } }, { status: 413 });
    expect(await postInventory("{}", target)).toEqual({ kind: "refused", status: 413, message: "the document is larger than 32 MiB" });
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const port = closed.port;
    closed.stop(true);
    expect(await postInventory("{}", { ...target, server: `https://127.0.0.1:${port}` })).toMatchObject({ kind: "failed", message: expect.stringContaining(`cannot reach https://127.0.0.1:${port}`) });
  });

  test("a server whose certificate another CA signed is refused before anything is sent", async () => {
    const before = received.length;
    const r = await postInventory(JSON.stringify(DOC), { ...target, server: `https://127.0.0.1:${wrongServer.port}` });
    expect(r.kind).toBe("failed");
    expect(received.length).toBe(before);
  });
});

function configIn(name: string, server = target.server): AgentConfig {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, "agent.ca.pem"), certs.caCert);
  const config: AgentConfig = {
    path: join(d, "agent.ini"),
    server: { url: server, caFingerprint: certs.caFingerprint, caFile: join(d, "agent.ca.pem") },
    xmpp: { jid: JID, password: PASSWORD, host: "127.0.0.1", port: 5222, domain: "medulla.lan", serverJid: "medulla@medulla.lan" },
    agent: { id: "42", logLevel: "info", heartbeatSeconds: 60, factsIntervalSeconds: 300 },
  };
  writeFileSync(config.path, configToIni(config));
  return config;
}

describe("the runner against the server", () => {
  test("full, then unchanged, then the server loses it (409) and gets it whole; the state file follows", async () => {
    const config = configIn("runner");
    const file = new StateFile(join(dir, "runner", "agent.state.json"));
    const log = memoryLogger();
    let doc = structuredClone(DOC);
    const runner = inventoryRunner({ config, ca: certs.caCert, log, store: stateFileStore(file), overrides: { collect: async () => structuredClone(doc) as never, retry: { attempts: 2, backoff: { baseMs: 10, capMs: 20 } } } });
    expect(await runner.inventoryNow("enrollment")).toEqual({ status: "sent", changes: 57 });
    expect(await runner.inventoryNow("schedule")).toEqual({ status: "unchanged" });
    expect(received.map((r) => r.body)).toEqual([DOC, { unchanged: storedHash }]);
    storedHash = "";
    expect(await runner.inventoryNow("schedule")).toEqual({ status: "sent", changes: 57 });
    expect(received.slice(2).map((r) => ("unchanged" in (r.body as object) ? "unchanged" : "full"))).toEqual(["unchanged", "full"]);
    doc = { ...doc, content: { ...doc.content, softwares: [...doc.content.softwares, { name: "7-Zip", version: "23.01" }] } };
    expect(await runner.inventoryNow("after deployment")).toEqual({ status: "sent", changes: 1 });
    const s = await readState(file.path);
    expect(s!.inventory).toMatchObject({ bodyHash: storedHash, lastResult: "sent (1 changes)" });
    expect(s!.inventory!.lastError).toBeUndefined();
  });
});

describe("the run loop", () => {
  test("the schedule runs beside the connection (here never up), posts over HTTPS, and stops with the agent", async () => {
    // Its own appliance: the fast clock's schedule may have a POST on the wire when the agent
    // stops, and it must not land in the next test's `received` (seen once in CI).
    const posts: Received[] = [];
    const own = fakeAppliance(certs, posts);
    const config = configIn("run", `https://127.0.0.1:${own.port}`);
    const stop = new AbortController();
    const log = memoryLogger();
    let now = Date.now();
    const offline = (): XmppClient => ({
      entity: { on() {}, send: async () => {} } as never,
      iqCaller: {} as never,
      start: () => Promise.reject(new Error("connection refused")),
      ping: async () => 0,
      stop: async () => {},
    });
    const running = runAgent(config, {
      log,
      signal: stop.signal,
      createClient: offline,
      backoff: { baseMs: 20, capMs: 50 },
      facts: async () => ({}) as never,
      // The real runner and post; only the collector and the clock are the test's (the first run is due within minutes).
      inventory: (state) =>
        inventoryRunner({
          config, ca: certs.caCert, log, store: stateFileStore(state), signal: stop.signal,
          overrides: { collect: async () => structuredClone(DOC) as never, now: () => now, sleep: async (ms) => { now += ms; await new Promise((r) => setTimeout(r, 0)); } },
        }),
    });
    const statePath = join(dir, "run", "agent.state.json");
    for (const deadline = performance.now() + 10_000; !(await readState(statePath))?.inventory?.lastResult; await Bun.sleep(5)) {
      if (performance.now() > deadline) throw new Error("timed out waiting for the inventory result in the state file");
    }
    stop.abort();
    await running;
    await own.stop(true);
    // The schedule runs on the test's fast clock: by the time it stops, a later run may
    // already have found nothing new. The first post is the whole document; any later one
    // names the body the server stored.
    expect(posts[0]!.body).toEqual(DOC);
    const s = await readState(statePath);
    for (const later of posts.slice(1)) expect(later.body).toEqual({ unchanged: s?.inventory?.bodyHash });
    expect(s).toMatchObject({ state: "stopped" });
    expect(["sent (57 changes)", "unchanged"]).toContain(s?.inventory?.lastResult as string);
    expect(log.lines.some((l) => l.includes("disconnected: connection refused"))).toBe(true);
  }, 30_000);
});

const bun = process.execPath;
const mainTs = join(import.meta.dir, "..", "..", "agent", "main.ts");
/** Runs the agent's command line; asynchronously, since the server it talks to lives in this process. */
async function agent(args: string[]) {
  const proc = Bun.spawn([bun, mainTs, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, MEDULLA_AGENT_CONFIG: "" } });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, exitCode };
}

describe("the command line", () => {
  test("inventory --print writes this machine's document to stdout and sends nothing", async () => {
    const r = await agent(["inventory", "--print", "--config", join(dir, "nowhere", "agent.ini")]);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(glpiSchemaErrors(doc)).toEqual([]);
    expect(doc.content.medulla).toBeUndefined();
    expect(r.stderr).toContain("is not an enrolled config");
    expect(received).toEqual([]);
  }, 30_000);

  test("inventory sends now: full, then unchanged, --force full again; not enrolled is one clear line", async () => {
    const config = configIn("cli");
    const first = await agent(["inventory", "--config", config.path]);
    expect({ code: first.exitCode, out: first.stdout }).toEqual({ code: 0, out: "inventory sent (57 changes)\n" });
    const second = await agent(["inventory", "--config", config.path, "--log-level", "warn"]);
    expect({ code: second.exitCode, out: second.stdout }).toEqual({ code: 0, out: "inventory unchanged since the last one; the server was told so\n" });
    const forced = await agent(["inventory", "--force", "--config", config.path]);
    expect(forced.stdout).toBe("inventory sent (1 changes)\n");
    expect(received.map((r) => ("unchanged" in (r.body as object) ? "unchanged" : "full"))).toEqual(["full", "unchanged", "full"]);
    expect(glpiSchemaErrors(received[0]!.body)).toEqual([]);
    expect((received[0]!.body as { content: { medulla: unknown } }).content.medulla).toEqual({ agentId: "42" });
    const missing = await agent(["inventory", "--config", join(dir, "nowhere", "agent.ini")]);
    expect({ code: missing.exitCode, err: missing.stderr }).toMatchObject({ code: 1, err: expect.stringContaining("not found: enroll first") });
  }, 60_000);

  test("a refused inventory exits 1 with the server's reason", async () => {
    const config = configIn("cli-refused");
    writeFileSync(config.path, configToIni({ ...config, xmpp: { ...config.xmpp, password: "stale" } }));
    const r = await agent(["inventory", "--config", config.path]);
    expect({ code: r.exitCode, out: r.stdout }).toEqual({ code: 1, out: "inventory not sent: HTTP 401: wrong password for agent m42\n" });
    expect(received).toHaveLength(1);
  }, 30_000);

  test("enrollment ends with the first full inventory", async () => {
    const path = join(dir, "enrolled", "agent.ini");
    const r = await agent(["enroll", "--server", target.server, "--token", "good", "--ca", certs.caFingerprint, "--config", path]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`enrolled as ${JID} (machine 42)`);
    expect(r.stdout).toContain("inventory sent (57 changes)");
    expect(received).toHaveLength(1);
    expect((received[0]!.body as { content: { medulla: unknown } }).content.medulla).toEqual({ agentId: "42" });
  }, 60_000);
});
