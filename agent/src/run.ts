/**
 * @module agent/run
 * `medulla-agent run`: stay connected to the appliance for as long as the process lives.
 * Each attempt builds a fresh client (no state leaks across connections), logs in, runs a
 * session until the connection is lost, then waits a backoff delay with full jitter before
 * the next attempt. The attempt counter resets once a connection has held for a minute,
 * so a flapping server still pushes agents towards the cap. The state file beside the
 * config tells `status` how things stand. The inventory schedule runs beside the
 * connection (inventories go over HTTPS, not XMPP) and stops with it.
 */
import { readFile } from "node:fs/promises";
import { fingerprint } from "../../src/certs/index.ts";
import { VERSION } from "../../src/version.ts";
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from "./backoff.ts";
import type { AgentConfig } from "./config.ts";
import { collectFacts, normalizeArch, type Facts } from "./facts/index.ts";
import type { HandlerContext } from "./handlers.ts";
import { ShellSessions } from "./actions/shell.ts";
import { inventoryRunner } from "./inventory/index.ts";
import type { InventoryRunner } from "./inventory/runner.ts";
import type { Logger } from "./log.ts";
import { DeployManager, systemReboot } from "./deploy/runner.ts";
import { createDesktop } from "./desktop/index.ts";
import { agentOs, besideConfig, statePath } from "./paths.ts";
import { AgentSession } from "./session.ts";
import { StateFile, stateFileStore } from "./state.ts";
import { createXmppClient, DEFAULT_TIMEOUT_MS, xml, type XmppClient, type XmppOptions } from "./xmpp/client.ts";

export const STABLE_AFTER_MS = 60_000;

export { sleep };

export interface RunDeps {
  log: Logger;
  signal: AbortSignal;
  backoff?: BackoffOptions;
  facts?: () => Promise<Facts>;
  createClient?: (o: XmppOptions) => XmppClient;
  timeoutMs?: number;
  /** Called after each attempt ends, for tests: the number of attempts so far. */
  onAttempt?: (n: number) => void;
  /** The inventory runner to use instead of the one built from the config (tests). */
  inventory?: (state: StateFile) => InventoryRunner;
}

/** How long a stopping agent waits for an inventory in progress before it leaves anyway. */
const INVENTORY_STOP_GRACE_MS = 5_000;

/** Reads the saved CA and checks it is still the one pinned in the config. */
export async function loadPinnedCa(config: AgentConfig): Promise<string> {
  const pem = await readFile(config.server.caFile, "utf8").catch((e: Error) => {
    throw new Error(`cannot read the pinned CA ${config.server.caFile}: ${e.message} (enroll again)`);
  });
  const fp = fingerprint(pem);
  if (fp !== config.server.caFingerprint) throw new Error(`${config.server.caFile} is not the pinned CA (${fp} ≠ ${config.server.caFingerprint}); refusing to connect`);
  return pem;
}

export function localPart(jid: string): string {
  const at = jid.indexOf("@");
  return at < 0 ? jid : jid.slice(0, at);
}


function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms))),
  ]);
}

export function describeError(e: unknown): string {
  const err = e as { name?: string; condition?: string; message?: string };
  if (err?.name === "SASLError") return `the server refused the agent's credentials (${err.condition ?? err.message}); enroll again if this machine was removed`;
  return err?.message || err?.condition || String(e);
}

const resourceSuffix = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);

export async function runAgent(config: AgentConfig, deps: RunDeps): Promise<void> {
  const { log, signal } = deps;
  const ca = await loadPinnedCa(config);
  const state = new StateFile(statePath(config.path));
  const facts = deps.facts ?? (() => collectFacts(config.agent.id));
  const inventory = deps.inventory?.(state) ?? inventoryRunner({ config, ca, log, store: stateFileStore(state), signal });
  const shells = new ShellSessions();
  const os = agentOs();
  const deploy = new DeployManager({
    dir: besideConfig(config.path, ".deploy"),
    remote: { server: config.server.url, jid: config.xmpp.jid, password: config.xmpp.password, ca },
    log,
    os: os === "windows" ? "windows" : os === "darwin" ? "macos" : "linux",
    machineId: config.agent.id,
    reboot: (delay) => systemReboot(os === "windows" ? "windows" : os === "darwin" ? "macos" : "linux", delay),
    inventoryNow: (reason) => void inventory.inventoryNow(reason).catch(() => undefined),
    desktop: createDesktop({ os: os === "windows" ? "windows" : os === "darwin" ? "macos" : "linux", workDir: besideConfig(config.path, ".deploy") }),
  });
  await deploy.start();
  signal.addEventListener("abort", () => deploy.shutdown(), { once: true });
  const ctx: HandlerContext = {
    facts,
    version: { version: VERSION, os, arch: normalizeArch(process.arch) },
    now: () => Date.now(),
    inventory,
    configPath: config.path,
    shells,
    deploy,
  };
  const schedule = inventory.runSchedule().catch((e: Error) => log.error(`inventory schedule stopped: ${e.message}`));
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const make = deps.createClient ?? createXmppClient;
  let attempt = 0;
  let attempts = 0;

  while (!signal.aborted) {
    await state.update({ state: "connecting" });
    const client = make({
      host: config.xmpp.host,
      port: config.xmpp.port,
      domain: config.xmpp.domain,
      username: localPart(config.xmpp.jid),
      password: config.xmpp.password,
      ca,
      // One resource per process: a restarted agent's new session never shares a full JID
      // with its old one, whose late goodbye would otherwise be taken for the new one's.
      resource: `agent-${resourceSuffix}`,
      timeoutMs,
    });
    client.entity.on("error", (e: Error) => log.debug(`xmpp: ${describeError(e)}`));
    let reason: string;
    let connectedAt = 0;
    // Stopping during a login attempt cancels it; a connected session ends through `aborted`.
    const onAbort = () => void (connectedAt ? undefined : client.stop());
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      log.info("connecting", { host: config.xmpp.host, port: config.xmpp.port, jid: config.xmpp.jid });
      // The login fails by itself when the server closes the socket (client.ts); this
      // deadline is the last guard against any other stall: abandoned, then retried.
      const full = await withDeadline(client.start(), timeoutMs, "logging in");
      connectedAt = Date.now();
      log.info("connected", { jid: full });
      await state.update({ state: "connected", connectedSince: new Date(connectedAt).toISOString() });
      const session = new AgentSession({
        client,
        serverJid: config.xmpp.serverJid,
        ctx,
        log,
        heartbeatMs: config.agent.heartbeatSeconds * 1000,
        factsIntervalMs: config.agent.factsIntervalSeconds * 1000,
        onAnnounced: (machineId) => void state.update({ lastAnnounceAt: new Date().toISOString(), ...(machineId !== undefined ? { machineId } : {}) }),
      });
      const aborted = new Promise<string>((r) => signal.addEventListener("abort", () => r("stopping"), { once: true }));
      // Not awaited: an unanswered announce must not hold up a stop or a lost connection.
      session.begin().catch((e: Error) => log.warn(`could not start the session: ${e.message}`));
      deploy.setSender((action, data) => session.request(action, data));
      reason = await Promise.race([session.closed, aborted]);
      deploy.setSender(null);
      session.close(reason);
    } catch (e) {
      reason = signal.aborted ? "stopping" : describeError(e);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    if (signal.aborted && connectedAt) {
      await client.entity.send(xml("presence", { type: "unavailable" })).catch(() => undefined);
    }
    await client.stop();
    deps.onAttempt?.(++attempts);
    if (signal.aborted) break;
    if (connectedAt && Date.now() - connectedAt >= STABLE_AFTER_MS) attempt = 0;
    const delay = backoffDelay(attempt++, deps.backoff ?? DEFAULT_BACKOFF);
    log.warn(`disconnected: ${reason}; next attempt in ${(delay / 1000).toFixed(1)} s`);
    await state.update({ state: "disconnected", lastError: reason, lastErrorAt: new Date().toISOString(), connectedSince: undefined });
    await sleep(delay, signal);
  }
  shells.closeAll();
  const grace = new AbortController();
  await Promise.race([schedule, sleep(INVENTORY_STOP_GRACE_MS, grace.signal)]);
  grace.abort();
  await state.update({ state: "stopped", connectedSince: undefined });
  log.info("stopped");
}
