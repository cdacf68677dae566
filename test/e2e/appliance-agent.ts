/**
 * @module test/e2e/appliance-agent
 * The start of the deployment end-to-end tests: the appliance in this process on free
 * loopback ports (deployments served from the test's own package store), an API token for
 * root, and the compiled agent enrolled with the command the enrollment API prints. The
 * test then runs the agent its own way (environment, log level) and waits for it online.
 * Apart from helpers.ts so that tests which only start the binary do not load the server.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { createPackageSource, type PackagesLike } from "../../src/features/deployments/package-source.ts";
import { startServer, type Running } from "../../src/server.ts";
import { agentBinary, enrollArgs, ensureBinary, freePort } from "./helpers.ts";

export interface ApplianceWithAgent {
  server: Running;
  base: string;
  ca: string;
  token: string;
  /** The enrolled agent's machine. */
  machineId: number;
  /** A JSON API call as root; throws with the status and body when it is not 2xx. */
  api(method: string, path: string, body?: unknown): Promise<any>;
}

export async function applianceWithEnrolledAgent(o: { dir: string; password: string; packages: PackagesLike; agentConfig: string }): Promise<ApplianceWithAgent> {
  await ensureBinary();
  const [http, https, xmpp] = [await freePort(), await freePort(), await freePort()];
  const flags = new Map([
    ["MEDULLA_DATA_DIR", join(o.dir, "data")], ["MEDULLA_BIND", "127.0.0.1"], ["MEDULLA_HTTP_PORT", String(http)], ["MEDULLA_HTTPS_PORT", String(https)],
    ["MEDULLA_XMPP_PORT", String(xmpp)], ["MEDULLA_TFTP_PORT", "0"], ["MEDULLA_ADMIN_PASSWORD", o.password], ["MEDULLA_LOG_LEVEL", "warn"], ["MEDULLA_PUBLIC_URL", `https://127.0.0.1:${https}`],
  ]);
  const server = await startServer(loadConfig(flags, {}), { print: () => {} });
  // A failure past this point must not leave the appliance running in the test process.
  try {
    server.app.deployments.usePackages(createPackageSource(o.packages));
    const base = `https://127.0.0.1:${https}`;
    const ca = readFileSync(join(o.dir, "data", "certs", "ca.crt"), "utf8");
    const t = await fetch(`${base}/api/v1/tokens`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "root", password: o.password }), tls: { ca } });
    const token = ((await t.json()) as { token: string }).token;
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body), tls: { ca } });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return JSON.parse(text) as any;
    };
    const enrollment = await api("POST", "/api/v1/enrollment-tokens", { name: "e2e", maxUses: 1 });
    const args = enrollArgs((enrollment.commands["linux-x64"] ?? Object.values(enrollment.commands)[0]) as string);
    // Not spawnSync: the appliance answering it runs in this very process.
    const r = Bun.spawn([agentBinary, ...args, "--config", o.agentConfig], { stdout: "pipe", stderr: "pipe" });
    if ((await r.exited) !== 0) throw new Error(`enroll failed: ${await new Response(r.stdout).text()}${await new Response(r.stderr).text()}`);
    const machineId = (await api("GET", "/api/v1/machines")).items[0].id as number;
    return { server, base, ca, token, machineId, api };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
