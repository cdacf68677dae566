/**
 * @module agent/deploy/steps
 * Runs one descriptor step (src/features/packages/descriptor.ts) on this machine and says
 * how it ended: ok or not, a return code when it has one, the output (first and last
 * lines, capped), and lines for the deployment log. Template variables are expanded in
 * every string field just before it runs. Steps that need the person at the machine
 * (notifications, questions, deferral) go through ./user-steps.ts and the desktop helper.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { expandTemplate, type Step, type TemplateVariable } from "../../../src/features/packages/descriptor.ts";
import { writeAtomic } from "../../../src/fs/atomic.ts";
import { noDesktop, type Desktop } from "../desktop/index.ts";
import { parseIni, stringifyIni } from "../ini.ts";
import { runUserStep, type DeferralGrant, type Interaction } from "./user-steps.ts";

export interface StepResult {
  ok: boolean;
  code?: number;
  output?: string;
  /** Lines for the deployment log besides the output. */
  notes: string[];
  /** set_env: variables for the following steps. */
  env?: Record<string, string>;
  /** reboot: the machine must restart now (the runner saves its place first). */
  reboot?: { delaySeconds: number; message?: string };
  /** A user-facing step: what was shown or asked, and what came of it. */
  interaction?: Interaction;
  /** defer: the user postponed (the runner ends the run as deferred). */
  defer?: { delayMinutes: number; maxDeferrals: number };
}

export interface StepContext {
  os: "windows" | "linux" | "macos";
  packageDir: string;
  tempDir: string;
  env: Record<string, string>;
  vars: Partial<Record<TemplateVariable, string | number>>;
  signal: AbortSignal;
  /** For tests: a wait step sleeps this fraction of its time. */
  timeScale?: number;
  /** The process's output as it comes (live output, ./live.ts). */
  onOutput?: (text: string, stream: "stdout" | "stderr") => void;
  /** The desktop helper (notifications, questions); none: nobody is logged in. */
  desktop?: Desktop;
  /** What the server allows for defer steps in this run. */
  deferral?: DeferralGrant;
}

export const OUTPUT = { headLines: 20, tailLines: 40, lineChars: 500, totalChars: 12_000 };

/** First and last lines of an output, each line and the whole capped. */
export function capOutput(text: string): string {
  const lines = text.replace(/\r\n/g, "\n").replace(/\n$/, "").split("\n").map((l) => (l.length > OUTPUT.lineChars ? `${l.slice(0, OUTPUT.lineChars)}…` : l));
  const kept = lines.length <= OUTPUT.headLines + OUTPUT.tailLines ? lines : [...lines.slice(0, OUTPUT.headLines), `… ${lines.length - OUTPUT.headLines - OUTPUT.tailLines} lines left out …`, ...lines.slice(-OUTPUT.tailLines)];
  const out = kept.join("\n");
  return out.length > OUTPUT.totalChars ? `${out.slice(0, OUTPUT.totalChars)}…` : out;
}

function expandAll<T>(v: T, vars: StepContext["vars"]): T {
  if (typeof v === "string") return expandTemplate(v, vars) as T;
  if (Array.isArray(v)) return v.map((x) => expandAll(x, vars)) as T;
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === "next" ? x : expandAll(x, vars)])) as T;
  return v;
}

/** Runs a process; the return code, or -1 when it was killed (timeout, stop) or could not start. */
async function run(cmd: string[], o: { cwd: string; env: Record<string, string>; timeoutSeconds: number; signal: AbortSignal; onOutput?: StepContext["onOutput"] }): Promise<{ code: number; output: string; note?: string }> {
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    // Its own process group (POSIX), so that a timeout or a stop kills what it started too.
    proc = Bun.spawn(cmd, { cwd: o.cwd, env: { ...process.env, ...o.env }, stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: process.platform !== "win32" } as Parameters<typeof Bun.spawn>[1] & { detached: boolean }) as typeof proc;
  } catch (e) {
    return { code: -1, output: "", note: `could not start ${cmd[0]}: ${(e as Error).message}` };
  }
  let note: string | undefined;
  const kill = (why: string) => {
    note = why;
    try {
      if (process.platform !== "win32") process.kill(-proc.pid, "SIGKILL");
      else Bun.spawn(["taskkill.exe", "/pid", String(proc.pid), "/t", "/f"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    } catch {
      // already gone
    }
    proc.kill("SIGKILL");
  };
  const timer = o.timeoutSeconds > 0 ? setTimeout(() => kill(`killed after its timeout of ${o.timeoutSeconds} s`), o.timeoutSeconds * 1000) : undefined;
  const onAbort = () => kill("killed: the deployment was stopped");
  o.signal.addEventListener("abort", onAbort, { once: true });
  // Read both streams while it runs, keeping only a bounded amount.
  const collect = async (s: ReadableStream<Uint8Array>, stream: "stdout" | "stderr") => {
    let text = "";
    const dec = new TextDecoder();
    const reader = s.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const piece = dec.decode(value, { stream: true });
      text += piece;
      if (o.onOutput && piece) {
        try {
          o.onOutput(piece, stream);
        } catch {
          // live output is best effort; the final record still carries the output
        }
      }
      if (text.length > 4_000_000) text = text.slice(0, 100_000) + "\n…\n" + text.slice(-1_000_000);
    }
    return text;
  };
  const [out, err, code] = await Promise.all([collect(proc.stdout, "stdout"), collect(proc.stderr, "stderr"), proc.exited]);
  clearTimeout(timer);
  o.signal.removeEventListener("abort", onAbort);
  const output = err.trim() ? `${out}${out.endsWith("\n") || !out ? "" : "\n"}${err}` : out;
  return { code: note ? -1 : code, output: capOutput(output), note };
}

function shellOf(os: StepContext["os"], command: string): string[] {
  return os === "windows" ? ["cmd.exe", "/d", "/s", "/c", command] : ["/bin/sh", "-c", command];
}

const SCRIPT_EXT = { shell: ".sh", powershell: ".ps1", cmd: ".cmd", python: ".py" } as const;

function interpreter(language: keyof typeof SCRIPT_EXT, os: StepContext["os"], file: string): string[] {
  switch (language) {
    case "shell":
      return os === "windows" ? ["cmd.exe", "/d", "/c", file] : ["/bin/sh", file];
    case "powershell":
      return os === "windows" ? ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", file] : ["pwsh", "-NoProfile", "-NonInteractive", "-File", file];
    case "cmd":
      return ["cmd.exe", "/d", "/c", file];
    case "python":
      return os === "windows" ? ["python.exe", file] : ["python3", file];
  }
}

const inPackage = (ctx: StepContext, p: string) => (isAbsolute(p) || /^[A-Za-z]:[\\/]/.test(p) ? p : join(ctx.packageDir, p));

function setDotted(obj: Record<string, unknown>, path: string, value: unknown, remove: boolean): void {
  const keys = path.split(".");
  let cur: Record<string, unknown> = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof cur[k] !== "object" || cur[k] === null || Array.isArray(cur[k])) {
      if (remove) return;
      cur[k] = {};
    }
    cur = cur[k] as Record<string, unknown>;
  }
  const last = keys.at(-1)!;
  if (remove) delete cur[last];
  else cur[last] = value;
}

export async function runStep(raw: Step, ctx: StepContext): Promise<StepResult> {
  const s = expandAll(raw, ctx.vars);
  const env = ctx.env;
  switch (s.action) {
    case "command": {
      const r = await run(shellOf(ctx.os, s.command), { cwd: s.workdir ? inPackage(ctx, s.workdir) : ctx.packageDir, env, timeoutSeconds: s.timeout ?? 0, signal: ctx.signal, onOutput: ctx.onOutput });
      return { ok: r.code === 0, code: r.code, output: r.output, notes: r.note ? [r.note] : [] };
    }
    case "script": {
      await mkdir(ctx.tempDir, { recursive: true });
      const file = join(ctx.tempDir, `step-${s.id}${SCRIPT_EXT[s.language]}`);
      await writeFile(file, s.script, { mode: 0o700 });
      const r = await run(interpreter(s.language, ctx.os, file), { cwd: ctx.packageDir, env, timeoutSeconds: s.timeout, signal: ctx.signal, onOutput: ctx.onOutput });
      return { ok: r.code === 0, code: r.code, output: r.output, notes: r.note ? [r.note] : [] };
    }
    case "set_env":
      return { ok: true, notes: [`environment: ${s.variables.map((v) => v.name).join(", ")}`], env: Object.fromEntries(s.variables.map((v) => [v.name, v.value])) };
    case "reboot":
      return { ok: true, notes: [`rebooting${s.message ? `: ${s.message}` : ""}`], reboot: { delaySeconds: s.delay ?? 0, message: s.message } };
    case "wait": {
      const ms = s.seconds * 1000 * (ctx.timeScale ?? 1);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        ctx.signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
      });
      return { ok: !ctx.signal.aborted, notes: [`waited ${s.seconds} s`] };
    }
    case "log":
      return { ok: true, notes: [`[${s.level}] ${s.message}`] };
    case "edit_settings": {
      const file = inPackage(ctx, s.file);
      const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? "" : Promise.reject(e)));
      if (s.format === "json") {
        let obj: Record<string, unknown> = {};
        try {
          obj = text.trim() ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          return { ok: false, code: 1, notes: [`${file} is not valid JSON; left unchanged`] };
        }
        for (const c of s.changes) setDotted(obj, c.key, c.value ?? null, c.remove === true);
        await writeAtomic(file, `${JSON.stringify(obj, null, 2)}\n`, 0o644);
      } else {
        const parsed = parseIni(text);
        const data = parsed.data;
        for (const c of s.changes) {
          const sec = c.section ?? "";
          if (c.remove) delete data[sec]?.[c.key];
          else (data[sec] ??= {})[c.key] = String(c.value ?? "");
        }
        await writeAtomic(file, stringifyIni(data), 0o644);
      }
      return { ok: true, notes: [`${file}: ${s.changes.length} change(s)`] };
    }
    case "unzip": {
      const archive = inPackage(ctx, s.archive);
      const dest = s.destination ? inPackage(ctx, s.destination) : ctx.packageDir;
      await mkdir(dest, { recursive: true });
      const cmd = ctx.os === "windows"
        ? ["powershell.exe", "-NoProfile", "-NonInteractive", "-Command", `Expand-Archive -Force -LiteralPath '${archive.replace(/'/g, "''")}' -DestinationPath '${dest.replace(/'/g, "''")}'`]
        : ["unzip", "-o", "-q", archive, "-d", dest];
      const r = await run(cmd, { cwd: ctx.packageDir, env, timeoutSeconds: 3600, signal: ctx.signal, onOutput: ctx.onOutput });
      return { ok: r.code === 0, code: r.code, output: r.output, notes: r.note ? [r.note] : [] };
    }
    case "download": {
      const dest = join(ctx.packageDir, s.file);
      try {
        const res = await fetch(s.url, { signal: s.timeout ? AbortSignal.any([ctx.signal, AbortSignal.timeout(s.timeout * 1000)]) : ctx.signal });
        if (!res.ok) return { ok: false, code: res.status, notes: [`download ${s.url}: HTTP ${res.status}`] };
        const bytes = new Uint8Array(await res.arrayBuffer());
        const digest = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
        if (digest !== s.sha256.toLowerCase()) return { ok: false, code: 2, notes: [`download ${s.url}: SHA-256 ${digest} is not the expected ${s.sha256}`] };
        await writeFile(dest, bytes);
        return { ok: true, code: 0, notes: [`downloaded ${s.url} (${bytes.byteLength} bytes)`] };
      } catch (e) {
        return { ok: false, code: 1, notes: [`download ${s.url}: ${(e as Error).message}`] };
      }
    }
    case "delete_files": {
      const notes: string[] = [];
      for (const p of s.paths) {
        await rm(inPackage(ctx, p), { recursive: true, force: true }).catch((e: Error) => notes.push(`${p}: ${e.message}`));
      }
      return { ok: notes.length === 0, notes: [`deleted ${s.paths.length} path(s)`, ...notes] };
    }
    case "kiosk_notify":
    case "user_notify":
    case "ask_user":
    case "defer":
      return runUserStep(s, { desktop: ctx.desktop ?? noDesktop, signal: ctx.signal, deferral: ctx.deferral });
    case "end_success":
      return { ok: true, notes: ["END_SUCCESS"] };
    case "end_error":
      return { ok: false, notes: [`END_ERROR${s.message ? `: ${s.message}` : ""}`] };
  }
}

/** Steps that can run again after the agent died during them without doing harm twice. */
export const RERUNNABLE = new Set<Step["action"]>(["set_env", "wait", "log", "edit_settings", "delete_files", "kiosk_notify", "user_notify", "end_success", "end_error", "reboot"]);
// Asking again is harmless: a question or a postponement the agent died in is shown again.
RERUNNABLE.add("ask_user").add("defer");
