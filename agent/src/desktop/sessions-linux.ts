/**
 * @module agent/desktop/sessions-linux
 * Finding the graphical sessions of a Linux machine, for an agent that runs as root with no
 * display of its own. Three sources, each parsed by a pure function (tested on captured
 * outputs, malformed and hostile ones included):
 *
 *  1. `loginctl list-sessions` + `loginctl show-session ID -p …`: systemd-logind's sessions
 *     of type x11/wayland, class "user" (not the greeter), not remote, state active/online;
 *  2. `who`: users whose line names an X display (`:0`), for machines without logind;
 *  3. `/proc/<pid>/environ` of the users' own processes: where the session's variables
 *     (DISPLAY, WAYLAND_DISPLAY, DBUS_SESSION_BUS_ADDRESS, XAUTHORITY, XDG_RUNTIME_DIR,
 *     LANG) actually are; it also finds a display started by hand (Xvfb, a kiosk X server)
 *     that no login manager knows.
 *
 * A session is one (user, display) pair; the active logind session comes first.
 */

export interface LoginSession {
  id: string;
  uid: number;
  user: string;
}

export interface SessionProps {
  [key: string]: string;
}

export interface DesktopSession {
  user: string;
  uid: number;
  gid: number;
  home: string;
  /** "x11:0", "wayland-0", … — what the log says. */
  display: string;
  /** Variables the dialog process gets (besides HOME, USER, LOGNAME, PATH). */
  env: Record<string, string>;
  /** Where it was found: logind session id, "who", or "proc". */
  source: string;
  active: boolean;
}

export interface ProcEnv {
  pid: number;
  uid: number;
  env: Record<string, string>;
}

export interface PasswdEntry {
  user: string;
  uid: number;
  gid: number;
  home: string;
}

/** The variables that make a session reachable, as read from a process. */
export const SESSION_VARS = ["DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XAUTHORITY", "XDG_RUNTIME_DIR", "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES"] as const;

/** Accounts below this uid are the system's (Debian's UID_MIN). */
const SYSTEM_UID_MAX = 1000;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}\$?$/;

/** `loginctl list-sessions --no-legend` (columns SESSION UID USER [SEAT TTY STATE …]). */
export function parseLoginctlSessions(text: string): LoginSession[] {
  const out: LoginSession[] = [];
  for (const line of text.split("\n")) {
    const [id, uid, user] = line.trim().split(/\s+/);
    if (!id || !uid || !user || !/^[A-Za-z0-9]{1,32}$/.test(id) || !/^\d{1,10}$/.test(uid) || !NAME.test(user)) continue;
    out.push({ id, uid: Number(uid), user });
  }
  return out;
}

/** `loginctl show-session ID` (KEY=value lines). */
export function parseLoginctlShow(text: string): SessionProps {
  const out: SessionProps = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i <= 0) continue;
    const k = line.slice(0, i).trim();
    if (/^[A-Za-z]{1,40}$/.test(k)) out[k] = line.slice(i + 1).trim();
  }
  return out;
}

/** `who`: user and X display of each line that names one (`alice :0 …` or `alice tty7 … (:0)`). */
export function parseWho(text: string): { user: string; display: string }[] {
  const out: { user: string; display: string }[] = [];
  for (const line of text.split("\n")) {
    const parts = line.trim().split(/\s+/);
    const user = parts[0];
    if (!user || !NAME.test(user)) continue;
    const m = /(?:^|\s)\(?(:\d{1,4}(?:\.\d{1,3})?)\)?(?:\s|$)/.exec(line.slice(user.length));
    if (m) out.push({ user, display: m[1]! });
  }
  return out;
}

/** A `/proc/<pid>/environ` (NUL-separated), keeping only the session variables. */
export function parseEnviron(raw: string | Uint8Array): Record<string, string> {
  const text = typeof raw === "string" ? raw : new TextDecoder().decode(raw);
  const out: Record<string, string> = {};
  for (const entry of text.split("\0")) {
    const i = entry.indexOf("=");
    if (i <= 0) continue;
    const k = entry.slice(0, i);
    const v = entry.slice(i + 1);
    if ((SESSION_VARS as readonly string[]).includes(k) && v.length <= 4096 && !/[\n\r]/.test(v)) out[k] = v;
  }
  return out;
}

/** `/etc/passwd` lines. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || !NAME.test(f[0]!) || !/^\d+$/.test(f[2]!) || !/^\d+$/.test(f[3]!)) continue;
    out.push({ user: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! });
  }
  return out;
}

/**
 * Whether the display server is still there: a local X display `:n` has its socket
 * /tmp/.X11-unix/Xn, a Wayland one its socket in XDG_RUNTIME_DIR. Processes outliving their
 * display (a helper left behind after a logout) then make no session.
 */
function displayAlive(env: Record<string, string>, exists: (p: string) => boolean): boolean {
  if (env.WAYLAND_DISPLAY) return env.WAYLAND_DISPLAY.startsWith("/") ? exists(env.WAYLAND_DISPLAY) : !env.XDG_RUNTIME_DIR || exists(`${env.XDG_RUNTIME_DIR}/${env.WAYLAND_DISPLAY}`);
  const local = /^(?:unix)?:(\d{1,4})(?:\.\d{1,3})?$/.exec(env.DISPLAY ?? "");
  return local ? exists(`/tmp/.X11-unix/X${local[1]}`) : true;
}

const displayKey = (env: Record<string, string>) => (env.WAYLAND_DISPLAY ? `wayland:${env.WAYLAND_DISPLAY}` : env.DISPLAY ? `x11${env.DISPLAY.replace(/\.\d+$/, "")}` : "");
const sameDisplay = (a: string, b: string) => a.replace(/\.\d+$/, "") === b.replace(/\.\d+$/, "");

export interface SessionSources {
  /** `loginctl list-sessions --no-legend`, or null when logind is not there. */
  loginctlList: string | null;
  /** `loginctl show-session ID` per session id. */
  loginctlShow: (id: string) => string | null;
  who: string | null;
  procs: ProcEnv[];
  passwd: string;
  /** Whether a path exists (the user bus socket). */
  exists: (path: string) => boolean;
}

/**
 * The reachable graphical sessions, best first. A logind or `who` session whose variables
 * cannot be found in any of the user's processes is still returned when its display is
 * known (DISPLAY alone reaches an X server the user owns through XAUTHORITY ~/.Xauthority).
 */
export function findSessions(src: SessionSources): DesktopSession[] {
  const users = new Map(parsePasswd(src.passwd).map((p) => [p.uid, p]));
  const byName = new Map([...users.values()].map((p) => [p.user, p]));
  const out: DesktopSession[] = [];
  const seen = new Set<string>();
  const serverThere = (e: Record<string, string>) => displayAlive(e, src.exists);
  const envOf = (uid: number, want: { display?: string; wayland?: string }): Record<string, string> | null => {
    let best: Record<string, string> | null = null;
    let bestScore = -1;
    for (const p of src.procs) {
      if (p.uid !== uid) continue;
      if (want.wayland && p.env.WAYLAND_DISPLAY !== want.wayland) continue;
      if (want.display && !(p.env.DISPLAY && sameDisplay(p.env.DISPLAY, want.display))) continue;
      if (!want.display && !want.wayland && !p.env.DISPLAY && !p.env.WAYLAND_DISPLAY) continue;
      const score = (p.env.DBUS_SESSION_BUS_ADDRESS ? 2 : 0) + (p.env.XAUTHORITY ? 1 : 0);
      if (score > bestScore) {
        best = p.env;
        bestScore = score;
      }
    }
    return best;
  };
  const add = (pw: PasswdEntry, env: Record<string, string>, source: string, active: boolean) => {
    const e: Record<string, string> = { ...env };
    if (!e.XDG_RUNTIME_DIR && src.exists(`/run/user/${pw.uid}`)) e.XDG_RUNTIME_DIR = `/run/user/${pw.uid}`;
    if (!e.DBUS_SESSION_BUS_ADDRESS && src.exists(`/run/user/${pw.uid}/bus`)) e.DBUS_SESSION_BUS_ADDRESS = `unix:path=/run/user/${pw.uid}/bus`;
    if (e.DISPLAY && !e.XAUTHORITY && src.exists(`${pw.home}/.Xauthority`)) e.XAUTHORITY = `${pw.home}/.Xauthority`;
    const key = `${pw.uid}|${displayKey(e)}`;
    if (!displayKey(e) || seen.has(key) || !serverThere(e)) return;
    seen.add(key);
    out.push({ user: pw.user, uid: pw.uid, gid: pw.gid, home: pw.home, display: displayKey(e), env: e, source, active });
  };

  // 1. logind
  const greeters = new Set<number>();
  for (const s of src.loginctlList ? parseLoginctlSessions(src.loginctlList) : []) {
    const props = parseLoginctlShow(src.loginctlShow(s.id) ?? "");
    const type = props.Type ?? "";
    if (props.Class && props.Class !== "user") greeters.add(s.uid);
    if (type !== "x11" && type !== "wayland") continue;
    if ((props.Class && props.Class !== "user") || props.Remote === "yes" || (props.State && props.State !== "active" && props.State !== "online")) continue;
    const pw = users.get(s.uid) ?? byName.get(s.user);
    if (!pw || pw.uid !== s.uid) continue;
    const display = props.Display || undefined;
    const env = envOf(s.uid, type === "x11" && display ? { display } : {}) ?? (display ? { DISPLAY: display } : null);
    if (env) add(pw, env, `logind session ${s.id}`, props.Active === "yes" || props.State === "active");
  }
  // 2. who
  for (const w of src.who ? parseWho(src.who) : []) {
    const pw = byName.get(w.user);
    if (!pw) continue;
    add(pw, envOf(pw.uid, { display: w.display }) ?? { DISPLAY: w.display }, "who", false);
  }
  // 3. processes of ordinary users holding a display: not root nor system accounts (below
  // UID_MIN 1000: display managers, greeters), nor nobody (a root desktop only through logind).
  for (const p of src.procs) {
    if (p.uid < SYSTEM_UID_MAX || p.uid === 65534 || greeters.has(p.uid) || (!p.env.DISPLAY && !p.env.WAYLAND_DISPLAY)) continue;
    const pw = users.get(p.uid);
    if (!pw) continue;
    const env = envOf(p.uid, p.env.WAYLAND_DISPLAY ? { wayland: p.env.WAYLAND_DISPLAY } : { display: p.env.DISPLAY });
    if (env) add(pw, env, "proc", false);
  }
  return out.sort((a, b) => Number(b.active) - Number(a.active));
}

/** Reads the real sources on this machine (loginctl, who, /proc, /etc/passwd). */
export async function readSessionSources(): Promise<SessionSources> {
  const { readdirSync, readFileSync, statSync, existsSync } = await import("node:fs");
  const run = (cmd: string[]): string | null => {
    if (!Bun.which(cmd[0]!)) return null;
    try {
      const r = Bun.spawnSync(cmd, { stdin: "ignore", stdout: "pipe", stderr: "ignore", timeout: 5000 });
      return r.exitCode === 0 ? r.stdout.toString().slice(0, 200_000) : null;
    } catch {
      return null;
    }
  };
  const procs: ProcEnv[] = [];
  let names: string[] = [];
  try {
    names = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    // no /proc
  }
  for (const n of names.slice(0, 20_000)) {
    try {
      const uid = statSync(`/proc/${n}`).uid;
      if (uid === 0) continue;
      const env = parseEnviron(readFileSync(`/proc/${n}/environ`));
      if (env.DISPLAY || env.WAYLAND_DISPLAY) procs.push({ pid: Number(n), uid, env });
    } catch {
      // gone, or not readable
    }
  }
  let passwd = "";
  try {
    passwd = readFileSync("/etc/passwd", "utf8");
  } catch {
    // none
  }
  return {
    loginctlList: run(["loginctl", "list-sessions", "--no-legend"]),
    loginctlShow: (id) => run(["loginctl", "show-session", id, "-p", "Type", "-p", "Class", "-p", "Remote", "-p", "State", "-p", "Active", "-p", "Display", "-p", "Name", "-p", "User"]),
    who: run(["who"]),
    procs,
    passwd,
    exists: (p) => existsSync(p),
  };
}
