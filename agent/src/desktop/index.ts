/**
 * @module agent/desktop
 * The desktop helper: shows the notifications, questions and deferral dialogs of package
 * steps to the people logged in at the machine, as themselves, and brings back what they
 * answered. One implementation per OS (./linux.ts, ./windows.ts, ./macos.ts build the
 * commands); this module finds the sessions, starts the dialogs, and decides:
 *
 *  - no interactive session → outcome `no_session` (the step takes its default);
 *  - several sessions → the dialog is shown in each, the first answer wins and the other
 *    dialogs are closed (the log says who answered where);
 *  - every dialog timed out → `timeout`; a tool that fails → `error` (default too).
 *
 * `MEDULLA_AGENT_DESKTOP=none` turns the helper off (every prompt: "no user session").
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { askCommand, askExit, asSessionUser, ASK_TOOLS, notifyCommand, NOTIFY_TOOLS, type AskTool, type NotifyTool } from "./linux.ts";
import { macCommand, parseConsoleUser, parseDialogOutput } from "./macos.ts";
import { noDesktop, type Desktop, type Prompt, type PromptResult } from "./prompt.ts";
import { findSessions, readSessionSources, type DesktopSession } from "./sessions-linux.ts";
import { CIM_USER_COMMAND, dialogScript, interactiveSessions, launchCommand, launchScript, parseCimUser, parseLaunchOutput, parseQuser } from "./windows.ts";

export { noDesktop, type Desktop, type Prompt, type PromptResult } from "./prompt.ts";

export interface DesktopDeps {
  os: "linux" | "windows" | "macos";
  /** Where Windows dialogs keep their scripts and answer files. */
  workDir: string;
  /** Finding sessions (tests give captured ones). */
  linuxSessions?: () => Promise<DesktopSession[]>;
  have?: (tool: string) => boolean;
  selfUid?: number;
}

interface Proc {
  startedAt: number;
  exited: Promise<number>;
  stdout: Promise<string>;
  kill(): void;
}

function start(argv: string[]): Proc | null {
  try {
    const p = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    return {
      startedAt: performance.now(),
      exited: p.exited,
      stdout: new Response(p.stdout).text().then((t) => t.slice(0, 10_000)),
      kill: () => {
        try {
          p.kill("SIGTERM");
        } catch {
          // gone
        }
      },
    };
  } catch {
    return null;
  }
}

/** Waits for the first of several dialogs to be answered; closes the others. */
type Answer = "yes" | "no" | "timeout" | "dismissed" | "error";
async function race(dialogs: { where: string; proc: Proc; read: (code: number, out: string, elapsedMs: number) => Answer }[], timeoutSeconds: number, signal: AbortSignal): Promise<{ answer: Answer; where?: string; notes: string[] }> {
  const notes: string[] = [];
  return new Promise((resolve) => {
    let left = dialogs.length;
    let done = false;
    let sawTimeout = false;
    let sawDismissed = false;
    const finish = (r: { answer: Answer; where?: string }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      for (const d of dialogs) if (d.where !== r.where) d.proc.kill();
      if (r.where && dialogs.length > 1) notes.push(`answered in ${r.where}; the dialog in ${dialogs.filter((d) => d.where !== r.where).map((d) => d.where).join(", ")} closed`);
      resolve({ ...r, notes });
    };
    // The agent's own limit, beyond the tool's: kdialog has no timeout, a tool may hang.
    const timer = setTimeout(() => finish({ answer: "timeout" }), (Math.max(1, timeoutSeconds) + 5) * 1000);
    const onAbort = () => finish({ answer: "error" });
    signal.addEventListener("abort", onAbort, { once: true });
    for (const d of dialogs) {
      void Promise.all([d.proc.exited, d.proc.stdout]).then(([code, out]) => {
        if (done) return;
        const a = d.read(code, out, performance.now() - d.proc.startedAt);
        if (a === "yes" || a === "no") return finish({ answer: a, where: d.where });
        if (a === "timeout") sawTimeout = true;
        else if (a === "dismissed") {
          sawDismissed = true;
          notes.push(`the dialog in ${d.where} was closed without an answer`);
        } else notes.push(`the dialog in ${d.where} failed (exit ${code})`);
        // Still waiting for the other sessions' answers, if any.
        if (--left === 0) finish({ answer: sawDismissed ? "dismissed" : sawTimeout ? "timeout" : "error" });
      });
    }
  });
}

export function createDesktop(deps: DesktopDeps): Desktop {
  if (process.env.MEDULLA_AGENT_DESKTOP === "none") return noDesktop;
  const have = deps.have ?? ((t: string) => !!Bun.which(t));
  const selfUid = deps.selfUid ?? (typeof process.getuid === "function" ? process.getuid() : 0);

  const linuxSessions = async (): Promise<{ reachable: { s: DesktopSession; where: string }[]; notes: string[] }> => {
    const all = await (deps.linuxSessions ?? (async () => findSessions(await readSessionSources())))();
    const notes: string[] = [];
    const reachable: { s: DesktopSession; where: string }[] = [];
    for (const s of all) {
      const where = `${s.user} on ${s.display}`;
      if (asSessionUser(s, ["true"], selfUid, have)) reachable.push({ s, where });
      else notes.push(`session of ${where} not reachable (the agent is not root and not ${s.user})`);
    }
    if (all.length) notes.unshift(`user session(s): ${all.map((s) => `${s.user} on ${s.display} (${s.source})`).join(", ")}`);
    return { reachable, notes };
  };

  const linux: Desktop = {
    async notify(p) {
      const { reachable, notes } = await linuxSessions();
      if (!reachable.length) return { outcome: "no_session", sessions: [], notes: [...notes, "no user session: nobody to show the notification to"] };
      const tool = NOTIFY_TOOLS.find((t) => have(t)) as NotifyTool | undefined;
      if (!tool) return { outcome: "no_tool", sessions: [], notes: [...notes, `no notification tool installed (${NOTIFY_TOOLS.join(", ")})`] };
      const shown: string[] = [];
      for (const { s, where } of reachable) {
        const proc = start(asSessionUser(s, notifyCommand(tool, p), selfUid, have)!);
        const code = proc ? await Promise.race([proc.exited, Bun.sleep(10_000).then(() => (proc.kill(), -1))]) : -1;
        if (code === 0) shown.push(where);
        else notes.push(`${tool} failed in ${where} (exit ${code})`);
      }
      return shown.length ? { outcome: "shown", sessions: shown, notes: [...notes, `shown with ${tool} to ${shown.join(", ")}`] } : { outcome: "error", sessions: [], notes };
    },
    async ask(p, signal) {
      const { reachable, notes } = await linuxSessions();
      if (!reachable.length) return { outcome: "no_session", sessions: [], notes: [...notes, "no user session"] };
      const tool = ASK_TOOLS.find((t) => have(t)) as AskTool | undefined;
      if (!tool) return { outcome: "no_tool", sessions: [], notes: [...notes, `no dialog tool installed (${ASK_TOOLS.join(", ")})`] };
      const dialogs = reachable.flatMap(({ s, where }) => {
        const proc = start(asSessionUser(s, askCommand(tool, p), selfUid, have)!);
        return proc ? [{ where, proc, read: (code: number, out: string, elapsed: number) => askExit(tool, p, code, out, elapsed) }] : [];
      });
      if (!dialogs.length) return { outcome: "error", sessions: [], notes: [...notes, `${tool} could not start`] };
      notes.push(`asked with ${tool} in ${dialogs.map((d) => d.where).join(", ")}${dialogs.length > 1 ? " (the first answer wins)" : ""}`);
      const r = await race(dialogs, p.timeoutSeconds, signal);
      return toResult(r, dialogs.map((d) => d.where), [...notes, ...r.notes]);
    },
  };

  const windows: Desktop = {
    notify: (p, signal) => windowsRun(p, signal),
    ask: (p, signal) => windowsRun(p, signal),
  };
  async function windowsRun(p: Prompt, signal: AbortSignal): Promise<PromptResult> {
    const q = start(["quser.exe"]);
    let sessions = q ? interactiveSessions(parseQuser(await q.stdout)) : [];
    if (!q) {
      // No quser (Windows Home): the console user from WMI.
      const c = start(CIM_USER_COMMAND);
      sessions = c ? parseCimUser(await c.stdout) : [];
    }
    if (!sessions.length) return { outcome: "no_session", sessions: [], notes: ["no user session (quser lists no active console or remote session)"] };
    const dialogs = [];
    const dirs: string[] = [];
    for (const s of sessions) {
      const id = `${Date.now().toString(36)}-${s.id}-${Math.random().toString(36).slice(2, 8)}`;
      const dir = join(deps.workDir, "dialogs", id);
      await mkdir(dir, { recursive: true });
      dirs.push(dir);
      await writeFile(join(dir, "dialog.ps1"), `\ufeff${dialogScript(p, join(dir, "answer", "answer.txt"))}`);
      await writeFile(join(dir, "launch.ps1"), `\ufeff${launchScript({ user: s.user, dir, taskName: `Dialog-${id}`, timeoutSeconds: p.timeoutSeconds })}`);
      const proc = start(launchCommand(join(dir, "launch.ps1")));
      if (proc) dialogs.push({ where: `${s.user} in session ${s.id} (${s.sessionName})`, proc, read: (_c: number, out: string) => { const a = parseLaunchOutput(out); return a === "shown" ? "yes" as const : a; } });
    }
    try {
      if (!dialogs.length) return { outcome: "error", sessions: [], notes: ["powershell.exe could not start"] };
      const r = await race(dialogs, p.timeoutSeconds + 30, signal);
      if (p.kind === "kiosk_notify" || p.kind === "user_notify") return { outcome: r.answer === "error" ? "error" : "shown", sessions: dialogs.map((d) => d.where), notes: r.notes };
      return toResult(r, dialogs.map((d) => d.where), r.notes);
    } finally {
      for (const d of dirs) await rm(d, { recursive: true, force: true }).catch(() => {});
    }
  }

  const macos: Desktop = {
    notify: (p, signal) => macRun(p, signal),
    ask: (p, signal) => macRun(p, signal),
  };
  async function macRun(p: Prompt, signal: AbortSignal): Promise<PromptResult> {
    const st = start(["stat", "-f", "%Su %u", "/dev/console"]);
    const user = st ? parseConsoleUser(await st.stdout) : null;
    if (!user) return { outcome: "no_session", sessions: [], notes: ["no user session (the login window owns the console)"] };
    const where = `${user.user} (console)`;
    const proc = start(macCommand(user, p));
    if (!proc) return { outcome: "error", sessions: [], notes: ["osascript could not start"] };
    if (p.kind === "kiosk_notify" || p.kind === "user_notify") return { outcome: (await proc.exited) === 0 ? "shown" : "error", sessions: [where], notes: [] };
    const r = await race([{ where, proc, read: (_c, out) => parseDialogOutput(out, p) }], p.timeoutSeconds, signal);
    return toResult(r, [where], r.notes);
  }

  return deps.os === "linux" ? linux : deps.os === "windows" ? windows : macos;
}

function toResult(r: { answer: Answer; where?: string }, sessions: string[], notes: string[]): PromptResult {
  if (r.answer === "yes" || r.answer === "no") return { outcome: "answered", answer: r.answer, by: r.where, sessions, notes };
  return { outcome: r.answer, sessions, notes };
}
