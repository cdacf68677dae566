/**
 * @module agent/facts/linux
 * Parsers for what Linux tells about itself: /etc/os-release, the SMBIOS files under
 * /sys/class/dmi/id (product_uuid and product_serial are readable by root only), and the
 * output of `who`. Pure functions over text, tested on captured files.
 */
import { cleanIdentity, cleanUuid } from "./identity.ts";

/** os-release: KEY=value lines, values optionally quoted with shell escapes. */
export function osReleaseValues(text: string): Record<string, string> {
  const v: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2]!.trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) value = value.slice(1, -1);
    v[m[1]!] = value.replace(/\\(["'$`\\])/g, "$1");
  }
  return v;
}

export function parseOsRelease(text: string): { name: string; version: string; id: string } {
  const v = osReleaseValues(text);
  const name = v.PRETTY_NAME || [v.NAME, v.VERSION].filter(Boolean).join(" ") || "Linux";
  return { name, version: v.VERSION_ID || v.BUILD_ID || "", id: v.ID || "linux" };
}

export interface Session {
  user: string;
  line: string;
  /** A session at the machine (console, seat, X display) rather than remote. */
  local: boolean;
}

/** `who` (Linux and macOS): `user line date… (host)`; local sessions come first. */
export function parseWho(text: string): Session[] {
  const sessions: Session[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const parts = raw.trim().split(/\s+/);
    if (parts.length < 2 || !parts[0]) continue;
    const [user, line] = parts as [string, string];
    const host = /\(([^)]*)\)\s*$/.exec(raw)?.[1] ?? "";
    const local = line === "console" || /^(tty\d|:\d|seat)/.test(line) || /^:\d/.test(host) || host === "" && !line.startsWith("pts/") && !line.startsWith("ttys");
    sessions.push({ user, line, local });
  }
  return sessions.sort((a, b) => Number(b.local) - Number(a.local));
}

export interface DmiFacts {
  uuid?: string;
  serial?: string;
  manufacturer?: string;
  model?: string;
}

/** Values read from /sys/class/dmi/id/<name> (missing or unreadable files as undefined). */
export function parseDmi(files: Partial<Record<"product_uuid" | "product_serial" | "sys_vendor" | "product_name" | "board_serial", string>>): DmiFacts {
  return {
    uuid: cleanUuid(files.product_uuid),
    serial: cleanIdentity(files.product_serial) ?? cleanIdentity(files.board_serial),
    manufacturer: cleanIdentity(files.sys_vendor),
    model: cleanIdentity(files.product_name),
  };
}
