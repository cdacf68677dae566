/**
 * @module agent/actions/shell
 * Remote shell sessions (SPEC X5): each session is a real pseudo-terminal (Bun.Terminal,
 * Linux and macOS) running the login shell, so that line editing, Ctrl-C, resizing and
 * full-screen programs (top, vi) behave as on a console. Output is base64 (terminal bytes
 * include control characters that XML cannot carry), coalesced for a few milliseconds and
 * sent in order with a sequence number. A session idle for `idleMs` is hung up, and at most
 * `maxSessions` run at once.
 *
 * Windows: Bun.Terminal has no ConPTY backend yet; `shellopen` answers that the remote
 * shell is not available on Windows (docs/actions.md says what is left).
 */
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { currentOs } from "./script.ts";

export type Emit = (action: string, data: Record<string, unknown>) => void;

interface Session {
  proc: ReturnType<typeof Bun.spawn>;
  terminal: Bun.Terminal;
  seq: number;
  pending: Buffer[];
  pendingSize: number;
  flushTimer: Timer | null;
  idleTimer: Timer | null;
  emit: Emit;
  /** Resolves at the shell's first output (its prompt): what was typed before would be lost. */
  started: Promise<void>;
  markStarted: () => void;
}

const FLUSH_MS = 8;
const CHUNK = 16_000;

export function pickShell(env = process.env): string {
  for (const s of [env.SHELL, "/bin/bash", "/bin/zsh", "/bin/sh"]) if (s && existsSync(s)) return s;
  return "/bin/sh";
}

/**
 * The command line of a session. The shell must own the terminal as its controlling tty
 * (a new session, TIOCSCTTY), or Ctrl-C and job control do nothing: Bun.Terminal does not
 * do that itself, so Linux goes through util-linux `setsid --ctty`, macOS through
 * `script -q /dev/null` (a nested pseudo-terminal it makes controlling).
 */
export function shellCommand(shell: string, os = currentOs()): string[] {
  for (const setsid of ["/usr/bin/setsid", "/bin/setsid"]) if (os === "linux" && existsSync(setsid)) return [setsid, "-c", shell, "-l"];
  if (os === "darwin" && existsSync("/usr/bin/script")) return ["/usr/bin/script", "-q", "/dev/null", shell, "-l"];
  return [shell, "-l"];
}

export class ShellSessions {
  #sessions = new Map<string, Session>();
  constructor(private readonly opts: { maxSessions?: number; idleMs?: number; os?: string } = {}) {}

  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Starts the shell and answers once it has written something (its prompt), or after
   * `readyMs`: a shell still starting up discards what is typed meanwhile.
   */
  async open(sid: string, cols: number, rows: number, emit: Emit, readyMs = 5000): Promise<{ opened: boolean; shell?: string; detail?: string }> {
    const os = this.opts.os ?? currentOs();
    if (os === "windows") return { opened: false, detail: "the remote shell is not available on Windows yet (ConPTY support is planned)" };
    if (typeof Bun === "undefined" || typeof Bun.Terminal !== "function") return { opened: false, detail: "this agent build has no terminal support" };
    if (this.#sessions.has(sid)) return { opened: false, detail: "session already open" };
    if (this.#sessions.size >= (this.opts.maxSessions ?? 8)) return { opened: false, detail: "too many shell sessions on this machine" };
    const shell = pickShell();
    let session: Session;
    const terminal = new Bun.Terminal({
      cols, rows, name: "xterm-256color",
      data: (_t, data) => this.#output(sid, Buffer.from(data)),
    });
    const home = (() => {
      try {
        return userInfo().homedir;
      } catch {
        return "/";
      }
    })();
    const proc = Bun.spawn(shellCommand(shell, os), {
      terminal, cwd: existsSync(home) ? home : "/",
      env: { ...process.env, TERM: "xterm-256color", COLORTERM: "truecolor", MEDULLA_SESSION: sid },
    });
    let markStarted = () => {};
    const started = new Promise<void>((r) => (markStarted = r));
    session = { proc, terminal, seq: 0, pending: [], pendingSize: 0, flushTimer: null, idleTimer: null, emit, started, markStarted };
    this.#sessions.set(sid, session);
    this.#touch(sid);
    void proc.exited.then((code) => {
      // Let the last output drain before saying goodbye.
      setTimeout(() => this.#finish(sid, code, ""), 30);
    });
    let timer: Timer | undefined;
    await Promise.race([started, proc.exited, new Promise<void>((r) => (timer = setTimeout(r, readyMs)))]);
    clearTimeout(timer);
    return { opened: true, shell };
  }

  input(sid: string, base64: string): boolean {
    const s = this.#sessions.get(sid);
    if (!s) return false;
    s.terminal.write(Buffer.from(base64, "base64"));
    this.#touch(sid);
    return true;
  }

  resize(sid: string, cols: number, rows: number): boolean {
    const s = this.#sessions.get(sid);
    if (!s) return false;
    s.terminal.resize(cols, rows);
    return true;
  }

  close(sid: string, reason = "closed by the server"): void {
    const s = this.#sessions.get(sid);
    if (!s) return;
    try {
      s.proc.kill("SIGHUP");
    } catch {
      // already gone
    }
    setTimeout(() => {
      if (this.#sessions.has(sid)) {
        try {
          s.proc.kill("SIGKILL");
        } catch {
          // already gone
        }
        this.#finish(sid, null, reason);
      }
    }, 2000);
  }

  closeAll(): void {
    for (const sid of [...this.#sessions.keys()]) this.close(sid, "the agent is stopping");
  }

  #touch(sid: string): void {
    const s = this.#sessions.get(sid);
    if (!s) return;
    if (s.idleTimer) clearTimeout(s.idleTimer);
    s.idleTimer = setTimeout(() => this.close(sid, "idle"), this.opts.idleMs ?? 30 * 60_000);
  }

  #output(sid: string, chunk: Buffer): void {
    const s = this.#sessions.get(sid);
    if (!s) return;
    s.markStarted();
    s.pending.push(chunk);
    s.pendingSize += chunk.length;
    if (s.pendingSize >= CHUNK) this.#flush(sid);
    else s.flushTimer ??= setTimeout(() => this.#flush(sid), FLUSH_MS);
  }

  #flush(sid: string): void {
    const s = this.#sessions.get(sid);
    if (!s) return;
    if (s.flushTimer) clearTimeout(s.flushTimer);
    s.flushTimer = null;
    const all = Buffer.concat(s.pending);
    s.pending = [];
    s.pendingSize = 0;
    for (let i = 0; i < all.length; i += CHUNK) s.emit("shelloutput", { sid, seq: s.seq++, data: all.subarray(i, i + CHUNK).toString("base64") });
  }

  #finish(sid: string, code: number | null, detail: string): void {
    const s = this.#sessions.get(sid);
    if (!s) return;
    this.#flush(sid);
    if (s.idleTimer) clearTimeout(s.idleTimer);
    this.#sessions.delete(sid);
    try {
      s.terminal.close();
    } catch {
      // already closed
    }
    s.emit("shellexit", { sid, code, ...(detail && { detail }) });
  }
}
