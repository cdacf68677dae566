/**
 * @module agent/enroll
 * `medulla-agent enroll --server https://HOST:8443 --token T --ca sha256:HEX`: pin the
 * appliance's CA (pin.ts), then `POST /api/v1/agents/enroll` with the machine's identity
 * over HTTPS that trusts only that CA, and write the CA and the config beside each other.
 * Nothing is written until every check has passed: a refused token, an expired one, an
 * unreachable server or a pin mismatch leaves an existing config as it was.
 */
import { writeAtomic } from "../../src/fs/atomic.ts";
import { DEFAULTS, loadConfig, normalizeFingerprint, saveConfig, type AgentConfig } from "./config.ts";
import { collectFacts, type Facts } from "./facts/index.ts";
import { caPath } from "./paths.ts";
import { fetchPinnedCa, PinError } from "./pin.ts";

export interface EnrollOptions {
  server: string;
  token: string;
  ca: string;
  configPath: string;
  /** Replace an existing enrolled config. */
  force?: boolean;
  timeoutMs?: number;
}

export interface EnrollDeps {
  facts?: () => Promise<Facts>;
  now?: () => Date;
}

/** A refusal to enroll, with the one line to print. */
export class EnrollError extends Error {
  override name = "EnrollError";
}

export interface EnrollAnswer {
  machineId: string | number;
  jid: string;
  password: string;
  domain: string;
  serverJid: string;
  xmppHost: string;
  xmppPort: number;
  caFingerprint: string;
}

export function parseServerUrl(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new EnrollError(`--server must be a URL like https://medulla.lan:8443, not ${JSON.stringify(server)}`);
  }
  if (url.protocol !== "https:") throw new EnrollError("--server must use https:// (the CA pin protects only TLS connections)");
  return url;
}

function checkAnswer(v: unknown): EnrollAnswer {
  const o = (v && typeof v === "object" ? v : {}) as Record<string, unknown>;
  const s = (k: string) => (typeof o[k] === "string" && (o[k] as string).length > 0 && (o[k] as string).length < 1024 ? (o[k] as string) : null);
  const port = typeof o.xmppPort === "number" ? o.xmppPort : Number(o.xmppPort);
  const id = typeof o.machineId === "number" ? o.machineId : s("machineId");
  const missing = ["jid", "password", "domain", "serverJid", "xmppHost", "caFingerprint"].filter((k) => !s(k));
  if (id === null || id === undefined) missing.unshift("machineId");
  if (!Number.isInteger(port) || port < 1 || port > 65535) missing.push("xmppPort");
  if (missing.length) throw new EnrollError(`the server's enrollment answer lacks ${missing.join(", ")}`);
  return { machineId: id!, jid: s("jid")!, password: s("password")!, domain: s("domain")!, serverJid: s("serverJid")!, xmppHost: s("xmppHost")!, xmppPort: port, caFingerprint: s("caFingerprint")! };
}

async function errorMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const msg = (JSON.parse(text) as { error?: { message?: string; code?: string } }).error;
    if (msg?.message) return msg.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 200).replace(/\s+/g, " ").trim() || res.statusText;
}

export async function enroll(o: EnrollOptions, deps: EnrollDeps = {}): Promise<AgentConfig> {
  const url = parseServerUrl(o.server);
  const pin = normalizeFingerprint(o.ca);
  if (!pin) throw new EnrollError("--ca must be sha256: followed by the 64 hex digits shown on the enrollment page");
  if (!o.token.trim()) throw new EnrollError("--token is empty");
  const existing = await loadConfig(o.configPath);
  if (existing.kind === "ok" && !o.force) throw new EnrollError(`${o.configPath} already holds an enrolled agent (${existing.config.xmpp.jid}); add --force to replace it`);

  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || 443);
  const { caPem } = await fetchPinnedCa(host, port, pin, deps.now?.()).catch((e: Error) => {
    throw e instanceof PinError ? new EnrollError(e.message) : e;
  });

  const f = await (deps.facts ?? (() => collectFacts("")))();
  const body = { token: o.token.trim(), hostname: f.hostname, os: f.os, arch: f.arch, uuid: f.uuid ?? "", serial: f.serial ?? "", macs: f.macs };
  let res: Response;
  try {
    res = await fetch(new URL("/api/v1/agents/enroll", url), {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
      tls: { ca: caPem },
      signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
    });
  } catch (e) {
    throw new EnrollError(`cannot reach ${url.origin}: ${(e as Error).message}`);
  }
  if (res.status === 401 || res.status === 403) throw new EnrollError(`the server refused the enrollment token (${await errorMessage(res)}): it may be expired, used up or revoked`);
  if (res.status === 410) throw new EnrollError(`the enrollment token has expired (${await errorMessage(res)})`);
  if (!res.ok) throw new EnrollError(`the server answered HTTP ${res.status}: ${await errorMessage(res)}`);
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new EnrollError("the server's enrollment answer is not JSON");
  }
  const a = checkAnswer(json);
  if (normalizeFingerprint(a.caFingerprint) !== pin) throw new EnrollError(`the server says its CA is ${a.caFingerprint}, not the pinned ${pin}; refusing`);

  const caFile = caPath(o.configPath);
  const config: AgentConfig = {
    path: o.configPath,
    server: { url: url.origin, caFingerprint: pin, caFile },
    xmpp: { jid: a.jid, password: a.password, host: a.xmppHost, port: a.xmppPort, domain: a.domain, serverJid: a.serverJid },
    agent: {
      id: String(a.machineId),
      logLevel: existing.kind === "ok" ? existing.config.agent.logLevel : DEFAULTS.logLevel,
      heartbeatSeconds: existing.kind === "ok" ? existing.config.agent.heartbeatSeconds : DEFAULTS.heartbeatSeconds,
      factsIntervalSeconds: existing.kind === "ok" ? existing.config.agent.factsIntervalSeconds : DEFAULTS.factsIntervalSeconds,
    },
  };
  // The CA first: a config is never left pointing at a CA file that is not there.
  await writeAtomic(caFile, caPem, 0o644);
  await saveConfig(o.configPath, config, existing.kind === "ok" ? existing.raw : {});
  return config;
}

