/**
 * @module agent/desktop/linux
 * Dialogs and notifications in the graphical sessions of a Linux machine, run as the
 * session's user (never as root: the agent drops to the user with `setpriv`, or `runuser`
 * when setpriv is missing, and gives the process a clean environment holding only the
 * session's variables).
 *
 * Tools, first one installed wins:
 *  - questions and deferral: `zenity --question --switch` with the two answers as extra
 *    buttons (the one pressed is printed: unambiguous; nothing printed = closed without an
 *    answer; exit 5 = timed out), then `kdialog --yesno` (exit 0 / 1; no timeout of its
 *    own: the agent closes it at the step's timeout);
 *  - notifications: `notify-send` (freedesktop notifications; the kind is kept in the
 *    category `x-medulla.kiosk` / `x-medulla.user`), then `zenity --notification`, then
 *    `kdialog --passivepopup`.
 * All text goes through ./escape.ts (Pango markup, GTK mnemonics).
 */
import { gtkLabel, markup, oneLine } from "./escape.ts";
import type { Prompt } from "./prompt.ts";
import type { DesktopSession } from "./sessions-linux.ts";

export const ASK_TOOLS = ["zenity", "kdialog"] as const;
export const NOTIFY_TOOLS = ["notify-send", "zenity", "kdialog"] as const;
export type AskTool = (typeof ASK_TOOLS)[number];
export type NotifyTool = (typeof NOTIFY_TOOLS)[number];

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The argument vector that runs `argv` as the session's user with the session's variables.
 * `selfUid` is the agent's uid: as root it changes user; as that same user it runs as is.
 */
export function asSessionUser(s: DesktopSession, argv: string[], selfUid: number, have: (tool: string) => boolean): string[] | null {
  const env = Object.entries({ HOME: s.home, USER: s.user, LOGNAME: s.user, PATH, ...s.env }).map(([k, v]) => `${k}=${v}`);
  if (selfUid === s.uid) return ["env", "-i", ...env, ...argv];
  if (selfUid !== 0) return null; // another user's session: only root can reach it
  if (have("setpriv")) return ["setpriv", `--reuid=${s.uid}`, `--regid=${s.gid}`, "--init-groups", "--", "env", "-i", ...env, ...argv];
  if (have("runuser")) return ["runuser", "-u", s.user, "--", "env", "-i", ...env, ...argv];
  return null;
}

/** The question (ask_user, defer) for one tool. */
export function askCommand(tool: AskTool, p: Prompt): string[] {
  const yes = p.yes || "Yes";
  const no = p.no || "No";
  if (tool === "zenity") {
    // The negative answer first (it has the focus: a stray Enter does not install), the affirmative last.
    const argv = ["zenity", "--question", "--switch", `--title=${oneLine(p.title)}`, `--text=${markup(p.text)}`, `--extra-button=${gtkLabel(no)}`, `--extra-button=${gtkLabel(yes)}`, "--width=440", "--modal"];
    if (p.kind === "defer") argv.push("--icon-name=software-update-available");
    if (p.timeoutSeconds > 0) argv.push(`--timeout=${Math.ceil(p.timeoutSeconds)}`);
    return argv;
  }
  // kdialog shows rich text when the text looks like HTML: escaped the same way; "&" marks a mnemonic in labels.
  const label = (s: string) => oneLine(s, 60).replace(/&/g, "&&");
  return ["kdialog", "--title", oneLine(p.title), "--yes-label", label(yes), "--no-label", label(no), "--yesno", markup(p.text)];
}

export type AskAnswer = "yes" | "no" | "timeout" | "dismissed" | "error";

/**
 * What a question tool's exit means. zenity: the label printed says which button; exit 1
 * with nothing printed is a window closed without an answer; exit 5 is its timeout — but
 * zenity also exits 5 when its display goes away, so an exit 5 well before the timeout is an
 * error. kdialog: 0 first button, 1 second button (or closed: it cannot tell).
 */
export function askExit(tool: AskTool, p: Prompt, code: number | null, stdout: string, elapsedMs: number): AskAnswer {
  if (tool === "kdialog") return code === 0 ? "yes" : code === 1 ? "no" : "error";
  const printed = stdout.replace(/\r?\n$/, "");
  if (printed && printed === gtkLabel(p.yes || "Yes")) return "yes";
  if (printed && printed === gtkLabel(p.no || "No")) return "no";
  if (printed) return "error";
  if (code === 5) return p.timeoutSeconds > 0 && elapsedMs >= (p.timeoutSeconds - 1) * 1000 ? "timeout" : "error";
  if (code === 1) return "dismissed";
  return "error";
}

/** The notification for one tool. */
export function notifyCommand(tool: NotifyTool, p: Prompt): string[] {
  const seconds = Math.max(0, Math.ceil(p.timeoutSeconds));
  const category = p.kind === "kiosk_notify" ? "x-medulla.kiosk" : "x-medulla.user";
  if (tool === "notify-send") {
    const argv = ["notify-send", "--app-name=Medulla", "--urgency=normal", `--category=${category}`, "--icon=dialog-information"];
    if (seconds > 0) argv.push(`--expire-time=${seconds * 1000}`);
    return [...argv, "--", oneLine(p.title), markup(p.text)];
  }
  if (tool === "zenity") return ["zenity", "--notification", `--text=${markup(`${oneLine(p.title)}\n${p.text}`)}`];
  return ["kdialog", "--title", oneLine(p.title), "--passivepopup", markup(p.text), String(seconds || 10)];
}
