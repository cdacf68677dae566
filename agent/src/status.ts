/**
 * @module agent/status
 * `medulla-agent status`: what an admin at the machine needs to know, from files only
 * (no network): is there a config, is it enrolled, which server and JID, does the saved CA
 * still match the pin, is the service installed, and what the running agent last wrote in
 * its state file (connection, and the last and next inventory). `--json` prints the same as one object.
 */
import { readFile } from "node:fs/promises";
import { fingerprint } from "../../src/certs/index.ts";
import { loadConfig } from "./config.ts";
import { agentOs, statePath } from "./paths.ts";
import { isServiceInstalled } from "./service/index.ts";
import { readState, type AgentState } from "./state.ts";

export interface Status {
  config: { path: string; found: boolean; problems: string[] };
  enrolled: boolean;
  server?: string;
  jid?: string;
  machineId?: string;
  pinnedCa?: { fingerprint: string; file: string; matches: boolean };
  service: { installed: boolean | null };
  connection: (AgentState & { processAlive: boolean }) | null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

export async function gatherStatus(configPath: string, serviceInstalled: () => Promise<boolean | null> = () => isServiceInstalled(agentOs())): Promise<Status> {
  const load = await loadConfig(configPath);
  const state = await readState(statePath(configPath));
  const service = { installed: await serviceInstalled().catch(() => null) };
  const connection = state ? { ...state, processAlive: state.state !== "stopped" && isAlive(state.pid) } : null;
  if (load.kind === "missing") return { config: { path: configPath, found: false, problems: [] }, enrolled: false, service, connection };
  if (load.kind === "invalid") return { config: { path: configPath, found: true, problems: load.problems }, enrolled: false, service, connection };
  const c = load.config;
  const pem = await readFile(c.server.caFile, "utf8").catch(() => "");
  let matches = false;
  try {
    matches = !!pem && fingerprint(pem) === c.server.caFingerprint;
  } catch {
    matches = false;
  }
  return {
    config: { path: configPath, found: true, problems: [] },
    enrolled: true,
    server: c.server.url,
    jid: c.xmpp.jid,
    machineId: c.agent.id,
    pinnedCa: { fingerprint: c.server.caFingerprint, file: c.server.caFile, matches },
    service,
    connection,
  };
}

export function formatStatus(s: Status, now = Date.now()): string[] {
  const ago = (iso?: string) => (iso ? `${iso} (${Math.max(0, Math.round((now - Date.parse(iso)) / 1000))} s ago)` : "never");
  const lines = [`config:        ${s.config.path} (${s.config.found ? "found" : "not found"})`];
  for (const p of s.config.problems) lines.push(`  problem:     ${p}`);
  lines.push(`enrolled:      ${s.enrolled ? `yes, machine ${s.machineId}` : "no"}`);
  if (s.enrolled) {
    lines.push(`server:        ${s.server}`, `jid:           ${s.jid}`);
    lines.push(`pinned CA:     ${s.pinnedCa!.fingerprint} (${s.pinnedCa!.file}: ${s.pinnedCa!.matches ? "matches" : "MISSING OR DIFFERENT"})`);
  }
  lines.push(`service:       ${s.service.installed === null ? "unknown on this OS" : s.service.installed ? "installed" : "not installed"}`);
  const c = s.connection;
  if (!c) {
    lines.push("connection:    no state yet (the agent has not run with this config)");
    return lines;
  }
  const proc = c.processAlive ? `process ${c.pid} running` : `process ${c.pid} not running`;
  const now_ = c.state === "connected" ? `connected since ${c.connectedSince}` : c.state;
  lines.push(`connection:    ${now_}; ${proc}; state written ${ago(c.updatedAt)}`);
  if (c.lastError) lines.push(`last error:    ${c.lastError} at ${c.lastErrorAt}`);
  lines.push(`last announce: ${ago(c.lastAnnounceAt)}`);
  const inv = c.inventory;
  if (inv) {
    const last = inv.lastAt ? `${inv.lastResult ?? "sent"}, ${ago(inv.lastAt)}` : "none accepted yet";
    lines.push(`inventory:     ${last}${inv.nextAt ? `; next due ${inv.nextAt}` : ""}`);
    if (inv.lastError) lines.push(`  last error:  ${inv.lastError} at ${inv.lastErrorAt}`);
  }
  return lines;
}
