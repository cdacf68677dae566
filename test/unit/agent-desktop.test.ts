/**
 * The desktop helper's pure parts: session discovery on captured loginctl / who /
 * /proc/<pid>/environ outputs (malformed and hostile lines included), escaping for each
 * tool, and the commands and scripts generated per OS (Windows and macOS cannot run here:
 * their generated PowerShell and AppleScript are checked by reading their literals back).
 */
import { describe, expect, test } from "bun:test";
import { appleScriptString, clean, gtkLabel, markup, psString } from "../../agent/src/desktop/escape.ts";
import { askCommand, askExit, asSessionUser, notifyCommand } from "../../agent/src/desktop/linux.ts";
import { appleScript, macCommand, parseConsoleUser, parseDialogOutput } from "../../agent/src/desktop/macos.ts";
import type { Prompt } from "../../agent/src/desktop/prompt.ts";
import { findSessions, parseEnviron, parseLoginctlSessions, parseLoginctlShow, parsePasswd, parseWho, type DesktopSession, type ProcEnv, type SessionSources } from "../../agent/src/desktop/sessions-linux.ts";
import { dialogScript, interactiveSessions, launchScript, parseCimUser, parseLaunchOutput, parseQuser } from "../../agent/src/desktop/windows.ts";

const HOSTILE = `Quit "now" & 'save' <b>bold</b> $(rm -rf /) \`id\` $env:PATH ‘curly’ \\ back\nsecond line_with_underscore\u0000nul\u0007bell`;

const PASSWD = `root:x:0:0:root:/root:/bin/bash
alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash
bob:x:1001:1001::/home/bob:/bin/zsh
gdm:x:120:125:Gnome Display Manager:/var/lib/gdm3:/bin/false
broken line without fields
evil:x:notanumber:1:::/bin/sh
`;

const LOGINCTL_LIST = ` c1  120 gdm   seat0 tty1
  2 1000 alice seat0 tty2 active no   -
  5 1001 bob   -     pts/0 active no -
 $(x) 1 root
`;
const SHOW: Record<string, string> = {
  c1: "Type=wayland\nClass=greeter\nRemote=no\nState=online\nActive=no\n",
  "2": "Type=x11\nClass=user\nRemote=no\nState=active\nActive=yes\nDisplay=:0\nName=alice\n",
  "5": "Type=tty\nClass=user\nRemote=yes\nState=active\n",
};

const env = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `${k}=${v}`).join("\0") + "\0";

function sources(over: Partial<SessionSources> = {}): SessionSources {
  return {
    loginctlList: LOGINCTL_LIST,
    loginctlShow: (id) => SHOW[id] ?? null,
    who: null,
    procs: [
      { pid: 900, uid: 120, env: parseEnviron(env({ WAYLAND_DISPLAY: "wayland-0" })) },
      { pid: 1000, uid: 1000, env: parseEnviron(env({ DISPLAY: ":0" })) },
      { pid: 1001, uid: 1000, env: parseEnviron(env({ DISPLAY: ":0.0", DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/user/1000/bus", XAUTHORITY: "/run/user/1000/gdm/Xauthority", LANG: "fr_FR.UTF-8" })) },
    ],
    passwd: PASSWD,
    exists: (p) => p.startsWith("/tmp/.X11-unix/"),
    ...over,
  };
}

describe("Linux session discovery", () => {
  test("loginctl list-sessions: old and new column layouts; junk lines skipped", () => {
    expect(parseLoginctlSessions(LOGINCTL_LIST)).toEqual([
      { id: "c1", uid: 120, user: "gdm" },
      { id: "2", uid: 1000, user: "alice" },
      { id: "5", uid: 1001, user: "bob" },
    ]);
    expect(parseLoginctlSessions("")).toEqual([]);
    expect(parseLoginctlSessions("\u0000\u0000\n   \n1 x y")).toEqual([]);
  });

  test("loginctl show-session and who", () => {
    expect(parseLoginctlShow(SHOW["2"]!)).toMatchObject({ Type: "x11", Display: ":0", Active: "yes" });
    expect(parseLoginctlShow("=x\nno equals\nBad Key=1\nA=b=c")).toEqual({ A: "b=c" });
    const who = `alice    :0           2026-11-28 08:01 (:0)
bob      pts/1        2026-11-28 09:10 (10.0.0.5)
carol    tty7         2026-11-28 09:30 (:1)
dave     pts/2        2026-11-28 09:31 (:12.0)
`;
    expect(parseWho(who)).toEqual([
      { user: "alice", display: ":0" },
      { user: "carol", display: ":1" },
      { user: "dave", display: ":12.0" },
    ]);
    expect(parseWho("$(evil) :0\n")).toEqual([]);
  });

  test("/proc environ: only session variables; values with line breaks dropped", () => {
    const raw = new TextEncoder().encode(env({ DISPLAY: ":1", SECRET: "x", XAUTHORITY: "/tmp/a\nb", DBUS_SESSION_BUS_ADDRESS: "unix:path=/tmp/d", LANG: "en_GB.UTF-8" }));
    expect(parseEnviron(raw)).toEqual({ DISPLAY: ":1", DBUS_SESSION_BUS_ADDRESS: "unix:path=/tmp/d", LANG: "en_GB.UTF-8" });
    expect(parseEnviron("garbage\0=x\0")).toEqual({});
  });

  test("passwd", () => {
    expect(parsePasswd(PASSWD).map((p) => p.user)).toEqual(["root", "alice", "bob", "gdm"]);
  });

  test("a logind x11 session takes its variables from the user's richest process; greeter, remote and tty sessions left out", () => {
    const s = findSessions(sources());
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ user: "alice", uid: 1000, gid: 1000, home: "/home/alice", display: "x11:0", source: "logind session 2", active: true });
    expect(s[0]!.env).toEqual({ DISPLAY: ":0.0", DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/user/1000/bus", XAUTHORITY: "/run/user/1000/gdm/Xauthority", LANG: "fr_FR.UTF-8" });
  });

  test("no logind: who gives the display, /proc the rest; the user bus and ~/.Xauthority are used when they exist", () => {
    const s = findSessions(sources({ loginctlList: null, who: "bob :1 2026-11-28 08:00 (:1)\n", procs: [], exists: (p) => p === "/run/user/1001/bus" || p === "/home/bob/.Xauthority" || p === "/tmp/.X11-unix/X1" }));
    expect(s).toEqual([
      { user: "bob", uid: 1001, gid: 1001, home: "/home/bob", display: "x11:1", env: { DISPLAY: ":1", DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/user/1001/bus", XAUTHORITY: "/home/bob/.Xauthority" }, source: "who", active: false },
    ]);
  });

  test("a display no login manager knows (Xvfb, kiosk X) is found from the processes; root's processes never make a session; one session per user and display", () => {
    const procs: ProcEnv[] = [
      { pid: 1, uid: 0, env: { DISPLAY: ":5", DBUS_SESSION_BUS_ADDRESS: "unix:path=/root/bus" } },
      { pid: 2, uid: 1001, env: { DISPLAY: ":7" } },
      { pid: 3, uid: 1001, env: { DISPLAY: ":7", DBUS_SESSION_BUS_ADDRESS: "unix:path=/tmp/dbus-x" } },
      { pid: 4, uid: 1001, env: { WAYLAND_DISPLAY: "wayland-1", XDG_RUNTIME_DIR: "/run/user/1001" } },
      { pid: 6, uid: 1001, env: { WAYLAND_DISPLAY: "wayland-9", XDG_RUNTIME_DIR: "/run/user/1001" } }, // its compositor is gone
      { pid: 7, uid: 1001, env: { DISPLAY: ":9" } }, // its X server is gone
      { pid: 5, uid: 4242, env: { DISPLAY: ":8" } }, // no passwd entry
    ];
    const s = findSessions(sources({ loginctlList: null, procs, exists: (p) => p === "/tmp/.X11-unix/X7" || p === "/run/user/1001/wayland-1" }));
    expect(s.map((x) => [x.user, x.display, x.env.DBUS_SESSION_BUS_ADDRESS ?? ""])).toEqual([
      ["bob", "x11:7", "unix:path=/tmp/dbus-x"],
      ["bob", "wayland:wayland-1", ""],
    ]);
  });
});

const session: DesktopSession = { user: "alice", uid: 1000, gid: 1000, home: "/home/alice", display: "x11:0", env: { DISPLAY: ":0", DBUS_SESSION_BUS_ADDRESS: "unix:path=/run/user/1000/bus" }, source: "proc", active: false };

describe("Linux commands", () => {
  test("run as the session's user: setpriv as root, runuser without it, as is for the same user, never for another user when not root", () => {
    const all = () => true;
    const argv = asSessionUser(session, ["zenity", "--question"], 0, all)!;
    expect(argv.slice(0, 8)).toEqual(["setpriv", "--reuid=1000", "--regid=1000", "--init-groups", "--", "env", "-i", "HOME=/home/alice"]);
    expect(argv).toContain("DISPLAY=:0");
    expect(argv).toContain("DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus");
    expect(argv.slice(-2)).toEqual(["zenity", "--question"]);
    expect(asSessionUser(session, ["x"], 0, (t) => t === "runuser")!.slice(0, 4)).toEqual(["runuser", "-u", "alice", "--"]);
    expect(asSessionUser(session, ["x"], 1000, all)![0]).toBe("env");
    expect(asSessionUser(session, ["x"], 1001, all)).toBeNull();
    expect(asSessionUser(session, ["x"], 0, () => false)).toBeNull();
  });

  const ask: Prompt = { kind: "defer", title: `Title\n"x"`, text: HOSTILE, yes: "Install_now", no: "Post<pone> (2)", timeoutSeconds: 120 };

  test("zenity: markup escaped, the answers as buttons (negative first), labels keep their underscores, timeout, every value in --opt=value form", () => {
    const argv = askCommand("zenity", ask);
    expect(argv[0]).toBe("zenity");
    expect(argv.slice(1, 3)).toEqual(["--question", "--switch"]);
    expect(argv).toContain("--timeout=120");
    expect(argv.filter((a) => a.startsWith("--extra-button="))).toEqual(["--extra-button=Post<pone> (2)", "--extra-button=Install__now"]);
    expect(argv).toContain(`--title=Title "x"`);
    const text = argv.find((a) => a.startsWith("--text="))!.slice(7);
    expect(text).not.toContain("<b>");
    expect(text).toContain("&lt;b&gt;bold&lt;/b&gt;");
    expect(text).toContain("&quot;now&quot; &amp; &#39;save&#39;");
    expect(text).toContain("$(rm -rf /)"); // shown as is: no shell anywhere
    expect(text).not.toContain("\u0000");
    expect(text).not.toContain("\u0007");
    expect(argv.every((a, i) => i === 0 || a.startsWith("--"))).toBe(true);
  });

  test("kdialog: text escaped as rich text, & in labels doubled", () => {
    const argv = askCommand("kdialog", { ...ask, yes: "Save & go" });
    expect(argv).toContain("Save && go");
    expect(argv.at(-1)).toContain("&lt;b&gt;");
  });

  test("answers: zenity's printed label says which; closed without one; its exit 5 is a timeout only when the time is up", () => {
    expect(askExit("zenity", ask, 1, "Install__now\n", 1000)).toBe("yes");
    expect(askExit("zenity", ask, 1, "Post<pone> (2)\n", 1000)).toBe("no");
    expect(askExit("zenity", ask, 1, "something else\n", 1000)).toBe("error");
    expect(askExit("zenity", ask, 1, "", 1000)).toBe("dismissed");
    expect(askExit("zenity", ask, 5, "", 120_000)).toBe("timeout");
    expect(askExit("zenity", ask, 5, "", 2_000)).toBe("error"); // the display went away
    expect(askExit("zenity", ask, 255, "", 1000)).toBe("error");
    expect([0, 1, 5].map((c) => askExit("kdialog", ask, c, "", 0))).toEqual(["yes", "no", "error"]);
  });

  test("notify-send: kind kept in the category, body escaped, options ended before the text", () => {
    const k = notifyCommand("notify-send", { kind: "kiosk_notify", title: "-t 0", text: HOSTILE, timeoutSeconds: 0 });
    expect(k).toContain("--category=x-medulla.kiosk");
    expect(k).not.toContain("--expire-time=0");
    const i = k.indexOf("--");
    expect(k.slice(i + 1, i + 2)).toEqual(["-t 0"]);
    expect(k.at(-1)).toContain("&lt;b&gt;");
    const u = notifyCommand("notify-send", { kind: "user_notify", title: "T", text: "m", timeoutSeconds: 30 });
    expect(u).toContain("--category=x-medulla.user");
    expect(u).toContain("--expire-time=30000");
  });
});

/** Reads a PowerShell single-quoted literal back. */
function psRead(literal: string): string {
  expect(literal.startsWith("'") && literal.endsWith("'")).toBe(true);
  const inner = literal.slice(1, -1);
  // Inside, every quote mark comes in pairs.
  expect(/(^|[^'\u2018\u2019\u201a\u201b])['\u2018\u2019\u201a\u201b]([^'\u2018\u2019\u201a\u201b]|$)/.test(inner.replace(/(['\u2018\u2019\u201a\u201b])\1/g, ""))).toBe(false);
  return inner.replace(/(['\u2018\u2019\u201a\u201b])\1/g, "$1");
}
/** Reads an AppleScript string literal back. */
function asRead(literal: string): string {
  expect(literal.startsWith('"') && literal.endsWith('"')).toBe(true);
  const inner = literal.slice(1, -1);
  expect(/(^|[^\\])(\\\\)*"/.test(inner)).toBe(false); // no unescaped quote inside
  expect(inner).not.toContain("\n");
  return inner.replace(/\\(.)/g, (_m, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : c));
}

describe("escaping", () => {
  test("each tool's literal reads back as the cleaned text", () => {
    const want = clean(HOSTILE);
    expect(want).toContain("\n");
    expect(want).not.toContain("\u0000");
    expect(psRead(psString(HOSTILE))).toBe(want);
    expect(asRead(appleScriptString(HOSTILE))).toBe(want);
    expect(markup(`<&>"'`)).toBe("&lt;&amp;&gt;&quot;&#39;");
    expect(gtkLabel("a_b\nc")).toBe("a__b c");
    expect(clean("x".repeat(3000)).length).toBe(2001);
  });
});

describe("Windows", () => {
  test("quser: English and French outputs, the current session marked, disconnected ones without a session name", () => {
    const en = ` USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME
>alice                 console             1  Active      none   11/28/2026 8:01 AM
 bob                                       2  Disc        1:02   11/28/2026 7:00 AM
 carol                 rdp-tcp#3           3  Active          .  11/28/2026 9:00 AM
`;
    expect(parseQuser(en)).toEqual([
      { user: "alice", sessionName: "console", id: 1, state: "Active" },
      { user: "bob", sessionName: "", id: 2, state: "Disc" },
      { user: "carol", sessionName: "rdp-tcp#3", id: 3, state: "Active" },
    ]);
    expect(interactiveSessions(parseQuser(en)).map((s) => s.user)).toEqual(["alice", "carol"]);
    const fr = ` UTILISATEUR           SESSION            ID  ÉTAT    TEMPS INACT  TEMPS SESSION
>jean                  console             1  Actif          aucun  28/11/2026 08:01
`;
    expect(interactiveSessions(parseQuser(fr))).toEqual([{ user: "jean", sessionName: "console", id: 1, state: "Actif" }]);
    expect(parseQuser("No User exists for *\r\n")).toEqual([]);
    // Without quser (Windows Home): WMI's console user.
    expect(parseCimUser("CORP\\alice\r\n")).toEqual([{ user: "CORP\\alice", sessionName: "console", id: 1, state: "Active" }]);
    expect(parseCimUser("\r\n")).toEqual([]);
    expect(parseCimUser("a b; rm")).toEqual([]);
    expect(parseQuser("")).toEqual([]);
  });

  test("the dialog script: every descriptor string is a single-quoted literal that reads back exactly; the answer goes to the file", () => {
    const p: Prompt = { kind: "ask_user", title: "T'itle", text: HOSTILE, yes: "O'K", no: "N‘o", timeoutSeconds: 90 };
    const script = dialogScript(p, "C:\\ProgramData\\Medulla\\dialogs\\x\\answer.txt");
    const line = (name: string) => script.split("\r\n").find((l) => l.startsWith(`$${name} = `))!.slice(name.length + 4);
    expect(psRead(line("text"))).toBe(clean(HOSTILE));
    expect(psRead(line("title"))).toBe("T'itle");
    expect(psRead(line("yes"))).toBe("O'K");
    expect(psRead(line("no"))).toBe("N‘o");
    expect(script).toContain("$seconds = 90");
    expect(script).toContain("Set-Content -LiteralPath $answerFile -Value $script:answer");
    expect(script).toContain("$label.UseMnemonic = $false");
    expect(script).toContain("$buttons.Controls.AddRange(@($b2, $b1))");
    expect(script).toContain("if ($script:answer -eq '') { $script:answer = 'dismissed' }");
    // The hostile text appears nowhere outside its literal.
    expect(script.split("$(rm -rf /)").length).toBe(2);
    const n = dialogScript({ kind: "kiosk_notify", title: "K", text: "hello", timeoutSeconds: 0 }, "a.txt");
    expect(n).toContain("ShowBalloonTip(10000");
  });

  test("the launcher: an interactive task for the user, waits for the answer file, removes the task", () => {
    const s = launchScript({ user: "CORP\\o'brien", dir: "C:\\ProgramData\\Medulla\\dialogs\\1", taskName: "Dialog-1", timeoutSeconds: 60 });
    expect(psRead(s.split("\r\n").find((l) => l.startsWith("$user = "))!.slice(8))).toBe("CORP\\o'brien");
    expect(s).toContain("-LogonType Interactive");
    expect(s).toContain("Unregister-ScheduledTask");
    expect(s).toContain("icacls.exe $answerDir /grant");
    expect(s).toContain('icacls.exe $dir /grant "${user}:(OI)(CI)RX"');
    expect(s).not.toContain('icacls.exe $dir /grant "${user}:(OI)(CI)M"');
    expect(s).toContain("AddSeconds(90)");
    expect(parseLaunchOutput("noise\r\nanswer=no\r\n")).toBe("no");
    expect(parseLaunchOutput("answer=maybe")).toBe("error");
  });
});

describe("macOS", () => {
  test("console user; the login window is nobody", () => {
    expect(parseConsoleUser("alice 501\n")).toEqual({ user: "alice", uid: 501 });
    expect(parseConsoleUser("root 0")).toBeNull();
    expect(parseConsoleUser("$(x) 501")).toBeNull();
  });

  test("display dialog with the buttons, giving up after the timeout, run as the user; strings read back exactly", () => {
    const p: Prompt = { kind: "defer", title: "Mise à jour", text: HOSTILE, yes: `Install "now"`, no: "Postpone (3)", timeoutSeconds: 300 };
    const argv = macCommand({ user: "alice", uid: 501 }, p);
    expect(argv.slice(0, 7)).toEqual(["launchctl", "asuser", "501", "sudo", "-u", "alice", "osascript"]);
    const script = argv.at(-1)!;
    expect(script).toBe(appleScript(p));
    expect(script).toEndWith("giving up after 300");
    const literals = [...script.matchAll(/"(?:[^"\\]|\\.)*"/g)].map((m) => asRead(m[0]));
    expect(literals).toEqual([clean(HOSTILE), "Mise à jour", "Postpone (3)", `Install "now"`, "Postpone (3)"]);
    expect(parseDialogOutput(`button returned:Install "now", gave up:false`, p)).toBe("yes");
    expect(parseDialogOutput("button returned:Postpone (3), gave up:false", p)).toBe("no");
    expect(parseDialogOutput("button returned:, gave up:true", p)).toBe("timeout");
    expect(parseDialogOutput("execution error", p)).toBe("error");
    expect(appleScript({ kind: "user_notify", title: "T", text: "a\"b", timeoutSeconds: 0 })).toBe('display notification "a\\"b" with title "T"');
  });
});
