/**
 * An agent restarted at once, many times over: after each restart the machine must be
 * online in the machines table and in the relay, with no stall in the login.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { agentBinary, runAgentProcess, startMedulla, tempDir, waitFor, type Medulla } from "./helpers.ts";

const PASSWORD = "Restart-test-7";
let medulla: Medulla;
const agentDir = tempDir("medulla-agent-");
const config = join(agentDir.path, "agent.ini");
const log: string[] = [];
let bearer = "";

async function api(method: string, path: string, json?: unknown) {
  const res = await fetch(medulla.url(path), { method, headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" }, body: json === undefined ? undefined : JSON.stringify(json), tls: { ca: await medulla.ca() } });
  return (await res.json()) as Record<string, any>;
}

function runAgent() {
  return runAgentProcess(config, log);
}

describe("an agent restarted at once", () => {
  beforeAll(async () => {
    medulla = await startMedulla({ args: ["--bind", "127.0.0.1", "--admin-password", PASSWORD] });
    const res = await fetch(medulla.url("/api/v1/tokens"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "root", password: PASSWORD }), tls: { ca: await medulla.ca() } });
    bearer = ((await res.json()) as { token: string }).token;
  }, 60_000);
  afterAll(async () => {
    await medulla?.[Symbol.asyncDispose]();
    agentDir[Symbol.dispose]();
  });

  test("comes back online every time", async () => {
    const tok = await api("POST", "/api/v1/enrollment-tokens", {});
    const ca = tok.caFingerprint as string;
    const enroll = Bun.spawnSync([agentBinary, "enroll", "--server", medulla.url("/"), "--token", tok.token, "--ca", ca!, "--config", config], { stdout: "pipe", stderr: "pipe" });
    expect(enroll.exitCode).toBe(0);
    let agent = runAgent();
    const machine = async () => (await api("GET", "/api/v1/machines")).items[0];
    await waitFor("online", async () => (await machine())?.online, 30_000);
    for (let i = 0; i < 8; i++) {
      agent.kill(i % 2 ? "SIGKILL" : "SIGTERM");
      await agent.exited;
      agent = runAgent();
      const started = Date.now();
      const announced = log.filter((l) => l.includes("announced")).length;
      await waitFor(`announced after restart ${i}`, () => log.filter((l) => l.includes("announced")).length > announced, 40_000).catch((e) => {
        console.log(log.slice(-40).join("\n"));
        throw e;
      });
      await Bun.sleep(1500);
      const m = await machine();
      if (!m.online) console.log(log.slice(-30).join("\n"));
      expect([i, m.online]).toEqual([i, true]);
      console.log(`restart ${i}: online after ${Date.now() - started} ms`);
    }
    agent.kill("SIGTERM");
    await agent.exited;
  }, 600_000);
});
