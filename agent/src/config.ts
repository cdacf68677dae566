/**
 * @module agent/config
 * The agent's configuration, as INI (Medulla's agents use INI):
 *
 *   [server]  url = https://medulla.lan:8443   cafingerprint = sha256:…   cafile = …/agent.ca.pem
 *   [xmpp]    jid = … password = … host = … port = 5222 domain = … serverjid = …
 *   [agent]   id = <machine id>  loglevel = info  heartbeat = 60  factsinterval = 300
 *   [inventory] interval = 86400   (seconds between scheduled inventories, jittered; 0 = none)
 *
 * Read into one typed, validated object; written atomically with mode 0600 because it
 * holds the agent's password. Unknown keys are kept on rewrite so that a hand-added
 * setting survives a re-enrollment.
 */
import { readFile } from "node:fs/promises";
import { writeAtomic } from "../../src/fs/atomic.ts";
import { parseIni, stringifyIni, type IniData, type IniIssue } from "./ini.ts";
import { isLogLevel, type LogLevel } from "./log.ts";

export interface AgentConfig {
  path: string;
  server: { url: string; caFingerprint: string; caFile: string };
  xmpp: { jid: string; password: string; host: string; port: number; domain: string; serverJid: string };
  agent: { id: string; logLevel: LogLevel; heartbeatSeconds: number; factsIntervalSeconds: number };
  /** Present only when the file sets it; `DEFAULTS.inventoryIntervalSeconds` otherwise. */
  inventory?: { intervalSeconds: number };
}

export type ConfigLoad =
  | { kind: "missing"; path: string }
  | { kind: "invalid"; path: string; problems: string[]; warnings: string[] }
  | { kind: "ok"; config: AgentConfig; warnings: string[]; raw: IniData };

export const DEFAULTS = { logLevel: "info" as LogLevel, heartbeatSeconds: 60, factsIntervalSeconds: 300, xmppPort: 5222, inventoryIntervalSeconds: 86_400 };
const FINGERPRINT = /^sha256:[0-9a-f]{64}$/;

/** Accepts `sha256:HEX`, bare HEX, and colon-separated HEX (as openssl prints it). */
export function normalizeFingerprint(input: string): string | null {
  const hex = input.trim().replace(/^sha-?256:/i, "").replace(/:/g, "").toLowerCase();
  const fp = `sha256:${hex}`;
  return FINGERPRINT.test(fp) ? fp : null;
}

export async function loadConfig(path: string): Promise<ConfigLoad> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return { kind: "missing", path };
    return { kind: "invalid", path, problems: [`cannot read ${path}: ${(e as Error).message}`], warnings: [] };
  }
  return configFromText(path, text);
}

export function configFromText(path: string, text: string): ConfigLoad {
  const { data, issues } = parseIni(text);
  const where = (i: IniIssue) => `${path} line ${i.line}: ${i.message}`;
  const problems = issues.filter((i) => i.fatal).map(where);
  const warnings = issues.filter((i) => !i.fatal).map(where);
  const get = (s: string, k: string) => data[s]?.[k] ?? "";
  const need = (s: string, k: string) => {
    const v = get(s, k);
    if (!v) problems.push(`${path}: [${s}] ${k} is missing`);
    return v;
  };
  const int = (s: string, k: string, dflt: number, min: number, max: number) => {
    const v = get(s, k);
    if (!v) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) problems.push(`${path}: [${s}] ${k} must be a whole number from ${min} to ${max}, not ${JSON.stringify(v)}`);
    return n;
  };

  const url = need("server", "url");
  if (url && !/^https:\/\/[^/]+/i.test(url)) problems.push(`${path}: [server] url must start with https://`);
  const fpRaw = need("server", "cafingerprint");
  const caFingerprint = fpRaw ? normalizeFingerprint(fpRaw) : null;
  if (fpRaw && !caFingerprint) problems.push(`${path}: [server] cafingerprint must be sha256: and 64 hex digits`);
  const logLevel = get("agent", "loglevel") || DEFAULTS.logLevel;
  if (!isLogLevel(logLevel)) problems.push(`${path}: [agent] loglevel must be debug, info, warn or error`);
  const config: AgentConfig = {
    path,
    server: { url, caFingerprint: caFingerprint ?? "", caFile: need("server", "cafile") },
    xmpp: {
      jid: need("xmpp", "jid"),
      password: need("xmpp", "password"),
      host: need("xmpp", "host"),
      port: int("xmpp", "port", DEFAULTS.xmppPort, 1, 65535),
      domain: need("xmpp", "domain"),
      serverJid: need("xmpp", "serverjid"),
    },
    agent: {
      id: need("agent", "id"),
      logLevel: isLogLevel(logLevel) ? logLevel : DEFAULTS.logLevel,
      heartbeatSeconds: int("agent", "heartbeat", DEFAULTS.heartbeatSeconds, 5, 3600),
      factsIntervalSeconds: int("agent", "factsinterval", DEFAULTS.factsIntervalSeconds, 10, 86400),
    },
  };
  if (get("inventory", "interval")) {
    const seconds = int("inventory", "interval", DEFAULTS.inventoryIntervalSeconds, 0, 30 * 86400);
    if (seconds > 0 && seconds < 600) problems.push(`${path}: [inventory] interval must be 0 (no scheduled inventory) or at least 600 seconds, not ${seconds}`);
    config.inventory = { intervalSeconds: seconds };
  }
  if (problems.length) return { kind: "invalid", path, problems, warnings };
  return { kind: "ok", config, warnings, raw: data };
}

/** The INI form of a config; keys we do not know, from `keep`, are carried over. */
export function configToIni(c: Omit<AgentConfig, "path">, keep: IniData = {}): string {
  const merged: IniData = {};
  const put = (s: string, entries: Record<string, string>) => (merged[s] = { ...(keep[s] ?? {}), ...entries });
  put("server", { url: c.server.url, cafingerprint: c.server.caFingerprint, cafile: c.server.caFile });
  put("xmpp", { jid: c.xmpp.jid, password: c.xmpp.password, host: c.xmpp.host, port: String(c.xmpp.port), domain: c.xmpp.domain, serverjid: c.xmpp.serverJid });
  put("agent", {
    id: c.agent.id,
    loglevel: c.agent.logLevel,
    heartbeat: String(c.agent.heartbeatSeconds),
    factsinterval: String(c.agent.factsIntervalSeconds),
  });
  if (c.inventory) put("inventory", { interval: String(c.inventory.intervalSeconds) });
  for (const [s, entries] of Object.entries(keep)) if (!(s in merged)) merged[s] = entries;
  return stringifyIni(merged, ["Medulla agent configuration, written by `medulla-agent enroll`.", "It holds the agent's password: keep it readable by root/SYSTEM only."]);
}

export async function saveConfig(path: string, c: Omit<AgentConfig, "path">, keep: IniData = {}): Promise<void> {
  await writeAtomic(path, configToIni(c, keep), 0o600);
}
