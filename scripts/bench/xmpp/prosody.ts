/**
 * @module scripts/bench/xmpp/prosody
 * The peer of the xmpp suite: Debian's Prosody (0.12) in a temporary directory, configured
 * like the relay: STARTTLS required on one loopback c2s port, SCRAM-SHA-256 over
 * `internal_hashed` accounts, XEP-0199 ping, no s2s, HTTP or offline storage, nothing that
 * dials out, warnings and errors logged to a file.
 *
 * Accounts are written the way `internal_hashed` stores them (mod_storage_internal through
 * util.datamanager): `<data>/<host>/accounts/<user>.dat`, names with every non-alphanumeric
 * byte as `%xx`, holding `return { iteration_count, salt, stored_key, server_key };` with
 * the keys in lower-case hex and the salt a plain string used as is (Prosody uses a UUID).
 * With `password_hash = "SHA-256"` the keys are SCRAM-SHA-256's: SaltedPassword =
 * PBKDF2-HMAC-SHA-256(password, salt, i), StoredKey = H(HMAC(SaltedPassword, "Client Key")),
 * ServerKey = HMAC(SaltedPassword, "Server Key"): src/net/xmpp/scram.ts computes the same.
 * Each account has its own salt, as Prosody gives it (one PBKDF2 derivation per account,
 * timed apart from the logins). Sharing one salt between accounts that share a password,
 * as this file did first, let the simulator's key cache (agent/src/xmpp/scram.ts) skip the
 * client's PBKDF2 against Prosody and not against the relay: the comparison must give both
 * servers the same clients.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deriveKeys } from "../../../src/net/xmpp/scram.ts";

export interface ProsodySetup {
  dir: string;
  port: number;
  domain: string;
  certFile: string;
  keyFile: string;
  logFile: string;
}

/** util.datamanager's `encode`: every byte that is not [A-Za-z0-9] becomes %xx. */
export function datamanagerEncode(s: string): string {
  return Array.from(new TextEncoder().encode(s), (b) => (/[A-Za-z0-9]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, "0")}`)).join("");
}

const lua = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

export function writeProsodyConfig(s: ProsodySetup): string {
  mkdirSync(join(s.dir, "data"), { recursive: true });
  const file = join(s.dir, "prosody.cfg.lua");
  writeFileSync(
    file,
    `-- Written by scripts/bench/xmpp/prosody.ts for the xmpp benchmark.
run_as_root = true
pidfile = ${lua(join(s.dir, "prosody.pid"))}
data_path = ${lua(join(s.dir, "data"))}
daemonize = false
interfaces = { "127.0.0.1" }
c2s_ports = { ${s.port} }
c2s_direct_tls_ports = {}
s2s_ports = {}
http_ports = {}
https_ports = {}
modules_enabled = { "roster"; "saslauth"; "tls"; "ping"; "disco" }
modules_disabled = { "s2s"; "offline"; "s2s_auth_certs" }
authentication = "internal_hashed"
password_hash = "SHA-256"
c2s_require_encryption = true
storage = "internal"
-- Prosody's default accept backlog (128) overflows under a ramp of logins (the kernel then
-- resets connections); 4096 is the kernel's somaxconn here, and above Bun's default (511).
network_settings = { tcp_backlog = 4096 }
log = { warn = ${lua(s.logFile)} }
VirtualHost ${lua(s.domain)}
  ssl = { certificate = ${lua(s.certFile)}; key = ${lua(s.keyFile)} }
`,
  );
  return file;
}

/** Writes the account files; returns each account's salt (base64 of its bytes, as SCRAM sends it). */
export function writeProsodyAccounts(s: ProsodySetup, accounts: { username: string; password: string }[], iterations: number): Map<string, string> {
  const dir = join(s.dir, "data", datamanagerEncode(s.domain), "accounts");
  mkdirSync(dir, { recursive: true });
  const salts = new Map<string, string>();
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  for (const { username, password } of accounts) {
    const salt = crypto.randomUUID();
    const bytes = new TextEncoder().encode(salt);
    const keys = deriveKeys("sha256", password, bytes, iterations);
    const body = `return {\n\t["iteration_count"] = ${iterations};\n\t["salt"] = ${lua(salt)};\n\t["server_key"] = ${lua(hex(keys.serverKey))};\n\t["stored_key"] = ${lua(hex(keys.storedKey))};\n};\n`;
    writeFileSync(join(dir, `${datamanagerEncode(username.toLowerCase())}.dat`), body);
    salts.set(username, Buffer.from(bytes).toString("base64"));
  }
  return salts;
}
