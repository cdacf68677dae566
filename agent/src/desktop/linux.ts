/**
 * @module agent/desktop/linux
 * Dialogs and notifications in the graphical sessions of a Linux machine, run as the
 * session's user (never as root: the agent drops to the user with `setpriv`, or `runuser`
 * when setpriv is missing, and gives the process a clean environment holding only the
 * session's variables).
 *
 * Tools, first one installed wins:
 *  - questions and deferral: `zenity --question` (exit 0 first button, 1 second button or
 *    window closed, 5 timed out), then `kdialog --yesno` (no timeout of its own: the agent
 *    closes it at the step's timeout);
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
    const argv = ["zenity", "--question", `--title=${oneLine(p.title)}`, `--text=${markup(p.text)}`, `--ok-label=${gtkLabel(yes)}`, `--cancel-label=${gtkLabel(no)}`, "--width=440", "--modal"];
    if (p.kind === "defer") argv.push("--icon-name=software-update-available");
    if (p.timeoutSeconds > 0) argv.push(`--timeout=${Math.ceil(p.timeoutSeconds)}`);
    return argv;
  }
  // kdialog shows rich text when the text looks like HTML: escaped the same way; "&" marks a mnemonic in labels.
  const label = (s: string) => oneLine(s, 60).replace(/&/g, "&&");
  return ["kdialog", "--title", oneLine(p.title), "--yes-label", label(yes), "--no-label", label(no), "--yesno", markup(p.text)];
}

/** What a question tool's exit code means. */
export function askExit(tool: AskTool, code: number | null): "yes" | "no" | "timeout" | "error" {
  if (code === 0) return "yes";
  if (code === 1) return "no";
  if (tool === "zenity" && code === 5) return "timeout";
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
