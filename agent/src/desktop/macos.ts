/**
 * @module agent/desktop/macos
 * Dialogs on macOS: the agent (a root LaunchDaemon) finds the console user
 * (`stat -f "%Su %u" /dev/console`; "root" is the login window: nobody there) and runs
 * `osascript` in that user's GUI context with `launchctl asuser <uid> sudo -u <user>`.
 * Questions use `display dialog … buttons {…} default button … giving up after N`
 * (the answer is read from osascript's output `button returned:…, gave up:…`);
 * notifications use `display notification`. Strings are AppleScript literals
 * (./escape.ts appleScriptString). Not run on this project's CI (Linux): the generated
 * commands are unit-tested.
 */
import { appleScriptString, oneLine } from "./escape.ts";
import type { Prompt } from "./prompt.ts";

/** `stat -f "%Su %u" /dev/console` → the console user, or null at the login window. */
export function parseConsoleUser(text: string): { user: string; uid: number } | null {
  const m = /^([A-Za-z0-9_][A-Za-z0-9_.@-]{0,254})\s+(\d{1,10})\s*$/.exec(text.trim());
  if (!m || m[1] === "root" || m[2] === "0") return null;
  return { user: m[1]!, uid: Number(m[2]) };
}

export function appleScript(p: Prompt): string {
  if (p.kind === "kiosk_notify" || p.kind === "user_notify") return `display notification ${appleScriptString(p.text)} with title ${appleScriptString(oneLine(p.title), 200)}`;
  const yes = appleScriptString(oneLine(p.yes || "Yes", 60), 60);
  const no = appleScriptString(oneLine(p.no || "No", 60), 60);
  const giveUp = p.timeoutSeconds > 0 ? ` giving up after ${Math.ceil(p.timeoutSeconds)}` : "";
  // The negative answer is the default button (Return does not install), as on Linux and Windows.
  return `display dialog ${appleScriptString(p.text)} with title ${appleScriptString(oneLine(p.title), 200)} buttons {${no}, ${yes}} default button ${no} with icon note${giveUp}`;
}

export function macCommand(user: { user: string; uid: number }, p: Prompt): string[] {
  return ["launchctl", "asuser", String(user.uid), "sudo", "-u", user.user, "osascript", "-e", appleScript(p)];
}

/** osascript's output for a dialog → the answer. */
export function parseDialogOutput(text: string, p: Prompt): "yes" | "no" | "timeout" | "error" {
  if (/gave up:true/.test(text)) return "timeout";
  const m = /button returned:(.*?)(?:, gave up:|$)/m.exec(text.trim());
  if (!m) return "error";
  const b = m[1]!;
  if (b === oneLine(p.yes || "Yes", 60)) return "yes";
  if (b === oneLine(p.no || "No", 60)) return "no";
  return "error";
}
