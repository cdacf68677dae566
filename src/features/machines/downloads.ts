/**
 * @module machines/downloads
 * The agent binaries the appliance serves at `GET /agent/<file>` and lists on the enrollment
 * page, each with its SHA-256 and a ready-to-paste install command per OS.
 *
 * Where they come from: the folder `agent/` beside the running `medulla` binary (the release
 * layout: `dist/medulla` + `dist/agent/`, and `/usr/lib/medulla/agent/` in the appliance
 * image); from source, the repository's `dist/agent/` (`npm run build`). They are not embedded:
 * five agents of ~100 MB each would make the appliance binary six times larger, and a release
 * can ship new agents without rebuilding it. Nothing is downloaded at run time: a missing agent
 * is simply not offered. Checksums come from `SHA256SUMS` in that folder (written by the build),
 * else are computed once per file version.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

/** `medulla-agent-<os>-<arch>`, with `.exe` for Windows only. */
export const AGENT_FILE = /^medulla-agent-(linux|windows|darwin)-(x64|arm64)(\.exe)?$/;
const validName = (name: string) => {
  const m = AGENT_FILE.exec(name);
  return m !== null && (m[1] === "windows") === (m[3] === ".exe") ? m : null;
};

export interface AgentFile {
  name: string;
  os: "linux" | "windows" | "darwin";
  arch: "x64" | "arm64";
  size: number;
  sha256: string;
}

/** The folder holding the agents for this process (see the module header). */
export function defaultAgentDir(): string {
  // In a compiled binary the entry point lives in Bun's embedded file system; `import.meta.dir`
  // of this module would be the build machine's source folder.
  const compiled = Bun.main.startsWith("/$bunfs/") || Bun.main.includes("~BUN");
  return compiled ? join(dirname(process.execPath), "agent") : join(import.meta.dir, "..", "..", "..", "dist", "agent");
}

const hashCache = new Map<string, { key: string; sha256: string }>();

function readSums(dir: string): Map<string, string> {
  const sums = new Map<string, string>();
  const file = join(dir, "SHA256SUMS");
  if (!existsSync(file)) return sums;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^([0-9a-f]{64}) [ *]?(\S+)$/.exec(line.trim());
    if (m && validName(m[2]!)) sums.set(m[2]!, m[1]!);
  }
  return sums;
}

function hashFile(path: string): string {
  const h = new Bun.CryptoHasher("sha256");
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/** The agents present in `dir`, sorted by OS then architecture. */
export function listAgents(dir: string = defaultAgentDir()): AgentFile[] {
  if (!existsSync(dir)) return [];
  const sums = readSums(dir);
  const out: AgentFile[] = [];
  for (const name of readdirSync(dir)) {
    const m = validName(name);
    if (!m) continue;
    const path = join(dir, name);
    const st = statSync(path);
    if (!st.isFile()) continue;
    const key = `${st.size}:${st.mtimeMs}`;
    let sha256 = sums.get(name);
    if (!sha256) {
      const cached = hashCache.get(path);
      sha256 = cached && cached.key === key ? cached.sha256 : hashFile(path);
      hashCache.set(path, { key, sha256 });
    }
    out.push({ name, os: m[1] as AgentFile["os"], arch: m[2] as AgentFile["arch"], size: st.size, sha256 });
  }
  const order = ["linux", "windows", "darwin"];
  return out.sort((a, b) => order.indexOf(a.os) - order.indexOf(b.os) || a.arch.localeCompare(b.arch));
}

/** The agent file to serve for a requested name, or null (unknown name, absent file). */
export function agentPath(name: string, dir: string = defaultAgentDir()): string | null {
  if (!validName(name)) return null;
  const path = join(dir, name);
  return existsSync(path) && statSync(path).isFile() ? path : null;
}

/** Single-quoted for POSIX shells and PowerShell alike (the values are URL, hex, base64url). */
const sq = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/**
 * The ready-to-paste commands for one agent: download (the appliance's certificate is not yet
 * trusted by the computer, so the download skips TLS verification and the file is checked
 * against the SHA-256 shown on this page instead), enroll (pinning the CA), install the service.
 */
export function installCommand(a: AgentFile, publicUrl: string, token: string, ca: string): string {
  const url = `${publicUrl.replace(/\/$/, "")}/agent/${a.name}`;
  const enroll = `enroll --server ${sq(publicUrl)} --token ${sq(token)} --ca ${sq(ca)}`;
  if (a.os === "windows") {
    return [
      `[Net.ServicePointManager]::ServerCertificateValidationCallback = { $true }`,
      `Invoke-WebRequest -UseBasicParsing -Uri ${sq(url)} -OutFile medulla-agent.exe`,
      `if ((Get-FileHash medulla-agent.exe -Algorithm SHA256).Hash -ne ${sq(a.sha256.toUpperCase())}) { throw 'checksum mismatch' }`,
      `.\\medulla-agent.exe ${enroll}; if ($?) { .\\medulla-agent.exe install }`,
    ].join("\n");
  }
  const check = a.os === "darwin" ? "shasum -a 256 -c" : "sha256sum -c";
  return [
    `curl -fsSLk -o medulla-agent ${sq(url)}`,
    `echo '${a.sha256}  medulla-agent' | ${check} && chmod 0755 medulla-agent`,
    `sudo ./medulla-agent ${enroll} && sudo ./medulla-agent install`,
  ].join(" \\\n  && ");
}
