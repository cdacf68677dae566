/**
 * @module agent/actions/script
 * Runs a quick action (`runscript`): the script is written to a private temporary file and
 * handed to its interpreter (shell: /bin/sh; PowerShell: pwsh/powershell -File; cmd:
 * cmd.exe /c; Python: python3/python), so that multi-line scripts and quoting behave as in
 * a file the admin would run by hand. Output (stdout and stderr, in arrival order) is kept
 * up to a cap and marked truncated; past the timeout the process group is killed.
 * A script for another OS, or an interpreter this machine lacks, is refused with a reason.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Interpreter = "shell" | "powershell" | "cmd" | "python";

export interface ScriptRequest {
  interpreter: Interpreter;
  script: string;
  os?: string;
  timeoutSeconds: number;
  maxOutputBytes?: number;
}

export interface ScriptResult {
  exitCode: number | null;
  output: string;
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

export const DEFAULT_MAX_OUTPUT = 32_000;

/** Which interpreters run on which OS. */
export const INTERPRETERS_BY_OS: Record<string, Interpreter[]> = {
  linux: ["shell", "python", "powershell"],
  darwin: ["shell", "python", "powershell"],
  windows: ["powershell", "cmd", "python"],
};

export function currentOs(platform = process.platform): string {
  return platform === "win32" ? "windows" : platform === "darwin" ? "darwin" : platform === "linux" ? "linux" : "other";
}

/** Why this machine cannot run the request, or null. */
export function refusal(req: Pick<ScriptRequest, "interpreter" | "os">, os = currentOs()): string | null {
  if (req.os && req.os !== os) return `this action is for ${req.os}; this machine runs ${os}`;
  if (!(INTERPRETERS_BY_OS[os] ?? []).includes(req.interpreter)) return `the ${req.interpreter} interpreter is not available on ${os}`;
  return null;
}

function command(interpreter: Interpreter, file: string, os: string): { argv: string[]; ext: string } {
  switch (interpreter) {
    case "shell":
      return { argv: ["/bin/sh", file], ext: ".sh" };
    case "python":
      return { argv: [os === "windows" ? "python" : "python3", file], ext: ".py" };
    case "powershell":
      return { argv: [os === "windows" ? "powershell.exe" : "pwsh", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", file], ext: ".ps1" };
    case "cmd":
      return { argv: ["cmd.exe", "/d", "/c", file], ext: ".cmd" };
  }
}

/** Keeps the first `max` bytes of what a process writes, and whether anything was dropped. */
export class OutputCap {
  #chunks: Buffer[] = [];
  #size = 0;
  truncated = false;
  constructor(readonly max: number) {}
  push(chunk: Buffer): void {
    if (this.#size >= this.max) {
      if (chunk.length) this.truncated = true;
      return;
    }
    const room = this.max - this.#size;
    if (chunk.length > room) {
      this.truncated = true;
      chunk = chunk.subarray(0, room);
    }
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }
  /** The text, without a character cut in half at the cap. */
  text(): string {
    const s = new TextDecoder("utf-8", { fatal: false }).decode(Buffer.concat(this.#chunks));
    return this.truncated ? s.replace(/\uFFFD$/, "") : s;
  }
}

export async function runScript(req: ScriptRequest, opts: { os?: string; signal?: AbortSignal } = {}): Promise<ScriptResult> {
  const os = opts.os ?? currentOs();
  const why = refusal(req, os);
  if (why) throw new Error(why);
  const dir = await mkdtemp(join(tmpdir(), "medulla-qa-"));
  const ext = { shell: ".sh", python: ".py", powershell: ".ps1", cmd: ".cmd" }[req.interpreter];
  const file = join(dir, `action${ext}`);
  const { argv } = command(req.interpreter, file, os);
  // cmd.exe needs CRLF line ends; everything else takes the script as written.
  await writeFile(file, req.interpreter === "cmd" ? req.script.replace(/\r?\n/g, "\r\n") : req.script, { mode: 0o700 });
  const cap = new OutputCap(Math.min(req.maxOutputBytes ?? DEFAULT_MAX_OUTPUT, 48_000));
  const started = performance.now();
  try {
    return await new Promise<ScriptResult>((resolve) => {
      let timedOut = false;
      let settled = false;
      const child = spawn(argv[0]!, argv.slice(1), { cwd: dir, stdio: ["ignore", "pipe", "pipe"], detached: os !== "windows", windowsHide: true });
      const killTree = () => {
        try {
          if (os !== "windows" && child.pid) process.kill(-child.pid, "SIGKILL");
          else child.kill("SIGKILL");
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killTree();
      }, req.timeoutSeconds * 1000);
      const onAbort = () => killTree();
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      child.stdout.on("data", (c: Buffer) => cap.push(c));
      child.stderr.on("data", (c: Buffer) => cap.push(c));
      const finish = (exitCode: number | null, extra = "") => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        if (extra) cap.push(Buffer.from(extra));
        resolve({ exitCode, output: cap.text(), truncated: cap.truncated, timedOut, durationMs: Math.round(performance.now() - started) });
      };
      child.on("error", (e) => finish(null, `cannot start ${argv[0]}: ${e.message}\n`));
      child.on("close", (code) => finish(timedOut ? null : code));
    });
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
