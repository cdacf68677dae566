/**
 * @module agent/inventory/linux/users
 * People, on Linux and macOS: who is signed in now (`who`, local sessions first, each
 * login once) and the local accounts of /etc/passwd that belong to people: root and the
 * regular range (uid 1000 to 60000, login.defs' UID_MIN..UID_MAX; nobody is 65534 and snap's
 * daemon user 584788), not the system accounts that
 * packages create.
 */
import { parseWho } from "../../facts/linux.ts";
import type { LocalUser, User } from "../format.ts";
import { compact, str } from "../values.ts";

/** What a login name may hold (POSIX portable names, plus the "DOMAIN\\user" and "user@realm" of directory logins). */
const LOGIN = /^[\w.$@\\-]{1,64}$/u;

export function signedInUsers(whoText: string | undefined): User[] {
  const seen = new Set<string>();
  const out: User[] = [];
  for (const s of parseWho(whoText ?? "")) {
    if (seen.has(s.user) || !LOGIN.test(s.user)) continue;
    seen.add(s.user);
    out.push({ login: s.user });
  }
  return out;
}

export function parsePasswd(text: string | undefined): LocalUser[] {
  const out: LocalUser[] = [];
  for (const line of (text ?? "").split(/\r?\n/)) {
    if (!line.trim() || line.startsWith("#") || line.startsWith("+")) continue;
    const f = line.split(":");
    if (f.length < 7) continue;
    const uid = Number(f[2]);
    if (!Number.isInteger(uid) || (uid !== 0 && (uid < 1000 || uid > 60000))) continue;
    out.push(compact<LocalUser>({ id: String(uid), login: str(f[0]), name: str(f[4]?.split(",")[0]), home: str(f[5]), shell: str(f[6]) }));
  }
  return out;
}
