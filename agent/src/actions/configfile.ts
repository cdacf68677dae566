/**
 * @module agent/actions/configfile
 * Reading and replacing the agent's own configuration file from the server (SPEC C2 "edit
 * configuration files", X4). The password is never sent: it is blanked on read, and a
 * blank password on write keeps the current one. The new text must load as a valid config
 * and keep the agent's identity (id, XMPP account, pinned CA); the previous file is kept as
 * `<file>.bak`; the write is atomic. Changes take effect when the agent restarts.
 */
import { copyFile, readFile } from "node:fs/promises";
import { writeAtomic } from "../../../src/fs/atomic.ts";
import { configFromText } from "../config.ts";
import { parseIni, stringifyIni } from "../ini.ts";

export const SECRET_MASK = "********";

export function maskSecrets(text: string): string {
  return text.replace(/^(\s*password\s*=\s*).*$/gim, `$1${SECRET_MASK}`);
}

export async function readConfigFile(path: string): Promise<{ file: string; path: string; content: string }> {
  const text = await readFile(path, "utf8");
  return { file: "agent.ini", path, content: maskSecrets(text).slice(0, 32_768) };
}

export async function writeConfigFile(path: string, content: string): Promise<{ saved: boolean; problems: string[]; backup?: string }> {
  const current = await readFile(path, "utf8");
  const old = parseIni(current).data;
  const parsed = parseIni(content);
  const data = parsed.data;
  // A masked or blank password keeps the current one.
  if (data.xmpp && (data.xmpp.password === SECRET_MASK || data.xmpp.password === "" || data.xmpp.password === undefined) && old.xmpp?.password) data.xmpp.password = old.xmpp.password;
  const text = stringifyIni(data, ["Medulla agent configuration; edited from the Medulla console.", "It holds the agent's password: keep it readable by root/SYSTEM only."]);
  const load = configFromText(path, text);
  const problems: string[] = parsed.issues.filter((i) => i.fatal).map((i) => `line ${i.line}: ${i.message}`);
  if (load.kind !== "ok") problems.push(...(load.kind === "invalid" ? load.problems : [`${path} is missing`]));
  else {
    const before = configFromText(path, current);
    if (before.kind === "ok") {
      const same = (a: string, b: string, what: string) => a !== b && problems.push(`${what} cannot be changed here (enroll again instead)`);
      same(load.config.agent.id, before.config.agent.id, "[agent] id");
      same(load.config.xmpp.jid, before.config.xmpp.jid, "[xmpp] jid");
      same(load.config.server.caFingerprint, before.config.server.caFingerprint, "[server] cafingerprint");
    }
  }
  if (problems.length) return { saved: false, problems: problems.slice(0, 50).map((p) => p.slice(0, 500)) };
  const backup = `${path}.bak`;
  await copyFile(path, backup);
  await writeAtomic(path, text, 0o600);
  return { saved: true, problems: [], backup };
}
