/**
 * @module agent/service
 * `install` / `uninstall`: choose the plan for this OS and apply it, or print it with
 * `--dry-run`. Before applying, check that the service manager is really there: on Linux
 * that systemd is PID 1 — in a container or under another init the honest answer is to
 * say so and stop, not to write a unit nobody will read.
 */
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { AgentOs } from "../paths.ts";
import { launchdInstall, launchdUninstall, PLIST_PATH } from "./launchd.ts";
import { shellLine, type Plan, type ServiceTarget, type Step } from "./plan.ts";
import { systemdInstall, systemdUninstall, UNIT_PATH } from "./systemd.ts";
import { SERVICE_NAME, windowsInstall, windowsUninstall } from "./windows.ts";

export { shellLine, type Plan, type ServiceTarget };

export function installPlan(os: AgentOs, t: ServiceTarget): Plan | null {
  return os === "linux" ? systemdInstall(t) : os === "darwin" ? launchdInstall(t) : os === "windows" ? windowsInstall(t) : null;
}

export function uninstallPlan(os: AgentOs): Plan | null {
  return os === "linux" ? systemdUninstall() : os === "darwin" ? launchdUninstall() : os === "windows" ? windowsUninstall() : null;
}

/**
 * How to start this very program again: the compiled binary alone, or `bun main.ts` when
 * running from source. Bun's compiled binaries see their entry under /$bunfs/ (B:/~BUN/ on Windows).
 */
export function currentProgram(execPath = process.execPath, main = Bun.main): string[] {
  const compiled = main.startsWith("/$bunfs/") || /^[A-Za-z]:[\\/]~BUN[\\/]/.test(main);
  return compiled ? [execPath] : [execPath, main];
}

/** Why the service manager cannot be used here, or null when it can. */
export function serviceManagerProblem(os: AgentOs, probe: { exists(p: string): boolean; read(p: string): string | undefined } = fsProbe): string | null {
  if (os === "linux") {
    if (probe.exists("/run/systemd/system")) return null;
    const init = probe.read("/proc/1/comm")?.trim() || "unknown";
    return `systemd is not running on this machine (PID 1 is "${init}"), so there is no service manager to install into; start "medulla-agent run" from this system's own init instead`;
  }
  if (os === "other") return `no service support for ${process.platform}`;
  return null;
}

const fsProbe = {
  exists: (p: string) => existsSync(p),
  read: (p: string) => {
    try {
      return readFileSync(p, "utf8");
    } catch {
      return undefined;
    }
  },
};

/** Whether the service is installed (its unit, plist or SCM entry exists). */
export async function isServiceInstalled(os: AgentOs): Promise<boolean | null> {
  if (os === "linux") return existsSync(UNIT_PATH);
  if (os === "darwin") return existsSync(PLIST_PATH);
  if (os === "windows") {
    const proc = Bun.spawn(["sc.exe", "query", SERVICE_NAME], { stdout: "ignore", stderr: "ignore", windowsHide: true });
    return (await proc.exited) === 0;
  }
  return null;
}

export function describePlan(plan: Plan): string[] {
  return plan.steps.map((s: Step) =>
    s.kind === "write" ? `write ${s.path} (mode ${s.mode.toString(8)}):\n${s.content.replace(/^/gm, "    ")}` : s.kind === "remove" ? `remove ${s.path}` : `run   ${shellLine(s.argv)}${s.mayFail ? "   (may fail)" : ""}`,
  );
}

/** Applies a plan step by step; stops at the first failing step that may not fail. */
export async function applyPlan(plan: Plan, log: (line: string) => void): Promise<void> {
  for (const s of plan.steps) {
    if (s.kind === "write") {
      await mkdir(dirname(s.path), { recursive: true });
      await writeFile(s.path, s.content, { mode: s.mode });
      await chmod(s.path, s.mode).catch(() => undefined);
      log(`wrote ${s.path}`);
    } else if (s.kind === "remove") {
      await rm(s.path, { force: true });
      log(`removed ${s.path}`);
    } else {
      const proc = Bun.spawn(s.argv, { stdout: "pipe", stderr: "pipe", windowsHide: true });
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      if (code !== 0 && !s.mayFail) throw new Error(`${shellLine(s.argv)} failed (exit ${code}): ${(err || out).trim().slice(0, 400)}`);
      log(`ran ${shellLine(s.argv)}${code ? ` (exit ${code}, ignored)` : ""}`);
    }
  }
}
